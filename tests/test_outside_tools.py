"""DOCX validity checked by outside tools: LibreOffice converts it, pandoc reads it back.

Skipped, with the reason, where a tool is missing; `.ci/run` installs both, so
CI always runs them.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from plandoc.pipeline import check_file, render_documents

from .conftest import SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
LAYOUTS = ["standard", "client-copy", "managed-care"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("docx")
    written = {}
    for sample in SAMPLE_FILES:
        for layout in LAYOUTS:
            checked = check_file(sample, layout)
            assert checked.plan is not None
            path = folder / f"{sample.stem}.{layout}.docx"
            path.write_bytes(render_documents(checked.plan, checked.layout, ("docx",))["docx"])
            written[(sample.name, layout)] = path
    return written


@pytest.mark.skipif(not shutil.which("pandoc"), reason="pandoc is missing; .ci/run installs it")
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
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
