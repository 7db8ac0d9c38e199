"""A FHIR R4 care plan (a Bundle, or a CarePlan with its resources contained) as a plan.

What FHIR does not carry (the treatment contract, the time estimate, the
narrative history...) becomes a "FILL IN" placeholder that `plandoc validate`
names, and anything it cannot map is listed, never dropped in silence. The
docs' FHIR page lists each field and its FHIR home.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from pathlib import Path
from typing import Any, NoReturn

from plandoc.interop.fhir.common import (
    EXT,
    GOAL_ID,
    GOAL_RELATIONSHIP,
    GOAL_STATUS,
    ICD10CM,
    LOINC,
    MEMBER_ID,
    NPI,
    PLAN_ID,
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
DETAIL_READ = {"extension", "code", "description", "status", "scheduledString", "goal", "performer"}
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

# What the display of a reference out of a lone CarePlan can stand for.
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

    def __init__(self, problems: str | list[str], line: int | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.line = line
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

    def text(self, name: str) -> str | None:
        return self._text(self._get(name, "text", lambda v: isinstance(v, str)), self.at(name))

    def texts(self, name: str) -> list[str]:
        found = []
        for path, item in self._items(name):
            if not isinstance(item, str):
                self.problems.add(path, f"must be text (found {_found(item)})")
            elif (text := self._text(item, path)) is not None:
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


def _type_name(kind: str) -> str:
    return kind if kind in RESOURCE_TYPES else plan_value(kind)


def _element(name: str, kind: str) -> str:
    """An element's name as a message shows it: a value unless FHIR defines it for `kind`."""
    known = ELEMENTS.get(kind, frozenset())
    if isinstance(name, str) and (name in known or name.removeprefix("_") in known):
        return name
    return plan_value(name)


def import_file(
    path: Path, instruments: Registry | None = None
) -> tuple[dict[str, Any], list[str]]:
    """A FHIR file -> (plan data, not mapped): `read_bundle` then `import_plan`."""
    return import_plan(read_bundle(path), instruments)


def import_plan(data: Any, instruments: Registry | None = None) -> tuple[dict[str, Any], list[str]]:
    """A FHIR R4 Bundle (or a CarePlan with its resources contained) -> (plan data, not mapped).

    `data` may be any JSON value. Raises FhirError, naming every problem
    found (at most `MOST_PROBLEMS`, then a count), for what cannot be read;
    what it can read but not map is returned as lines to show the user.
    Values from the file are marked in both (see `problems.plan_value`).
    Placeholders ("FILL IN: ...") stand for every required plan field FHIR
    does not carry. A measure is named from its LOINC code or text by
    `instruments` (default: the built-in ones; a clinic's registry adds its
    own).
    """
    reader = _Reader(data, instruments or built_in_registry())
    care_plan = reader.care_plan
    plan_data: dict[str, Any] = {"plandoc": 1, "plan": reader.plan_info(care_plan)}
    patient = reader.resolve(care_plan.obj("subject"), "Patient", "CarePlan.subject")
    plan_data["client"] = reader.client(patient)
    author = care_plan.obj("author")
    practitioner = reader.resolve(author, "Practitioner") if author else None
    plan_data["provider"] = reader.provider(practitioner)
    plan_data["assessment"] = {
        "history": fill("psychosocial history (FHIR does not carry it)"),
        "symptom_onset": fill("when and how the symptoms began (FHIR does not carry it)"),
        "prior_treatment": fill("earlier treatment (FHIR does not carry it)"),
    }
    baselines = [
        reader.baseline(reader.resolve(ref, "Observation"))
        for ref in care_plan.objs("supportingInfo")
    ]
    if baselines:
        plan_data["assessment"]["baseline_measures"] = baselines
    plan_data["presenting_problem"] = {
        "text": care_plan.text("description") or fill("the presenting problem")
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
    notes = reader.notes(care_plan)
    if notes:
        plan_data["progress_notes"] = notes
    reader.list_unread()
    reader.problems.check()
    return plan_data, reader.unmapped


class _Reader:
    def __init__(self, data: Any, instruments: Registry) -> None:
        self.instruments = instruments
        self.problems = _Problems()
        self.unmapped: list[str] = []
        self.by_url: dict[str, _Resource] = {}
        self.ambiguous: set[str] = set()  # keys that name two resources
        self.resources: list[_Resource] = []  # each once, in the file's order
        self.used: set[int] = set()
        if not isinstance(data, dict):
            self.problems.stop("", f"not a FHIR resource (the file holds {_found(data)})")
        kind = _Obj(data, "", self.problems).text("resourceType")
        if kind is None:
            self.problems.stop("", "not a FHIR resource: no resourceType")
        self.standalone = kind == "CarePlan"  # may refer to resources elsewhere
        if kind == "Bundle":
            self._read_bundle(_Obj(data, "Bundle", self.problems))
        elif kind == "CarePlan":
            self.care_plan = _Resource(data, "CarePlan", self.problems, kind, "CarePlan")
            self._check_version(self.care_plan)
        else:
            self.problems.stop("", f"{_type_name(kind)}: plandoc reads a Bundle or a CarePlan")
        self._read_contained(self.care_plan)
        self.used.add(id(self.care_plan))

    def _read_bundle(self, bundle: _Obj) -> None:
        full_urls: dict[str, str] = {}
        for entry in bundle.objs("entry"):
            data = entry.obj("resource")
            if data is None:
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
        if len(plans) != 1:
            self.problems.stop("Bundle", f"{len(plans)} CarePlans; plandoc reads a bundle with one")
        self.care_plan = plans[0]
        self.care_plan.path = self.care_plan.label = "CarePlan"  # the one there is

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
        """The `kind` resource a Reference names; an empty one (and a problem) when it cannot."""
        path = reference.path if reference else path or kind
        found = self._find(reference, kind, path)
        if isinstance(found, _Resource):
            return found
        if found is not None and kind in OUTSIDE:  # out of a lone CarePlan
            display = reference.text("display") if reference else None
            if display:
                self.unmapped.append(f"{path}: {found} is outside the file; its display is used")
                return _Resource(OUTSIDE[kind](display), f"{path}.display", self.problems, kind,
                                 f"{path}.display")  # fmt: skip
        if found is not None:
            self.problems.add(path, f"{found} is outside the file and has no display to use")
        return _Resource({}, path, self.problems, kind, path)

    def linked(self, reference: _Obj, kind: str) -> _Resource | None:
        """The `kind` resource a Reference names, or None (listed) when it is outside the file."""
        found = self._find(reference, kind, reference.path)
        if isinstance(found, str):
            self.unmapped.append(f"{reference.path}: {found} is outside the file; not mapped")
            return None
        return found

    def _find(self, reference: _Obj | None, kind: str, path: str) -> _Resource | str | None:
        """The resource; or the marked reference when it is outside a lone CarePlan; or None."""
        target = reference.text("reference") if reference else None
        if not target:
            self.problems.missing(path, f"no reference to a {kind}")
            return None
        resource = self.by_url.get(target)
        if target in self.ambiguous:
            self.problems.add(path, f"reference {plan_value(target)} names two resources")
            return None
        if resource is None and self.standalone and not target.startswith("#"):
            return plan_value(target)
        if resource is None:
            self.problems.add(
                path, f"reference {plan_value(target)} is not in the bundle (dangling)"
            )
            return None
        if resource.kind != kind:
            self.problems.add(
                path, f"{plan_value(target)} is a {_type_name(resource.kind)}, not a {kind}"
            )
            return None
        self.used.add(id(resource))
        return resource

    def _points_to(self, reference: _Obj | None, resource: _Resource) -> bool:
        target = reference.text("reference") if reference else None
        return target is not None and self.by_url.get(target) is resource

    # --- what is not mapped ---------------------------------------------------------

    def note_unread(self, resource: _Resource) -> None:
        extra = [name for name in resource.names() if name not in READ.get(resource.kind, ())]
        self.unmapped += [
            f"{resource.label}.{_element(name, resource.kind)}: not mapped" for name in extra
        ]

    def list_unread(self) -> None:
        for resource in self.resources:
            if resource is self.care_plan:
                continue
            if id(resource) in self.used:
                self.note_unread(resource)
            else:
                self.unmapped.append(
                    f"{resource.label}: not read (no part of the care plan refers to it)"
                )
        self.note_unread(self.care_plan)

    # --- parts ----------------------------------------------------------------------

    def plan_info(self, care_plan: _Resource) -> dict[str, Any]:
        status = care_plan.text("status")
        if status is None:
            self.problems.missing("CarePlan.status", f"missing; one of {', '.join(PLAN_STATUSES)}")
        elif status not in PLAN_STATUSES:
            self.problems.add(
                "CarePlan.status", f"{plan_value(status, quote=True)} has no plandoc status"
            )
        identifier = _identifier(care_plan, PLAN_ID) or care_plan.text("id") or fill("plan id")
        ext = _extensions(care_plan)
        created = (care_plan.text("created") or "")[:10]
        period = care_plan.obj("period")
        effective = ((period.text("start") if period else None) or "")[:10] or created
        version = _ext_value(ext, "plan-version", _Obj.integer, "valueInteger")
        info: dict[str, Any] = {
            "id": identifier,
            "version": 1 if version is None else version,
            "status": status,
            "created": created or fill("when the plan was written, YYYY-MM-DD"),
            "effective": effective or fill("when the plan took effect, YYYY-MM-DD"),
        }
        for name, key in (("review-by", "review_by"), ("last-reviewed", "last_reviewed")):
            date = _ext_value(ext, name, _Obj.text, "valueDate")
            if date:
                info[key] = date
        return info

    def client(self, patient: _Resource) -> dict[str, Any]:
        names = {n.text("use") or "official": _name_text(n) for n in patient.objs("name")}
        client: dict[str, Any] = {
            "name": names.get("official") or next(iter(names.values()), None)
            or fill("the client's name"),
            "date_of_birth": patient.text("birthDate") or fill("date of birth, YYYY-MM-DD"),
        }  # fmt: skip
        if names.get("usual"):
            client["preferred_name"] = names["usual"]
        for point in patient.objs("telecom"):
            system, value = point.text("system"), point.text("value")
            if system in ("phone", "email") and value:
                client.setdefault(system, value)
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
        found = [
            r for r in self.resources
            if r.kind == "Coverage" and self._points_to(r.obj("beneficiary"), patient)
        ]  # fmt: skip
        if not found:
            member = _identifier(patient, MEMBER_ID)
            return {"payer": fill("the insurer"), "member_id": member} if member else None
        coverage = found[0]
        self.used.add(id(coverage))
        classes: dict[str | None, str | None] = {}
        for item in coverage.objs("class"):
            kind = item.obj("type")
            codes = [c.text("code") for c in kind.objs("coding")] if kind else []
            classes[codes[0] if codes else None] = item.text("value")
        payers = [p.text("display") for p in coverage.objs("payor")]
        data = {
            "payer": next((p for p in payers if p), None) or fill("the insurer"),
            "plan_name": classes.get("plan"),
            "member_id": _identifier(coverage, MEMBER_ID) or _identifier(patient, MEMBER_ID),
            "group_number": classes.get("group"),
        }
        data.update(_authorization(_extensions(coverage)))
        return {key: value for key, value in data.items() if value is not None}

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
        phones = [t.text("value") for t in practitioner.objs("telecom")
                  if t.text("system") == "phone"]  # fmt: skip
        if phones and phones[0]:
            provider["phone"] = phones[0]
        return provider

    def diagnoses(self, care_plan: _Resource) -> list[dict[str, Any]]:
        diagnoses = []
        for index, ref in enumerate(care_plan.objs("addresses")):
            condition = self.resolve(ref, "Condition")
            code = condition.obj("code")
            icd = next((c for c in _codings(code) if c.text("system") == ICD10CM), None)
            text = _concept_text(code)
            if icd is None:
                self.unmapped.append(
                    f"{condition.label}.code: no ICD-10-CM coding ({plan_value(text or '')})"
                )
            primary = _ext_value(
                _extensions(condition), "primary-diagnosis", _Obj.boolean, "valueBoolean"
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

    def methods(self, care_plan: _Resource) -> list[tuple[dict[str, Any], list[_Resource]]]:
        """Each activity with a detail -> (method, the goals it serves)."""
        methods = []
        for index, activity in enumerate(care_plan.objs("activity")):
            detail = activity.obj("detail")
            if detail is None:
                if not self.problems.has(activity.at("detail")):
                    what = "a reference" if "reference" in activity else "no detail"
                    self.unmapped.append(f"{activity.path}: {what}, not mapped")
                continue
            methods.append((self.method(detail, index), self._served(detail)))
        return methods

    def method(self, detail: _Obj, index: int) -> dict[str, Any]:
        ext = _extensions(detail)
        frequency, minutes = _schedule(detail.text("scheduledString"))
        responsible = _ext_value(ext, "responsible", _Obj.text, "valueCode") or (
            "clinician" if detail.objs("performer") else fill("client, clinician, family")
        )
        code = detail.obj("code")
        for name in detail.names():
            if name not in DETAIL_READ:
                where = _element(name, "CarePlan.activity.detail")
                self.unmapped.append(f"{detail.path}.{where}: not mapped")
        return {
            "id": _ext_value(ext, "method-id", _Obj.text, "valueString") or f"M{index + 1}",
            "name": _concept_text(code) or _coding_display(code) or fill("the intervention"),
            "description": detail.text("description") or fill("what it involves"),
            "responsible": responsible,
            "frequency": frequency or fill("how often"),
            "session_minutes": minutes or fill("minutes a session"),
        }

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
        return goals or [{"id": "G1", "statement": fill("a measurable goal")}]

    def _goal_of(self, reference: _Obj) -> _Resource:
        return self.resolve(reference, "Goal")

    def _milestones(self, goal: _Resource) -> list[tuple[str, _Resource]]:
        """The goals this goal names as its milestones (its objectives), in order, by path."""
        found = []
        for ext in goal.objs("extension"):
            if ext.text("url") != GOAL_RELATIONSHIP:
                continue
            parts = {part.text("url"): part for part in ext.objs("extension")}
            kind = parts["type"].obj("valueCodeableConcept") if "type" in parts else None
            if "milestone" not in [c.text("code") for c in _codings(kind)]:
                self.unmapped.append(f"{ext.path}: a goal relationship other than milestone")
                continue
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
        target = self._target(goal)
        category = " ".join(c.text("text") or "" for c in goal.objs("category"))
        term = "short" if "short" in category else "long" if "long" in category else None
        goal_id = _identifier(goal, GOAL_ID) or f"G{number}"
        data: dict[str, Any] = {
            "id": goal_id,
            "term": term or fill("short or long"),
            "statement": _concept_text(goal.obj("description")) or fill("the goal"),
            "target_date": (target.text("dueDate") if target else None) or fill("YYYY-MM-DD"),
            "measure": self.measure(target, ext),
            "objectives": [
                self.objective(o, f"{goal_id}.{i}", method_ids)
                for i, o in enumerate(objectives, 1)
            ] or [{"id": f"{goal_id}.1", "statement": fill("an observable step"),
                   "target_date": fill("YYYY-MM-DD"), "methods": [fill("a method id")]}],
        }  # fmt: skip
        words = _ext_value(ext, "client-words", _Obj.text, "valueString")
        if words:
            data["client_words"] = words
        status = _status(goal)
        if status:
            data["status"] = status
        progress = [self.progress(o) for o in self._observations_of(goal)]
        if progress:
            data["progress"] = sorted(progress, key=lambda e: e["date"])
        return data

    def _target(self, goal: _Resource) -> _Obj | None:
        targets = goal.objs("target")
        if len(targets) > 1:
            self.unmapped.append(f"{goal.label}.target: only the first of {len(targets)} mapped")
        return targets[0] if targets else None

    def measure(self, target: _Obj | None, ext: dict[str, _Obj]) -> dict[str, Any]:
        concept = target.obj("measure") if target else None
        quantity = target.obj("detailQuantity") if target else None
        baseline = ext["baseline"].obj("valueQuantity") if "baseline" in ext else None
        baseline_value = baseline.decimal("value") if baseline else None
        loinc = next((c.text("code") for c in _codings(concept) if c.text("system") == LOINC),
                     None)  # fmt: skip
        text = _concept_text(concept)
        name = _instrument_name(self.instruments, loinc, text)
        target_value = quantity.decimal("value") if quantity else None
        unit = quantity.text("unit") if quantity else None
        score = {
            "baseline": baseline_value if baseline_value is not None else fill("the baseline"),
            "target": target_value if target_value is not None else fill("the target"),
        }
        if (quantity and quantity.text("code") == "{score}") or (name and unit in (None, "score")):
            return {"instrument": name or fill("the instrument, e.g. PHQ-9"), **score}
        return {
            "behavior": text or fill("the behaviour counted"),
            "unit": unit or fill("what a count means"),
            **score,
        }

    def objective(
        self,
        goal: _Resource,
        default_id: str,
        method_ids: dict[int, list[str]],
    ) -> dict[str, Any]:
        used = list(dict.fromkeys(method_ids.get(id(goal), [])))
        target = self._target(goal)
        data = {
            "id": _identifier(goal, GOAL_ID) or default_id,
            "statement": _concept_text(goal.obj("description")) or fill("the step"),
            "target_date": (target.text("dueDate") if target else None) or fill("YYYY-MM-DD"),
            "methods": used or [fill("a method id")],
        }
        status = _status(goal)
        if status:
            data["status"] = status
        return data

    def _observations_of(self, goal: _Resource) -> list[_Resource]:
        found = [self.resolve(ref, "Observation") for ref in goal.objs("outcomeReference")]
        return list({id(o): o for o in found}.values())

    def progress(self, observation: _Resource) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "date": (observation.text("effectiveDateTime") or "")[:10]
            or fill("the score's date, YYYY-MM-DD"),
            "score": _value(observation),
        }  # fmt: skip
        status = _ext_value(_extensions(observation), "goal-status", _Obj.text, "valueCode")
        if status:
            entry["status"] = status
        notes = observation.objs("note")
        if len(notes) > 1:
            self.unmapped.append(f"{observation.label}.note: only the first of {len(notes)} mapped")
        text = notes[0].text("text") if notes else None
        if text:
            entry["note"] = text
        return entry

    def baseline(self, observation: _Resource) -> dict[str, Any]:
        code = observation.obj("code")
        loinc = next((c.text("code") for c in _codings(code) if c.text("system") == LOINC), None)
        text = _concept_text(code)
        return {
            "instrument": _instrument_name(self.instruments, loinc, text) or text or "",
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


def _value(observation: _Obj) -> int | float | None:
    if "valueInteger" in observation:
        return observation.integer("valueInteger")
    quantity = observation.obj("valueQuantity")
    return quantity.decimal("value") if quantity else None


def _identifier(resource: _Obj, system: str) -> str | None:
    return next(
        (i.text("value") for i in resource.objs("identifier") if i.text("system") == system), None
    )


def _authorization(ext: dict[str, _Obj]) -> dict[str, Any]:
    """The authorization from plandoc's Coverage extensions: a number alone is the older
    `authorization_number`; with a period or counts, an `authorization`."""
    number = _ext_value(ext, "authorization-number", _Obj.text, "valueString")
    period = (
        ext["authorization-period"].obj("valuePeriod") if "authorization-period" in ext else None
    )
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
        url = extension.text("url")
        if url and url.startswith(EXT):
            found.setdefault(url[len(EXT) :], extension)
    return found


def _ext_value(ext: dict[str, _Obj], name: str, read: Callable[[_Obj, str], Any], key: str) -> Any:
    """The value (`valueString`...) of plandoc's extension `name`, read by `read` (its type)."""
    return read(ext[name], key) if name in ext else None


def _codings(concept: _Obj | None) -> list[_Obj]:
    return concept.objs("coding") if concept else []


def _concept_text(concept: _Obj | None) -> str | None:
    return concept.text("text") if concept else None


def _coding_display(concept: _Obj | None) -> str | None:
    return next((d for c in _codings(concept) if (d := c.text("display"))), None)


def _name_text(name: _Obj | None) -> str | None:
    if name is None:
        return None
    return name.text("text") or " ".join([*name.texts("given"), name.text("family") or ""]).strip()


def _contact(contact: _Obj) -> dict[str, Any]:
    phones = [phone for t in contact.objs("telecom") if (phone := t.text("value"))]
    relationships = [text for r in contact.objs("relationship") if (text := r.text("text"))]
    return {
        "name": _name_text(contact.obj("name")) or fill("the contact's name"),
        "relationship": relationships[0] if relationships else fill("relationship"),
        "phone": phones[0] if phones else fill("the contact's phone"),
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


def _status(goal: _Obj) -> str | None:
    lifecycle = goal.text("lifecycleStatus")
    codes = [c.text("code") for c in _codings(goal.obj("achievementStatus"))]
    key = (lifecycle, codes[0] if codes else None, goal.text("statusReason"))
    if key in STATUS_OF:
        return STATUS_OF[key]
    return {"proposed": "not-started", "planned": "not-started", "accepted": "not-started",
            "active": "in-progress", "on-hold": "in-progress", "completed": "met",
            "cancelled": "discontinued", "rejected": "discontinued",
            }.get(lifecycle or "")  # fmt: skip


def _instrument_name(registry: Registry, loinc: str | None, text: str | None) -> str | None:
    if loinc:
        for instrument in registry.instruments.values():
            if instrument.loinc == loinc:
                return instrument.name
    found = registry.find(text) if text else None
    return found.name if found else None
