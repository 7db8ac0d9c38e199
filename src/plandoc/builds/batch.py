"""Batch builds: every plan of a folder, incremental, parallel and safe to interrupt.

A build manifest in the output folder (`.plandoc-build.json`) records, for each
plan file, a hash of everything its documents depend on: the file's bytes,
the files of each layout it used (parents included), the plandoc version and
the build options. A plan whose record still matches, and whose documents are
all on disk, is skipped without being parsed.

The result never depends on timing. In a local folder, one pass (in worker
processes) checks every plan that changed and renders each that passes,
writing its documents under temporary names of this build's own (staged);
small records come back with the plan's id and version, and only once every
plan is known, so two files claiming the same id and version are refused, is
each staged document renamed to its own name (or removed). Behind a URL,
where a rename is a copy and a delete, a first pass only checks and a second
renders the plans that passed straight to their own names.
The manifest is rewritten atomically as plans finish, so a run killed at any
point leaves it valid; the next run finishes the work. The manifest holds no
file names or plan text: plans are keyed by a hash of their path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import os
import re
import secrets
import signal
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from plandoc import __version__
from plandoc.builds.output_files import (
    DOCUMENT_NAME,
    OUTPUT_MODE,
    LinkRefused,
    document_name,
    writes_in_background,
)
from plandoc.builds.storage import (
    HASH_BATCH,
    LOCK_NAME,
    LocalFolder,
    RemoteFolder,
    input_hashes,
    is_url,
    one_process_only,
    output_folder,
    plan_names,
    read_plan_bytes,
)
from plandoc.checks.crossplan import DEFAULT_REPEAT_LIMIT, Repeated, StatementIndex, statement_keys
from plandoc.checks.file import CheckedPlan, check_path, plan_id_and_version
from plandoc.checks.plan_checks import plan_id_problem, verdict_holds_until
from plandoc.documents import pdf_writer
from plandoc.documents.documents import render_checked
from plandoc.errors import OutputError, PlandocError, UsageError
from plandoc.layouts import Layout, find_layout
from plandoc.planfile.source import PlanSource, fail
from plandoc.problems import Problem, Severity, file_name, internal_error
from plandoc.settings import Settings, SigningSettings

if TYPE_CHECKING:
    from plandoc.builds.cluster import DaskWorkers

T = TypeVar("T")

MANIFEST_NAME = ".plandoc-build.json"
MANIFEST_FORMAT = 3
SAVE_EVERY_SECONDS = 1.0
CHUNK = 16  # plans handed to a worker at a time
WINDOW = 4  # chunks in flight per worker: memory stays flat however many plans


@dataclass(frozen=True)
class BuildOptions:
    input_dir: Path | str  # a folder, or an fsspec URL (builds.storage)
    output: Path | str  # likewise
    layouts: tuple[str, ...] = ()
    formats: tuple[str, ...] | None = None
    layout_folders: tuple[Path, ...] = ()
    strict: bool = False
    as_of: dt.date | None = None
    jobs: int = 1
    force: bool = False
    prune: bool = False
    repeat_limit: int = DEFAULT_REPEAT_LIMIT
    instruments: Path | None = None  # the clinic's measures file
    service_codes: Path | None = None  # the clinic's CPT/HCPCS codes file
    page_size: str | None = None  # overrides each layout's
    large_print: bool = False  # every document in large print
    file_mode: int = OUTPUT_MODE  # of every file written (plandoc.toml `file_mode`)
    practice: tuple[tuple[str, object], ...] = ()  # plandoc.toml's [practice], as pairs
    signing: SigningSettings | None = None  # plandoc.toml's [signing]: sign every PDF
    newer_versions: frozenset[str] = frozenset()  # plan files a newer version replaces
    stage: str = ""  # this build's own token, in the names of documents written before kept
    scheduler: str | None = None  # a Dask scheduler's address: the map runs on its workers

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        as_of: dt.date | None = None,
        force: bool = False,
        prune: bool = False,
    ) -> BuildOptions:
        """A build of the settings' input folder into its output folder."""
        return cls(
            input_dir=settings.input,
            output=settings.output,
            layouts=settings.layouts,
            formats=settings.formats,
            layout_folders=settings.layout_folders,
            strict=settings.strict,
            as_of=as_of,
            jobs=settings.workers,
            force=force,
            prune=prune,
            repeat_limit=settings.repeat_limit,
            instruments=settings.instruments,
            service_codes=settings.service_codes,
            page_size=settings.page_size,
            large_print=settings.large_print,
            file_mode=settings.file_mode,
            practice=tuple(
                (key, tuple(value) if isinstance(value, list) else value)
                for key, value in (settings.practice or {}).items()
            ),
            signing=settings.signing,
            scheduler=settings.scheduler,
        )

    @cached_property
    def store(self) -> LocalFolder | RemoteFolder:
        """The output folder: on this machine's disk, or behind a URL."""
        return output_folder(self.output, self.file_mode)

    @cached_property
    def settings(self) -> Settings:
        """The settings each plan is checked and rendered with."""
        return Settings(
            layouts=self.layouts,
            formats=self.formats,
            layout_folders=self.layout_folders,
            strict=self.strict,
            repeat_limit=self.repeat_limit,
            instruments=self.instruments,
            service_codes=self.service_codes,
            page_size=self.page_size,
            large_print=self.large_print,
            file_mode=self.file_mode,
            practice=dict(self.practice) or None,
            signing=self.signing,
        )

    def fingerprint(self) -> str:
        """The options that change documents or which plans pass (the clinic's measures too).

        The file mode is one: changing it rewrites every document with the new mode.
        """
        measures = _file_hash(str(self.instruments)) if self.instruments else ""
        codes = _file_hash(str(self.service_codes)) if self.service_codes else ""
        # Signed PDFs: which certificate (its file's hash; never its password).
        signing = _file_hash(str(self.signing.certificate)) if self.signing else ""
        return _digest(
            json.dumps(
                [
                    __version__,
                    self.formats,
                    self.strict,
                    measures,
                    codes,
                    self.page_size,
                    *(["large print"] if self.large_print else []),
                    self.file_mode,
                    self.practice,
                    *([signing] if signing else []),
                ]
            )
        )


@dataclass(slots=True)
class PlanRecord:
    """What the build keeps of one plan file: small, so 10,000 of them stay small.

    Once a plan is built (or found current) the rest lives in `entry`, its
    one-line manifest entry:
    `input hash|plan id|version|layout=fingerprint:file/file;...|statement,...`
    where each file is the end of a document's name ("md", "docx", "goal-1.png").
    Document names are made from it (`output_files.document_name`), not stored.
    """

    input: str  # the path: for the terminal, in the report only when asked; never in the manifest
    status: str = "pending"  # checked, built, current, failed
    plan_id: str | None = None
    version: int | None = None
    input_hash: str = ""  # until `entry` holds it
    entry: str = ""
    errors: int = 0
    warnings: int = 0
    problems: tuple[Problem, ...] = ()

    def _field(self, index: int) -> str:
        return self.entry.split("|")[index] if self.entry else ""

    def documents(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Layout name -> (layout fingerprint, formats) of the documents in `entry`."""
        documents = {}
        for item in self._field(3).split(";"):
            if item:
                name, _, rest = item.partition("=")
                fingerprint, _, formats = rest.partition(":")
                documents[name] = (fingerprint, tuple(formats.split("/")))
        return documents

    def layouts(self) -> list[str]:
        return sorted(self.documents())

    def outputs(self) -> list[str]:
        return sorted(
            document_name(self.plan_id or "", self.version or 0, name, fmt)
            for name, (_, formats) in self.documents().items()
            for fmt in formats
        )

    def statement_keys(self) -> list[str]:
        return [key for key in self._field(4).split(",") if key]

    def as_report(self, input_key: str, names: bool) -> dict[str, object]:
        """The plan's result: no plan values, and its file's path only when `names`."""
        return {
            **({"input": self.input} if names else {"input_key": input_key}),
            "plan_id": self.plan_id,
            "version": self.version,
            "layouts": self.layouts(),
            "outputs": self.outputs(),
            "status": self.status,
            "errors": self.errors,
            "warnings": self.warnings,
            "problems": [problem.as_dict(names=names) for problem in self.problems],
        }


@dataclass
class BuildResult:
    """What a build did: a record per plan file (`records`), the documents kept whose
    plan file is gone (`orphans`) and those `--prune` deleted (`pruned`), the seconds
    it took, and the statements copied across more plans than the limit (`repeated`)."""

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

    def report(self, input_dir: Path | str, names: bool = False) -> Iterator[bytes]:
        """The JSON report (`--report`), in pieces: one plan at a time, never the whole text.

        It holds no plan values; plans are named by id and version, and by the
        same key as in the manifest (`input_key`), or with `names` by their path.
        """
        head = {
            "plandoc": __version__,
            "built": self.count("built"),
            "current": self.count("current"),
            "failed": self.count("failed"),
            "seconds": round(self.seconds, 3),
            "repeated_statements": [asdict(r) for r in self.repeated],
            "orphaned_outputs": self.orphans,
            "pruned_outputs": self.pruned,
        }
        yield b"{\n"
        for key, value in head.items():
            yield f" {json.dumps(key)}: {json.dumps(value)},\n".encode()
        yield b' "plans": ['
        for number, record in enumerate(self.records):
            separator = ",\n  " if number else "\n  "
            entry = record.as_report(_plan_key(record.input, input_dir), names)
            yield (separator + json.dumps(entry)).encode("utf-8")
        yield b"\n ]\n}\n"


Progress = Callable[[PlanRecord], None]


def build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Bring every document of the input folder up to date (docs: "Batch builds").

    One build at a time per output folder: a second one stops at once with a
    clear error instead of removing the first one's unfinished files.
    """
    if options.scheduler:
        options = _for_workers(options)
    options.store.prepare()
    with _only_build(options.store):
        return _build(options, progress)


def _for_workers(options: BuildOptions) -> BuildOptions:
    """The options a cluster's workers are sent: every local path made absolute here, in
    the parent (a worker resolves a relative one in its own working directory, and
    would read other plans or write elsewhere); workers must see the same absolute
    paths (a shared filesystem), or the folders must be URLs. memory:// lives in one
    process: only a scheduler of this process (inproc://) shares it."""
    if not str(options.scheduler).startswith("inproc://"):
        for where in (options.input_dir, options.output):
            if one_process_only(where):
                raise UsageError(
                    f"{where}: memory:// lives in this process, which the Dask workers "
                    "cannot see; use a URL every worker reaches (s3://...) or a shared folder"
                )

    def absolute(path: Path) -> Path:
        return Path(os.path.abspath(path))

    signing = options.signing
    if signing is not None:
        signing = signing.model_copy(update={"certificate": absolute(signing.certificate)})
    return dataclasses.replace(
        options,
        input_dir=options.input_dir if is_url(options.input_dir) else absolute(options.input_dir),
        output=options.output if is_url(options.output) else absolute(options.output),
        layout_folders=tuple(absolute(folder) for folder in options.layout_folders),
        instruments=absolute(options.instruments) if options.instruments else None,
        service_codes=absolute(options.service_codes) if options.service_codes else None,
        signing=signing,
    )


@contextlib.contextmanager
def _only_build(store: LocalFolder | RemoteFolder) -> Iterator[None]:
    """Hold the output folder's build lock (released by the system if the process dies).

    No lock is taken where none can be created (output_files.open_lock says
    why that is safe): a build with nothing to write succeeds in a read-only
    folder, and one with something to write fails at its first write. Where
    the system has no `flock` (Windows), the `filelock` package's lock serves.
    Behind a URL the lock is an object created only if absent (builds.storage),
    which a killed build leaves behind.
    """
    taken = store.lock()
    if taken is None:
        left = ""
        if isinstance(store, RemoteFolder):
            left = f"; if no build is running, a killed one left {store.path(LOCK_NAME)}: delete it"
        raise PlandocError(
            f"{store}: another plandoc build is writing here; run one build per output "
            f"folder at a time (this one changed nothing){left}"
        )
    try:
        yield
    finally:
        taken.release()


def _build(options: BuildOptions, progress: Progress | None) -> BuildResult:
    started = time.perf_counter()
    options.store.remove_unfinished()
    records = [PlanRecord(name) for name in plan_names(options.input_dir)]
    manifest = Manifest.load(options.store, options.fingerprint())
    manifest.keep_only(_plan_key(r.input, options.input_dir) for r in records)
    layouts = _LayoutFingerprints(options.layout_folders)
    statements = StatementIndex()
    todo = array("I")  # the numbers of the plans to check and render
    for start in range(0, len(records), HASH_BATCH):
        batch = records[start : start + HASH_BATCH]
        hashes = input_hashes([record.input for record in batch])
        for number, record, input_hash in zip(itertools.count(start), batch, hashes, strict=False):
            record.input_hash = input_hash
            if not options.force and manifest.is_current(record, options, layouts):
                record.status = "current"
                statements.add(number, record.statement_keys())
                if progress:
                    progress(record)
            else:
                todo.append(number)
    try:
        jobs = options.jobs
        if one_process_only(options.input_dir) or one_process_only(options.output):
            jobs = 1  # memory:// is this process' own: a forked worker would write its copy
        with _workers(jobs, options.scheduler) as run:
            # One pass checks each plan and, when it passes, renders it and writes its
            # documents under names of this build's own (staged): whether they are kept
            # waits for what only all the plans tell (two files of one plan id). Behind a
            # URL, where a rename is a copy and a delete, that pass only checks, and the
            # plans that pass are rendered to their own names by the pass after.
            first = _check_only
            if isinstance(options.store, LocalFolder):
                first = _check_and_render
                options = dataclasses.replace(options, stage=secrets.token_hex(8))
            to_check = ((n, (records[n].input, records[n].input_hash, options)) for n in todo)
            for number, outcome in run(first, to_check, _render_chunk(options)):
                _apply(records[number], outcome)
                statements.add(number, outcome.statements.split(",") if outcome.statements else ())
            options = _excuse_older_versions(records, todo, options)
            _refuse_duplicate_ids(records)
            for number in todo:  # (a current plan was counted already, even if refused now)
                record = records[number]
                _keep_rendered(record, options, manifest, progress)
                # A failing plan keeps its manifest entry: its last good documents
                # are still its own, never orphans to prune. But they are no longer
                # current: the next build checks the plan again, and fails it again.
                if record.status == "failed":
                    manifest.not_current(_plan_key(record.input, options.input_dir))
                    if progress:
                        progress(record)
            to_render = (
                (n, (records[n].input, records[n].input_hash, options))
                for n in todo
                if records[n].status == "checked"
            )
            for number, outcome in run(_render_one, to_render, _render_chunk(options)):
                record = records[number]
                _apply(record, outcome)
                if record.status == "built":
                    manifest.remember(_plan_key(record.input, options.input_dir), record.entry)
                if progress:
                    progress(record)
    except BaseException:  # interrupted, or the disk is full: what finished is recorded
        # The plans rendered so far are kept, but those whose id is in two of the files
        # read so far (a plan not read yet may claim one kept: the next build tells).
        with contextlib.suppress(OutputError):
            _refuse_duplicate_ids(records)
            for record in records:
                _keep_rendered(record, options, manifest, progress)
        with contextlib.suppress(OutputError):  # if even that fails, the last manifest stays
            manifest.save(force=True)
        options.store.remove_unfinished()  # documents staged but not kept (the workers done)
        raise
    manifest.save(force=True)
    orphans = _orphans(options.store, manifest)
    pruned = []
    if options.prune:
        for name in orphans:
            if options.store.remove(name):  # a link is never listed, nor removed
                pruned.append(name)
        orphans = []
    repeated = statements.repeated(lambda n: records[n].plan_id or "", options.repeat_limit)
    return BuildResult(records, orphans, pruned, time.perf_counter() - started, repeated)


def _keep_rendered(
    record: PlanRecord, options: BuildOptions, manifest: Manifest, progress: Progress | None
) -> None:
    """A plan rendered in the check pass: its staged documents kept (and the plan built,
    in the manifest), or removed when it was refused since (its id is in two files)."""
    if not record.entry or not options.stage or record.status not in ("checked", "failed"):
        return
    if record.status == "checked":
        options.store.keep_staged(record.outputs(), options.stage)
        record.status = "built"
        manifest.remember(_plan_key(record.input, options.input_dir), record.entry)
        if progress:
            progress(record)
    else:
        options.store.discard_staged(record.outputs(), options.stage)
        record.entry = ""


# --- the work, run in worker processes ------------------------------------------


class _Outcome(NamedTuple):
    """What a worker sends back about one plan: a few small values, never the plan."""

    status: str
    plan_id: str | None = None
    version: int | None = None
    entry: str = ""  # the render pass: the plan's manifest entry
    statements: str = ""  # the check pass: its statement keys, for the cross-plan lint
    errors: int = 0
    warnings: int = 0
    problems: tuple[Problem, ...] = ()


FAILED = "failed"  # in place of the input's hash: the plan failed its last build

_STATUSES = {status: status for status in ("pending", "checked", "built", "current", "failed")}


def _apply(record: PlanRecord, outcome: _Outcome) -> None:
    record.status = _STATUSES[outcome.status]  # the parent's own string, not one per plan
    if outcome.plan_id is not None:
        record.plan_id, record.version = outcome.plan_id, outcome.version
    if outcome.entry:  # (a staged plan's hash is in its entry too)
        record.entry, record.input_hash = outcome.entry, ""
    record.errors += outcome.errors
    record.warnings += outcome.warnings
    record.problems += outcome.problems


def _check_file(path: str, options: BuildOptions) -> CheckedPlan:
    newer = path in options.newer_versions
    if not isinstance(options.input_dir, str):
        return check_path(path, options.settings, options.layouts, options.as_of, newer)
    raw = read_plan_bytes(path)  # a URL: its bytes read here, its problems named by the URL
    if isinstance(raw, str):  # why it cannot be read
        source = fail(PlanSource(Path(path), None), None, raw)
        checked = CheckedPlan(source, problems=list(source.problems))
    else:
        checked = check_path(path, options.settings, options.layouts, options.as_of, newer, raw)
    checked.problems = [dataclasses.replace(p, file=path) for p in checked.problems]
    checked.layout_problems = {
        name: [dataclasses.replace(p, file=path) for p in problems]
        for name, problems in checked.layout_problems.items()
    }
    return checked


def _excuse_older_versions(
    records: list[PlanRecord], todo: array[int], options: BuildOptions
) -> BuildOptions:
    """A plan failed by a rule that stands aside for a newer version (an overdue review)
    is checked again, excused, when a newer version of it is in this run: an old version
    still rebuilds. The options that come back carry those plan files to the render pass."""
    latest: dict[str, int] = {}
    for record in records:
        if record.plan_id is not None and record.version is not None:
            key = record.plan_id.casefold()
            latest[key] = max(latest.get(key, 0), record.version)
    excused = [
        number
        for number in todo
        if records[number].status == "failed"
        and records[number].plan_id is not None
        and latest[str(records[number].plan_id).casefold()] > (records[number].version or 0)
        and any(p.unless_newer_version for p in records[number].problems)
    ]
    if not excused:
        return options
    options = dataclasses.replace(
        options, newer_versions=frozenset(records[n].input for n in excused)
    )
    for number in excused:
        record = records[number]
        record.errors, record.warnings, record.problems = 0, 0, ()
        _apply(record, _check_one(record.input, options))
    return options


def _check_one(path: str, options: BuildOptions) -> _Outcome:
    return _checked_outcome(_check_file(path, options), options)


def _check_only(path: str, input_hash: str, options: BuildOptions) -> _Outcome:
    """The plan checked; rendered, if it passes, by `_render_one` (outputs behind a URL)."""
    return _check_one(path, options)


def _check_and_render(path: str, input_hash: str, options: BuildOptions) -> _Outcome:
    """The plan checked and, when it passes, rendered: its documents written staged
    (see `output_files.stage_documents`), its manifest entry in the outcome. Each plan
    is read and checked once a build (but a plan excused by a newer version of it,
    which is checked again, excused, and rendered in a pass of its own)."""
    checked = _check_file(path, options)
    outcome = _checked_outcome(checked, options)
    if outcome.status != "checked":
        return outcome
    rendered = _render_checked(checked, input_hash, options)
    if rendered.status == "failed":
        return outcome._replace(
            status="failed",
            errors=outcome.errors + rendered.errors,
            problems=outcome.problems + rendered.problems,
        )
    return outcome._replace(entry=rendered.entry)


def _checked_outcome(checked: CheckedPlan, options: BuildOptions) -> _Outcome:
    problems = checked.all_problems
    counts = {
        "errors": sum(p.severity is Severity.ERROR for p in problems),
        "warnings": sum(p.severity is Severity.WARNING for p in problems),
        "problems": tuple(problems),
    }
    if checked.plan is None:  # its id and version, when they can be read: it may be newer
        known = plan_id_and_version(checked)
        return _Outcome("failed", *(known or (None, None)), **counts)
    plan = checked.plan.plan
    if checked.any_failed(options.strict):  # its id and version: a newer one may excuse it
        if plan_id_problem(plan.id):  # text without an id's shape is a value: never kept
            return _Outcome("failed", **counts)
        return _Outcome("failed", plan.id, plan.version, **counts)
    keys = ",".join(statement_keys(checked.plan))
    return _Outcome("checked", plan.id, plan.version, statements=keys, **counts)


def _render_one(path: str, input_hash: str, options: BuildOptions) -> _Outcome:
    checked = _check_file(path, options)
    return _render_checked(checked, input_hash, dataclasses.replace(options, stage=""))


def _render_checked(checked: CheckedPlan, input_hash: str, options: BuildOptions) -> _Outcome:
    """Render a plan that passed, writing its documents (staged, with `options.stage`)."""
    assert checked.plan is not None
    fingerprints = _LayoutFingerprints(options.layout_folders)
    used: list[str] = []
    written: list[str] = []
    for layout, documents in render_checked(checked, options.settings):
        if isinstance(documents, Problem):  # a format the layout does not make, a bug of ours
            if options.stage:  # none of its documents is kept
                options.store.discard_staged(written, options.stage)
            return _Outcome("failed", errors=1, problems=(documents,))
        if options.stage:
            written += options.store.stage(checked.plan, layout, documents, options.stage)
        else:
            options.store.write_documents(checked.plan, layout, documents)
        used.append(f"{layout.name}={fingerprints.of(layout.name)}:{'/'.join(documents)}")
    plan = checked.plan.plan
    fields = [input_hash, plan.id, plan.version, ";".join(used)]
    fields.append(",".join(statement_keys(checked.plan)))
    intervals = [layout.review_interval_days for layout in checked.layouts]
    until = verdict_holds_until(checked.plan, intervals, options.as_of or dt.date.today())
    fields.append(until.isoformat() if until else "")  # current until then (is_current)
    return _Outcome("built", entry="|".join(str(value) for value in fields))


def _render_chunk(options: BuildOptions) -> int:
    """Plans rendered by a worker before it reports back. A PDF takes about a second, so
    PDFs are reported one at a time: a build killed then loses at most the plans being
    made, and the manifest (saved at least every second) records the rest."""
    return 1 if options.formats and "pdf" in options.formats else CHUNK


def _call(
    function: Callable[..., _Outcome], jobs: list[tuple[int, tuple[object, ...]]]
) -> list[tuple[int, _Outcome]]:
    """Run one chunk of plans; a bug of ours fails its plan in one line, never the build."""
    done = []
    for number, arguments in jobs:
        try:
            outcome = function(*arguments)
        except PlandocError:
            raise  # a problem of the whole build (an unknown layout), not of this plan
        except Exception as error:
            problem = internal_error(str(arguments[0]), "building", error)
            outcome = _Outcome("failed", errors=1, problems=(problem,))
        done.append((number, outcome))
    return done


def _call_writing_behind(
    function: Callable[..., _Outcome], jobs: list[tuple[int, tuple[object, ...]]]
) -> list[tuple[int, _Outcome]]:
    """`_call` in a worker: the chunk's documents are written while its next plans render,
    all of them before its outcomes go back (see `output_files.writes_in_background`)."""
    with writes_in_background():
        return _call(function, jobs)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _workers(jobs: int, scheduler: str | None = None) -> _LocalWorkers | DaskWorkers:
    """Who runs the map: N local processes, or the workers of a Dask scheduler."""
    if scheduler:
        from plandoc.builds.cluster import DaskWorkers

        return DaskWorkers(scheduler, WINDOW)
    return _LocalWorkers(jobs)


class _LocalWorkers:
    """`run(function, (number, arguments)...)` in N processes (or in this one for N = 1).

    Results come back in the order given. Work is handed out in chunks, at most
    WINDOW chunks per worker ahead of the results read, so neither the work
    queued nor the results waiting grow with the number of plans.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Callable[..., Iterator[tuple[int, _Outcome]]]:
        if self.jobs > 1:
            # Workers ignore Ctrl-C: the parent stops handing out work, and each
            # worker finishes (atomically) the document it is writing.
            self.pool = ProcessPoolExecutor(
                self.jobs, initializer=_ignore_interrupts, mp_context=pdf_writer.pool_context()
            )
        return self.run

    def run(
        self,
        function: Callable[..., _Outcome],
        jobs: Iterable[tuple[int, tuple[object, ...]]],
        chunk: int | None = None,
    ) -> Iterator[tuple[int, _Outcome]]:
        if self.pool is None:
            for job in jobs:
                yield from _call(function, [job])
            return
        waiting: deque[Future[list[tuple[int, _Outcome]]]] = deque()
        for piece in _chunks(jobs, chunk or CHUNK):
            waiting.append(self.pool.submit(_call_writing_behind, function, piece))
            if len(waiting) >= self.jobs * WINDOW:
                yield from waiting.popleft().result()
        while waiting:
            yield from waiting.popleft().result()

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:  # work not started is dropped; a chunk started finishes
            self.pool.shutdown(wait=True, cancel_futures=True)


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _refuse_duplicate_ids(records: list[PlanRecord]) -> None:
    """Two files with the same plan id and version would overwrite each other's documents."""
    claims: dict[tuple[str, int], list[PlanRecord] | PlanRecord] = {}
    clashes = []
    for record in records:
        if record.plan_id is not None and record.status in ("checked", "current"):
            # Case folded: on macOS and Windows disks, TP-1 and tp-1 name the same files.
            claim = (record.plan_id.casefold(), record.version or 0)
            earlier = claims.setdefault(claim, record)
            if earlier is not record:
                if isinstance(earlier, PlanRecord):
                    claims[claim] = earlier = [earlier]
                    clashes.append(claim)
                earlier.append(record)
    for plan_id, version in clashes:
        claimants = claims[(plan_id, version)]
        assert isinstance(claimants, list)
        files = " and ".join(file_name(r.input) for r in claimants)
        ids = " and ".join(dict.fromkeys(str(r.plan_id) for r in claimants))
        message = (
            f"plan {ids} version {version} is in two files: {files}; "
            "give each plan its own id (ids differing only in case name the same files "
            "on many disks), or raise the version"
        )
        for record in claimants:
            record.status = "failed"
            record.errors += 1
            record.problems += (Problem(record.input, None, ("plan", "id"), message),)


# --- the build manifest ----------------------------------------------------------


_ENTRY = re.compile(
    r"(?:[0-9a-f]{32}|failed)\|[^|]+\|[0-9]{1,9}\|[^|]*\|[^|]*(?:\|(?:[0-9]{4}-[0-9]{2}-[0-9]{2})?)?"
)


class Manifest:
    """Plan key (a hash of the plan file's path) -> its entry (see PlanRecord)."""

    def __init__(
        self,
        store: LocalFolder | RemoteFolder,
        options_fingerprint: str,
        entries: dict[str, str],
        changed: bool = True,
    ) -> None:
        self.store = store
        self.options = options_fingerprint
        self.entries = entries
        self.changed = changed  # since it was read: saved only then (a read-only folder builds)
        self.saved_at = time.monotonic()

    @classmethod
    def load(cls, store: LocalFolder | RemoteFolder, options_fingerprint: str) -> Manifest:
        """The manifest on disk; an empty one when missing, unreadable or from other options.

        A manifest that is a link (or a FIFO...) stops the build here, before
        anything is written, since it could not be saved (LinkRefused).
        """
        empty = cls(store, options_fingerprint, {})
        try:
            text = store.read(MANIFEST_NAME)
        except LinkRefused:
            raise
        except OutputError:
            return empty
        if text is None:
            return empty
        try:
            data = json.loads(text)
            if data.get("format") != MANIFEST_FORMAT or data.get("options") != options_fingerprint:
                return empty  # other options: everything rebuilds
            entries = data["plans"]
            if not all(isinstance(e, str) and _ENTRY.fullmatch(e) for e in entries.values()):
                return empty  # edited by hand: rebuild
            return cls(store, options_fingerprint, entries, changed=False)
        except (ValueError, KeyError, TypeError, AttributeError):
            return empty

    def is_current(
        self, record: PlanRecord, options: BuildOptions, layouts: _LayoutFingerprints
    ) -> bool:
        entry = self.entries.get(_plan_key(record.input, options.input_dir))
        if entry is None or not entry.startswith(record.input_hash + "|"):
            return False
        _, plan_id, version, *rest = entry.split("|")
        until = rest[2] if len(rest) > 2 else ""
        today = options.as_of or dt.date.today()
        if until and today > dt.date.fromisoformat(until):
            return False  # a review fell due since (or the safety plan grew stale): check again
        candidate = PlanRecord(record.input, plan_id=plan_id, version=int(version), entry=entry)
        documents = candidate.documents()
        if options.layouts and sorted(options.layouts) != sorted(documents):
            return False
        if not documents or any(layouts.of(name) != fp for name, (fp, _) in documents.items()):
            return False
        if not all(self.store.has(name) for name in candidate.outputs()):
            return False
        record.plan_id, record.version, record.entry = plan_id, int(version), entry
        record.input_hash = ""  # the entry holds it
        return True

    def not_current(self, key: str) -> None:
        """Keep a plan's entry (its documents stay its own) but never take it as current."""
        entry = self.entries.get(key)
        if entry is not None and not entry.startswith(FAILED + "|"):
            self.remember(key, FAILED + entry[entry.index("|") :])

    def remember(self, key: str, entry: str) -> None:
        if self.entries.get(key) != entry:
            self.entries[key] = entry
            self.changed = True
        self.save()

    def keep_only(self, keys: Iterable[str]) -> None:
        """Forget plan files deleted since the last build."""
        kept = {key: self.entries[key] for key in keys if key in self.entries}
        self.changed |= len(kept) != len(self.entries)
        self.entries = kept

    def save(self, force: bool = False) -> None:
        """Write the manifest when it changed (every second at most, unless `force`; behind
        a URL, only with `force`: once, when the build ends or stops)."""
        recent = time.monotonic() - self.saved_at < SAVE_EVERY_SECONDS
        if not self.changed or ((recent or self.store.manifest_last) and not force):
            return
        self.store.write(MANIFEST_NAME, self._text())
        self.changed = False
        self.saved_at = time.monotonic()

    def _text(self) -> Iterator[bytes]:
        """Compact JSON with sorted keys, in pieces of 1,000 plans (never the whole text)."""
        head = {"format": MANIFEST_FORMAT, "options": self.options, "plandoc": __version__}
        yield json.dumps(head, sort_keys=True, separators=(",", ":"))[:-1].encode()
        yield b',"plans":{'
        keys = sorted(self.entries)
        for start in range(0, len(keys), 1000):
            piece = ",".join(
                f"{json.dumps(key)}:{json.dumps(self.entries[key])}"
                for key in keys[start : start + 1000]
            )
            yield (("," if start else "") + piece).encode("utf-8")
        yield b"}}"


def _orphans(store: LocalFolder | RemoteFolder, manifest: Manifest) -> list[str]:
    """Documents in the output folder that no current plan file produces (kept unless --prune).

    Only files named like plandoc's documents are considered: anything else a
    person put in the folder is never listed, nor pruned.
    """
    # Every built, current or failing plan is in the manifest, and its entry names its documents.
    owners: dict[str, str | list[str]] = {}
    for entry in manifest.entries.values():
        _, plan_id, version, *_ = entry.split("|", 3)
        earlier = owners.setdefault(f"{plan_id}|{version}", entry)
        if earlier is not entry:
            owners[f"{plan_id}|{version}"] = [*_as_list(earlier), entry]
    orphans = []
    for found in store.file_names():  # regular files only: never a link
        name = DOCUMENT_NAME.fullmatch(found)
        if found.startswith(".") or name is None:
            continue
        made = (name["layout"], name["fmt"])
        entries = _as_list(owners.get(f"{name['id']}|{int(name['version'])}", []))
        if not any(_makes(entry, *made) for entry in entries):
            orphans.append(found)
    return sorted(orphans)


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _makes(entry: str, layout: str, fmt: str) -> bool:
    for item in entry.split("|")[3].split(";"):
        if item.startswith(layout + "="):
            return fmt in item.rpartition(":")[2].split("/")
    return False


class _LayoutFingerprints:
    """A hash of every file a layout is made of, its parents' included, once per instance:
    one a build in the parent, one a plan in a worker (`layout_sha256` hashes a file again
    only when its size or times changed, so a plan's costs a stat a file)."""

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
    """The layout's files (documents.fingerprint.layout_sha256) and plandoc's version."""
    from plandoc.documents.fingerprint import layout_sha256

    return hashlib.sha256(f"{__version__}|{layout_sha256(layout)}".encode()).hexdigest()[:16]


def _plan_key(path: str, input_dir: Path | str) -> str:
    """A plan's name in the manifest: a hash of its path inside the input folder."""
    folder = os.path.join(str(input_dir), "")
    # The files found in the folder start with it: no need of relpath's cost.
    found = path.startswith(folder)
    relative = path[len(folder) :] if found else os.path.relpath(path, input_dir)
    return _digest(relative.replace(os.sep, "/"))[:32]


def _file_hash(path: str) -> str:
    """The file's hash, "" when it cannot be read; never opens a FIFO or device (which
    could block the build for ever) or follows it: only a regular file is read."""
    from plandoc.planfile.source import read_regular_file

    try:
        return hashlib.sha256(read_regular_file(Path(path), 1 << 30)).hexdigest()[:32]
    except (OSError, ValueError):
        return ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
