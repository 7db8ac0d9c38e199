"""HL7's own published R4 examples (tests/fixtures/hl7-r4/, CC0, see SOURCE.md there).

Every CarePlan example imports without an error; its placeholders, filled
in by a script as a clinician would, give a plan that validates and renders;
what it does not map is the golden list tests/golden/fhir/<example>.not-mapped.txt
(read and judged when it changes: `pytest --update-golden`). A Goal alone is
not a plan: one line, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.interop import fhir
from plandoc.problems import shown

from .conftest import GOLDEN
from .test_new import FILLED

HL7 = Path(__file__).parent / "fixtures" / "hl7-r4"
CARE_PLANS = sorted((HL7 / "hl7-r4-careplan").glob("*.json"))
GOALS = sorted((HL7 / "hl7-r4-goal").glob("*.json"))
AS_OF = "2026-11-26"

# What a clinician would write for placeholders an imported plan has beyond a new one's.
FILL = FILLED | {
    "id": "TP-HL7-1", "type": "individual", "created": "2026-11-20", "effective": "2026-11-20", "methods": "M1", "responsible": "clinician",
    "behavior": "Days with a walk", "unit": "days a week", "session_minutes": 30,
    "description": "Major depressive disorder, single episode, moderate",
}  # fmt: skip


def fill_in(path: Path) -> None:
    """Replace every placeholder, as `plandoc validate` lists them, with a real value."""
    checked = check_file(path)
    lines = path.read_text().split("\n")
    for problem in checked.problems:
        if not problem.message.startswith("still to fill: "):
            continue
        key = next(part for part in reversed(problem.field) if isinstance(part, str))
        value = FILL[key]
        line = lines[problem.line - 1]
        if "FILL IN" not in line:  # a narrative section: its text is on the next lines
            index = next(i for i in range(problem.line, len(lines)) if "FILL IN" in lines[i])
            lines[index] = str(value)
            continue
        head, _, _ = line.partition("'FILL IN")
        if "FILL IN" in head:  # a list item whose quote is a double one
            head, _, _ = line.partition('"FILL IN')
        lines[problem.line - 1] = head + json.dumps(value)
    path.write_text("\n".join(lines))


def test_the_fixtures_are_hl7s_nine_care_plans_and_two_goals():
    assert len(CARE_PLANS) == 9 and len(GOALS) == 2
    assert (HL7 / "hl7-r4-careplan" / "SOURCE.md").is_file()
    assert (HL7 / "hl7-r4-goal" / "SOURCE.md").is_file()


@pytest.mark.parametrize("example", CARE_PLANS, ids=lambda p: p.stem)
def test_each_hl7_care_plan_imports_fills_validates_and_renders(example, tmp_path):
    runner = CliRunner()
    plan = tmp_path / "plan.md"
    imported = runner.invoke(main, ["import-fhir", str(example), "-o", str(plan)])
    assert imported.exit_code == 0, imported.output
    assert "Traceback" not in imported.output
    untouched = runner.invoke(main, ["validate", str(plan), "--as-of", AS_OF])
    assert untouched.exit_code == 1
    assert "missing (required)" not in untouched.output  # every gap is a named placeholder
    fill_in(plan)
    checked = runner.invoke(main, ["validate", str(plan), "--as-of", AS_OF, "--values"])
    assert checked.exit_code == 0, checked.output
    rendered = runner.invoke(
        main, ["render", str(plan), "--to", "html,docx", "-o", str(tmp_path / "out"),
               "--as-of", AS_OF],
    )  # fmt: skip
    assert rendered.exit_code == 0, rendered.output
    made = sorted(p.suffix for p in (tmp_path / "out").iterdir())
    assert made == [".docx", ".html"]


def _not_mapped(example: Path) -> str:
    _, unmapped = fhir.import_file(example)
    return "".join(f"{shown(line, values=True)}\n" for line in unmapped)


@pytest.mark.parametrize("example", CARE_PLANS, ids=lambda p: p.stem)
def test_what_each_hl7_care_plan_leaves_unmapped_is_the_golden_list(example, update_golden):
    golden = GOLDEN / "fhir" / f"{example.stem}.not-mapped.txt"
    listed = _not_mapped(example)
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(listed)
    assert listed == golden.read_text(), f"{golden.name} changed: read it, then --update-golden"


@pytest.mark.parametrize("example", GOALS, ids=lambda p: p.stem)
def test_a_goal_alone_is_one_line_saying_what_to_pass(example, tmp_path):
    result = CliRunner().invoke(main, ["import-fhir", str(example), "-o", str(tmp_path / "p.md")])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{example}: a Goal alone is not a care plan: pass the CarePlan that refers to it, "
        "or a Bundle holding both"
    ]
    assert not (tmp_path / "p.md").exists()
