"""What plandoc's FHIR export and import share: code systems, extension URLs, status maps."""

from __future__ import annotations

import uuid

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

PLANDOC_CODE = "urn:plandoc:code"  # plandoc's own codes (medical-necessity, impairment domains)
EIN = "urn:oid:2.16.840.1.113883.4.4"  # the US employer identification number (tax id)
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
# A signer's role -> the ASTM E1762 signature type (author, consent, verification, co-participant).
SIGNATURE_TYPES = {
    "clinician": "1.2.840.10065.1.12.1.1",
    "client": "1.2.840.10065.1.12.1.7",
    "guardian": "1.2.840.10065.1.12.1.7",
    "supervisor": "1.2.840.10065.1.12.1.5",
    "other": "1.2.840.10065.1.12.1.3",
}
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# The parts of a safety plan, as (plan key, extension name) for lists of text.
SAFETY_TEXTS = [
    ("warning_signs", "warning-sign"),
    ("coping_strategies", "coping-strategy"),
    ("distractions", "distraction"),
    ("means_safety", "means-safety"),
    ("reasons_for_living", "reason-for-living"),
]
