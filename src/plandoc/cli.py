"""The `plandoc` command line: parses options, calls the pipeline, prints results.

Exit status: 0 success, 1 a plan failed its checks or could not be rendered
(or a file was missing), 2 a usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path

import click

from . import __version__
from .pipeline import CheckedPlan, check_file, find_plan_files, render_documents, write_documents
from .problems import PlandocError, Problem, Severity
from .reader import PlanSource

FORMAT_CHOICES = ("md", "html", "docx")


def _formats(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return FORMAT_CHOICES
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
def main() -> None:
    """plandoc: treatment plans kept as JSON or Markdown files, turned into
    insurance-ready Markdown, HTML and Word documents.

    \b
    Examples:
      plandoc validate inputs/
      plandoc render inputs/adult-ptsd.json -f html,docx -o output/
      plandoc build
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-l", "--layout", help="Check against this layout (default: each plan's own, else standard)."
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as text lines or one JSON document.",
)
def validate(paths: tuple[Path, ...], layout: str | None, strict: bool, report_format: str) -> None:
    """Check plan files (or every plan in folders) and report every problem.

    \b
    Each problem is printed as FILE:LINE: field.path: message.
    Exit status 0 when every plan is valid, 1 when any has errors
    (or warnings, with --strict).

    \b
    Examples:
      plandoc validate inputs/
      plandoc validate --strict plan.md
      plandoc validate --format json inputs/ > report.json
    """
    results = [_check(path, layout) for path in _plan_files(paths)]
    failed = [r for r in results if r.failed(strict)]
    if report_format == "json":
        click.echo(json.dumps(_json_report(results, strict), indent=2, sort_keys=True))
    else:
        for result in results:
            _print_problems(result.problems, err=False)
        click.echo(_summary(results, strict), err=True)
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-f",
    "--formats",
    callback=_formats,
    metavar="LIST",
    help="Comma-separated formats: md, html, docx (default: all).",
)
@click.option(
    "-l", "--layout", help="Layout to render with (default: each plan's own, else standard)."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the documents.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (no output for such plans).")
def render(
    paths: tuple[Path, ...],
    formats: tuple[str, ...],
    layout: str | None,
    output: Path,
    strict: bool,
) -> None:
    """Render plan files (or every plan in folders) into documents.

    \b
    Documents are named <plan id>-v<version>.<layout>.<ext>, never after
    the client. A plan with errors writes nothing; the others still render.

    \b
    Examples:
      plandoc render inputs/adult-ptsd.json
      plandoc render inputs/ -f html -o /tmp/plans
      plandoc render plan.md -l standard -f docx
    """
    sys.exit(_render_all(_plan_files(paths), formats, layout, output, strict))


@main.command()
@click.argument(
    "input_dir", required=False, type=click.Path(path_type=Path), default=Path("inputs")
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("output"),
    show_default=True,
    help="Folder for the documents.",
)
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def build(input_dir: Path, output: Path, strict: bool) -> None:
    """Build every plan under INPUT_DIR (default: inputs/) in all formats.

    \b
    A bad plan is reported and the others still build; exit status 1
    if any plan failed.

    \b
    Examples:
      plandoc build
      plandoc build clinic/plans -o clinic/documents
    """
    if not input_dir.is_dir():
        raise PlandocError(f"{input_dir}: no such folder")
    sys.exit(_render_all(_plan_files((input_dir,)), FORMAT_CHOICES, None, output, strict))


# --- shared by the commands --------------------------------------------------


def _plan_files(paths: Iterable[Path]) -> list[Path]:
    return list(find_plan_files(paths))


def _render_all(
    files: list[Path], formats: tuple[str, ...], layout: str | None, output: Path, strict: bool
) -> int:
    results: list[CheckedPlan] = []
    written = 0
    for path in files:
        result = _check(path, layout)
        results.append(result)
        _print_problems(result.problems, err=True)
        if result.failed(strict) or result.plan is None or result.layout is None:
            continue
        chosen = tuple(f for f in formats if f in result.layout.formats) if not layout else formats
        try:
            documents = render_documents(result.plan, result.layout, chosen)
        except PlandocError:
            raise
        except Exception as error:  # a bug of ours: say so without a traceback or plan values
            result.problems.append(_internal_error(path, "rendering", error))
            _print_problems(result.problems[-1:], err=True)
            continue
        for target in write_documents(result.plan, result.layout, documents, output):
            click.echo(f"wrote {target}")
            written += 1
    click.echo(_summary(results, strict) + f"; {written} documents written to {output}", err=True)
    return 1 if any(r.failed(strict) for r in results) else 0


def _check(path: Path, layout: str | None) -> CheckedPlan:
    try:
        return check_file(path, layout)
    except PlandocError:
        raise
    except Exception as error:  # a bug of ours: say so without a traceback or plan values
        checked = CheckedPlan(PlanSource(path, None), None)
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
        click.echo(str(problem), err=err)


def _summary(results: list[CheckedPlan], strict: bool) -> str:
    failed = sum(r.failed(strict) for r in results)
    errors = sum(p.severity is Severity.ERROR for r in results for p in r.problems)
    warnings = sum(p.severity is Severity.WARNING for r in results for p in r.problems)
    plans = "plan" if len(results) == 1 else "plans"
    return (
        f"{len(results)} {plans} checked: {len(results) - failed} ok, {failed} failed "
        f"({errors} errors, {warnings} warnings)"
    )


def _json_report(results: list[CheckedPlan], strict: bool) -> dict[str, object]:
    return {
        "plandoc": __version__,
        "strict": strict,
        "plans": [
            {
                "file": r.name,
                "plan_id": r.plan.plan.id if r.plan else None,
                "version": r.plan.plan.version if r.plan else None,
                "valid": not r.failed(strict),
                "problems": [p.as_dict() for p in r.problems],
            }
            for r in results
        ],
    }
