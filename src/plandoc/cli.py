"""The `plandoc` command line: parses options, calls the pipeline, prints results.

Exit status: 0 success, 1 a plan failed its checks or could not be rendered
(or a file was missing), 2 a usage error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import click

from plandoc import __version__
from plandoc.build.batch import BuildOptions, BuildResult, PlanRecord
from plandoc.build.batch import build as batch_build
from plandoc.build.output_files import (
    OUTPUT_MODE,
    LinkRefused,
    folder_mode,
    make_output_folder,
    refuse_unless_file,
    write_atomically,
    write_documents,
)
from plandoc.check.crossplan import StatementIndex, statement_keys
from plandoc.check.file import CheckedPlan, check_file
from plandoc.check.plan_checks import plan_id_problem, plan_id_text, shown_plan_id
from plandoc.interop import fhir
from plandoc.interop.json_schema import schema_text
from plandoc.layouts import ENVIRONMENT_VARIABLE, available_layouts, find_layout
from plandoc.model.instruments import Registry, load_registry
from plandoc.planfile import new as new_plan
from plandoc.planfile.find import find_plan_files, plan_file_names
from plandoc.planfile.read import PlanSource
from plandoc.problems import (
    DISPLAY,
    OutputError,
    PlandocError,
    Problem,
    Severity,
    file_key,
    file_name,
    one_line,
    plan_value,
    shown,
)
from plandoc.render.documents import render_documents
from plandoc.reports import diff
from plandoc.reports.status import render_csv, render_json, render_table, sort_rows, status_row
from plandoc.settings import load_config

FORMAT_CHOICES = ("md", "html", "docx", "pdf")


page_size_option = click.option(
    "--page-size",
    type=click.Choice(["letter", "a4"], case_sensitive=False),
    help="Paper for HTML print, DOCX and PDF (default: the layout's).",
)


def _formats(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    if value is None:
        return None
    formats = tuple(
        dict.fromkeys(part.strip().lower() for part in value.split(",") if part.strip())
    )
    unknown = [f for f in formats if f not in FORMAT_CHOICES]
    if unknown or not formats:
        raise click.BadParameter(
            f"unknown format {', '.join(unknown) or '(none)'}; "
            f"choose from {', '.join(FORMAT_CHOICES)}"
        )
    return formats


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="plandoc")
@click.pass_context
def main(ctx: click.Context) -> None:
    """plandoc: treatment plans kept as JSON or Markdown files, turned into
    insurance-ready Markdown, HTML and Word documents.

    \b
    Examples:
      plandoc validate inputs/
      plandoc render inputs/adult-ptsd.json -f html,docx -o output/
      plandoc build -l standard -l client-copy
      plandoc status --within 14
      plandoc diff old-plan.json new-plan.json
      plandoc layouts show medicare
    """
    DISPLAY.reset()
    ctx.call_on_close(DISPLAY.explain)


def _set_values(ctx: click.Context, param: click.Parameter, values: bool | None) -> None:
    DISPLAY.reset(values)


values_option = click.option(
    "--values/--no-values",
    default=None,
    expose_value=False,
    callback=_set_values,
    help="Show values from plans in messages, or hide them "
    "(default: shown on a terminal, hidden in a log, pipe or file).",
)


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected a date YYYY-MM-DD") from None


as_of_option = click.option(
    "--as-of",
    "as_of",
    callback=_as_of,
    metavar="DATE",
    help="The date taken as today, for rules and checks bounded by it (default: today).",
)


def layout_options(function: Callable[..., None]) -> Callable[..., None]:
    """-l/--layout (repeatable), --layouts DIR (repeatable) and --as-of, for every plan command."""
    function = as_of_option(function)
    function = click.option(
        "--layouts",
        "layout_folders",
        multiple=True,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Also look for layouts in DIR (repeatable; also ${ENVIRONMENT_VARIABLE}).",
    )(function)
    return click.option(
        "-l",
        "--layout",
        "layouts",
        multiple=True,
        metavar="NAME",
        help="Layout to use (repeatable; default: each plan's own, else standard).",
    )(function)


output_option = click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the documents.",
)


report_names_option = click.option(
    "--show-names",
    is_flag=True,
    help="Put each input file's path in the JSON report (file names may hold client names).",
)


repeat_limit_option = click.option(
    "--repeat-limit",
    type=click.IntRange(min=1),
    metavar="N",
    help="Warn when a goal or objective statement is in more than N plans (default 3).",
)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@layout_options
@repeat_limit_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as text lines or one JSON document.",
)
@report_names_option
@values_option
def validate(
    paths: tuple[Path, ...],
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    as_of: dt.date,
    strict: bool,
    report_format: str,
    repeat_limit: int | None,
    show_names: bool,
) -> None:
    """Check plan files (or every plan in folders) and report every problem.

    \b
    Each problem is printed as FILE:LINE: field.path: message; a layout's
    rules are marked with its name and cite their source.
    Exit status 0 when every plan is valid, 1 when any has errors
    (or warnings, with --strict).

    \b
    Examples:
      plandoc validate inputs/
      plandoc validate --strict plan.md
      plandoc validate -l medicare -l client-copy inputs/
      plandoc validate --format json inputs/ > report.json
    """
    config = load_config()
    registry = load_registry(config.instruments)
    tally = _Checked(strict)
    statements, plan_ids = StatementIndex(), []
    entries = []  # the JSON report's, small: a checked plan itself is not kept
    for path in _plan_files(paths):
        result = _check(path, layouts, layout_folders, as_of, registry)
        tally.add(result)
        if result.plan is not None:
            statements.add(len(plan_ids), statement_keys(result.plan))
            plan_ids.append(result.plan.plan.id)
        if report_format == "json":
            entries.append(_json_entry(result, strict, show_names))
        else:
            _print_problems(result.all_problems, err=False)
    limit = repeat_limit if repeat_limit is not None else config.repeat_limit
    repeated = statements.repeated(plan_ids.__getitem__, limit)
    if report_format == "json":
        report = {
            "plandoc": __version__,
            "strict": strict,
            "plans": entries,
            "repeated_statements": [r.as_report() for r in repeated],
        }
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        for item in repeated:
            DISPLAY.echo(item.message())
        click.echo(tally.summary(), err=True)
    sys.exit(1 if tally.failed or (strict and repeated) else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--formats",
    callback=_formats,
    metavar="LIST",
    help="Comma-separated formats: md, html, docx, pdf (default: the layout's; pdf when asked).",
)
@layout_options
@output_option
@click.option("--strict", is_flag=True, help="Treat warnings as errors (no output for such plans).")
@page_size_option
@values_option
def render(
    paths: tuple[Path, ...],
    formats: tuple[str, ...] | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    as_of: dt.date,
    output: Path,
    strict: bool,
    page_size: str | None,
) -> None:
    """Render plan files (or every plan in folders) into documents.

    \b
    Documents are named <plan id>-v<version>.<layout>.<ext>, never after
    the client. A plan with errors writes nothing; the others still render.

    \b
    Examples:
      plandoc render inputs/adult-ptsd.json
      plandoc render inputs/ -f html -o /tmp/plans
      plandoc render plan.md -l standard -l client-copy -f docx
      plandoc render inputs/adult-ptsd.json -l client-copy -f pdf --page-size a4
    """
    config = load_config()
    registry = load_registry(config.instruments)
    size = page_size.lower() if page_size else None
    options = _RenderOptions(
        formats, layouts, layout_folders, as_of, output, strict, registry, size, config.file_mode
    )
    sys.exit(_render_all(_plan_files(paths), options))


@main.command()
@click.argument("input_dir", required=False, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--formats",
    callback=_formats,
    metavar="LIST",
    help="Comma-separated formats: md, html, docx, pdf (default: the layout's; pdf when asked).",
)
@layout_options
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the documents (default: output/).",
)
@click.option("--strict/--no-strict", default=None, help="Treat warnings as errors.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes (default: CPUs).")
@click.option("--force", is_flag=True, help="Rebuild every plan, current or not.")
@click.option("--prune", is_flag=True, help="Delete documents whose plan file is gone.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.json",
    help="Write the result of every plan as JSON (no plan values; paths with --show-names).",
)
@report_names_option
@repeat_limit_option
@page_size_option
@values_option
def build(
    input_dir: Path | None,
    formats: tuple[str, ...] | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    as_of: dt.date,
    output: Path | None,
    strict: bool | None,
    jobs: int | None,
    force: bool,
    prune: bool,
    report: Path | None,
    repeat_limit: int | None,
    page_size: str | None,
    show_names: bool,
) -> None:
    """Build every plan under INPUT_DIR (default: inputs/) into current documents.

    \b
    Incremental: a plan whose file, layouts and options are unchanged since
    the last build, and whose documents are all there, is skipped. Plans
    render in parallel (--jobs); the output is the same whatever the number.
    A bad plan is reported and the others still build; exit status 1 if
    any failed. Settings come from ./plandoc.toml when present; flags win.

    \b
    Examples:
      plandoc build
      plandoc build -l standard -l client-copy --jobs 2
      plandoc build clinic/plans -o clinic/documents --report build.json
      plandoc build --force --prune
    """
    config = load_config()
    options = BuildOptions(
        input_dir=input_dir or config.input,
        output=output or config.output,
        layouts=layouts or config.layouts,
        formats=formats or config.formats,
        layout_folders=(*config.layout_folders, *layout_folders),
        strict=config.strict if strict is None else strict,
        as_of=as_of,
        jobs=jobs or config.jobs or os.cpu_count() or 1,
        force=force,
        prune=prune,
        repeat_limit=repeat_limit if repeat_limit is not None else config.repeat_limit,
        instruments=config.instruments,
        page_size=page_size.lower() if page_size else None,
        file_mode=config.file_mode,
    )
    load_registry(options.instruments)  # a bad instruments file stops here, with its message
    if not options.input_dir.is_dir():
        raise PlandocError(f"{options.input_dir}: no such folder")
    try:
        result = _run_build(options)
    except KeyboardInterrupt:
        click.echo(
            "\ninterrupted: finished documents and the build manifest are kept; "
            "run the build again to finish",
            err=True,
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
    for record in result.records:
        if record.status == "failed" or record.warnings:
            _print_problems(record.problems, err=True)
    for repeated in result.repeated:
        DISPLAY.echo(repeated.message(), err=True)
    for name in result.orphans:  # any file named like a document: its name shown escaped
        click.echo(
            one_line(f"kept {options.output / name}: its plan file is gone (--prune removes it)"),
            err=True,
        )
    for name in result.pruned:
        click.echo(one_line(f"pruned {options.output / name}"), err=True)
    click.echo(
        f"{len(result.records)} plans: {result.count('built')} built, "
        f"{result.count('current')} current, {result.count('failed')} failed, "
        f"{sum(r.warnings for r in result.records) + len(result.repeated)} warnings, "
        f"{result.seconds:.1f} s",
        err=True,
    )
    if report:
        make_output_folder(report.parent, folder_mode(options.file_mode))
        write_atomically(report, result.report(options.input_dir, show_names), options.file_mode)
    sys.exit(1 if result.failed or (options.strict and result.repeated) else 0)


def _run_build(options: BuildOptions) -> BuildResult:
    """The batch build, with a progress bar on a terminal and a line per 10% elsewhere."""
    total = sum(1 for _ in plan_file_names([options.input_dir]))
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

            return batch_build(options, progress=advance)

    def line(record: PlanRecord) -> None:
        tally.add(record)
        if tally.done == total or tally.done % max(1, total // 10) == 0:
            click.echo(f"{tally.done}/{total} plans done, {tally.text()}", err=True)

    return batch_build(options, progress=line)


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
    help="Flag plans due for review within this many days.",
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
def status(
    input_dir: Path | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    as_of: dt.date,
    within: int,
    report_format: str | None,
    show_names: bool,
) -> None:
    """Show which plans are due for review, sorted by due date.

    \b
    Flags: overdue, due-soon (within --within days), unsigned (no dated
    client or guardian signature), goal-past-target (a goal past its target
    date and not met), invalid. Client names only with --show-names.
    Exit status 0 whatever the plans hold.

    \b
    Examples:
      plandoc status
      plandoc status --within 14
      plandoc status clinic/plans --format csv > due.csv
      plandoc status --as-of 2027-01-01 --format json
    """
    config = load_config()
    folder = input_dir or config.input
    if not folder.is_dir():
        raise PlandocError(f"{folder}: no such folder")
    folders = (*config.layout_folders, *layout_folders)
    registry = load_registry(config.instruments)
    rows = sort_rows(
        status_row(
            _check(path, layouts or config.layouts[:1], folders, as_of, registry),
            as_of,
            within,
            registry,
        )
        for path in _plan_files((folder,))
    )
    chosen = report_format or ("table" if sys.stdout.isatty() else "csv")
    render = {"table": render_table, "csv": render_csv, "json": render_json}[chosen]
    click.echo(render(rows, show_names).rstrip("\n"))


@main.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to FILE (default: print it).",
)  # fmt: skip
def schema(output: Path | None) -> None:
    """The JSON Schema of the plan format, for editors (generated from plandoc's model).

    \b
    Point your editor at it to see mistakes while you type; see the README
    for VS Code settings (JSON plans, and the YAML front-matter of Markdown
    plans).

    \b
    Examples:
      plandoc schema -o plan.schema.json
    """
    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    mode = load_config().file_mode
    make_output_folder(output.parent, folder_mode(mode))
    write_atomically(output, text.encode("utf-8"), mode)
    click.echo(f"wrote {output}", err=True)


@main.command()
@click.argument("plan_id", required=False)
@click.option(
    "--format", "file_format", type=click.Choice(["md", "json"]),
    help="Markdown with YAML front-matter (default for a new plan) or JSON.",
)  # fmt: skip
@click.option("-l", "--layout", "layout_name", help="The layout the plan is written for.")
@click.option(
    "--layouts", "layout_folders", multiple=True, metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path), help="Also look for layouts in DIR.",
)  # fmt: skip
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The file.")
@click.option(
    "--from", "previous", type=click.Path(dir_okay=False, path_type=Path),
    help="Start the next version of this plan instead of a new plan.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@as_of_option
@values_option
def new(
    plan_id: str | None,
    file_format: str | None,
    layout_name: str | None,
    layout_folders: tuple[Path, ...],
    output: Path | None,
    previous: Path | None,
    force: bool,
    as_of: dt.date,
) -> None:
    """Start a plan: a skeleton with every section the layout requires.

    \b
    Placeholders read "FILL IN: ..."; `plandoc validate` names each one
    still to fill, so an unfinished plan is never rendered. With --from,
    start the next version of an existing plan: version + 1, last reviewed
    today, goals and objectives carried over with their status and
    progress, signatures cleared, a revision entry to describe.

    \b
    Examples:
      plandoc new TP-2027-0001
      plandoc new TP-2027-0001 --format json -l managed-care -o inputs/tp-0001.json
      plandoc new --from inputs/tp-0001.md
    """
    config = load_config()
    folders = (*config.layout_folders, *layout_folders)
    if previous is not None:
        checked = check_file(
            previous, layout_name, folders, as_of, load_registry(config.instruments)
        )
        if checked.plan is None or checked.failed():
            _print_problems(checked.all_problems, err=True)
            raise PlandocError(
                f"{file_name(previous)}: fix the plan's errors (above) before its next version"
            )
        if plan_id is not None and plan_id != checked.plan.plan.id:
            raise PlandocError(
                f"{file_name(previous)} is plan {plan_id_text(checked.plan.plan.id)}, not {plan_id}"
            )
        layout = checked.layout
        assert layout is not None and checked.source.data is not None
        data = new_plan.next_version(checked.source.data, as_of, layout.review_interval_days)
        file_format = file_format or ("md" if previous.suffix.lower() == ".md" else "json")
        version = data["plan"]["version"]
        target = output or previous.with_name(f"{checked.plan.plan.id}-v{version}.{file_format}")
    else:
        if plan_id is None:
            raise click.UsageError("give a PLAN_ID for a new plan, or --from OLD_PLAN")
        problem = plan_id_problem(plan_id)
        if problem:
            raise PlandocError(f"plan id '{plan_id}': {problem}")
        layout = find_layout(layout_name or (config.layouts[:1] or ("standard",))[0], folders)
        data = new_plan.skeleton(plan_id, layout, as_of)
        file_format = file_format or "md"
        target = output or config.input / f"{plan_id}.{file_format}"
    refuse_unless_file(target)  # a link is refused, with --force too
    if target.exists() and not force:
        raise PlandocError(f"{target} exists; use --force to overwrite it")
    text = new_plan.as_markdown(data) if file_format == "md" else new_plan.as_json(data)
    make_output_folder(target.parent, folder_mode(config.file_mode))
    write_atomically(target, text.encode("utf-8"), config.file_mode)
    left = sum(1 for _ in new_plan.placeholders(data))
    click.echo(f"wrote {target}: {left} placeholders to fill, then `plandoc validate {target}`")


@main.command("export-fhir")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@output_option
@as_of_option
@values_option
def export_fhir(paths: tuple[Path, ...], output: Path, as_of: dt.date) -> None:
    """Export plans as HL7 FHIR R4 Bundles (<plan id>-v<version>.fhir.json).

    \b
    Each bundle holds the Patient, Practitioner, Coverage, a Condition per
    diagnosis, a Goal per goal and per objective, an Observation per score
    and one CarePlan; references resolve inside the bundle and ids are the
    same for the same plan. A plan with errors is reported and not exported.

    \b
    Examples:
      plandoc export-fhir inputs/adult-ptsd.json -o fhir/
      plandoc export-fhir inputs/
    """
    config = load_config()
    registry = load_registry(config.instruments)
    failed = False
    for path in _plan_files(paths):
        checked = _check(path, (), (), as_of, registry)
        _print_problems(checked.all_problems, err=True)
        if checked.plan is None or checked.failed():
            failed = True
            continue
        bundle = fhir.export_bundle(checked.plan, registry)
        make_output_folder(output, folder_mode(config.file_mode))
        target = output / f"{checked.plan.plan.id}-v{checked.plan.plan.version}.fhir.json"
        text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
        write_atomically(target, text.encode("utf-8"), config.file_mode)
        click.echo(f"wrote {target}")
    sys.exit(1 if failed else 0)


@main.command("import-fhir")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="The plan.")
@click.option(
    "--format", "file_format", type=click.Choice(["md", "json"]), default="md", show_default=True,
    help="Write the plan as Markdown with front-matter, or JSON.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@values_option
def import_fhir(bundle: Path, output: Path | None, file_format: str, force: bool) -> None:
    """Turn a FHIR R4 Bundle (or a CarePlan with its resources contained) into a plan.

    \b
    What FHIR does not carry (the treatment contract, the time estimate,
    the narrative history...) is left as "FILL IN: ..." placeholders that
    `plandoc validate` names; what plandoc cannot map is listed.

    \b
    Examples:
      plandoc import-fhir careplan-bundle.json -o inputs/tp-7.md
    """
    config = load_config()
    registry = load_registry(config.instruments)
    try:
        plan, unmapped = fhir.import_file(bundle, registry)
        text = new_plan.as_markdown(plan) if file_format == "md" else new_plan.as_json(plan)
        content = text.encode("utf-8")
    except fhir.FhirError as error:  # every problem of the file, one line each
        _print_problems([Problem(str(bundle), error.line, (), p) for p in error.problems], True)
        sys.exit(1)
    except Exception as error:  # a bug of ours: one line, without a traceback or values
        _print_problems([_internal_error(bundle, "importing", error)], err=True)
        sys.exit(1)
    plan_id = str(plan["plan"]["id"])
    if output is None:
        problem = plan_id_problem(plan_id)
        if problem:
            raise PlandocError(
                f"{file_name(bundle)}: plan id {plan_value(plan_id, quote=True)} {problem}; "
                "give -o FILE"
            )
        output = config.input / f"{plan_id}.{file_format}"
    refuse_unless_file(output)  # a link is refused, with --force too
    if output.exists() and not force:
        raise PlandocError(f"{file_name(output)} exists; use --force to overwrite it")
    make_output_folder(output.parent, folder_mode(config.file_mode))
    write_atomically(output, content, config.file_mode)
    _print_problems([Problem(str(bundle), None, (), f"not mapped: {line}") for line in unmapped],
                    err=True)  # fmt: skip
    left = sum(1 for _ in new_plan.placeholders(plan))
    click.echo(f"wrote {output}: {left} placeholders to fill, then `plandoc validate {output}`")


@main.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "report_format",
    type=click.Choice(sorted(diff.FORMATS)),
    default="text",
    show_default=True,
    help="How to print the changes.",
)
@values_option
def diff_command(old: Path, new: Path, report_format: str) -> None:
    """What changed between two versions of one plan, in clinical terms.

    \b
    Goals and objectives added, removed, reworded, or with a new status or
    target date; measures; new scores; methods; diagnoses; the plan's
    status, dates, time estimate and risk; revisions recorded. Both files
    must hold the same plan id. Exit status 0 (1 if a file cannot be read).

    \b
    Examples:
      plandoc diff plans/TP-7-v1.json plans/TP-7-v2.json
      plandoc diff old.md new.md --format md > changes.md
    """
    plans = []
    for path in (old, new):
        checked = check_file(path)
        if checked.plan is None:
            _print_problems(checked.problems, err=True)
            raise PlandocError(
                f"{file_name(path)}: cannot compare a plan that cannot be read (see above)"
            )
        plans.append(checked.plan)
    before, after = plans
    if before.plan.id != after.plan.id:
        raise PlandocError(
            f"{file_name(old)} is plan {plan_id_text(before.plan.id)} and {file_name(new)} is "
            f"plan {plan_id_text(after.plan.id)}: diff compares two versions of one plan"
        )
    if after.plan.version < before.plan.version:
        DISPLAY.echo(
            f"note: {file_name(new)} is an older version ({after.plan.version}) than "
            f"{file_name(old)} ({before.plan.version})",
            err=True,
        )
    changes = diff.compare(before, after)
    click.echo(diff.FORMATS[report_format](before, after, changes), nl=False)


@main.group(invoke_without_command=True)
@click.option(
    "--layouts",
    "layout_folders",
    multiple=True,
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also look for layouts in DIR.",
)
@click.pass_context
def layouts(ctx: click.Context, layout_folders: tuple[Path, ...]) -> None:
    """List every layout found, and where it came from.

    \b
    Layouts are looked for in plandoc's own, ./templates/, each folder of
    $PLANDOC_LAYOUTS, then each --layouts DIR; a later one overrides an
    earlier one of the same name.

    \b
    Examples:
      plandoc layouts
      plandoc layouts show medicare
    """
    ctx.obj = layout_folders
    if ctx.invoked_subcommand is not None:
        return
    for name, (folder, origin) in sorted(available_layouts(layout_folders).items()):
        try:
            title = find_layout(name, layout_folders).title
        except PlandocError as error:  # about the layout's own files: no plan is read here
            title = f"(cannot be used: {shown(error.message, values=True)})"
        click.echo(f"{name:14} {title:44} {origin}: {folder}")


@layouts.command("show")
@click.argument("name")
@click.pass_obj
def layouts_show(layout_folders: tuple[Path, ...], name: str) -> None:
    """Show a layout: formats, page, review interval and its rules with their sources."""
    layout = find_layout(name, layout_folders)
    interval = layout.review_interval_days
    lines = [
        f"{layout.name}: {layout.title}",
        f"  {layout.description}" if layout.description else None,
        f"  from:            {layout.origin}: {layout.folder}",
        f"  extends:         {layout.parent.name}" if layout.parent else None,
        f"  formats:         {', '.join(layout.formats)}",
        f"  page size:       {layout.page_size}",
        f"  review interval: {f'{interval} days' if interval else 'none (plans give review_by)'}",
        f"  header:          {', '.join(layout.header)}",
        f"  rules:           {len(layout.rules) or 'none'}",
    ]
    for rule in layout.rules:
        lines.append(f"  - [{rule.severity.value}] {rule.id}: {rule.message}")
        lines.append(f"      checks: {rule.kind}")
        lines.append(f"      source: {rule.source}")
    click.echo("\n".join(line for line in lines if line is not None))


# --- shared by the commands --------------------------------------------------


@dataclass(frozen=True)
class _RenderOptions:
    formats: tuple[str, ...] | None
    layouts: tuple[str, ...]
    layout_folders: tuple[Path, ...]
    as_of: dt.date
    output: Path
    strict: bool
    instruments: Registry
    page_size: str | None = None
    file_mode: int = OUTPUT_MODE


def _plan_files(paths: Iterable[Path]) -> list[Path]:
    return list(find_plan_files(paths))


def _render_all(files: list[Path], options: _RenderOptions) -> int:
    tally = _Checked(options.strict)
    written = 0
    failed = False
    for path in files:
        result = _check(
            path, options.layouts, options.layout_folders, options.as_of, options.instruments
        )
        tally.add(result)
        _print_problems(result.all_problems, err=True)
        failed |= result.any_failed(options.strict)
        if result.plan is None:
            continue
        for layout in result.layouts:
            if result.layout_failed(layout, options.strict):
                continue
            try:
                formats = options.formats or layout.formats
                documents = render_documents(
                    result.plan, layout, formats, options.instruments, options.page_size
                )
            except PlandocError as error:  # e.g. a format the layout does not make
                DISPLAY.echo(f"{file_name(path)}: {error.message}", err=True)
                failed = True
                continue
            except Exception as error:  # a bug of ours: say so without a traceback or values
                problem = _internal_error(path, "rendering", error)
                result.problems.append(problem)
                _print_problems([problem], err=True)
                failed = True
                continue
            written_now = write_documents(
                result.plan, layout, documents, options.output, options.file_mode
            )
            for target in written_now:
                click.echo(f"wrote {target}")
                written += 1
    summary = tally.summary()
    click.echo(f"{summary}; {written} documents written to {options.output}", err=True)
    return 1 if failed else 0


def _check(
    path: Path,
    layouts: tuple[str, ...],
    folders: tuple[Path, ...],
    as_of: dt.date,
    instruments: Registry | None = None,
) -> CheckedPlan:
    try:
        return check_file(path, layouts, folders, as_of, instruments)
    except PlandocError:
        raise
    except Exception as error:  # a bug of ours: say so without a traceback or plan values
        checked = CheckedPlan(PlanSource(path, None))
        checked.problems.append(_internal_error(path, "checking", error))
        return checked


def _internal_error(path: Path, stage: str, error: Exception) -> Problem:
    return Problem(
        str(path),
        None,
        (),
        f"internal error while {stage} ({type(error).__name__}); please report it",
    )


def _print_problems(problems: Iterable[Problem], err: bool) -> None:
    for problem in problems:
        DISPLAY.echo(problem.marked(), err=err)


class _Checked:
    """Counts of the plans checked, for the summary line (the plans themselves are not kept)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.plans = self.failed = self.errors = self.warnings = 0

    def add(self, result: CheckedPlan) -> None:
        problems = result.all_problems
        self.plans += 1
        self.failed += result.any_failed(self.strict)
        self.errors += sum(p.severity is Severity.ERROR for p in problems)
        self.warnings += sum(p.severity is Severity.WARNING for p in problems)

    def summary(self) -> str:
        plans = "plan" if self.plans == 1 else "plans"
        return (
            f"{self.plans} {plans} checked: {self.plans - self.failed} ok, {self.failed} failed "
            f"({self.errors} errors, {self.warnings} warnings)"
        )


def _json_entry(result: CheckedPlan, strict: bool, names: bool) -> dict[str, object]:
    """One plan in the JSON report: never a plan value; its path only with `names`."""
    return {
        **({"file": result.name} if names else {"file_key": file_key(result.name)}),
        "plan_id": shown_plan_id(result.plan.plan.id) if result.plan else None,
        "version": result.plan.plan.version if result.plan else None,
        "valid": not result.any_failed(strict),
        "layouts": [layout.name for layout in result.layouts],
        "problems": [p.as_dict(names) for p in result.all_problems],
    }
