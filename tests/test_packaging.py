"""The installed package carries its layouts and works outside the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT, SAMPLES


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    (found,) = out.glob("plandoc-*.whl")
    return found


@pytest.mark.slow
def test_wheel_carries_the_layouts_and_instrument_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("layout.toml", "plan.md.j2", "page.html.j2", "style.css"):
        assert f"plandoc/templates/standard/{name}" in names
    assert "plandoc/model/instruments.toml" in names
    # the ICD-10-CM index: its release, and a part per first letter
    assert "plandoc/model/icd10cm/data/RELEASE" in names
    assert {f"plandoc/model/icd10cm/data/{letter}.tsv.gz" for letter in "AFSTZ"} <= names


@pytest.mark.slow
def test_installed_plandoc_builds_from_any_folder(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    work = tmp_path / "clinic"
    (work / "inputs").mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        (work / "inputs" / sample.name).write_bytes(sample.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(site)}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import plandoc, sys; from plandoc.cli import main; "
            "assert plandoc.__file__.startswith(sys.argv[1]); main(['build'])",
            str(site),
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in (work / "output").glob("TP-*") if p.suffix != ".png")
    assert (
        len(built) == 3 * len(list(SAMPLES.iterdir())) and "TP-2026-0042-v2.standard.docx" in built
    )


@pytest.mark.slow
def test_wheel_carries_the_stems_of_the_icd10cm_index(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {path.name for path in (ROOT / "src/plandoc/model/icd10cm/stems").glob("*.tsv.gz")}
    assert len(shipped) == 26
    assert {f"plandoc/model/icd10cm/stems/{name}" for name in shipped} <= names
