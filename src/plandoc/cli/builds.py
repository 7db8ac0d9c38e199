"""`plandoc build` and `plandoc status`: a folder of plans, kept current and watched."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from plandoc.cli.app import main
from plandoc.cli.display import note, print_problems
from plandoc.cli.options import (
    large_print_option,
    layout_options,
    page_size_option,
    ready_to_sign,
    repeat_limit_option,
    report_names_option,
    settings_for,
    to_option,
    values_option,
)

if TYPE_CHECKING:
    from plandoc.builds.batch import BuildResult, PlanRecord


@main.command()
@click.argument("input_dir", required=False, metavar="[INPUT_DIR|URL]")
@to_option
@layout_options
@click.option(
    "-o",
    "--output",
    metavar="DIR|URL",
    help="Folder (or fsspec URL, s3://...) for the documents "
    "(default: the settings' output, else output/).",
)
@click.option("--strict/--no-strict", default=None, help="Treat warnings as errors.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: CPUs).")
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on this Dask cluster's workers (tcp://host:8786; plandoc[cluster]).",
)
@click.option("--force", is_flag=True, help="Rebuild every plan, current or not.")
@click.option("--prune", is_flag=True, help="Delete documents whose plan file is gone.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    metavar="FILE.json",
    help="Write the result of every plan as JSON, `-` for stdout "
    "(no plan values; paths with --show-names).",
)
@report_names_option
@repeat_limit_option
@page_size_option
@large_print_option
@values_option
def build(
    input_dir: str | None,
    formats: tuple[str, ...] | None,
    old_formats: tuple[str, ...] | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
    as_of: dt.date,
    output: str | None,
    strict: bool | None,
    jobs: int | None,
    scheduler: str | None,
    force: bool,
    prune: bool,
    report: Path | None,
    repeat_limit: int | None,
    page_size: str | None,
    large_print: bool | None,
    show_names: bool,
) -> None:
    """Build every plan under INPUT_DIR (default: inputs/) into current documents.

    \b
    Incremental: a plan whose file, layouts and options are unchanged since
    the last build, and whose documents are all there, is skipped. Plans
    render in parallel (--jobs); the output is the same whatever the number.
    A bad plan is reported and the others still build; exit status 1 if
    any failed.

    \b
    Examples:
      plandoc build
      plandoc build -l standard -l client-copy --jobs 2
      plandoc build clinic/plans -o clinic/documents --report build.json
      plandoc build --force --prune
      plandoc build s3://clinic/plans -o s3://clinic/documents --scheduler tcp://10.0.0.5:8786
    """
    from plandoc.builds.output_files import LinkRefused, write_output
    from plandoc.builds.storage import filesystem, is_url, location, output_folder
    from plandoc.errors import OutputError, PlandocError
    from plandoc.model.instruments import load_registry
    from plandoc.model.service_codes import load_codes
    from plandoc.problems import one_line

    if scheduler is not None:  # its shape, in one line, before anything connects
        from plandoc.builds.cluster import checked_address

        scheduler = checked_address(scheduler)
    source = location(input_dir) if input_dir else None  # a URL stays text, a path a Path
    target = location(output) if output else None
    settings = settings_for(
        config, layouts, input=source if isinstance(source, Path) else None,
        output=target if isinstance(target, Path) else None, formats=formats,
        old_formats=old_formats, layout_folders=layout_folders,
        old_layout_folders=old_layout_folders, strict=strict, jobs=jobs, scheduler=scheduler,
        repeat_limit=repeat_limit, page_size=page_size, large_print=large_print,
    )  # fmt: skip
    load_registry(settings.instruments)  # a bad instruments file stops here, with its message
    load_codes(settings.service_codes)  # and a bad service codes file
    ready_to_sign(settings)  # and a certificate that cannot sign (its password asked once)
    source = source if isinstance(source, str) else settings.input
    target = target if isinstance(target, str) else settings.output
    for url in (source, target):
        if is_url(url):
            filesystem(str(url))  # a protocol whose package is missing: one line, first
    if isinstance(source, Path) and not source.is_dir():
        raise PlandocError(f"{source}: no such folder")
    store = output_folder(target, settings.file_mode)
    try:
        built = _run_build(settings, source, target, as_of, force, prune)
    except KeyboardInterrupt:
        note(
            "\ninterrupted: finished documents and the build manifest are kept; "
            "run the build again to finish"
        )
        sys.exit(130)
    except OutputError as error:
        remedy = "; free space or make the folder writable, then run the build again"
        if isinstance(error, LinkRefused):
            remedy = ""  # its message says what to remove
        raise OutputError(
            f"{error.message}; the build stopped: finished documents and the build manifest "
            f"are kept{remedy}"
        ) from None
    for record in built.records:
        if record.status == "failed" or record.warnings:
            print_problems(record.problems)
    for repeated in built.repeated:
        note(repeated.message())
    for name in built.orphans:  # any file named like a document: its name shown escaped
        note(one_line(f"kept {store.path(name)}: its plan file is gone (--prune removes it)"))
    for name in built.pruned:
        note(one_line(f"pruned {store.path(name)}"))
    note(
        f"{len(built.records)} plans: {built.count('built')} built, "
        f"{built.count('current')} current, {built.count('failed')} failed, "
        f"{sum(r.warnings for r in built.records) + len(built.repeated)} warnings, "
        f"{built.seconds:.1f} s"
    )
    if report:
        write_output(report, built.report(source, show_names), settings.file_mode)
    sys.exit(1 if built.failed or (settings.strict and built.repeated) else 0)


def _run_build(
    settings: Any, source: Path | str, target: Path | str, as_of: dt.date, force: bool, prune: bool
) -> BuildResult:
    """The batch build, with a progress bar on a terminal and a line per 10% elsewhere."""
    from plandoc.api import build as api_build
    from plandoc.builds.storage import plan_names

    def build(**arguments: Any) -> BuildResult:
        return api_build(source, target, **arguments)

    total = sum(1 for _ in plan_names(source))
    tally = _Tally()
    if sys.stderr.isatty():
        with click.progressbar(
            length=total,
            label="building",
            file=sys.stderr,
            show_pos=True,
            show_eta=True,
            item_show_func=lambda record: tally.text() if record else None,
        ) as bar:

            def advance(record: PlanRecord) -> None:
                tally.add(record)
                bar.update(1, record)

            return build(settings=settings, as_of=as_of, force=force, prune=prune, progress=advance)

    def line(record: PlanRecord) -> None:
        tally.add(record)
        if tally.done == total or tally.done % max(1, total // 10) == 0:
            click.echo(f"{tally.done}/{total} plans done, {tally.text()}", err=True)

    return build(settings=settings, as_of=as_of, force=force, prune=prune, progress=line)


class _Tally:
    """Plans done and failed, and the rate, for the progress display."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.done = 0
        self.failed = 0

    def add(self, record: PlanRecord) -> None:
        self.done += 1
        self.failed += record.status == "failed"

    def text(self) -> str:
        seconds = max(time.monotonic() - self.started, 1e-6)
        return f"{self.failed} failed, {self.done / seconds:.0f} plans/s"


@main.command()
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@layout_options
@click.option(
    "--within",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    metavar="DAYS",
    help="Flag plans due for review, and authorizations ending, within this many days.",
)
@click.option(
    "--sessions-left",
    type=click.IntRange(min=0),
    default=4,
    show_default=True,
    metavar="N",
    help="Flag authorizations with fewer than N sessions left.",
)
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["table", "csv", "json"]),
    default=None,
    help="table (default on a terminal), csv or json.",
)
@click.option(
    "--show-names", is_flag=True, help="Include client names (protected health information)."
)
@values_option
def status(
    input_dir: Path | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
    as_of: dt.date,
    within: int,
    sessions_left: int,
    report_format: str | None,
    show_names: bool,
) -> None:
    """Show which plans are due for review, sorted by due date.

    \b
    Flags: overdue, due-soon (within --within days), unsigned (no dated
    client or guardian signature), goal-past-target (a goal past its target
    date and not met), goal-stalled, goal-worsened, authorization-low (fewer
    than --sessions-left sessions left), authorization-ending (within
    --within days), authorization-ended, invalid. The LEFT column is the
    sessions left in the authorization. Client names only with --show-names.
    Exit status 0 whatever the plans hold.

    \b
    Examples:
      plandoc status
      plandoc status --within 14
      plandoc status clinic/plans --format csv > due.csv
      plandoc status --as-of 2027-01-01 --format json
    """
    from plandoc.checks.file import check_paths
    from plandoc.errors import PlandocError
    from plandoc.model.instruments import load_registry
    from plandoc.planfile.find import find_plan_files
    from plandoc.reports.status import render_csv, render_json, render_table, sort_rows, status_row

    settings = settings_for(
        config, layouts, input=input_dir, layout_folders=layout_folders,
        old_layout_folders=old_layout_folders,
    )  # fmt: skip
    if not settings.input.is_dir():
        raise PlandocError(f"{settings.input}: no such folder")
    registry = load_registry(settings.instruments)
    chosen = settings.layouts[:1]
    checked_plans = check_paths(find_plan_files((settings.input,)), settings, chosen, as_of)
    rows = sort_rows(
        status_row(checked, as_of, within, registry, sessions_left) for checked in checked_plans
    )
    form = report_format or ("table" if sys.stdout.isatty() else "csv")
    text = {"table": render_table, "csv": render_csv, "json": render_json}[form](rows, show_names)
    click.echo(text.rstrip("\n"))
