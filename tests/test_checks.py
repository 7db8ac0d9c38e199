"""Every check: a plan that breaks it (with the message) and the valid plan that passes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from plandoc.checks.file import check_file
from plandoc.checks.plan_checks import npi_is_valid
from plandoc.problems import Severity, shown

Plan = dict[str, Any]


def _set(path: str, value: Any) -> Callable[[Plan], None]:
    def change(plan: Plan) -> None:
        *parents, last = path.split(".")
        target: Any = plan
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        if value is _DELETE:
            del target[int(last) if last.isdigit() else last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()

ERRORS = [
    # required sections and fields
    ("missing section", _set("assessment", _DELETE), "assessment", "missing (required)"),
    ("missing goals", _set("goals", _DELETE), "goals", "missing (required)"),
    ("empty goals", _set("goals", []), "goals", "needs at least 1"),
    ("missing methods", _set("methods", _DELETE), "methods", "missing (required)"),
    ("missing time estimate", _set("time_estimate", _DELETE), "time_estimate", "missing"),
    ("missing history", _set("assessment.history", _DELETE), "assessment.history", "missing"),
    (
        "missing presenting problem",
        _set("presenting_problem", _DELETE),
        "presenting_problem",
        "missing",
    ),
    ("no diagnoses", _set("diagnoses", []), "diagnoses", "needs at least 1"),
    (
        "goal without objectives",
        _set("goals.0.objectives", []),
        "goals[0].objectives",
        "needs at least 1",
    ),
    ("format version", _set("plandoc", 2), "plandoc", "must be one of: 1"),
    # types and enumerations
    (
        "wrong type",
        _set("time_estimate.sessions", "many"),
        "time_estimate.sessions",
        "whole number",
    ),
    ("bad status", _set("plan.status", "open"), "plan.status", "must be one of"),
    ("bad date", _set("plan.created", "03/08/2026"), "plan.created", "YYYY-MM-DD"),
    (
        "impossible date",
        _set("plan.created", "2026-02-30"),
        "plan.created",
        "not a real calendar date",
    ),
    ("empty text", _set("assessment.history", "  "), "assessment.history", "must not be empty"),
    # unknown keys (x- keys are allowed)
    ("unknown key", _set("client.nmae", "x"), "client.nmae", "did you mean 'name'"),
    ("unknown top key", _set("goalz", []), "goalz", "unknown key"),
    # ids and references
    ("duplicate goal id", _set("goals.1.id", "G1"), "goals[1].id", "used more than once"),
    (
        "duplicate objective id",
        _set("goals.0.objectives.1.id", "G1.1"),
        "goals[0].objectives[1].id",
        "more than once",
    ),
    ("duplicate method id", _set("methods.1.id", "M1"), "methods[1].id", "more than once"),
    (
        "unknown method",
        _set("goals.0.objectives.0.methods", ["M3"]),
        "goals[0].objectives[0].methods[0]",
        "no method has id 'M3'",
    ),
    # diagnoses
    (
        "two primaries",
        _set("diagnoses.1.primary", True),
        "diagnoses",
        "exactly one diagnosis must be primary (found 2)",
    ),
    ("no primary", _set("diagnoses.0.primary", False), "diagnoses", "(found 0)"),
    (
        "ICD-10 shape",
        _set("diagnoses.0.code", "309.81"),
        "diagnoses[0].code",
        "not an ICD-10-CM code",
    ),
    (
        "ICD-10 without dot",
        _set("diagnoses.0.code", "F4310"),
        "diagnoses[0].code",
        "write it with a dot: F43.10",
    ),
    (
        "duplicate diagnosis",
        _set("diagnoses.1.code", "F43.10"),
        "diagnoses[1].code",
        "listed twice",
    ),
    # NPI
    ("NPI check digit", _set("provider.npi", "1234567890"), "provider.npi", "check digit"),
    ("NPI length", _set("provider.npi", "12345"), "provider.npi", "exactly 10 digits"),
    # dates in order
    (
        "review before effective",
        _set("plan.review_by", "2026-08-01"),
        "plan.review_by",
        "after plan.effective",
    ),
    (
        "goal target before effective",
        _set("goals.0.target_date", "2026-07-01"),
        "goals[0].target_date",
        "before plan.effective",
    ),
    (
        "objective target before effective",
        _set("goals.0.objectives.0.target_date", "2026-01-01"),
        "goals[0].objectives[0].target_date",
        "before plan.effective",
    ),
    (
        "reviewed before effective",
        _set("plan.last_reviewed", "2026-08-01"),
        "plan.last_reviewed",
        "before plan.effective",
    ),
    (
        "born after effective",
        _set("client.date_of_birth", "2026-09-01"),
        "client.date_of_birth",
        "before plan.effective",
    ),
    # measurable goals and score ranges
    (
        "unmeasurable goal",
        _set("goals.0.measure", {"note": "feel better"}),
        "goals[0].measure",
        "must be measurable",
    ),
    (
        "behaviour without unit",
        _set("goals.1.measure.unit", _DELETE),
        "goals[1].measure.unit",
        "missing",
    ),
    (
        "target out of range",
        _set("goals.0.measure.target", 81),
        "goals[0].measure.target",
        "outside the PCL-5 range (0 to 80)",
    ),
    (
        "progress out of range",
        _set("goals.0.progress.1.score", 90),
        "goals[0].progress[1].score",
        "outside the PCL-5 range",
    ),
    (
        "baseline measure out of range",
        _set("assessment.baseline_measures.1.score", 28),
        "assessment.baseline_measures[1].score",
        "PHQ-9 range (0 to 27)",
    ),
    (
        "negative count",
        _set("goals.1.measure.baseline", -1),
        "goals[1].measure.baseline",
        "out of bounds: a count is from 0 to 100,000",
    ),
    # contract, services, signatures, plan id
    (
        "agreement without date",
        _set("contract.client_agreement", {"agreed": True}),
        "contract.client_agreement.date",
        "missing",
    ),
    (
        "declined without reason",
        _set("contract.client_agreement", {"agreed": False}),
        "contract.client_agreement.declined_reason",
        "missing",
    ),
    ("CPT shape", _set("services.0.cpt", "9083"), "services[0].cpt", "5 characters"),
    (
        "unsigned signature",
        _set("signatures.0.date", _DELETE),
        "signatures[0]",
        "date it was signed, or a declined_reason",
    ),
    ("plan id path", _set("plan.id", "../etc/passwd"), "plan.id", "becomes the output file name"),
    ("plan id reserved", _set("plan.id", "CON"), "plan.id", "reserved file name"),
    ("plan id too long", _set("plan.id", "A" * 65), "plan.id", "1 to 64"),
    ("language tag", _set("plan.language", "english please"), "plan.language", "BCP 47"),
    ("no review date", _set("plan.review_by", _DELETE), None, None),  # standard computes it
    # measures and progress
    (
        "unknown instrument",
        _set("goals.0.measure.instrument", "PCL5"),
        "goals[0].measure.instrument",
        "did you mean PCL-5?",
    ),
    (
        "unknown baseline instrument",
        _set("assessment.baseline_measures.0.instrument", "PHQ9"),
        "assessment.baseline_measures[0].instrument",
        "did you mean PHQ-9?",
    ),
    (
        "progress score out of range",
        _set("goals.0.progress.1.score", 81),
        "goals[0].progress[1].score",
        "outside the PCL-5 range (0 to 80)",
    ),
    (
        "progress before the plan",
        _set("goals.0.progress.0.date", "2026-07-01"),
        "goals[0].progress[0].date",
        "before the plan was created (2026-08-03)",
    ),
]

WARNINGS = [
    (
        "goal without client words",
        _set("goals.0.client_words", _DELETE),
        "goals[0].client_words",
        "client's own words",
    ),
    (
        "objective after its goal",
        _set("goals.1.objectives.1.target_date", "2027-01-20"),
        "goals[1].objectives[1].target_date",
        "after its goal's target date",
    ),
    (
        "target equals baseline",
        _set("goals.1.measure.target", 0),
        "goals[1].measure.target",
        "equals the baseline",
    ),
    (
        "target in the wrong direction",
        _set("goals.0.measure.target", 60),
        "goals[0].measure.target",
        "lower is better",
    ),
    (
        "unused method",
        lambda plan: [_set(f"goals.1.objectives.{i}.methods", ["M1"])(plan) for i in (0, 1)],
        "methods[1]",
        "used by no objective",
    ),
    (
        "no responsibilities",
        _set("contract.responsibilities", _DELETE),
        "contract.responsibilities",
        "who does what",
    ),
    (
        "minor without guardian",
        _set("client.date_of_birth", "2012-01-01"),
        "signatures",
        "guardian signature",
    ),
]


def _problems(write_plan, plan_data, change):
    change(plan_data)
    checked = check_file(write_plan(plan_data))
    return checked, [
        (p.field_name, shown(p.message, values=True), p.severity) for p in checked.problems
    ]


@pytest.mark.parametrize(("name", "change", "field", "message"), ERRORS, ids=[e[0] for e in ERRORS])
def test_error(write_plan, plan_data, name, change, field, message):
    checked, problems = _problems(write_plan, plan_data, change)
    if field is None:
        assert not checked.failed(), problems
        return
    assert checked.failed()
    assert any(f == field and message in m and s is Severity.ERROR for f, m, s in problems), (
        problems
    )


@pytest.mark.parametrize(
    ("name", "change", "field", "message"), WARNINGS, ids=[w[0] for w in WARNINGS]
)
def test_warning_is_not_an_error_unless_strict(write_plan, plan_data, name, change, field, message):
    checked, problems = _problems(write_plan, plan_data, change)
    assert not checked.failed(), problems
    assert checked.failed(strict=True)
    if field is not None:
        assert any(f == field and message in m and s is Severity.WARNING for f, m, s in problems), (
            problems
        )


def test_the_valid_plan_passes_every_check(write_plan, plan_data):
    checked = check_file(write_plan(plan_data))
    assert checked.problems == [] and not checked.failed(strict=True)


def test_x_keys_are_carried_anywhere(write_plan, plan_data):
    plan_data["x-clinic"] = {"room": 4}
    plan_data["goals"][0]["x-code"] = "A1"
    checked = check_file(write_plan(plan_data))
    assert checked.problems == []
    assert checked.plan.extensions == {"x-clinic": {"room": 4}}
    assert checked.plan.goals[0].extensions == {"x-code": "A1"}


def test_presenting_problem_may_be_a_plain_string(write_plan, plan_data):
    plan_data["presenting_problem"] = "Low mood."
    checked = check_file(write_plan(plan_data))
    assert checked.plan.presenting_problem.text == "Low mood."


def test_review_by_is_computed_from_the_layout_interval(write_plan, plan_data):
    from plandoc.documents.compose import compose

    del plan_data["plan"]["review_by"]
    checked = check_file(write_plan(plan_data))
    markdown = compose(checked.plan, checked.layout).markdown
    assert "| Review due | 2027-04-27 |" in markdown  # last_reviewed 2026-10-29 + 180 days


def test_every_problem_of_a_file_is_reported_at_once(write_plan, plan_data):
    plan_data["plan"]["status"] = "open"  # a type error ...
    plan_data["diagnoses"][1]["primary"] = True  # ... does not hide the cross-field ones
    plan_data["provider"]["npi"] = "1234567890"
    checked = check_file(write_plan(plan_data))
    fields = {p.field_name for p in checked.problems}
    assert {"plan.status", "diagnoses", "provider.npi"} <= fields


@pytest.mark.parametrize("npi", ["1234567893", "1987654328", "1456789019"])
def test_npi_luhn_accepts_valid_numbers(npi):
    assert npi_is_valid(npi)
    assert not npi_is_valid(npi[:-1] + str((int(npi[-1]) + 1) % 10))


def test_a_progress_date_after_today_is_an_error_naming_today(write_plan, plan_data):
    import datetime as dt

    plan_data["goals"][0]["progress"][-1]["date"] = "2026-12-01"
    path = write_plan(plan_data)
    before = check_file(path, today=dt.date(2026, 11, 30))
    problems = [(p.field_name, shown(p.message, values=True)) for p in before.problems]
    assert ("goals[0].progress[3].date", "2026-12-01 is in the future (today is 2026-11-30)") in (
        problems
    )
    assert not check_file(path, today=dt.date(2026, 12, 1)).failed()
