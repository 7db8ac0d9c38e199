"""Every file and folder plandoc writes, and how: never through a link, never half-written.

All writes go through this module: documents, chart pictures, the build
manifest and lock, `--report`, and the files of `new`, `schema`,
`import-fhir` and `export-fhir`.

- A folder plandoc creates gets the folder mode at every new level, whatever
  the umask; a folder that exists is left as it is. A folder the user names
  may be a link to a folder (their choice); a level plandoc has to create is
  never created through a link.
- A file is written atomically: a new temporary file beside the target
  (O_CREAT|O_EXCL|O_NOFOLLOW: a name already taken, link or not, is never
  opened), its mode set on the descriptor, synced, then renamed over the
  target. plandoc creates or replaces regular files only: a target that is a
  symbolic link, a folder, a FIFO or a device is refused with one line.
- Races: the target is looked at (lstat) before the rename only to give that
  clear message. What keeps a file outside the folder safe is rename(2)
  itself: it replaces the name in the folder and never follows a link found
  there, so a link swapped in after the look is replaced, not written
  through. A hard link at a target is replaced the same way: the other name
  keeps the old bytes.
- The build lock is the one file opened in place: O_NOFOLLOW, O_NONBLOCK (a
  FIFO cannot hang the build), and it must be a regular file with one name
  before its mode is changed, so neither a link nor a hard link to a file
  elsewhere lets plandoc change that file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING

from plandoc.errors import OutputError

if TYPE_CHECKING:
    from plandoc.layouts import Layout
    from plandoc.model.plan import Plan

try:
    import fcntl as _flock
except ImportError:  # Windows: no advisory locks here; the README says so
    _flock = None  # type: ignore[assignment]

OUTPUT_MODE = 0o600  # every plan is protected health information: owner only, by default

_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NO_BLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOSE_ON_EXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_TEMPORARY_TRIES = 100
UNFINISHED_PREFIX, UNFINISHED_SUFFIX = ".plandoc-", ".part"


def folder_mode(file_mode: int) -> int:
    """The mode of a new folder for files of `file_mode`: searchable by whoever may read."""
    return file_mode | (file_mode & 0o444) >> 2


FOLDER_MODE = folder_mode(OUTPUT_MODE)  # 0o700


class LinkRefused(OutputError):
    """A file plandoc would write is a link, or not a regular file: refused, never followed."""


def _refusal(path: Path | str, info: os.stat_result) -> LinkRefused:
    if stat.S_ISLNK(info.st_mode):
        return LinkRefused(
            f"cannot write {path}: it is a symbolic link, and plandoc does not write "
            "through links; remove the link, then run again"
        )
    if stat.S_ISREG(info.st_mode):  # a regular file with other names
        return LinkRefused(
            f"cannot write {path}: it has other names (hard links), and plandoc does not "
            "write through links; remove it, then run again"
        )
    kind = "a folder" if stat.S_ISDIR(info.st_mode) else "a FIFO, socket or device"
    return LinkRefused(
        f"cannot write {path}: it is {kind}, not a file; plandoc replaces only files it can "
        "write whole; remove it (or choose another name), then run again"
    )


def refuse_unless_file(path: Path) -> None:
    """Raise LinkRefused when `path` exists as anything but a regular file (a link, a folder)."""
    try:
        info = os.lstat(path)
    except OSError:
        return  # nothing there (or nothing plandoc can look at: the write says why)
    if not stat.S_ISREG(info.st_mode):
        raise _refusal(path, info)


# --- folders -----------------------------------------------------------------------


def make_output_folder(folder: Path, mode: int = FOLDER_MODE) -> None:
    """Create the folder and each missing parent with `mode`, whatever the umask.

    Folders that exist are left as they are (one the user names may be a link
    to a folder). A missing level is created by mkdir, which never follows a
    link: a dangling link in the way is an error, not a folder made elsewhere.
    """
    missing = []
    level = folder
    while not os.path.isdir(level):
        missing.append(level)
        if level.parent == level:
            break
        level = level.parent
    try:
        for level in reversed(missing):
            try:
                os.mkdir(level, mode)
            except FileExistsError:
                if os.path.isdir(level) and not os.path.islink(level):
                    continue  # made meanwhile (another build): left as it is
                raise
            _set_folder_mode(level, mode)
    except OSError as error:
        raise OutputError(f"cannot create output folder {folder}: {error.strerror}") from None


def _set_folder_mode(folder: Path, mode: int) -> None:
    """chmod on a descriptor of the folder just made, so a link swapped in is never followed."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NO_FOLLOW | _CLOSE_ON_EXEC
    if not hasattr(os, "fchmod"):  # Windows: no Unix modes to set
        return
    descriptor = os.open(folder, flags)
    try:
        os.fchmod(descriptor, mode)
    finally:
        os.close(descriptor)


# --- files -------------------------------------------------------------------------


def write_atomically(
    target: Path,
    content: bytes | Iterable[bytes],
    mode: int = OUTPUT_MODE,
    before_replace: Callable[[], None] | None = None,
) -> None:
    """Write `target` atomically with `mode`: readers see the old file or the new one.

    `content` is the bytes, or pieces of them written one after the other (a
    large file need not be held whole in memory). A target that is a link, a
    folder, a FIFO or a device is refused (LinkRefused); see the module's notes.
    `before_replace` runs once the new file is written, just before the rename: an
    error it raises (the target changed meanwhile) leaves the target as it was.
    """
    refuse_unless_file(target)
    descriptor, temporary = _new_temporary(target.parent)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if isinstance(content, bytes):
                stream.write(content)
            else:
                for piece in content:
                    stream.write(piece)
            stream.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(stream.fileno(), mode)
            else:  # Windows
                os.chmod(temporary, mode)
            os.fsync(stream.fileno())
        if before_replace is not None:
            before_replace()
        os.replace(temporary, target)  # replaces the name; never follows a link there
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise OutputError(f"cannot write {target}: {error.strerror}") from None
        raise


def _new_temporary(folder: Path) -> tuple[int, str]:
    """A new, empty, owner-only file in `folder` under a name no one else has taken."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW | _CLOSE_ON_EXEC | _BINARY
    for _ in range(_TEMPORARY_TRIES):
        name = os.path.join(folder, f"{UNFINISHED_PREFIX}{_random_name()}{UNFINISHED_SUFFIX}")
        try:
            return os.open(name, flags, 0o600), name
        except FileExistsError:
            continue  # taken (by a link, a file, anything): never opened, try another name
        except OSError as error:
            raise OutputError(f"cannot write in {folder}: {error.strerror}") from None
    raise OutputError(f"cannot write in {folder}: no free temporary file name")


def _random_name() -> str:
    return secrets.token_hex(8)


# Exactly the names plandoc gives its temporary files (`_random_name`): a person's own
# `.plandoc-notes.part` is never taken for one.
_UNFINISHED = re.compile(
    rf"{re.escape(UNFINISHED_PREFIX)}[0-9a-f]{{16}}{re.escape(UNFINISHED_SUFFIX)}"
)


def read_own_file(path: Path, limit: int = 256 * 1024 * 1024) -> bytes | None:
    """The bytes of a file plandoc wrote and reads back (the build manifest), or None.

    None when there is none. Opened without following a link and without
    blocking on a FIFO: anything but a regular file is LinkRefused, since the
    next save would be refused anyway. A file larger than `limit` is not
    plandoc's (OutputError): no more than that is ever read.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | _NO_FOLLOW | _NO_BLOCK | _CLOSE_ON_EXEC | _BINARY)
    except FileNotFoundError:
        return None
    except OSError as error:
        refuse_unless_file(path)
        raise OutputError(f"cannot read {path}: {error.strerror}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise _refusal(path, info)
    with os.fdopen(descriptor, "rb") as stream:
        try:
            content = stream.read(limit + 1)
        except OSError as error:
            raise OutputError(f"cannot read {path}: {error.strerror}") from None
    if len(content) > limit:
        raise OutputError(f"{path} is larger than plandoc ever writes it: set aside")
    return content


def is_file(path: str) -> bool:
    """A regular file at `path`, not a link to one (a link is never plandoc's document)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def remove_file(folder: Path, name: str) -> bool:
    """Delete the regular file `name` of `folder`; anything else (a link) is left. True if gone.

    unlink(2) removes the name in the folder and never follows a link: a link
    swapped in after the look is removed itself, never what it points to.
    """
    path = folder / name
    if not is_file(str(path)):
        return False
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as error:
        raise OutputError(f"cannot remove {path}: {error.strerror}") from None
    return True


def remove_unfinished(folder: Path, older_than: float | None = None) -> None:
    """Temporary files a killed run left behind (never a finished document, never a link).

    `older_than` (seconds): only those last written longer ago than that, where another
    run may be writing in the folder now without holding the build lock (`plandoc sign`
    in a folder of plans). One that cannot be removed (a read-only folder) is left: it is
    never read.
    """
    try:
        listing = os.scandir(folder)
    except OSError:
        return
    before = None if older_than is None else time.time() - older_than
    with listing:
        for item in listing:
            if _UNFINISHED.fullmatch(item.name) and item.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    if before is None or item.stat(follow_symlinks=False).st_mtime < before:
                        os.unlink(item.path)


# --- the build lock ----------------------------------------------------------------


def open_lock(path: Path, mode: int = OUTPUT_MODE) -> int | None:
    """A descriptor of the lock file `path` for `hold_lock`, or None when there is none to take.

    Opened without following a link or blocking on a FIFO, created with
    `mode` when missing; it must be a regular file with one name before its
    mode is set. An existing lock that cannot be opened for writing is
    opened read-only (flock needs no write access), so a build of a
    read-only folder still takes it. None without `flock` (see `take_lock`), or
    when there is no lock file and none can be created: this process then
    cannot write the folder at all, so it can create, replace or delete
    nothing there (each needs the right that creating the lock needs), and
    its first write, if any, fails with the usual message.
    """
    if _flock is None:
        return None
    flags = _NO_FOLLOW | _NO_BLOCK | _CLOSE_ON_EXEC
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | flags, mode)
    except OSError as error:
        refuse_unless_file(path)
        if error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise OutputError(f"cannot write in {path.parent}: {error.strerror}") from None
        try:
            descriptor = os.open(path, os.O_RDONLY | flags)
        except FileNotFoundError:
            return None
        except OSError:
            refuse_unless_file(path)
            raise OutputError(f"cannot write in {path.parent}: {error.strerror}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            raise _refusal(path, info)
        if stat.S_IMODE(info.st_mode) != mode:
            with contextlib.suppress(OSError):  # like every file written (another owner's: left)
                os.fchmod(descriptor, mode)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def hold_lock(descriptor: int) -> bool:
    """Take the lock without waiting: False when another process holds it.

    Held until the descriptor is closed, or the process ends (even killed).
    """
    assert _flock is not None
    try:
        _flock.flock(descriptor, _flock.LOCK_EX | _flock.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class HeldLock:
    """A build lock taken: `release()` lets the next build in."""

    def __init__(self, descriptor: int | None = None, portable: object = None) -> None:
        self.descriptor, self.portable = descriptor, portable

    def release(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)  # closing releases the flock
        if self.portable is not None:
            self.portable.release()  # type: ignore[attr-defined]


def take_lock(path: Path, mode: int = OUTPUT_MODE) -> HeldLock | None:
    """The lock at `path`, taken without waiting; None when another process holds it.

    With `flock` (Linux, macOS): `open_lock` and `hold_lock` (never through a
    link). Without it (Windows): the `filelock` package's lock file.
    """
    if _flock is None:
        import filelock

        portable = filelock.FileLock(str(path), timeout=0, mode=mode)
        try:
            portable.acquire()
        except filelock.Timeout:
            return None
        except OSError as error:
            raise OutputError(f"cannot write in {path.parent}: {error.strerror}") from None
        return HeldLock(portable=portable)
    descriptor = open_lock(path, mode)
    if descriptor is not None and not hold_lock(descriptor):
        os.close(descriptor)
        return None
    return HeldLock(descriptor)


def output_name(plan: Plan, layout: Layout, fmt: str) -> str:
    """`<plan.id>-v<version>.<layout>.<ext>`: never the client's name."""
    return document_name(plan.plan.id, plan.plan.version, layout.name, fmt)


def document_name(plan_id: str, version: int | str, layout_name: str, fmt: str) -> str:
    return f"{plan_id}-v{version}.{layout_name}.{fmt}"


# What `document_name` makes: (plan id, version, layout, format). Plan ids and
# layout names are checked (letters, digits, '.', '-', '_'; no '.' in a layout name).
DOCUMENT_NAME = re.compile(
    r"(?P<id>.+)-v(?P<version>\d+)\.(?P<layout>[A-Za-z0-9_-]+)\.(?P<fmt>[a-z]+|goal-[0-9]+\.png)"
)


def write_documents(
    plan: Plan,
    layout: Layout,
    documents: dict[str, bytes],
    output_folder: Path,
    mode: int = OUTPUT_MODE,
) -> list[Path]:
    """Write each document atomically (a temporary file, then a rename); see output_files.

    The documents of a plan are written side by side, each in a thread of its own:
    most of the time a document takes is waiting for the disk to confirm it
    (`fsync`), and a disk confirms several files about as fast as one."""
    make_output_folder(output_folder, folder_mode(mode))
    written = [output_folder / output_name(plan, layout, fmt) for fmt in documents]
    if len(written) == 1:
        write_atomically(written[0], next(iter(documents.values())), mode)
        return written
    list(
        _writers().map(
            lambda target, content: write_atomically(target, content, mode),
            written,
            documents.values(),
        )
    )  # waits for all; the first error (if any) is raised, as writing in turn would
    return written


def staged_name(name: str, stage: str) -> str:
    """Where a document named `name` is written before a build keeps it: a temporary
    file's name (see `remove_unfinished`), made from the name and the build's `stage`."""
    digest = hashlib.sha256(f"{stage}/{name}".encode()).hexdigest()[:16]
    return f"{UNFINISHED_PREFIX}{digest}{UNFINISHED_SUFFIX}"


def stage_documents(
    plan: Plan,
    layout: Layout,
    documents: dict[str, bytes],
    output_folder: Path,
    stage: str,
    mode: int = OUTPUT_MODE,
) -> list[str]:
    """Write each document, whole and confirmed, under its staged name (`staged_name`);
    `keep_staged` gives it its own name, `discard_staged` removes it. The names."""
    make_output_folder(output_folder, folder_mode(mode))
    names = [output_name(plan, layout, fmt) for fmt in documents]
    staged = [output_folder / staged_name(name, stage) for name in names]
    writes = [
        _writers().submit(write_atomically, target, content, mode)
        for target, content in zip(staged, documents.values(), strict=True)
    ]
    if _PENDING is not None:  # finished by `writes_in_background`
        _PENDING.extend(writes)
    else:
        _finish(writes)
    return names


# The staged writes still running, inside `writes_in_background` (None: outside it).
_PENDING: list[Future[None]] | None = None


@contextlib.contextmanager
def writes_in_background() -> Iterator[None]:
    """Documents staged inside it are written by this process' writer threads while the
    caller goes on (a build's worker renders its next plan meanwhile); all of them are
    written and synced when it ends, and the first error (if any) is raised then.

    Most of a document's write is waiting for `fsync`, about 1.5 to 4 ms of each plan's
    documents (measured 2026-11-30): a worker that waits for each plan's writes before
    rendering the next spends that time idle."""
    global _PENDING
    outer, _PENDING = _PENDING, []
    try:
        yield
    except BaseException:
        _settle(_PENDING)  # no write is left running; the error in hand is the one raised
        raise
    else:
        _finish(_PENDING)
    finally:
        _PENDING = outer


def _settle(writes: list[Future[None]]) -> None:
    """Wait for each write to end, written or not."""
    wait(writes)


def _finish(writes: list[Future[None]]) -> None:
    """Wait for each write to end; the first error, in the order given, is raised."""
    _settle(writes)
    for write in writes:
        write.result()


def keep_staged(output_folder: Path, names: Iterable[str], stage: str) -> None:
    """Each staged document renamed to its own name (atomically; never onto a link)."""
    for name in names:
        target = output_folder / name
        try:
            refuse_unless_file(target)
            os.replace(output_folder / staged_name(name, stage), target)
        except OSError as error:
            raise OutputError(f"cannot write {target}: {error.strerror}") from None


def discard_staged(output_folder: Path, names: Iterable[str], stage: str) -> None:
    if _PENDING:  # a staged document still being written is removed once it is written
        _settle(_PENDING)
    for name in names:
        with contextlib.suppress(OSError):
            os.unlink(output_folder / staged_name(name, stage))


_WRITERS: tuple[int, ThreadPoolExecutor] | None = None


def _writers() -> ThreadPoolExecutor:
    """This process' threads for writing documents (a process forked from one that had
    them makes its own: threads do not survive a fork)."""
    global _WRITERS
    if _WRITERS is None or _WRITERS[0] != os.getpid():
        _WRITERS = (os.getpid(), ThreadPoolExecutor(8, thread_name_prefix="plandoc-write"))
    return _WRITERS[1]


def write_output(target: Path, content: bytes | Iterable[bytes], mode: int = OUTPUT_MODE) -> None:
    """One file a command writes (a report, a plan, a schema, a bundle), `-` meaning stdout.

    A file is written atomically, its folder (and missing parents) created
    with the folder mode; never through a link.
    """
    if str(target) == "-":
        import click

        stream = click.get_binary_stream("stdout")
        for piece in [content] if isinstance(content, bytes) else content:
            stream.write(piece)
        stream.flush()
        return
    make_output_folder(target.parent, folder_mode(mode))
    write_atomically(target, content, mode)
