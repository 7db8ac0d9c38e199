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
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StrictBool,
    StringConstraints,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from plandoc.problems import FORMAT_KEYS, TYPE_MESSAGES, FieldPath, Finding, plan_value

FORMAT_VERSION = 1

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# The dates a plan can mean: a client born since 1900, a plan reviewed before 2200. Past
# them, arithmetic on a date (a review 180 days after one in 9999) would leave the calendar.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def _parse_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"{plan_value(value.strip())} is not a real calendar date") from None
    else:
        raise ValueError("must be a date written YYYY-MM-DD")
    if not FIRST_DATE <= day <= LAST_DATE:
        raise ValueError(
            f"{plan_value(day.isoformat())} is out of bounds: a plan's dates are from "
            f"{FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()} (docs: Limits)"
        )
    return day


def _code_text(value: Any) -> Any:
    """Identifiers written as numbers (YAML `npi: 1234567893`) are taken as their digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PlanDate = Annotated[dt.date, BeforeValidator(_parse_date)]


# --- numbers ------------------------------------------------------------------
#
# Every number of the format is one of these kinds, with the bounds a clinic can
# mean (docs: "Limits"). They bound what a document has to show and draw: a
# number that passes renders in every layout and format, in bounded time and memory.


@dataclass(frozen=True, slots=True)
class Bounds:
    """What a number of one kind may be: from `least` to `most`, with at most `places`
    decimal places (0: a whole number)."""

    least: int
    most: int
    places: int
    why: str


NUMBERS: dict[str, Bounds] = {
    "score": Bounds(-100_000, 100_000, 2, "any scale a clinic scores, with room for its own"),
    "count": Bounds(0, 100_000, 2, "a behaviour counted in its unit: steps a day fit"),
    "version": Bounds(1, 9_999, 0, "a new version a week for 190 years"),
    "sessions": Bounds(1, 2_000, 0, "a session a day for five years"),
    "weeks": Bounds(1, 520, 0, "ten years: a plan is reviewed long before"),
    "session_minutes": Bounds(1, 600, 0, "ten hours: a full day programme"),
    "units": Bounds(1, 9_999, 0, "15-minute units of a day programme for a year"),
    "sessions_used": Bounds(0, 2_000, 0, "as many as sessions: none used yet is 0"),
}
NOT_FINITE = "must be a finite number"
# Text read as a number (YAML keeps `12.50` and `1e5` as text, so as not to lose digits).
_NUMBER_TEXT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_WHOLE_TEXT = re.compile(r"[-+]?[0-9]+")
_MOST_DIGITS = 15


def number_text(value: float, places: int = 2) -> str:
    """A number as a document shows it: 7 and 7.0 -> '7', 2.50 -> '2.5', -0.0 -> '0'.

    Never an exponent, and never more than `places` decimals (the model allows 2),
    so it reads the same in every layout and format.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    text = f"{value:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def date_text(value: dt.date, date_format: str = "%Y-%m-%d") -> str:
    """A date as a document shows it, in a layout's `date_format` (strftime codes, plus
    "%-d", the day without a leading zero, done here: it is not portable to Windows)."""
    return value.strftime(date_format.replace("%-d", str(value.day)))


def read_number(value: Any, kind: str) -> int | float:
    """A plan's number of `kind` (see NUMBERS), or ValueError with a one-line message.

    Booleans are not numbers (`true` is not 1). Text is read when it is a plain
    number (`"16"`, YAML's `12.50`). A whole number written `16.0` is read as 16;
    -0.0 as 0. Decimal places are counted on the number as written (JSON's
    shortest form of the float), exactly, never through a rounding context.
    """
    bounds = NUMBERS[kind]
    whole = bounds.places == 0
    wanted = f"a whole number from {bounds.least:,} to {bounds.most:,}" if whole else "a number"
    if isinstance(value, bool):
        raise ValueError(f"must be {wanted}, not true or false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{NOT_FINITE} ({plan_value(value)})")
    exact = _exact(value)
    if exact is None:
        raise ValueError(f"must be {wanted}")
    shown = plan_value(_shown(value))
    if whole and (exact != exact.to_integral_value() or not bounds.least <= exact <= bounds.most):
        raise ValueError(f"must be {wanted}, not {shown}")
    if not bounds.least <= exact <= bounds.most:
        raise ValueError(
            f"{shown} is out of bounds: a {kind} is from {bounds.least:,} to {bounds.most:,} "
            "(docs: Limits)"
        )
    if _places(exact) > bounds.places:
        raise ValueError(
            f"{shown} has more than {bounds.places} decimal places; round it (docs: Limits)"
        )
    if whole or (isinstance(value, str) and _WHOLE_TEXT.fullmatch(value.strip())):
        return int(exact)
    number = float(exact) if isinstance(value, str) else value
    return number + 0 if number == 0 else number  # -0.0 + 0 is 0.0


def _exact(value: Any) -> Decimal | None:
    """The number exactly as written, or None for what is not a number."""
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest text that reads back as this float
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 2 * _MOST_DIGITS and _NUMBER_TEXT.fullmatch(text):
            return Decimal(text)
    return None


def _places(exact: Decimal) -> int:
    """Decimal places, trailing zeros aside (`12.50` has 1): exact, with no context."""
    _, digits, exponent = exact.as_tuple()
    assert isinstance(exponent, int)  # finite: NaN and infinities are refused before
    if not any(digits):
        return 0  # 0.000 is 0
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return max(0, -exponent)


def _shown(value: Any) -> str:
    """A number from a plan, as a message quotes it (never 300 digits)."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and abs(value) >= 10**_MOST_DIGITS:
        return f"a number of more than {_MOST_DIGITS} digits"
    return repr(value)


def _number(kind: str) -> Any:
    """The model's type for a number of `kind`: one message a field, and its JSON Schema."""
    bounds = NUMBERS[kind]
    what = "A whole number" if bounds.places == 0 else "A number"
    places = "" if bounds.places == 0 else f", with at most {bounds.places} decimal places"
    schema = {  # schema.py adds the "$comment" to the field's description
        "type": "integer" if bounds.places == 0 else "number",
        "minimum": bounds.least,
        "maximum": bounds.most,
        "$comment": f"{what} from {bounds.least:,} to {bounds.most:,}{places}.",
    }
    least, most, digits = bounds.least, bounds.most, bounds.places

    def validate(value: Any) -> int | float:
        # The usual number, read at once; anything else (and every error) by read_number.
        if type(value) is int and least <= value <= most:
            return value
        if (  # at most `digits` decimals (the same test as read_number's)
            digits and type(value) is float and least <= value <= most and value
        ) and round(value, digits) == value:
            return value
        return read_number(value, kind)

    python = int if bounds.places == 0 else int | float
    return Annotated[
        python,  # type: ignore[valid-type]
        PlainValidator(validate),
        WithJsonSchema(schema),
    ]


Score = _number("score")
Count = _number("count")
Version = _number("version")
Sessions = _number("sessions")
Weeks = _number("weeks")
SessionMinutes = _number("session_minutes")
SessionsUsed = _number("sessions_used")
Units = _number("units")


def _not_true_or_false(value: Any) -> Any:
    if isinstance(value, bool):  # Python's True == 1: `plandoc: true` is not format 1
        raise ValueError("must be 1, not true or false")
    return value


# --- ids ------------------------------------------------------------------------
#
# Texts reach the model in Unicode's composed form (NFC: the reader makes them so),
# so "É" typed as one character or as "E" and an accent is one and the same id.


# Characters an id must not hold: they show as nothing (or as a plain space), so two
# ids that look the same would differ. Unicode's format characters (zero-width
# space and joiners, bidi controls, the BOM, soft hyphen...), controls, separators
# and spaces other than the plain one, unassigned and private-use code points, and
# the other default-ignorable characters (variation selectors, Hangul fillers...).
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}
_INVISIBLE_EXTRA = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef]"
)


def invisible_character(text: str) -> tuple[int, str] | None:
    """The first character of `text` that cannot be seen (position, `U+200B ZERO WIDTH SPACE`)."""
    for index, char in enumerate(text):
        category = unicodedata.category(char)
        if (category in _INVISIBLE_CATEGORIES and char != " ") or _INVISIBLE_EXTRA.match(char):
            name = unicodedata.name(char, "")
            return index + 1, f"U+{ord(char):04X}" + (f" {name}" if name else "")
    return None


def _visible_id(value: str) -> str:
    if value.isascii() and value.isprintable():  # the usual id: no need to look closer
        return value
    found = invisible_character(value)
    if found:
        position, character = found
        raise ValueError(
            f"holds a character that does not show as itself ({character}, at character "
            f"{position}); ids that look the same must be the same: remove it"
        )
    return value


Id = Annotated[str, BeforeValidator(_code_text), AfterValidator(_visible_id)]
# The most of each list a plan may hold (docs: "Limits"): enough for any real plan, and
# a bound on the time and memory a document takes. Past one is an error naming the list.
MOST_GOALS = 50
MOST_OBJECTIVES = 30  # per goal
MOST_PROGRESS = 500  # entries per goal: weekly scores for nearly ten years
MOST_PROGRESS_NOTES = 500
MOST_OTHER = 100  # any other list: diagnoses, methods, services, signatures, medications...

Code = Annotated[str, Field(min_length=1), BeforeValidator(_code_text)]  # blank is not a code
Text = Annotated[str, Field(min_length=1)]
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
        defer_build=True,  # the whole tree is built once, with the plan, when first used
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
    version: Version
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


class Authorization(PlanPart):
    """What the payer authorized: its number, period and sessions, and how many are used."""

    number: Code | None = None
    start: PlanDate | None = None
    end: PlanDate | None = None
    sessions: Sessions | None = None
    used: SessionsUsed | None = None

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise ValueError(
                f"the authorization ends ({plan_value(end.isoformat())}) before it starts "
                f"({plan_value(start.isoformat())}): give start first"
            )
        return end

    @property
    def remaining(self) -> int | None:
        """Sessions left: authorized less used (none used when `used` is not given), never
        below 0; None without the sessions authorized."""
        if self.sessions is None:
            return None
        return max(self.sessions - (self.used or 0), 0)

    @property
    def over(self) -> int:
        """Sessions used beyond those authorized (0 when within)."""
        if self.sessions is None or self.used is None:
            return 0
        return max(self.used - self.sessions, 0)


class Coverage(PlanPart):
    payer: Text
    plan_name: str | None = None
    member_id: Code | None = None
    group_number: Code | None = None
    authorization_number: Code | None = None  # the older key: authorization.number
    authorization: Authorization | None = None

    @field_validator("authorization")
    @classmethod
    def _one_number(cls, value: Authorization | None, info: ValidationInfo) -> Any:
        if value is not None and info.data.get("authorization_number") is not None:
            raise ValueError(
                "give the authorization number once: authorization.number (the older "
                "authorization_number means the same)"
            )
        return value

    @property
    def authorized(self) -> Authorization | None:
        """The authorization, with the older `authorization_number` read as its number."""
        if self.authorization is not None:
            return self.authorization
        if self.authorization_number is not None:
            return Authorization(number=self.authorization_number)
        return None


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


TAX_ID = re.compile(r"[0-9]{2}-[0-9]{7}")


def _tax_id(value: str) -> str:
    if not TAX_ID.fullmatch(value):
        raise ValueError(
            "a Tax ID (employer identification number) is written NN-NNNNNNN: "
            "two digits, a hyphen, seven digits"
        )
    return value


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError("a country is its two-letter ISO 3166 code in capitals, such as US")
    return value


class Practice(PlanPart):
    """The practice or agency: its letterhead on every document (and its billing ids on payers')."""

    name: Text
    address: list[Text] = Field(default_factory=list, max_length=6)
    phone: Code | None = None
    fax: Code | None = None
    npi: Code | None = None  # the organization's (type 2) NPI
    tax_id: Annotated[Code, AfterValidator(_tax_id)] | None = None  # EIN: billing data
    crisis_phone: Code | None = None  # after hours: printed on every client copy
    country: Annotated[str, AfterValidator(_country)] = "US"  # ISO 3166: the crisis lines


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
    needs: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    abilities: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    preferences: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    barriers: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    baseline_measures: list[MeasureResult] = Field(default_factory=list, max_length=MOST_OTHER)


class Contact(PlanPart):
    """Someone to call in a crisis: a person the client trusts, or a professional."""

    name: Text
    phone: Code


class Support(Contact):
    relationship: Text


class Professional(Contact):
    role: Text


class SafetyPlan(PlanPart):
    """The client's crisis safety plan, in the steps of the Stanley-Brown Safety Planning
    Intervention: warning signs, what to do alone, people and places that distract,
    people to ask for help, professionals to call, a safer environment, reasons to live."""

    warning_signs: Annotated[list[Text], Field(min_length=1, max_length=MOST_OTHER)]
    coping_strategies: Annotated[list[Text], Field(min_length=1, max_length=MOST_OTHER)]
    distractions: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    supports: list[Support] = Field(default_factory=list, max_length=MOST_OTHER)
    professionals: list[Professional] = Field(default_factory=list, max_length=MOST_OTHER)
    means_safety: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    reasons_for_living: list[Text] = Field(default_factory=list, max_length=MOST_OTHER)
    reviewed: PlanDate

    @model_validator(mode="after")
    def _someone_to_call(self) -> SafetyPlan:
        if not self.supports and not self.professionals:
            raise ValueError(NO_ONE_TO_CALL)
        return self


NO_ONE_TO_CALL = (
    "a safety plan names someone to call: give supports (people to ask for "
    "help) or professionals (clinicians and agencies), with their phone numbers"
)


def no_one_to_call(data: Any) -> Finding | None:
    """The safety plan's "someone to call", read from the plain data: said with the
    safety plan's other problems (the model says it only once its fields are valid)."""
    safety_plan = data.get("safety_plan") if isinstance(data, dict) else None
    if not isinstance(safety_plan, dict):
        return None
    if safety_plan.get("supports") or safety_plan.get("professionals"):
        return None
    return Finding(("safety_plan",), NO_ONE_TO_CALL)


LevelOfCare = Literal[
    "outpatient", "intensive-outpatient", "partial-hospitalization", "residential", "inpatient"
]
ImpairmentDomain = Literal[
    "work", "school", "relationships", "self-care", "housing", "legal", "health", "other"
]


class FunctionalImpairment(PlanPart):
    domain: ImpairmentDomain
    description: Text


class MedicalNecessity(PlanPart):
    """Why this level and amount of care is needed now: what a reviewer authorizes on."""

    rationale: Text | None = None
    level_of_care: LevelOfCare | None = None
    functional_impairments: list[FunctionalImpairment] = Field(
        default_factory=list, max_length=MOST_OTHER
    )


class PresentingProblem(PlanPart):
    text: Text
    client_words: str | None = None
    client_summary: Text | None = None  # plain words for the client copy, in place of `text`

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
    baseline: Count
    target: Count


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
    id: Id
    statement: Text
    target_date: PlanDate
    methods: Annotated[list[Id], Field(min_length=1, max_length=MOST_OTHER)]
    status: GoalStatus | None = None
    client_statement: Text | None = None  # plain words for the client copy, for `statement`


class Goal(PlanPart):
    id: Id
    term: Literal["short", "long"]
    statement: Text
    client_words: str | None = None
    target_date: PlanDate
    measure: Measure
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=MOST_OBJECTIVES)]
    status: GoalStatus | None = None
    progress: list[ProgressEntry] = Field(default_factory=list, max_length=MOST_PROGRESS)


class Method(PlanPart):
    id: Id
    name: Text
    description: Text
    responsible: Party
    frequency: Text
    session_minutes: SessionMinutes
    client_description: Text | None = None  # plain words for the client copy, for `description`


class TimeEstimate(PlanPart):
    sessions: Sessions
    frequency: Text
    weeks: Weeks
    note: str | None = None


def _modifier(value: str) -> str:
    if not re.fullmatch(r"[A-Z0-9]{2}", value):
        raise ValueError("a modifier is two capital letters or digits (95, GT, HO)")
    return value


def _place_of_service(value: str) -> str:
    if re.fullmatch(r"[0-9]", value):  # YAML reads 02 as the number 2
        digits = plan_value("0" + value, quote=True)
        raise ValueError(f"write the place of service with two digits, in quotes: {digits}")
    if not re.fullmatch(r"[0-9]{2}", value):
        raise ValueError(
            "a place of service is the two-digit CMS code (11 office, 02 or 10 telehealth)"
        )
    return value


class Service(PlanPart):
    cpt: Code
    description: Text
    frequency: Text
    units: Units
    minutes: SessionMinutes | None = None  # the planned session length, for a timed code
    method: Id | None = None  # the method this service bills for
    place_of_service: Annotated[Code, AfterValidator(_place_of_service)] | None = None
    modifiers: Annotated[list[Annotated[Code, AfterValidator(_modifier)]], Field(max_length=4)] = (
        Field(default_factory=list)
    )


class ProgressNote(PlanPart):
    date: PlanDate
    text: Text


_SIGNED_AT = re.compile(
    r"(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
_SHA256 = re.compile(r"[0-9a-f]{64}", re.ASCII)


def _parse_signed_at(value: Any) -> Any:
    """A moment with its UTC offset, as `plandoc sign` writes it: 2026-09-15T14:05:00-05:00."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    if not isinstance(value, str) or not _SIGNED_AT.fullmatch(value.strip()):
        raise ValueError(
            "must be a date and time with its UTC offset, written YYYY-MM-DDTHH:MM:SS+HH:MM "
            "(2026-09-15T14:05:00-05:00)"
        )
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{plan_value(value.strip())} is not a real date and time") from None
    _parse_date(moment.date().isoformat())  # within the calendar a plan can mean
    return moment


def _sha256_text(value: Any) -> Any:
    if not isinstance(value, str) or not _SHA256.fullmatch(value.strip()):
        raise ValueError("must be a SHA-256 written as 64 lowercase hex digits")
    return value.strip()


SIGNATURE_METHODS = ("wet", "electronic")
SIGNATURE_ROLES = ("client", "guardian", "clinician", "supervisor", "other")


PartHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


class Signature(PlanPart):
    role: Literal["client", "guardian", "clinician", "supervisor", "other"]
    name: Text
    credentials: str | None = None
    date: PlanDate | None = None
    declined_reason: str | None = None
    # How it was signed: `wet` (on paper: the default) or `electronic` (`plandoc sign`).
    method: Literal["wet", "electronic"] | None = None
    # When, with the signer's UTC offset; its date must be `date` (checks.plan_checks).
    signed_at: (
        Annotated[
            dt.datetime,
            BeforeValidator(_parse_signed_at),
            WithJsonSchema({"type": "string", "format": "date-time"}),
        ]
        | None
    ) = None
    # The SHA-256 of the plan content signed (model.signed_content): a signature over
    # content that has since changed is reported (checks.signatures).
    content_sha256: (
        Annotated[
            str,
            BeforeValidator(_sha256_text),
            WithJsonSchema({"type": "string", "pattern": "^[0-9a-f]{64}$"}),
        ]
        | None
    ) = None
    # Each part of the signed content with its short hash (model.signed_content): a
    # stale signature names the parts changed since.
    parts_sha256: (
        Annotated[
            dict[Annotated[str, StringConstraints(min_length=1, max_length=120)], PartHash],
            Field(max_length=2_000),
        ]
        | None
    ) = None

    @property
    def electronic(self) -> bool:
        return self.method == "electronic"


class Revision(PlanPart):
    """One entry of the plan's revision history (an extension of the spec's format)."""

    version: Version
    date: PlanDate
    summary: Text
    author: str | None = None


# --- the whole plan ----------------------------------------------------------


class Plan(PlanPart):
    """One client's treatment plan."""

    plandoc: Annotated[Literal[1], BeforeValidator(_not_true_or_false)]
    plan: PlanInfo
    practice: Practice | None = None
    client: Client
    provider: Provider
    assessment: Assessment
    safety_plan: SafetyPlan | None = None
    medical_necessity: MedicalNecessity | None = None
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

_MESSAGES = TYPE_MESSAGES


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
        most, found = error["ctx"]["max_length"], error["ctx"].get("actual_length")
        held = f"holds {found} entries" if found is not None else f"holds more than {most} entries"
        return Finding(path, f"{held}; a plan may hold at most {most} here (docs: Limits)")
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
