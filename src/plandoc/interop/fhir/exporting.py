"""A plan as an HL7 FHIR R4 Bundle.

One Bundle of type `collection` per plan with the client (`Patient`), the
provider (`Practitioner`, NPI as identifier), a `Condition` per diagnosis
(ICD-10-CM), a `Goal` per goal and per objective (an objective is a milestone
of its goal), an `Observation` per recorded score (LOINC-coded where the
instrument has a code), and one `CarePlan` that addresses the conditions,
names the goals, has an activity per method (linked to the objectives that
use it) and a note per progress note; the practice (`Organization`, the
CarePlan's contributor), the medical necessity (`ClinicalImpression`, in its
supportingInfo) and a `Provenance` per signature; the safety plan and what
else R4 has no place for in plandoc's extensions. Every reference resolves
inside the bundle: `urn:uuid:` full URLs made from the plan id and the item's own id, so
the same plan always exports the same ids.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from plandoc.interop.fhir.common import (
    ACHIEVEMENT,
    CAREPLAN_CATEGORY,
    COVERAGE_CLASS,
    EIN,
    EXT,
    GOAL_ID,
    GOAL_RELATIONSHIP,
    GOAL_STATUS,
    ICD10CM,
    LOINC,
    MEMBER_ID,
    NAMESPACE,
    NPI,
    OBSERVATION_CATEGORY,
    PARTICIPANT_TYPE,
    PLAN_ID,
    PLANDOC_CODE,
    SAFETY_TEXTS,
    SIGNATURE_TYPE,
    SIGNATURE_TYPES,
    UCUM,
)
from plandoc.model.instruments import Registry
from plandoc.model.plan import BehaviorTracking, Goal, Plan


def export_bundle(plan: Plan, instruments: Registry) -> dict[str, Any]:
    """The plan as one FHIR R4 Bundle (type collection), the same for the same plan."""
    ids = _Ids(plan.plan.id)
    patient, practitioner = ids.ref("Patient", "client"), ids.ref("Practitioner", "provider")
    entries = [_patient(plan, ids), _practitioner(plan, ids)]
    if plan.client.coverage:
        entries.append(_coverage(plan, ids, patient))
    conditions = [_condition(d, ids, patient) for d in plan.diagnoses]
    entries += conditions
    goal_resources, observations = [], []
    for goal in plan.goals:
        goal_resources.append(_goal(goal, ids, patient, instruments))
        goal_resources += [_objective(objective, ids, patient) for objective in goal.objectives]
        observations += _observations(goal, ids, patient, instruments)
    baselines = [
        _baseline_observation(index, result, ids, patient, instruments)
        for index, result in enumerate(plan.assessment.baseline_measures)
    ]
    if plan.medical_necessity:
        baselines.append(_medical_necessity(plan, ids, patient, practitioner))
    entries += goal_resources + observations + baselines
    practice = [_practice(plan, ids)] if plan.practice else []
    entries += practice
    care_plan = _care_plan(plan, ids, patient, practitioner, conditions, goal_resources, baselines)
    if practice:
        care_plan["contributor"] = [ids.ref("Organization", "practice")]
    entries.append(care_plan)
    entries += [
        _provenance(plan, index, signature, ids) for index, signature in enumerate(plan.signatures)
    ]
    return {
        "resourceType": "Bundle",
        "id": ids.id("Bundle", "bundle"),
        "type": "collection",
        "entry": [{"fullUrl": ids.url_of(resource), "resource": resource} for resource in entries],
    }


class _Ids:
    """Stable ids: uuid5 of the plan id and the item, as `urn:uuid:` full URLs."""

    def __init__(self, plan_id: str) -> None:
        self.plan_id = plan_id

    def id(self, kind: str, key: str) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{self.plan_id}|{kind}|{key}"))

    def ref(self, kind: str, key: str) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.id(kind, key)}"}

    @staticmethod
    def url_of(resource: dict[str, Any]) -> str:
        return f"urn:uuid:{resource['id']}"


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, [], {}, "")}


def _ext(name: str, **value: Any) -> dict[str, Any]:
    return {"url": f"{EXT}{name}", **value}


def _patient(plan: Plan, ids: _Ids) -> dict[str, Any]:
    client = plan.client
    names = [{"use": "official", "text": client.name}]
    if client.preferred_name:
        names.append({"use": "usual", "text": client.preferred_name})
    telecom = [{"system": "phone", "value": client.phone}] if client.phone else []
    if client.email:
        telecom.append({"system": "email", "value": client.email})
    coverage = client.coverage
    identifier = (
        [{"system": MEMBER_ID, "value": coverage.member_id}]
        if coverage and coverage.member_id
        else []
    )
    return _drop_empty({
        "resourceType": "Patient",
        "id": ids.id("Patient", "client"),
        "identifier": identifier,
        "name": names,
        "telecom": telecom,
        "birthDate": _date(client.date_of_birth),
        "address": [{"text": client.address}] if client.address else [],
        "contact": [_drop_empty({
            "relationship": [{"text": contact.relationship}],
            "name": {"text": contact.name},
            "telecom": [{"system": "phone", "value": contact.phone}] if contact.phone else [],
        })] if (contact := client.emergency_contact) else [],
    })  # fmt: skip


def _authorization(authorization: Any) -> list[dict[str, Any]]:
    """plandoc's extensions for the payer's authorization (FHIR's Coverage has no place
    for one): its number, period, sessions authorized and sessions used."""
    if authorization is None:
        return []
    au = authorization
    period = _drop_empty(
        {"start": au.start and au.start.isoformat(), "end": au.end and au.end.isoformat()}
    )
    return [
        extension
        for extension, given in (
            (_ext("authorization-number", valueString=au.number), au.number is not None),
            (_ext("authorization-period", valuePeriod=period), bool(period)),
            (_ext("authorization-sessions", valueInteger=au.sessions), au.sessions is not None),
            (_ext("authorization-used", valueInteger=au.used), au.used is not None),
        )
        if given
    ]


def _coverage(plan: Plan, ids: _Ids, patient: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    coverage = plan.client.coverage
    assert coverage is not None
    classes = [
        {"type": {"coding": [{"system": COVERAGE_CLASS, "code": code}]}, "value": value}
        for code, value in (("plan", coverage.plan_name), ("group", coverage.group_number))
        if value
    ]
    return _drop_empty({
        "resourceType": "Coverage",
        "id": ids.id("Coverage", "coverage"),
        "extension": _authorization(coverage.authorized),
        "identifier": [{"system": MEMBER_ID, "value": coverage.member_id}]
        if coverage.member_id else [],
        "status": "active",
        "beneficiary": patient,
        "payor": [{"display": coverage.payer}],
        "class": classes,
    })  # fmt: skip


def _practitioner(plan: Plan, ids: _Ids) -> dict[str, Any]:
    provider = plan.provider
    return _drop_empty({
        "resourceType": "Practitioner",
        "id": ids.id("Practitioner", "provider"),
        "identifier": [{"system": NPI, "value": provider.npi}] if provider.npi else [],
        "name": [{"text": provider.name}],
        "telecom": [{"system": "phone", "value": provider.phone}] if provider.phone else [],
        "qualification": [_drop_empty({
            "code": {"text": provider.credentials},
            "identifier": [{"value": provider.license}] if provider.license else [],
        })],
    })  # fmt: skip


def _condition(diagnosis: Any, ids: _Ids, patient: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    return {
        "resourceType": "Condition",
        "id": ids.id("Condition", diagnosis.code),
        "extension": [_ext("primary-diagnosis", valueBoolean=diagnosis.primary)],
        "code": {
            "coding": [
                {"system": ICD10CM, "code": diagnosis.code, "display": diagnosis.description}
            ],
            "text": diagnosis.description,
        },
        "subject": patient,
    }


def _goal_status(status: str | None) -> dict[str, Any]:
    lifecycle, achievement, reason = GOAL_STATUS[status or "not-started"]
    fields: dict[str, Any] = {"lifecycleStatus": lifecycle}
    if achievement:
        fields["achievementStatus"] = {"coding": [{"system": ACHIEVEMENT, "code": achievement}]}
    if reason:
        fields["statusReason"] = reason
    return fields


def _measure_concept(goal: Goal, instruments: Registry) -> dict[str, Any]:
    measure = goal.measure
    if isinstance(measure, BehaviorTracking):
        return {"text": measure.behavior}
    instrument = instruments.find(measure.instrument)
    concept: dict[str, Any] = {"text": instrument.name if instrument else measure.instrument}
    if instrument and instrument.loinc:
        concept["coding"] = [
            {
                "system": LOINC,
                "code": instrument.loinc,
                "display": f"{instrument.title} total score",
            }
        ]
    return concept


def _quantity(goal: Goal, value: float) -> dict[str, Any]:
    measure = goal.measure
    if isinstance(measure, BehaviorTracking):
        return {"value": value, "unit": measure.unit}
    return {"value": value, "unit": "score", "system": UCUM, "code": "{score}"}


def _goal(
    goal: Goal,
    ids: _Ids,
    patient: dict,
    instruments: Registry,  # type: ignore[type-arg]
) -> dict[str, Any]:
    extensions = [
        {"url": GOAL_RELATIONSHIP, "extension": [
            {"url": "type", "valueCodeableConcept": {"coding": [{
                "system": "http://hl7.org/fhir/goal-relationship-type", "code": "milestone"}]}},
            {"url": "target", "valueReference": ids.ref("Goal", objective.id)},
        ]}
        for objective in goal.objectives
    ]  # fmt: skip
    extensions.append(_ext("baseline", valueQuantity=_quantity(goal, goal.measure.baseline)))
    if goal.client_words:
        extensions.append(_ext("client-words", valueString=goal.client_words))
    return _drop_empty({
        "resourceType": "Goal",
        "id": ids.id("Goal", goal.id),
        "extension": extensions,
        "identifier": [{"system": GOAL_ID, "value": goal.id}],
        **_goal_status(goal.status),
        "category": [{"text": f"{goal.term}-term goal"}],
        "description": {"text": goal.statement},
        "subject": patient,
        "target": [{
            "measure": _measure_concept(goal, instruments),
            "detailQuantity": _quantity(goal, goal.measure.target),
            "dueDate": _date(goal.target_date),
        }],
        "outcomeReference": [
            ids.ref("Observation", f"{goal.id}|{entry.date}|{index}")
            for index, entry in enumerate(goal.progress) if entry.score is not None
        ],
    })  # fmt: skip


def _objective(objective: Any, ids: _Ids, patient: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    words = objective.client_statement
    return {
        "resourceType": "Goal",
        "id": ids.id("Goal", objective.id),
        **({"extension": [_ext("client-statement", valueString=words)]} if words else {}),
        "identifier": [{"system": GOAL_ID, "value": objective.id}],
        **_goal_status(objective.status),
        "category": [{"text": "objective"}],
        "description": {"text": objective.statement},
        "subject": patient,
        "target": [{"dueDate": _date(objective.target_date)}],
    }


def _observations(
    goal: Goal,
    ids: _Ids,
    patient: dict,
    instruments: Registry,  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    observations = []
    for index, entry in enumerate(goal.progress):
        if entry.score is None:
            continue
        value = _observation_value(goal, entry.score)
        extensions = [_ext("goal-status", valueCode=entry.status)] if entry.status else []
        observations.append(_drop_empty({
            "resourceType": "Observation",
            "id": ids.id("Observation", f"{goal.id}|{entry.date}|{index}"),
            "extension": extensions,
            "status": "final",
            "category": [_category(goal)],
            "code": _measure_concept(goal, instruments),
            "subject": patient,
            "focus": [ids.ref("Goal", goal.id)],
            "effectiveDateTime": _date(entry.date),
            **value,
            "note": [{"text": entry.note}] if entry.note else [],
        }))  # fmt: skip
    return observations


def _category(goal: Goal) -> dict[str, Any]:
    code = "activity" if isinstance(goal.measure, BehaviorTracking) else "survey"
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": code}]}


def _observation_value(goal: Goal, score: float) -> dict[str, Any]:
    if not isinstance(goal.measure, BehaviorTracking) and float(score).is_integer():
        return {"valueInteger": int(score)}
    return {"valueQuantity": _quantity(goal, score)}


def _baseline_observation(
    index: int,
    result: Any,
    ids: _Ids,
    patient: dict,
    instruments: Registry,  # type: ignore[type-arg]
) -> dict[str, Any]:
    instrument = instruments.find(result.instrument)
    code: dict[str, Any] = {"text": instrument.name if instrument else result.instrument}
    if instrument and instrument.loinc:
        code["coding"] = [{"system": LOINC, "code": instrument.loinc}]
    value = (
        {"valueInteger": int(result.score)}
        if float(result.score).is_integer()
        else {"valueQuantity": {"value": result.score, "unit": "score"}}
    )
    return {
        "resourceType": "Observation",
        "id": ids.id("Observation", f"baseline|{index}"),
        "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": code,
        "subject": patient,
        "effectiveDateTime": _date(result.date),
        **value,
    }


def _care_plan(
    plan: Plan,
    ids: _Ids,
    patient: dict,  # type: ignore[type-arg]
    practitioner: dict,  # type: ignore[type-arg]
    conditions: list[dict[str, Any]],
    goals: list[dict[str, Any]],
    baselines: list[dict[str, Any]],
) -> dict[str, Any]:
    info = plan.plan
    users: dict[str, list[str]] = {}
    for goal in plan.goals:
        for objective in goal.objectives:
            for method_id in objective.methods:
                users.setdefault(method_id, []).append(objective.id)
    activities = [
        {"detail": _drop_empty({
            "extension": [_ext("method-id", valueString=method.id),
                          _ext("responsible", valueCode=method.responsible)]
            + ([_ext("client-description", valueString=method.client_description)]
               if method.client_description else []),
            "code": {"text": method.name},
            "description": method.description,
            "status": "in-progress" if info.status == "active" else "not-started",
            "scheduledString": f"{method.frequency}, {method.session_minutes} minutes",
            "goal": [ids.ref("Goal", objective_id) for objective_id in users.get(method.id, [])],
            "performer": [practitioner] if method.responsible == "clinician" else [],
        })}
        for method in plan.methods
    ]  # fmt: skip
    extensions = [_ext("plan-version", valueInteger=info.version)]
    if info.review_by:
        extensions.append(_ext("review-by", valueDate=_date(info.review_by)))
    if info.last_reviewed:
        extensions.append(_ext("last-reviewed", valueDate=_date(info.last_reviewed)))
    problem = plan.presenting_problem
    for name, words in (("client-summary", problem.client_summary),
                        ("client-words", problem.client_words)):  # fmt: skip
        if words:
            extensions.append(_ext(name, valueString=words))
    if plan.safety_plan:
        extensions.append(_safety_plan(plan.safety_plan))
    return _drop_empty({
        "resourceType": "CarePlan",
        "id": ids.id("CarePlan", "plan"),
        "extension": extensions,
        "identifier": [{"system": PLAN_ID, "value": info.id}],
        "status": info.status,  # the same codes in FHIR
        "intent": "plan",
        "category": [{"coding": [{"system": CAREPLAN_CATEGORY, "code": "assess-plan"}],
                      "text": "Mental health treatment plan"}],
        "title": f"Treatment plan {info.id} v{info.version}",
        "description": plan.presenting_problem.text,
        "subject": patient,
        "period": {"start": _date(info.effective)},
        "created": _date(info.created),
        "author": practitioner,
        "addresses": [{"reference": f"urn:uuid:{c['id']}"} for c in conditions],
        "supportingInfo": [{"reference": f"urn:uuid:{b['id']}"} for b in baselines],
        "goal": [{"reference": f"urn:uuid:{g['id']}"} for g in goals],
        "activity": activities,
        "note": [{"time": _date(n.date), "text": n.text} for n in plan.progress_notes],
    })  # fmt: skip


def _contact_ext(name: str, contact: Any, role_key: str) -> dict[str, Any]:
    return {"url": name, "extension": [
        {"url": "name", "valueString": contact.name},
        {"url": role_key, "valueString": getattr(contact, role_key)},
        {"url": "phone", "valueString": contact.phone},
    ]}  # fmt: skip


def _safety_plan(safety: Any) -> dict[str, Any]:
    """The safety plan (Stanley-Brown): R4 has no element for one, so plandoc's extension."""
    parts: list[dict[str, Any]] = []
    for key, name in SAFETY_TEXTS:
        parts += [{"url": name, "valueString": text} for text in getattr(safety, key)]
    parts += [_contact_ext("support", c, "relationship") for c in safety.supports]
    parts += [_contact_ext("professional", c, "role") for c in safety.professionals]
    parts.append({"url": "reviewed", "valueDate": _date(safety.reviewed)})
    return {"url": f"{EXT}safety-plan", "extension": parts}


def _medical_necessity(plan: Plan, ids: _Ids, patient: dict, practitioner: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    """Medical necessity as a ClinicalImpression: the rationale its summary, each functional
    impairment a finding (domain coded, description as text), the level of care an extension."""
    necessity = plan.medical_necessity
    assert necessity is not None
    level = necessity.level_of_care
    return _drop_empty({
        "resourceType": "ClinicalImpression",
        "id": ids.id("ClinicalImpression", "medical-necessity"),
        "extension": [_ext("level-of-care", valueCode=level)] if level else [],
        "status": "completed",
        "code": {"coding": [{"system": PLANDOC_CODE, "code": "medical-necessity"}],
                 "text": "Medical necessity"},
        "subject": patient,
        "assessor": practitioner,
        "summary": necessity.rationale,
        "finding": [{"itemCodeableConcept": {
            "coding": [{"system": PLANDOC_CODE, "code": item.domain}],
            "text": item.description}} for item in necessity.functional_impairments],
    })  # fmt: skip


def _practice(plan: Plan, ids: _Ids) -> dict[str, Any]:
    practice = plan.practice
    assert practice is not None
    phones = (("phone", practice.phone), ("fax", practice.fax))
    telecom = [{"system": system, "value": value} for system, value in phones if value]
    ids_given = ((NPI, practice.npi), (EIN, practice.tax_id))
    identifiers = [{"system": system, "value": value} for system, value in ids_given if value]
    crisis = (
        [_ext("crisis-phone", valueString=practice.crisis_phone)] if practice.crisis_phone else []
    )
    return _drop_empty({
        "resourceType": "Organization",
        "id": ids.id("Organization", "practice"),
        "extension": crisis,
        "identifier": identifiers,
        "name": practice.name,
        "telecom": telecom,
        "address": [_drop_empty({"line": practice.address, "country": practice.country})],
    })  # fmt: skip


def _provenance(plan: Plan, index: int, signature: Any, ids: _Ids) -> dict[str, Any]:
    """A signature as a Provenance of the CarePlan: who signed, in what role, when (a
    `signature` element when signed); what R4 cannot say (the method, the hash of the
    content signed, a declined reason) in plandoc's extensions."""
    signed_at = signature.signed_at.isoformat() if signature.signed_at else None
    when = signed_at or f"{_date(signature.date or plan.plan.created)}T00:00:00Z"
    extensions = [
        _ext(name, **{key: value}) for name, key, value in (
            ("signature-role", "valueCode", signature.role),
            ("signature-date", "valueDate", _date(signature.date)),
            ("credentials", "valueString", signature.credentials),
            ("declined-reason", "valueString", signature.declined_reason),
            ("signature-method", "valueCode", signature.method),
            ("signed-at", "valueDateTime", signed_at),
            ("content-sha256", "valueString", signature.content_sha256),
            ("parts-sha256", "valueString", json.dumps(signature.parts_sha256, sort_keys=True)
             if signature.parts_sha256 else None),
        ) if value is not None
    ]  # fmt: skip
    who = {"display": signature.name}
    signed = signature.date is not None
    return _drop_empty({
        "resourceType": "Provenance",
        "id": ids.id("Provenance", str(index)),
        "extension": extensions,
        "target": [ids.ref("CarePlan", "plan")],
        "recorded": when,
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "attester"}]},
                   "role": [{"text": signature.role}], "who": who}],
        "signature": [{"type": [{"system": SIGNATURE_TYPE,
                                 "code": SIGNATURE_TYPES[signature.role]}],
                       "when": when, "who": who}] if signed else [],
    })  # fmt: skip
