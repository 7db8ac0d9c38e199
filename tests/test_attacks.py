"""What an outside attack on plandoc broke (issue 13, second pass), each closed at its cause.

Each test is one class of attack, with the smallest input that broke a promise
of the README before; together with test_narratives, test_writes, test_numbers,
test_round_trip, test_fhir_hostile and test_privacy they cover the issue's
classes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.builds.batch import BuildOptions, build
from plandoc.checks.file import MOST_PROBLEMS, check_file
from plandoc.cli import main
from plandoc.documents.html_writer import render_body
from plandoc.documents.markdown_text import narrative

from .conftest import ROOT, SAMPLES


def run(*args: object) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


# --- dates and numbers a plan can mean ------------------------------------------------


def test_a_date_past_the_calendar_a_plan_can_mean_is_one_line(write_plan, plan_data):
    """9999-07-05 was a real date, and 180 days later was an OverflowError (a traceback)."""
    plan_data["plan"].pop("review_by", None)
    plan_data["plan"]["last_reviewed"] = "9999-07-05"
    path = write_plan(plan_data)
    for command in (["validate", path], ["new", "--from", path, "-o", "-"], ["diff", path, path]):
        result = run(*command, "--values")
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "9999-07-05 is out of bounds: a plan's dates are from 1900-01-01 to 2199-12-31" in (
            result.output
        )
    assert run("validate", path, "--as-of", "9999-12-31").exit_code == 2


# --- files that are not files --------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_fifo_or_a_device_named_like_a_plan_is_one_line_never_a_hang(tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.mkfifo(inputs / "waiting.json")
    (inputs / "zeros.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "bundle.json")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for command in (
        ["validate", inputs],
        ["status", inputs],
        ["import-fhir", tmp_path / "bundle.json"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "plandoc", *map(str, command), "--values"],
            capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert "Traceback" not in result.stderr, result.stderr
        if command[0] == "status":
            assert result.returncode == 0 and result.stdout.count("invalid") == 2
        else:
            assert result.returncode == 1 and "is not a file (a FIFO or a device)" in result.stderr


# --- keys and text a document cannot carry ---------------------------------------------------


def test_a_yaml_key_that_is_not_text_is_refused_and_never_shown(tmp_path):
    sample = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    plan = tmp_path / "plan.md"
    plan.write_text(sample.replace("client:\n", "client:\n  448120937: member number\n", 1))
    piped = run("validate", plan)
    assert piped.exit_code == 1 and "a key must be text: put it in quotes" in piped.output
    report = run("validate", plan, "--format", "json")
    assert "448120937" not in piped.output + report.output
    shown = run("validate", plan, "--values")
    assert "client.448120937: a key must be text" in shown.output


@pytest.mark.parametrize("character", ["\x7f", "\x80", "\x85", "\x9f", "\ufdd0", "\U0001fffe"])
def test_characters_html_forbids_are_refused_naming_them(write_plan, plan_data, character):
    plan_data["client"]["name"] = f"Dana{character}Okafor"
    result = run("validate", write_plan(plan_data), "--values")
    code = f"U+{ord(character):04X}"
    assert result.exit_code == 1 and f"holds a character no document can carry ({code}" in (
        result.output
    )


@pytest.mark.parametrize(
    ("tag", "valid"),
    [("en", True), ("es-US", True), ("zh-Hant-TW", True), ("es-419", True), ("hmn", True),
     ("en-USA", False), ("en-GB-GB", False), ("en-x", False), ("zz", False), ("xx-YY", False),
     ("en-12345678", False), ("x-klingon", False)],
)  # fmt: skip
def test_plan_language_is_a_registered_tag(write_plan, plan_data, tag, valid):
    plan_data["plan"]["language"] = tag
    checked = check_file(write_plan(plan_data))
    refused = [p for p in checked.problems if p.field == ("plan", "language")]
    assert bool(refused) is not valid


# --- time, memory and output bounded ------------------------------------------------------------


def test_a_plan_full_of_unknown_method_ids_is_checked_in_linear_time_and_capped(
    write_plan, plan_data
):
    """150,000 unknown method ids fit in 2 MiB: each looked up its closest method, and each
    message listed every method (47 s and 22 MB of output before)."""
    goal, objective = plan_data["goals"][0], plan_data["goals"][0]["objectives"][0]

    def seconds(references: int) -> float:
        objective["methods"] = [f"X{n}" for n in range(references)]
        plan_data["goals"] = [
            dict(goal, id=f"G{g}", objectives=[dict(objective, id=f"G{g}.{n}") for n in range(30)])
            for g in range(50)
        ]
        path = write_plan(json.dumps(plan_data, separators=(",", ":")), f"p-{references}.json")
        started = time.process_time()
        checked = check_file(path)
        assert len(checked.all_problems) <= MOST_PROBLEMS + 1
        assert "more problems; fix these, then validate again" in checked.problems[-1].message
        return time.process_time() - started

    assert seconds(80) / seconds(20) < 8  # quadratic in the methods made it 16 and more


# --- Markdown plans --------------------------------------------------------------------------------


def test_a_deeply_nested_list_in_a_section_never_swallows_the_next_section(tmp_path):
    sample = (SAMPLES / "adolescent-depression.md").read_text("utf-8")
    deep = "- " * 40 + "Goals agreed."
    text = sample.replace("## Treatment Contract\n", f"## Treatment Contract\n\n{deep}\n", 1)
    text += "\n## Progress and Outcomes\n\nPHQ-A down from 17 to 12.\n"
    plan = tmp_path / "plan.md"
    plan.write_text(text)
    checked = check_file(plan)
    assert checked.plan is not None
    assert "Progress and Outcomes" not in checked.plan.contract.summary
    assert [n.text[:8] for n in checked.plan.progress_notes] == ["PHQ-A do"]


def test_a_line_separator_after_a_line_break_survives_writing_as_markdown(write_plan, plan_data):
    plan_data["progress_notes"] = [{"date": "2026-10-29", "text": "Slept better.\n\u2028"}]
    path = write_plan(plan_data)
    made = run("new", "--from", path, "--format", "md", "-o", path.with_suffix(".md"))
    assert made.exit_code == 0, made.output


def test_narratives_keep_adjacent_emphasis_long_numbers_and_backslashes():
    assert "<em>a</em><em>b</em>" in render_body(narrative("_a_*b*"))
    assert "<strong>a</strong><strong>b</strong>" in render_body(narrative("**a**__b__"))
    listed = render_body(narrative("999999999. first\n1. second"))
    assert listed.count("<li>") == 2 and "1000000000" not in listed
    assert "<code>x]\\:y</code>" in render_body(narrative("`x]\\:y` [a]: http://x"))


# --- import-fhir ---------------------------------------------------------------------------------


def test_a_bundle_whose_plan_is_larger_than_a_plan_file_is_one_line(tmp_path):
    exported = run("export-fhir", SAMPLES / "adult-ptsd.json", "-o", tmp_path)
    assert exported.exit_code == 0
    bundle = next(tmp_path.glob("*.fhir.json"))
    data = json.loads(bundle.read_text())
    for entry in data["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            entry["resource"]["name"][0]["text"] = "A" * 2_500_000
    bundle.write_text(json.dumps(data))
    result = run("import-fhir", bundle, "-o", tmp_path / "plan.md")
    assert result.exit_code == 1 and "internal error" not in result.output
    assert "cannot be written as Markdown" in result.output and "Traceback" not in result.output


# --- batch builds ------------------------------------------------------------------------------------


def test_a_no_op_build_leaves_a_persons_own_dot_plandoc_file(tmp_path):
    out = tmp_path / "out"
    assert not build(BuildOptions(SAMPLES, out)).failed
    mine = out / ".plandoc-my-notes.part"
    mine.write_text("mine")
    leftover = out / ".plandoc-0123456789abcdef.part"  # what a killed run leaves
    leftover.write_text("half")
    assert build(BuildOptions(SAMPLES, out)).count("current") == len(list(SAMPLES.iterdir()))
    assert mine.read_text() == "mine" and not leftover.exists()


def test_progress_counts_each_plan_once_and_ids_differing_in_case_clash(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    data = json.loads((SAMPLES / "adult-ptsd.json").read_text())
    (plans / "a.json").write_text(json.dumps(data))
    out = tmp_path / "out"
    assert build(BuildOptions(plans, out)).count("built") == 1
    data["plan"]["id"] = data["plan"]["id"].lower()  # the same files on macOS and Windows
    (plans / "b.json").write_text(json.dumps(data))
    seen = []
    result = build(BuildOptions(plans, out), progress=seen.append)
    assert len(seen) == 2 and result.count("failed") == 2
    assert "is in two files" in result.records[0].problems[-1].message


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS refuses such names")
def test_a_plan_file_name_that_is_not_utf8_builds(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    name = os.fsdecode(b"plan-\xe9.json")
    (plans / name).write_bytes((SAMPLES / "adult-ptsd.json").read_bytes())
    result = run("build", plans, "-o", tmp_path / "out")
    assert result.exit_code == 0 and "1 built" in result.output, result.output


def test_a_manifest_larger_than_plandoc_writes_is_set_aside(tmp_path, monkeypatch):
    import plandoc.builds.output_files as output_files

    out = tmp_path / "out"
    assert not build(BuildOptions(SAMPLES, out)).failed
    with open(out / ".plandoc-build.json", "r+b") as manifest:
        manifest.truncate(3 * 1024 * 1024)  # sparse: costs no disk
    real = output_files.read_own_file
    monkeypatch.setattr(
        "plandoc.builds.storage.read_own_file", lambda path: real(path, limit=1024 * 1024)
    )
    again = build(BuildOptions(SAMPLES, out))
    assert again.count("built") == len(
        list(SAMPLES.iterdir())
    )  # set aside: everything rebuilt once


def test_pdf_builds_report_each_plan_as_it_finishes():
    """A worker reports its plans in chunks; PDFs (a second each) one at a time, so a build
    killed then keeps every PDF finished in its manifest."""
    from plandoc.builds.batch import CHUNK, _render_chunk

    assert _render_chunk(BuildOptions(SAMPLES, Path("out"), formats=("html", "pdf"))) == 1
    assert _render_chunk(BuildOptions(SAMPLES, Path("out"), formats=("html",))) == CHUNK
