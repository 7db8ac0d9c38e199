"""FHIR R4: export to a Bundle (validated by fhir.resources' R4B models), import, round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fhir.resources.R4B.bundle import Bundle

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.interop import fhir
from plandoc.interop.fhir import validation
from plandoc.model.instruments import built_in_registry
from plandoc.planfile.read import read_plan
from plandoc.problems import shown

from .conftest import SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))


def exported(sample: Path) -> dict:
    checked = check_file(sample)
    assert checked.plan is not None
    return fhir.export_bundle(checked.plan, built_in_registry())


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def references(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for value in node.values() for r in references(value)]
    if isinstance(node, list):
        return [r for value in node for r in references(value)]
    return []


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_export_is_a_valid_r4_bundle_whose_references_resolve(sample):
    bundle = exported(sample)
    Bundle.model_validate(bundle)  # the R4B models of fhir.resources: raises if not valid
    assert bundle["type"] == "collection"
    urls = {entry["fullUrl"] for entry in bundle["entry"]}
    assert all(ref in urls for ref in references(bundle)), set(references(bundle)) - urls
    assert exported(sample) == bundle  # the same plan, the same ids


def test_the_bundle_holds_each_part_of_the_plan():
    bundle = exported(SAMPLES / "adult-ptsd.json")
    plan = check_file(SAMPLES / "adult-ptsd.json").plan
    practitioner = resources(bundle, "Practitioner")[0]
    assert practitioner["identifier"] == [
        {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}
    ]
    conditions = resources(bundle, "Condition")
    assert [c["code"]["coding"][0]["code"] for c in conditions] == ["F43.10", "G47.00"]
    assert {c["code"]["coding"][0]["system"] for c in conditions} == {
        "http://hl7.org/fhir/sid/icd-10-cm"
    }
    goals = resources(bundle, "Goal")
    assert len(goals) == len(plan.goals) + sum(len(g.objectives) for g in plan.goals)
    g1 = next(g for g in goals if g["identifier"][0]["value"] == "G1")
    assert g1["target"][0]["measure"]["coding"][0] == {
        "system": "http://loinc.org", "code": "101698-9", "display": "PTSD Checklist for DSM-5 total score"
    }  # fmt: skip
    assert g1["target"][0]["detailQuantity"]["value"] == 30
    assert g1["target"][0]["dueDate"] == "2027-01-27"
    assert (g1["lifecycleStatus"], g1["achievementStatus"]["coding"][0]["code"]) == (
        "active", "in-progress",
    )  # fmt: skip
    milestones = [e for e in g1["extension"] if e["url"].endswith("goal-relationship")]
    assert len(milestones) == 2  # G1.1 and G1.2
    observations = [o for o in resources(bundle, "Observation") if o.get("focus")]
    assert len(observations) == sum(
        1 for g in plan.goals for e in g.progress if e.score is not None
    )
    assert {o["effectiveDateTime"] for o in observations} >= {"2026-08-03", "2026-10-26"}
    care_plan = resources(bundle, "CarePlan")[0]
    assert (care_plan["status"], care_plan["intent"]) == ("active", "plan")
    assert len(care_plan["addresses"]) == 2 and len(care_plan["goal"]) == len(goals)
    assert [a["detail"]["code"]["text"] for a in care_plan["activity"]] == [
        m.name for m in plan.methods
    ]
    assert care_plan["activity"][0]["detail"]["scheduledString"] == "weekly, 60 minutes"
    assert len(care_plan["note"]) == len(plan.progress_notes)


# Plan fields FHIR carries (the README's table): they come back from a round trip.
CARRIED = {
    "plan": ["id", "version", "status", "created", "effective", "review_by", "last_reviewed"],
    "client": ["name", "preferred_name", "date_of_birth", "phone", "email", "address",
               "emergency_contact", "coverage"],
    "provider": ["name", "credentials", "npi", "license", "phone"],
}  # fmt: skip


def _plain(value):
    return json.loads(json.dumps(value, default=str))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_export_then_import_gives_back_every_field_fhir_carries(sample):
    original = _plain(read_plan(sample).data)
    back, unmapped = fhir.import_plan(_plain(exported(sample)))
    assert unmapped == []
    for part, fields in CARRIED.items():
        for name in fields:
            want, got = original[part].get(name), back[part].get(name)
            if name == "npi" and want is not None:
                want = str(want)
            assert got == want, (part, name)
    assert back["diagnoses"] == original["diagnoses"]
    assert back["presenting_problem"] == original["presenting_problem"]  # client words too
    assert back["methods"] == original["methods"]  # client_description too
    for part in ("safety_plan", "medical_necessity", "signatures"):
        assert back.get(part) == original.get(part), part
    practice = original.get("practice")
    assert back.get("practice") == (practice and {"country": "US", **practice})  # its default
    assert back.get("progress_notes", []) == original.get("progress_notes", [])
    assert back["assessment"].get("baseline_measures", []) == original["assessment"].get(
        "baseline_measures", []
    )
    for want, got in zip(original["goals"], back["goals"], strict=True):
        for name in ("id", "term", "statement", "client_words", "target_date", "measure"):
            assert got.get(name) == want.get(name), (want["id"], name)
        assert got.get("status", "not-started") == want.get("status", "not-started")
        assert got.get("progress", []) == want.get("progress", [])
        for o_want, o_got in zip(want["objectives"], got["objectives"], strict=True):
            for name in ("id", "statement", "target_date", "methods", "client_statement"):
                assert o_got.get(name) == o_want.get(name), (o_want["id"], name)
            assert o_got.get("status", "not-started") == o_want.get("status", "not-started")


def test_an_imported_plan_names_what_fhir_does_not_carry_then_renders(tmp_path):
    runner = CliRunner()
    out = tmp_path / "fhir"
    assert runner.invoke(main, ["export-fhir", str(SAMPLES / "adult-ptsd.json"), "-o", str(out)])
    bundle = out / "TP-2026-0042-v2.fhir.json"
    assert bundle.stat().st_mode & 0o077 == 0
    plan = tmp_path / "plan.md"
    result = runner.invoke(main, ["import-fhir", str(bundle), "-o", str(plan)])
    assert result.exit_code == 0, result.output
    checked = runner.invoke(main, ["validate", str(plan), "--as-of", "2026-11-26", "--values"])
    assert checked.exit_code == 1
    assert "contract.summary: still to fill: the treatment contract" in checked.output
    assert "time_estimate.sessions: still to fill" in checked.output
    text = plan.read_text()
    for placeholder, value in [
        ("'FILL IN: the modality'", "Cognitive Processing Therapy"),
        ("'FILL IN: individual, couples, family or group'", "individual"),
        ("'FILL IN: number of sessions (FHIR does not carry it)'", "12"),
        ("'FILL IN: how often'", "weekly"),
        ("'FILL IN: over how many weeks'", "16"),
    ]:
        text = text.replace(placeholder, value)
    text = text.replace("FILL IN: ", "Written after import: ")  # the narrative sections
    plan.write_text(text)
    assert runner.invoke(main, ["validate", str(plan), "--as-of", "2026-11-26"]).exit_code == 0
    rendered = runner.invoke(main, ["render", str(plan), "-o", str(tmp_path / "docs")])
    assert rendered.exit_code == 0, rendered.output


def test_a_care_plan_with_its_resources_contained_is_read():
    bundle = exported(SAMPLES / "couple-relationship.json")
    care_plan = copy.deepcopy(resources(bundle, "CarePlan")[0])
    # A Provenance of the CarePlan (a signature) points at it from outside: not contained.
    contained = [copy.deepcopy(e["resource"]) for e in bundle["entry"]
                 if e["resource"]["resourceType"] not in ("CarePlan", "Provenance")]  # fmt: skip
    text = json.dumps({**care_plan, "contained": contained})
    for resource in contained:
        text = text.replace(f"urn:uuid:{resource['id']}", f"#{resource['id']}")
    plan, unmapped = fhir.import_plan(json.loads(text))
    assert unmapped == []
    assert plan["plan"]["id"] == "TP-2026-0219" and len(plan["goals"]) == 2
    assert plan["client"]["name"] == "Marisol Vega"


def _bundle_with(change) -> dict:
    bundle = copy.deepcopy(exported(SAMPLES / "adult-ptsd.json"))
    change(bundle)
    return bundle


def _goal(bundle):
    return resources(bundle, "Goal")[0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "not a FHIR resource"),
        ({"id": "x"}, "not a FHIR resource: no resourceType"),
        (_bundle_with(lambda b: _goal(b).update(continuous=True)), "Goal.continuous is FHIR R5"),
        (_bundle_with(lambda b: resources(b, "CarePlan")[0].pop("intent")),
         "is FHIR STU3 or earlier; plandoc reads R4"),
        (_bundle_with(lambda b: b["entry"].pop(0)), "is not in the file (dangling)"),
        (_bundle_with(lambda b: resources(b, "CarePlan")[0].update(status="unknown")),
         "CarePlan.status: 'unknown' has no plandoc status"),
        (_bundle_with(lambda b: b["entry"].append(
            {"fullUrl": "urn:uuid:second", "resource": {**resources(b, "CarePlan")[0], "id": "second"}})),
         "Bundle: 2 CarePlans"),
    ],
    ids=["list", "no type", "r5", "stu3", "dangling", "status", "two plans"],
)  # fmt: skip
def test_what_cannot_be_read_is_one_clear_error(data, message, tmp_path):
    with pytest.raises(fhir.FhirError) as raised:
        fhir.import_plan(data)
    assert message in shown(str(raised.value), values=True)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(data))
    out = str(tmp_path / "p.md")
    result = CliRunner().invoke(main, ["import-fhir", str(path), "-o", out, "--values"])
    assert result.exit_code == 1 and message.split(" (")[0] in result.output
    assert "Traceback" not in result.output and not (tmp_path / "p.md").exists()


def test_not_json_is_a_clear_error(tmp_path):
    path = tmp_path / "bundle.json"
    path.write_text("{not json")
    result = CliRunner().invoke(main, ["import-fhir", str(path)])
    assert result.exit_code == 1 and "not valid JSON" in result.output


def test_what_plandoc_does_not_map_is_listed_never_dropped(tmp_path):
    def add(bundle):
        bundle["entry"].append(
            {"fullUrl": "urn:uuid:enc-1", "resource": {"resourceType": "Encounter", "id": "enc-1",
             "status": "finished", "class": {"code": "AMB"}}}
        )  # fmt: skip
        resources(bundle, "CarePlan")[0]["careTeam"] = [{"display": "Team A"}]
        _goal(bundle)["priority"] = {"text": "high"}

    _, marked = fhir.import_plan(_bundle_with(add))
    unmapped = [shown(line, values=True) for line in marked]
    assert "Encounter/enc-1: not read (no part of the care plan refers to it)" in unmapped
    assert "CarePlan.careTeam: not mapped (plandoc's plan has no care team)" in unmapped
    assert any(
        line.endswith(".priority: not mapped (plandoc's goals have no priority)")
        for line in unmapped
    )
    path = tmp_path / "b.json"
    path.write_text(json.dumps(_bundle_with(add)))
    result = CliRunner().invoke(main, ["import-fhir", str(path), "-o", str(tmp_path / "p.json"),
                                       "--format", "json"])  # fmt: skip
    assert result.exit_code == 0 and "import: CarePlan.careTeam: not mapped" in result.output


def test_export_refuses_a_plan_with_errors(tmp_path, plan_data, write_plan):
    plan_data["diagnoses"][0]["code"] = "bad"
    result = CliRunner().invoke(main, ["export-fhir", str(write_plan(plan_data)), "-o",
                                       str(tmp_path / "f")])  # fmt: skip
    assert result.exit_code == 1 and "not an ICD-10-CM code" in result.output
    assert not (tmp_path / "f").exists() or not list((tmp_path / "f").iterdir())


LONE_CARE_PLAN = {  # a CarePlan on its own, as EHRs and the FHIR examples often give one
    "resourceType": "CarePlan",
    "id": "weight-1",
    "contained": [
        {"resourceType": "Condition", "id": "p1", "code": {"text": "Obesity"}},
        {"resourceType": "Goal", "id": "goal", "lifecycleStatus": "active",
         "description": {"text": "Reach a weight of 75 kg."},
         "subject": {"reference": "Patient/elsewhere"}},
    ],
    "status": "active",
    "intent": "plan",
    "subject": {"reference": "Patient/elsewhere", "display": "Test Person"},
    "addresses": [{"reference": "#p1"}],
    "goal": [{"reference": "#goal"}],
    "activity": [{"detail": {"kind": "Observation", "code": {"text": "Daily weighing"},
                             "status": "in-progress", "scheduledString": "daily"}}],
}  # fmt: skip


def test_a_lone_care_plan_may_refer_outside_itself_by_display(tmp_path):
    plan, marked = fhir.import_plan(copy.deepcopy(LONE_CARE_PLAN))
    unmapped = [shown(line, values=True) for line in marked]
    assert plan["client"]["name"] == "Test Person"
    assert plan["goals"][0]["statement"] == "Reach a weight of 75 kg."
    assert plan["methods"][0]["name"] == "Daily weighing"
    assert plan["diagnoses"][0]["description"] == "Obesity"
    assert (
        "CarePlan.subject: Patient/elsewhere is outside the file; its display stands in" in unmapped
    )
    assert "Condition/p1.code: no ICD-10-CM coding (Obesity)" in unmapped
    assert any(
        line.startswith("CarePlan.activity[0].detail.kind: not mapped (") for line in unmapped
    )
    no_display = copy.deepcopy(LONE_CARE_PLAN)
    del no_display["subject"]["display"]
    plan, marked = fhir.import_plan(no_display)  # a placeholder stands in, and it is listed
    assert plan["client"]["name"].startswith("FILL IN")
    assert (
        "CarePlan.subject: Patient/elsewhere is outside the file, with no display; placeholders "
        "stand in" in [shown(line, values=True) for line in marked]
    )
    path, out = tmp_path / "cp.json", tmp_path / "cp.md"
    path.write_text(json.dumps(LONE_CARE_PLAN))
    assert CliRunner().invoke(main, ["import-fhir", str(path), "-o", str(out)]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", str(out)])
    assert result.exit_code == 1 and "diagnoses[0].code: still to fill" in result.output


def test_a_clinics_own_measure_comes_back_by_its_loinc_code(tmp_path, monkeypatch, plan_data):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "measures.toml").write_text(
        '[WEMWBS]\ntitle = "Warwick-Edinburgh Mental Wellbeing Scale"\nmin = 14\nmax = 70\n'
        'lower_is_better = false\nmeaningful_change = 3\nloinc = "99999-9"\n'
    )
    (tmp_path / "plandoc.toml").write_text('instruments = "measures.toml"\n')
    plan_data["goals"][0]["measure"] = {"instrument": "WEMWBS", "baseline": 30, "target": 50}
    plan_data["goals"][0]["progress"] = [{"date": "2026-09-01", "score": 36}]
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    runner = CliRunner()
    exported = runner.invoke(
        main, ["export-fhir", "plan.json", "-o", "fhir", "--as-of", "2026-11-26"]
    )
    assert exported.exit_code == 0, exported.output
    (bundle,) = (tmp_path / "fhir").iterdir()
    assert '"code": "99999-9"' in bundle.read_text()
    imported = runner.invoke(
        main, ["import-fhir", str(bundle), "-o", "back.json", "--format", "json"]
    )
    assert imported.exit_code == 0, imported.output
    back = json.loads((tmp_path / "back.json").read_text())
    assert back["goals"][0]["measure"]["instrument"] == "WEMWBS"
    # Without the clinic's measures, the code names nothing: a placeholder to fill, not a guess.
    plain, _ = fhir.import_plan(json.loads(bundle.read_text()))
    assert plain["goals"][0]["measure"]["instrument"].startswith("FILL IN")


# --- stricter than the models: R4's cardinality, bindings and FHIRPath invariants ----------


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_export_passes_r4s_bindings_cardinality_and_invariants(sample):
    assert validation.problems(exported(sample)) == []


def _care_plan_of(bundle):
    return resources(bundle, "CarePlan")[0]


STRICTER = [  # (what is changed, the problem named, whether the R4B models let it through)
    (lambda b: _care_plan_of(b).update(status="bogus"), "is not a code of its required binding", True),
    (lambda b: _care_plan_of(b)["activity"][0].update(reference={"display": "x"}), "fails cpl-3", True),
    (lambda b: resources(b, "Goal")[0]["target"][0].pop("measure"), "fails gol-1", True),
    (lambda b: resources(b, "Goal")[0]["target"][0]["measure"]["coding"][0].update(code="101698-8"),
     "is not a LOINC code", True),
    (lambda b: resources(b, "Practitioner")[0]["identifier"][0].update(value="1234567890"),
     "is not a valid NPI", True),
    (lambda b: resources(b, "Condition")[0].update(abatementDateTime="2026-01-01"), "fails con-4", True),
    (lambda b: resources(b, "Observation")[0].update(dataAbsentReason={"text": "x"}), "fails obs-6", True),
    (lambda b: resources(b, "Condition")[0].update(subject={"reference": b["entry"][1]["fullUrl"]}),
     "is not a Group or Patient", True),
    (lambda b: b["entry"][1].update(fullUrl=b["entry"][0]["fullUrl"]), "fails bdl-7", True),
    (lambda b: b["entry"][0].update(search={"mode": "match"}), "fails bdl-2", True),
    (lambda b: _care_plan_of(b).update(period={"start": "2026-05-01", "end": "2026-01-01"}),
     "per-1", True),
    (lambda b: _care_plan_of(b)["extension"][0].update(valueString="x"), "fails ext-1", False),
]  # fmt: skip


@pytest.mark.parametrize(("change", "message", "models_pass"), STRICTER)
def test_the_strict_checks_name_what_the_models_let_through(change, message, models_pass):
    bundle = copy.deepcopy(exported(SAMPLES / "adult-ptsd.json"))
    change(bundle)
    assert any(message in line for line in validation.problems(bundle)), message
    if models_pass:
        Bundle.model_validate(bundle)  # the models alone do not see it
