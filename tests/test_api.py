"""The Python API: what a developer imports, used the way the docs show it."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import docx
import pytest

import plandoc
from plandoc.cli import main as cli_main

from .conftest import ROOT, SAMPLES


def test_a_plan_renders_in_three_lines(tmp_path):
    plan = plandoc.load(SAMPLES / "adult-ptsd.json")
    documents = plandoc.render(plan, layout="client-copy", formats=("html", "docx"))
    (tmp_path / "copy.html").write_bytes(documents["html"])
    assert "Your Treatment Plan" in (tmp_path / "copy.html").read_text()
    docx.Document(io.BytesIO(documents["docx"]))


def test_paths_may_be_text_or_path_like():
    as_text = plandoc.render(str(SAMPLES / "adult-ptsd.json"), formats=["md"])
    as_path = plandoc.render(SAMPLES / "adult-ptsd.json", formats=["md"])
    assert as_text == as_path and b"\n# Treatment Plan\n" in as_text["md"]  # under the letterhead


def test_a_plan_with_errors_raises_plan_error_holding_every_problem(write_plan, plan_data):
    plan_data["plan"]["effective"] = "2026-02-30"
    plan_data["provider"]["npi"] = "1234567890"
    with pytest.raises(plandoc.PlanError) as raised:
        plandoc.load(write_plan(plan_data))
    fields = {problem.field for problem in raised.value.problems}
    assert {("plan", "effective"), ("provider", "npi")} <= fields
    assert isinstance(raised.value, plandoc.PlandocError) and isinstance(raised.value, Exception)
    assert not isinstance(raised.value, SystemExit)


def test_check_returns_problems_of_a_file_or_of_a_plan_in_memory(write_plan, plan_data):
    plan = plandoc.load(SAMPLES / "adult-ptsd.json")
    assert [p for p in plandoc.check(plan) if p.severity is plandoc.Severity.ERROR] == []
    medicare = plandoc.check(plan, layout="medicare", as_of=plan.plan.effective)
    assert all(isinstance(p, plandoc.Problem) for p in medicare)
    plan_data["goals"][0]["objectives"][0]["methods"] = ["M9"]
    problems = plandoc.check(write_plan(plan_data))
    assert any(p.field == ("goals", 0, "objectives", 0, "methods", 0) for p in problems)


def test_render_refuses_a_plan_that_breaks_its_layout_and_an_unknown_format():
    plan = plandoc.load(SAMPLES / "adult-ptsd.json")
    with pytest.raises(plandoc.UsageError, match="unknown format 'htm': did you mean html"):
        plandoc.render(plan, formats=("htm",))
    with pytest.raises(plandoc.LayoutError, match="unknown layout"):
        plandoc.render(plan, layout="nope")


def test_build_takes_settings_as_keywords(tmp_path):
    result = plandoc.build(SAMPLES, tmp_path / "out", formats=("html",), jobs=1)
    assert result.count("built") == len(list(SAMPLES.iterdir())) and not result.failed
    assert sorted(p.suffix for p in (tmp_path / "out").glob("TP-*")) == [".html"] * len(
        list(SAMPLES.iterdir())
    )
    again = plandoc.build(SAMPLES, tmp_path / "out", formats=("html",), jobs=1)
    assert again.count("current") == len(list(SAMPLES.iterdir()))


def test_settings_come_from_a_file_when_asked_not_by_themselves(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("plandoc.toml").write_text('formats = ["md"]\n')
    assert plandoc.Settings().formats is None  # the API reads no file on its own
    assert plandoc.load_settings().formats == ("md",)
    with pytest.raises(plandoc.SettingsError, match=r"plandoc\.toml:1: jobs: must be 1 or more"):
        Path("plandoc.toml").write_text("jobs = 0\n")
        plandoc.load_settings()


def test_the_command_line_is_built_on_the_api():
    """`plandoc build` calls plandoc.api.build; `render` and `validate` the same per-plan
    check and render (check.file.check_path, render.documents.render_checked)."""
    import inspect

    from plandoc.cli import builds, plans

    assert "from plandoc.api import build" in inspect.getsource(builds)
    source = inspect.getsource(plans)
    assert "check_path" in source and "render_checked" in source
    assert cli_main.name == "main"


def test_importing_plandoc_is_cheap_and_public_names_are_listed():
    code = "import sys, plandoc; print(sorted(m for m in sys.modules if m.startswith('plandoc')))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    ).stdout  # fmt: skip
    assert loaded.strip() == "['plandoc', 'plandoc._version']"
    assert set(plandoc.__all__) >= {"load", "check", "render", "build", "PlandocError"}
    for name in plandoc.__all__:
        assert getattr(plandoc, name) is not None


def test_the_clinics_letterhead_from_settings_reaches_files_and_plan_objects(write_plan, plan_data):
    plan_data.pop("practice", None)
    plan_data["practice"] = {"name": "Own Name Counseling", "phone": "555-0100"}
    path = write_plan(plan_data)
    settings = plandoc.Settings(
        practice={"name": "Riverside Clinic", "phone": "555-0199", "fax": "555-0198"}
    )
    from_file = plandoc.render(path, formats=("md",), settings=settings)["md"].decode()
    from_object = plandoc.render(plandoc.load(path), formats=("md",), settings=settings)
    assert from_object["md"].decode() == from_file
    head = from_file.split("# Treatment Plan")[0]
    # the plan's own keys win, key by key; the clinic's fill the rest
    assert "Own Name Counseling" in head and "555-0100" in head and "555-0198" in head
    assert "Riverside Clinic" not in from_file and "555-0199" not in from_file
    plan_data.pop("practice")
    bare = plandoc.render(write_plan(plan_data), formats=("md",), settings=settings)["md"]
    assert "Riverside Clinic" in bare.decode().split("# Treatment Plan")[0]
