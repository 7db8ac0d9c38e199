"""The treatment plan as typed data (input format version 1).

Every class here is one part of the plan as `plan-format.md` defines it; the
field names are the keys of the JSON form. Shape and type rules live here
(pydantic turns them into field-path errors); rules that look across fields
(unique ids, dates in order, score ranges) live in `checks.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
from collections.abc import Iterator
from functools import cache
from types import SimpleNamespace
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from .problems import FORMAT_KEYS, FieldPath, Finding, plan_value

FORMAT_VERSION = 1

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{plan_value(value.strip())} is not a real calendar date") from None
    raise ValueError("must be a date written YYYY-MM-DD")


def _code_text(value: Any) -> Any:
    """Identifiers written as numbers (YAML `npi: 1234567893`) are taken as their digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PlanDate = Annotated[dt.date, BeforeValidator(_parse_date)]
# The most of each list a plan may hold (README, "Limits"): enough for any real plan, and
# a bound on the time and memory a document takes. Past one is an error naming the list.
MOST_GOALS = 50
MOST_OBJECTIVES = 30  # per goal
MOST_PROGRESS = 500  # entries per goal: weekly scores for nearly ten years
MOST_PROGRESS_NOTES = 500
MOST_OTHER = 100  # any other list: diagnoses, methods, services, signatures, medications...

Code = Annotated[str, BeforeValidator(_code_text)]
Text = Annotated[str, Field(min_length=1)]
Score = int | float
Party = Literal["client", "clinician", "family", "other"]
GoalStatus = Literal[
    "not-started", "in-progress", "met", "partially-met", "not-met", "revised", "discontinued"
]


class PlanPart(BaseModel):
    """Base of every part: unknown keys are errors, `x-` keys are carried along."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        populate_by_name=False,
        frozen=True,
    )

    extensions: dict[str, Any] = Field(default_factory=dict, alias="x-", exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _collect_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(isinstance(k, str) and k.startswith("x-") for k in data):
            kept = {
                k: v for k, v in data.items() if not (isinstance(k, str) and k.startswith("x-"))
            }
            kept["x-"] = {
                k: v for k, v in data.items() if isinstance(k, str) and k.startswith("x-")
            }
            return kept
        return data


# --- identification ---------------------------------------------------------


class PlanInfo(PlanPart):
    id: Annotated[str, BeforeValidator(_code_text)]
    version: Annotated[int, Field(ge=1)]
    status: Literal["draft", "active", "on-hold", "completed", "revoked"]
    created: PlanDate
    effective: PlanDate
    review_by: PlanDate | None = None
    last_reviewed: PlanDate | None = None
    layout: str | None = None
    language: str = "en"


class EmergencyContact(PlanPart):
    name: Text
    relationship: Text
    phone: Code


class Coverage(PlanPart):
    payer: Text
    plan_name: str | None = None
    member_id: Code | None = None
    group_number: Code | None = None
    authorization_number: Code | None = None


class Client(PlanPart):
    name: Text
    date_of_birth: PlanDate
    preferred_name: str | None = None
    pronouns: str | None = None
    gender: str | None = None
    address: str | None = None
    phone: Code | None = None
    email: str | None = None
    emergency_contact: EmergencyContact | None = None
    coverage: Coverage | None = None

    @property
    def called(self) -> str:
        """How the plan speaks of the client: preferred name first."""
        return self.preferred_name or self.name


class Supervisor(PlanPart):
    name: Text
    credentials: Text
    npi: Code | None = None


class Provider(PlanPart):
    name: Text
    credentials: Text
    npi: Code | None = None
    license: Code | None = None
    organization: str | None = None
    phone: Code | None = None
    supervisor: Supervisor | None = None


# --- assessment ---------------------------------------------------------------


class MeasureResult(PlanPart):
    instrument: Text
    date: PlanDate
    score: Score


class Risk(PlanPart):
    level: Literal["low", "moderate", "high", "imminent"]
    summary: Text


class Assessment(PlanPart):
    history: Text
    symptom_onset: Text
    prior_treatment: Text
    medications: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    risk: Risk | None = None
    strengths: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    barriers: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    baseline_measures: list[MeasureResult] = Field(default_factory=list, max_length=MOST_OTHER)


class PresentingProblem(PlanPart):
    text: Text
    client_words: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _plain_string(cls, data: Any) -> Any:
        return {"text": data} if isinstance(data, str) else data


class Diagnosis(PlanPart):
    code: Code
    description: Text
    primary: StrictBool  # true or false: "yes" is not read as true


# --- treatment contract ------------------------------------------------------


class Responsibility(PlanPart):
    party: Party
    duties: Annotated[list[Text], Field(min_length=1, max_length=MOST_OTHER)]


class ClientAgreement(PlanPart):
    agreed: StrictBool
    date: PlanDate | None = None
    declined_reason: str | None = None


class Contract(PlanPart):
    summary: Text
    modality: Text
    type: Literal["individual", "group", "family", "couples"]
    responsibilities: list[Responsibility] = Field(default_factory=list, max_length=MOST_OTHER)
    client_agreement: ClientAgreement | None = None


# --- goals, objectives, methods ---------------------------------------------


class RatingScale(PlanPart):
    """A goal measured on a standard instrument (PHQ-9, GAD-7, PCL-5...)."""

    instrument: Text
    baseline: Score
    target: Score


class BehaviorTracking(PlanPart):
    """A goal measured by counting a behaviour (panic attacks per week...)."""

    behavior: Text
    unit: Text
    baseline: Annotated[Score, Field(ge=0)]
    target: Annotated[Score, Field(ge=0)]


def _measure_kind(data: Any) -> str | None:
    if isinstance(data, RatingScale):
        return "instrument"
    if isinstance(data, BehaviorTracking):
        return "behavior"
    if isinstance(data, dict):
        if "instrument" in data:
            return "instrument"
        if "behavior" in data:
            return "behavior"
    return None


Measure = Annotated[
    Annotated[RatingScale, Tag("instrument")] | Annotated[BehaviorTracking, Tag("behavior")],
    Discriminator(
        _measure_kind,
        custom_error_type="measure_kind",
        custom_error_message=(
            "a goal must be measurable: give either `instrument`, `baseline` and `target` "
            "(a rating scale) or `behavior`, `unit`, `baseline` and `target` (behavioural tracking)"
        ),
    ),
]


class ProgressEntry(PlanPart):
    date: PlanDate
    score: Score | None = None
    status: GoalStatus | None = None
    note: str | None = None


class Objective(PlanPart):
    id: Code
    statement: Text
    target_date: PlanDate
    methods: Annotated[list[Code], Field(min_length=1, max_length=MOST_OTHER)]
    status: GoalStatus | None = None


class Goal(PlanPart):
    id: Code
    term: Literal["short", "long"]
    statement: Text
    client_words: str | None = None
    target_date: PlanDate
    measure: Measure
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=MOST_OBJECTIVES)]
    status: GoalStatus | None = None
    progress: list[ProgressEntry] = Field(default_factory=list, max_length=MOST_PROGRESS)


class Method(PlanPart):
    id: Code
    name: Text
    description: Text
    responsible: Party
    frequency: Text
    session_minutes: Annotated[int, Field(ge=1)]


class TimeEstimate(PlanPart):
    sessions: Annotated[int, Field(ge=1)]
    frequency: Text
    weeks: Annotated[int, Field(ge=1)]
    note: str | None = None


class Service(PlanPart):
    cpt: Code
    description: Text
    frequency: Text
    units: Annotated[int, Field(ge=1)]


class ProgressNote(PlanPart):
    date: PlanDate
    text: Text


class Signature(PlanPart):
    role: Literal["client", "guardian", "clinician", "supervisor", "other"]
    name: Text
    credentials: str | None = None
    date: PlanDate | None = None
    declined_reason: str | None = None


class Revision(PlanPart):
    """One entry of the plan's revision history (an extension of the spec's format)."""

    version: Annotated[int, Field(ge=1)]
    date: PlanDate
    summary: Text
    author: str | None = None


# --- the whole plan ----------------------------------------------------------


class Plan(PlanPart):
    """One client's treatment plan."""

    plandoc: Literal[1]
    plan: PlanInfo
    client: Client
    provider: Provider
    assessment: Assessment
    presenting_problem: PresentingProblem
    diagnoses: Annotated[list[Diagnosis], Field(min_length=1, max_length=MOST_OTHER)]
    contract: Contract
    goals: Annotated[list[Goal], Field(min_length=1, max_length=MOST_GOALS)]
    methods: Annotated[list[Method], Field(min_length=1, max_length=MOST_OTHER)]
    time_estimate: TimeEstimate
    services: list[Service] = Field(default_factory=list, max_length=MOST_OTHER)
    discharge_criteria: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    progress_notes: list[ProgressNote] = Field(default_factory=list, max_length=MOST_PROGRESS_NOTES)
    signatures: list[Signature] = Field(default_factory=list, max_length=MOST_OTHER)
    revisions: list[Revision] = Field(default_factory=list, max_length=MOST_OTHER)

    @property
    def primary_diagnosis(self) -> Diagnosis | None:
        return next((d for d in self.diagnoses if d.primary), None)

    def method(self, method_id: str) -> Method | None:
        return next((m for m in self.methods if m.id == method_id), None)


# --- plain data -> Plan, with type errors as findings ------------------------

_MESSAGES = {
    "missing": "missing (required)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a set of keys (an object)",
    "dict_type": "must be a set of keys (an object)",
    "model_attributes_type": "must be a set of keys (an object)",
    "string_too_short": "must not be empty",
}


def parse_plan(data: Any) -> tuple[Plan | None, list[Finding]]:
    """Plain data -> (Plan, []) or (None, every type and shape problem)."""
    try:
        return Plan.model_validate(data), []
    except ValidationError as error:
        findings = [_finding(e) for e in error.errors(include_url=False, include_input=False)]
        return None, list(dict.fromkeys(findings))  # a number's two union arms: one line


def valid_parts(data: Any) -> SimpleNamespace:
    """The top-level parts of an invalid plan that are valid on their own.

    Lets the cross-field checks still report on the parts they can read, so a
    user sees every problem of a file at once, not one layer at a time.
    """
    parts = SimpleNamespace()
    if not isinstance(data, dict):
        return parts
    for name, field in Plan.model_fields.items():
        if name in data:
            with contextlib.suppress(ValidationError):
                setattr(parts, name, _part_adapter(name).validate_python(data[name]))
        elif not field.is_required():
            setattr(parts, name, field.get_default(call_default_factory=True))
    return parts


@cache
def _part_adapter(name: str) -> TypeAdapter[Any]:
    field = Plan.model_fields[name]
    if field.metadata:
        return TypeAdapter(Annotated[field.annotation, *field.metadata])
    return TypeAdapter(field.annotation)


def _finding(error: Any) -> Finding:
    path = _clean_loc(error["loc"])
    if path and path[-1] in ("int", "float"):  # Score = int | float: pydantic reports each arm
        return Finding(path[:-1], "must be a number")
    kind = error["type"]
    if kind == "extra_forbidden":
        return Finding(path, _unknown_key_message(path))
    if kind == "literal_error":
        return Finding(path, f"must be one of: {error['ctx']['expected']}")
    if kind == "too_long":
        most, found = error["ctx"]["max_length"], error["ctx"]["actual_length"]
        return Finding(
            path,
            f"holds {found} entries; a plan may hold at most {most} here (README: Limits)",
        )
    if kind == "too_short":
        return Finding(path, f"needs at least {error['ctx']['min_length']}")
    if kind in ("greater_than_equal", "greater_than"):
        return Finding(path, f"must be at least {error['ctx'].get('ge', error['ctx'].get('gt'))}")
    if kind == "value_error":
        return Finding(path, str(error["ctx"]["error"]))
    if kind == "measure_kind":
        return Finding(path, error["msg"])
    return Finding(path, _MESSAGES.get(kind, error["msg"]))


def _clean_loc(loc: tuple[Any, ...]) -> FieldPath:
    """Drop the union tags pydantic puts in a location (`measure.instrument.target`)."""
    parts: list[str | int] = []
    for index, part in enumerate(loc):
        if part in ("instrument", "behavior") and index > 0 and loc[index - 1] == "measure":
            continue
        parts.append(part)
    return tuple(parts)


def _unknown_key_message(path: FieldPath) -> str:
    key = str(path[-1])
    model = _model_at(path[:-1])
    known = [name for name in model.model_fields if name != "extensions"] if model else []
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return (
        f"unknown key {plan_value(key, quote=True)}{hint}; "
        "custom data goes in keys starting with 'x-'"
    )


def _model_at(path: FieldPath) -> type[BaseModel] | None:
    model: Any = Plan
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model else None
        if field is None:
            return None
        model = model_in(field.annotation)
    return model


def model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = model_in(arg)
        if found is not None:
            return found
    return None


def _format_keys(model: type[BaseModel], seen: set[type[BaseModel]]) -> Iterator[str]:
    """Every key the plan format defines, from the model down."""
    seen.add(model)
    for name, field in model.model_fields.items():
        yield field.alias or name
        for inner in _models_in(field.annotation):
            if inner not in seen:
                yield from _format_keys(inner, seen)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


FORMAT_KEYS.update(_format_keys(Plan, set()))
