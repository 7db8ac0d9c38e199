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
