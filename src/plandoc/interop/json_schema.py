"""The JSON Schema of the plan format, generated from the model so it cannot drift.

`plan_schema()` asks pydantic for the schema of `model.Plan`, then adds what an
editor shows while a clinician types: a description and an example for every
field (from `FIELD_DOCS` below, kept beside the model), `x-` keys allowed on
every part, codes that may be written as numbers in YAML, and dates as
`format: date`. A field of the model without its description here is an error
when the schema is made, and a test makes the schema, so a new field cannot
ship undocumented.
"""

from __future__ import annotations

import json
from typing import Any

from plandoc.model import plan as model

SCHEMA_ID = "https://plandoc.example/schema/plan-1.json"

# Model -> field -> (description, example). Examples are fictional.
FIELD_DOCS: dict[str, dict[str, tuple[str, Any]]] = {
    "Plan": {
        "plandoc": ("Version of the plan format; always 1.", 1),
        "plan": ("Identification of this plan: id, version, status and dates.", None),
        "practice": ("The practice or agency: the letterhead (plandoc.toml may give it).", None),
        "client": ("The person the plan is for.", None),
        "provider": ("The clinician responsible for the plan.", None),
        "assessment": ("History, onset, prior treatment, risk, strengths and baselines.", None),
        "safety_plan": ("The client's crisis safety plan (Stanley-Brown steps).", None),
        "medical_necessity": ("Why this level and amount of care is needed now.", None),
        "presenting_problem": ("Why the client came, in clinical and in their own words.", None),
        "diagnoses": ("ICD-10-CM diagnoses; exactly one is primary.", None),
        "contract": ("The treatment contract: who does what, and which modality.", None),
        "goals": ("Measurable goals, each with objectives (the steps toward it).", None),
        "methods": ("The interventions the objectives use.", None),
        "time_estimate": ("How many sessions, how often, over how many weeks.", None),
        "services": ("CPT services requested (payer layouts may require them).", None),
        "discharge_criteria": ("When treatment will end.", ["PCL-5 below 33 on two reviews"]),
        "progress_notes": ("The plan-level progress summary at each review.", None),
        "signatures": ("Who signed the plan, or why not.", None),
        "revisions": ("The revision history: one entry per version.", None),
    },
    "PlanInfo": {
        "id": ("Plan id: letters, digits, '.', '-', '_'; it names the output files.", "TP-0001"),
        "version": ("Version of this plan; documents of each version are kept.", 2),
        "status": ("Where the plan stands.", "active"),
        "created": ("When the plan was first written (YYYY-MM-DD).", "2026-08-03"),
        "effective": ("When the plan took effect (YYYY-MM-DD).", "2026-08-03"),
        "review_by": ("When the plan must be reviewed (YYYY-MM-DD).", "2027-01-27"),
        "last_reviewed": ("When the plan was last reviewed (YYYY-MM-DD).", "2026-10-29"),
        "layout": ("The layout its documents use by default.", "standard"),
        "language": ("The plan's language, a BCP 47 tag.", "en"),
    },
    "Client": {
        "name": ("The client's full name.", "Alex Rivera"),
        "date_of_birth": ("Date of birth (YYYY-MM-DD).", "1990-04-12"),
        "preferred_name": ("The name the client goes by.", "Alex"),
        "pronouns": ("The client's pronouns.", "they/them"),
        "gender": ("Gender, as the client states it.", "non-binary"),
        "address": ("Postal address.", "1 Example Street, Springfield"),
        "phone": ("Phone number.", "555-0100"),
        "email": ("Email address.", "alex@example.org"),
        "emergency_contact": ("Who to call in an emergency.", None),
        "coverage": ("Insurance coverage.", None),
    },
    "EmergencyContact": {
        "name": ("Contact's name.", "Sam Rivera"),
        "relationship": ("Relationship to the client.", "sister"),
        "phone": ("Contact's phone number.", "555-0101"),
    },
    "Coverage": {
        "payer": ("The insurer.", "Example Health Plan"),
        "plan_name": ("The insurance plan.", "PPO Silver"),
        "member_id": ("The client's member id.", "M123456789"),
        "group_number": ("Group number.", "G-1000"),
        "authorization_number": (
            "The older key for authorization.number; give one or the other.",
            "AUTH-1",
        ),
        "authorization": ("The payer's current authorization of sessions.", None),
    },
    "Authorization": {
        "number": ("The authorization number the payer issued.", "AUTH-77120"),
        "start": ("First day the authorization covers (YYYY-MM-DD).", "2026-08-01"),
        "end": ("Last day it covers (YYYY-MM-DD), not before start.", "2027-01-31"),
        "sessions": ("Sessions authorized.", 24),
        "used": ("Sessions used so far (0 or more).", 6),
    },
    "Provider": {
        "name": ("The clinician's name.", "Morgan Reyes"),
        "credentials": ("Licence or degree letters.", "LCSW"),
        "npi": ("National Provider Identifier: 10 digits with a valid check digit.", "1234567893"),
        "license": ("State licence number.", "LCSW-1"),
        "organization": ("Practice or clinic.", "Example Counseling"),
        "phone": ("Practice phone number.", "555-0102"),
        "supervisor": ("Clinical supervisor, when there is one.", None),
    },
    "Practice": {
        "name": ("The practice or agency, printed as letterhead.", "Northgate Family Therapy"),
        "address": ("The address, one line each.", ["12 Elm Street", "Springfield, IL 62701"]),
        "phone": ("The practice's phone number.", "555-0110"),
        "fax": ("The practice's fax number.", "555-0111"),
        "npi": ("The organization's (type 2) NPI, with a valid check digit.", "1245319599"),
        "tax_id": (
            "Employer identification number NN-NNNNNNN (payer documents only).",
            "12-3456789",
        ),
        "crisis_phone": ("The after-hours or crisis number, on every client copy.", "555-0199"),
        "country": ("ISO 3166 country code: which public crisis lines are printed.", "US"),
    },
    "Supervisor": {
        "name": ("The supervisor's name.", "Jamie Chen"),
        "credentials": ("Licence or degree letters.", "PhD"),
        "npi": ("National Provider Identifier.", "1245319599"),
    },
    "Assessment": {
        "history": ("Psychosocial history (Markdown).", "Works as a nurse; lives with a partner."),
        "symptom_onset": ("When and how symptoms began (Markdown).", "After a car accident."),
        "prior_treatment": ("Earlier treatment (Markdown).", "None."),
        "medications": ("Current medications.", ["None"]),
        "risk": ("Current risk and its basis.", None),
        "strengths": ("The client's strengths.", ["Supportive family"]),
        "needs": ("What the client needs (person-centred).", ["Help with sleep"]),
        "abilities": ("What the client is able to do.", ["Keeps a daily schedule"]),
        "preferences": ("How the client wants care given.", ["Evening sessions"]),
        "barriers": ("Barriers to treatment.", ["Shift work"]),
        "baseline_measures": ("Scores at intake.", None),
    },
    "Risk": {
        "level": ("Current risk level.", "low"),
        "summary": ("The basis of the risk level.", "Denies suicidal ideation."),
    },
    "MeasureResult": {
        "instrument": ("A known instrument (PHQ-9, GAD-7, PCL-5...).", "PHQ-9"),
        "date": ("When it was scored (YYYY-MM-DD).", "2026-08-03"),
        "score": ("The total score, inside the instrument's range.", 16),
    },
    "SafetyPlan": {
        "warning_signs": (
            "Thoughts, moods, situations that come before a crisis.",
            ["Not sleeping"],
        ),
        "coping_strategies": ("What the client can do alone.", ["Walk the dog"]),
        "distractions": ("People and places that take the mind off things.", ["The library"]),
        "supports": ("People to ask for help, with their phone numbers.", None),
        "professionals": ("Clinicians and agencies to contact.", None),
        "means_safety": ("Steps to make the environment safer.", ["Medicines locked away"]),
        "reasons_for_living": ("The client's reasons for living.", ["My sister"]),
        "reviewed": (
            "When it was made or last reviewed with the client (YYYY-MM-DD).",
            "2026-09-15",
        ),
    },
    "Support": {
        "name": ("The person's name.", "Ana Whitfield"),
        "phone": ("Their phone number.", "555-0142"),
        "relationship": ("Who they are to the client.", "mother"),
    },
    "Professional": {
        "name": ("The clinician or agency.", "Priya Natarajan"),
        "phone": ("Their phone number.", "555-0110"),
        "role": ("Their role.", "therapist"),
    },
    "MedicalNecessity": {
        "rationale": ("Why this level and amount of care is needed now (Markdown).", None),
        "level_of_care": ("The level of care requested.", "outpatient"),
        "functional_impairments": ("How the condition limits daily life, by domain.", None),
    },
    "FunctionalImpairment": {
        "domain": ("The area of life affected.", "school"),
        "description": ("How it is affected.", "Missed seven school days in a month."),
    },
    "PresentingProblem": {
        "text": ("The presenting problem (Markdown).", "Low mood for six months."),
        "client_words": ("The problem in the client's own words.", "I can't get going."),
        "client_summary": (
            "The problem in plain words for the client copy, shown there in place of text.",
            "You have felt low and tired for six months, and it is hard to get going.",
        ),
    },
    "Diagnosis": {
        "code": ("A billable ICD-10-CM code of the release plandoc names, with its dot.", "F32.1"),
        "description": ("The diagnosis in words.", "Major depressive disorder, moderate"),
        "primary": ("Whether this is the primary diagnosis (exactly one is).", True),
    },
    "Contract": {
        "summary": ("What client and clinician agree to (Markdown).", "Weekly CBT."),
        "modality": ("The therapy modality.", "Cognitive behavioural therapy"),
        "type": ("Individual, couple, family or group.", "individual"),
        "responsibilities": ("Who does what.", None),
        "client_agreement": ("Whether the client agreed, when, or why not.", None),
    },
    "Responsibility": {
        "party": ("Who has these duties.", "client"),
        "duties": ("The duties.", ["Attend weekly sessions"]),
    },
    "ClientAgreement": {
        "agreed": ("Whether the client agreed to the plan.", True),
        "date": ("When they agreed (YYYY-MM-DD).", "2026-08-03"),
        "declined_reason": ("Why the client has not agreed.", None),
    },
    "Goal": {
        "id": ("Goal id, unique in the plan.", "G1"),
        "term": ("Short- or long-term.", "short"),
        "statement": ("The goal, measurable.", "Reduce depressive symptoms to the mild range."),
        "client_words": ("The goal in the client's own words.", "I want to enjoy things again."),
        "target_date": ("When it should be reached (YYYY-MM-DD).", "2027-01-31"),
        "measure": ("How it is measured: a rating scale or a counted behaviour.", None),
        "objectives": ("The steps toward the goal (at least one).", None),
        "status": ("Where the goal stands.", "in-progress"),
        "progress": ("Scores and notes recorded since, by date.", None),
    },
    "RatingScale": {
        "instrument": ("A known instrument (PHQ-9, GAD-7, PCL-5...).", "PHQ-9"),
        "baseline": ("The score at the start.", 16),
        "target": ("The score to reach.", 8),
    },
    "BehaviorTracking": {
        "behavior": ("The behaviour counted.", "Panic attacks"),
        "unit": ("What a count means.", "attacks per week"),
        "baseline": ("The count at the start.", 4),
        "target": ("The count to reach.", 0),
    },
    "ProgressEntry": {
        "date": (
            "When it was recorded (YYYY-MM-DD), from the plan's creation to today.",
            "2026-09-01",
        ),
        "score": ("The score on the goal's measure.", 12),
        "status": ("The goal's status then.", "in-progress"),
        "note": ("A short note.", "Completed the activity log."),
    },
    "Objective": {
        "id": ("Objective id, unique in the plan.", "G1.1"),
        "statement": ("The step, observable.", "Log three enjoyable activities a week."),
        "target_date": ("When it should be done (YYYY-MM-DD).", "2026-10-31"),
        "methods": ("Ids of the methods it uses (each must exist).", ["M1"]),
        "status": ("Where the objective stands.", "not-started"),
        "client_statement": (
            "The step in plain words for the client copy, shown there in place of statement.",
            "Write down three things you enjoyed each week.",
        ),
    },
    "Method": {
        "id": ("Method id, unique in the plan.", "M1"),
        "name": ("The intervention.", "Cognitive behavioural therapy"),
        "description": ("What it involves.", "Weekly sessions with homework."),
        "responsible": ("Who carries it out.", "clinician"),
        "frequency": ("How often.", "weekly"),
        "session_minutes": ("Length of a session, in minutes.", 50),
        "client_description": (
            "What it involves, in plain words for the client copy, shown there in place of "
            "description.",
            "We meet each week to talk, and you try one new thing at home.",
        ),
    },
    "TimeEstimate": {
        "sessions": ("Number of sessions.", 16),
        "frequency": ("How often.", "weekly"),
        "weeks": ("Over how many weeks.", 20),
        "note": ("A short note.", "Then monthly boosters."),
    },
    "Service": {
        "cpt": ("CPT or HCPCS code (90837, H0004).", "90837"),
        "description": ("The service.", "Psychotherapy, 60 minutes"),
        "frequency": ("How often.", "weekly"),
        "units": ("Units requested.", 16),
        "minutes": ("Planned session length in minutes, for a timed code.", 60),
        "method": ("The id of the method this service bills for.", "M1"),
        "place_of_service": ("Two-digit CMS place of service (11 office, 10 telehealth).", "11"),
        "modifiers": ("Two-character modifiers (95, GT, HO), at most four.", ["95"]),
    },
    "ProgressNote": {
        "date": ("The review's date (YYYY-MM-DD).", "2026-10-29"),
        "text": ("Progress and outcomes at that review (Markdown).", "Mood improving."),
    },
    "Signature": {
        "role": ("Who signs.", "client"),
        "name": ("The signer's name.", "Alex Rivera"),
        "credentials": ("Licence or degree letters (clinicians).", "LCSW"),
        "date": ("When they signed (YYYY-MM-DD); or give declined_reason.", "2026-08-03"),
        "declined_reason": ("Why there is no signature.", None),
        "method": ("wet (on paper, the default) or electronic (plandoc sign).", "electronic"),
        "signed_at": (
            "When it was signed, with its UTC offset; its date is the signature's date.",
            "2026-08-03T14:05:00-05:00",
        ),
        "content_sha256": (
            "SHA-256 of the plan's signed content, as plandoc sign writes it.",
            None,
        ),
        "parts_sha256": (
            "Each part of the signed content (goal G1, objective G1.1, method M1, a section)"
            " with the first 16 hex digits of its SHA-256, as plandoc sign writes it.",
            None,
        ),
    },
    "Revision": {
        "version": ("The version this entry describes (not later than plan.version).", 2),
        "date": ("When that version was made (YYYY-MM-DD).", "2026-10-29"),
        "summary": ("What changed, in a sentence.", "Twelve-week review: goal 1 revised."),
        "author": ("Who made it.", "Morgan Reyes, LCSW"),
    },
}

_CODE_FIELDS = (
    {("PlanInfo", "id"), ("Provider", "npi"), ("Supervisor", "npi")}
    | {(name, "id") for name in ("Goal", "Objective", "Method")}
    | {("Diagnosis", "code"), ("Service", "cpt"), ("Coverage", "member_id")}
)


def _is_code(name: str, field: str, prop: dict[str, Any]) -> bool:
    """A field the model reads as a code (`model.plan.Code`): a number is taken as its
    digits, so the schema takes a number too (never for a list of codes)."""
    part = getattr(model, name, None)
    info = getattr(part, "model_fields", {}).get(field)
    if info is None or prop.get("type") == "array":
        return False
    if any(item.get("type") == "array" for item in prop.get("anyOf", [])):
        return False
    return "_code_text" in repr(info.annotation) + repr(info.metadata)


def plan_schema() -> dict[str, Any]:
    schema = model.Plan.model_json_schema(mode="validation", ref_template="#/$defs/{model}")
    definitions = schema.setdefault("$defs", {})
    definitions["Plan"] = {k: v for k, v in schema.items() if k not in ("$defs",)}
    for name, definition in definitions.items():
        _document(name, definition)
    top = definitions.pop("Plan")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "plandoc treatment plan (format 1)",
        "description": "A mental-health treatment plan as plandoc reads it: the JSON form, "
        "or the YAML front-matter of the Markdown form.",
        **{k: v for k, v in top.items() if k not in ("title", "description")},
        "$defs": definitions,
    }


def schema_text() -> str:
    return json.dumps(plan_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _number_bounds(prop: dict[str, Any]) -> list[str]:
    """What a number field may be (model.NUMBERS), said where an editor shows it."""
    arms = [prop, *prop.get("anyOf", [])]
    return [arm.pop("$comment") for arm in arms if "$comment" in arm]


def _document(name: str, definition: dict[str, Any]) -> None:
    properties = definition.get("properties")
    if properties is None:
        return
    properties.pop("x-", None)  # the model's own holder of x- keys
    docs = FIELD_DOCS.get(name)
    if docs is None:
        raise RuntimeError(f"schema: no field descriptions for {name} (add them to FIELD_DOCS)")
    for field, prop in properties.items():
        if field not in docs:
            raise RuntimeError(f"schema: {name}.{field} has no description in FIELD_DOCS")
        description, example = docs[field]
        prop.pop("title", None)
        prop["description"] = " ".join([description, *_number_bounds(prop)])
        if example is not None:
            prop["examples"] = [example]
        if (name, field) in _CODE_FIELDS or _is_code(name, field, prop):
            # YAML `npi: 1234567893` is read as its digits
            optional = {"type": "null"} in prop.get("anyOf", [])
            for key in ("type", "minLength", "anyOf"):
                prop.pop(key, None)
            prop["anyOf"] = [{"type": "string", "minLength": 1}, {"type": "integer"}] + (
                [{"type": "null"}] if optional else []
            )
    definition["additionalProperties"] = False
    definition["patternProperties"] = {"^x-": {"description": "Your own data, carried along."}}
    definition.pop("title", None)
    definition.setdefault("description", (model.__dict__[name].__doc__ or "").strip() or name)
