"""What reviewers look for (issue 15): overdue reviews, the safety plan, medical necessity,
the person-centred assessment and the practice, checked; bad input in each is one clear
problem with its file, line and field."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.checks.file import check_file, check_paths
from plandoc.cli import main
from plandoc.planfile.read import read_plan
from plandoc.settings import Settings

from .test_layouts import in_plain_words

AS_OF = dt.date(2026, 11, 26)
PAYERS = ("medicare", "medicaid", "managed-care")
SAFETY_PLAN = {
    "warning_signs": ["Staying in my room all weekend"],
    "coping_strategies": ["Walk the dog around the block"],
    "supports": [{"name": "Aunt Rosa", "relationship": "aunt", "phone": "(217) 555-0142"}],
    "professionals": [{"name": "Riverside on-call", "role": "crisis line", "phone": "555-0199"}],
    "reviewed": "2026-10-29",
}
MEDICAL_NECESSITY = {
    "rationale": "Weekly outpatient therapy: symptoms keep her from driving to work.",
    "level_of_care": "outpatient",
    "functional_impairments": [{"domain": "work", "description": "Missed 6 shifts in a month."}],
}


@pytest.fixture
def payer_ready(plan_data):
    """The sample plan with what every payer layout asks for, in plain words for the
    client copy's readability check."""
    in_plain_words(plan_data)
    plan_data["medical_necessity"] = MEDICAL_NECESSITY
    plan_data["assessment"].setdefault("strengths", ["Supportive partner"])
    plan_data["assessment"]["preferences"] = ["Evening appointments"]
    return plan_data


def _errors(checked, layout):
    return [p for p in checked.layout_problems[layout] if p.severity.value == "error"]


def _overdue(checked, layout):
    words = ("review was due", "valid until")
    return [p for p in checked.layout_problems[layout] if any(w in p.message for w in words)]


# --- overdue reviews ---------------------------------------------------------------


@pytest.mark.parametrize("layout", PAYERS)
def test_a_payer_layout_refuses_a_plan_past_its_review_date_naming_it(
    write_plan, payer_ready, layout
):
    payer_ready["plan"]["review_by"] = "2026-11-25"
    checked = check_file(write_plan(payer_ready), layout, today=AS_OF)
    found = _overdue(checked, layout)
    assert len(found) == 1 and found[0].field_name == "plan.review_by"
    assert found[0].severity.value == "error" and checked.layout_failed(checked.layout)
    text = found[0].text(values=True)
    assert "2026-11-25" in text and "--as-of" in text


def test_the_review_date_is_due_on_its_day_and_overdue_the_day_after(write_plan, payer_ready):
    payer_ready["plan"]["review_by"] = AS_OF.isoformat()
    path = write_plan(payer_ready)
    assert not _overdue(check_file(path, "medicare", today=AS_OF), "medicare")
    later = check_file(path, "medicare", today=AS_OF + dt.timedelta(days=1))
    assert len(_overdue(later, "medicare")) == 1


def test_a_computed_review_date_is_held_to_the_same_boundary(write_plan, payer_ready):
    del payer_ready["plan"]["review_by"]  # standard computes it: last review + 180 days
    path = write_plan(payer_ready)
    due = dt.date(2026, 10, 29) + dt.timedelta(days=180)
    assert not _overdue(check_file(path, "standard", today=due), "standard")
    late = check_file(path, "standard", today=due + dt.timedelta(days=1))
    [warning] = _overdue(late, "standard")
    assert warning.severity.value == "warning" and due.isoformat() in warning.text(values=True)
    assert not late.layout_failed(late.layout)  # standard warns, and renders


@pytest.mark.parametrize("status", ["completed", "revoked"])
def test_completed_and_revoked_plans_are_exempt(write_plan, payer_ready, status):
    payer_ready["plan"]["review_by"] = "2026-11-01"
    payer_ready["plan"]["status"] = status
    for layout in (*PAYERS, "standard"):
        assert not _overdue(check_file(write_plan(payer_ready), layout, today=AS_OF), layout)


@pytest.mark.parametrize("status", ["draft", "active", "on-hold"])
def test_draft_active_and_on_hold_plans_are_not_exempt(write_plan, payer_ready, status):
    payer_ready["plan"]["review_by"] = "2026-11-01"
    payer_ready["plan"]["status"] = status
    checked = check_file(write_plan(payer_ready), "medicaid", today=AS_OF)
    assert len(_overdue(checked, "medicaid")) == 1


def _two_versions(tmp_path: Path, data: dict, first: str = "TP-0001") -> tuple[Path, Path]:
    old = json.loads(json.dumps(data))
    old["plan"].update(id=first, version=1, review_by="2026-11-01", layout="medicare")
    new = json.loads(json.dumps(data))
    new["plan"].update(id=first.lower(), version=2, review_by="2027-02-01", layout="medicare")
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "a-v1.json").write_text(json.dumps(old), "utf-8")
    (folder / "b-v2.json").write_text(json.dumps(new), "utf-8")
    return folder / "a-v1.json", folder / "b-v2.json"


def test_an_old_version_is_exempt_when_a_newer_one_is_in_the_same_run(tmp_path, payer_ready):
    old, new = _two_versions(tmp_path, payer_ready)
    alone = list(check_paths([old], Settings(), as_of=AS_OF))
    assert alone[0].layout_failed(alone[0].layout)  # by itself, it is overdue
    together = {c.source.path: c for c in check_paths([old, new], Settings(), as_of=AS_OF)}
    assert all(not c.any_failed() for c in together.values())
    assert together[old].superseded and not together[new].superseded


def test_a_newer_version_excuses_only_the_overdue_rule(tmp_path, payer_ready):
    old, new = _two_versions(tmp_path, payer_ready)
    data = json.loads(old.read_text())
    del data["services"]  # a medicare error a newer version does not excuse
    old.write_text(json.dumps(data))
    checked = {c.source.path: c for c in check_paths([old, new], Settings(), as_of=AS_OF)}
    problems = checked[old].layout_problems["medicare"]
    assert [p.field_name for p in problems if p.severity.value == "error"] == ["services"]


def test_an_older_or_equal_version_excuses_nothing(tmp_path, payer_ready):
    old, new = _two_versions(tmp_path, payer_ready)
    data = json.loads(new.read_text())
    data["plan"].update(version=1, review_by="2026-11-02")  # same version, also overdue
    new.write_text(json.dumps(data))
    for checked in check_paths([old, new], Settings(), as_of=AS_OF):
        assert checked.layout_failed(checked.layout)


@pytest.mark.parametrize("command", ["validate", "render", "build", "status", "export-fhir"])
def test_every_command_given_both_versions_rebuilds_the_old_one(
    tmp_path, payer_ready, monkeypatch, command
):
    old, new = _two_versions(tmp_path, payer_ready)
    monkeypatch.chdir(tmp_path)
    args = {
        "validate": ["validate", str(old.parent)],
        "render": ["render", str(old.parent), "-t", "md", "-o", "out"],
        "build": ["build", str(old.parent), "-t", "md", "-o", "out", "-j", "1"],
        "status": ["status", str(old.parent), "--format", "json"],
        "export-fhir": ["export-fhir", str(old.parent), "-o", "out"],
    }[command]
    result = CliRunner().invoke(main, [*args, "--as-of", AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    if command == "status":
        rows = {row["version"]: row for row in json.loads(result.stdout)}
        assert rows[1]["flags"] == ["superseded"] and "overdue" not in rows[2]["flags"]
    # Without the newer version, the old one alone is refused (in a fresh output folder:
    # `build` does not check again a plan whose documents are up to date).
    new.unlink()
    args = [arg if arg != "out" else "out-alone" for arg in args]
    alone = CliRunner().invoke(main, [*args, "--as-of", AS_OF.isoformat()])
    if command == "status":
        [row] = json.loads(alone.stdout)
        assert "overdue" in row["flags"] and "invalid" not in row["flags"]
    else:
        assert alone.exit_code == 1 and "valid until" in alone.output


def test_starting_the_next_version_of_an_overdue_plan_works(tmp_path, payer_ready, monkeypatch):
    payer_ready["plan"].update(review_by="2026-11-01", layout="medicare")
    monkeypatch.chdir(tmp_path)
    Path("old.json").write_text(json.dumps(payer_ready), "utf-8")
    result = CliRunner().invoke(
        main, ["new", "--from", "old.json", "-o", "next.json", "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 0, result.output
    version = payer_ready["plan"]["version"]
    assert json.loads(Path("next.json").read_text())["plan"]["version"] == version + 1


# --- the safety plan ----------------------------------------------------------------


@pytest.mark.parametrize("level", ["moderate", "high", "imminent"])
def test_risk_above_low_needs_a_safety_plan_in_payer_layouts(write_plan, payer_ready, level):
    payer_ready["assessment"]["risk"] = {"level": level, "summary": "Passive ideation."}
    payer_ready.pop("safety_plan", None)
    path = write_plan(payer_ready)
    for layout in PAYERS:
        [error] = [p for p in _errors(check_file(path, layout, today=AS_OF), layout)]
        assert error.field_name == "safety_plan" and "NPSG.15.01.01" in error.message
    standard = check_file(path, "standard", today=AS_OF)
    assert [p.severity.value for p in standard.layout_problems["standard"]] == ["warning"]
    payer_ready["safety_plan"] = SAFETY_PLAN
    for layout in (*PAYERS, "standard", "client-copy"):
        assert check_file(write_plan(payer_ready), layout, today=AS_OF).all_problems == []


def test_low_risk_or_no_risk_assessment_needs_no_safety_plan(write_plan, payer_ready):
    payer_ready["assessment"]["risk"] = {"level": "low", "summary": "Denies ideation."}
    payer_ready.pop("safety_plan", None)
    for layout in PAYERS:
        assert check_file(write_plan(payer_ready), layout, today=AS_OF).all_problems == []


def test_a_safety_plan_not_gone_over_within_the_review_interval_is_a_warning(
    write_plan, payer_ready
):
    payer_ready["safety_plan"] = {**SAFETY_PLAN, "reviewed": "2026-05-29"}  # 181 days before
    del payer_ready["plan"]["review_by"]  # computed: 180 days after the last review
    payer_ready["client"]["coverage"]["authorization"]["end"] = "2027-06-30"  # covers it
    path = write_plan(payer_ready)
    stale = check_file(path, "standard", today=AS_OF)
    [warning] = stale.layout_problems["standard"]
    assert warning.field_name == "safety_plan.reviewed" and "181 days ago" in str(warning)
    payer_ready["safety_plan"]["reviewed"] = "2026-05-30"  # 180 days: within
    assert check_file(write_plan(payer_ready), "standard", today=AS_OF).all_problems == []


def test_without_an_interval_the_safety_plan_is_held_to_the_plans_own_cycle(
    write_plan, payer_ready
):
    payer_ready["plan"]["review_by"] = "2027-01-28"  # 91 days after the last review
    payer_ready["safety_plan"] = {**SAFETY_PLAN, "reviewed": "2026-08-26"}  # 92 days ago
    checked = check_file(write_plan(payer_ready), "medicare", today=AS_OF)
    [warning] = checked.layout_problems["medicare"]
    assert "(91 days)" in str(warning) and warning.severity.value == "warning"
    assert "91" not in warning.text(values=False) and "92" not in warning.text(values=False)


# --- medical necessity and the person-centred assessment --------------------------


def test_managed_care_needs_each_part_of_medical_necessity(write_plan, payer_ready):
    for part in ("rationale", "level_of_care", "functional_impairments"):
        data = json.loads(json.dumps(payer_ready))
        del data["medical_necessity"][part]
        checked = check_file(write_plan(data), "managed-care", today=AS_OF)
        assert [p.field_name for p in _errors(checked, "managed-care")] == [
            f"medical_necessity.{part}"
        ]
        medicaid = check_file(write_plan(data), "medicaid", today=AS_OF)
        assert bool(_errors(medicaid, "medicaid")) == (part == "rationale")


def test_a_plan_without_medical_necessity_is_told_once_not_three_times(write_plan, payer_ready):
    del payer_ready["medical_necessity"]
    checked = check_file(write_plan(payer_ready), "managed-care", today=AS_OF)
    assert [p.field_name for p in _errors(checked, "managed-care")] == ["medical_necessity"]


def test_the_markdown_form_takes_medical_necessity_as_a_section(tmp_path):
    text = (Path(__file__).parent / "fixtures" / "spec" / "example-plan.md").read_text("utf-8")
    text = text.rstrip("\n") + "\n\n## Medical Necessity\n\nWeekly care keeps *him* in school.\n"
    path = tmp_path / "plan.md"
    path.write_text(text, "utf-8")
    source = read_plan(path)
    assert source.data["medical_necessity"] == {"rationale": "Weekly care keeps *him* in school."}
    assert source.source_map.line_of(("medical_necessity", "rationale")) == text.count("\n") - 2


# --- bad input: one clear problem with file, line and field -------------------------

BAD = [
    ("safety_plan", {**SAFETY_PLAN, "warning_signs": []}, "safety_plan.warning_signs",
     "needs at least 1"),
    ("safety_plan", {k: v for k, v in SAFETY_PLAN.items() if k != "coping_strategies"},
     "safety_plan.coping_strategies", "missing"),
    ("safety_plan", {k: v for k, v in SAFETY_PLAN.items() if k not in ("supports", "professionals")},
     "safety_plan", "names someone to call"),
    ("safety_plan", {**SAFETY_PLAN, "supports": [{"name": "Rosa", "relationship": "aunt"}]},
     "safety_plan.supports[0].phone", "missing"),
    ("safety_plan", {k: v for k, v in SAFETY_PLAN.items() if k != "reviewed"},
     "safety_plan.reviewed", "missing"),
    ("safety_plan", {**SAFETY_PLAN, "reviewed": "2026-12-01"}, "safety_plan.reviewed",
     "in the future"),
    ("medical_necessity", {"functional_impairments": [{"domain": "job", "description": "x"}]},
     "medical_necessity.functional_impairments[0].domain", "must be one of: 'work'"),
    ("medical_necessity", {"level_of_care": "weekly"}, "medical_necessity.level_of_care",
     "must be one of: 'outpatient'"),
    ("practice", {"name": "Riverside", "tax_id": "123456789"}, "practice.tax_id", "NN-NNNNNNN"),
    ("practice", {"name": "Riverside", "npi": "1245319598"}, "practice.npi", "check digit"),
    ("practice", {"phone": "555-0100"}, "practice.name", "missing"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "value", "field", "message"), BAD, ids=[b[2] for b in BAD])
def test_bad_input_is_one_problem_naming_file_line_and_field(
    write_plan, plan_data, key, value, field, message
):
    plan_data[key] = value
    path = write_plan(plan_data)
    checked = check_file(path, "standard", today=AS_OF)
    [problem] = checked.all_problems
    assert problem.field_name == field and message in problem.message
    lines = path.read_text("utf-8").splitlines()
    assert problem.line is not None and f'"{field.split(".")[0]}"' in "".join(
        lines[: problem.line]
    )  # the line is at (or inside) the part
    assert problem.text(values=True).startswith(f"{path}:{problem.line}: {field}: ")


def test_a_good_tax_id_and_npi_pass(write_plan, plan_data):
    plan_data["practice"] = {"name": "Riverside", "tax_id": "12-3456789", "npi": "1245319599"}
    assert check_file(write_plan(plan_data), "standard", today=AS_OF).all_problems == []


# --- plandoc.toml [practice] --------------------------------------------------------


def test_the_clinics_practice_fills_each_plan_key_by_key(tmp_path, plan_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("plandoc.toml").write_text(
        '[practice]\nname = "Riverside Counseling Group"\nphone = "(217) 555-0100"\n'
        'npi = "1245319599"\n',
        "utf-8",
    )
    plan_data["practice"] = {"name": "Riverside North", "fax": "(217) 555-0101"}
    Path("plan.json").write_text(json.dumps(plan_data), "utf-8")
    from plandoc.checks.file import check_path
    from plandoc.settings import load_settings

    checked = check_path(Path("plan.json"), load_settings(None), "standard", AS_OF)
    practice = checked.plan.practice
    assert (practice.name, practice.phone, practice.fax, practice.npi) == (
        "Riverside North", "(217) 555-0100", "(217) 555-0101", "1245319599"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('npi = "1245319598"', "plandoc.toml:3: practice.npi: not a valid NPI"),
        ('tax_id = "123456789"', "plandoc.toml:3: practice.tax_id: a Tax ID is written NN-NNNNNNN"),
        ('country = "usa"', "plandoc.toml:3: practice.country: a country is its two-letter"),
        ('nmae = "x"', "plandoc.toml:3: practice.nmae: unknown key; did you mean 'name'?"),
        (
            'address = ["1", "2", "3", "4", "5", "6", "7"]',
            "plandoc.toml:3: practice.address: at most 6",
        ),
    ],
)
def test_a_wrong_practice_table_is_a_settings_error_with_its_line(
    tmp_path, plan_data, monkeypatch, toml, expected
):
    monkeypatch.chdir(tmp_path)
    Path("plandoc.toml").write_text(f'[practice]\nname = "Riverside"\n{toml}\n', "utf-8")
    Path("plan.json").write_text(json.dumps(plan_data), "utf-8")
    result = CliRunner().invoke(main, ["validate", "plan.json"])
    assert result.exit_code == 1 and expected in result.output, result.output


def test_a_practice_table_without_a_name_is_refused(tmp_path, plan_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("plandoc.toml").write_text('[practice]\nphone = "1"\n', "utf-8")
    Path("plan.json").write_text(json.dumps(plan_data), "utf-8")
    result = CliRunner().invoke(main, ["validate", "plan.json"])
    assert result.exit_code == 1 and "practice.name: missing (required)" in result.output


# --- plandoc new: skeletons hold what the layout requires ---------------------------


@pytest.mark.parametrize(
    ("layout", "parts"),
    [
        ("standard", set()),
        ("medicare", {"safety_plan"}),
        ("medicaid", {"safety_plan", "medical_necessity", "strengths", "preferences"}),
        ("managed-care", {"safety_plan", "medical_necessity"}),
    ],
)
def test_new_skeletons_carry_the_parts_their_layout_requires(tmp_path, monkeypatch, layout, parts):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["new", "TP-1", "-l", layout, "-o", "plan.json", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(Path("plan.json").read_text())
    found = {k for k in ("safety_plan", "medical_necessity") if k in data}
    found |= {k for k in ("strengths", "preferences") if k in data["assessment"]}
    assert found == parts
    if "medical_necessity" in parts and layout == "managed-care":
        assert set(data["medical_necessity"]) == {"rationale", "level_of_care",
                                                  "functional_impairments"}  # fmt: skip
    # Every problem of the untouched skeleton is a placeholder still to fill.
    checked = check_file(Path("plan.json"), layout, today=AS_OF)
    assert checked.all_problems and all(
        "still to fill" in p.message for p in checked.all_problems
    ), [p.text(values=True) for p in checked.all_problems if "still to fill" not in p.message]


@pytest.mark.parametrize(("status", "flag"), [("active", "overdue"), ("completed", None),
                                               ("revoked", None)])  # fmt: skip
def test_status_flags_no_review_due_for_a_completed_or_revoked_plan(
    tmp_path, plan_data, status, flag
):
    plan_data["plan"].update(status=status, review_by="2026-11-01")
    (tmp_path / "plan.json").write_text(json.dumps(plan_data), "utf-8")
    result = CliRunner().invoke(
        main, ["status", str(tmp_path), "--format", "json", "--as-of", AS_OF.isoformat()]
    )
    [row] = json.loads(result.stdout)
    assert ("overdue" in row["flags"]) == (flag == "overdue") and "invalid" not in row["flags"]


# --- found by the outside attack on this issue -------------------------------------


@pytest.mark.parametrize(
    "breakage",
    [
        {"provider": {"name": "Morgan Reyes", "credentials": "LCSW", "npi": "1234567890"}},
        {"practice": {"name": "Riverside", "tax_id": "123456789"}},  # a shape error
        {"goals": []},  # a missing part
    ],
)
def test_any_invalid_newer_version_marks_the_old_one_as_history(tmp_path, payer_ready, breakage):
    old, new = _two_versions(tmp_path, payer_ready)
    data = json.loads(new.read_text())
    data.update(breakage)
    new.write_text(json.dumps(data))
    checked = {c.source.path: c for c in check_paths([old, new], Settings(), as_of=AS_OF)}
    assert checked[new].failed() and checked[old].superseded
    assert not checked[old].any_failed()


def test_a_plan_that_failed_its_build_is_checked_again_not_taken_as_current(tmp_path):
    from plandoc.builds.batch import BuildOptions, build

    from .conftest import SAMPLES

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "plan.json").write_bytes((SAMPLES / "adult-ptsd.json").read_bytes())

    def run(as_of, force=False):
        options = BuildOptions(
            tmp_path / "in", tmp_path / "out", layouts=("medicare",), as_of=as_of, force=force
        )
        return build(options)

    assert run(AS_OF).count("built") == 1
    assert run(dt.date(2027, 1, 28), force=True).count("failed") == 1  # overdue now
    again = run(dt.date(2027, 1, 28))
    assert again.count("failed") == 1 and again.count("current") == 0
    assert (tmp_path / "out" / "TP-2026-0042-v2.medicare.md").exists()  # kept, not pruned
    assert run(AS_OF).count("built") == 1  # valid again: rebuilt, then current
    assert run(AS_OF).count("current") == 1


def test_a_plan_failing_build_after_build_keeps_its_documents_even_with_prune(tmp_path):
    from plandoc.builds.batch import BuildOptions, build

    from .conftest import SAMPLES

    (tmp_path / "in").mkdir()
    for sample in ("adult-ptsd.json", "couple-relationship.json"):
        (tmp_path / "in" / sample).write_bytes((SAMPLES / sample).read_bytes())

    def run(as_of, **flags):
        return build(BuildOptions(tmp_path / "in", tmp_path / "out", layouts=("medicare",),
                                  as_of=as_of, **flags))  # fmt: skip

    assert run(AS_OF).count("built") == 2
    kept = sorted(p.name for p in (tmp_path / "out").iterdir())
    late = dt.date(2027, 1, 26)  # the couple's plan is overdue; the adult's is not yet
    assert run(late, force=True, prune=True).count("failed") == 1
    for _ in range(3):
        result = run(late, prune=True)
        assert result.count("failed") == 1 and result.orphans == [] and result.pruned == []
        assert result.count("current") == 1  # the other plan is not rebuilt
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == kept


def test_a_contact_or_practice_phone_must_not_be_blank(write_plan, payer_ready):
    payer_ready["safety_plan"] = {
        **SAFETY_PLAN,
        "supports": [{"name": "Chris", "relationship": "brother", "phone": "   "}],
    }
    payer_ready["practice"] = {"name": "Riverside", "phone": "", "crisis_phone": " "}
    checked = check_file(write_plan(payer_ready))
    blank = {p.field_name for p in checked.problems if p.message == "must not be empty"}
    assert blank == {"safety_plan.supports[0].phone", "practice.phone", "practice.crisis_phone"}


def test_a_safety_plan_without_coping_strategies_or_contacts_gets_both_errors_at_once(
    write_plan, payer_ready
):
    payer_ready["safety_plan"] = {
        "warning_signs": ["Pacing"], "coping_strategies": [], "reviewed": "2026-10-01",
    }  # fmt: skip
    checked = check_file(write_plan(payer_ready))
    said = {(p.field_name, p.message.split(":")[0]) for p in checked.problems}
    assert ("safety_plan.coping_strategies", "needs at least 1") in said
    assert ("safety_plan", "a safety plan names someone to call") in said
    assert all(p.line for p in checked.problems)


@pytest.mark.parametrize("character", ["\\u0007", "\\u0000", "\\ufffe"])
def test_a_control_character_in_the_practice_settings_is_the_settings_files_error(
    tmp_path, character
):
    from plandoc.errors import SettingsError
    from plandoc.settings import load_settings

    (tmp_path / "plandoc.toml").write_text(f'[practice]\nname = "A{character}B"\n')
    with pytest.raises(SettingsError, match=r"plandoc\.toml:2: practice\.name: holds a character"):
        load_settings(tmp_path / "plandoc.toml")


def test_the_stale_safety_plan_warning_hides_the_plans_numbers(write_plan, payer_ready):
    payer_ready["safety_plan"] = {**SAFETY_PLAN, "reviewed": "2026-05-29"}
    checked = check_file(write_plan(payer_ready), "medicare", today=AS_OF)
    [warning] = [p for p in checked.layout_problems["medicare"] if "gone over" in p.message]
    assert "181" in str(warning) and "181" not in warning.text(values=False)


def test_a_rule_whose_when_names_a_value_the_field_cannot_hold_is_refused(tmp_path):
    from plandoc.errors import LayoutError
    from plandoc.layouts import find_layout

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "layout.toml").write_text(
        'name = "mine"\nextends = "standard"\n[[rules]]\nid = "x"\nmessage = "m"\n'
        'source = "s"\nrequire = "safety_plan"\n'
        'when = { field = "assessment.risk.level", in = ["moderate", "extreme"] }\n'
    )
    with pytest.raises(LayoutError, match=r"'extreme' is not a value of assessment\.risk\.level"):
        find_layout("mine", [tmp_path])


def test_the_schema_takes_a_number_wherever_validate_reads_a_code_as_its_digits():
    import jsonschema

    from plandoc.interop.json_schema import plan_schema

    from .conftest import SAMPLES

    data = json.loads((SAMPLES / "adult-ptsd.json").read_text("utf-8"))
    data["practice"]["npi"] = int(data["practice"]["npi"])
    data["client"]["phone"] = 5550143
    jsonschema.validate(data, plan_schema())
    data["practice"]["npi"] = ""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, plan_schema())


def test_the_practice_npi_may_be_a_toml_number_as_in_a_plan(tmp_path):
    from plandoc.settings import load_settings

    (tmp_path / "plandoc.toml").write_text('[practice]\nname = "Riverside"\nnpi = 1245319599\n')
    assert load_settings(tmp_path / "plandoc.toml").practice["npi"] == "1245319599"


def test_a_build_checks_a_current_plan_again_once_its_review_falls_due(tmp_path):
    from plandoc.builds.batch import BuildOptions, build

    from .conftest import SAMPLES

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "plan.json").write_bytes((SAMPLES / "adult-ptsd.json").read_bytes())

    def run(as_of):
        options = BuildOptions(
            tmp_path / "in", tmp_path / "out", layouts=("medicare",), as_of=as_of
        )
        return build(options)

    assert run(AS_OF).count("built") == 1
    assert run(dt.date(2027, 1, 27)).count("current") == 1  # the review date itself: still due
    late = run(dt.date(2027, 1, 28))  # a day past it: checked again, and refused
    assert late.count("failed") == 1 and late.count("current") == 0
    assert run(dt.date(2027, 1, 28)).count("failed") == 1  # and again, never taken as current
