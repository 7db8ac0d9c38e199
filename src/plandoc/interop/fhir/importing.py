"""A FHIR R4 care plan (a Bundle, or a CarePlan with its resources contained) as a plan.

What FHIR does not carry (the treatment contract, the time estimate, the
narrative history...) becomes a "FILL IN" placeholder that `plandoc validate`
names. Anything it does not map is listed with the reason, never dropped in
silence: each value read is marked (`_Obj`'s accessors), and the JSON of the
resources read is then walked for the parts holding no value read
(`_Reader.list_unmapped`). The docs' FHIR page lists each field and its FHIR
home.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any, NoReturn

from plandoc.interop.fhir.common import (
    ACHIEVEMENT,
    CAREPLAN_CATEGORY,
    EIN,
    EXT,
    GOAL_ID,
    GOAL_RELATIONSHIP,
    GOAL_STATUS,
    ICD10CM,
    LOINC,
    MEMBER_ID,
    NPI,
    OBSERVATION_CATEGORY,
    PLAN_ID,
    PLANDOC_CODE,
    SAFETY_TEXTS,
    SIGNATURE_TYPES,
)
from plandoc.model.instruments import Registry, built_in_registry
from plandoc.planfile.placeholders import fill
from plandoc.planfile.source import NotAFile, read_regular_file
from plandoc.problems import plan_value

# --- import -------------------------------------------------------------------------
#
# The importer reads a file it did not write: any JSON at all may arrive. It
# reads the file's values only through `_Obj`, whose accessors check each
# value's JSON type before handing it over; a value of the wrong type is one
# problem ("CarePlan.note[0].text: must be text (found a number)") and reads
# as absent. Problems are collected and raised together as one `FhirError`,
# one line each; nothing is written. Anything quoted from the file (a code, a
# reference, an id, a resource type or element name plandoc does not know)
# is marked with `plan_value`.

MAX_BUNDLE_BYTES = 8 * 1024 * 1024  # a larger file is refused before it is read
MAX_DEPTH = 64  # JSON nested deeper is refused (plandoc's own bundles nest 11 deep)
MOST_PROBLEMS = 50  # listed one by one; any more are counted
STOP_AFTER = 1000  # problems: reading stops there

STATUS_OF = {value: key for key, value in GOAL_STATUS.items()}
PLAN_STATUSES = ("draft", "active", "on-hold", "completed", "revoked")
# Why an element present in the file is not mapped, by its name (the last step of its path).
# Whatever import does not consume is listed with one of these (see `_Reader.walk`).
WHY_NOT = {
    "text": "the resource's narrative; plandoc writes its own",
    "meta": "the resource's metadata: tags, profiles, versions",
    "careTeam": "plandoc's plan has no care team",
    "contributor": "plandoc's plan has one author, the provider",
    "encounter": "plandoc's plan is not tied to an encounter",
    "basedOn": "plandoc's plan has no request it fulfils",
    "replaces": "plandoc keeps earlier versions as its revisions, not as references",
    "partOf": "plandoc's plan is part of no larger plan",
    "instantiatesUri": "plandoc's plan follows no protocol by reference",
    "instantiatesCanonical": "plandoc's plan follows no protocol by reference",
    "progress": "notes on one activity; plandoc's progress notes are the plan's",
    "outcomeReference": "an activity's outcome; plandoc's methods record none",
    "outcomeCodeableConcept": "an activity's outcome; plandoc's methods record none",
    "status": "a status: plandoc's methods have none, its scores are final",
    "statusReason": "the reason for a status plandoc does not keep",
    "kind": "the kind of request planned; a method is read from its code and description",
    "location": "plandoc's methods have no place",
    "productCodeableConcept": "a product (a medication...); plandoc's methods are therapies",
    "productReference": "a product (a medication...); plandoc's methods are therapies",
    "dailyAmount": "an amount of a product; plandoc's methods are therapies",
    "quantity": "an amount of a product; plandoc's methods are therapies",
    "reasonCode": "plandoc links a method to objectives, not to reasons",
    "reasonReference": "plandoc links a method to objectives, not to reasons",
    "identifier": "an identifier plandoc does not use",
    "category": "a category plandoc does not use",
    "period": "plandoc reads the start as the effective date, and has no end",
    "end": "plandoc reads the start as the effective date, and has no end",
    "title": "plandoc titles a plan by its id and version",
    "coding": "codes: plandoc keeps the words",
    "display": "the name shown for a code or a reference: plandoc keeps the part, not the name",
    "note": "notes plandoc has no place for",
    "priority": "plandoc's goals have no priority",
    "clinicalStatus": "plandoc's diagnoses have no clinical status",
    "verificationStatus": "plandoc's diagnoses have no verification status",
    "authorReference": "plandoc's progress notes have no author",
    "authorString": "plandoc's progress notes have no author",
    "performer": "only the first performer says who is responsible",
    "expressedBy": "plandoc keeps the client's words, not who expressed the goal",
    "startDate": "plandoc's goals have a target date, not a start",
    "statusDate": "plandoc's goals have no status date",
    "addresses": "plandoc's goals are not tied to diagnoses one by one",
    "contained": "FHIR allows no resources contained in a contained one",
}
NOT_FHIR = "not an element of FHIR R4"
R5_ONLY = {
    "CarePlan": {"custodian"},
    "Goal": {"continuous"},
    "Observation": {"triggeredBy", "instantiatesCanonical", "bodyStructure"},
}
EARLIER_ONLY = {"Goal": {"status"}, "CarePlan": {"definition"}}

# Names FHIR defines are shown as they are in messages; any other resource type
# or element name was written by whoever made the file, so it is a value.
_RESOURCE_TYPES = """
Account ActivityDefinition AdministrableProductDefinition AdverseEvent AllergyIntolerance
Appointment AppointmentResponse AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure
Bundle CapabilityStatement CarePlan CareTeam CatalogEntry ChargeItem ChargeItemDefinition
Citation Claim ClaimResponse ClinicalImpression ClinicalUseDefinition CodeSystem Communication
CommunicationRequest CompartmentDefinition Composition ConceptMap Condition Consent Contract
Coverage CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue Device
DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement DiagnosticReport
DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceReport EvidenceVariable
ExampleScenario ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group
GuidanceResponse HealthcareService ImagingStudy Immunization ImmunizationEvaluation
ImmunizationRecommendation ImplementationGuide Ingredient InsurancePlan Invoice Library Linkage
List Location ManufacturedItemDefinition Measure MeasureReport Media Medication
MedicationAdministration MedicationDispense MedicationKnowledge MedicationRequest
MedicationStatement MedicinalProduct MedicinalProductAuthorization
MedicinalProductContraindication MedicinalProductDefinition MedicinalProductIndication
MedicinalProductIngredient MedicinalProductInteraction MedicinalProductManufactured
MedicinalProductPackaged MedicinalProductPharmaceutical MedicinalProductUndesirableEffect
MessageDefinition MessageHeader MolecularSequence NamingSystem NutritionOrder NutritionProduct
Observation ObservationDefinition OperationDefinition OperationOutcome Organization
OrganizationAffiliation PackagedProductDefinition Parameters Patient PaymentNotice
PaymentReconciliation Person PlanDefinition Practitioner PractitionerRole Procedure Provenance
Questionnaire QuestionnaireResponse RegulatedAuthorization RelatedPerson RequestGroup
ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject RiskAssessment
RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen SpecimenDefinition
StructureDefinition StructureMap Subscription SubscriptionStatus SubscriptionTopic Substance
SubstanceDefinition SubstanceNucleicAcid SubstancePolymer SubstanceProtein
SubstanceReferenceInformation SubstanceSourceMaterial SubstanceSpecification SupplyDelivery
SupplyRequest Task TerminologyCapabilities TestReport TestScript ValueSet VerificationResult
VisionPrescription
"""
RESOURCE_TYPES = frozenset(_RESOURCE_TYPES.split())
_RESOURCE_ELEMENTS = "id meta implicitRules language text contained extension modifierExtension"
ELEMENTS = {  # FHIR R4's elements of what plandoc reads
    kind: frozenset(f"{_RESOURCE_ELEMENTS} {names}".split())
    for kind, names in {
        "CarePlan": "identifier instantiatesCanonical instantiatesUri basedOn replaces partOf "
        "status intent category title description subject encounter period created author "
        "contributor careTeam addresses supportingInfo goal activity note",
        "Goal": "identifier lifecycleStatus achievementStatus category priority description "
        "subject startDate startCodeableConcept target statusDate statusReason expressedBy "
        "addresses note outcomeCode outcomeReference",
        "Observation": "identifier basedOn partOf status category code subject focus encounter "
        "effectiveDateTime effectivePeriod effectiveTiming effectiveInstant issued performer "
        "valueQuantity valueCodeableConcept valueString valueBoolean valueInteger valueRange "
        "valueRatio valueSampledData valueTime valueDateTime valuePeriod dataAbsentReason "
        "interpretation note bodySite method specimen device referenceRange hasMember "
        "derivedFrom component",
        "Patient": "identifier active name telecom gender birthDate deceasedBoolean "
        "deceasedDateTime address maritalStatus multipleBirthBoolean multipleBirthInteger photo "
        "contact communication generalPractitioner managingOrganization link",
        "Practitioner": "identifier active name telecom address gender birthDate photo "
        "qualification communication",
        "Coverage": "identifier status type policyHolder subscriber subscriberId beneficiary "
        "dependent relationship period payor class order network costToBeneficiary "
        "subrogation contract",
        "Condition": "identifier clinicalStatus verificationStatus category severity code "
        "bodySite subject encounter onsetDateTime onsetAge onsetPeriod onsetRange onsetString "
        "abatementDateTime abatementAge abatementPeriod abatementRange abatementString "
        "recordedDate recorder asserter stage evidence note",
        "CarePlan.activity.detail": "kind instantiatesCanonical instantiatesUri code reasonCode "
        "reasonReference goal status statusReason doNotPerform scheduledTiming scheduledPeriod "
        "scheduledString location performer productCodeableConcept productReference "
        "dailyAmount quantity description",
    }.items()
}  # fmt: skip

# What the display of a reference to a resource outside the file can stand for.
OUTSIDE = {
    "Patient": lambda text: {"name": [{"text": text}]},
    "Practitioner": lambda text: {"name": [{"text": text}]},
    "Condition": lambda text: {"code": {"text": text}},
    "Goal": lambda text: {"description": {"text": text}},
}


class FhirError(Exception):
    """A file plandoc cannot import: its problems, one line each (`path: message`).

    Values from the file in them are marked (`problems.plan_value`). `line` is
    the file's line, for a file that is not JSON.
    """

    def __init__(
        self, problems: str | list[str], line: int | None = None, usage: bool = False
    ) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.line = line
        self.usage = usage  # the file is FHIR, but not what import-fhir takes (exit 2)
        super().__init__("\n".join(self.problems))


def read_bundle(path: Path) -> Any:
    """The JSON in a FHIR file; FhirError when it is too large, too deep, not UTF-8 or not JSON.

    A file over `MAX_BUNDLE_BYTES` is refused before it is read (a device or
    a pipe that never ends too: no more than the limit is ever read).
    """
    try:
        raw = read_regular_file(path, MAX_BUNDLE_BYTES)
    except FileNotFoundError:
        raise FhirError("no such file") from None
    except IsADirectoryError:
        raise FhirError("is a folder, not a FHIR file") from None
    except NotAFile:
        raise FhirError("is not a file (a FIFO or a device): a FHIR file is a file") from None
    except OSError as error:
        raise FhirError(f"cannot read: {error.strerror or type(error).__name__}") from None
    if len(raw) > MAX_BUNDLE_BYTES:
        raise FhirError(_too_large())
    return parse_json(raw)


def _too_large() -> str:
    return f"file is larger than {MAX_BUNDLE_BYTES // 1024 // 1024} MiB (docs: Limits)"


def _too_deep() -> str:
    return f"nested more than {MAX_DEPTH} deep; plandoc reads no FHIR that deep (docs: Limits)"


class _NotANumber(ValueError):
    """NaN or Infinity: Python reads them, JSON has no such numbers."""


def parse_json(raw: bytes) -> Any:
    """UTF-8 JSON (a BOM allowed) -> plain data; FhirError for anything else, one line."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise FhirError("not UTF-8 text (FHIR JSON is UTF-8)", line) from None
    if _deeper_than(text, MAX_DEPTH):
        raise FhirError(_too_deep())
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        data = dict(items)
        if len(data) != len(items) and not twice:
            seen: set[str] = set()
            for key, _ in items:
                if key in seen:
                    twice.append(key)
                    break
                seen.add(key)
        return data

    def constant(name: str) -> Any:
        raise _NotANumber(name)

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as error:
        raise FhirError(
            f"not valid JSON: {error.msg} (column {error.colno})", error.lineno
        ) from None
    except _NotANumber as error:
        raise FhirError(f"not valid JSON: {error} is not a JSON number") from None
    except ValueError:  # an integer longer than Python converts
        raise FhirError("not valid JSON: a number too long to read") from None
    except RecursionError:  # not reached past the depth check; kept as the last guard
        raise FhirError(_too_deep()) from None
    if twice:
        raise FhirError(
            f"an object holds the key {plan_value(twice[0], quote=True)} twice "
            "(the second would silently win)"
        )
    return data


# A JSON string: an unterminated one runs to the end, so no quote is tried twice.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _deeper_than(text: str, most: int) -> bool:
    """Whether the JSON's arrays and objects nest deeper than `most`, without recursion.

    Strings taken out, the brackets left are counted in one pass (at C speed:
    no Python code runs per bracket); brackets that do not pair are left for
    the JSON reader to name.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > most


_STEP_IN = re.compile(r"[.\[]")  # where a path steps into a part of what it names


class _Problems:
    """What is wrong with the file, one line each, in the order found."""

    def __init__(self) -> None:
        self.lines: dict[str, None] = {}  # the first MOST_PROBLEMS, in order
        self.more: set[str] = set()  # the rest, counted
        self.under: set[str] = set()  # each problem's path and the paths holding it
        # What import mapped (see `_Reader.walk`): each value's path, whole parts taken
        # with all they hold, and parts listed with why they are not mapped.
        self.consumed: set[str] = set()
        self.whole: set[str] = set()
        self.why: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.under.add(path)
        self.under.update(path[: match.start()] for match in _STEP_IN.finditer(path))
        line = f"{path}: {message}" if path else message
        if len(self.lines) < MOST_PROBLEMS:
            self.lines[line] = None
        elif line not in self.lines:
            self.more.add(line)
            if len(self.lines) + len(self.more) >= STOP_AFTER:
                raise self.error()

    def has(self, path: str) -> bool:
        """Whether a problem is at `path` or inside it."""
        return path in self.under

    def missing(self, path: str, message: str) -> None:
        """A problem for `path`, unless one at it or inside it says why it is missing."""
        if not self.has(path):
            self.add(path, message)

    def error(self) -> FhirError:
        stopped = len(self.lines) + len(self.more) >= STOP_AFTER
        counted = f"and {len(self.more)} more problems" + (
            " (reading stopped there)" if stopped else ""
        )
        more = [counted] if self.more else []
        return FhirError([*self.lines, *more])

    def stop(self, path: str, message: str) -> NoReturn:
        self.add(path, message)
        raise self.error()

    def check(self) -> None:
        if self.lines:
            raise self.error()


def _found(value: Any) -> str:
    """What a JSON value is, in words (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    return "a list" if isinstance(value, list) else "an object"


_SURROGATE = re.compile("[\ud800-\udfff]")
FHIR_INTEGER = range(-(2**31), 2**31)  # FHIR's integer is 32 bits
MOST_DECIMAL = 10**15  # no score, count or version comes near


class _Obj:
    """A JSON object from the file, read only through accessors that check each value's type.

    An accessor returns the value when it has the expected JSON type; for a
    value of another type it records one problem at the value's path and
    returns None (or an empty list). JSON null reads as absent.
    """

    def __init__(self, data: dict[str, Any], path: str, problems: _Problems) -> None:
        self._data, self.path, self.problems = data, path, problems

    def names(self) -> list[str]:
        return list(self._data)

    def __contains__(self, name: str) -> bool:
        return self._data.get(name) is not None

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def _get(self, name: str, expected: str, fits: Callable[[Any], bool]) -> Any:
        value = self._data.get(name)
        if value is None or fits(value):
            if value is not None:
                self.problems.consumed.add(self.at(name))
            return value
        self.problems.add(self.at(name), f"must be {expected} (found {_found(value)})")
        return None

    def obj(self, name: str) -> _Obj | None:
        value = self._get(name, "an object", lambda v: isinstance(v, dict))
        return None if value is None else _Obj(value, self.at(name), self.problems)

    def _items(self, name: str) -> list[tuple[str, Any]]:
        items = self._get(name, "a list", lambda v: isinstance(v, list)) or []
        return [(f"{self.at(name)}[{index}]", item) for index, item in enumerate(items)]

    def objs(self, name: str) -> list[_Obj]:
        """A list of objects; an item of another type is a problem, and left out."""
        found = []
        for path, item in self._items(name):
            if isinstance(item, dict):
                found.append(_Obj(item, path, self.problems))
            else:
                self.problems.add(path, f"must be an object (found {_found(item)})")
        return found

    def peek(self, name: str) -> str | None:
        """A text to decide by, not mapped by reading it (an extension's url, a system...)."""
        value = self._data.get(name)
        return value if isinstance(value, str) and not _SURROGATE.search(value) else None

    def take(self, name: str | None = None) -> None:
        """Mark the element `name` (None: this object) mapped with all it holds."""
        self.problems.whole.add(self.at(name) if name else self.path)

    def leave(self, name: str | None, why: str) -> None:
        """List the element `name` (None: this object) as not mapped, for the reason `why`."""
        self.problems.why[self.at(name) if name else self.path] = why

    def text(self, name: str) -> str | None:
        return self._text(self._get(name, "text", lambda v: isinstance(v, str)), self.at(name))

    def texts(self, name: str) -> list[str]:
        found = []
        for path, item in self._items(name):
            if not isinstance(item, str):
                self.problems.add(path, f"must be text (found {_found(item)})")
            elif (text := self._text(item, path)) is not None:
                self.problems.consumed.add(path)
                found.append(text)
        return found

    def _text(self, value: str | None, path: str) -> str | None:
        if value is not None and _SURROGATE.search(value):
            self.problems.add(path, "holds a lone surrogate (\\ud800-\\udfff), which is not text")
            return None
        return value

    def integer(self, name: str) -> int | None:
        value = self._get(name, "a whole number", lambda v: type(v) is int)
        if value is not None and value not in FHIR_INTEGER:
            self.problems.add(self.at(name), "must be a whole number that fits FHIR's 32 bits")
            return None
        return value

    def decimal(self, name: str) -> int | float | None:
        value = self._get(name, "a number", lambda v: type(v) in (int, float))
        if value is not None and not -MOST_DECIMAL < value < MOST_DECIMAL:
            self.problems.add(self.at(name), "must be a number below 10^15 (found a larger one)")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        return self._get(name, "true or false", lambda v: isinstance(v, bool))

    def as_resource(self, kind: str, label: str) -> _Resource:
        """This object as a resource whose resourceType (`kind`) has been checked."""
        return _Resource(self._data, self.path, self.problems, kind, label)


class _Resource(_Obj):
    """A resource of the file: `kind` is its checked resourceType, `label` names it."""

    def __init__(
        self, data: dict[str, Any], path: str, problems: _Problems, kind: str, label: str
    ) -> None:
        super().__init__(data, path, problems)
        self.kind, self.label = kind, label
        self.outside: str | None = None  # the reference, for a stand-in of one outside the file


def _type_name(kind: str) -> str:
    return kind if kind in RESOURCE_TYPES else plan_value(kind)


def _element(name: str, kind: str) -> str:
    """An element's name as a message shows it: a value unless FHIR defines it for `kind`."""
    known = ELEMENTS.get(kind, frozenset())
    if isinstance(name, str) and (name in known or name.removeprefix("_") in known):
        return name
    return plan_value(name)


def import_file(
    path: Path, instruments: Registry | None = None, care_plan: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A FHIR file -> (plan data, not mapped): `read_bundle` then `import_plan`."""
    return import_plan(read_bundle(path), instruments, care_plan)


def import_plan(
    data: Any, instruments: Registry | None = None, care_plan: str | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A FHIR R4 Bundle (or a CarePlan with its resources contained) -> (plan data, not mapped).

    `data` may be any JSON value. Raises FhirError, naming every problem
    found (at most `MOST_PROBLEMS`, then a count), for what cannot be read;
    what it can read but not map is returned as lines to show the user:
    every element of the input is either mapped or listed by its path, with
    the reason, and every value inferred is listed as inferred. Values from
    the file are marked in both (see `problems.plan_value`). Placeholders
    ("FILL IN: ...") stand for every required plan field FHIR does not
    carry, and for resources outside the file. A measure is named from its
    LOINC code or text by `instruments` (default: the built-in ones; a
    clinic's registry adds its own). A Bundle with several CarePlans needs
    `care_plan`, the id of the one to read.
    """
    reader = _Reader(data, instruments or built_in_registry(), care_plan)
    plan_ = reader.care_plan
    plan_data: dict[str, Any] = {"plandoc": 1, "plan": reader.plan_info(plan_)}
    subject = plan_.obj("subject")
    reader.patient = reader.resolve(subject, "Patient", "CarePlan.subject")
    reader.subject = subject.peek("reference") if subject else None
    plan_data["client"] = reader.client(reader.patient)
    plan_data["provider"] = reader.provider(reader.author(plan_))
    plan_data["assessment"] = {
        "history": fill("psychosocial history (FHIR does not carry it)"),
        "symptom_onset": fill("when and how the symptoms began (FHIR does not carry it)"),
        "prior_treatment": fill("earlier treatment (FHIR does not carry it)"),
    }
    baselines = []
    for ref in plan_.objs("supportingInfo"):
        found = reader.supporting(ref)
        if found is not None and found.kind == "Observation":
            baselines.append(reader.baseline(found))
        elif found is not None and "medical_necessity" not in plan_data:
            plan_data["medical_necessity"] = reader.medical_necessity(found)
        elif found is not None:
            ref.leave(None, "plandoc keeps one medical necessity")
    if baselines:
        plan_data["assessment"]["baseline_measures"] = baselines
    ext = _extensions(plan_)
    plan_data["presenting_problem"] = {
        "text": plan_.text("description") or fill("the presenting problem")
    }
    for name, key in (("client-summary", "client_summary"), ("client-words", "client_words")):
        words = _ext_value(ext, name, _Obj.text, "valueString")
        if words:
            plan_data["presenting_problem"][key] = words
    if "safety-plan" in ext:
        plan_data["safety_plan"] = _safety_plan(ext["safety-plan"])
    practice = reader.practice(plan_)
    if practice:
        plan_data["practice"] = practice
    plan_data["diagnoses"] = reader.diagnoses(plan_)
    plan_data["contract"] = {
        "summary": fill("the treatment contract (FHIR does not carry it)"),
        "modality": fill("the modality"),
        "type": fill("individual, couples, family or group"),
    }
    methods = reader.methods(plan_)
    plan_data["goals"] = reader.goals(plan_, methods)
    plan_data["methods"] = [m for m, _ in methods] or [
        {"id": "M1", "name": fill("an intervention"), "description": fill("what it involves"),
         "responsible": fill("client, clinician, family or other"),
         "frequency": fill("how often"), "session_minutes": fill("minutes a session")}
    ]  # fmt: skip
    plan_data["time_estimate"] = {
        "sessions": fill("number of sessions (FHIR does not carry it)"),
        "frequency": fill("how often"),
        "weeks": fill("over how many weeks"),
    }
    notes = reader.notes(plan_)
    if notes:
        plan_data["progress_notes"] = notes
    signatures = reader.signatures()
    if signatures:
        plan_data["signatures"] = signatures
    reader.list_unmapped()
    reader.problems.check()
    return plan_data, reader.unmapped


_LOCAL = ("#", "urn:uuid:", "urn:oid:")  # references that can only name a part of the file
_DISPLAY_ONLY = "a reference by its display only"
_REFERENCE = re.compile(r"(?:^|/)([A-Z][A-Za-z]{1,63})/[A-Za-z0-9\-.]{1,64}(?:/_history/[^/]+)?$")
# Names of FHIR R4 elements of the data types plandoc meets inside resources: shown as they are.
_DATATYPE_NAMES = """
coding system version code display userSelected text value unit comparator reference type
start end repeat frequency frequencyMax period periodMax periodUnit duration durationMax
durationUnit boundsPeriod boundsDuration boundsRange count countMax dayOfWeek timeOfDay when
offset event url given family prefix suffix use line city district state postalCode country
rank div status tag profile security versionId lastUpdated source low high detail participant
member role onBehalfOf authorReference authorString time kind product progress reference
outcomeCodeableConcept outcomeReference relationship organization gender
"""
_KNOWN_NAMES = frozenset().union(*ELEMENTS.values()) | set(_DATATYPE_NAMES.split())
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?$")
_UNIT = {"s": "second", "min": "minute", "h": "hour", "d": "day", "wk": "week", "mo": "month",
         "a": "year"}  # fmt: skip
_EVERY = {"h": "hourly", "d": "daily", "wk": "weekly", "mo": "monthly", "a": "yearly"}
_PARTY = {"Patient": "client", "RelatedPerson": "family"}


class _Reader:
    def __init__(self, data: Any, instruments: Registry, care_plan_id: str | None) -> None:
        self.instruments = instruments
        self.problems = _Problems()
        self.unmapped: list[str] = []
        self.by_url: dict[str, _Resource] = {}
        self.ambiguous: set[str] = set()  # keys that name two resources
        self.resources: list[_Resource] = []  # each once, in the file's order
        self.used: set[int] = set()  # resources whose content is read (walked for the rest)
        self.kind_only: dict[int, str] = {}  # resources read for their kind only: by whom
        self.patient: _Resource | None = None
        self.subject: str | None = None
        self.author_target: str | None = None
        if not isinstance(data, dict):
            self.problems.stop("", f"not a FHIR resource (the file holds {_found(data)})")
        kind = _Obj(data, "", self.problems).text("resourceType")
        if kind is None:
            self.problems.stop("", "not a FHIR resource: no resourceType")
        if kind == "Bundle":
            self._read_bundle(_Obj(data, "Bundle", self.problems), care_plan_id)
        elif kind == "CarePlan":
            self.care_plan = _Resource(data, "CarePlan", self.problems, kind, "CarePlan")
            rid = self.care_plan.peek("id")
            if care_plan_id is not None and rid != care_plan_id:
                found = plan_value(rid or "(none)", quote=True)
                wanted = plan_value(care_plan_id, quote=True)
                self.problems.stop("CarePlan", f"its id is {found}, not {wanted}")
            self._check_version(self.care_plan)
        elif kind in RESOURCE_TYPES:
            what = (
                f"a {kind} alone is not a care plan: pass the CarePlan that refers to it, "
                "or a Bundle holding both"
                if kind in ("Goal", "Condition", "Observation", "Patient", "CareTeam")
                else f"a {kind} is not a care plan: pass a CarePlan, or a Bundle holding one"
            )
            raise FhirError(what, usage=True)
        else:
            self.problems.stop("", f"{_type_name(kind)}: plandoc reads a Bundle or a CarePlan")
        self._read_contained(self.care_plan)
        self.used.add(id(self.care_plan))

    def _read_bundle(self, bundle: _Obj, care_plan_id: str | None) -> None:
        full_urls: dict[str, str] = {}
        for entry in bundle.objs("entry"):
            data = entry.obj("resource")
            if data is None:
                if "request" not in entry:  # a transaction's DELETE has no resource
                    self.problems.missing(f"{entry.path}.resource", "no resource")
                continue
            resource = self._resource(data)
            if resource is None:
                continue
            full_url = entry.text("fullUrl")
            if full_url in full_urls:
                self.problems.add(
                    f"{entry.path}.fullUrl",
                    f"{plan_value(full_url)} is also the fullUrl of {full_urls[full_url]}",
                )
            elif full_url:
                full_urls[full_url] = entry.path
            self._index(resource, full_url)
        plans = [r for r in self.resources if r.kind == "CarePlan"]
        ids = ", ".join(plan_value(r.peek("id") or "(no id)") for r in plans)
        if care_plan_id is not None:
            plans = [r for r in plans if r.peek("id") == care_plan_id]
            if len(plans) != 1:
                self.problems.stop("Bundle", f"{len(plans)} CarePlans with the id "
                                   f"{plan_value(care_plan_id, quote=True)}; its CarePlans: "
                                   f"{ids or 'none'}")  # fmt: skip
        elif len(plans) > 1:
            self.problems.stop(
                "Bundle", f"{len(plans)} CarePlans ({ids}); give the id of one (--careplan ID)"
            )
        elif not plans:
            self.problems.stop("Bundle", "0 CarePlans; plandoc reads a bundle holding one")
        self.care_plan = plans[0]
        self.care_plan.path = self.care_plan.label = "CarePlan"  # the one read

    def _resource(self, data: _Obj) -> _Resource | None:
        """A resource of the bundle or contained in the CarePlan, checked and kept."""
        kind = data.text("resourceType")
        if kind is None:
            self.problems.missing(data.at("resourceType"), "no resourceType")
            return None
        rid = data.text("id")
        label = f"{_type_name(kind)}/{plan_value(rid)}" if rid else data.path
        resource = data.as_resource(kind, label)
        self._check_version(resource)
        self.resources.append(resource)
        return resource

    def _index(self, resource: _Resource, full_url: str | None) -> None:
        rid = resource.text("id")
        for key in (full_url, f"{resource.kind}/{rid}" if rid else None):
            if key and self.by_url.get(key, resource) is not resource:
                self.ambiguous.add(key)
            elif key:
                self.by_url[key] = resource

    def _read_contained(self, care_plan: _Resource) -> None:
        for data in care_plan.objs("contained"):
            resource = self._resource(data)
            rid = resource.text("id") if resource else None
            if resource and rid:
                if f"#{rid}" in self.by_url:
                    self.problems.add(
                        resource.at("id"), f"{plan_value(rid)} is the id of two contained resources"
                    )
                self.by_url[f"#{rid}"] = resource

    def _check_version(self, resource: _Resource) -> None:
        kind, names = resource.kind, set(resource.names())
        newer = R5_ONLY.get(kind, set()) & names
        if newer:
            self.problems.add(
                resource.path, f"{kind}.{sorted(newer)[0]} is FHIR R5; plandoc reads R4"
            )
        older = EARLIER_ONLY.get(kind, set()) & names
        if older or (kind == "CarePlan" and "intent" not in names):
            what = sorted(older)[0] if older else "no intent"
            self.problems.add(
                resource.path, f"{kind} ({what}) is FHIR STU3 or earlier; plandoc reads R4"
            )

    # --- references -----------------------------------------------------------------

    def resolve(self, reference: _Obj | None, kind: str, path: str | None = None) -> _Resource:
        """The `kind` resource a Reference names.

        A reference to a resource outside the file never stops the import: its
        display stands in where it can, else placeholders, and the use is listed.
        A reference that can only name a part of the file (`#id`, `urn:uuid:`)
        and names none is a problem, as is one to a resource of another kind.
        """
        path = reference.path if reference else path or kind
        found = self._find(reference, kind, path)
        if isinstance(found, _Resource):
            return found
        data: dict[str, Any] = {}
        if found is not None:
            display = reference.text("display") if reference else None
            what = "a reference by its display only" if found is _DISPLAY_ONLY else (
                f"{found} is outside the file")  # fmt: skip
            if display and kind in OUTSIDE:
                data = OUTSIDE[kind](display)
                self.unmapped.append(f"{path}: {what}; its display stands in")
            else:
                self.unmapped.append(f"{path}: {what}, with no display; placeholders stand in")
        stand_in = _Resource(data, f"({path})", self.problems, kind, path)
        stand_in.outside = found if isinstance(found, str) else None
        return stand_in

    def linked(self, reference: _Obj, kind: str) -> _Resource | None:
        """The `kind` resource a Reference names, or None (listed) when it is outside the file."""
        found = self._find(reference, kind, reference.path)
        if isinstance(found, str):
            reference.leave(None, f"{found} is outside the file" if found is not _DISPLAY_ONLY
                            else found)  # fmt: skip
            return None
        return found

    def _find(self, reference: _Obj | None, kind: str, path: str) -> _Resource | str | None:
        """The resource; or the marked reference when it is outside the file; or None."""
        target = reference.text("reference") if reference else None
        if not target and reference is not None and reference.peek("display"):
            return _DISPLAY_ONLY
        if not target:
            self.problems.missing(path, f"no reference to a {kind}")
            return None
        resource = self.by_url.get(target)
        if target in self.ambiguous:
            self.problems.add(path, f"reference {plan_value(target)} names two resources")
            return None
        if resource is None and not target.startswith(_LOCAL):
            return plan_value(target)
        if resource is None:
            self.problems.add(path, f"reference {plan_value(target)} is not in the file (dangling)")
            return None
        if resource.kind != kind:
            self.problems.add(
                path, f"{plan_value(target)} is a {_type_name(resource.kind)}, not a {kind}"
            )
            return None
        self.used.add(id(resource))
        if reference is not None:
            reference.take("display")  # only names what is read
        return resource

    def _points_to(self, reference: _Obj | None, resource: _Resource) -> bool:
        target = reference.peek("reference") if reference else None
        return target is not None and self.by_url.get(target) is resource

    def _same_subject(self, resource: _Obj) -> None:
        """Take the resource's subject as mapped when it is the care plan's."""
        subject = resource.obj("subject")
        target = subject.peek("reference") if subject else None
        if (
            subject
            and target
            and (
                target == self.subject or (self.patient and self._points_to(subject, self.patient))
            )
        ):
            subject.take()

    def _kind_of(self, target: str | None) -> tuple[str | None, _Resource | None]:
        """The resource type a reference names, and the resource when it is in the file."""
        if not target:
            return None, None
        found = self.by_url.get(target)
        if found is not None:
            return found.kind, found
        match = _REFERENCE.search(target)
        return (match[1] if match and match[1] in RESOURCE_TYPES else None), None

    # --- what is not mapped ---------------------------------------------------------

    def list_unmapped(self) -> None:
        """List every element of the file import did not map, by path, with the reason.

        The elements of the care plan and of each resource it read are walked
        as JSON: a part holding no value import consumed is listed once, at its
        own path; a resource no mapped part refers to is listed whole.
        """
        walked = [self.care_plan, *(r for r in self.resources
                                    if id(r) in self.used and r is not self.care_plan)]  # fmt: skip
        roots: list[tuple[str, str, Any]] = []
        for resource in walked:
            self.problems.whole.update(resource.at(n) for n in ("resourceType", "id"))
            if resource is self.care_plan:
                self.problems.whole.add(resource.at("contained"))
            _, found = _parts(
                resource._data, resource.path, resource.label, resource.kind, self.problems
            )
            roots += found
        referrers: dict[int, list[str]] = {}
        unused = [r for r in self.resources if id(r) not in self.used]
        for shown_path, _, node in roots:
            for target in _references(node):
                if target in self.by_url:
                    referrers.setdefault(id(self.by_url[target]), []).append(shown_path)
        for resource in unused:
            for target in _references(resource._data):
                if target in self.by_url and self.by_url[target] is not resource:
                    referrers.setdefault(id(self.by_url[target]), []).append(resource.label)
        for shown_path, why, _ in roots:
            self.unmapped.append(f"{shown_path}: not mapped ({why})")
        for resource in unused:
            by = referrers.get(id(resource), [])
            if resource.kind == "CarePlan":
                line = "another care plan, not read (--careplan picks the one to read)"
            elif id(resource) in self.kind_only:
                line = (f"read for who is responsible ({self.kind_only[id(resource)]}); "
                        "its details are not mapped")  # fmt: skip
            elif by:
                line = f"not mapped (only {', '.join(by[:3])} refers to it, not mapped either)"
            else:
                line = "not read (no part of the care plan refers to it)"
            self.unmapped.append(f"{resource.label}: {line}")

    # --- parts ----------------------------------------------------------------------

    def plan_info(self, care_plan: _Resource) -> dict[str, Any]:
        status = care_plan.text("status")
        if status is None:
            self.problems.missing("CarePlan.status", f"missing; one of {', '.join(PLAN_STATUSES)}")
        elif status not in PLAN_STATUSES:
            self.problems.add(
                "CarePlan.status", f"{plan_value(status, quote=True)} has no plandoc status"
            )
        identifier = _identifier(care_plan, PLAN_ID)
        if identifier is None and care_plan.peek("id"):
            identifier = care_plan.peek("id")
            self.unmapped.append("CarePlan.id: plan.id is the CarePlan's id (inferred)")
        ext = _extensions(care_plan)
        created = (care_plan.text("created") or "")[:10]
        period = care_plan.obj("period")
        start = ((period.text("start") if period else None) or "")[:10]
        if not start and created:
            self.unmapped.append(
                "CarePlan.period.start: absent; plan.effective is CarePlan.created (inferred)"
            )
        version = _ext_value(ext, "plan-version", _Obj.integer, "valueInteger")
        if version is None:
            self.unmapped.append("CarePlan: no plan version (plandoc's extension); 1 (inferred)")
        intent = care_plan.peek("intent")
        if intent == "plan":
            care_plan.text("intent")
        elif intent:
            care_plan.leave("intent", f"{plan_value(intent, quote=True)}: read as a plan")
        for category in care_plan.objs("category"):
            if any(c.peek("system") == CAREPLAN_CATEGORY and c.peek("code") == "assess-plan"
                   for c in category.objs("coding")):  # fmt: skip
                category.take()  # plandoc's own: every plan has it
        info: dict[str, Any] = {
            "id": identifier or fill("plan id"),
            "version": 1 if version is None else version,
            "status": status,
            "created": created or fill("when the plan was written, YYYY-MM-DD"),
            "effective": start or created or fill("when the plan took effect, YYYY-MM-DD"),
        }
        if care_plan.peek("title") == f"Treatment plan {info['id']} v{info['version']}":
            care_plan.take("title")  # plandoc's own title, made of the two
        for name, key in (("review-by", "review_by"), ("last-reviewed", "last_reviewed")):
            date = _ext_value(ext, name, _Obj.text, "valueDate")
            if date:
                info[key] = date
        self.activity_status = "in-progress" if status == "active" else "not-started"
        return info

    def client(self, patient: _Resource) -> dict[str, Any]:
        names: dict[str, str | None] = {}
        for name in patient.objs("name"):
            use = name.peek("use") or "official"
            if use in ("official", "usual") and use not in names:
                name.text("use")
                names[use] = _name_text(name)
        client: dict[str, Any] = {
            "name": names.get("official") or next(iter(names.values()), None)
            or fill("the client's name"),
            "date_of_birth": patient.text("birthDate") or fill("date of birth, YYYY-MM-DD"),
        }  # fmt: skip
        if names.get("usual"):
            client["preferred_name"] = names["usual"]
        for point in patient.objs("telecom"):
            system = point.peek("system")
            if system in ("phone", "email") and system not in client and point.peek("value"):
                client[system] = point.text("value")
                point.text("system")
        addresses = patient.objs("address")
        if addresses:
            address = addresses[0].text("text") or ", ".join(addresses[0].texts("line"))
            if address:
                client["address"] = address
        contacts = patient.objs("contact")
        if contacts:
            client["emergency_contact"] = _contact(contacts[0])
        coverage = self.coverage(patient)
        if coverage:
            client["coverage"] = coverage
        return client

    def coverage(self, patient: _Resource) -> dict[str, Any] | None:
        member = _identifier(patient, MEMBER_ID)
        found = [
            r for r in self.resources
            if r.kind == "Coverage" and self._points_to(r.obj("beneficiary"), patient)
        ]  # fmt: skip
        if not found:
            return {"payer": fill("the insurer"), "member_id": member} if member else None
        coverage = found[0]
        self.used.add(id(coverage))
        coverage.take("beneficiary")
        if coverage.peek("status") == "active":
            coverage.text("status")
        classes: dict[str | None, str | None] = {}
        for item in coverage.objs("class"):
            kind = item.obj("type")
            codes = [(c.text("code"), c.text("system")) for c in _codings(kind)]
            classes[codes[0][0] if codes else None] = item.text("value")
        payers = [p.text("display") for p in coverage.objs("payor")]
        data = {
            "payer": next((p for p in payers if p), None) or fill("the insurer"),
            "plan_name": classes.get("plan"),
            "member_id": _identifier(coverage, MEMBER_ID) or member,
            "group_number": classes.get("group"),
        }
        data.update(_authorization(_extensions(coverage)))
        return {key: value for key, value in data.items() if value is not None}

    def author(self, care_plan: _Resource) -> _Resource | None:
        author = care_plan.obj("author")
        if author is None:
            return None
        self.author_target = author.peek("reference")
        kind, _ = self._kind_of(self.author_target)
        if kind in (None, "Practitioner"):
            return self.resolve(author, "Practitioner")
        author.leave(None, f"the author is a {kind}, not a practitioner; the provider is to fill")
        return None

    def provider(self, practitioner: _Resource | None) -> dict[str, Any]:
        if practitioner is None:
            return {"name": fill("the clinician's name"), "credentials": fill("credentials")}
        qualifications = practitioner.objs("qualification")
        credentials = [_concept_text(q.obj("code")) for q in qualifications]
        provider = {
            "name": next((_name_text(n) for n in practitioner.objs("name")), None)
            or fill("the clinician's name"),
            "credentials": next((c for c in credentials if c), None) or fill("credentials"),
        }  # fmt: skip
        npi = _identifier(practitioner, NPI)
        if npi:
            provider["npi"] = npi
        licences = [i.text("value") for q in qualifications for i in q.objs("identifier")]
        licence = next((value for value in licences if value), None)
        if licence:
            provider["license"] = licence
        for point in practitioner.objs("telecom"):
            if point.peek("system") == "phone" and point.peek("value") and "phone" not in provider:
                point.text("system")
                provider["phone"] = point.text("value")
        return provider

    def diagnoses(self, care_plan: _Resource) -> list[dict[str, Any]]:
        diagnoses = []
        for index, ref in enumerate(care_plan.objs("addresses")):
            condition = self.resolve(ref, "Condition")
            self._same_subject(condition)
            code = condition.obj("code")
            icd = next((c for c in _codings(code) if c.peek("system") == ICD10CM), None)
            if icd:
                icd.text("system")
            text = _concept_text(code)
            if icd is None and condition.outside is None:
                self.unmapped.append(
                    f"{condition.label}.code: no ICD-10-CM coding ({plan_value(text or '')})"
                )
            primary = _ext_value(
                _extensions(condition), "primary-diagnosis", _Obj.boolean, "valueBoolean"
            )
            if primary is None and index == 0:
                self.unmapped.append(
                    f"{ref.path}: primary diagnosis, the first one addressed (inferred)"
                )
            diagnoses.append({
                "code": (icd.text("code") if icd else None) or fill("ICD-10-CM code"),
                "description": (icd.text("display") if icd else None) or text
                or fill("the diagnosis in words"),
                "primary": primary if primary is not None else index == 0,
            })  # fmt: skip
        return diagnoses or [
            {"code": fill("ICD-10-CM code"), "description": fill("the diagnosis"), "primary": True}
        ]

    def supporting(self, ref: _Obj) -> _Resource | None:
        """A score (Observation) or plandoc's medical necessity (a ClinicalImpression) that a
        supportingInfo reference names; anything else is listed."""
        kind, found = self._kind_of(ref.peek("reference"))
        if found is not None and kind == "ClinicalImpression":
            code = found.obj("code")
            if any(c.peek("system") == PLANDOC_CODE and c.peek("code") == "medical-necessity"
                   for c in _codings(code)):  # fmt: skip
                return self.resolve(ref, "ClinicalImpression")
            ref.leave(None, "a clinical impression other than plandoc's medical necessity")
            return None
        if found is not None and kind != "Observation":
            ref.leave(None, f"supporting information, a {kind}, not a score")
            return None
        return self.linked(ref, "Observation")

    def medical_necessity(self, impression: _Resource) -> dict[str, Any]:
        self._same_subject(impression)
        impression.take("code")  # plandoc's own code, checked by `supporting`
        if impression.peek("status") == "completed":
            impression.text("status")
        assessor = impression.obj("assessor")
        if assessor is not None and assessor.peek("reference") == self.author_target:
            assessor.take()
        data: dict[str, Any] = {}
        rationale = impression.text("summary")
        if rationale:
            data["rationale"] = rationale
        level = _ext_value(_extensions(impression), "level-of-care", _Obj.text, "valueCode")
        if level:
            data["level_of_care"] = level
        impairments = []
        for finding in impression.objs("finding"):
            concept = finding.obj("itemCodeableConcept")
            domain = next((c.peek("code") for c in _codings(concept)
                           if c.peek("system") == PLANDOC_CODE), None)  # fmt: skip
            if concept is None or domain is None:
                finding.leave(None, "a finding that is not a functional impairment")
                continue
            concept.take()
            impairments.append({"domain": domain, "description": concept.peek("text")
                                or fill("the impairment")})  # fmt: skip
        if impairments:
            data["functional_impairments"] = impairments
        return data

    def practice(self, care_plan: _Resource) -> dict[str, Any] | None:
        """The practice: the Organization a CarePlan.contributor names (the first)."""
        for ref in care_plan.objs("contributor"):
            kind, found = self._kind_of(ref.peek("reference"))
            if kind == "Organization" and found is not None:
                return self._organization(self.resolve(ref, "Organization"))
        return None

    def _organization(self, org: _Resource) -> dict[str, Any]:
        data: dict[str, Any] = {"name": org.text("name") or fill("the practice's name")}
        addresses = org.objs("address")
        if addresses:
            lines = addresses[0].texts("line")
            if lines:
                data["address"] = lines
            country = addresses[0].text("country")
            if country:
                data["country"] = country
        for point in org.objs("telecom"):
            system = point.peek("system")
            if system in ("phone", "fax") and system not in data and point.peek("value"):
                point.text("system")
                data[system] = point.text("value")
        for system, key in ((NPI, "npi"), (EIN, "tax_id")):
            value = _identifier(org, system)
            if value:
                data[key] = value
        crisis = _ext_value(_extensions(org), "crisis-phone", _Obj.text, "valueString")
        if crisis:
            data["crisis_phone"] = crisis
        return data

    def signatures(self) -> list[dict[str, Any]]:
        """Each Provenance of the care plan -> a signature: who, in what role, when."""
        found = []
        for provenance in self.resources:
            if provenance.kind != "Provenance" or not any(
                self._points_to(t, self.care_plan) for t in provenance.objs("target")
            ):
                continue
            self.used.add(id(provenance))
            found.append(self._signature(provenance))
        return found

    def _signature(self, provenance: _Resource) -> dict[str, Any]:
        for target in provenance.objs("target"):
            if self._points_to(target, self.care_plan):
                target.take()
        ext = _extensions(provenance)
        agents = provenance.objs("agent")
        who = agents[0].obj("who") if agents else None
        signs = provenance.objs("signature")
        types = [c.peek("code") for s in signs for c in s.objs("type")]
        by_type = {code: role for role, code in reversed(SIGNATURE_TYPES.items())}
        role = _ext_value(ext, "signature-role", _Obj.text, "valueCode")
        if role is None and types and types[0] in by_type:
            role = by_type[types[0]]
            self.unmapped.append(f"{provenance.label}: role {role}, from the signature's type "
                                 "(inferred)")  # fmt: skip
        recorded = provenance.text("recorded")
        date = _ext_value(ext, "signature-date", _Obj.text, "valueDate")
        if date is None and signs:
            date = (signs[0].peek("when") or recorded or "")[:10] or None
        data: dict[str, Any] = {
            "role": role or fill("client, guardian, clinician, supervisor or other"),
            "name": (who.text("display") if who else None) or fill("the signer's name"),
        }
        if agents:
            agents[0].take()  # who signed, in the role read above
        for sign in signs:
            sign.take()  # its type, time and signer: the role, date and name read
        if date:
            data["date"] = date
        for name, key, read, value_key in (
            ("credentials", "credentials", _Obj.text, "valueString"),
            ("declined-reason", "declined_reason", _Obj.text, "valueString"),
            ("signature-method", "method", _Obj.text, "valueCode"),
            ("signed-at", "signed_at", _Obj.text, "valueDateTime"),
            ("content-sha256", "content_sha256", _Obj.text, "valueString"),
        ):
            value = _ext_value(ext, name, read, value_key)
            if value is not None:
                data[key] = value
        parts = _ext_value(ext, "parts-sha256", _Obj.text, "valueString")
        if parts is not None:
            try:
                data["parts_sha256"] = json.loads(parts)
            except ValueError:
                self.problems.add(f"{provenance.label}.extension", "parts-sha256 is not JSON")
        return data

    def methods(self, care_plan: _Resource) -> list[tuple[dict[str, Any], list[_Resource]]]:
        """Each activity with a detail -> (method, the goals it serves)."""
        methods = []
        for activity in care_plan.objs("activity"):
            detail = activity.obj("detail")
            if detail is None:
                if not self.problems.has(activity.at("detail")):
                    activity.leave(None, "a request by reference, not a method plandoc reads"
                                   if "reference" in activity else "no detail")  # fmt: skip
                continue
            if detail.boolean("doNotPerform"):
                activity.leave(None, "doNotPerform: an activity not to do; plandoc's methods "
                               "are what is done, so it is not imported")  # fmt: skip
                continue
            methods.append((self.method(detail, len(methods)), self._served(detail)))
        return methods

    def method(self, detail: _Obj, index: int) -> dict[str, Any]:
        ext = _extensions(detail)
        frequency, minutes, dates = self.schedule(detail)
        party = self.performer(detail)
        responsible = _ext_value(ext, "responsible", _Obj.text, "valueCode")
        if detail.peek("status") == self.activity_status:
            detail.text("status")  # what plandoc writes for the plan's status
        code = detail.obj("code")
        description = detail.text("description")
        if dates:
            description = (f"{description} Planned {dates}." if description
                           else fill(f"what it involves (planned {dates})"))  # fmt: skip
        words = _ext_value(ext, "client-description", _Obj.text, "valueString")
        return {
            **({"client_description": words} if words else {}),
            "id": _ext_value(ext, "method-id", _Obj.text, "valueString") or f"M{index + 1}",
            "name": _concept_text(code) or _coding_display(code) or fill("the intervention"),
            "description": description or fill("what it involves"),
            "responsible": responsible or party or fill("client, clinician, family or other"),
            "frequency": frequency or fill("how often"),
            "session_minutes": minutes or fill("minutes a session"),
        }

    def performer(self, detail: _Obj) -> str | None:
        """Who is responsible, from the first performer's resource type."""
        performers = detail.objs("performer")
        if not performers:
            return None
        first = performers[0]
        target = first.text("reference")
        kind, found = self._kind_of(target)
        if target and found is None and target.startswith(_LOCAL):
            self._find(first, "Practitioner", first.path)  # the dangling reference: a problem
            return None
        if kind is None:
            first.leave(None, "a performer of no known resource type; who is responsible is "
                        "left to fill")  # fmt: skip
            return None
        author = self.author_target
        if kind in _PARTY:
            party = _PARTY[kind]
        elif target == author or (found is not None and self.by_url.get(author or "") is found):
            party = "clinician"
        else:
            party = "clinician" if kind in ("Practitioner", "PractitionerRole") and not author \
                else "other"  # fmt: skip
        if found is not None:
            first.take("display")
            if id(found) not in self.used:
                self.kind_only.setdefault(id(found), first.path)
        else:
            self.unmapped.append(
                f"{first.path}: {plan_value(target)} is outside the file; responsible: {party}, "
                f"by its type ({kind})"
            )
        return party

    def schedule(self, detail: _Obj) -> tuple[str | None, int | None, str | None]:
        """scheduled[x] -> (how often, minutes a session, the dates planned), each if given."""
        if "scheduledTiming" in detail:
            timing = detail.obj("scheduledTiming")
            return _timing(timing) if timing else (None, None, None)
        if "scheduledPeriod" in detail:
            period = detail.obj("scheduledPeriod")
            return None, None, _dates(period) if period else None
        text = detail.peek("scheduledString")
        if text is not None and _DATE.match(text):
            detail.leave("scheduledString", "a date, not how often; plandoc's methods have no "
                         "dates")  # fmt: skip
            return None, None, None
        frequency, minutes = _schedule(detail.text("scheduledString"))
        return frequency, minutes, None

    def _served(self, detail: _Obj) -> list[_Resource]:
        return [goal for ref in detail.objs("goal") if (goal := self.linked(ref, "Goal"))]

    def goals(
        self, care_plan: _Resource, methods: list[tuple[dict[str, Any], list[_Resource]]]
    ) -> list[dict[str, Any]]:
        method_ids: dict[int, list[str]] = {}  # a goal's id() -> the methods that serve it
        for method, served in methods:
            for goal in served:
                method_ids.setdefault(id(goal), []).append(method["id"])
        listed = list({id(g): g for g in map(self._goal_of, care_plan.objs("goal"))}.values())
        milestones: dict[int, list[_Resource]] = {}
        parent: dict[int, _Resource] = {}
        for goal in listed:
            for path, objective in self._milestones(goal):
                if id(objective) in parent:
                    self.unmapped.append(
                        f"{path}: {objective.label} is a milestone of an earlier goal already"
                    )
                    continue
                parent[id(objective)] = goal
                milestones.setdefault(id(goal), []).append(objective)
        goals, mapped = [], set()
        for number, goal in enumerate(listed, 1):
            if id(goal) in parent:
                continue
            objectives = milestones.get(id(goal), [])
            mapped |= {id(goal), *map(id, objectives)}
            goals.append(self.goal(goal, number, objectives, method_ids))
        for goal in [*listed, *(o for g in listed for o in milestones.get(id(g), []))]:
            if id(goal) not in mapped:
                mapped.add(id(goal))
                self.unmapped.append(
                    f"{goal.label}: a milestone of a milestone (or in a cycle of them); plandoc "
                    "has goals and their objectives only, not mapped"
                )
        if goals:
            return goals
        self.unmapped.append("CarePlan.goal: none; a goal to fill stands in")
        return [{
            "id": "G1", "term": fill("short or long"), "statement": fill("a measurable goal"),
            "target_date": fill("YYYY-MM-DD"),
            "measure": {"instrument": fill("the instrument, e.g. PHQ-9"),
                        "baseline": fill("the baseline"), "target": fill("the target")},
            "objectives": [{"id": "G1.1", "statement": fill("an observable step"),
                            "target_date": fill("YYYY-MM-DD"),
                            "methods": [fill("a method id")]}],
        }]  # fmt: skip

    def _goal_of(self, reference: _Obj) -> _Resource:
        return self.resolve(reference, "Goal")

    def _milestones(self, goal: _Resource) -> list[tuple[str, _Resource]]:
        """The goals this goal names as its milestones (its objectives), in order, by path."""
        found = []
        for ext in goal.objs("extension"):
            if ext.peek("url") != GOAL_RELATIONSHIP:
                continue
            parts = {part.peek("url"): part for part in ext.objs("extension")}
            kind = parts["type"].obj("valueCodeableConcept") if "type" in parts else None
            if "milestone" not in [c.peek("code") for c in _codings(kind)]:
                ext.leave(None, "a goal relationship other than milestone")
                continue
            ext.take()
            target = parts["target"].obj("valueReference") if "target" in parts else None
            found.append((ext.path, self.resolve(target, "Goal", f"{ext.path}.extension")))
        return found

    def goal(
        self,
        goal: _Resource,
        number: int,
        objectives: list[_Resource],
        method_ids: dict[int, list[str]],
    ) -> dict[str, Any]:
        ext = _extensions(goal)
        self._same_subject(goal)
        target = self._target(goal)
        term = None
        for category in goal.objs("category"):
            words = category.peek("text") or ""
            found = "short" if "short" in words else "long" if "long" in words else None
            if found and term is None:
                term = found
                category.text("text")
        goal_id = _identifier(goal, GOAL_ID) or f"G{number}"
        own = list(dict.fromkeys(method_ids.get(id(goal), [])))  # methods linked to the goal
        items = [self.objective(o, f"{goal_id}.{i}", method_ids, own)
                 for i, o in enumerate(objectives, 1)]  # fmt: skip
        if own and items and all(not set(own) <= set(o["methods"]) for o in items):
            self.unmapped.append(f"{goal.label}: its objectives name their own methods; "
                                 f"{', '.join(own)} serve the goal itself, not mapped")  # fmt: skip
        data: dict[str, Any] = {
            "id": goal_id,
            "term": term or fill("short or long"),
            "statement": _concept_text(goal.obj("description")) or fill("the goal"),
            "target_date": (target.text("dueDate") if target else None) or fill("YYYY-MM-DD"),
            "measure": self.measure(target, ext),
            "objectives": items or [{
                "id": f"{goal_id}.1", "statement": fill("an observable step"),
                "target_date": fill("YYYY-MM-DD"), "methods": own or [fill("a method id")]}],
        }  # fmt: skip
        words = _ext_value(ext, "client-words", _Obj.text, "valueString")
        if words:
            data["client_words"] = words
        status = self._status(goal)
        if status:
            data["status"] = status
        progress = [self.progress(o, goal) for o in self._observations_of(goal)]
        if progress:
            data["progress"] = sorted(progress, key=lambda e: e["date"])
        return data

    def _status(self, goal: _Resource) -> str | None:
        lifecycle = goal.text("lifecycleStatus")
        achievement = goal.obj("achievementStatus")
        codes = [(c.text("code"), c.text("system")) for c in _codings(achievement)]
        if achievement and codes and codes[0][1] == ACHIEVEMENT:
            achievement.take()  # HL7's code, read; its display and text only name it
        key = (lifecycle, codes[0][0] if codes else None, goal.text("statusReason"))
        if key in STATUS_OF:
            return STATUS_OF[key]
        status = {"proposed": "not-started", "planned": "not-started", "accepted": "not-started",
                  "active": "in-progress", "on-hold": "in-progress", "completed": "met",
                  "cancelled": "discontinued", "rejected": "discontinued",
                  }.get(lifecycle or "")  # fmt: skip
        if status:
            self.unmapped.append(
                f"{goal.label}.lifecycleStatus: status {status} (inferred from "
                f"{plan_value(lifecycle or '')})"
            )
        return status

    def _target(self, goal: _Resource) -> _Obj | None:
        targets = goal.objs("target")
        for extra in targets[1:]:
            extra.leave(None, "plandoc reads a goal's first target")
        return targets[0] if targets else None

    def measure(self, target: _Obj | None, ext: dict[str, _Obj]) -> dict[str, Any]:
        concept = target.obj("measure") if target else None
        quantity = target.obj("detailQuantity") if target else None
        baseline = ext["baseline"].obj("valueQuantity") if "baseline" in ext else None
        baseline_value = baseline.decimal("value") if baseline else None
        if baseline is not None:
            ext["baseline"].take()
        loinc = next((c.peek("code") for c in _codings(concept) if c.peek("system") == LOINC),
                     None)  # fmt: skip
        text = concept.peek("text") if concept else None
        name = _instrument_name(self.instruments, loinc, text)
        target_value = quantity.decimal("value") if quantity else None
        unit = quantity.text("unit") if quantity else None
        score = {
            "baseline": baseline_value if baseline_value is not None else fill("the baseline"),
            "target": target_value if target_value is not None else fill("the target"),
        }
        if (quantity and quantity.peek("code") == "{score}") or (name and unit in (None, "score")):
            if name and concept:
                concept.take()  # the instrument, named by its code or words
            if quantity:
                quantity.take()
            return {"instrument": name or fill("the instrument, e.g. PHQ-9"), **score}
        if quantity and unit:
            quantity.take()
        return {
            "behavior": (concept.text("text") if concept else None)
            or fill("the behaviour counted"),
            "unit": unit or fill("what a count means"),
            **score,
        }

    def objective(
        self,
        goal: _Resource,
        default_id: str,
        method_ids: dict[int, list[str]],
        own: list[str],
    ) -> dict[str, Any]:
        used = list(dict.fromkeys(method_ids.get(id(goal), []))) or own
        self._same_subject(goal)
        for category in goal.objs("category"):
            if category.peek("text") == "objective":
                category.text("text")
        target = self._target(goal)
        data = {
            "id": _identifier(goal, GOAL_ID) or default_id,
            "statement": _concept_text(goal.obj("description")) or fill("the step"),
            "target_date": (target.text("dueDate") if target else None) or fill("YYYY-MM-DD"),
            "methods": used or [fill("a method id")],
        }
        status = self._status(goal)
        if status:
            data["status"] = status
        words = _ext_value(_extensions(goal), "client-statement", _Obj.text, "valueString")
        if words:
            data["client_statement"] = words
        return data

    def _observations_of(self, goal: _Resource) -> list[_Resource]:
        found = [
            o for ref in goal.objs("outcomeReference") if (o := self.linked(ref, "Observation"))
        ]
        return list({id(o): o for o in found}.values())

    def _score_parts(self, observation: _Resource) -> None:
        """Take what plandoc writes in every score: final, a survey or activity, the subject."""
        self._same_subject(observation)
        if observation.peek("status") == "final":
            observation.text("status")
        for category in observation.objs("category"):
            if all(
                c.peek("system") == OBSERVATION_CATEGORY
                and c.peek("code") in ("survey", "activity")
                for c in _codings(category)
            ):
                category.take()  # fmt: skip

    def progress(self, observation: _Resource, goal: _Resource) -> dict[str, Any]:
        self._score_parts(observation)
        for focus in observation.objs("focus"):
            if self._points_to(focus, goal):
                focus.take()
        targets = goal.objs("target")
        measure = targets[0].obj("measure") if targets else None
        code = observation.obj("code")
        if code and measure and code.peek("text") == measure.peek("text"):
            code.take()  # the goal's measure
        entry: dict[str, Any] = {
            "date": (observation.text("effectiveDateTime") or "")[:10]
            or fill("the score's date, YYYY-MM-DD"),
            "score": _value(observation),
        }  # fmt: skip
        status = _ext_value(_extensions(observation), "goal-status", _Obj.text, "valueCode")
        if status:
            entry["status"] = status
        notes = observation.objs("note")
        for extra in notes[1:]:
            extra.leave(None, "plandoc keeps one note a score")
        text = notes[0].text("text") if notes else None
        if text:
            entry["note"] = text
        return entry

    def baseline(self, observation: _Resource) -> dict[str, Any]:
        self._score_parts(observation)
        code = observation.obj("code")
        loinc = next((c.peek("code") for c in _codings(code) if c.peek("system") == LOINC), None)
        text = code.peek("text") if code else None
        name = _instrument_name(self.instruments, loinc, text)
        if name and code:
            code.take()
        return {
            "instrument": name or (code.text("text") if code else None) or "",
            "date": (observation.text("effectiveDateTime") or "")[:10],
            "score": _value(observation),
        }

    def notes(self, care_plan: _Resource) -> list[dict[str, Any]]:
        notes = []
        for note in care_plan.objs("note"):
            text = note.text("text")
            if text:
                date = (note.text("time") or "")[:10]
                notes.append({"date": date or fill("the review's date"), "text": text})
        return notes


def _parts(
    node: Any, path: str, shown: str, kind: str, problems: _Problems, name: str = ""
) -> tuple[bool, list[tuple[str, str, Any]]]:
    """Whether any of `node` is mapped (or listed), and its parts that are neither, each
    (path shown, why not mapped, the part).

    A part holding nothing mapped is one part, listed at its own path; a
    resource (`name` empty) is always split into its elements.
    """
    if path in problems.whole:
        return True, []
    if path in problems.why:
        return True, [(shown, problems.why[path], node)]
    if isinstance(node, dict):
        children = [(f"{path}.{key}", f"{shown}.{_name_shown(key, kind, name)}", value, key)
                    for key, value in node.items() if value is not None]  # fmt: skip
    elif isinstance(node, list):
        children = [(f"{path}[{i}]", f"{shown}[{i}]", value, name) for i, value in enumerate(node)]
    else:
        mapped = path in problems.consumed
        return mapped, [] if mapped else [(shown, _why(name, node, kind, shown), node)]
    results = [_parts(value, p, s, kind, problems, key) for p, s, value, key in children]
    if name and not any(mapped for mapped, _ in results):
        return False, [(shown, _why(name, node, kind, shown), node)] if children else []
    return any(mapped for mapped, _ in results), [r for _, found in results for r in found]


def _name_shown(name: str, kind: str, parent: str) -> str:
    if not parent:
        return _element(name, kind)
    return name if name.removeprefix("_") in _KNOWN_NAMES else plan_value(name)


def _why(name: str, node: Any, kind: str, shown: str) -> str:
    """Why a part of the file is not mapped, from its name (`shown`: its path as shown)."""
    name = name.removeprefix("_")
    top = shown.count(".") == 1 and not shown.endswith("]")
    if name in ("extension", "modifierExtension"):
        items = node if isinstance(node, list) else [node]
        urls = [item.get("url") for item in items if isinstance(item, dict)]
        shown_urls = ", ".join(plan_value(u) for u in urls if isinstance(u, str))
        what = "a modifier extension" if name == "modifierExtension" else "an extension"
        return f"{what} plandoc does not read" + (f": {shown_urls}" if shown_urls else "")
    if top and name not in ELEMENTS.get(kind, ()):
        return NOT_FHIR
    if name == "text" and not top:
        return "words plandoc has no place for"
    return WHY_NOT.get(name, "plandoc's plan has no place for it")


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []


def _timing(timing: _Obj) -> tuple[str | None, int | None, str | None]:
    """A Timing -> (how often, in words; minutes a session; the dates it bounds)."""
    repeat = timing.obj("repeat")
    frequency = minutes = dates = None
    if (
        repeat
        and all(n in repeat for n in ("frequency", "period"))
        and (repeat.peek("periodUnit") in _UNIT)
    ):
        frequency = _how_often(
            repeat.integer("frequency"), repeat.decimal("period"), repeat.text("periodUnit")
        )
    if repeat and "duration" in repeat and repeat.peek("durationUnit") in ("min", "h"):
        duration = repeat.decimal("duration")
        factor = 60 if repeat.text("durationUnit") == "h" else 1
        if duration and float(duration * factor).is_integer():
            minutes = int(duration * factor)
    bounds = repeat.obj("boundsPeriod") if repeat else None
    if bounds:
        dates = _dates(bounds)
    code = timing.obj("code")
    if frequency is None and code:
        frequency = _concept_text(code) or _coding_display(code)
    return frequency, minutes, dates


def _how_often(times: int | None, period: int | float | None, unit: str | None) -> str | None:
    if not times or not period or unit not in _UNIT:
        return None
    word = _UNIT[unit]
    if times == 1 and period == 1 and unit in _EVERY:
        return _EVERY[unit]
    count = {1: "once", 2: "twice"}.get(times, f"{times} times")
    return f"{count} a {word}" if period == 1 else f"{count} every {period:g} {word}s"


def _dates(period: _Obj) -> str | None:
    start, end = (period.text("start") or "")[:10], (period.text("end") or "")[:10]
    if start and start == end:
        return f"on {start}"
    if start and end:
        return f"from {start} to {end}"
    return f"from {start}" if start else f"until {end}" if end else None


def _safety_plan(ext: _Obj) -> dict[str, Any]:
    """plandoc's safety-plan extension -> the safety plan."""
    ext.text("url")
    parts: dict[str, list[_Obj]] = {}
    for part in ext.objs("extension"):
        parts.setdefault(part.peek("url") or "", []).append(part)
    data: dict[str, Any] = {}
    for key, name in SAFETY_TEXTS:
        texts = [t for p in parts.get(name, []) if (t := p.text("valueString"))]
        for part in parts.get(name, []):
            part.text("url")
        if texts or key in ("warning_signs", "coping_strategies"):
            data[key] = texts or [fill(key.replace("_", " "))]
    for name, key, role in (("support", "supports", "relationship"),
                            ("professional", "professionals", "role")):  # fmt: skip
        people = []
        for part in parts.get(name, []):
            part.text("url")
            fields = {p.peek("url"): p for p in part.objs("extension")}
            person = {}
            for field in ("name", role, "phone"):
                value = fields[field].text("valueString") if field in fields else None
                if field in fields:
                    fields[field].text("url")
                person[field] = value or fill(f"the {field}")
            people.append(person)
        if people:
            data[key] = people
    reviewed = parts.get("reviewed", [])
    data["reviewed"] = (reviewed[0].text("valueDate") if reviewed else None) or fill("YYYY-MM-DD")
    if reviewed:
        reviewed[0].text("url")
    return data


def _value(observation: _Obj) -> int | float | None:
    if "valueInteger" in observation:
        return observation.integer("valueInteger")
    quantity = observation.obj("valueQuantity")
    if quantity:
        quantity.take()
    return quantity.decimal("value") if quantity else None


def _identifier(resource: _Obj, system: str) -> str | None:
    for item in resource.objs("identifier"):
        if item.peek("system") == system and item.peek("value"):
            item.text("system")
            return item.text("value")
    return None


def _authorization(ext: dict[str, _Obj]) -> dict[str, Any]:
    """The authorization from plandoc's Coverage extensions: a number alone is the older
    `authorization_number`; with a period or counts, an `authorization`."""
    number = _ext_value(ext, "authorization-number", _Obj.text, "valueString")
    period = (
        ext["authorization-period"].obj("valuePeriod") if "authorization-period" in ext else None
    )
    if period is not None:
        ext["authorization-period"].text("url")
    found = {
        "number": number,
        "start": period.text("start") if period else None,
        "end": period.text("end") if period else None,
        "sessions": _ext_value(ext, "authorization-sessions", _Obj.integer, "valueInteger"),
        "used": _ext_value(ext, "authorization-used", _Obj.integer, "valueInteger"),
    }
    found = {key: value for key, value in found.items() if value is not None}
    if set(found) <= {"number"}:
        return {"authorization_number": number}
    return {"authorization": found}


def _extensions(element: _Obj) -> dict[str, _Obj]:
    """plandoc's own extensions of an element, by name (the first of a name)."""
    found: dict[str, _Obj] = {}
    for extension in element.objs("extension"):
        url = extension.peek("url")
        if url and url.startswith(EXT):
            found.setdefault(url[len(EXT) :], extension)
    return found


def _ext_value(ext: dict[str, _Obj], name: str, read: Callable[[_Obj, str], Any], key: str) -> Any:
    """The value (`valueString`...) of plandoc's extension `name`, read by `read` (its type)."""
    if name not in ext:
        return None
    value = read(ext[name], key)
    if value is not None:
        ext[name].text("url")
    return value


def _codings(concept: _Obj | None) -> list[_Obj]:
    return concept.objs("coding") if concept else []


def _concept_text(concept: _Obj | None) -> str | None:
    return concept.text("text") if concept else None


def _coding_display(concept: _Obj | None) -> str | None:
    """The display of the first coding that has one; its code is listed, not mapped."""
    for coding in _codings(concept):
        display = coding.peek("display") and coding.text("display")
        if display:
            coding.leave(None, "its code: plandoc keeps the display as the name")
            return display
    return None


def _name_text(name: _Obj | None) -> str | None:
    if name is None:
        return None
    return name.text("text") or " ".join([*name.texts("given"), name.text("family") or ""]).strip()


def _contact(contact: _Obj) -> dict[str, Any]:
    phones = [t for t in contact.objs("telecom") if t.peek("value")]
    relationships = [r for r in contact.objs("relationship") if r.peek("text")]
    if phones and phones[0].peek("system") == "phone":
        phones[0].text("system")
    return {
        "name": _name_text(contact.obj("name")) or fill("the contact's name"),
        "relationship": relationships[0].text("text") if relationships else fill("relationship"),
        "phone": phones[0].text("value") if phones else fill("the contact's phone"),
    }


def _schedule(text: str | None) -> tuple[str | None, int | None]:
    """'weekly, 60 minutes' -> ('weekly', 60); anything else -> (text, None)."""
    if not text:
        return None, None
    frequency, _, rest = text.rpartition(", ")
    number = rest.removesuffix(" minutes")
    if frequency and number.isascii() and number.isdigit() and len(number) < 6:
        return frequency, int(number)
    return text, None


def _instrument_name(registry: Registry, loinc: str | None, text: str | None) -> str | None:
    if loinc:
        for instrument in registry.instruments.values():
            if instrument.loinc == loinc:
                return instrument.name
    found = registry.find(text) if text else None
    return found.name if found else None
