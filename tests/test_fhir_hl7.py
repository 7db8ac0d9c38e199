"""HL7's own published R4 examples (tests/fixtures/hl7-r4/, CC0, see SOURCE.md there).

Every CarePlan example imports without an error; its placeholders, filled
in by a script as a clinician would, give a plan that validates and renders;
what it does not map is the golden list tests/golden/fhir/<example>.not-mapped.txt
(read and judged when it changes: `pytest --update-golden`). A Goal alone is
not a plan: one line, exit 2.
"""

from __future__ import annotations

import copy
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


# --- issue 20's defects, each at its cause ------------------------------------------------


def _lines(data) -> tuple[dict, list[str]]:
    plan, marked = fhir.import_plan(copy.deepcopy(data))
    return plan, [shown(line, values=True) for line in marked]


def _example(name: str) -> dict:
    return json.loads((HL7 / "hl7-r4-careplan" / f"{name}.json").read_text())


def test_defect_1_an_outside_reference_without_display_never_stops_an_import():
    plan, lines = _lines(_example("careplan-example"))  # Goal/example: no display
    assert plan["goals"][0]["statement"].startswith("FILL IN")
    assert (
        "CarePlan.goal[0]: Goal/example is outside the file, with no display; placeholders "
        "stand in" in lines
    )


def test_defect_2_an_outside_condition_is_named_by_its_reference():
    _, lines = _lines(_example("careplan-example-f001-heart"))
    assert (
        "CarePlan.addresses[0]: Condition/f201 is outside the file; its display stands in" in lines
    )
    assert not [line for line in lines if "None" in line or ".display." in line]


def test_defect_3_a_resource_referred_to_by_an_unmapped_part_says_so():
    _, lines = _lines(_example("careplan-example-pregnancy"))
    assert (
        "CareTeam/careteam: not mapped (only CarePlan.careTeam refers to it, not mapped either)"
        in lines
    )
    assert (
        "Practitioner/pr1: read for who is responsible (CarePlan.activity[1].detail.performer[0]); "
        "its details are not mapped" in lines
    )
    assert not [line for line in lines if "no part of the care plan refers to it" in line]
    lone = copy.deepcopy(LONE)
    lone["contained"].append({"resourceType": "Medication", "id": "med", "code": {"text": "X"}})
    lone["activity"][0]["detail"]["productReference"] = {"reference": "#med"}
    _, lines = _lines(lone)
    assert (
        "Medication/med: not mapped (only CarePlan.activity[0].detail.productReference refers "
        "to it, not mapped either)" in lines
    )


def _paths_named(lines: list[str]) -> set[str]:
    return {line.split(": ", 1)[0] for line in lines}


def test_defect_4_the_elements_once_dropped_are_listed_with_a_reason():
    lone = copy.deepcopy(LONE)
    lone.update({
        "extension": [{"url": "http://example.org/x", "valueString": "y"}],
        "identifier": [{"system": "http://example.org/ids", "value": "7"}],
        "intent": "proposal", "category": [{"text": "Weight"}],
        "period": {"start": "2026-01-01", "end": "2026-06-01"}, "created": "2026-01-01",
    })  # fmt: skip
    lone["activity"][0].update({
        "progress": [{"text": "Going well"}],
        "outcomeReference": [{"reference": "Observation/o1"}],
        "outcomeCodeableConcept": [{"text": "Lost weight"}],
    })  # fmt: skip
    lone["activity"][0]["detail"]["status"] = "completed"
    _, lines = _lines(lone)
    named = _paths_named(lines)
    for path in [
        "CarePlan.extension", "CarePlan.identifier", "CarePlan.intent", "CarePlan.category",
        "CarePlan.period.end", "CarePlan.activity[0].progress",
        "CarePlan.activity[0].outcomeReference", "CarePlan.activity[0].outcomeCodeableConcept",
        "CarePlan.activity[0].detail.status",
    ]:  # fmt: skip
        assert path in named, path
    assert all(" (" in line for line in lines if ": not mapped" in line)  # each with its reason


@pytest.mark.parametrize("example", CARE_PLANS, ids=lambda p: p.stem)
def test_every_element_of_each_example_is_mapped_or_listed(example):
    """Take out each element of the CarePlan and of each contained resource in turn: the
    plan or the lines change (it was mapped, or something was inferred in its place), or a
    line names it or a part of it (it was listed). The one exception: a resource's subject
    that is the care plan's own (the client, read once)."""
    data = json.loads(example.read_text())
    plan, lines = _lines(data)
    named = _paths_named(lines)
    labels = {f"{c['resourceType']}/{c['id']}": i for i, c in enumerate(data.get("contained", []))}
    parts = [("CarePlan", data)] + [(label, data["contained"][i]) for label, i in labels.items()]
    for label, resource in parts:
        for key in [k for k in resource if k not in ("resourceType", "id", "contained")]:
            path = f"{label}.{key}"
            if key == "subject" and resource[key].get("reference") == data["subject"]["reference"]:
                continue
            changed = copy.deepcopy(data)
            target = changed if label == "CarePlan" else changed["contained"][labels[label]]
            del target[key]
            try:
                without = _lines(changed)
            except fhir.FhirError:
                continue  # it mattered
            listed = any(n == path or n.startswith((f"{path}.", f"{path}[")) for n in named)
            assert without != (plan, lines) or listed or label in named, path


LONE = {
    "resourceType": "CarePlan", "id": "cp", "status": "active", "intent": "plan",
    "contained": [
        {"resourceType": "Goal", "id": "goal", "lifecycleStatus": "active",
         "description": {"text": "Walk every day."}},
        {"resourceType": "RelatedPerson", "id": "mum", "patient": {"reference": "Patient/p"}},
        {"resourceType": "Practitioner", "id": "dr", "name": [{"text": "Dr Kim"}]},
        {"resourceType": "Practitioner", "id": "other", "name": [{"text": "Dr Lee"}]},
    ],
    "subject": {"reference": "Patient/p", "display": "Test Person"},
    "author": {"reference": "#dr"},
    "goal": [{"reference": "#goal"}],
    "activity": [{"detail": {"code": {"text": "Walking"}, "goal": [{"reference": "#goal"}],
                             "scheduledString": "daily"}}],
}  # fmt: skip


def test_defect_5_an_activity_naming_its_goal_links_the_goals_objective_to_the_method():
    plan, _ = _lines(LONE)
    assert plan["goals"][0]["objectives"][0]["methods"] == ["M1"]
    methods = copy.deepcopy(LONE)
    methods["activity"].append({"detail": {"code": {"text": "Diary"},
                                           "goal": [{"reference": "#goal"}]}})  # fmt: skip
    plan, _ = _lines(methods)
    assert plan["goals"][0]["objectives"][0]["methods"] == ["M1", "M2"]


@pytest.mark.parametrize(
    ("performer", "party"),
    [("Patient/p", "client"), ("#mum", "family"), ("#dr", "clinician"), ("#other", "other"),
     ("Organization/clinic", "other"), ("RelatedPerson/dad", "family")],
)  # fmt: skip
def test_defect_6_each_performer_maps_to_its_party(performer, party):
    lone = copy.deepcopy(LONE)
    lone["activity"][0]["detail"]["performer"] = [{"reference": performer}]
    plan, lines = _lines(lone)
    assert plan["methods"][0]["responsible"] == party
    if not performer.startswith("#"):
        assert any(line.startswith(f"CarePlan.activity[0].detail.performer[0]: {performer} is "
                                   "outside the file") for line in lines)  # fmt: skip


def test_defect_7_do_not_perform_is_listed_and_scheduled_is_read_for_what_it_is():
    lone = copy.deepcopy(LONE)
    lone["activity"] = [
        {"detail": {"code": {"text": "Surgery"}, "doNotPerform": True}},
        {"detail": {"code": {"text": "Check-in"}, "scheduledString": "2011-06-27T09:30:10+01:00"}},
        {"detail": {"code": {"text": "Therapy"}, "scheduledTiming": {"repeat": {
            "frequency": 2, "period": 1, "periodUnit": "wk", "duration": 50, "durationUnit": "min"}}}},
        {"detail": {"code": {"text": "Visit"}, "description": "A home visit.",
                    "scheduledPeriod": {"start": "2026-02-01", "end": "2026-02-14"}}},
    ]  # fmt: skip
    plan, lines = _lines(lone)
    assert [m["name"] for m in plan["methods"]] == ["Check-in", "Therapy", "Visit"]
    assert any(line.startswith("CarePlan.activity[0]: not mapped (doNotPerform") for line in lines)
    check_in, therapy, visit = plan["methods"]
    assert check_in["frequency"].startswith("FILL IN")
    assert "CarePlan.activity[1].detail.scheduledString" in _paths_named(lines)
    assert (therapy["frequency"], therapy["session_minutes"]) == ("twice a week", 50)
    assert visit["description"] == "A home visit. Planned from 2026-02-01 to 2026-02-14."


def test_defect_8_a_plan_without_goals_gets_a_whole_goal_of_placeholders(tmp_path):
    lone = copy.deepcopy(LONE)
    del lone["goal"]
    plan, lines = _lines(lone)
    (goal,) = plan["goals"]
    for key in ("term", "statement", "target_date"):
        assert goal[key].startswith("FILL IN"), key
    assert all(str(v).startswith("FILL IN") for v in goal["measure"].values())
    assert goal["objectives"][0]["statement"].startswith("FILL IN")
    assert "CarePlan.goal: none; a goal to fill stands in" in lines


def test_defect_9_an_effective_date_taken_from_created_is_listed_as_inferred():
    _, lines = _lines(_example("careplan-example"))
    assert "CarePlan.period.start: absent; plan.effective is CarePlan.created (inferred)" in lines


# --- bundles as FHIR servers return them ---------------------------------------------------


def _entry(resource: dict, base: str = "http://fhir.example.org/r4") -> dict:
    return {"fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}", "resource": resource}


def _server_bundle(kind: str, *care_plans: dict) -> dict:
    entries = []
    for care_plan in care_plans:
        resource = {k: v for k, v in care_plan.items() if k != "contained"}
        entries.append({**_entry(resource), "search": {"mode": "match"}})
        for contained in care_plan.get("contained", []):
            entries.append({**_entry(contained), "search": {"mode": "include"}})
    bundle = {"resourceType": "Bundle", "id": "b", "type": kind, "entry": entries}
    if kind == "transaction":
        for entry in bundle["entry"]:
            resource = entry["resource"]
            entry.pop("search")
            entry["request"] = {
                "method": "PUT",
                "url": f"{resource['resourceType']}/{resource['id']}",
            }
    return json.loads(json.dumps(bundle).replace('"#', '"').replace(
        '"reference": "goal"', '"reference": "Goal/goal"'))  # fmt: skip


@pytest.mark.parametrize("kind", ["searchset", "transaction", "collection"])
def test_a_server_bundle_is_read_and_references_outside_it_are_listed(kind):
    care_plan = _example("careplan-example-GPVisit")
    bundle = _server_bundle(kind, care_plan)
    text = json.dumps(bundle).replace('"reference": "p1"', '"reference": "Condition/p1"')
    text = text.replace('"reference": "careteam"', '"reference": "CareTeam/careteam"')
    plan, lines = _lines(json.loads(text))
    assert (
        plan["plan"]["id"] == "gpvisit" and plan["goals"][0]["statement"] == "Complete consultation"
    )
    assert plan["diagnoses"][0]["description"] == "Overseas encounter"
    assert "CarePlan.subject: Patient/100 is outside the file; its display stands in" in lines


def test_several_care_plans_need_careplan_id(tmp_path):
    first, second = _example("careplan-example-f001-heart"), _example("careplan-example-f002-lung")
    text = json.dumps(second)
    for name in ("goal", "careteam"):  # the two examples' contained ids are the same
        text = text.replace(f'"id": "{name}"', f'"id": "{name}2"').replace(
            f'"#{name}"', f'"#{name}2"'
        )
    second = json.loads(text)
    bundle = _server_bundle("searchset", first, second)
    with pytest.raises(fhir.FhirError) as raised:
        fhir.import_plan(copy.deepcopy(bundle))
    assert [shown(p, values=True) for p in raised.value.problems] == [
        "Bundle: 2 CarePlans (f001, f002); give the id of one (--careplan ID)"
    ]
    path, out = tmp_path / "search.json", tmp_path / "plan.md"
    path.write_text(json.dumps(bundle))
    runner = CliRunner()
    refused = runner.invoke(main, ["import-fhir", str(path), "-o", str(out), "--values"])
    assert refused.exit_code == 1 and refused.output.splitlines() == [
        f"{path}: Bundle: 2 CarePlans (f001, f002); give the id of one (--careplan ID)"
    ]
    assert not out.exists()
    picked = runner.invoke(
        main, ["import-fhir", str(path), "-o", str(out), "--careplan", "f002", "--values"]
    )
    assert picked.exit_code == 0, picked.output
    assert "CarePlan/f001: another care plan, not read (--careplan picks the one to read)" in (
        picked.output
    )
    assert "id: f002" in out.read_text()
    wrong = runner.invoke(main, ["import-fhir", str(path), "-o", str(out), "--force",
                                 "--careplan", "f9", "--values"])  # fmt: skip
    assert wrong.exit_code == 1
    assert "Bundle: 0 CarePlans with the id 'f9'; its CarePlans: f001, f002" in wrong.output
