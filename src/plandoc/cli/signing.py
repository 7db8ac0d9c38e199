"""`plandoc sign`: add a signature to a plan file (the library: planfile/sign.py)."""

from __future__ import annotations

from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.display import print_problems, result
from plandoc.cli.options import config_option, folder_options, settings_for, values_option

ROLES = ("client", "guardian", "clinician", "supervisor", "other")  # model.plan's


@main.command()
@click.argument("plan", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--role", required=True, type=click.Choice(ROLES), help="Who signs.")
@click.option("--name", required=True, help="The signer's name, as it is printed.")
@click.option("--credentials", help="The signer's credentials (a clinician's: LCSW).")
@click.option(
    "--method", type=click.Choice(["electronic", "wet"]), default="electronic",
    show_default=True,
    help="electronic: signed here and now; wet: a signature on paper, recorded.",
)  # fmt: skip
@click.option(
    "--at", "at", metavar="DATETIME",
    help="When it was signed: 2026-10-29T14:05 (local offset added), "
    "2026-10-29T14:05-05:00, or a date alone (no time recorded). Default: now.",
)  # fmt: skip
@click.option("--replace", is_flag=True, help="Replace this role's earlier signature.")
@folder_options
@config_option
@values_option
def sign(
    plan: Path,
    role: str,
    name: str,
    credentials: str | None,
    method: str,
    at: str | None,
    replace: bool,
    layout_folders: tuple[Path, ...],
    old_layout_folders: tuple[Path, ...],
    config: Path | None,
) -> None:
    """Add a signature to a plan file, in place, with the hash of what was signed.

    \b
    The entry records the role, name, credentials, date, the moment with its
    UTC offset (signed_at), the method and content_sha256: the SHA-256 of the
    plan's signed content (see docs: Plan format, signatures). `validate`
    then reports the signature as stale if the plan changes. Every other byte
    of the file is kept (comments, spacing, the Markdown body). Refused, with
    nothing written: a plan that does not validate, a time in the future or
    before the plan was created, a role already signed (without --replace),
    a file changed on disk while signing.

    \b
    Examples:
      plandoc sign inputs/adult-ptsd.json --role client --name "Dana Okafor"
      plandoc sign plan.md --role clinician --name "Morgan Reyes" --credentials LCSW
      plandoc sign plan.md --role guardian --name "Alicia W." --method wet --at 2026-10-29
      plandoc sign plan.md --role client --name "Dana Okafor" --replace
    """
    import datetime as dt

    from plandoc.checks.file import check_path
    from plandoc.errors import PlanError
    from plandoc.planfile.sign import sign_file
    from plandoc.problems import file_name, plan_value

    settings = settings_for(
        config, layout_folders=layout_folders, old_layout_folders=old_layout_folders
    )
    try:
        signed = sign_file(
            plan,
            lambda path: check_path(path, settings, None, dt.date.today()),
            role=role,
            name=name,
            credentials=credentials,
            method=method,
            at=at,
            replace=replace,
        )
    except PlanError as error:
        print_problems(error.problems)
        raise
    entry = signed.entry
    when = entry.get("signed_at", entry["date"])
    verb = "replaced" if signed.replaced else "added"
    result(
        f"{file_name(signed.path)}: {verb} the {role} signature of {plan_value(name)} "
        f"({entry['method']}, {when}, content {entry['content_sha256'][:12]})"
    )
