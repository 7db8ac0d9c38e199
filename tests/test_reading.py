"""Reading plans: line numbers in errors, the Markdown form's sections, and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from plandoc.checks.file import check_file
from plandoc.cli import main

FRONT = """---
plandoc: 1
plan: {id: P-1, version: 1, status: active, created: 2026-01-05, effective: 2026-01-05, review_by: 2026-04-05}
client: {name: Test Client, date_of_birth: 1990-01-01}
provider: {name: Test Clinician, credentials: LCSW}
assessment:
  history: H.
  symptom_onset: S.
presenting_problem: P.
diagnoses: [{code: F41.1, description: Generalized anxiety disorder, primary: true}]
contract: {summary: C., modality: CBT, type: individual}
goals:
- id: G1
  term: short
  statement: Less worry.
  target_date: 2026-03-01
  measure: {instrument: GAD-7, baseline: 12, target: 5}
  objectives: [{id: G1.1, statement: Practise, target_date: 2026-02-01, methods: [M1]}]
methods: [{id: M1, name: CBT, description: D., responsible: clinician, frequency: weekly, session_minutes: 50}]
time_estimate: {sessions: 8, frequency: weekly, weeks: 8}
---
"""


def messages(path):
    return [str(p) for p in check_file(path).problems]


def test_json_errors_carry_the_line_of_the_field(write_plan, plan_data):
    plan_data["goals"][1]["objectives"][0]["methods"] = ["M7"]
    path = write_plan(plan_data)
    lines = path.read_text().splitlines()
    expected = next(i for i, line in enumerate(lines, 1) if '"M7"' in line)
    assert (
        f"{path}:{expected}: goals[1].objectives[0].methods[0]: no method has id 'M7'"
        in " ".join(messages(path))
    )


def test_markdown_body_sections_fill_narrative_fields(write_plan):
    body = "\n# Title\n\n## Prior Treatment\n\nNone before.\n\n## progress   AND outcomes\n\nGoing well.\n"
    text = FRONT.replace("  symptom_onset: S.\n", "  symptom_onset: S.\n").replace(
        "assessment:\n  history: H.\n  symptom_onset: S.\n",
        "assessment:\n  history: H.\n  symptom_onset: S.\n",
    )
    checked = check_file(write_plan(text + body, "plan.md"))
    assert checked.plan is not None, [str(p) for p in checked.problems]
    assert checked.plan.assessment.prior_treatment == "None before."
    note = checked.plan.progress_notes[0]
    assert note.text == "Going well." and note.date.isoformat() == "2026-01-05"


def test_yaml_errors_carry_the_line_in_the_file(write_plan):
    text = FRONT.replace("term: short", "term: medium")
    path = write_plan(text + "\n## Prior Treatment\n\nNone.\n", "plan.md")
    line = text.splitlines().index("  term: medium") + 1
    assert f"{path}:{line}: goals[0].term: must be one of: 'short' or 'long'" in messages(path)


def test_section_errors_point_at_the_heading(write_plan):
    body = "\n## Prior Treatment\n\nNone.\n\n## Hobbies\n\nChess.\n\n## History\n\nAgain.\n\n## Prior treatment\n\nTwice.\n"
    path = write_plan(FRONT + body, "plan.md")
    base = FRONT.count("\n")
    found = messages(path)
    assert any(
        m.startswith(f"{path}:{base + 6}:") and "'## Hobbies' matches no field" in m for m in found
    )
    assert any(
        m.startswith(
            f"{path}:{base + 10}: assessment.history: given both in the front-matter (line 7)"
        )
        for m in found
    ), found
    assert any(m.startswith(f"{path}:{base + 14}:") and "given twice" in m for m in found)


def test_code_blocks_do_not_make_sections(write_plan):
    body = "\n## Prior Treatment\n\n```\n## Not a heading\n```\n"
    checked = check_file(write_plan(FRONT + body, "plan.md"))
    assert checked.plan is not None, [str(p) for p in checked.problems]
    assert "## Not a heading" in checked.plan.assessment.prior_treatment


def test_yaml_numbers_are_taken_as_their_digits(write_plan):
    text = FRONT.replace(
        "credentials: LCSW}", "credentials: LCSW, npi: 1234567893, phone: 5550100}"
    )
    checked = check_file(write_plan(text + "\n## Prior Treatment\n\nNone.\n", "plan.md"))
    assert checked.plan.provider.npi == "1234567893" and checked.plan.provider.phone == "5550100"


def test_yaml_1_1_surprises_stay_text(write_plan):
    text = FRONT.replace("name: Test Client,", "name: 'No', preferred_name: no, pronouns: on,")
    checked = check_file(write_plan(text + "\n## Prior Treatment\n\nNone.\n", "plan.md"))
    assert checked.plan.client.preferred_name == "no" and checked.plan.client.pronouns == "on"


BAD_INPUT = {
    "invalid JSON": ("bad.json", '{"plandoc": 1,\n  "plan": }', ":2: not valid JSON"),
    "not an object": ("bad.json", "[1, 2]", ":1: a plan must be one JSON object"),
    "duplicate JSON key": (
        "bad.json",
        '{"plandoc": 1,\n "plandoc": 1}',
        ":2: plandoc: key given twice",
    ),
    "invalid YAML": ("bad.md", "---\nplandoc: 1\nplan: [\n---\n", ":4: not valid YAML"),
    "front-matter never closes": (
        "bad.md",
        "---\nplandoc: 1\n",
        ":1: the front-matter block opened here never closes",
    ),
    "no front-matter": (
        "bad.md",
        "# Plan\n",
        ":1: a Markdown plan must start with a YAML front-matter",
    ),
    "duplicate YAML key": (
        "bad.md",
        "---\nplandoc: 1\nplandoc: 1\n---\n",
        ":3: plandoc: key given twice",
    ),
    "YAML alias": ("bad.md", "---\na: &x [1]\nb: *x\n---\n", ":3: b: YAML aliases"),
    "empty file": ("bad.json", "", ":1: the file is empty"),
    "not UTF-8": ("bad.json", b'{"a": "\xff"}', ":1: not UTF-8 text"),
    "text outside sections": (
        "bad.md",
        "---\nplandoc: 1\n---\nstray\n",
        ":4: text before the first '## ' section",
    ),
    "deep nesting": (
        "bad.json",
        "[" * 100000 + "]" * 100000,
        ":1: nested more than 50 levels deep",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUT, ids=list(BAD_INPUT))
def test_bad_input_is_one_clear_line_exit_1_and_no_output(tmp_path, case):
    name, content, expected = BAD_INPUT[case]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, "utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--values"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert f"{path}{expected}" in result.output
    assert not out.exists() or not any(out.iterdir())


def test_missing_file_and_empty_folder(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.json")])
    assert result.exit_code == 1 and f"{tmp_path / 'nope.json'}: no such file" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a plan")
    result = CliRunner().invoke(main, ["validate", str(empty)])
    assert (
        result.exit_code == 1
        and "no plan files" in result.output
        and "Traceback" not in result.output
    )


def test_bom_and_crlf_are_accepted(write_plan, plan_data):
    path = write_plan(plan_data)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert check_file(path).problems == []


def test_markdown_with_crlf(write_plan):
    path = write_plan(FRONT + "\n## Prior Treatment\n\nNone.\n", "plan.md")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    checked = check_file(path)
    assert checked.plan is not None and checked.plan.assessment.prior_treatment == "None."


def test_json_report(write_plan, plan_data):
    plan_data["plan"]["status"] = "open"
    result = CliRunner().invoke(main, ["validate", "--format", "json", str(write_plan(plan_data))])
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    (entry,) = report["plans"]
    assert entry["valid"] is False and entry["problems"][0]["field"] == "plan.status"
    assert entry["problems"][0]["line"] == 6
