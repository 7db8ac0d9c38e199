"""Options shared by the commands, and the one settings step every command takes.

One meaning per option name, everywhere:

- `-t/--to LIST`: the document formats to make (md, html, docx, pdf);
- `--format NAME`: the format of the one report or file the command writes
  (`validate`: text or json; `status`: table, csv or json; `new`: md or json);
- `-o/--output`: where the output goes: a folder for commands that write
  documents, a file for those that write one file (`-` is stdout there);
- `-l/--layout NAME` a layout to use; `--layout-folder DIR` a folder to find
  layouts in; `-c/--config FILE` the settings file (default ./plandoc.toml).

Old spellings (`-f/--formats`, `--layouts DIR`) still work for this release,
with a warning on stderr.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from plandoc.cli.display import DISPLAY

F = TypeVar("F", bound=Callable[..., Any])
DOCUMENT_FORMATS = ("md", "html", "docx", "pdf")  # the same as settings.DOCUMENT_FORMATS


def _deprecated(old: str, new: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def warn(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value not in (None, (), False):
            click.echo(
                f"plandoc: warning: {old} is deprecated and will be removed in plandoc 0.3; "
                f"use {new}",
                err=True,
            )
        return value

    return warn


def _formats(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    from plandoc.settings import unknown_name

    formats = tuple(dict.fromkeys(p.strip().lower() for p in value.split(",") if p.strip()))
    unknown = [f for f in formats if f not in DOCUMENT_FORMATS]
    if unknown or not formats:
        name = unknown[0] if unknown else ""
        raise click.BadParameter(unknown_name("format", name, DOCUMENT_FORMATS))
    return formats


def _old_formats(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    _deprecated("-f/--formats", "-t/--to")(ctx, param, value)
    return _formats(ctx, param, value)


def to_option(function: F) -> F:
    """-t/--to LIST, and the old -f/--formats (hidden, deprecated)."""
    function = click.option(
        "-f", "--formats", "old_formats", callback=_old_formats, metavar="LIST", hidden=True,
    )(function)  # fmt: skip
    return click.option(
        "-t",
        "--to",
        "formats",
        callback=_formats,
        metavar="LIST",
        help="Document formats, comma-separated: md, html, docx, pdf "
        "(default: the settings', else the layout's; pdf only when asked).",
    )(function)


def _set_values(ctx: click.Context, param: click.Parameter, values: bool | None) -> None:
    DISPLAY.reset(values)


values_option = click.option(
    "--values/--no-values",
    default=None,
    expose_value=False,
    callback=_set_values,
    is_eager=True,
    help="Show values from plans in messages, or hide them "
    "(default: shown on a terminal, hidden in a log, pipe or file).",
)


def _as_of(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("expected a date YYYY-MM-DD") from None
    if not dt.date(1900, 1, 1) <= day <= dt.date(2199, 12, 31):  # model.plan's FIRST/LAST_DATE
        raise click.BadParameter("a date from 1900-01-01 to 2199-12-31")
    return day


as_of_option = click.option(
    "--as-of",
    "as_of",
    callback=_as_of,
    metavar="DATE",
    help="The date taken as today, for rules and checks bounded by it (default: today).",
)

config_option = click.option(
    "-c",
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="The settings file (default: ./plandoc.toml when there is one).",
)


def folder_options(function: F) -> F:
    """--layout-folder DIR (repeatable), and the old --layouts DIR (hidden, deprecated)."""
    function = click.option(
        "--layouts", "old_layout_folders", multiple=True, metavar="DIR", hidden=True,
        type=click.Path(file_okay=False, path_type=Path),
        callback=_deprecated("--layouts DIR", "--layout-folder DIR"),
    )(function)  # fmt: skip
    return click.option(
        "--layout-folder",
        "layout_folders",
        multiple=True,
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        help="Also look for layouts in DIR (repeatable; also plandoc.toml's layout_folders "
        "and $PLANDOC_LAYOUTS).",
    )(function)


def layout_options(function: F) -> F:
    """-l/--layout NAME (repeatable), --layout-folder DIR, --as-of and -c/--config."""
    function = config_option(folder_options(as_of_option(function)))
    return click.option(
        "-l",
        "--layout",
        "layouts",
        multiple=True,
        metavar="NAME",
        help="Layout to use (repeatable; default: the settings', else each plan's own, "
        "else standard).",
    )(function)


page_size_option = click.option(
    "--page-size",
    type=click.Choice(["letter", "a4"], case_sensitive=False),
    help="Paper for HTML print, DOCX and PDF (default: the settings', else the layout's).",
)
large_print_option = click.option(
    "--large-print",
    is_flag=True,
    default=None,
    help="Large print: an 18-point body and wider spacing in HTML, PDF and DOCX "
    "(for a client copy; default: the settings', else the layout's).",
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


def settings_for(
    config: Path | None, layouts: tuple[str, ...] = (), check_layouts: bool = True, **flags: Any
) -> Any:
    """The command's settings: plandoc.toml (or -c FILE), $PLANDOC_LAYOUTS, then these flags.

    Deprecated spellings are folded in (`old_formats`, `old_layout_folders`).
    Each layout named on the command line must exist: one that does not is a
    usage error (exit status 2), with "did you mean".
    """
    from plandoc.settings import load_settings

    if (old := flags.pop("old_formats", None)) and not flags.get("formats"):
        flags["formats"] = old
    old_folders = flags.pop("old_layout_folders", ())
    flags["layout_folders"] = (*old_folders, *flags.get("layout_folders", ()))
    if flags.get("page_size"):
        flags["page_size"] = flags["page_size"].lower()
    settings = load_settings(config, layouts=layouts or None, **flags)
    if check_layouts and layouts:
        require_layouts(layouts, settings.layout_folders)
    return settings


def ready_to_sign(settings: Any) -> None:
    """With `[signing]` and PDFs asked for: the certificate loaded before any plan is
    rendered (its password asked once, on a terminal), or one line saying why it cannot
    sign (a wrong password, a certificate expired)."""
    if settings.signing is not None and "pdf" in (settings.formats or ()):
        from plandoc.documents.signing import load_certificate

        load_certificate(settings.signing)


def require_layouts(names: tuple[str, ...], folders: tuple[Path, ...], hint: str = "'-l'") -> None:
    from plandoc.errors import LayoutError
    from plandoc.layouts import find_layout
    from plandoc.problems import shown

    for name in names:
        try:
            find_layout(name, folders)
        except LayoutError as error:
            if "unknown layout" in error.message or "layout name" in error.message:
                message = shown(error.message, values=True)  # the user's own words
                raise click.BadParameter(message, param_hint=hint) from None
            raise
