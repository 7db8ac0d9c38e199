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
        sent.append([number for number, _ in arguments[-1]])  # _run_chunk(..., chunk)
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
    ("url", "package", "says"),
    [
        ("s3://clinic-bucket/plans", "s3fs", "the s3:// protocol is not installed: Install s3fs"),
        ("S3://Clinic/plans", "s3fs", "the s3:// protocol is not installed: Install s3fs"),
        (
            "sftp://u:pw@127.0.0.1/plans",
            "paramiko",
            "the sftp:// protocol is not installed: SFTPFileSystem requires",
        ),
        (
            "hdfs://127.0.0.1/plans",
            "pyarrow",
            "the hdfs:// protocol is not installed: pyarrow and local java",
        ),
        ("nosuch://clinic/plans", "", "no fsspec package for the nosuch:// protocol is known"),
        ("ftp://127.0.0.1:9/plans", "", "the ftp:// protocol cannot be used here: "),
    ],
)
def test_a_url_whose_protocol_cannot_serve_is_one_line_naming_the_package(
    url, package, says, tmp_path
):
    if package and _installed(package):
        pytest.skip(f"{package} is installed here: its protocol is known")
    result = CliRunner().invoke(main, ["build", url, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    shown = url.replace("u:pw@", "").replace("S3://", "s3://")  # no password; scheme folded
    assert result.output.strip().startswith(f"plandoc: error: {shown}: {says}")
    assert len(result.output.strip().splitlines()) == 1 and ":pw@" not in result.output


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


# --- the findings of the attack on cluster and URL builds ------------------------------


def _worker_address(scheduler: str) -> str:
    with distributed.Client(scheduler, set_as_default=False) as client:
        return sorted(client.scheduler_info()["workers"])[0]


def test_relative_folders_are_the_parents_on_the_workers_not_their_own(
    plans, tmp_path, processes, monkeypatch
):
    # The workers started in another working directory (the module's cluster, before
    # this chdir): a relative folder resolved there would be another clinic's, or none.
    monkeypatch.chdir(tmp_path)
    result = build(Path("plans"), Path("cluster"), scheduler=processes)
    assert result.count("built") == 8 and not result.failed
    build(plans, tmp_path / "local", jobs=1)
    assert local_files(tmp_path / "cluster") == local_files(tmp_path / "local")


def test_every_local_path_sent_to_workers_is_absolute(tmp_path, monkeypatch):
    from plandoc.builds.batch import BuildOptions, _for_workers
    from plandoc.settings import SigningSettings

    monkeypatch.chdir(tmp_path)
    options = _for_workers(
        BuildOptions(
            Path("in"), "s3://clinic/out", layout_folders=(Path("layouts"),),
            instruments=Path("measures.toml"), service_codes=Path("codes.toml"),
            signing=SigningSettings(certificate=Path("clinic.p12")), scheduler="tcp://h:1",
        )
    )  # fmt: skip
    assert options.input_dir == tmp_path / "in" and options.output == "s3://clinic/out"
    assert options.layout_folders == (tmp_path / "layouts",)
    assert options.instruments == tmp_path / "measures.toml"
    assert options.service_codes == tmp_path / "codes.toml"
    assert options.signing is not None and options.signing.certificate == tmp_path / "clinic.p12"


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8786",
        "tcp://127.0.0.1",
        "inproc://x",
        "ws://127.0.0.1:8786",
        "ucx://127.0.0.1:8786",
        "tcp://user:s3cret@127.0.0.1:8786",
        "tcp://127.0.0.1:9?token=s3cret",
        "tcp://127.0.0.1:99999",
        "",
        " ",
    ],
)
def test_a_scheduler_address_of_another_shape_is_one_line_at_once(address, plans, tmp_path):
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", address]
    )
    assert time.monotonic() - started < 5
    assert result.exit_code == 2 and "s3cret" not in result.output
    assert result.output.strip().splitlines() == [
        "plandoc: error: --scheduler: a Dask scheduler's address, tcp://HOST:PORT or "
        "tls://HOST:PORT, like tcp://10.0.0.5:8786"
    ]
    assert not (tmp_path / "out").exists()


def test_the_scheduler_address_has_one_shape_on_the_command_line_in_settings_and_the_api():
    from plandoc.errors import UsageError
    from plandoc.settings import Settings, scheduler_address

    assert scheduler_address("127.0.0.1:8786") == "tcp://127.0.0.1:8786"
    assert scheduler_address(" TLS://sched.clinic:8786 ") == "tls://sched.clinic:8786"
    assert Settings(scheduler="10.0.0.5:8786").scheduler == "tcp://10.0.0.5:8786"
    with pytest.raises(UsageError, match=r"^--scheduler: a Dask scheduler's address"):
        build(SAMPLES, "out-never", scheduler="ws://127.0.0.1:8786")


@pytest.fixture
def listener():
    """A TCP listener on 127.0.0.1 that is not Dask: it sends `banner` (None: nothing)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve(banner: bytes | None) -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            held.append(connection)
            if banner:
                connection.sendall(banner)

    def start(banner: bytes | None) -> str:
        threading.Thread(target=serve, args=(banner,), daemon=True).start()
        return f"tcp://127.0.0.1:{server.getsockname()[1]}"

    yield start
    server.close()
    for connection in held:
        connection.close()


@pytest.mark.parametrize(
    "banner",
    [None, b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.0 400 Bad request\r\n\r\n<html>no</html>"],
    ids=["silent", "ssh-banner", "web-server"],
)
def test_a_listener_that_is_not_dask_is_one_line_within_the_connect_time(
    banner, listener, plans, tmp_path, monkeypatch
):
    import gc

    import plandoc.builds.cluster

    monkeypatch.setattr(plandoc.builds.cluster, "CONNECT_SECONDS", 0.5)
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)  # "Exception ignored in ..."
    address = listener(banner)
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", address]
    )
    gc.collect()
    assert time.monotonic() - started < 4
    assert result.exit_code == 2 and "Traceback" not in result.output and not ignored
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"plandoc: error: cannot reach the Dask scheduler at {address}: ")
    assert not list((tmp_path / "out").glob("*.md"))


def test_a_dask_workers_address_is_refused_as_not_the_scheduler(plans, tmp_path, processes):
    worker = _worker_address(processes)
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", worker]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [
        f"plandoc: error: {worker} is a Dask worker, not the scheduler; give the scheduler's "
        "address (port 8786 unless it was started with another)"
    ]


def test_ctrl_c_while_connecting_exits_130_at_once(listener, plans, tmp_path, monkeypatch):
    import os
    import signal
    import threading

    import plandoc.builds.cluster

    monkeypatch.setattr(plandoc.builds.cluster, "CONNECT_SECONDS", 20.0)
    address = listener(None)  # says nothing: the connect would wait its 20 s
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", address]
    )
    assert time.monotonic() - started < 3
    assert result.exit_code == 130 and "Traceback" not in result.output


def test_a_stopped_cluster_build_waits_for_the_chunks_started_before_it_cleans_up(
    tmp_path, processes, monkeypatch
):
    import plandoc.builds.batch

    write_plans(48, tmp_path / "plans")
    real_apply, applied = plandoc.builds.batch._apply, []

    def stop_at_the_first_result(record, outcome):
        applied.append(record)
        if len(applied) == 1:
            raise KeyboardInterrupt  # Ctrl-C as the first chunk's results come in
        real_apply(record, outcome)

    monkeypatch.setattr(plandoc.builds.batch, "_apply", stop_at_the_first_result)
    monkeypatch.setattr(plandoc.builds.batch, "CHUNK", 4)  # chunks in flight when it stops
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "plans", out, scheduler=processes, formats=("md", "docx"))
    after_stop = sorted(path.name for path in out.iterdir())
    time.sleep(1.5)  # a worker still writing would add or remove files now
    assert sorted(path.name for path in out.iterdir()) == after_stop
    assert set(after_stop) <= {LOCK_NAME, MANIFEST_NAME}  # no document kept, none staged


@pytest.mark.parametrize("scheme", ["local", "LOCAL", "File"])
def test_a_local_url_is_a_local_folder_with_its_protections(scheme, plans, tmp_path):
    import os

    from plandoc.builds.storage import location

    out = tmp_path / "out"
    assert location(f"{scheme}://{out}") == out
    out.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text("not plandoc's")
    (out / "SYN-000000-v1.standard.md").symlink_to(outside)
    refused = CliRunner().invoke(main, ["build", str(plans), "-o", f"{scheme}://{out}"])
    assert refused.exit_code == 1 and "it is a symbolic link" in refused.output
    assert outside.read_text() == "not plandoc's"
    (out / "SYN-000000-v1.standard.md").unlink()
    old = os.umask(0o022)
    try:
        done = CliRunner().invoke(main, ["build", str(plans), "-o", f"{scheme}://{out}"])
    finally:
        os.umask(old)
    assert done.exit_code == 0, done.output
    modes = {oct(path.stat().st_mode & 0o777) for path in out.iterdir() if path.name != LOCK_NAME}
    assert modes == {"0o600"}


def test_memory_urls_with_a_scheduler_of_other_processes_are_refused(plans, processes, memory):
    from plandoc.errors import UsageError

    _, url = memory
    for source, target in ((plans, f"{url}/out"), (f"{url}/in", plans.parent / "out")):
        with pytest.raises(UsageError, match=r"memory:// lives in this process, which the Dask"):
            build(source, target, scheduler=processes)


def test_a_worker_of_another_plandoc_that_joined_late_fails_the_build_naming_it(
    plans, tmp_path, processes, monkeypatch
):
    import plandoc.builds.cluster
    from plandoc import __version__

    # As if the workers joined after the check: only each chunk's own check sees them.
    monkeypatch.setattr(plandoc.builds.cluster, "refuse_other_versions", lambda versions: None)
    monkeypatch.setattr(plandoc.builds.cluster, "__version__", "0.0.1")
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", processes]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if "error" in line]
    assert line.startswith("plandoc: error: the Dask worker tcp://127.0.0.1:")
    assert line.endswith(f"runs plandoc {__version__}, not 0.0.1 as the build's machine does; "
                         "install plandoc==0.0.1 on it")  # fmt: skip
    assert not list((tmp_path / "out").glob("*.md"))


def test_a_url_in_the_settings_folders_is_refused_saying_where_urls_go(tmp_path):
    from plandoc.errors import SettingsError
    from plandoc.settings import load_settings

    for value in ("s3://clinic-bucket/documents", "simplecache::s3://clinic/documents"):
        (tmp_path / "plandoc.toml").write_text(f'output = "{value}"\n')
        with pytest.raises(SettingsError, match=r"plandoc.toml:1: output: .*goes on the command"):
            load_settings(folder=tmp_path)


def test_a_chained_url_on_the_command_line_is_refused_without_its_password(plans, tmp_path):
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", "simplecache::s3://key:s3cret@clinic/docs?x=1"]
    )
    assert result.exit_code == 2 and "s3cret" not in result.output
    assert result.output.strip().splitlines() == [
        "plandoc: error: simplecache::s3://clinic/docs: chained fsspec URLs (a::b://...) are "
        "not supported; give the storage's own URL (s3://...)"
    ]


def test_a_cluster_lost_during_the_build_is_one_line_exit_1(
    plans, tmp_path, processes, monkeypatch
):
    from distributed.client import FutureCancelledError

    def lost(future, timeout=None):
        raise FutureCancelledError(future.key, reason="scheduler-connection-lost")

    monkeypatch.setattr(distributed.Future, "result", lost)  # as when the scheduler is killed
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", str(tmp_path / "out"), "--scheduler", processes]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("plandoc: error")]
    assert line.startswith(f"plandoc: error: the Dask cluster at {processes} failed during the "
                           "build (FutureCancelledError: ")  # fmt: skip
    assert set(path.name for path in (tmp_path / "out").iterdir()) <= {LOCK_NAME, MANIFEST_NAME}


def test_a_protocol_that_cannot_list_is_one_line_not_an_internal_error(tmp_path):
    result = CliRunner().invoke(main, ["build", "data://x", "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and "internal error" not in result.output
    assert result.output.strip().splitlines() == [
        "plandoc: error: data://x: cannot list: NotImplementedError"
    ]


def test_an_output_url_that_refuses_is_one_line_without_password_or_query(plans):
    if not _installed("aiohttp"):
        pytest.skip("fsspec's http:// needs aiohttp")
    result = CliRunner().invoke(
        main, ["build", str(plans), "-o", "https://key:s3cret@127.0.0.1:9/out?sig=s3cret"]
    )
    assert result.exit_code == 1 and "s3cret" not in result.output and "sig=" not in result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("plandoc: error: cannot write https://127.0.0.1:9/out/.plandoc-build")
