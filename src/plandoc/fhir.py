"""A plan as an HL7 FHIR R4 Bundle (export), and a FHIR R4 care plan as a plan (import).

Export: one Bundle of type `collection` per plan with the client (`Patient`),
the provider (`Practitioner`, NPI as identifier), a `Condition` per diagnosis
(ICD-10-CM), a `Goal` per goal and per objective (an objective is a milestone
of its goal), an `Observation` per recorded score (LOINC-coded where the
instrument has a code), and one `CarePlan` that addresses the conditions,
names the goals, has an activity per method (linked to the objectives that
use it) and a note per progress note. Every reference resolves inside the
bundle: `urn:uuid:` full URLs made from the plan id and the item's own id, so
the same plan always exports the same ids.

Import reads such a bundle, or a CarePlan with its resources contained, back
into a plan; what FHIR does not carry (the treatment contract, the time
estimate, the narrative history...) becomes a "FILL IN" placeholder that
`plandoc validate` names, and anything it cannot map is listed, never
dropped in silence. The README lists each field and its FHIR home.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from .instruments import Registry, built_in_registry
from .model import BehaviorTracking, Goal, Plan
from .new_plan import fill
from .problems import plan_value

NAMESPACE = uuid.UUID("6f1d6c2e-58b1-4f55-9d52-6a8f0f1c7e3a")  # plandoc's, for uuid5 ids
EXT = "urn:plandoc:fhir:"  # plandoc's own extensions (a plan field with no FHIR element)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
NPI = "http://hl7.org/fhir/sid/us-npi"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
GOAL_ID = "urn:plandoc:goal-id"
PLAN_ID = "urn:plandoc:plan-id"
MEMBER_ID = "urn:plandoc:member-id"
GOAL_RELATIONSHIP = "http://hl7.org/fhir/StructureDefinition/goal-relationship"
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"

# plan goal status <-> (Goal.lifecycleStatus, Goal.achievementStatus, Goal.statusReason)
GOAL_STATUS: dict[str, tuple[str, str | None, str | None]] = {
    "not-started": ("planned", None, None),
    "in-progress": ("active", "in-progress", None),
    "met": ("completed", "achieved", None),
    "partially-met": ("active", "improving", None),
    "not-met": ("completed", "not-achieved", None),
    "revised": ("cancelled", None, "revised"),
    "discontinued": ("cancelled", None, "discontinued"),
}
ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"


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
    entries += goal_resources + observations + baselines
    entries.append(
        _care_plan(plan, ids, patient, practitioner, conditions, goal_resources, baselines)
    )
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
        "extension": [_ext("authorization-number", valueString=coverage.authorization_number)]
        if coverage.authorization_number else [],
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
    return {
        "resourceType": "Goal",
        "id": ids.id("Goal", objective.id),
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
                          _ext("responsible", valueCode=method.responsible)],
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


# --- import -------------------------------------------------------------------------

STATUS_OF = {value: key for key, value in GOAL_STATUS.items()}
PLAN_STATUSES = ("draft", "active", "on-hold", "completed", "revoked")
# Elements of each resource that import reads; any other element present is listed.
READ = {
    "CarePlan": {"resourceType", "id", "meta", "text", "extension", "identifier", "status",
                 "intent", "category", "title", "description", "subject", "period", "created",
                 "author", "addresses", "supportingInfo", "goal", "activity", "note", "contained"},
    "Goal": {"resourceType", "id", "meta", "text", "extension", "identifier", "lifecycleStatus",
             "achievementStatus", "statusReason", "category", "description", "subject",
             "target", "outcomeReference"},
    "Observation": {"resourceType", "id", "meta", "text", "extension", "status", "category",
                    "code", "subject", "focus", "effectiveDateTime", "valueInteger",
                    "valueQuantity", "note"},
    "Patient": {"resourceType", "id", "meta", "text", "identifier", "name", "telecom",
                "birthDate", "address", "contact"},
    "Practitioner": {"resourceType", "id", "meta", "text", "identifier", "name", "telecom",
                     "qualification"},
    "Coverage": {"resourceType", "id", "meta", "text", "extension", "identifier", "status",
                 "beneficiary", "payor", "class"},
    "Condition": {"resourceType", "id", "meta", "text", "extension", "code", "subject"},
}  # fmt: skip
R5_ONLY = {
    "CarePlan": {"custodian"},
    "Goal": {"continuous"},
    "Observation": {"triggeredBy", "instantiatesCanonical", "bodyStructure"},
}
EARLIER_ONLY = {"Goal": {"status"}, "CarePlan": {"definition"}}


# What the display of a reference out of a lone CarePlan can stand for.
OUTSIDE = {
    "Patient": lambda text: {"name": [{"text": text}]},
    "Practitioner": lambda text: {"name": [{"text": text}]},
    "Condition": lambda text: {"code": {"text": text}},
    "Goal": lambda text: {"description": {"text": text}},
}


class FhirError(Exception):
    """A bundle plandoc cannot read: one line naming the resource and path."""


def import_plan(data: Any, instruments: Registry | None = None) -> tuple[dict[str, Any], list[str]]:
    """A FHIR R4 Bundle (or a CarePlan with its resources contained) -> (plan data, not mapped).

    Raises FhirError for what cannot be read at all; what it can read but not
    map is returned as lines to show the user, their values marked (see
    `problems.plan_value`). Placeholders ("FILL IN: ...") stand for every
    required plan field FHIR does not carry. A measure is named from its LOINC
    code or text by `instruments` (default: the built-in ones; a clinic's
    registry adds its own).
    """
    reader = _Reader(data, instruments or built_in_registry())
    care_plan = reader.care_plan
    plan_data: dict[str, Any] = {"plandoc": 1, "plan": reader.plan_info(care_plan)}
    patient = reader.resolve(care_plan.get("subject"), "CarePlan.subject", "Patient")
    plan_data["client"] = reader.client(patient)
    author = care_plan.get("author")
    practitioner = reader.resolve(author, "CarePlan.author", "Practitioner") if author else None
    plan_data["provider"] = reader.provider(practitioner)
    plan_data["assessment"] = {
        "history": fill("psychosocial history (FHIR does not carry it)"),
        "symptom_onset": fill("when and how the symptoms began (FHIR does not carry it)"),
        "prior_treatment": fill("earlier treatment (FHIR does not carry it)"),
    }
    baselines = [
        reader.baseline(reader.resolve(ref, f"CarePlan.supportingInfo[{i}]", "Observation"))
        for i, ref in enumerate(care_plan.get("supportingInfo", []))
    ]
    if baselines:
        plan_data["assessment"]["baseline_measures"] = baselines
    plan_data["presenting_problem"] = {
        "text": care_plan.get("description") or fill("the presenting problem")
    }
    plan_data["diagnoses"] = reader.diagnoses(care_plan)
    plan_data["contract"] = {
        "summary": fill("the treatment contract (FHIR does not carry it)"),
        "modality": fill("the modality"),
        "type": fill("individual, couples, family or group"),
    }
    methods = reader.methods(care_plan)
    plan_data["goals"] = reader.goals(care_plan, methods)
    plan_data["methods"] = [m for m, _ in methods] or [
        {"id": "M1", "name": fill("an intervention"), "description": fill("what it involves"),
         "responsible": "clinician", "frequency": fill("how often"),
         "session_minutes": fill("minutes a session")}
    ]  # fmt: skip
    plan_data["time_estimate"] = {
        "sessions": fill("number of sessions (FHIR does not carry it)"),
        "frequency": fill("how often"),
        "weeks": fill("over how many weeks"),
    }
    notes = [
        {"date": (note.get("time") or "")[:10] or fill("the review's date"), "text": note["text"]}
        for note in care_plan.get("note", [])
        if note.get("text")
    ]
    if notes:
        plan_data["progress_notes"] = notes
    reader.list_unread()
    return plan_data, reader.unmapped


class _Reader:
    def __init__(self, data: Any, instruments: Registry) -> None:
        self.instruments = instruments
        if not isinstance(data, dict) or "resourceType" not in data:
            raise FhirError("not a FHIR resource: no resourceType")
        self.unmapped: list[str] = []
        self.by_url: dict[str, dict[str, Any]] = {}
        self.used: set[int] = set()
        self.standalone = data["resourceType"] == "CarePlan"  # may refer to resources elsewhere
        kind = data["resourceType"]
        if kind == "Bundle":
            for index, entry in enumerate(data.get("entry", [])):
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if not isinstance(resource, dict) or "resourceType" not in resource:
                    raise FhirError(f"Bundle.entry[{index}]: no resource")
                self._check_version(resource, f"Bundle.entry[{index}].resource")
                self._index(resource, entry.get("fullUrl"))
            plans = [r for r in self.by_url.values() if r.get("resourceType") == "CarePlan"]
            plans = list({id(p): p for p in plans}.values())
            if len(plans) != 1:
                raise FhirError(f"Bundle: {len(plans)} CarePlans; plandoc reads a bundle with one")
            self.care_plan = plans[0]
        elif kind == "CarePlan":
            self._check_version(data, "CarePlan")
            self.care_plan = data
            for index, resource in enumerate(data.get("contained", [])):
                self._check_version(resource, f"CarePlan.contained[{index}]")
                self.by_url[f"#{resource.get('id')}"] = resource
        else:
            raise FhirError(f"{kind}: plandoc reads a Bundle or a CarePlan")
        self.used.add(id(self.care_plan))

    def _index(self, resource: dict[str, Any], full_url: str | None) -> None:
        kind, rid = resource["resourceType"], resource.get("id")
        for key in (full_url, f"{kind}/{rid}" if rid else None):
            if key:
                self.by_url[key] = resource

    @staticmethod
    def _check_version(resource: dict[str, Any], where: str) -> None:
        kind = resource.get("resourceType")
        newer = R5_ONLY.get(kind, set()) & set(resource)
        if newer:
            raise FhirError(f"{where}: {kind}.{sorted(newer)[0]} is FHIR R5; plandoc reads R4")
        older = EARLIER_ONLY.get(kind, set()) & set(resource)
        if older or (kind == "CarePlan" and "intent" not in resource):
            what = sorted(older)[0] if older else "no intent"
            raise FhirError(f"{where}: {kind} ({what}) is FHIR STU3 or earlier; plandoc reads R4")

    def resolve(self, reference: Any, path: str, kind: str) -> dict[str, Any]:
        target = reference.get("reference") if isinstance(reference, dict) else None
        if not target:
            raise FhirError(f"{path}: no reference to a {kind}")
        resource = self.by_url.get(target)
        if resource is None and self.standalone and not target.startswith("#"):
            return self._outside(reference, target, path, kind)
        if resource is None:
            raise FhirError(
                f"{path}: reference {plan_value(target)} is not in the bundle (dangling)"
            )
        if resource.get("resourceType") != kind:
            raise FhirError(
                f"{path}: {plan_value(target)} is a {resource.get('resourceType')}, not a {kind}"
            )
        self.used.add(id(resource))
        return resource

    def _outside(self, reference: dict[str, Any], target: str, path: str, kind: str) -> Any:
        """A reference out of a lone CarePlan (`Patient/example`): its display stands in."""
        display = reference.get("display")
        if not display or kind not in OUTSIDE:
            raise FhirError(
                f"{path}: {plan_value(target)} is outside the file and has no display to use"
            )
        self.unmapped.append(
            f"{path}: {plan_value(target)} is outside the file; its display is used"
        )
        return {"resourceType": kind, **OUTSIDE[kind](display)}

    def note_unread(self, resource: dict[str, Any], where: str) -> None:
        extra = sorted(set(resource) - READ.get(resource["resourceType"], set()))
        self.unmapped += [f"{where}.{name}: not mapped" for name in extra]

    def list_unread(self) -> None:
        seen: set[int] = set()
        for url, resource in self.by_url.items():
            if id(resource) in seen:
                continue
            seen.add(id(resource))
            where = f"{resource['resourceType']}/{plan_value(resource.get('id', url))}"
            if id(resource) in self.used:
                self.note_unread(resource, where)
            else:
                self.unmapped.append(f"{where}: not read (no part of the care plan refers to it)")
        self.note_unread(self.care_plan, "CarePlan")

    # --- parts --------------------------------------------------------------------

    def plan_info(self, care_plan: dict[str, Any]) -> dict[str, Any]:
        status = care_plan.get("status")
        if status not in PLAN_STATUSES:
            raise FhirError(
                f"CarePlan.status: {plan_value(status, quote=True)} has no plandoc status"
            )
        identifier = _identifier(care_plan, PLAN_ID) or care_plan.get("id") or fill("plan id")
        ext = _extensions(care_plan)
        created = (care_plan.get("created") or "")[:10]
        effective = (care_plan.get("period", {}).get("start") or "")[:10] or created
        info = {
            "id": identifier,
            "version": ext.get("plan-version", {}).get("valueInteger", 1),
            "status": status,
            "created": created or fill("when the plan was written, YYYY-MM-DD"),
            "effective": effective or fill("when the plan took effect, YYYY-MM-DD"),
        }
        if "review-by" in ext:
            info["review_by"] = ext["review-by"]["valueDate"]
        if "last-reviewed" in ext:
            info["last_reviewed"] = ext["last-reviewed"]["valueDate"]
        return info

    def client(self, patient: dict[str, Any]) -> dict[str, Any]:
        names = {n.get("use", "official"): _name_text(n) for n in patient.get("name", [])}
        client: dict[str, Any] = {
            "name": names.get("official") or next(iter(names.values()), None)
            or fill("the client's name"),
            "date_of_birth": patient.get("birthDate") or fill("date of birth, YYYY-MM-DD"),
        }  # fmt: skip
        if names.get("usual"):
            client["preferred_name"] = names["usual"]
        for point in patient.get("telecom", []):
            if point.get("system") in ("phone", "email") and point.get("value"):
                client.setdefault(point["system"], point["value"])
        addresses = patient.get("address", [])
        if addresses:
            client["address"] = addresses[0].get("text") or ", ".join(addresses[0].get("line", []))
        contacts = patient.get("contact", [])
        if contacts:
            contact = contacts[0]
            phones = [t.get("value") for t in contact.get("telecom", []) if t.get("value")]
            client["emergency_contact"] = {
                "name": _name_text(contact.get("name", {})) or fill("the contact's name"),
                "relationship": next((r.get("text") for r in contact.get("relationship", [])
                                      if r.get("text")), None) or fill("relationship"),
                "phone": phones[0] if phones else fill("the contact's phone"),
            }  # fmt: skip
        coverage = self.coverage(patient)
        if coverage:
            client["coverage"] = coverage
        return client

    def coverage(self, patient: dict[str, Any]) -> dict[str, Any] | None:
        found = [
            r for r in self.by_url.values()
            if r.get("resourceType") == "Coverage"
            and self.by_url.get(r.get("beneficiary", {}).get("reference", "")) is patient
        ]  # fmt: skip
        if not found:
            member = _identifier(patient, MEMBER_ID)
            return {"payer": fill("the insurer"), "member_id": member} if member else None
        coverage = found[0]
        self.used.add(id(coverage))
        classes = {
            next((c.get("code") for c in k.get("type", {}).get("coding", [])), None): k.get("value")
            for k in coverage.get("class", [])
        }
        data = {
            "payer": next((p.get("display") for p in coverage.get("payor", [])
                           if p.get("display")), None) or fill("the insurer"),
            "plan_name": classes.get("plan"),
            "member_id": _identifier(coverage, MEMBER_ID) or _identifier(patient, MEMBER_ID),
            "group_number": classes.get("group"),
            "authorization_number": _extensions(coverage).get("authorization-number", {}).get(
                "valueString"),
        }  # fmt: skip
        return {key: value for key, value in data.items() if value is not None}

    def provider(self, practitioner: dict[str, Any] | None) -> dict[str, Any]:
        if practitioner is None:
            return {"name": fill("the clinician's name"), "credentials": fill("credentials")}
        qualifications = [
            q.get("code", {}).get("text") for q in practitioner.get("qualification", [])
        ]
        provider = {
            "name": next((_name_text(n) for n in practitioner.get("name", [])), None)
            or fill("the clinician's name"),
            "credentials": next((q for q in qualifications if q), None) or fill("credentials"),
        }  # fmt: skip
        npi = _identifier(practitioner, NPI)
        if npi:
            provider["npi"] = npi
        licences = [i.get("value") for q in practitioner.get("qualification", [])
                    for i in q.get("identifier", []) if i.get("value")]  # fmt: skip
        if licences:
            provider["license"] = licences[0]
        phone = next((t["value"] for t in practitioner.get("telecom", [])
                      if t.get("system") == "phone"), None)  # fmt: skip
        if phone:
            provider["phone"] = phone
        return provider

    def diagnoses(self, care_plan: dict[str, Any]) -> list[dict[str, Any]]:
        diagnoses = []
        for index, ref in enumerate(care_plan.get("addresses", [])):
            condition = self.resolve(ref, f"CarePlan.addresses[{index}]", "Condition")
            code = condition.get("code", {})
            icd = next((c for c in code.get("coding", []) if c.get("system") == ICD10CM), None)
            if icd is None:
                where = f"Condition/{condition.get('id')}.code"
                self.unmapped.append(
                    f"{where}: no ICD-10-CM coding ({plan_value(code.get('text', ''))})"
                )
            primary = _extensions(condition).get("primary-diagnosis", {}).get("valueBoolean")
            diagnoses.append({
                "code": icd["code"] if icd else fill("ICD-10-CM code"),
                "description": (icd or {}).get("display") or code.get("text")
                or fill("the diagnosis in words"),
                "primary": primary if primary is not None else index == 0,
            })  # fmt: skip
        return diagnoses or [
            {"code": fill("ICD-10-CM code"), "description": fill("the diagnosis"), "primary": True}
        ]

    def methods(self, care_plan: dict[str, Any]) -> list[tuple[dict[str, Any], list[str]]]:
        """Each activity with a detail -> (method, the urls of the goals it serves)."""
        methods = []
        for index, activity in enumerate(care_plan.get("activity", [])):
            detail = activity.get("detail")
            if detail is None:
                self.unmapped.append(f"CarePlan.activity[{index}]: a reference, not mapped")
                continue
            ext = _extensions(detail)
            frequency, minutes = _schedule(detail.get("scheduledString"))
            responsible = ext.get("responsible", {}).get("valueCode") or (
                "clinician" if detail.get("performer") else fill("client, clinician, family")
            )
            method = {
                "id": ext.get("method-id", {}).get("valueString") or f"M{index + 1}",
                "name": detail.get("code", {}).get("text")
                or _coding_display(detail.get("code")) or fill("the intervention"),
                "description": detail.get("description") or fill("what it involves"),
                "responsible": responsible,
                "frequency": frequency or fill("how often"),
                "session_minutes": minutes or fill("minutes a session"),
            }  # fmt: skip
            for name in sorted(
                set(detail)
                - {
                    "extension",
                    "code",
                    "description",
                    "status",
                    "scheduledString",
                    "goal",
                    "performer",
                }
            ):
                self.unmapped.append(f"CarePlan.activity[{index}].detail.{name}: not mapped")
            targets = [g.get("reference", "") for g in detail.get("goal", [])]
            methods.append((method, targets))
        return methods

    def goals(self, care_plan: dict[str, Any], methods: list) -> list[dict[str, Any]]:  # type: ignore[type-arg]
        listed = [
            (ref.get("reference", ""), self.resolve(ref, f"CarePlan.goal[{i}]", "Goal"))
            for i, ref in enumerate(care_plan.get("goal", []))
        ]
        milestone_of: dict[int, dict[str, Any]] = {}
        for _, goal in listed:
            for ext in goal.get("extension", []):
                if ext.get("url") == GOAL_RELATIONSHIP:
                    parts = {e.get("url"): e for e in ext.get("extension", [])}
                    target = parts.get("target", {}).get("valueReference")
                    objective = self.resolve(target, f"Goal/{goal.get('id')}.extension", "Goal")
                    milestone_of[id(objective)] = goal
        urls = {id(resource): url for url, resource in listed}
        goals = []
        for number, (_, goal) in enumerate(listed, 1):
            if id(goal) in milestone_of:
                continue
            objectives = [o for _, o in listed if milestone_of.get(id(o)) is goal]
            goals.append(self.goal(goal, number, objectives, methods, urls))
        return goals or [{"id": "G1", "statement": fill("a measurable goal")}]

    def goal(
        self,
        goal: dict[str, Any],
        number: int,
        objectives: list[dict[str, Any]],
        methods: list,  # type: ignore[type-arg]
        urls: dict[int, str],
    ) -> dict[str, Any]:
        ext = _extensions(goal)
        target = (goal.get("target") or [{}])[0]
        category = " ".join(c.get("text", "") for c in goal.get("category", []))
        term = "short" if "short" in category else "long" if "long" in category else None
        goal_id = _identifier(goal, GOAL_ID) or f"G{number}"
        data: dict[str, Any] = {
            "id": goal_id,
            "term": term or fill("short or long"),
            "statement": goal.get("description", {}).get("text") or fill("the goal"),
            "target_date": target.get("dueDate") or fill("YYYY-MM-DD"),
            "measure": self.measure(target, ext),
            "objectives": [
                self.objective(o, f"{goal_id}.{i}", methods, urls)
                for i, o in enumerate(objectives, 1)
            ] or [{"id": f"{goal_id}.1", "statement": fill("an observable step"),
                   "target_date": fill("YYYY-MM-DD"), "methods": [fill("a method id")]}],
        }  # fmt: skip
        if "client-words" in ext:
            data["client_words"] = ext["client-words"]["valueString"]
        status = _status(goal)
        if status:
            data["status"] = status
        progress = [self.progress(o) for o in self._observations_of(goal)]
        if progress:
            data["progress"] = sorted(progress, key=lambda e: e["date"])
        return data

    def measure(self, target: dict[str, Any], ext: dict[str, Any]) -> dict[str, Any]:
        concept = target.get("measure") or {}
        quantity = target.get("detailQuantity") or {}
        baseline = ext.get("baseline", {}).get("valueQuantity", {}).get("value")
        loinc = next((c["code"] for c in concept.get("coding", []) if c.get("system") == LOINC),
                     None)  # fmt: skip
        name = _instrument_name(self.instruments, loinc, concept.get("text"))
        score = {
            "baseline": baseline if baseline is not None else fill("the baseline"),
            "target": quantity.get("value", fill("the target")),
        }
        if quantity.get("code") == "{score}" or (name and quantity.get("unit") in (None, "score")):
            return {"instrument": name or fill("the instrument, e.g. PHQ-9"), **score}
        return {
            "behavior": concept.get("text") or fill("the behaviour counted"),
            "unit": quantity.get("unit") or fill("what a count means"),
            **score,
        }

    def objective(
        self,
        goal: dict[str, Any],
        default_id: str,
        methods: list,
        urls: dict[int, str],  # type: ignore[type-arg]
    ) -> dict[str, Any]:
        url = urls.get(id(goal), "")
        used = [method["id"] for method, targets in methods if url in targets]
        data = {
            "id": _identifier(goal, GOAL_ID) or default_id,
            "statement": goal.get("description", {}).get("text") or fill("the step"),
            "target_date": (goal.get("target") or [{}])[0].get("dueDate") or fill("YYYY-MM-DD"),
            "methods": used or [fill("a method id")],
        }
        status = _status(goal)
        if status:
            data["status"] = status
        return data

    def _observations_of(self, goal: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            self.resolve(ref, f"Goal/{goal.get('id')}.outcomeReference", "Observation")
            for ref in goal.get("outcomeReference", [])
        ]

    def progress(self, observation: dict[str, Any]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "date": (observation.get("effectiveDateTime") or "")[:10],
            "score": _value(observation),
        }  # fmt: skip
        status = _extensions(observation).get("goal-status", {}).get("valueCode")
        if status:
            entry["status"] = status
        if observation.get("note"):
            entry["note"] = observation["note"][0].get("text")
        return entry

    def baseline(self, observation: dict[str, Any]) -> dict[str, Any]:
        code = observation.get("code", {})
        loinc = next((c["code"] for c in code.get("coding", []) if c.get("system") == LOINC), None)
        return {
            "instrument": _instrument_name(self.instruments, loinc, code.get("text"))
            or code.get("text", ""),
            "date": (observation.get("effectiveDateTime") or "")[:10],
            "score": _value(observation),
        }  # fmt: skip


def _value(observation: dict[str, Any]) -> Any:
    if "valueInteger" in observation:
        return observation["valueInteger"]
    return observation.get("valueQuantity", {}).get("value")


def _identifier(resource: dict[str, Any], system: str) -> str | None:
    return next(
        (i.get("value") for i in resource.get("identifier", []) if i.get("system") == system), None
    )


def _extensions(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """plandoc's own extensions of a resource, by name."""
    return {
        e["url"][len(EXT) :]: e
        for e in resource.get("extension", [])
        if isinstance(e, dict) and str(e.get("url", "")).startswith(EXT)
    }


def _name_text(name: dict[str, Any]) -> str | None:
    return name.get("text") or " ".join([*name.get("given", []), name.get("family", "")]).strip()


def _coding_display(concept: dict[str, Any] | None) -> str | None:
    codings = (concept or {}).get("coding", [])
    return next((c.get("display") for c in codings if c.get("display")), None)


def _schedule(text: str | None) -> tuple[str | None, int | None]:
    """'weekly, 60 minutes' -> ('weekly', 60); anything else -> (text, None)."""
    if not text:
        return None, None
    frequency, _, rest = text.rpartition(", ")
    number = rest.removesuffix(" minutes")
    if frequency and number.isdigit():
        return frequency, int(number)
    return text, None


def _status(goal: dict[str, Any]) -> str | None:
    lifecycle = goal.get("lifecycleStatus")
    codes = [c.get("code") for c in goal.get("achievementStatus", {}).get("coding", [])]
    key = (lifecycle, codes[0] if codes else None, goal.get("statusReason"))
    if key in STATUS_OF:
        return STATUS_OF[key]
    return {"proposed": "not-started", "planned": "not-started", "accepted": "not-started",
            "active": "in-progress", "on-hold": "in-progress", "completed": "met",
            "cancelled": "discontinued", "rejected": "discontinued"}.get(lifecycle)  # fmt: skip


def _instrument_name(registry: Registry, loinc: str | None, text: str | None) -> str | None:
    if loinc:
        for instrument in registry.instruments.values():
            if instrument.loinc == loinc:
                return instrument.name
    if text and registry.find(text):
        return registry.find(text).name  # type: ignore[union-attr]
    return None
