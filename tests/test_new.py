"""plandoc new (a skeleton, the next version of a plan) and plandoc schema (for editors)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.interop.json_schema import FIELD_DOCS, plan_schema
from plandoc.planfile.read import read_plan
from plandoc.problems import shown

from .conftest import SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
TODAY = "2026-11-26"

# What a clinician would write in place of each placeholder, by the field's name.
FILLED = {
    "name": "Riley Novak", "preferred_name": "Riley", "date_of_birth": "1991-05-02",
    "credentials": "LCSW", "npi": "1234567893", "instrument": "PHQ-9", "score": 16,
    "client_words": "I want my energy back.", "code": "F32.1",
    "description": "Major depressive disorder, single episode, moderate",
    "modality": "Behavioural activation", "duties": "Attend weekly sessions",
    "date": "2026-11-20", "term": "short", "statement": "Reduce depression to the mild range.",
    "target_date": "2027-03-01", "baseline": 16, "target": 8, "frequency": "weekly",
    "session_minutes": 50, "sessions": 12, "weeks": 12, "text": "Low mood since spring.",
    "history": "Teacher; lives alone; close to a sister.", "symptom_onset": "In March 2026.",
    "prior_treatment": "None.", "summary": "Weekly behavioural activation.",
    "level": "low", "medications": "None", "payer": "Example Health Plan",
    "member_id": "M100200300", "number": "AUTH-9", "start": "2026-11-20", "end": "2027-05-20",
    "cpt": "90834", "units": 12,
    "discharge_criteria": "PHQ-9 below 10 at two reviews", "review_by": "2027-05-20",
    "warning_signs": "Skipping meals", "coping_strategies": "Walk outside",
    "relationship": "sister", "phone": "(217) 555-0142", "role": "therapist",
    "means_safety": "Medicines kept by my sister", "reviewed": "2026-11-20",
    "rationale": "Weekly therapy keeps her working.", "level_of_care": "outpatient",
    "domain": "work", "strengths": "Close to her sister", "preferences": "Evening sessions",
}  # fmt: skip


def fill_in(path: Path) -> None:
    """Replace every placeholder, as `plandoc validate` lists them, with a real value."""
    checked = check_file(path)
    lines = path.read_text().split("\n")
    for problem in checked.problems:
        assert problem.message.startswith("still to fill: "), str(problem)
        key = next(part for part in reversed(problem.field) if isinstance(part, str))
        value = FILLED[key]
        line = lines[problem.line - 1]
        if "FILL IN" not in line:  # a narrative section: its text is on the next lines
            index = next(i for i in range(problem.line, len(lines)) if "FILL IN" in lines[i])
            lines[index] = str(value)
            continue
        head, _, _ = line.partition("'FILL IN")
        lines[problem.line - 1] = head + json.dumps(value)
    path.write_text("\n".join(lines))


@pytest.mark.parametrize(
    "layout", ["standard", "managed-care", "medicare", "medicaid", "client-copy"]
)
def test_new_then_fill_in_then_validate_then_render(tmp_path, layout, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    made = runner.invoke(main, ["new", "TP-2027-0001", "-l", layout, "--as-of", TODAY])
    assert made.exit_code == 0, made.output
    path = tmp_path / "inputs" / "TP-2027-0001.md"
    text = path.read_text()
    assert "# What" not in text and "# The person the plan is for." in text  # comments
    # Quoted: plandoc reads dates as text anyway, and other YAML tools then do too.
    assert f"created: '{TODAY}'" in text and f"effective: '{TODAY}'" in text
    untouched = runner.invoke(main, ["validate", str(path), "--as-of", TODAY, "--values"])
    assert untouched.exit_code == 1
    assert "client.name: still to fill: the client's full name" in untouched.output
    assert "goals[0].measure.baseline: still to fill: the score now" in untouched.output
    assert "must be a number" not in untouched.output  # one message per placeholder
    fill_in(path)
    filled = runner.invoke(main, ["validate", str(path), "--as-of", TODAY])
    assert filled.exit_code == 0, filled.output
    rendered = runner.invoke(main, ["render", str(path), "-o", "out", "--as-of", TODAY])
    assert rendered.exit_code == 0, rendered.output
    assert (tmp_path / "out" / f"TP-2027-0001-v1.{layout}.docx").exists()


def test_a_json_skeleton_has_what_the_layout_requires(tmp_path):
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["new", "TP-9", "--format", "json", "-l", "managed-care",
                                       "-o", str(out), "--as-of", TODAY])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for part in ("services",):
        assert data[part]
    assert data["assessment"]["risk"] and data["assessment"]["medications"]
    assert data["client"]["coverage"]["authorization"]["number"].startswith("FILL IN")
    standard = tmp_path / "standard.json"
    CliRunner().invoke(main, ["new", "TP-9", "--format", "json", "-o", str(standard)])
    assert "services" not in json.loads(standard.read_text())


@pytest.mark.parametrize("plan_id", ["../etc", "a/b", "a\\b", "CON", "x" * 65, "nul.txt", ""])
def test_a_plan_id_that_cannot_name_a_file_is_refused(tmp_path, plan_id):
    result = CliRunner().invoke(main, ["new", plan_id, "-o", str(tmp_path / "p.md")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert not (tmp_path / "p.md").exists()


def test_new_never_overwrites_without_force(tmp_path):
    out = tmp_path / "plan.md"
    out.write_text("a plan someone wrote")
    refused = CliRunner().invoke(main, ["new", "TP-1", "-o", str(out)])
    assert refused.exit_code == 1 and "exists; use --force" in refused.output
    assert out.read_text() == "a plan someone wrote"
    assert CliRunner().invoke(main, ["new", "TP-1", "-o", str(out), "--force"]).exit_code == 0
    assert out.read_text().startswith("---\n")


# --- the next version of a plan ------------------------------------------------------


@pytest.mark.parametrize("sample", ["adult-ptsd.json", "adolescent-depression.md"])
def test_from_starts_the_next_version(tmp_path, sample):
    old = tmp_path / sample
    old.write_bytes((SAMPLES / sample).read_bytes())
    result = CliRunner().invoke(main, ["new", "--from", str(old), "--as-of", TODAY])
    assert result.exit_code == 0, result.output
    before = read_plan(old).data
    new_path = next(p for p in tmp_path.iterdir() if p != old)
    assert new_path.suffix == old.suffix and "-v" in new_path.name
    after = read_plan(new_path).data
    assert after["plan"]["version"] == before["plan"]["version"] + 1
    assert after["plan"]["last_reviewed"] in (TODAY, __import__("datetime").date(2026, 11, 26))
    assert after["signatures"] == []
    assert [g["id"] for g in after["goals"]] == [g["id"] for g in before["goals"]]
    for old_goal, new_goal in zip(before["goals"], after["goals"], strict=True):
        assert new_goal.get("status") == old_goal.get("status")
        assert new_goal.get("progress") == old_goal.get("progress")
        assert [o.get("status") for o in new_goal["objectives"]] == [
            o.get("status") for o in old_goal["objectives"]
        ]
    checked = check_file(new_path, today=__import__("datetime").date(2026, 11, 26))
    messages = {
        (p.field_name, shown(p.message, values=True))
        for p in checked.problems
        if p.severity == "error"
    }
    last = len(after["revisions"]) - 1
    assert (f"revisions[{last}].summary", "still to fill: what changed") in messages


def test_from_an_invalid_plan_shows_its_errors(tmp_path, plan_data):
    broken = copy.deepcopy(plan_data)
    broken["diagnoses"][0]["code"] = "not a code"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = CliRunner().invoke(main, ["new", "--from", str(path)])
    assert result.exit_code == 1 and "diagnoses[0].code: not an ICD-10-CM code" in result.output
    assert "fix the plan's errors" in result.output and len(list(tmp_path.iterdir())) == 1


# --- the JSON Schema -------------------------------------------------------------------


@pytest.fixture(scope="module")
def validator():
    schema = plan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_schema_command_writes_the_schema(tmp_path):
    out = tmp_path / "plan.schema.json"
    result = CliRunner().invoke(main, ["schema", "-o", str(out)])
    assert result.exit_code == 0 and json.loads(out.read_text()) == plan_schema()
    assert json.loads(CliRunner().invoke(main, ["schema"]).output)["$id"]


def test_every_field_has_a_description_and_parts_allow_x_keys():
    schema = plan_schema()
    for name, definition in [("Plan", schema), *schema["$defs"].items()]:
        if "properties" not in definition:
            continue
        assert (
            definition["additionalProperties"] is False and "^x-" in definition["patternProperties"]
        ), name
        for field, prop in definition["properties"].items():
            assert prop.get("description"), f"{name}.{field}"
    assert sum(len(fields) for fields in FIELD_DOCS.values()) > 100


def _schema_data(path: Path):
    return read_plan(path).data


def test_the_schema_accepts_every_sample_and_the_spec_examples(validator, spec_examples):
    for path in [*SAMPLE_FILES, *spec_examples]:
        data = json.loads(json.dumps(_schema_data(path), default=str))  # YAML dates as text
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], (path.name, errors)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda p: p["plan"].update(version="two"), "a word for a number"),
        (lambda p: p["plan"].update(created="03/08/2026"), "a date not YYYY-MM-DD"),
        (lambda p: p["plan"].update(created="2026-02-30"), "not a real date"),
        (lambda p: p["plan"].update(status="open"), "not one of the statuses"),
        (lambda p: p["client"].update(nickname="D"), "an unknown key"),
        (lambda p: p.pop("goals"), "a required section missing"),
        (lambda p: p.update(goals=[]), "no goals"),
        (lambda p: p["goals"][0].update(objectives=[]), "a goal without objectives"),
        (lambda p: p["goals"][0]["measure"].update(baseline="high"), "a score as text"),
        (lambda p: p["goals"][0].update(measure={"baseline": 1, "target": 0}), "no kind"),
        (lambda p: p["diagnoses"][0].update(primary="yes"), "a word for true"),
        (lambda p: p["methods"][0].update(session_minutes=0), "a session of 0 minutes"),
        (lambda p: p["assessment"]["risk"].update(level="none"), "not a risk level"),
        (lambda p: p["signatures"][0].update(role="friend"), "not a role"),
        (lambda p: p.update(plandoc=2), "another format version"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_the_schema_rejects_what_the_model_rejects(validator, plan_data, write_plan, change, why):
    change(plan_data)
    assert list(validator.iter_errors(plan_data)), why
    assert check_file(write_plan(plan_data)).failed(), why  # and so does plandoc


def test_x_keys_and_numbers_for_codes_are_accepted(validator, plan_data):
    plan_data["x-clinic"] = {"room": 4}
    plan_data["goals"][0]["x-note"] = "kept"
    plan_data["provider"]["npi"] = 1234567893  # as YAML reads `npi: 1234567893`
    assert [e.message for e in validator.iter_errors(plan_data)] == []


def test_the_markdown_skeleton_front_matter_is_valid_yaml_with_comments(tmp_path):
    out = tmp_path / "plan.md"
    CliRunner().invoke(main, ["new", "TP-1", "-o", str(out)])
    text = out.read_text()
    front = text.split("---\n")[1]
    assert yaml.safe_load(front)["plan"]["id"] == "TP-1"
    assert "# Measurable goals" in front
    assert "## Presenting Problem\n\nFILL IN: why the client came" in text
