"""Where plandoc writes: never through a link, folders with the folder mode, read-only folders.

Every file plandoc creates or replaces (documents of each format, chart
pictures, the build lock and manifest, temporary files, `--report`, and the
files of `new`, `schema`, `import-fhir` and `export-fhir`) is tried with a
link in its place: to a file outside the folder (which must keep its bytes
and mode) and dangling (nothing may appear where it points). Each is refused
with one line, exit status 1, and the link is left as it is.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import plandoc.builds.output_files
from plandoc.builds.batch import LOCK_NAME, MANIFEST_NAME
from plandoc.cli import main

from .conftest import ROOT, SAMPLES
from .test_pdf import needs_pdf

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="Unix links and modes")

SAMPLE = SAMPLES / "adult-ptsd.json"  # plan TP-2026-0042, version 2
DOCUMENT = "TP-2026-0042-v2.standard"
OUTSIDE_BYTES = b"a file outside the folder, not plandoc's\n"


def run(*args: object) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clinic's folder: one plan in `in/`, and a plandoc.toml that relaxes the file mode,
    so that a mode changed through a link would show."""
    folder = tmp_path / "work"
    (folder / "in").mkdir(parents=True)
    shutil.copy(SAMPLE, folder / "in")
    (folder / "plandoc.toml").write_text('file_mode = "0660"\n')
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    secret = folder / "secret.txt"
    secret.write_bytes(OUTSIDE_BYTES)
    secret.chmod(0o600)
    return folder


def one_refusal(result, link: Path) -> str:
    """Exit status 1, one error line naming the link and saying why, no traceback."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("plandoc: error:")]
    assert len(errors) == 1, result.output
    assert str(link) in errors[0] and "plandoc does not write through links" in errors[0]
    return errors[0]


# --- a link at every file plandoc writes -----------------------------------------------


@dataclass(frozen=True)
class Target:
    """A file plandoc writes: the command that writes it, and where it is."""

    name: str
    command: tuple[str, ...]
    path: str
    before: Callable[[], None] = lambda: None  # what must exist first


def _bundle() -> None:
    assert run("export-fhir", "in/adult-ptsd.json", "-o", "fhir").exit_code == 0


def _built() -> None:
    assert run("build", "in", "-o", "out").exit_code == 0


BUILD = ("build", "in", "-o", "out", "-f", "md,html,docx")
TARGETS = [
    Target("lock", BUILD, f"out/{LOCK_NAME}"),
    Target("manifest", BUILD, f"out/{MANIFEST_NAME}"),
    Target("manifest of a current build", ("build", "in", "-o", "out"), f"out/{MANIFEST_NAME}",
           _built),
    Target("markdown", BUILD, f"out/{DOCUMENT}.md"),
    Target("chart picture", BUILD, f"out/{DOCUMENT}.goal-1.png"),
    Target("html", BUILD, f"out/{DOCUMENT}.html"),
    Target("docx", BUILD, f"out/{DOCUMENT}.docx"),
    Target("document of a current plan", ("build", "in", "-o", "out"), f"out/{DOCUMENT}.html",
           _built),
    Target("render", ("render", "in/adult-ptsd.json", "-o", "out", "-f", "md"),
           f"out/{DOCUMENT}.md"),
    Target("report", ("build", "in", "-o", "out", "--report", "build.json"), "build.json"),
    Target("new -o", ("new", "TP-9", "-o", "drafts/TP-9.md", "--force"), "drafts/TP-9.md"),
    Target("new --from", ("new", "--from", "in/adult-ptsd.json", "--force"),
           "in/TP-2026-0042-v3.json"),
    Target("schema -o", ("schema", "-o", "plan.schema.json"), "plan.schema.json"),
    Target("import-fhir -o", ("import-fhir", "fhir/TP-2026-0042-v2.fhir.json", "-o", "in/tp.md",
                              "--force"), "in/tp.md", _bundle),
    Target("export-fhir -o", ("export-fhir", "in/adult-ptsd.json", "-o", "fhir"),
           "fhir/TP-2026-0042-v2.fhir.json"),
]  # fmt: skip
PDF = Target("pdf", ("build", "in", "-o", "out", "-f", "pdf"), f"out/{DOCUMENT}.pdf")


def _link_in_place(target: Target, points_to: Path) -> Path:
    target.before()
    link = Path(target.path)
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(points_to)
    return link


def _refuses_a_link_to_a_file_outside(target: Target, outside: Path) -> None:
    secret = outside / "secret.txt"
    link = _link_in_place(target, secret)
    one_refusal(run(*target.command), link)
    assert secret.read_bytes() == OUTSIDE_BYTES
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600  # not the clinic's 0660
    assert link.is_symlink() and os.readlink(link) == str(secret)  # left as it was


def _refuses_a_dangling_link(target: Target, outside: Path) -> None:
    nowhere = outside / "made-by-plandoc"
    link = _link_in_place(target, nowhere)
    one_refusal(run(*target.command), link)
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert link.is_symlink() and not nowhere.exists()


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_a_link_to_a_file_outside_is_refused_and_the_file_keeps_its_bytes_and_mode(
    work, outside, target
):
    _refuses_a_link_to_a_file_outside(target, outside)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: t.name)
def test_a_dangling_link_is_refused_and_nothing_is_created_where_it_points(work, outside, target):
    _refuses_a_dangling_link(target, outside)


@pytest.mark.pdf
@needs_pdf
def test_a_link_in_place_of_a_pdf_is_refused(work, outside):
    _refuses_a_link_to_a_file_outside(PDF, outside)
    shutil.rmtree("out")
    _refuses_a_dangling_link(PDF, outside)


def test_new_and_import_fhir_refuse_a_link_without_force_too(work, outside):
    link = Path("drafts/TP-9.md")
    link.parent.mkdir()
    link.symlink_to(outside / "secret.txt")
    one_refusal(run("new", "TP-9", "-o", link), link)
    _bundle()
    one_refusal(run("import-fhir", "fhir/TP-2026-0042-v2.fhir.json", "-o", link), link)
    assert (outside / "secret.txt").read_bytes() == OUTSIDE_BYTES


def test_a_temporary_file_name_taken_by_a_link_is_never_opened(work, outside, monkeypatch):
    """Temporary names are random; here the first ones tried are links planted in advance."""
    names = iter(["planted-1", "planted-2", "free-3", "free-4", "free-5", "free-6", "free-7"])
    monkeypatch.setattr(plandoc.builds.output_files, "_random_name", lambda: next(names))
    Path("out").mkdir()
    Path("out/.plandoc-planted-1.part").symlink_to(outside / "secret.txt")
    Path("out/.plandoc-planted-2.part").symlink_to(outside / "made-by-plandoc")
    result = run("build", "in", "-o", "out", "-f", "md")
    assert result.exit_code == 0, result.output
    assert (outside / "secret.txt").read_bytes() == OUTSIDE_BYTES
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_a_link_swapped_in_after_the_look_is_replaced_never_written_through(
    work, outside, monkeypatch
):
    """The race the look cannot close: rename(2) replaces the link, the file outside is kept."""
    real_look = plandoc.builds.output_files.refuse_unless_file

    def look_then_swap(path: Path) -> None:
        real_look(path)
        if path.name.endswith(".md"):
            os.symlink(outside / "secret.txt", path)

    monkeypatch.setattr(plandoc.builds.output_files, "refuse_unless_file", look_then_swap)
    assert run("render", "in/adult-ptsd.json", "-o", "out", "-f", "md").exit_code == 0
    document = Path(f"out/{DOCUMENT}.md")
    assert not document.is_symlink() and b"Treatment Plan" in document.read_bytes()
    assert (outside / "secret.txt").read_bytes() == OUTSIDE_BYTES
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600


def test_hard_links_a_document_is_replaced_and_a_lock_refused_the_file_keeps_its_mode(
    work, outside
):
    """A hard link is the same file under another name: rename replaces the name only."""
    secret = outside / "secret.txt"
    Path("out").mkdir()
    os.link(secret, Path(f"out/{DOCUMENT}.docx"))
    assert run("build", "in", "-o", "out").exit_code == 0
    assert secret.read_bytes() == OUTSIDE_BYTES and stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert Path(f"out/{DOCUMENT}.docx").stat().st_ino != secret.stat().st_ino
    shutil.rmtree("out")
    Path("out").mkdir()
    os.link(secret, Path("out") / LOCK_NAME)
    line = one_refusal(run("build", "in", "-o", "out"), Path("out") / LOCK_NAME)
    assert "other names (hard links)" in line
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600
    assert not list(Path("out").glob("TP-*"))  # refused before anything was written


def _fifo_or_folder(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()


@pytest.mark.parametrize("kind", ["fifo", "folder"])
@pytest.mark.parametrize("name", [LOCK_NAME, MANIFEST_NAME, f"{DOCUMENT}.md"])
def test_a_fifo_or_a_folder_at_a_name_plandoc_writes_is_refused_without_hanging(work, kind, name):
    """Run apart, with a time limit: the old code waited forever reading a FIFO manifest."""
    Path("out").mkdir()
    _fifo_or_folder(kind, Path("out") / name)
    command = [sys.executable, "-m", "plandoc", "build", "in", "-o", "out", "-f", "md"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=_env())
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("plandoc: error:")]
    assert len(errors) == 1 and f"out/{name}: it is a" in errors[0], result.stderr
    assert "not a file; plandoc replaces only files" in errors[0]
    assert "Traceback" not in result.stderr


def test_a_link_named_like_a_document_is_never_listed_pruned_or_followed(work, outside):
    _built()
    gone = Path("out/TP-GONE-v1.standard")
    Path(f"{gone}.md").symlink_to(outside / "secret.txt")
    Path(f"{gone}.html").symlink_to(outside / "made-by-plandoc")
    Path(f"{gone}.docx").symlink_to(outside)  # a link to a folder
    Path(f"{gone}.goal-1.png").write_bytes(b"an orphan document")  # pruned: --prune runs
    result = run("build", "in", "-o", "out", "--prune")
    assert result.exit_code == 0, result.output
    assert f"pruned {gone}.goal-1.png" in result.output
    assert "TP-GONE-v1.standard.md" not in result.output
    for fmt in ("md", "html", "docx"):
        assert Path(f"{gone}.{fmt}").is_symlink()
    assert (outside / "secret.txt").read_bytes() == OUTSIDE_BYTES
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


def test_an_output_folder_the_user_names_may_be_a_link_to_a_folder(work, tmp_path):
    documents = tmp_path / "shared-documents"
    documents.mkdir()
    Path("out").symlink_to(documents)
    assert run("build", "in", "-o", "out").exit_code == 0
    assert (documents / f"{DOCUMENT}.docx").is_file() and (documents / MANIFEST_NAME).is_file()
    again = run("build", "in", "-o", "out")
    assert again.exit_code == 0 and "1 current" in again.output


def test_a_dangling_link_in_the_way_of_a_folder_to_create_is_not_created_through(work, outside):
    Path("out").symlink_to(outside / "documents")
    result = run("build", "in", "-o", "out/sub")
    assert result.exit_code == 1 and "cannot create output folder out/sub" in result.output
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


# --- folders: the folder mode at every new level ---------------------------------------


FOLDER_COMMANDS = {
    "build -o": (("build", "in", "-o", "a/b/c"), "a/b/c"),
    "build --report": (("build", "in", "-o", "out", "--report", "a/b/c/r.json"), "a/b/c"),
    "render -o": (("render", "in/adult-ptsd.json", "-f", "md", "-o", "a/b/c"), "a/b/c"),
    "new -o": (("new", "TP-9", "-o", "a/b/c/TP-9.md"), "a/b/c"),
    "schema -o": (("schema", "-o", "a/b/c/plan.schema.json"), "a/b/c"),
    "export-fhir -o": (("export-fhir", "in/adult-ptsd.json", "-o", "a/b/c"), "a/b/c"),
}


@pytest.mark.parametrize(("file_mode", "expected"), [(None, 0o700), ("0640", 0o750)])
@pytest.mark.parametrize("command", FOLDER_COMMANDS, ids=str)
def test_every_new_folder_level_gets_the_folder_mode_whatever_the_umask(
    work, command, file_mode, expected
):
    Path("plandoc.toml").write_text(f'file_mode = "{file_mode}"\n' if file_mode else "")
    Path("a").mkdir(mode=0o755)  # an existing level is left as it is
    os.chmod("a", 0o755)
    args, leaf = FOLDER_COMMANDS[command]
    previous = os.umask(0o022)
    try:
        result = run(*args)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat("a").st_mode) == 0o755
    for level in ("a/b", leaf):
        assert stat.S_IMODE(os.stat(level).st_mode) == expected, level
    files = {stat.S_IMODE(p.stat().st_mode) for p in Path(leaf).iterdir()}
    assert files == {expected & 0o666}  # and the files in it have the file mode


# --- a read-only output folder ---------------------------------------------------------


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, PR_CAPBSET_DROP = 1, 2, 24


def _as_an_ordinary_user() -> None:
    """Before exec, for root: drop the powers that ignore file modes, so 0500 means read-only."""
    if os.geteuid() == 0:
        libc = ctypes.CDLL(None, use_errno=True)
        for power in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
            if libc.prctl(PR_CAPBSET_DROP, power, 0, 0, 0) != 0:
                raise OSError(ctypes.get_errno(), "cannot drop a capability")


def _plandoc(*args: str) -> subprocess.CompletedProcess[str]:
    """plandoc in its own process, with no power to write where its modes forbid (even root)."""
    command = [sys.executable, "-m", "plandoc", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=_env(),
        preexec_fn=_as_an_ordinary_user,
    )  # fmt: skip


def _read_only(folder: Path) -> None:
    """chmod 0500, checked: skips the test where even that cannot stop this user writing."""
    folder.chmod(0o500)
    probe = [sys.executable, "-c", f"open({str(folder / 'probe')!r}, 'w')"]
    try:
        made = subprocess.run(probe, capture_output=True, preexec_fn=_as_an_ordinary_user)
        written = made.returncode == 0
    except subprocess.SubprocessError:  # no right to drop root's powers (a container)
        written = True
    if written:
        (folder / "probe").unlink(missing_ok=True)
        folder.chmod(0o700)
        pytest.skip("cannot make a folder read-only for this user")


def _state(folder: Path) -> dict[str, tuple[bytes, int, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(folder.iterdir())
    }


@pytest.mark.parametrize("lock", ["lock kept", "no lock file"])
def test_a_build_with_nothing_to_do_succeeds_in_a_read_only_folder_and_changes_nothing(work, lock):
    out = work / "out"
    _built()
    if lock == "no lock file":
        (out / LOCK_NAME).unlink()  # an older plandoc's folder, or the lock removed
    before = _state(out)
    _read_only(out)
    try:
        result = _plandoc("build", "in", "-o", "out")
        assert result.returncode == 0, result.stderr
        assert "1 plans: 0 built, 1 current" in result.stderr
        assert _state(out) == before
        forced = _plandoc("build", "in", "-o", "out", "--force")  # this one must write
        assert forced.returncode == 1 and "Traceback" not in forced.stderr
        errors = [line for line in forced.stderr.splitlines() if "plandoc: error:" in line]
        assert len(errors) == 1 and "cannot write in out: Permission denied" in errors[0]
        assert "make the folder writable" in errors[0]
        assert _state(out) == before
    finally:
        out.chmod(0o700)


def test_the_manifest_is_saved_only_when_it_changed(work):
    _built()
    manifest = work / "out" / MANIFEST_NAME
    stamp = manifest.stat().st_ino, manifest.stat().st_mtime_ns
    assert run("build", "in", "-o", "out").exit_code == 0
    assert (manifest.stat().st_ino, manifest.stat().st_mtime_ns) == stamp


def test_the_lock_is_opened_without_following_a_link_even_when_it_cannot_be_written(work, outside):
    """The read-only fallback does not follow a link either."""
    _built()
    lock = work / "out" / LOCK_NAME
    lock.unlink()
    lock.symlink_to(outside / "secret.txt")
    _read_only(work / "out")
    try:
        result = _plandoc("build", "in", "-o", "out")
    finally:
        (work / "out").chmod(0o700)
    assert result.returncode == 1 and "plandoc does not write through links" in result.stderr
    assert stat.S_IMODE((outside / "secret.txt").stat().st_mode) == 0o600


def test_a_lock_that_cannot_be_opened_for_another_reason_is_one_line(work, monkeypatch):
    real_open = os.open

    def open_fails(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).endswith(LOCK_NAME):
            raise OSError(errno.EIO, "Input/output error")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(plandoc.builds.output_files.os, "open", open_fails)
    result = run("build", "in", "-o", "out")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot write in out: Input/output error" in result.output


# --- documents written in the background (a build's workers) ---------------------------


def _held_writes(monkeypatch: pytest.MonkeyPatch, fail: set[Path] | None = None):
    """Every document write waits until the event is set; a target in `fail` (a set
    filled in before then) fails as a full disk does."""
    from plandoc.errors import OutputError

    real_write, go = plandoc.builds.output_files.write_atomically, threading.Event()

    def write_atomically(target: Path, content: bytes, mode: int = 0o600) -> None:
        assert go.wait(10), "the writes were never let go"
        if fail and target in fail:
            raise OutputError(f"cannot write {target}: No space left on device")
        real_write(target, content, mode)

    monkeypatch.setattr(plandoc.builds.output_files, "write_atomically", write_atomically)
    return go


def _stage(folder: Path, stage: str = "s1") -> list[str]:
    from plandoc.checks.file import check_file
    from plandoc.documents.documents import render_documents

    checked = check_file(SAMPLE)
    documents = render_documents(checked.plan, checked.layout, ("md", "html"))
    return plandoc.builds.output_files.stage_documents(
        checked.plan, checked.layout, documents, folder, stage
    )


def _staged(folder: Path, names: list[str], stage: str = "s1") -> list[Path]:
    staged_name = plandoc.builds.output_files.staged_name
    return [folder / staged_name(name, stage) for name in names]


def test_documents_staged_in_the_background_are_all_written_when_it_ends(tmp_path, monkeypatch):
    go = _held_writes(monkeypatch)
    with plandoc.builds.output_files.writes_in_background():
        names = _stage(tmp_path)  # comes back while its writes wait: the caller goes on
        assert not any(path.exists() for path in _staged(tmp_path, names))
        go.set()
    assert all(path.stat().st_size > 0 for path in _staged(tmp_path, names))


def test_a_background_write_that_fails_is_raised_when_it_ends_the_others_written(
    tmp_path, monkeypatch
):
    from plandoc.errors import OutputError

    failing: set[Path] = set()
    go = _held_writes(monkeypatch, fail=failing)
    in_background = plandoc.builds.output_files.writes_in_background()
    with pytest.raises(OutputError, match="No space left"), in_background:
        staged = _staged(tmp_path, _stage(tmp_path))
        failing.add(staged[-1])  # the HTML, written last
        go.set()
    assert all(path.exists() for path in staged[:-1]) and not staged[-1].exists()


def test_documents_discarded_while_they_are_written_in_the_background_are_gone(
    tmp_path, monkeypatch
):
    go = _held_writes(monkeypatch)
    with plandoc.builds.output_files.writes_in_background():
        names = _stage(tmp_path)
        threading.Timer(0.2, go.set).start()  # the writes end while the discard waits
        plandoc.builds.output_files.discard_staged(tmp_path, names, "s1")
        assert not list(tmp_path.iterdir())
    assert not list(tmp_path.iterdir())
