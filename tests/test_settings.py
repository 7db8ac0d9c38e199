"""One settings step: every command reads plandoc.toml, the environment and its flags alike."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.cli import main
from plandoc.errors import SettingsError
from plandoc.settings import Settings, load_settings

from .conftest import SAMPLES

CLINIC_LAYOUT = """
name = "riverside"
title = "Riverside Clinic Treatment Plan"
extends = "standard"
formats = ["md", "html", "docx"]
"""
CLINIC_MEASURES = """
[WEMWBS]
title = "Warwick-Edinburgh Mental Wellbeing Scale"
min = 14
max = 70
lower_is_better = false
"""
SETTINGS = """
input = "plans"
output = "documents"
layouts = ["riverside"]
formats = ["html"]
layout_folders = ["clinic-layouts"]
instruments = "clinic-measures.toml"
file_mode = "0640"
page_size = "a4"
repeat_limit = 5
"""


@pytest.fixture
def project(tmp_path: Path, plan_data) -> Path:
    """A clinic's project whose layouts, measures and options live only in plandoc.toml."""
    root = tmp_path / "project"
    (root / "clinic-layouts" / "riverside").mkdir(parents=True)
    (root / "clinic-layouts" / "riverside" / "layout.toml").write_text(CLINIC_LAYOUT)
    (root / "clinic-measures.toml").write_text(CLINIC_MEASURES)
    (root / "plandoc.toml").write_text(SETTINGS)
    (root / "plans").mkdir()
    goal = plan_data["goals"][0]
    goal["measure"] = {"instrument": "WEMWBS", "baseline": 30, "target": 50}
    goal["progress"] = [{"date": "2026-09-01", "score": 35}]
    plan_data["assessment"]["baseline_measures"] = []
    (root / "plans" / "TP-2026-0042.json").write_text(json.dumps(plan_data, indent=2))
    return root


def run(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_command_honours_the_settings_file(project, monkeypatch):
    monkeypatch.chdir(project)
    plan = Path("plans/TP-2026-0042.json")
    assert run("validate", plan).exit_code == 0  # the clinic's measure and layout are found
    rendered = run("render", plan)
    assert rendered.exit_code == 0, rendered.output
    page = Path("documents/TP-2026-0042-v2.riverside.html")
    assert page.is_file() and not Path("documents/TP-2026-0042-v2.riverside.docx").exists()
    assert "Riverside Clinic Treatment Plan" in page.read_text() and "size: A4" in page.read_text()
    assert stat.S_IMODE(page.stat().st_mode) == 0o640
    page.unlink()
    built = run("build")
    assert built.exit_code == 0 and "1 built" in built.output and page.is_file()
    status = run("status", "--format", "json")
    assert json.loads(status.output)[0]["layout"] == "riverside"
    made = run("new", "TP-2027-0001", "--format", "json")
    assert made.exit_code == 0 and Path("plans/TP-2027-0001.json").is_file()
    assert json.loads(Path("plans/TP-2027-0001.json").read_text())["plan"]["layout"] == "riverside"
    Path("plans/TP-2027-0001.json").unlink()
    exported = run("export-fhir", plan)
    bundle = Path("documents/TP-2026-0042-v2.fhir.json")
    assert exported.exit_code == 0 and bundle.is_file()
    imported = run("import-fhir", bundle, "-o", "back.json", "--format", "json")
    assert imported.exit_code == 0, imported.output
    assert (
        json.loads(Path("back.json").read_text())["goals"][0]["measure"]["instrument"] == "WEMWBS"
    )
    assert run("diff", plan, plan).exit_code == 0
    listing = run("layouts")
    assert "riverside" in listing.output and "clinic-layouts" in listing.output
    assert run("layouts", "show", "riverside").exit_code == 0
    assert run("schema", "-o", "plan.schema.json").exit_code == 0
    assert stat.S_IMODE(Path("plan.schema.json").stat().st_mode) == 0o640


def test_without_the_settings_file_the_clinic_layout_and_measure_are_unknown(project, monkeypatch):
    monkeypatch.chdir(project)
    Path("plandoc.toml").unlink()
    result = run("validate", "plans/TP-2026-0042.json", "-l", "standard")
    assert result.exit_code == 1 and "unknown instrument" in result.output


def test_a_settings_file_named_with_c_is_read_from_its_own_folder(project, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run("build", "-c", project / "plandoc.toml")
    assert result.exit_code == 0, result.output
    assert (project / "documents" / "TP-2026-0042-v2.riverside.html").is_file()
    assert not (elsewhere / "documents").exists()


def test_flags_win_over_the_settings_file_and_layout_folders_add_up(project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    extra = tmp_path / "more-layouts" / "lakeside"
    extra.mkdir(parents=True)
    (extra / "layout.toml").write_text(CLINIC_LAYOUT.replace("riverside", "lakeside"))
    monkeypatch.setenv("PLANDOC_LAYOUTS", str(tmp_path / "more-layouts"))
    result = run("render", "plans", "-l", "lakeside", "-l", "riverside", "--to", "md", "-o", "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in Path("out").glob("*.md")) == [
        "TP-2026-0042-v2.lakeside.md",
        "TP-2026-0042-v2.riverside.md",
    ]
    settings = load_settings(layout_folders=["flagged"], formats=["md"])
    assert settings.formats == ("md",) and settings.layout_folders == (
        Path("clinic-layouts"),  # read from the settings file's folder: here
        tmp_path / "more-layouts",
        Path("flagged"),
    )


def test_settings_in_python_are_the_same_model(project):
    settings = load_settings(project / "plandoc.toml", environ={})
    assert settings.input == project / "plans" and settings.file_mode == 0o640
    assert settings.with_flags(jobs=3).jobs == 3 and settings.jobs is None
    assert Settings().output == Path("output") and Settings().file_mode == 0o600


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (b'output = "caf\xe9"\n', "plandoc.toml:1: not UTF-8 text (save the file as UTF-8)"),
        (b"input = [\n", "plandoc.toml:2: not valid TOML"),
        (b"jobz = 2\n", "plandoc.toml:1: jobz: unknown key; did you mean 'jobs'?"),
        (b"jobs = 0\n", "plandoc.toml:1: jobs: must be 1 or more"),
        (b'config_file = "x"\n', "plandoc.toml:1: config_file: unknown key"),
        (b'strict = "yes"\n', "plandoc.toml:1: strict: must be true or false"),
        (b'formats = ["htm"]\n', "formats: unknown format 'htm': did you mean html?"),
        (b'page_size = "legal"\n', "page_size: must be one of: 'letter' or 'a4'"),
        (b'\n\nfile_mode = "0644"\n', "plandoc.toml:3: file_mode: others may never read"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "render", "build", "status", "new", "schema"])
def test_a_wrong_settings_file_is_one_clear_error_for_every_command(
    tmp_path, monkeypatch, text, says, command
):
    monkeypatch.chdir(tmp_path)
    Path("plandoc.toml").write_bytes(text)
    arguments = {
        "validate": [SAMPLES], "render": [SAMPLES], "build": [SAMPLES], "status": [SAMPLES],
        "new": ["TP-1"], "schema": ["-o", "s.json"],
    }[command]  # fmt: skip
    result = run(command, *arguments)
    assert result.exit_code == 1, result.output
    assert says in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.glob("output")) and not Path("s.json").exists()


def test_a_missing_settings_file_named_with_c_is_one_line(tmp_path):
    result = run("validate", SAMPLES, "-c", tmp_path / "nope.toml")
    assert result.exit_code == 1 and "nope.toml: no such settings file" in result.output
    with pytest.raises(SettingsError):
        load_settings(tmp_path / "nope.toml")


def test_the_environment_is_read_once_by_the_settings_step(monkeypatch, tmp_path):
    monkeypatch.setenv("PLANDOC_LAYOUTS", os.pathsep.join(["a", "", "b"]))
    assert load_settings(folder=tmp_path).layout_folders == (Path("a"), Path("b"))
    assert load_settings(folder=tmp_path, environ={}).layout_folders == ()
