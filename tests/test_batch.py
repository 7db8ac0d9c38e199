"""Batch builds: incremental, parallel, interrupted, and their bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.synthetic_plans import write_plans
from plandoc.builds.batch import LOCK_NAME, MANIFEST_NAME, BuildOptions, build
from plandoc.cli import main

from .conftest import ROOT, SAMPLES


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != MANIFEST_NAME}


def statuses(result) -> dict[str, str]:
    return {Path(r.input).name: r.status for r in result.records}


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    folder = tmp_path / "plans"
    write_plans(8, folder)
    return folder


def test_a_second_build_builds_nothing(plans, tmp_path):
    options = BuildOptions(plans, tmp_path / "out")
    first = build(options)
    assert first.count("built") == 8 and not first.failed
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").iterdir()}
    second = build(options)
    assert second.count("current") == 8 and second.count("built") == 0
    after = {
        p.name: p.stat().st_mtime_ns
        for p in (tmp_path / "out").iterdir()
        if p.name != MANIFEST_NAME
    }
    assert all(before[name] == after[name] for name in after)


def test_changing_one_plan_rebuilds_only_its_documents(plans, tmp_path):
    options = BuildOptions(plans, tmp_path / "out")
    build(options)
    changed = plans / "plan-000003.json"
    data = json.loads(changed.read_text())
    data["goals"][0]["statement"] = "Reduce worry to the mild range."
    changed.write_text(json.dumps(data))
    result = build(options)
    assert [name for name, status in statuses(result).items() if status == "built"] == [
        "plan-000003.json"
    ]
    assert (
        "Reduce worry"
        in (
            tmp_path / "out" / f"{data['plan']['id']}-v{data['plan']['version']}.standard.md"
        ).read_text()
    )


def test_a_missing_document_is_rebuilt(plans, tmp_path):
    options = BuildOptions(plans, tmp_path / "out")
    build(options)
    victim = next((tmp_path / "out").glob("*.docx"))
    victim.unlink()
    result = build(options)
    assert result.count("built") == 1 and victim.exists()


def test_changing_a_layout_rebuilds_only_the_plans_using_it(tmp_path, monkeypatch):
    layouts = tmp_path / "layouts"
    for name in ("north", "south"):
        (layouts / name).mkdir(parents=True)
        (layouts / name / "layout.toml").write_text(f'extends = "standard"\ntitle = "{name}"\n')
    plans = tmp_path / "plans"
    write_plans(4, plans)
    for index, path in enumerate(sorted(plans.iterdir())):
        data = json.loads(path.read_text())
        data["plan"]["layout"] = "north" if index % 2 else "south"
        path.write_text(json.dumps(data))
    monkeypatch.chdir(tmp_path)
    options = BuildOptions(plans, tmp_path / "out", layout_folders=(layouts,))
    assert build(options).count("built") == 4
    (layouts / "north" / "layout.toml").write_text('extends = "standard"\ntitle = "North Clinic"\n')
    result = build(options)
    assert sorted(n for n, s in statuses(result).items() if s == "built") == [
        "plan-000001.json",
        "plan-000003.json",
    ]


def test_other_options_rebuild_everything_and_force_too(plans, tmp_path):
    build(BuildOptions(plans, tmp_path / "out"))
    assert build(BuildOptions(plans, tmp_path / "out", strict=True)).count("built") == 8
    assert build(BuildOptions(plans, tmp_path / "out", strict=True, force=True)).count("built") == 8


def test_any_number_of_jobs_gives_the_same_bytes(plans, tmp_path):
    one = build(BuildOptions(plans, tmp_path / "one", jobs=1))
    two = build(BuildOptions(plans, tmp_path / "two", jobs=2))
    assert not one.failed and not two.failed
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    assert (tmp_path / "one" / MANIFEST_NAME).read_bytes() == (
        tmp_path / "two" / MANIFEST_NAME
    ).read_bytes()


def test_the_manifest_holds_no_file_names_or_client_names(plans, tmp_path):
    build(BuildOptions(plans, tmp_path / "out"))
    text = (tmp_path / "out" / MANIFEST_NAME).read_text()
    assert "plan-0000" not in text and "Rivera" not in text and "Okafor" not in text


def wait_for(event, process: subprocess.Popen, seconds: float = 120) -> None:
    """Wait until `event()` is true (an observable step of the build), never a fixed time."""
    deadline = time.monotonic() + seconds
    while not event():
        assert process.poll() is None, "the build ended before the event"
        assert time.monotonic() < deadline, "the event never came"
        time.sleep(0.005)


@pytest.mark.slow
def test_a_build_killed_at_random_points_then_rebuilt_equals_a_clean_build(tmp_path):
    plans = tmp_path / "plans"
    write_plans(60, plans)
    clean = tmp_path / "clean"
    assert not build(BuildOptions(plans, clean, jobs=2)).failed
    out = tmp_path / "out"
    command = [sys.executable, "-m", "plandoc", "build", str(plans), "-o", str(out), "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for written in (1, 40, 90, 150):  # killed once that many files are in the output folder
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(lambda count=written: out.is_dir() and len(os.listdir(out)) >= count, process)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    assert snapshot(out) == snapshot(clean)
    assert not [
        p
        for p in out.iterdir()
        if p.name.startswith(".plandoc-") and p.name not in (MANIFEST_NAME, LOCK_NAME)
    ]  # the lock file stays; a killed build's lock went with its process
    second = subprocess.run(
        command, env=env, check=True, capture_output=True, text=True, timeout=300
    )
    assert "0 built, 60 current" in second.stderr


def test_two_plans_with_the_same_id_and_version_are_refused_naming_both(tmp_path):
    plans = tmp_path / "plans"
    plans.mkdir()
    shutil.copy(SAMPLES / "adult-ptsd.json", plans / "a.json")
    shutil.copy(SAMPLES / "adult-ptsd.json", plans / "b.json")
    result = CliRunner().invoke(main, ["build", str(plans), "-o", str(tmp_path / "out"), "-j", "1"])
    assert result.exit_code == 1
    assert (
        f"plan TP-2026-0042 version 2 is in two files: {plans / 'a.json'} and {plans / 'b.json'}"
        in result.output
    )
    assert not any((tmp_path / "out").glob("TP-*"))


def test_non_plan_files_are_skipped_quietly_and_bad_plans_do_not_stop_the_others(plans, tmp_path):
    (plans / ".DS_Store").write_bytes(b"\0")
    (plans / "scan.png").write_bytes(b"\x89PNG")
    (plans / "notes.txt").write_text("call back")
    (plans / "broken.json").write_text("{")
    result = CliRunner().invoke(main, ["build", str(plans), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "broken.json:1: not valid JSON" in result.output
    assert "8 built" in result.output and "1 failed" in result.output
    assert "png" not in result.output and "DS_Store" not in result.output


def test_new_versions_keep_old_documents_and_deleted_plans_are_kept_until_pruned(plans, tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    runner.invoke(main, ["build", str(plans), "-o", str(out)])
    path = plans / "plan-000000.json"
    data = json.loads(path.read_text())
    old = f"{data['plan']['id']}-v{data['plan']['version']}.standard.md"
    data["plan"]["version"] += 1
    path.write_text(json.dumps(data))
    (plans / "plan-000001.json").unlink()
    result = runner.invoke(main, ["build", str(plans), "-o", str(out)])
    assert (out / old).exists() and (
        out / old.replace(f"-v{data['plan']['version'] - 1}.", f"-v{data['plan']['version']}.")
    ).exists()
    assert f"kept {out / old}" in result.output
    result = runner.invoke(main, ["build", str(plans), "-o", str(out), "--prune"])
    assert f"pruned {out / old}" in result.output and not (out / old).exists()
    assert len(list(out.glob("*.md"))) == 7


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(plans, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["build", str(plans), "-o", str(blocker / "out")])
    assert result.exit_code == 1 and "cannot create output folder" in result.output
    assert "Traceback" not in result.output


def test_plandoc_toml_sets_defaults_and_flags_override(plans, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plandoc.toml").write_text(
        f'input = "{plans}"\noutput = "docs"\nlayouts = ["standard", "client-copy"]\nformats = ["md"]\njobs = 1\n'
    )
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "docs").glob("*.client-copy.md"))) == 8
    assert not list((tmp_path / "docs").glob("*.html"))
    result = CliRunner().invoke(main, ["build", "-f", "html", "-o", "other"])
    assert len(list((tmp_path / "other").glob("*.html"))) == 16
    (tmp_path / "plandoc.toml").write_text("jobz = 2\n")
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1 and "plandoc.toml:1: jobz: unknown key" in result.output


def test_the_report_lists_every_plan(plans, tmp_path):
    report = tmp_path / "report.json"
    CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--report", str(report)]
    )
    data = json.loads(report.read_text())
    assert data["built"] == 8 and len(data["plans"]) == 8
    assert {p["status"] for p in data["plans"]} == {"built"}
    for plan in data["plans"]:  # each document, and each chart of the Markdown beside it
        ends = {name.split(".standard.")[1] for name in plan["outputs"]}
        assert {"docx", "html", "md"} <= ends
        assert all(re.fullmatch(r"goal-[12]\.png", end) for end in ends - {"docx", "html", "md"})


@pytest.mark.slow
def test_ctrl_c_stops_promptly_without_a_traceback_or_partial_files(tmp_path):
    plans = tmp_path / "plans"
    write_plans(1000, plans)  # enough that the build is still going when Ctrl-C comes
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "plandoc", "build", str(plans), "-o", str(out), "--jobs", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    wait_for(lambda: "plans done" in process.stderr.readline(), process)  # it is building
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 20
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert not list(out.glob(".plandoc-*.part"))
    json.loads((out / MANIFEST_NAME).read_text())  # still valid


def _copies(folder: Path, count: int, statement: str = "Reduce anxiety.") -> None:
    folder.mkdir(exist_ok=True)
    data = json.loads((SAMPLES / "adult-ptsd.json").read_text())
    for number in range(count):
        data["plan"]["id"] = f"COPY-{number}"
        data["goals"][1]["statement"] = statement if number % 2 else statement.upper() + "  "
        data["goals"][0]["statement"] = f"Goal written for client {number}."
        for objective in (o for g in data["goals"] for o in g["objectives"]):
            objective["statement"] = f"Objective {objective['id']} for client {number}."
        (folder / f"c{number}.json").write_text(json.dumps(data))


def test_validate_warns_about_statements_copied_across_plans(tmp_path):
    _copies(tmp_path / "plans", 4)
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "plans")])
    assert result.exit_code == 0
    assert (
        "warning: the same goal statement is in 4 plans (COPY-0, COPY-1, COPY-2, COPY-3)"
        in result.output
    )
    assert "objective statement" not in result.output
    assert "Reduce anxiety" not in result.output  # names plans, never quotes plan text
    assert (
        CliRunner()
        .invoke(main, ["validate", "--repeat-limit", "4", str(tmp_path / "plans")])
        .output.count("same goal")
        == 0
    )
    assert (
        CliRunner().invoke(main, ["validate", "--strict", str(tmp_path / "plans")]).exit_code == 1
    )


def test_three_plans_sharing_a_statement_are_not_flagged(tmp_path):
    _copies(tmp_path / "plans", 3)
    assert "same goal" not in CliRunner().invoke(main, ["validate", str(tmp_path / "plans")]).output


def test_build_warns_about_copied_statements_even_for_plans_it_skips(tmp_path):
    _copies(tmp_path / "plans", 5)
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["build", str(tmp_path / "plans"), "-o", str(out)])
    second = CliRunner().invoke(main, ["build", str(tmp_path / "plans"), "-o", str(out)])
    assert "0 built, 5 current" in second.output
    for result in (first, second):
        assert (
            "the same goal statement is in 5 plans (COPY-0, COPY-1, COPY-2, COPY-3, COPY-4)"
            in result.output
        )
    assert "Reduce anxiety" not in (out / MANIFEST_NAME).read_text()


def test_a_plan_that_now_fails_keeps_its_last_documents_even_with_prune(plans, tmp_path):
    out = tmp_path / "out"
    build(BuildOptions(plans, out))
    path = plans / "plan-000004.json"
    data = json.loads(path.read_text())
    kept = f"{data['plan']['id']}-v{data['plan']['version']}.standard.docx"
    data["plan"]["status"] = "open"  # now invalid
    path.write_text(json.dumps(data))
    result = build(BuildOptions(plans, out, prune=True))
    assert result.count("failed") == 1 and result.orphans == [] and result.pruned == []
    assert (out / kept).exists()


def test_many_chunks_in_flight_give_the_same_bytes_and_order_as_one_job(tmp_path, monkeypatch):
    import plandoc.builds.batch

    write_plans(30, tmp_path / "plans")
    one = build(BuildOptions(tmp_path / "plans", tmp_path / "one", jobs=1))
    monkeypatch.setattr(plandoc.builds.batch, "CHUNK", 2)  # 15 chunks, 2 in flight per worker
    monkeypatch.setattr(plandoc.builds.batch, "WINDOW", 1)
    two = build(BuildOptions(tmp_path / "plans", tmp_path / "two", jobs=2))
    assert [r.input for r in one.records] == [r.input for r in two.records]
    assert [r.status for r in two.records] == ["built"] * 30
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    assert (tmp_path / "one" / MANIFEST_NAME).read_bytes() == (
        tmp_path / "two" / MANIFEST_NAME
    ).read_bytes()


def test_files_that_are_not_plandoc_documents_are_never_listed_or_pruned(plans, tmp_path):
    out = tmp_path / "out"
    build(BuildOptions(plans, out))
    (out / "notes.txt").write_text("the practice's own notes")
    (out / "letter.docx").write_text("not made by plandoc")
    (plans / "plan-000002.json").unlink()
    result = build(BuildOptions(plans, out, prune=True))
    assert [n.rsplit(".", 1)[1] for n in result.pruned if not n.endswith(".png")] == [
        "docx", "html", "md",
    ]  # fmt: skip
    assert all(".standard." in name for name in result.pruned)
    assert (out / "notes.txt").exists() and (out / "letter.docx").exists()


def test_a_manifest_edited_by_hand_rebuilds_everything_instead_of_failing(plans, tmp_path):
    out = tmp_path / "out"
    build(BuildOptions(plans, out))
    data = json.loads((out / MANIFEST_NAME).read_text())
    key = sorted(data["plans"])[0]
    data["plans"][key] = data["plans"][key].replace("|", "", 1)
    (out / MANIFEST_NAME).write_text(json.dumps(data))
    assert build(BuildOptions(plans, out)).count("built") == 8
    assert build(BuildOptions(plans, out)).count("current") == 8


def test_versions_of_one_plan_count_once_for_copied_statements(tmp_path):
    _copies(tmp_path / "plans", 3)
    for number in range(3):  # a second version of each: still three clients
        data = json.loads((tmp_path / "plans" / f"c{number}.json").read_text())
        data["plan"]["version"] += 1
        (tmp_path / "plans" / f"c{number}-next.json").write_text(json.dumps(data))
    result = build(BuildOptions(tmp_path / "plans", tmp_path / "out"))
    assert result.count("built") == 6 and result.repeated == []


def _disk_fills_after(monkeypatch, documents: int) -> None:
    """Every write after the first `documents` fails as on a full disk (manifest included)."""
    import errno

    import plandoc.builds.output_files

    real_fsync, calls = os.fsync, [0]

    def fsync(fd: int) -> None:
        calls[0] += 1
        if calls[0] > documents:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(plandoc.builds.output_files.os, "fsync", fsync)


def test_a_full_disk_stops_the_build_with_one_clear_message(plans, tmp_path, monkeypatch):
    out = tmp_path / "out"
    _disk_fills_after(monkeypatch, 7)  # two plans and a bit of the third
    result = CliRunner().invoke(main, ["build", str(plans), "-o", str(out), "-j", "1"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.count("No space left on device") == 1
    assert "the build stopped: finished documents and the build manifest are kept" in result.output
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    assert len(list(out.glob("*.docx"))) <= 3  # stopped, not every plan tried
    monkeypatch.undo()
    assert not build(BuildOptions(plans, out)).failed  # space freed: the next run finishes
    build(BuildOptions(plans, tmp_path / "clean"))
    assert snapshot(out) == snapshot(tmp_path / "clean")


def test_a_failed_write_keeps_the_manifest_of_the_plans_finished(plans, tmp_path, monkeypatch):
    import plandoc.builds.storage
    from plandoc.errors import OutputError

    out = tmp_path / "out"
    real_write, written = plandoc.builds.storage.stage_documents, []

    def stage_documents(*arguments):  # a build writes each plan's documents staged first
        if len(written) == 3:
            raise OutputError("cannot write: Read-only file system")
        written.append(real_write(*arguments))
        return written[-1]

    monkeypatch.setattr(plandoc.builds.storage, "stage_documents", stage_documents)
    with pytest.raises(OutputError):
        build(BuildOptions(plans, out))
    monkeypatch.undo()
    assert len(json.loads((out / MANIFEST_NAME).read_text())["plans"]) == 3
    again = build(BuildOptions(plans, out))
    assert again.count("current") == 3 and again.count("built") == 5


@pytest.mark.skipif(sys.platform == "win32", reason="advisory locks are POSIX here")
def test_a_second_build_into_the_same_folder_stops_and_touches_nothing(plans, tmp_path):
    import fcntl

    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(plans), "-o", str(out)]).exit_code == 0
    unfinished = out / ".plandoc-0123456789abcdef.part"  # the first build's file being written
    unfinished.write_bytes(b"half")
    with open(out / ".plandoc-build.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a first build is running
        second = CliRunner().invoke(main, ["build", str(plans), "-o", str(out), "--force"])
        assert second.exit_code == 1
        assert "another plandoc build is writing here" in second.output
        assert unfinished.exists()
    third = CliRunner().invoke(main, ["build", str(plans), "-o", str(out), "--force"])
    assert third.exit_code == 0 and "8 built" in third.output and not unfinished.exists()


def test_without_flock_the_portable_lock_keeps_a_second_build_out(plans, tmp_path, monkeypatch):
    """Where the system has no flock (Windows), the filelock package's lock serves."""
    import filelock

    import plandoc.builds.output_files

    monkeypatch.setattr(plandoc.builds.output_files, "_flock", None)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(plans), "-o", str(out)]).exit_code == 0
    with filelock.FileLock(str(out / ".plandoc-build.lock"), timeout=0):  # a first build runs
        second = CliRunner().invoke(main, ["build", str(plans), "-o", str(out), "--force"])
        assert second.exit_code == 1 and "another plandoc build is writing here" in second.output
    third = CliRunner().invoke(main, ["build", str(plans), "-o", str(out), "--force"])
    assert third.exit_code == 0 and "8 built" in third.output


def test_a_build_never_blocks_on_a_fifo_named_like_a_plan(tmp_path, monkeypatch):
    """Before, `build` opened the FIFO to hash it and waited for ever for a writer."""
    import os
    import shutil
    import subprocess
    import sys

    from .conftest import SAMPLES

    (tmp_path / "inputs").mkdir()
    shutil.copy(SAMPLES / "adult-ptsd.json", tmp_path / "inputs" / "adult-ptsd.json")
    os.mkfifo(tmp_path / "inputs" / "not-a-plan.json")
    done = subprocess.run(
        [sys.executable, "-m", "plandoc", "build"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "not-a-plan.json: is not a file" in done.stderr
    assert "1 built" in done.stderr and "1 failed" in done.stderr
