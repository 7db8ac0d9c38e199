"""`import-fhir` on files it did not write: any JSON gives a plan or one line per problem.

Never a traceback, never a value of the file in a log, a pipe or a file
(CliRunner's output is not a terminal, so values read "[value hidden]").
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.interop import fhir
from plandoc.model.instruments import built_in_registry
from plandoc.planfile import new as new_plan
from plandoc.problems import HIDDEN_VALUE, shown

from .conftest import SAMPLES
from .test_fhir import LONE_CARE_PLAN, SAMPLE_FILES

PROPERTY = settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "40")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LINE = re.compile(r"^\S.*?:(\d+:)? .+")  # FILE:LINE: message, FILE: message, plandoc: ...
SECRET = "zqsecret"  # in the file's values and keys; must never reach a pipe


def _export(sample: Path) -> dict:
    checked = check_file(sample)
    assert checked.plan is not None
    return json.loads(json.dumps(fhir.export_bundle(checked.plan, built_in_registry())))


BUNDLES = {sample.name: _export(sample) for sample in SAMPLE_FILES}


def _bundle() -> dict:
    return copy.deepcopy(BUNDLES["adult-ptsd.json"])


def _care_plan(bundle: dict) -> dict:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"
    )


def _of_kind(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _import(tmp_path: Path, content: bytes | str | object, *options: str):
    path = tmp_path / "bundle.json"
    if isinstance(content, str):
        content = content.encode("utf-8")
    elif not isinstance(content, bytes):
        content = json.dumps(content).encode("utf-8")
    path.write_bytes(content)
    out = tmp_path / "plan.md"
    return CliRunner().invoke(main, ["import-fhir", str(path), "-o", str(out), "--force", *options])


def _assert_one_line_each(result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)  # 2: not a care plan
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for line in result.output.splitlines():
        assert LINE.match(line), line


def _assert_imports_or_refuses(data: object) -> None:
    """The library: a plan that can be written, or FhirError; every line one line."""
    try:
        plan, unmapped = fhir.import_plan(data)
    except fhir.FhirError as error:
        lines = error.problems
        assert lines and str(error)
    else:
        lines = unmapped
        new_plan.as_markdown(plan).encode("utf-8")
        new_plan.as_json(plan).encode("utf-8")
    for line in lines:
        assert "\n" not in shown(line, values=True) and "\r" not in shown(line, values=True)


# --- the examples of the issue ----------------------------------------------------------


def _with(change):
    bundle = _bundle()
    change(bundle)
    return bundle


def _lone(change):
    care_plan = copy.deepcopy(LONE_CARE_PLAN)
    change(care_plan)
    return care_plan


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resourceType": "Bundle", "entry": 5},
         "Bundle.entry: must be a list (found a whole number)"),
        (_lone(lambda c: c.update(contained=[5])),
         "CarePlan.contained[0]: must be an object (found a whole number)"),
        (_with(lambda b: _care_plan(b)["subject"].update(reference=["urn:uuid:x"])),
         "CarePlan.subject.reference: must be text (found a list)"),
        (_with(lambda b: _care_plan(b).update(subject=[_care_plan(b)["subject"]])),
         "CarePlan.subject: must be an object (found a list)"),
        (_with(lambda b: _care_plan(b).update(note=[{"text": 5}])),
         "CarePlan.note[0].text: must be text (found a whole number)"),
        (_with(lambda b: _of_kind(b, "Observation")[0].update(note=[{"text": 5}])),
         ".note[0].text: must be text (found a whole number)"),
        (_with(lambda b: b["entry"].append(5)), "must be an object (found a whole number)"),
        (_with(lambda b: _care_plan(b).update(goal={"reference": "x"})),
         "CarePlan.goal: must be a list (found an object)"),
        (_with(lambda b: _of_kind(b, "Goal")[0].update(target=[{"measure": "PHQ-9"}])),
         ".target[0].measure: must be an object (found text)"),
    ],
    ids=["entry is a number", "contained holds a number", "reference is a list",
         "subject is a list", "note text is a number", "observation note text is a number",
         "entry holds a number", "goal is one object", "measure is text"],
)  # fmt: skip
def test_a_value_of_the_wrong_json_type_is_one_clear_line(data, message, tmp_path):
    with pytest.raises(fhir.FhirError) as raised:
        fhir.import_plan(copy.deepcopy(data))
    assert any(message in line for line in raised.value.problems), raised.value.problems
    result = _import(tmp_path, data)
    assert result.exit_code == 1 and message in result.output, result.output
    _assert_one_line_each(result)
    assert not (tmp_path / "plan.md").exists()


def test_nesting_a_hundred_thousand_deep_is_one_line(tmp_path):
    result = _import(tmp_path, "[" * 100_000 + "]" * 100_000)
    assert result.exit_code == 1
    assert f"nested more than {fhir.MAX_DEPTH} deep" in result.output
    _assert_one_line_each(result)
    unbalanced = _import(tmp_path, '{"a":' + "[" * 100_000 + "}")  # never balanced
    assert unbalanced.exit_code == 1 and "Traceback" not in unbalanced.output
    _assert_one_line_each(unbalanced)


def _nested(depth: int) -> str:
    """A CarePlan-less Bundle whose `entry` list holds lists `depth` deep in all."""
    return '{"resourceType": "Bundle", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_the_nesting_limit_is_exact_and_brackets_inside_text_do_not_count(tmp_path):
    at_limit = _import(tmp_path, _nested(fhir.MAX_DEPTH))
    assert "0 CarePlans" in at_limit.output  # read, then found wanting
    past = _import(tmp_path, _nested(fhir.MAX_DEPTH + 1))
    assert past.exit_code == 1 and "nested more than 64 deep" in past.output
    bundle = _bundle()
    _care_plan(bundle)["description"] = "[{" * 100_000 + '"\\"'  # text: brackets, a quote
    result = _import(tmp_path, bundle, "--format", "json")
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "plan.md").read_text("utf-8"))
    assert written["presenting_problem"]["text"] == _care_plan(bundle)["description"]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.json"
    with path.open("wb") as stream:  # sparse: NUL bytes, which would not be read as JSON
        stream.truncate(fhir.MAX_BUNDLE_BYTES + 1)
    result = CliRunner().invoke(main, ["import-fhir", str(path), "-o", str(tmp_path / "p.md")])
    assert result.exit_code == 1
    assert "file is larger than 8 MiB (docs: Limits)" in result.output
    _assert_one_line_each(result)
    if Path("/dev/zero").exists():  # a device: never read at all
        with pytest.raises(fhir.FhirError, match="is not a file"):
            fhir.read_bundle(Path("/dev/zero"))


def test_a_bundle_at_the_size_limit_imports(tmp_path):
    text = json.dumps(_bundle())
    padded = text[:-1] + " " * (fhir.MAX_BUNDLE_BYTES - len(text.encode())) + "}"
    assert len(padded.encode()) == fhir.MAX_BUNDLE_BYTES
    result = _import(tmp_path, padded)
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xef\xbb\xbf" + json.dumps(BUNDLES["adult-ptsd.json"]).encode(), None),  # BOM
        (b'{"resourceType": "Bundle", "entry": ["\xff\xfe"]}', "not UTF-8 text"),
        (json.dumps(BUNDLES["adult-ptsd.json"]).encode("utf-16"), "not UTF-8 text"),
        (b'{"resourceType": "Bundle", "entry": [NaN]}', "NaN is not a JSON number"),
        (b'{"resourceType": "Bundle", "entry": [-Infinity]}', "-Infinity is not a JSON number"),
        (b'{"resourceType": "Bundle", "entry": [' + b"9" * 5000 + b"]}", "a number too long"),
        (b'{"resourceType": "Bundle", "entry": [], "entry": [5]}', "twice"),
        (b'{"resourceType": "Bundle", "entry": [}', "not valid JSON"),
        (b"", "not valid JSON"),
        (b"null", "not a FHIR resource (the file holds null)"),
        (b'"Bundle"', "not a FHIR resource (the file holds text)"),
        (b'{"resourceType": null}', "no resourceType"),
        (b'{"resourceType": ["Bundle"]}', "resourceType: must be text (found a list)"),
    ],
    ids=["BOM", "not UTF-8", "UTF-16", "NaN", "Infinity", "huge integer", "key twice",
         "broken", "empty", "null", "text", "null type", "type is a list"],
)  # fmt: skip
def test_what_is_not_fhir_json_is_one_line(content, message, tmp_path):
    result = _import(tmp_path, content)
    _assert_one_line_each(result)
    if message is None:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code == 1 and message in result.output, result.output


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda b: _of_kind(b, "Goal")[0]["target"][0]["detailQuantity"].update(value=1e308),
         "detailQuantity.value: must be a number below 10^15"),
        (lambda b: _of_kind(b, "Observation")[0].update(valueInteger=2**40),
         "valueInteger: must be a whole number that fits FHIR's 32 bits"),
        (lambda b: _of_kind(b, "Observation")[0].update(valueInteger="12"),
         "valueInteger: must be a whole number (found text)"),
        (lambda b: _of_kind(b, "Observation")[0].update(valueInteger=True),
         "valueInteger: must be a whole number (found true or false)"),
        (lambda b: _care_plan(b).update(description="a\ud800b"), "holds a lone surrogate"),
        (lambda b: b["entry"].append(copy.deepcopy(b["entry"][0])), "is also the fullUrl of"),
    ],
    ids=["huge decimal", "integer past 32 bits", "number as text", "boolean as number",
         "lone surrogate", "fullUrl twice"],
)  # fmt: skip
def test_values_plandoc_cannot_carry_are_refused(change, message, tmp_path):
    bundle = _bundle()
    change(bundle)
    result = _import(tmp_path, json.dumps(bundle))
    assert result.exit_code == 1 and message in result.output, result.output
    _assert_one_line_each(result)


def test_every_problem_of_a_file_is_listed_at_once_and_nothing_is_written(tmp_path):
    bundle = _bundle()
    _care_plan(bundle).update(status="zqsecret", note=[{"text": 5}], created=20260101)
    _of_kind(bundle, "Goal")[0]["target"] = {"dueDate": "2027-01-01"}
    result = _import(tmp_path, bundle)
    assert result.exit_code == 1
    assert [line.split(": ", 1)[1] for line in result.output.splitlines()[:4]] == [
        f"CarePlan.status: {HIDDEN_VALUE} has no plandoc status",
        "CarePlan.created: must be text (found a whole number)",
        "Bundle.entry[5].resource.target: must be a list (found an object)",  # the first Goal
        "CarePlan.note[0].text: must be text (found a whole number)",
    ]
    assert SECRET not in result.output and not (tmp_path / "plan.md").exists()
    with pytest.raises(fhir.FhirError) as raised:  # a flood of problems: the first ones, counted
        fhir.import_plan({"resourceType": "Bundle", "entry": list(range(500))})
    assert len(raised.value.problems) == fhir.MOST_PROBLEMS + 1
    assert raised.value.problems[-1] == f"and {501 - fhir.MOST_PROBLEMS} more problems"
    with pytest.raises(fhir.FhirError) as raised:  # a flood past STOP_AFTER: reading stops
        fhir.import_plan({"resourceType": "Bundle", "entry": [{}] * 100_000})
    assert raised.value.problems[-1] == (
        f"and {fhir.STOP_AFTER - fhir.MOST_PROBLEMS} more problems (reading stopped there)"
    )


def test_an_unexpected_error_of_ours_is_one_line_without_values(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError(SECRET)

    import plandoc.interop.fhir.importing

    monkeypatch.setattr(plandoc.interop.fhir.importing, "import_plan", broken)
    result = _import(tmp_path, _bundle(), "--values")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path / 'bundle.json'}: internal error while importing (RuntimeError); "
        "please report it"
    ]


# --- values of the file never reach a log, a pipe or a file --------------------------


def test_a_hostile_resource_type_never_reaches_a_pipe_unmarked(tmp_path):
    forged = "Patient\nplandoc: error: zqsecret forged line"
    result = _import(tmp_path, {"resourceType": forged})
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].endswith(f": {HIDDEN_VALUE}: plandoc reads a Bundle or a CarePlan")
    assert SECRET not in result.output and "forged" not in result.output
    _assert_one_line_each(result)
    shown_ = _import(tmp_path, {"resourceType": forged}, "--values")
    assert shown_.output.splitlines()[0].endswith(
        ": Patient\\nplandoc: error: zqsecret forged line: plandoc reads a Bundle or a CarePlan"
    )
    assert len(shown_.output.splitlines()) == 1


def test_names_and_ids_from_the_file_in_not_mapped_lines_are_values(tmp_path):
    bundle = _bundle()
    care_plan = _care_plan(bundle)
    care_plan["zqsecret\nforged: key"] = 1
    care_plan["careTeam"] = [{"display": "Team A"}]
    care_plan["activity"][0]["detail"]["zqsecretDetail"] = True
    bundle["entry"].append({"fullUrl": "urn:uuid:zq", "resource": {
        "resourceType": "Zqsecret\nType", "id": "zqsecret-id"}})  # fmt: skip
    condition = _of_kind(bundle, "Condition")[0]
    condition["id"] = "zqsecret-condition"
    condition["code"]["coding"] = []
    result = _import(tmp_path, bundle)
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and "forged" not in result.output
    assert f"import: CarePlan.{HIDDEN_VALUE}: not mapped" in result.output
    assert "import: CarePlan.careTeam: not mapped" in result.output  # FHIR's own name
    assert f"import: {HIDDEN_VALUE}/{HIDDEN_VALUE}: not read" in result.output
    assert f"Condition/{HIDDEN_VALUE}.code: no ICD-10-CM coding" in result.output
    _assert_one_line_each(result)
    shown_ = _import(tmp_path, bundle, "--values")
    assert "CarePlan.zqsecret\\nforged: key: not mapped" in shown_.output
    _assert_one_line_each(shown_)


# --- structures that are JSON but not sense ---------------------------------------------


def _milestone(goal: dict, target: str, code: str = "milestone") -> None:
    goal.setdefault("extension", []).append({"url": fhir.GOAL_RELATIONSHIP, "extension": [
        {"url": "type", "valueCodeableConcept": {"coding": [{"code": code}]}},
        {"url": "target", "valueReference": {"reference": target}},
    ]})  # fmt: skip


def test_goals_in_a_cycle_or_under_a_milestone_are_listed_never_dropped():
    bundle = _bundle()
    goal, first, second = _of_kind(bundle, "Goal")[:3]  # G1, G1.1, G1.2
    goal["extension"] = [e for e in goal["extension"] if second["id"] not in json.dumps(e)]
    _milestone(first, f"urn:uuid:{second['id']}")  # G1.2 now a milestone of G1.1 only
    _milestone(first, f"urn:uuid:{first['id']}")  # and G1.1 a milestone of itself
    plan, marked = fhir.import_plan(bundle)
    unmapped = [shown(line, values=True) for line in marked]
    assert [o["id"] for o in plan["goals"][0]["objectives"]] == ["G1.1"]
    assert (
        f"Goal/{second['id']}: a milestone of a milestone (or in a cycle of them); plandoc has "
        "goals and their objectives only, not mapped"
    ) in unmapped
    assert any(line.endswith(f"Goal/{first['id']} is a milestone of an earlier goal already")
               for line in unmapped)  # fmt: skip
    cycle = _bundle()
    goal, first = _of_kind(cycle, "Goal")[:2]
    _milestone(first, f"urn:uuid:{goal['id']}")  # G1 <-> G1.1
    plan, marked = fhir.import_plan(cycle)
    assert "G1" not in [g["id"] for g in plan["goals"]]
    unmapped = [shown(line, values=True) for line in marked]
    assert any(
        line.startswith(f"Goal/{goal['id']}: a milestone of a milestone") for line in unmapped
    )


def test_a_relationship_other_than_milestone_is_listed_not_taken_for_one():
    bundle = _bundle()
    goals = _of_kind(bundle, "Goal")
    _milestone(goals[0], f"urn:uuid:{goals[-1]['id']}", code="predecessor")
    plan, marked = fhir.import_plan(bundle)
    assert any("a goal relationship other than milestone" in line for line in marked)
    assert len(plan["goals"]) == len(check_file(SAMPLES / "adult-ptsd.json").plan.goals)


def test_one_id_for_two_resources_is_refused_when_it_is_used():
    bundle = _bundle()
    patient = _of_kind(bundle, "Patient")[0]
    twin = {"fullUrl": "urn:uuid:twin", "resource": {**patient, "name": [{"text": "Other"}]}}
    bundle["entry"].append(twin)
    fhir.import_plan(copy.deepcopy(bundle))  # the care plan names its patient by fullUrl
    _care_plan(bundle)["subject"] = {"reference": f"Patient/{patient['id']}"}
    with pytest.raises(fhir.FhirError, match="names two resources"):
        fhir.import_plan(bundle)
    lone = copy.deepcopy(LONE_CARE_PLAN)
    lone["contained"].append(copy.deepcopy(lone["contained"][1]))
    with pytest.raises(fhir.FhirError, match="is the id of two contained resources"):
        fhir.import_plan(lone)


def test_a_reference_to_itself_or_to_the_wrong_kind_is_one_line():
    bundle = _bundle()
    care_plan = _care_plan(bundle)
    care_plan["subject"] = {"reference": f"CarePlan/{care_plan['id']}"}
    with pytest.raises(fhir.FhirError) as raised:
        fhir.import_plan(bundle)
    assert [shown(p, values=True) for p in raised.value.problems] == [
        f"CarePlan.subject: CarePlan/{care_plan['id']} is a CarePlan, not a Patient"
    ]


def test_contained_inside_contained_is_listed():
    lone = copy.deepcopy(LONE_CARE_PLAN)
    lone["contained"][1]["contained"] = [{"resourceType": "Goal", "id": "inner"}]
    _, marked = fhir.import_plan(lone)
    assert (
        "Goal/goal.contained: not mapped (FHIR allows no resources contained in a contained one)"
        in [shown(line, values=True) for line in marked]
    )


# --- properties -------------------------------------------------------------------------

FHIR_KEYS = [
    "resourceType", "id", "entry", "resource", "fullUrl", "contained", "reference", "display",
    "note", "text", "goal", "activity", "detail", "subject", "author", "code", "coding",
    "system", "target", "period", "start", "status", "intent", "addresses", "supportingInfo",
    "extension", "url", "valueReference", "valueString", "valueInteger", "valueQuantity",
    "value", "identifier", "name", "telecom", "category", "description", "measure",
    "detailQuantity", "dueDate", "outcomeReference", "lifecycleStatus", "achievementStatus",
    "effectiveDateTime", "beneficiary", "payor", "class", "qualification", "given", "family",
    "scheduledString", "performer", "birthDate", "created", "time", "address", "contact",
]  # fmt: skip
KINDS = ["Bundle", "CarePlan", "Patient", "Practitioner", "Goal", "Observation", "Condition",
         "Coverage", "Encounter"]  # fmt: skip
WORDS = ["active", "plan", "completed", "#goal", "#p1", "Patient/p", "urn:uuid:a",
         fhir.GOAL_RELATIONSHIP, f"{fhir.EXT}method-id", fhir.ICD10CM, fhir.LOINC,
         "weekly, 60 minutes", "2026-01-01", "milestone", "{score}"]  # fmt: skip
KEY = st.sampled_from(FHIR_KEYS) | st.text(max_size=6).map(lambda t: SECRET + t)
LEAF = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(KINDS + WORDS) | st.text(max_size=8).map(lambda t: SECRET + t)
)  # fmt: skip


def _resource_like(children):
    return st.builds(lambda kind, rest: {**rest, "resourceType": kind},
                     st.sampled_from(KINDS), st.dictionaries(KEY, children, max_size=6))  # fmt: skip


JSON = st.recursive(
    LEAF,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(KEY, children, max_size=6)
        | _resource_like(children)
    ),
    max_leaves=40,
)
TREES = _resource_like(JSON) | JSON


@PROPERTY
@given(data=TREES)
def test_any_json_tree_gives_a_plan_or_one_line_per_problem(data, tmp_path):
    _assert_imports_or_refuses(copy.deepcopy(data))
    result = _import(tmp_path, data)
    _assert_one_line_each(result)
    assert SECRET not in result.output, result.output


def _paths(node, here=()):
    """Every node's path in a JSON tree (the root's is ()), without recursion."""
    found, todo = [], [(here, node)]
    while todo:
        path, value = todo.pop()
        found.append(path)
        items = value.items() if isinstance(value, dict) else enumerate(value) \
            if isinstance(value, list) else ()  # fmt: skip
        todo += [((*path, key), child) for key, child in items]
    return sorted(found, key=lambda p: [str(part) for part in p])


PATHS = {name: _paths(bundle) for name, bundle in BUNDLES.items()}


@PROPERTY
@given(
    sample=st.sampled_from(sorted(BUNDLES)),
    where=st.integers(min_value=0),
    value=st.just("delete") | JSON,
)
def test_a_valid_bundle_with_any_one_node_changed_gives_a_plan_or_one_line_each(
    sample, where, value, tmp_path
):
    bundle = copy.deepcopy(BUNDLES[sample])
    path = PATHS[sample][where % len(PATHS[sample])]
    if not path:
        bundle = value
    else:
        parent = bundle
        for part in path[:-1]:
            parent = parent[part]
        if value == "delete":
            del parent[path[-1]]
        else:
            parent[path[-1]] = value
    _assert_imports_or_refuses(copy.deepcopy(bundle))
    result = _import(tmp_path, bundle)
    _assert_one_line_each(result)


def test_the_limits_page_states_the_import_limits():
    section = (Path(__file__).parents[1] / "docs" / "limits.md").read_text("utf-8")
    assert f"{fhir.MAX_BUNDLE_BYTES // 1024 // 1024} MiB" in section
    assert f"{fhir.MAX_DEPTH} levels" in section
