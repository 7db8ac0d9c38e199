"""HL7 FHIR R4: a plan exported as a Bundle (`exporting`), and a care plan imported (`importing`).

`common` holds what both share: the code systems, plandoc's extension URLs and
the status maps.
"""

from plandoc.interop.fhir.common import EXT, GOAL_RELATIONSHIP, ICD10CM, LOINC
from plandoc.interop.fhir.exporting import export_bundle
from plandoc.interop.fhir.importing import (
    MAX_BUNDLE_BYTES,
    MAX_DEPTH,
    MOST_PROBLEMS,
    STOP_AFTER,
    FhirError,
    import_file,
    import_plan,
    read_bundle,
)

__all__ = [
    "EXT",
    "GOAL_RELATIONSHIP",
    "ICD10CM",
    "LOINC",
    "MAX_BUNDLE_BYTES",
    "MAX_DEPTH",
    "MOST_PROBLEMS",
    "STOP_AFTER",
    "FhirError",
    "export_bundle",
    "import_file",
    "import_plan",
    "read_bundle",
]
