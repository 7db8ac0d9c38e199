"""Builds on a Dask cluster (`--scheduler`) and through fsspec URLs: the bytes, manifest,
incremental rebuild, duplicate check and orphans of a local build (docs: batch.md)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import distributed  # the cluster extra, which the test extra installs
import fsspec
import pytest
from click.testing import CliRunner

from benchmarks.synthetic_plans import write_plans
from plandoc.api import build
from plandoc.builds.batch import LOCK_NAME, MANIFEST_NAME
from plandoc.cli import main

from .conftest import ROOT, SAMPLES


def two_workers(processes: bool):
    """A LocalCluster of two one-thread workers (one for the module: it takes seconds)."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=processes, dashboard_address=":0"
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def processes():
    """Two worker processes, as on machines of their own."""
    yield from two_workers(processes=True)


@pytest.fixture(scope="module")
def threads():
    """Two workers sharing this process, so that they see the same memory:// filesystem."""
    yield from two_workers(processes=False)


@pytest.fixture
def memory():
    """A fresh memory:// filesystem: this test's `in` and `out` URLs."""
    fs = fsspec.filesystem("memory")
    root = f"/t{time.monotonic_ns()}"
    yield fs, f"memory://{root}"
    if fs.exists(root):
        fs.rm(root, recursive=True)


def local_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != LOCK_NAME}


def remote_files(fs, url: str) -> dict[str, bytes]:
    root = url.removeprefix("memory://")
    return {name.rsplit("/", 1)[1]: fs.cat_file(name) for name in fs.ls(root, detail=False)}


def upload(fs, folder: Path, url: str) -> None:
    for path in folder.iterdir():
        fs.pipe_file(f"{url.removeprefix('memory://')}/{path.name}", path.read_bytes())


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    write_plans(8, tmp_path / "plans")
    return tmp_path / "plans"


def test_worker_processes_through_file_urls_make_the_bytes_and_manifest_of_a_local_build(
    plans, tmp_path, processes
):
    result = build(f"file://{plans}", f"file://{tmp_path / 'cluster'}", scheduler=processes)
    assert result.count("built") == 8 and not result.failed
    build(plans, tmp_path / "local", jobs=1)
    cluster, local = local_files(tmp_path / "cluster"), local_files(tmp_path / "local")
    assert MANIFEST_NAME in cluster and len([n for n in cluster if n.endswith(".docx")]) == 8
    assert cluster == local  # every document and the manifest, byte for byte


def test_a_memory_url_build_on_the_cluster_is_a_local_build_and_rebuilds_incrementally(
    plans, tmp_path, threads, memory, monkeypatch
):
    import plandoc.builds.batch

    fs, url = memory
    (plans / "plan-000007.json").rename(plans / "plan[7].json")  # a name that is no glob
    upload(fs, plans, f"{url}/in")
    monkeypatch.setattr(plandoc.builds.batch, "CHUNK", 3)
    sent = []
    submit = distributed.Client.submit

    def count(client, function, *arguments, **options):
        sent.append([number for number, _ in arguments[1]])  # _call(function, chunk)
        return submit(client, function, *arguments, **options)

    monkeypatch.setattr(distributed.Client, "submit", count)
    first = build(f"{url}/in", f"{url}/out", scheduler=threads)
    assert first.count("built") == 8 and not first.failed
    # A task a chunk of plans, never a plan: behind a URL a pass checks, a pass renders.
    assert sent == [[0, 1, 2], [3, 4, 5], [6, 7]] * 2
    monkeypatch.undo()
    build(plans, tmp_path / "local", jobs=1)
    assert remote_files(fs, f"{url}/out") == local_files(tmp_path / "local")

    created = {item["name"]: item["created"] for item in fs.ls(f"{url}/out", detail=True)}
    again = build(f"{url}/in", f"{url}/out", scheduler=threads)
    assert again.count("current") == 8 and again.count("built") == 0
    assert {i["name"]: i["created"] for i in fs.ls(f"{url}/out", detail=True)} == created

    changed = plans / "plan-000003.json"
    data = json.loads(changed.read_text())
    data["goals"][0]["statement"] = "Reduce worry to the mild range."
    changed.write_text(json.dumps(data))
    upload(fs, plans, f"{url}/in")
    third = build(f"{url}/in", f"{url}/out", scheduler=threads)
    assert third.count("built") == 1 and third.count("current") == 7
    build(plans, tmp_path / "local", jobs=1)
    assert remote_files(fs, f"{url}/out") == local_files(tmp_path / "local")

    docx = sorted(name for name in remote_files(fs, f"{url}/out") if name.endswith(".docx"))[0]
    fs.rm_file(f"{url.removeprefix('memory://')}/out/{docx}")
    fourth = build(f"{url}/in", f"{url}/out", scheduler=threads)
    assert fourth.count("built") == 1 and remote_files(fs, f"{url}/out") == local_files(
        tmp_path / "local"
    )


def test_two_files_of_one_plan_id_are_refused_on_the_cluster_as_locally(tmp_path, threads, memory):
    fs, url = memory
    sample = (SAMPLES / "adult-ptsd.json").read_bytes()
    fs.pipe_file(f"{url.removeprefix('memory://')}/in/a.json", sample)
    fs.pipe_file(f"{url.removeprefix('memory://')}/in/b.json", sample)
    result = CliRunner().invoke(
        main, ["build", f"{url}/in", "-o", f"{url}/out", "--scheduler", threads]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        f"plan TP-2026-0042 version 2 is in two files: {url}/in/a.json and {url}/in/b.json"
        in result.output
    )
    assert not [name for name in remote_files(fs, f"{url}/out") if name.startswith("TP-")]


def test_a_failing_plan_says_the_same_lines_on_the_cluster_with_its_url(
    plans, tmp_path, threads, memory
):
    fs, url = memory
    data = json.loads((plans / "plan-000002.json").read_text())
    del data["goals"][0]["objectives"]
    (plans / "plan-000002.json").write_text(json.dumps(data, indent=2))
    (plans / "broken.json").write_text('{\n  "plan": ')
    upload(fs, plans, f"{url}/in")
    local = CliRunner().invoke(main, ["build", str(plans), "-o", str(tmp_path / "out")])
    remote = CliRunner().invoke(
        main, ["build", f"{url}/in", "-o", f"{url}/out", "--scheduler", threads]
    )
    assert local.exit_code == remote.exit_code == 1
    problems = [line for line in local.output.splitlines() if ".json:" in line]
    assert len(problems) >= 2 and any("broken.json:2:" in line for line in problems)
    expected = [line.replace(str(plans), f"{url}/in") for line in problems]
    assert [line for line in remote.output.splitlines() if ".json:" in line] == expected


def test_orphans_are_kept_then_pruned_behind_a_url(plans, threads, memory, monkeypatch):
    import plandoc.builds.batch
    from plandoc.builds.storage import RemoteFolder

    fs, url = memory
    upload(fs, plans, f"{url}/in")
    monkeypatch.setattr(plandoc.builds.batch, "SAVE_EVERY_SECONDS", 0.0)  # locally: every plan
    puts, write = [], RemoteFolder.write
    monkeypatch.setattr(
        RemoteFolder, "write", lambda self, name, data: puts.append(name) or write(self, name, data)
    )
    build(f"{url}/in", f"{url}/out", scheduler=threads)
    assert puts.count(MANIFEST_NAME) == 1 and puts[-1] == MANIFEST_NAME  # last, once
    monkeypatch.undo()
    gone = json.loads((plans / "plan-000001.json").read_text())["plan"]
    fs.rm_file(f"{url.removeprefix('memory://')}/in/plan-000001.json")
    name = f"{gone['id']}-v{gone['version']}.standard.md"
    command = ["build", f"{url}/in", "-o", f"{url}/out", "--scheduler", threads]
    kept = CliRunner().invoke(main, command)
    assert f"kept {url}/out/{name}: its plan file is gone" in kept.output
    assert name in remote_files(fs, f"{url}/out")
    pruned = CliRunner().invoke(main, [*command, "--prune"])
    assert f"pruned {url}/out/{name}" in pruned.output
    assert name not in remote_files(fs, f"{url}/out")


def test_a_lock_object_keeps_a_second_build_out_and_says_how_to_clear_a_stale_one(plans, memory):
    fs, url = memory
    upload(fs, plans, f"{url}/in")
    fs.pipe_file(f"{url.removeprefix('memory://')}/out/{LOCK_NAME}", b"another build")
    result = CliRunner().invoke(main, ["build", f"{url}/in", "-o", f"{url}/out"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "another plandoc build is writing here" in result.output
    assert f"a killed one left {url}/out/{LOCK_NAME}: delete it" in result.output
    assert list(remote_files(fs, f"{url}/out")) == [LOCK_NAME]  # nothing written
    fs.rm_file(f"{url.removeprefix('memory://')}/out/{LOCK_NAME}")
    done = CliRunner().invoke(main, ["build", f"{url}/in", "-o", f"{url}/out", "-j", "2"])
    assert done.exit_code == 0 and LOCK_NAME not in remote_files(fs, f"{url}/out")
    assert "8 built" in done.output  # memory:// lives in this process: built here, not forked


def test_an_unreachable_scheduler_is_one_line_exit_2_and_quick(plans, tmp_path, monkeypatch):
    import plandoc.builds.cluster

    monkeypatch.setattr(plandoc.builds.cluster, "CONNECT_SECONDS", 2.0)
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]
    )
    assert time.monotonic() - started < 30
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        "plandoc: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9: Timed out trying "
        "to connect to tcp://127.0.0.1:9 after 2 s; start it, or check the address"
    ]
    assert not list((tmp_path / "out").glob("*.md"))


def test_workers_of_another_plandoc_or_none_are_refused(plans, tmp_path, processes, monkeypatch):
    import plandoc.builds.cluster
    from plandoc import __version__
    from plandoc.errors import UsageError

    with pytest.raises(UsageError, match="has no plandoc installed"):
        plandoc.builds.cluster.refuse_other_versions(
            {"tcp://10.0.0.7:4000": ImportError("plandoc")}
        )
    monkeypatch.setattr(plandoc.builds.cluster, "__version__", "0.0.1")
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", processes]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"runs plandoc {__version__}; install plandoc==0.0.1 on every worker" in result.output
    assert not list((tmp_path / "out").glob("*.md"))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("s3://clinic-bucket/plans", "the s3:// protocol needs the s3fs package: pip install s3fs"),
        ("nosuch://clinic/plans", "no fsspec package for the nosuch:// protocol is known"),
    ],
)
def test_a_url_whose_protocol_is_not_installed_is_one_line_naming_the_package(url, says, tmp_path):
    if url.startswith("s3") and _installed("s3fs"):
        pytest.skip("s3fs is installed here: its protocol is known")
    result = CliRunner().invoke(main, ["build", url, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().startswith(f"plandoc: error: {url}: {says}")
    assert len(result.output.strip().splitlines()) == 1


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_the_scheduler_is_a_setting_and_dask_is_not_imported_for_a_local_build(tmp_path):
    from plandoc.errors import SettingsError
    from plandoc.settings import load_settings

    (tmp_path / "plandoc.toml").write_text('scheduler = "tcp://10.0.0.5:8786"\n')
    assert load_settings(folder=tmp_path).scheduler == "tcp://10.0.0.5:8786"
    (tmp_path / "plandoc.toml").write_text('scheduler = "10.0.0.5"\n')
    with pytest.raises(SettingsError, match=r"plandoc.toml:1: scheduler: .*tcp://10.0.0.5:8786"):
        load_settings(folder=tmp_path)
    code = (
        "import sys; from plandoc.api import build; "
        f"build({str(SAMPLES)!r}, {str(tmp_path / 'out')!r}, jobs=1); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed', 'fsspec'}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT / "src")},
    ).stdout  # fmt: skip
    assert loaded.strip() == "[]"


def test_a_plan_gone_before_a_worker_reads_it_is_one_problem_named_by_its_url(memory):
    from plandoc.builds.batch import BuildOptions, _check_file

    _, url = memory
    checked = _check_file(f"{url}/in/gone.json", BuildOptions(f"{url}/in", f"{url}/out"))
    assert [(p.file, p.line, p.message) for p in checked.all_problems] == [
        (f"{url}/in/gone.json", None, "no such file")
    ]
