"""R4 checks of an exported Bundle beyond what the fhir.resources models check.

The models check each element's type and the elements every resource must
have; these add, offline: the minimum cardinality of the elements plandoc
writes, the values of R4's required bindings (codes a resource SHALL take
from a fixed set), the check digits of LOINC codes and NPIs and the form of
ICD-10-CM codes, the resource types each reference may name, the Bundle's
rules (unique full URLs, every reference resolving), empty elements (ele-1)
and periods ending before they start (per-1), and the FHIRPath invariants
of CarePlan, Goal, Condition, Observation, Patient, Bundle and Extension,
evaluated with `fhirpathpy` (imported only here, so never at start-up; it is
in the `test` and `fhir` extras).

`problems(bundle)` returns one line per problem, `path: what is wrong`
(empty when the bundle passes). The tests run it on every sample's export.
"""

from __future__ import annotations

import re
from typing import Any

from plandoc.interop.fhir.common import ICD10CM, LOINC, NPI

# R4's required bindings: (resource type, path of the code in it) -> the codes allowed.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    key: frozenset(codes.split())
    for key, codes in {
        ("Bundle", "type"): "document message transaction transaction-response batch "
        "batch-response history searchset collection",
        ("CarePlan", "status"): "draft active on-hold revoked completed entered-in-error unknown",
        ("CarePlan", "intent"): "proposal plan order option",
        ("CarePlan", "activity.detail.status"): "not-started scheduled in-progress on-hold "
        "completed cancelled stopped unknown entered-in-error",
        ("CarePlan", "activity.detail.kind"): "Appointment CommunicationRequest DeviceRequest "
        "MedicationRequest NutritionOrder Task ServiceRequest VisionPrescription",
        ("Goal", "lifecycleStatus"): "proposed planned accepted active on-hold completed "
        "cancelled entered-in-error rejected",
        ("Observation", "status"): "registered preliminary final amended corrected cancelled "
        "entered-in-error unknown",
        ("Coverage", "status"): "active cancelled draft entered-in-error",
        ("Patient", "gender"): "male female other unknown",
        ("Practitioner", "gender"): "male female other unknown",
        ("*", "telecom.system"): "phone fax email pager url sms other",
        ("*", "telecom.use"): "home work temp old mobile",
        ("*", "name.use"): "usual official temp nickname anonymous old maiden",
        ("*", "identifier.use"): "usual official temp secondary old",
        ("*", "text.status"): "generated extensions additional empty",
    }.items()
}  # fmt: skip
# Codings whose system has a required binding in R4.
REQUIRED_CODINGS = {
    ("Condition", "clinicalStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        frozenset(["active", "recurrence", "relapse", "inactive", "remission", "resolved"]),
    ),
    ("Condition", "verificationStatus"): (
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        frozenset(
            [
                "unconfirmed",
                "provisional",
                "differential",
                "confirmed",
                "refuted",
                "entered-in-error",
            ]
        ),
    ),
}
# Elements a resource must have (R4's minimum cardinality 1), by resource type.
REQUIRED_ELEMENTS = {
    "Bundle": ["type"],
    "CarePlan": ["status", "intent", "subject"],
    "Goal": ["lifecycleStatus", "description", "subject"],
    "Observation": ["status", "code"],
    "Condition": ["subject"],
    "Coverage": ["status", "beneficiary", "payor"],
}
# The resource types each reference may name (R4), by (resource type, path).
TARGETS = {
    ("CarePlan", "subject"): {"Patient", "Group"},
    ("CarePlan", "author"): {"Patient", "Practitioner", "PractitionerRole", "Device",
                             "RelatedPerson", "Organization", "CareTeam"},
    ("CarePlan", "addresses"): {"Condition"},
    ("CarePlan", "goal"): {"Goal"},
    ("CarePlan", "activity.detail.goal"): {"Goal"},
    ("CarePlan", "activity.detail.performer"): {"Practitioner", "PractitionerRole",
                                                "Organization", "RelatedPerson", "Patient",
                                                "CareTeam", "HealthcareService", "Device"},
    ("Goal", "subject"): {"Patient", "Group", "Organization"},
    ("Goal", "outcomeReference"): {"Observation"},
    ("Condition", "subject"): {"Patient", "Group"},
    ("Observation", "subject"): {"Patient", "Group", "Device", "Location"},
    ("Coverage", "beneficiary"): {"Patient"},
    ("Coverage", "payor"): {"Organization", "Patient", "RelatedPerson"},
}  # fmt: skip
# FHIRPath invariants of R4 (key, resource type, what it says, expression).
INVARIANTS = [
    ("dom-2", "*", "a contained resource contains none",
     "contained.contained.empty()"),
    ("dom-4", "*", "a contained resource has no versionId or lastUpdated",
     "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"),
    ("dom-5", "*", "a contained resource has no security label",
     "contained.meta.security.empty()"),
    ("ext-1", "*", "an extension has either extensions or a value, not both",
     "extension.all(extension.exists() != value.exists()) and "
     "modifierExtension.all(extension.exists() != value.exists())"),
    ("cpl-3", "CarePlan", "an activity has a reference or a detail, not both",
     "activity.all(detail.empty() or reference.empty())"),
    ("gol-1", "Goal", "a target with a detail has a measure",
     "target.all((detail.exists() and measure.exists()) or detail.exists().not())"),
    ("obs-6", "Observation", "dataAbsentReason only when there is no value",
     "dataAbsentReason.empty() or value.empty()"),
    ("obs-7", "Observation", "no component with the observation's own code and a value",
     "value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
     ".exists()).empty()"),
    ("con-3", "Condition", "a clinical status unless entered in error or not a problem",
     "clinicalStatus.exists() or verificationStatus.coding.where(system='http://terminology"
     ".hl7.org/CodeSystem/condition-ver-status' and code = 'entered-in-error').exists() "
     "or category.select($this='problem-list-item').empty()"),
    ("con-4", "Condition", "an abatement only with a resolved, in remission or inactive status",
     "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/"
     "CodeSystem/condition-clinical' and (code='resolved' or code='remission' or "
     "code='inactive')).exists()"),
    ("con-5", "Condition", "no clinical status when entered in error",
     "verificationStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/"
     "condition-ver-status' and code='entered-in-error').empty() or clinicalStatus.empty()"),
    ("pat-1", "Patient", "a contact has a name, telecom, address or organization",
     "contact.all(name.exists() or telecom.exists() or address.exists() or "
     "organization.exists())"),
    ("qty-3", "*", "a quantity with a code names its system",
     "descendants().where(value.exists() and code.exists()).all(system.exists())"),
    ("bdl-1", "Bundle", "total only in a search set or history",
     "total.empty() or (type = 'searchset') or (type = 'history')"),
    ("bdl-2", "Bundle", "entry.search only in a search set",
     "entry.search.empty() or (type = 'searchset')"),
    ("bdl-3", "Bundle", "entry.request in a batch, transaction or history, and only there",
     "entry.all(request.exists() = (%resource.type = 'batch' or "
     "%resource.type = 'transaction' or %resource.type = 'history'))"),
    ("bdl-4", "Bundle", "entry.response in a response or history, and only there",
     "entry.all(response.exists() = (%resource.type = 'batch-response' or "
     "%resource.type = 'transaction-response' or %resource.type = 'history'))"),
    ("bdl-7", "Bundle", "full URLs are unique",
     "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta"
     ".versionId).isDistinct()"),
    ("bdl-8", "Bundle", "a full URL names no version",
     "entry.all(fullUrl.empty() or fullUrl.contains('/_history/').not())"),
]  # fmt: skip

_LOINC = re.compile(r"^(\d{1,7})-(\d)$")
_ICD10CM = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-TV-Z]{1,4})?$")
_ABSOLUTE = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")


def loinc_ok(code: str) -> bool:
    """A LOINC code's form and its mod-10 check digit."""
    match = _LOINC.match(code)
    if not match:
        return False
    digits = [int(d) for d in match[1]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if index % 2 == 0 else digit
        total += doubled // 10 + doubled % 10
    return (10 - total % 10) % 10 == int(match[2])


def npi_ok(npi: str) -> bool:
    """An NPI's Luhn check digit, with the 80840 prefix (CMS)."""
    if not (len(npi) == 10 and npi.isascii() and npi.isdigit()):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = sum(
        (d * 2 // 10 + d * 2 % 10) if index % 2 else d for index, d in enumerate(reversed(digits))
    )
    return total % 10 == 0


def problems(bundle: dict[str, Any]) -> list[str]:
    """What an exported Bundle does wrong against R4's rules the models do not check."""
    found: list[str] = []
    entries = bundle.get("entry", [])
    urls = [entry.get("fullUrl") for entry in entries]
    by_url = {url: entry.get("resource", {}) for url, entry in zip(urls, entries, strict=True)}
    if len(set(urls)) != len(urls):
        found.append("Bundle.entry.fullUrl: two entries have the same full URL")
    envelope = {**bundle, "entry": [{k: v for k, v in e.items() if k != "resource"}
                                     for e in entries]}  # fmt: skip
    resources = [("Bundle", envelope)] + [
        (f"Bundle.entry[{i}].resource", entry.get("resource", {}))
        for i, entry in enumerate(entries)
    ]
    for path, resource in resources:
        kind = resource.get("resourceType", "")
        found += _elements(resource, kind, path)
        found += _references(resource, kind, path, by_url)
        found += _invariants(resource, kind, path)
    found += _empty(bundle, "Bundle")
    return found


def _values(node: Any, steps: list[str]) -> list[Any]:
    """The values at a dotted path, lists flattened."""
    items = [node]
    for step in steps:
        nxt: list[Any] = []
        for item in items:
            value = item.get(step) if isinstance(item, dict) else None
            nxt += value if isinstance(value, list) else [] if value is None else [value]
        items = nxt
    return items


def _elements(resource: dict[str, Any], kind: str, path: str) -> list[str]:
    found = [
        f"{path}.{name}: missing (R4: {kind}.{name} is required)"
        for name in REQUIRED_ELEMENTS.get(kind, [])
        if resource.get(name) in (None, [], {}, "")
    ]
    for (of, where), codes in REQUIRED_CODES.items():
        if of in (kind, "*"):
            for value in _values(resource, where.split(".")):
                if value not in codes:
                    found.append(f"{path}.{where}: {value!r} is not a code of its required binding")
    for (of, where), (system, codes) in REQUIRED_CODINGS.items():
        if of == kind:
            for coding in _values(resource, [where, "coding"]):
                if coding.get("system") == system and coding.get("code") not in codes:
                    found.append(f"{path}.{where}: {coding.get('code')!r} is not a {where} code")
    for coding in _codings(resource):
        system, code = coding.get("system"), coding.get("code")
        if system is not None and not _ABSOLUTE.match(system):
            found.append(f"{path}: coding system {system!r} is not an absolute URI")
        if system == LOINC and not loinc_ok(str(code)):
            found.append(f"{path}: {code!r} is not a LOINC code (its form or check digit)")
        if system == ICD10CM and not _ICD10CM.match(str(code)):
            found.append(f"{path}: {code!r} is not an ICD-10-CM code")
    for identifier in _values(resource, ["identifier"]) + _values(
        resource, ["qualification", "identifier"]
    ):
        if identifier.get("system") == NPI and not npi_ok(str(identifier.get("value"))):
            found.append(f"{path}.identifier: {identifier.get('value')!r} is not a valid NPI")
        if identifier.get("system") is not None and not _ABSOLUTE.match(identifier["system"]):
            found.append(f"{path}.identifier: system {identifier['system']!r} is not a URI")
    for extension, nested in _extensions(resource):
        url = extension.get("url")
        if not url or (not nested and not _ABSOLUTE.match(str(url))):
            found.append(f"{path}: extension url {url!r} is missing or not absolute")
        values = [key for key in extension if key.startswith("value")]
        if len(values) > 1 or bool(values) == bool(extension.get("extension")):
            found.append(f"{path}: extension {url!r} fails ext-1 (extensions or a value, not both)")
    for period in _periods(resource):
        start, end = period.get("start"), period.get("end")
        if start and end and start[:10] > end[:10]:
            found.append(f"{path}: a period ends ({end}) before it starts ({start}) (per-1)")
    return found


def _walk(node: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair in the JSON, at any depth."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((key, value))
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _codings(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key, value in _walk(resource) if key == "coding" for c in value]


def _extensions(node: Any, nested: bool = False) -> list[tuple[dict[str, Any], bool]]:
    """Every extension in the JSON, and whether it is inside another extension."""
    found: list[tuple[dict[str, Any], bool]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            inner = key in ("extension", "modifierExtension")
            for item in value if inner and isinstance(value, list) else []:
                found.append((item, nested))
            found += _extensions(value, nested or inner)
    elif isinstance(node, list):
        for value in node:
            found += _extensions(value, nested)
    return found


def _periods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        value for key, value in _walk(resource)
        if key in ("period", "valuePeriod", "scheduledPeriod", "boundsPeriod")
        and isinstance(value, dict)
    ]  # fmt: skip


def _references(
    resource: dict[str, Any], kind: str, path: str, by_url: dict[str | None, Any]
) -> list[str]:
    found = []
    for key, value in _walk(resource):
        if isinstance(value, dict) and isinstance(value.get("reference"), str):
            target = value["reference"]
            if kind != "Bundle" and target not in by_url:
                found.append(f"{path}.{key}: {target} does not resolve in the bundle")
    for (of, where), kinds in TARGETS.items():
        if of != kind:
            continue
        for reference in _values(resource, where.split(".")):
            target = by_url.get(reference.get("reference"))
            if target is not None and target.get("resourceType") not in kinds:
                allowed = " or ".join(sorted(kinds))
                found.append(f"{path}.{where}: a {target.get('resourceType')} is not a {allowed}")
    return found


def _empty(node: Any, path: str) -> list[str]:
    """ele-1: every element has a value or children; JSON has no empty ones or nulls."""
    if node in (None, "", [], {}):
        return [f"{path}: empty (ele-1: an element has a value or children)"]
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _empty(value, f"{path}.{key}")]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _empty(value, f"{path}[{i}]")]
    return []


def _invariants(resource: dict[str, Any], kind: str, path: str) -> list[str]:
    import fhirpathpy  # only here: the tests and the fhir extra have it
    from fhirpathpy.models import models

    found = []
    for key, of, what, expression in INVARIANTS:
        if of not in (kind, "*"):
            continue
        result = fhirpathpy.evaluate(resource, expression, {"resource": resource}, models["r4"])
        if result != [True] and result != []:
            found.append(f"{path}: fails {key} ({what})")
    return found
