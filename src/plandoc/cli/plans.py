"""`plandoc validate` and `plandoc render`: plan files in, problems and documents out."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.display import note, print_problems, result
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


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@layout_options
@repeat_limit_option
@click.option("--strict/--no-strict", default=None, help="Treat warnings as errors.")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Problems as text lines (stderr), or one JSON report (stdout).",
)
@report_names_option
@values_option
def validate(
    paths: tuple[Path, ...],
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
    as_of: dt.date,
    strict: bool | None,
    report_format: str,
    repeat_limit: int | None,
    show_names: bool,
) -> None:
    """Check plan files (or every plan in folders) and report every problem.

    \b
    Each problem is printed as FILE:LINE: field.path: message on stderr; a
    layout's rules are marked with its name and cite their source. With
    --format json, one JSON report goes to stdout instead.
    Exit status 0 when every plan is valid, 1 when any has errors
    (or warnings, with --strict).

    \b
    Examples:
      plandoc validate inputs/
      plandoc validate --strict plan.md
      plandoc validate -l medicare -l client-copy inputs/
      plandoc validate --format json inputs/ > report.json
    """
    import json

    from plandoc.checks.file import check_paths
    from plandoc.planfile.find import find_plan_files
    from plandoc.reports.validation import Validation

    settings = settings_for(
        config, layouts, layout_folders=layout_folders, old_layout_folders=old_layout_folders,
        strict=strict, repeat_limit=repeat_limit,
    )  # fmt: skip
    as_json = report_format == "json"
    validation = Validation(settings.strict, keep_entries=as_json, names=show_names)
    for checked in check_paths(find_plan_files(paths), settings, as_of=as_of):
        validation.add(checked)
        if not as_json:
            print_problems(checked.all_problems)
    repeated = validation.repeated(settings.repeat_limit)
    if as_json:
        click.echo(json.dumps(validation.report(repeated), indent=2, sort_keys=True))
    else:
        for item in repeated:
            note(item.message())
        note(validation.summary())
    sys.exit(1 if validation.failed or (settings.strict and repeated) else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@to_option
@layout_options
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the documents (default: the settings' output, else output/).",
)
@click.option(
    "--strict/--no-strict", default=None, help="Treat warnings as errors (no documents then)."
)
@page_size_option
@large_print_option
@values_option
def render(
    paths: tuple[Path, ...],
    formats: tuple[str, ...] | None,
    old_formats: tuple[str, ...] | None,
    layouts: tuple[str, ...],
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
    as_of: dt.date,
    output: Path | None,
    strict: bool | None,
    page_size: str | None,
    large_print: bool | None,
) -> None:
    """Render plan files (or every plan in folders) into documents.

    \b
    Documents are named <plan id>-v<version>.<layout>.<ext>, never after
    the client; each file written is listed on stdout. A plan with errors
    writes nothing; the others still render.

    \b
    Examples:
      plandoc render inputs/adult-ptsd.json
      plandoc render inputs/ --to html -o /tmp/plans
      plandoc render plan.md -l standard -l client-copy --to docx
      plandoc render inputs/adult-ptsd.json -l client-copy --to pdf --page-size a4
    """
    from plandoc.builds.output_files import write_documents
    from plandoc.checks.file import check_paths
    from plandoc.documents.documents import render_checked
    from plandoc.planfile.find import find_plan_files
    from plandoc.problems import Problem
    from plandoc.reports.validation import Validation

    settings = settings_for(
        config, layouts, formats=formats, old_formats=old_formats, layout_folders=layout_folders,
        old_layout_folders=old_layout_folders, output=output, strict=strict, page_size=page_size,
        large_print=large_print,
    )  # fmt: skip
    ready_to_sign(settings)
    validation = Validation(settings.strict)
    written = 0
    failed = False
    for checked in check_paths(find_plan_files(paths), settings, as_of=as_of):
        validation.add(checked)
        print_problems(checked.all_problems)
        failed |= checked.any_failed(settings.strict)
        for layout, documents in render_checked(checked, settings):
            if isinstance(documents, Problem):
                print_problems([documents])
                failed = True
                continue
            assert checked.plan is not None
            mode = settings.file_mode
            for target in write_documents(checked.plan, layout, documents, settings.output, mode):
                result(f"wrote {target}")
                written += 1
    note(f"{validation.summary()}; {written} documents written to {settings.output}")
    sys.exit(1 if failed else 0)
