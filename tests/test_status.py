"""The review-due report: due dates and flags around each boundary."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from plandoc.cli import main

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
    assert status_of(tmp_path, plan_data, "-l", "managed-care")["review_due"] == "2027-01-27"


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
