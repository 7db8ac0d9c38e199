"""Where a build reads plans and writes documents: a local folder, or an fsspec URL.

A plain path (and a `file://` URL) is a local folder with every protection of
`output_files`: atomic writes through a temporary file and a rename, links
refused, read-only folders, the `flock` build lock. Any other URL
(`s3://bucket/plans`, `gs://...`, `memory://...`) is read and written through
fsspec, the protocol's package installed (s3fs for `s3://`):

- a document is written whole, in one put under its own name (atomic per
  object on an object store: a reader sees the old object or the new one,
  never half of one). A rename there is a copy and a delete, so nothing is
  staged: plans are checked in one pass and those that pass rendered in a
  second, once two files of one plan id would have been found (each plan is
  read and checked twice);
- the build manifest is put once, last, after every document of the build
  was put: a build that stops early leaves the last manifest, and the next
  build redoes what that manifest does not hold (the same bytes again);
- the build lock is an object `.plandoc-build.lock` created only where none
  is (`open(..., "xb")`, where the filesystem can create an object only if
  absent); a killed build leaves it, and the message says how to remove it.
  Where the filesystem cannot create an object only if absent, one build at
  a time per output URL is the user's to keep (docs: "Builds on a cluster").

Object names are those of a local build: plan ids, versions, layouts and
formats, never a client's name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plandoc.builds.output_files import (
    HeldLock,
    discard_staged,
    folder_mode,
    is_file,
    keep_staged,
    make_output_folder,
    output_name,
    read_own_file,
    remove_file,
    remove_unfinished,
    stage_documents,
    take_lock,
    write_atomically,
    write_documents,
)
from plandoc.errors import OutputError, PlandocError, UsageError
from plandoc.planfile.read import PLAN_SUFFIXES

if TYPE_CHECKING:
    from plandoc.layouts import Layout
    from plandoc.model.plan import Plan

LOCK_NAME = ".plandoc-build.lock"
# What fsspec's protocols raise for a request that fails: OSError mostly, but not only
# (NotImplementedError for a read-only protocol's write, ValueError for a bad path).
_FS_ERRORS = (OSError, NotImplementedError, ValueError, RuntimeError)
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
HASH_BATCH = 256  # plans whose bytes are fetched together (concurrently, on object stores)
FETCHERS = 32  # requests for plans in flight at once


def is_url(location: str | os.PathLike[str]) -> bool:
    """A URL with a protocol (`s3://...`, `file://...`), not a path."""
    return isinstance(location, str) and _URL.match(location) is not None


_LOCAL = ("file", "local")  # fsspec's names for this machine's disk


def location(text: str | os.PathLike[str]) -> Path | str:
    """A folder as given: a URL stays a string, else a Path. `file://` and `local://` are
    this machine's disk: a Path, with every protection of a local folder (links refused,
    file modes, atomic writes, the build lock). A chained URL (`simplecache::s3://...`)
    is refused in one line: it would otherwise be taken for a folder's name."""
    if not is_url(text):
        if isinstance(text, str) and "::" in text and "://" in text:
            raise UsageError(
                f"{redacted(text)}: chained fsspec URLs (a::b://...) are not supported; "
                "give the storage's own URL (s3://...)"
            )
        return Path(text)
    assert isinstance(text, str)
    scheme, _, rest = text.partition("://")
    if scheme.lower() in _LOCAL:
        return Path(rest)
    return f"{scheme.lower()}://{rest}".rstrip("/")


def redacted(url: str) -> str:
    """A URL or address fit for a message: no user name or password, no query."""
    url = url.split("?", 1)[0].split("#", 1)[0]
    return re.sub(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@", r"\1", url)


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of `url` and the path inside it; a missing package, or a
    protocol that cannot serve, is one line (the URL in it without a password)."""
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"{redacted(url)}: reading and writing URLs needs fsspec: "
            "pip install 'plandoc[cluster]'"
        ) from None
    from fsspec.implementations.local import LocalFileSystem
    from fsspec.registry import known_implementations

    protocol = url.split("://", 1)[0].lower()
    try:
        fs, path = fsspec.core.url_to_fs(url)
    except ImportError:
        known = known_implementations.get(protocol, {})
        needs = known.get("err") or f"the {protocol}:// protocol needs a package fsspec names"
        raise UsageError(
            f"{redacted(url)}: the {protocol}:// protocol is not installed: {needs}"
        ) from None
    except ValueError as error:
        if protocol in known_implementations:
            raise UsageError(
                f"{redacted(url)}: the {protocol}:// protocol cannot be used here: "
                f"{one_line_reason(error)}"
            ) from None
        raise UsageError(
            f"{redacted(url)}: no fsspec package for the {protocol}:// protocol is known "
            "(s3://, gs://, az://, memory://... are)"
        ) from None
    except Exception as error:  # a server that refuses, a URL the protocol cannot parse
        raise UsageError(
            f"{redacted(url)}: the {protocol}:// protocol cannot be used here: "
            f"{one_line_reason(error)}"
        ) from None
    if isinstance(fs, LocalFileSystem):
        raise UsageError(f"{redacted(url)}: this is a folder on this machine's disk: give its path")
    return fs, path.rstrip("/")


def one_line_reason(error: BaseException) -> str:
    """An error's first line, its type when it has none (never a password: see redacted)."""
    text = str(error).splitlines()[0] if str(error).strip() else type(error).__name__
    return redacted(text) if "://" in text else text


# --- plans to read -----------------------------------------------------------------


def plan_names(input_dir: Path | str) -> Iterator[str]:
    """The plan files of the input folder (`planfile.find.plan_file_names`), or of a URL:
    the .json and .md objects below it, hidden ones skipped, sorted, as URLs."""
    from plandoc.planfile.find import plan_file_names

    if not isinstance(input_dir, str):
        yield from plan_file_names([input_dir])
        return
    fs, root = filesystem(input_dir)
    try:
        found = fs.find(root)
    except _FS_ERRORS as error:
        reason = getattr(error, "strerror", None) or one_line_reason(error)
        raise PlandocError(f"{redacted(input_dir)}: cannot list: {reason}") from None
    names = []
    for path in found:
        inside = path[len(root) :].lstrip("/").split("/")
        if not any(part.startswith(".") for part in inside) and path.lower().endswith(
            PLAN_SUFFIXES
        ):
            names.append(inside)
    if not names:
        raise PlandocError(f"{input_dir}: no plan files (.json or .md) in this folder")
    names.sort()
    for inside in names:  # named below the URL as given: in messages as the user wrote it
        yield "/".join([input_dir, *inside])


def input_hashes(names: list[str]) -> list[str]:
    """Each file's hash (`batch._file_hash`: "" when it cannot be read); URLs in one
    request of many (an object store answers them concurrently)."""
    from plandoc.builds.batch import _file_hash

    if not names or not is_url(names[0]):
        return [_file_hash(name) for name in names]
    fs, _ = filesystem(names[0])

    def url_hash(url: str) -> str:  # each name as it is: never read as a glob pattern
        try:
            return hashlib.sha256(fs.cat_file(fs._strip_protocol(url))).hexdigest()[:32]
        except OSError:
            return ""

    return list(_fetchers().map(url_hash, names))


_FETCHERS: ThreadPoolExecutor | None = None


def _fetchers() -> ThreadPoolExecutor:
    """Threads that read plans behind URLs: an object store answers many requests at once."""
    global _FETCHERS
    if _FETCHERS is None:
        _FETCHERS = ThreadPoolExecutor(FETCHERS, thread_name_prefix="plandoc-fetch")
    return _FETCHERS


def one_process_only(location: Path | str) -> bool:
    """memory:// lives in one process: worker processes would each write their own copy."""
    return isinstance(location, str) and location.lower().startswith("memory://")


def read_plan_bytes(url: str) -> bytes | str:
    """A plan's bytes at `url`, or why they cannot be read (one line, no plan text)."""
    from plandoc.planfile.read import MAX_PLAN_BYTES

    fs, path = filesystem(url)
    try:
        with fs.open(path, "rb") as stream:
            content = stream.read(MAX_PLAN_BYTES + 1)
    except FileNotFoundError:
        return "no such file"
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    return content


# --- documents to write ------------------------------------------------------------


class LocalFolder:
    """The output folder on this machine's disk: `output_files` does every write."""

    manifest_last = False  # the manifest is saved as plans finish (once a second at most)

    def __init__(self, folder: Path, mode: int) -> None:
        self.folder, self.mode = folder, mode

    def __str__(self) -> str:
        return str(self.folder)

    def path(self, name: str) -> str:
        return str(self.folder / name)

    def prepare(self) -> None:
        make_output_folder(self.folder, folder_mode(self.mode))

    def lock(self) -> HeldLock | None:
        return take_lock(self.folder / LOCK_NAME, self.mode)

    def remove_unfinished(self) -> None:
        remove_unfinished(self.folder)

    def read(self, name: str) -> bytes | None:
        return read_own_file(self.folder / name)

    def write(self, name: str, content: bytes | Iterable[bytes]) -> None:
        write_atomically(self.folder / name, content, self.mode)

    def has(self, name: str) -> bool:
        return is_file(self.path(name))

    def stage(
        self, plan: Plan, layout: Layout, documents: dict[str, bytes], stage: str
    ) -> list[str]:
        return stage_documents(plan, layout, documents, self.folder, stage, self.mode)

    def write_documents(self, plan: Plan, layout: Layout, documents: dict[str, bytes]) -> None:
        write_documents(plan, layout, documents, self.folder, self.mode)

    def keep_staged(self, names: Iterable[str], stage: str) -> None:
        keep_staged(self.folder, names, stage)

    def discard_staged(self, names: Iterable[str], stage: str) -> None:
        discard_staged(self.folder, names, stage)

    def file_names(self) -> Iterator[str]:
        """The names of the regular files in the folder (never a link's)."""
        if not self.folder.is_dir():
            return
        with os.scandir(self.folder) as listing:  # is_file() from the listing, no stat
            for item in listing:
                if item.is_file(follow_symlinks=False):
                    yield item.name

    def remove(self, name: str) -> bool:
        return remove_file(self.folder, name)


class RemoteFolder:
    """An output folder behind an fsspec URL (see the module's notes)."""

    manifest_last = True  # the manifest is put once, last (or when the build stops)

    def __init__(self, url: str, mode: int) -> None:
        self.url, self.mode = url, mode
        self.shown = redacted(url)  # in messages: no user name, password or query
        self.fs, self.root = filesystem(url)
        self.listed: set[str] | None = None  # the folder's names, listed at the first `has`

    def __str__(self) -> str:
        return self.shown

    def __reduce__(self) -> tuple[Any, ...]:  # to a worker: the URL, not a connection
        return (RemoteFolder, (self.url, self.mode))

    def path(self, name: str) -> str:
        return f"{self.shown}/{name}"

    def _at(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _failed(self, name: str, error: Exception) -> OutputError:
        reason = getattr(error, "strerror", None) or one_line_reason(error)
        return OutputError(f"cannot write {self.path(name)}: {reason}")

    def prepare(self) -> None:
        try:
            self.fs.makedirs(self.root, exist_ok=True)
        except _FS_ERRORS as error:
            raise OutputError(
                f"cannot create output folder {self.shown}: {one_line_reason(error)}"
            ) from None

    def lock(self) -> HeldLock | None:
        """The lock object, created only if absent; None when another build holds it."""
        token = secrets.token_hex(8).encode()
        try:
            with self.fs.open(self._at(LOCK_NAME), "xb") as stream:
                stream.write(token)
        except FileExistsError:
            return None
        except (ValueError, NotImplementedError):  # no create-if-absent here: single writer
            if self.fs.exists(self._at(LOCK_NAME)):
                return None
            self.write(LOCK_NAME, token)
        except _FS_ERRORS as error:
            raise self._failed(LOCK_NAME, error) from None
        return HeldLock(portable=_LockObject(self.fs, self._at(LOCK_NAME)))

    def remove_unfinished(self) -> None:
        """Nothing to remove: a put leaves a whole object or none, never a temporary one."""

    def read(self, name: str) -> bytes | None:
        try:
            return self.fs.cat_file(self._at(name))
        except FileNotFoundError:
            return None
        except _FS_ERRORS as error:
            raise OutputError(f"cannot read {self.path(name)}: {one_line_reason(error)}") from None

    def write(self, name: str, content: bytes | Iterable[bytes]) -> None:
        """One put of the whole object (atomic per object on an object store)."""
        whole = content if isinstance(content, bytes) else b"".join(content)
        try:
            self.fs.pipe_file(self._at(name), whole)
        except _FS_ERRORS as error:
            raise self._failed(name, error) from None

    def has(self, name: str) -> bool:
        """Whether the document is there, as the folder was when first asked: one listing
        (a request per 1,000 names on S3), never a request per document."""
        if self.listed is None:
            self.listed = set(self.file_names())
        return name in self.listed

    def write_documents(self, plan: Plan, layout: Layout, documents: dict[str, bytes]) -> None:
        for fmt, content in documents.items():
            self.write(output_name(plan, layout, fmt), content)

    def file_names(self) -> Iterator[str]:
        try:
            listing = self.fs.ls(self.root, detail=True)
        except FileNotFoundError:
            return
        except _FS_ERRORS as error:
            raise OutputError(f"cannot list {self.shown}: {one_line_reason(error)}") from None
        for item in listing:
            if item.get("type") == "file":
                yield str(item["name"]).rstrip("/").rsplit("/", 1)[-1]

    def remove(self, name: str) -> bool:
        try:
            self.fs.rm_file(self._at(name))
        except FileNotFoundError:
            return True
        except _FS_ERRORS as error:
            raise OutputError(
                f"cannot remove {self.path(name)}: {one_line_reason(error)}"
            ) from None
        return True


class _LockObject:
    """The remote build lock taken: `release()` deletes it."""

    def __init__(self, fs: Any, path: str) -> None:
        self.fs, self.at = fs, path

    def release(self) -> None:
        with contextlib.suppress(OSError):
            self.fs.rm_file(self.at)


def output_folder(output: Path | str, mode: int) -> LocalFolder | RemoteFolder:
    return RemoteFolder(output, mode) if isinstance(output, str) else LocalFolder(output, mode)
