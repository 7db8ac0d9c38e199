"""`plandoc verify`: is a document exactly what its plan and layout make?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.display import DISPLAY, result
from plandoc.cli.options import config_option, folder_options, settings_for


@main.command()
@click.argument("document", type=click.Path(path_type=Path))
@click.option(
    "--plan",
    "plan_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The plan file to verify against (default: the one in the settings' input folder "
    "holding the document's plan id and version).",
)
@folder_options
@config_option
def verify(
    document: Path,
    plan_path: Path | None,
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
) -> None:
    """Check that a document is exactly what its plan and layout make.

    \b
    The document's fingerprint names its plan (id and version), layout and
    plandoc version, with the hashes of the plan's content and the layout's
    files; the plan (found in the settings' input folder, or --plan) is
    rendered again and compared. A signed PDF's signature is checked too.
    Prints one of:
      identical   exit 0: the same bytes (a signed PDF: as signed, intact)
      altered     exit 1: made from this plan and layout, then changed (where)
      different   exit 1: made from another version or content of the plan,
                  another layout or another plandoc version (which)
    Not a plandoc document, no plan found, a file that cannot be read:
    one line, exit 2.

    \b
    Examples:
      plandoc verify output/TP-2026-0042-v2.standard.pdf
      plandoc verify received.docx --plan inputs/tp-0042.md
    """
    from plandoc.documents.verify import verify as verify_document
    from plandoc.errors import PlandocError

    settings = settings_for(
        config, (), layout_folders=layout_folders, old_layout_folders=old_layout_folders
    )
    try:
        verdict = verify_document(document, settings, plan_path)
    except PlandocError as error:  # nothing to verify against: no verdict
        DISPLAY.echo(f"plandoc: error: {error.message}", err=True)
        sys.exit(2)
    result(verdict.summary)
    for line in verdict.details:
        result(f"  {line}")
    sys.exit(verdict.exit_code)
