"""The `plandoc` command group: version, help, and how an error becomes an exit status.

Exit status: 0 success; 1 a plan failed its checks or could not be rendered,
a file or folder is missing, an output could not be written, a settings file
is wrong; 2 a usage error (an unknown option, format or layout); 130 stopped
with Ctrl-C. Output into a pipe whose reader has closed it (`| head -1`) ends the
command quietly with 1, as Click does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from plandoc._version import __version__
from plandoc.cli.display import DISPLAY

DEBUG_VARIABLE = "PLANDOC_DEBUG"
# The ICD-10-CM release the diagnosis checks use: the first line of the index's RELEASE
# file (see plandoc.model.icd10cm), read here as a file so --version loads no index.
ICD10CM_RELEASE_FILE = Path(__file__).resolve().parents[1] / "model/icd10cm/data/RELEASE"


def show_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`plandoc --version`: the version, and the code set releases the checks use."""
    if not value or ctx.resilient_parsing:
        return
    try:
        first = ICD10CM_RELEASE_FILE.read_text(encoding="utf-8").partition("\n")[0]
        release = first.partition(": ")[2].strip() or "unknown"
    except OSError:
        release = "missing (the package data was not installed)"
    click.echo(f"plandoc, version {__version__}\ndiagnosis codes: {release}")
    ctx.exit()


class PlandocGroup(click.Group):
    """A command group whose commands' `PlandocError`s become one line and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        from plandoc.errors import PlandocError, UsageError

        try:
            return super().invoke(ctx)
        except PlandocError as error:
            for number, line in enumerate(error.message.split("\n")):
                prefix = "plandoc: error: " if number == 0 else ""
                DISPLAY.echo(f"{prefix}{line}", err=True)
            DISPLAY.explain()
            ctx.exit(2 if isinstance(error, UsageError) else 1)
        except (click.exceptions.Exit, click.ClickException, KeyboardInterrupt, SystemExit):
            raise
        except BrokenPipeError:
            # The reader of the output is gone (`plandoc verify X | head -1`): Click's main
            # ends quietly with exit status 1, its later writes and flushes silenced.
            raise
        except Exception as error:  # a bug of plandoc's: one line, never a plan value
            if os.environ.get(DEBUG_VARIABLE):
                raise
            click.echo(
                f"plandoc: internal error ({type(error).__name__}); please report it "
                f"(set {DEBUG_VARIABLE}=1 to see where; the details may quote a plan)",
                err=True,
            )
            ctx.exit(1)


@click.group(cls=PlandocGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=show_version,
    help="Show the version and the ICD-10-CM release, and exit.",
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """plandoc: treatment plans kept as JSON or Markdown files, turned into
    insurance-ready Markdown, HTML, Word and PDF documents.

    \b
    Examples:
      plandoc new TP-2027-0001
      plandoc validate inputs/
      plandoc render inputs/adult-ptsd.json --to html,docx -o output/
      plandoc build -l standard -l client-copy
      plandoc status --within 14

    Settings come from ./plandoc.toml (or -c FILE), then $PLANDOC_LAYOUTS,
    then the flags. Shell completion: eval "$(_PLANDOC_COMPLETE=bash_source plandoc)".
    """
    DISPLAY.reset()
    ctx.call_on_close(DISPLAY.explain)
