"""`plandoc layouts`: every layout found, and one layout's formats and rules."""

from __future__ import annotations

from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.options import config_option, folder_options, settings_for


@main.group(invoke_without_command=True)
@folder_options
@config_option
@click.pass_context
def layouts(
    ctx: click.Context,
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
) -> None:
    """List every layout found, and where it came from.

    \b
    Layouts are looked for in plandoc's own, ./templates/, then each folder
    of the settings' layout_folders, $PLANDOC_LAYOUTS and --layout-folder;
    a later one overrides an earlier one of the same name.

    \b
    Examples:
      plandoc layouts
      plandoc layouts show medicare
    """
    from plandoc.errors import PlandocError
    from plandoc.layouts import available_layouts, find_layout
    from plandoc.problems import shown

    settings = settings_for(
        config, layout_folders=layout_folders, old_layout_folders=old_layout_folders
    )
    ctx.obj = settings.layout_folders
    if ctx.invoked_subcommand is not None:
        return
    folders = settings.layout_folders
    for name, (folder, origin) in sorted(available_layouts(folders).items()):
        try:
            title = find_layout(name, folders).title
        except PlandocError as error:  # about the layout's own files: no plan is read here
            title = f"(cannot be used: {shown(error.message, values=True)})"
        click.echo(f"{name:14} {title:44} {origin}: {folder}")


@layouts.command("show")
@click.argument("name")
@click.pass_obj
def layouts_show(layout_folders: tuple[Path, ...], name: str) -> None:
    """Show a layout: formats, page, review interval and its rules with their sources."""
    from plandoc.cli.options import require_layouts
    from plandoc.layouts import find_layout

    require_layouts((name,), layout_folders, hint="'NAME'")
    layout = find_layout(name, layout_folders)
    interval = layout.review_interval_days
    lines = [
        f"{layout.name}: {layout.title}",
        f"  {layout.description}" if layout.description else None,
        f"  from:            {layout.origin}: {layout.folder}",
        f"  extends:         {layout.parent.name}" if layout.parent else None,
        f"  formats:         {', '.join(layout.formats)}",
        f"  page size:       {layout.page_size}",
        f"  languages:       {', '.join(layout.languages) or 'en (not translated)'}",
        f"  large print:     {'yes' if layout.large_print else 'no (--large-print)'}",
        f"  review interval: {f'{interval} days' if interval else 'none (plans give review_by)'}",
        f"  header:          {', '.join(layout.header)}",
        f"  rules:           {len(layout.rules) or 'none'}",
    ]
    for rule in layout.rules:
        lines.append(f"  - [{rule.severity.value}] {rule.id}: {rule.message}")
        lines.append(f"      checks: {rule.kind}")
        source = rule.source
        lines.append(f"      source:  {source.document}")
        lines += [f"      {label:8} {value}" for label, value in (
            ("section:", source.section), ("address:", source.url), ("says:", source.says)
        ) if value]  # fmt: skip
    click.echo("\n".join(line for line in lines if line is not None))
