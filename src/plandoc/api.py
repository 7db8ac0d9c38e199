"""plandoc's Python API: read, check, render and build treatment plans.

    import plandoc

    plan = plandoc.load("inputs/adult-ptsd.json")
    documents = plandoc.render(plan, layout="client-copy", formats=("html", "docx"))
    Path("copy.html").write_bytes(documents["html"])

Every function takes `settings` (a `plandoc.Settings`, default: plandoc's
defaults; `plandoc.load_settings()` reads a `plandoc.toml` as the command line
does) and paths as `str` or `os.PathLike`. The problems of a plan are data
(`plandoc.Problem`); what stops the work is a `plandoc.PlandocError`: a
`PlanError` (holding every problem of the plan), `LayoutError`, `OutputError`,
`SettingsError` or `UsageError`. The command line is built on these functions.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plandoc.errors import PlanError, UsageError
from plandoc.problems import Problem, Severity, file_name
from plandoc.settings import Settings

if TYPE_CHECKING:
    from plandoc.builds.batch import BuildResult, PlanRecord
    from plandoc.checks.file import CheckedPlan
    from plandoc.model.plan import Plan

PathLike = str | os.PathLike[str]


def load(path: PathLike, *, settings: Settings | None = None) -> Plan:
    """Read a plan file (JSON, or Markdown with YAML front-matter) into a `Plan`.

    Raises `PlanError` when the file cannot be read or the plan has errors of
    its own (a missing field, a date out of order); its `problems` list every
    problem of the file. A layout's rules are not the plan's own: see `check`.
    """
    checked = _checked(path, settings or Settings(), None, None)
    errors = [p for p in checked.problems if p.severity is Severity.ERROR]
    if checked.plan is None or errors:
        raise PlanError(_summary(str(path), checked.all_problems), checked.all_problems)
    return checked.plan


def check(
    plan: Plan | PathLike,
    layout: str | None = None,
    *,
    settings: Settings | None = None,
    as_of: dt.date | None = None,
) -> list[Problem]:
    """Every problem of a plan (a file, or a `Plan`): the format's and its layout's rules.

    The layouts are `layout`, else the settings' `layouts`, else the plan's own
    (`plan.layout`), else `standard`. `as_of` is the date taken as today by
    the checks bounded by it (default: none of those checks run).
    """
    return _checked(plan, settings or Settings(), layout, as_of).all_problems


def render(
    plan: Plan | PathLike,
    layout: str | None = None,
    formats: Iterable[str] = ("html",),
    *,
    settings: Settings | None = None,
    as_of: dt.date | None = None,
) -> dict[str, bytes]:
    """The documents of a plan in one layout: format name -> bytes.

    Formats are "md", "html", "docx" and "pdf" (PDF needs `plandoc[pdf]`);
    with "md", each chart's picture comes too, as "goal-N.png". A plan with
    errors in that layout (warnings too, with `settings.strict`) is never
    rendered: it raises `PlanError` with its problems.
    """
    from plandoc.documents.documents import render_checked

    chosen = tuple(formats)
    unknown = [f for f in chosen if f not in ("md", "html", "docx", "pdf")]
    if unknown or not chosen:
        from plandoc.settings import DOCUMENT_FORMATS, unknown_name

        raise UsageError(unknown_name("format", unknown[0] if unknown else "", DOCUMENT_FORMATS))
    settings = settings or Settings()
    checked = _checked(plan, settings, layout, as_of)
    if checked.plan is None or checked.any_failed(settings.strict):
        raise PlanError(_summary(checked.name, checked.all_problems), checked.all_problems)
    for _, documents in render_checked(checked, settings, chosen):
        if isinstance(documents, Problem):
            raise PlanError(documents.text(values=True), [documents])
        return documents
    raise PlanError(f"{checked.name}: nothing to render")  # pragma: no cover


def build(
    input_dir: PathLike | None = None,
    output_dir: PathLike | None = None,
    *,
    settings: Settings | None = None,
    as_of: dt.date | None = None,
    force: bool = False,
    prune: bool = False,
    progress: Callable[[PlanRecord], None] | None = None,
    **options: Any,
) -> BuildResult:
    """Bring the documents of every plan under `input_dir` up to date in `output_dir`.

    Incremental, parallel and safe to interrupt (see the docs' "Batch builds").
    `input_dir` and `output_dir` default to the settings' `input` and
    `output`; either may be an fsspec URL (`"s3://bucket/plans"`, see the
    docs' "Builds on a cluster"). Other keyword arguments are settings
    (`layouts=("standard",)`, `formats=("html",)`, `jobs=2`,
    `scheduler="tcp://host:8786"` to run on a Dask cluster...) laid over
    `settings`. `progress` is called with each plan's record as it finishes.
    Raises `OutputError` when a document cannot be written; a plan with errors
    is a failed record in the result, never an exception.
    """
    import dataclasses

    from plandoc.builds.batch import BuildOptions
    from plandoc.builds.batch import build as run_build
    from plandoc.builds.storage import is_url, location

    if options.get("scheduler") is not None:  # its shape, in one line, before connecting
        from plandoc.builds.cluster import checked_address

        options["scheduler"] = checked_address(str(options["scheduler"]))
    base = settings or Settings()
    urls = {
        key: location(str(value))
        for key, value in (("input_dir", input_dir), ("output", output_dir))
        if value is not None and is_url(str(value))
    }
    chosen = base.with_flags(
        input=None if "input_dir" in urls else input_dir,
        output=None if "output" in urls else output_dir,
        **options,
    )
    build_options = BuildOptions.from_settings(chosen, as_of, force, prune)
    return run_build(dataclasses.replace(build_options, **urls), progress)


def _checked(
    plan: Plan | PathLike, settings: Settings, layout: str | None, as_of: dt.date | None
) -> CheckedPlan:
    from plandoc.checks.file import check_model, check_path
    from plandoc.model.instruments import load_registry
    from plandoc.model.plan import Plan, Practice
    from plandoc.model.service_codes import load_codes

    chosen = [layout] if layout else list(settings.layouts)
    if isinstance(plan, Plan):
        registry = load_registry(settings.instruments)
        if settings.practice:  # the clinic's letterhead; the plan's own keys win
            own = plan.practice.model_dump(exclude_unset=True) if plan.practice else {}
            practice = Practice.model_validate({**settings.practice, **own})
            plan = plan.model_copy(update={"practice": practice})
        codes = load_codes(settings.service_codes)
        return check_model(plan, chosen, settings.layout_folders, as_of, registry, codes)
    if not isinstance(plan, str | os.PathLike):
        raise TypeError(f"expected a Plan or a path, not {type(plan).__name__}")
    return check_path(Path(plan), settings, chosen, as_of)


def _summary(name: str, problems: list[Problem]) -> str:
    errors = sum(p.severity is Severity.ERROR for p in problems)
    first = next((p for p in problems if p.severity is Severity.ERROR), None)
    detail = f"; the first: {first.marked()}" if first else ""
    return f"{file_name(name)}: the plan has {errors} error{'s' if errors != 1 else ''}{detail}"
