"""`plandoc new`, `plandoc schema` and `plandoc diff`: writing plans, and what changed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.display import DISPLAY, note, print_problems, result
from plandoc.cli.options import (
    as_of_option,
    config_option,
    folder_options,
    settings_for,
    values_option,
)

ONE_FILE = click.Path(dir_okay=False, allow_dash=True, path_type=Path)


def _wrote(target: Path, what: str = "") -> None:
    """Say what was written: on stdout, or on stderr when the file itself went to stdout."""
    line = f"wrote {'(stdout)' if str(target) == '-' else target}{what}"
    (note if str(target) == "-" else result)(line)


def _to_fill(left: int, target: Path) -> str:
    then = "" if str(target) == "-" else f", then `plandoc validate {target}`"
    return f": {left} placeholders to fill{then}"


def _refuse_overwrite(target: Path, force: bool) -> None:
    from plandoc.builds.output_files import refuse_unless_file
    from plandoc.errors import OutputError
    from plandoc.problems import file_name

    if str(target) == "-":
        return
    refuse_unless_file(target)  # a link is refused, with --force too
    if target.exists() and not force:
        raise OutputError(f"{file_name(target)} exists; use --force to overwrite it")


@main.command()
@click.option("-o", "--output", type=ONE_FILE, help="Write the schema to FILE (`-`: stdout).")
@config_option
def schema(output: Path | None, config: Path | None) -> None:
    """The JSON Schema of the plan format, for editors (generated from plandoc's model).

    \b
    Point your editor at it to see mistakes while you type; the docs show
    the VS Code settings (JSON plans, and the YAML front-matter of
    Markdown plans). Printed to stdout without -o.

    \b
    Examples:
      plandoc schema -o plan.schema.json
    """
    from plandoc.builds.output_files import write_output
    from plandoc.interop.json_schema import schema_text

    text = schema_text()
    if output is None:
        click.echo(text, nl=False)
        return
    write_output(output, text.encode("utf-8"), settings_for(config).file_mode)
    if str(output) != "-":
        note(f"wrote {output}")


@main.command()
@click.argument("plan_id", required=False)
@click.option(
    "--format", "file_format", type=click.Choice(["md", "json"]),
    help="Markdown with YAML front-matter (default for a new plan) or JSON.",
)  # fmt: skip
@click.option("-l", "--layout", "layout_name", help="The layout the plan is written for.")
@folder_options
@config_option
@click.option("-o", "--output", type=ONE_FILE, help="The plan file (`-`: stdout).")
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
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
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
    from plandoc.builds.output_files import write_output
    from plandoc.checks.file import check_path
    from plandoc.checks.plan_checks import plan_id_problem, plan_id_text
    from plandoc.errors import PlandocError, UsageError
    from plandoc.layouts import DEFAULT_LAYOUT, find_layout
    from plandoc.planfile import new as new_plan
    from plandoc.planfile.placeholders import placeholders
    from plandoc.problems import file_name, plan_value

    layouts = (layout_name,) if layout_name else ()
    settings = settings_for(
        config, layouts, layout_folders=layout_folders, old_layout_folders=old_layout_folders
    )
    if previous is not None:
        # The version made here replaces it: an overdue review does not stop it.
        checked = check_path(previous, settings, layouts or None, as_of, newer_version=True)
        if checked.plan is None or checked.failed():
            print_problems(checked.all_problems)
            raise PlandocError(
                f"{file_name(previous)}: fix the plan's errors (above) before its next version"
            )
        if plan_id is not None and plan_id != checked.plan.plan.id:
            raise UsageError(
                f"{file_name(previous)} is plan {plan_id_text(checked.plan.plan.id)}, "
                f"not {plan_value(plan_id)}"
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
            raise UsageError(f"plan id {plan_value(plan_id, quote=True)}: {problem}")
        chosen = layout_name or (settings.layouts[:1] or (DEFAULT_LAYOUT,))[0]
        layout = find_layout(chosen, settings.layout_folders)
        data = new_plan.skeleton(plan_id, layout, as_of)
        file_format = file_format or "md"
        target = output or settings.input / f"{plan_id}.{file_format}"
    _refuse_overwrite(target, force)
    text = new_plan.as_markdown(data) if file_format == "md" else new_plan.as_json(data)
    write_output(target, text.encode("utf-8"), settings.file_mode)
    left = sum(1 for _ in placeholders(data))
    _wrote(target, _to_fill(left, target))


@main.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "report_format",
    type=click.Choice(["html", "json", "md", "text"]),
    default="text",
    show_default=True,
    help="How to print the changes.",
)
@config_option
@values_option
def diff_command(old: Path, new: Path, report_format: str, config: Path | None) -> None:
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
    from plandoc.checks.file import check_path
    from plandoc.checks.plan_checks import plan_id_text
    from plandoc.errors import PlandocError
    from plandoc.problems import file_name
    from plandoc.reports import diff

    settings = settings_for(config)
    plans = []
    for path in (old, new):
        checked = check_path(path, settings)
        if checked.plan is None:
            print_problems(checked.problems)
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
