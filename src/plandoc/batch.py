"""Batch builds: every plan of a folder, incremental, parallel and safe to interrupt.

A build manifest in the output folder (`.plandoc-build.json`) records, for each
plan file, a hash of everything its documents depend on: the file's bytes,
the files of each layout it used (parents included), the plandoc version and
the build options. A plan whose record still matches, and whose documents are
all on disk, is skipped without being parsed.

The work runs in two passes so the result never depends on timing:
1. check every plan that changed (in worker processes): small records come
   back with the plan's id and version, so two files claiming the same id and
   version are found before anything is written;
2. render and write the plans that passed (in worker processes), each
   document atomically.
The manifest is rewritten atomically as plans finish, so a run killed at any
point leaves it valid; the next run finishes the work. The manifest holds no
file names or plan text: plans are keyed by a hash of their path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import __version__
from .crossplan import DEFAULT_REPEAT_LIMIT, Repeated, repeated_statements, statement_keys
from .layouts import Layout, find_layout
from .pipeline import (
    check_file,
    find_plan_files,
    make_output_folder,
    output_name,
    render_documents,
    write_atomically,
    write_documents,
)
from .problems import PlandocError, Severity

MANIFEST_NAME = ".plandoc-build.json"
MANIFEST_FORMAT = 2
SAVE_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class BuildOptions:
    input_dir: Path
    output: Path
    layouts: tuple[str, ...] = ()
    formats: tuple[str, ...] | None = None
    layout_folders: tuple[Path, ...] = ()
    strict: bool = False
    as_of: dt.date | None = None
    jobs: int = 1
    force: bool = False
    prune: bool = False
    repeat_limit: int = DEFAULT_REPEAT_LIMIT

    def fingerprint(self) -> str:
        """The options that change documents or which plans pass."""
        return _digest(json.dumps([__version__, self.formats, self.strict], sort_keys=True))


@dataclass(slots=True)
class PlanRecord:
    """What the build knows of one plan file: small, so 10,000 of them stay small.

    Once a plan is built (or found current) everything else the build needs of
    it lives in `entry`, its one-line manifest entry:
    `input hash|plan id|version|layout=fingerprint;...|document,...|statement,...`.
    """

    key: str  # hash of the file's path relative to the input folder
    input: str  # the path, for the terminal and the report; never in the manifest
    input_hash: str = ""
    status: str = "pending"  # checked, built, current, failed
    plan_id: str | None = None
    version: int | None = None
    entry: str = ""
    statements: tuple[str, ...] = ()  # from the check pass, until `entry` holds them
    errors: int = 0
    warnings: int = 0
    messages: tuple[str, ...] = ()

    def _field(self, index: int) -> str:
        return self.entry.split("|")[index] if self.entry else ""

    def layouts(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self._field(3).split(";") if item)

    def outputs(self) -> list[str]:
        return [name for name in self._field(4).split(",") if name]

    def statement_keys(self) -> tuple[str, ...]:
        if not self.entry:
            return self.statements
        return tuple(key for key in self._field(5).split(",") if key)

    def as_report(self) -> dict[str, object]:
        return {
            "input": self.input,
            "plan_id": self.plan_id,
            "version": self.version,
            "layouts": sorted(self.layouts()),
            "outputs": self.outputs(),
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "messages": list(self.messages),
        }


@dataclass
class BuildResult:
    records: list[PlanRecord]
    orphans: list[str]
    pruned: list[str]
    seconds: float
    repeated: list[Repeated] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.records)

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.records)

    def report(self) -> dict[str, object]:
        return {
            "plandoc": __version__,
            "built": self.count("built"),
            "current": self.count("current"),
            "failed": self.count("failed"),
            "seconds": round(self.seconds, 3),
            "repeated_statements": [asdict(r) for r in self.repeated],
            "orphaned_outputs": self.orphans,
            "pruned_outputs": self.pruned,
            "plans": [r.as_report() for r in self.records],
        }


Progress = Callable[[PlanRecord], None]


def build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    started = time.perf_counter()
    make_output_folder(options.output)
    _remove_unfinished_writes(options.output)
    files = [str(path) for path in find_plan_files([options.input_dir])]
    manifest = Manifest.load(options.output, options.fingerprint())
    layouts = _LayoutFingerprints(options.layout_folders)
    records = [_record(path, options.input_dir) for path in files]
    manifest.keep_only({record.key for record in records})  # plan files deleted since
    todo: list[PlanRecord] = []
    for record, path in zip(records, files, strict=True):
        record.input_hash = _file_hash(Path(path))
        if not options.force and manifest.is_current(record, options, layouts):
            record.status = "current"
            if progress:
                progress(record)
        else:
            todo.append(record)
    paths = {record.key: path for record, path in zip(records, files, strict=True)}
    place = {record.key: index for index, record in enumerate(records)}
    try:
        with _workers(options.jobs) as run:
            for record in run(_check_one, [(paths[r.key], r, options) for r in todo]):
                records[place[record.key]] = record  # the worker's copy replaces ours
            _refuse_duplicate_ids(records)
            for record in records:
                # A failing plan keeps its manifest entry: its last good documents
                # are still its own, never orphans to prune.
                if record.status == "failed" and progress:
                    progress(record)
            to_render = [r for r in records if r.status == "checked"]
            for record in run(_render_one, [(paths[r.key], r, options) for r in to_render]):
                records[place[record.key]] = record
                manifest.remember(record)
                if progress:
                    progress(record)
    finally:  # interrupted or not, what finished is recorded
        manifest.save(force=True)
    orphans = _orphans(options.output, manifest)
    pruned = []
    if options.prune:
        for name in orphans:
            (options.output / name).unlink(missing_ok=True)
            pruned.append(name)
        orphans = []
    repeated = repeated_statements(
        ((r.plan_id, r.statement_keys()) for r in records if r.plan_id), options.repeat_limit
    )
    return BuildResult(records, orphans, pruned, time.perf_counter() - started, repeated)


# --- the two passes, run in worker processes ----------------------------------


def _check_one(path: str, record: PlanRecord, options: BuildOptions) -> PlanRecord:
    checked = check_file(Path(path), options.layouts, options.layout_folders, options.as_of)
    _note_problems(record, checked.all_problems)
    if checked.plan is None or checked.any_failed(options.strict):
        record.status = "failed"
        return record
    record.plan_id, record.version = checked.plan.plan.id, checked.plan.plan.version
    record.statements = tuple(statement_keys(checked.plan))
    record.status = "checked"
    return record


def _render_one(path: str, record: PlanRecord, options: BuildOptions) -> PlanRecord:
    checked = check_file(Path(path), options.layouts, options.layout_folders, options.as_of)
    assert checked.plan is not None
    fingerprints = _LayoutFingerprints(options.layout_folders)
    outputs: list[str] = []
    used: list[str] = []
    try:
        for layout in checked.layouts:
            documents = render_documents(checked.plan, layout, options.formats or layout.formats)
            write_documents(checked.plan, layout, documents, options.output)
            outputs += [output_name(checked.plan, layout, fmt) for fmt in documents]
            used.append(f"{layout.name}={fingerprints.of(layout.name)}")
    except PlandocError as error:
        record.status = "failed"
        record.errors += 1
        record.messages += (f"{path}: {error.message}",)
        return record
    fields = [record.input_hash, record.plan_id, record.version, ";".join(used)]
    fields += [",".join(sorted(outputs)), ",".join(record.statements)]
    record.entry = "|".join(str(value) for value in fields)
    record.statements = ()
    record.status = "built"
    return record


def _note_problems(record: PlanRecord, problems: list) -> None:  # type: ignore[type-arg]
    record.errors = sum(p.severity is Severity.ERROR for p in problems)
    record.warnings = sum(p.severity is Severity.WARNING for p in problems)
    record.messages = tuple(str(p) for p in problems)


def _call(job: tuple[Callable[..., PlanRecord], tuple[object, ...]]) -> PlanRecord:
    function, arguments = job
    try:
        return function(*arguments)
    except PlandocError:
        raise
    except Exception as error:  # a bug of ours: one line, no traceback, no plan values
        record = arguments[1]
        assert isinstance(record, PlanRecord)
        record.status = "failed"
        record.errors += 1
        record.messages += (
            f"{record.input}: internal error ({type(error).__name__}); please report it",
        )
        return record


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _workers:
    """`run(function, argument tuples)` in N processes (or in this one for N = 1), in order."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Callable[..., Iterator[PlanRecord]]:
        if self.jobs > 1:
            # Workers ignore Ctrl-C: the parent stops handing out work, and each
            # worker finishes (atomically) the document it is writing.
            self.pool = ProcessPoolExecutor(self.jobs, initializer=_ignore_interrupts)

        def run(
            function: Callable[..., PlanRecord], arguments: list[tuple]
        ) -> Iterator[PlanRecord]:  # type: ignore[type-arg]
            jobs = [(function, a) for a in arguments]
            if self.pool is None:
                return map(_call, jobs)
            return self.pool.map(_call, jobs, chunksize=max(1, len(jobs) // (self.jobs * 8)))

        return run

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=exc[0] is None, cancel_futures=True)


def _refuse_duplicate_ids(records: list[PlanRecord]) -> None:
    """Two files with the same plan id and version would overwrite each other's documents."""
    claims: dict[tuple[str, int], list[PlanRecord]] = {}
    for record in records:
        if record.plan_id is not None and record.status in ("checked", "current"):
            claims.setdefault((record.plan_id, record.version or 0), []).append(record)
    for (plan_id, version), claimants in claims.items():
        if len(claimants) > 1:
            files = " and ".join(r.input for r in claimants)
            for record in claimants:
                record.status = "failed"
                record.errors += 1
                record.messages += (
                    f"{record.input}: plan {plan_id} version {version} is in two files: {files}; "
                    "give each plan its own id, or raise the version",
                )


# --- the build manifest ----------------------------------------------------------


class Manifest:
    def __init__(self, folder: Path, options_fingerprint: str, entries: dict[str, dict]) -> None:  # type: ignore[type-arg]
        self.folder = folder
        self.options = options_fingerprint
        self.entries = entries
        self.saved_at = time.monotonic()
        # One listing of the output folder instead of a stat per document.
        self.existing = set(os.listdir(folder)) if folder.is_dir() else set()

    @classmethod
    def load(cls, folder: Path, options_fingerprint: str) -> Manifest:
        try:
            data = json.loads((folder / MANIFEST_NAME).read_text("utf-8"))
            if data.get("format") != MANIFEST_FORMAT or data.get("options") != options_fingerprint:
                return cls(folder, options_fingerprint, {})  # other options: everything rebuilds
            return cls(folder, options_fingerprint, dict(data["plans"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(folder, options_fingerprint, {})

    def is_current(
        self, record: PlanRecord, options: BuildOptions, layouts: _LayoutFingerprints
    ) -> bool:
        entry = self.entries.get(record.key)
        if not isinstance(entry, str) or not entry.startswith(record.input_hash + "|"):
            return False
        candidate = PlanRecord(record.key, record.input, entry=entry)
        used = candidate.layouts()
        if options.layouts and sorted(options.layouts) != sorted(used):
            return False
        if not used or any(layouts.of(name) != fingerprint for name, fingerprint in used.items()):
            return False
        outputs = candidate.outputs()
        if not outputs or not all(name in self.existing for name in outputs):
            return False
        _, plan_id, version, *_ = entry.split("|")
        record.plan_id, record.version, record.entry = plan_id, int(version), entry
        return True

    def remember(self, record: PlanRecord) -> None:
        if record.status == "built" and record.entry.count("|") == 5:
            self.entries[record.key] = record.entry
        self.save()

    def keep_only(self, keys: set[str]) -> None:
        self.entries = {key: entry for key, entry in self.entries.items() if key in keys}

    def save(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.saved_at < SAVE_EVERY_SECONDS:
            return
        data = {
            "format": MANIFEST_FORMAT,
            "plandoc": __version__,
            "options": self.options,
            "plans": self.entries,
        }
        # Compact and sorted: the C encoder (no indent) keeps this fast and small at 10,000 plans.
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        write_atomically(self.folder / MANIFEST_NAME, text.encode("utf-8"))
        self.saved_at = time.monotonic()


def _remove_unfinished_writes(folder: Path) -> None:
    """Temporary files a killed run left behind (never a finished document)."""
    if folder.is_dir():
        for leftover in folder.glob(".plandoc-*.part"):
            leftover.unlink(missing_ok=True)


def _orphans(folder: Path, manifest: Manifest) -> list[str]:
    """Documents in the output folder that no current plan file produces (kept unless --prune)."""
    if not folder.is_dir():
        return []
    # Every built or current plan is in the manifest: its entries name every document.
    produced = {
        name for entry in manifest.entries.values() for name in entry.split("|")[4].split(",")
    }
    with os.scandir(folder) as entries:  # is_file() from the listing, no stat per file
        return sorted(
            entry.name
            for entry in entries
            if not entry.name.startswith(".") and entry.name not in produced and entry.is_file()
        )


class _LayoutFingerprints:
    """A hash of every file a layout is made of, its parents' included, once per process."""

    def __init__(self, folders: tuple[Path, ...]) -> None:
        self.folders = folders
        self.known: dict[str, str] = {}

    def of(self, name: str) -> str:
        if name not in self.known:
            try:
                layout = find_layout(name, self.folders)
            except PlandocError:
                self.known[name] = "missing"
            else:
                self.known[name] = _layout_digest(layout)
        return self.known[name]


def _layout_digest(layout: Layout) -> str:
    digest = hashlib.sha256(__version__.encode())
    for member in layout.chain:
        for path in sorted(p for p in member.folder.rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(member.folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _record(path: str, input_dir: Path) -> PlanRecord:
    relative = os.path.relpath(path, input_dir).replace(os.sep, "/")
    return PlanRecord(key=_digest(relative)[:32], input=path)


def _file_hash(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    except OSError:
        return ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
