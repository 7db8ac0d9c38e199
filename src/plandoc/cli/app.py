"""The `plandoc` command group: version, help, and how an error becomes an exit status.

Exit status: 0 success; 1 a plan failed its checks or could not be rendered,
a file or folder is missing, an output could not be written, a settings file
is wrong; 2 a usage error (an unknown option, format or layout); 130 stopped
with Ctrl-C.
"""

from __future__ import annotations

import os
from typing import Any

import click

from plandoc._version import __version__
from plandoc.cli.display import DISPLAY

DEBUG_VARIABLE = "PLANDOC_DEBUG"


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
@click.version_option(__version__, prog_name="plandoc")
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
