"""`plandoc export-fhir` and `plandoc import-fhir`: plans as HL7 FHIR R4, and back."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from plandoc.cli.app import main
from plandoc.cli.authoring import ONE_FILE, _refuse_overwrite, _to_fill, _wrote
from plandoc.cli.display import print_problems, result
from plandoc.cli.options import as_of_option, config_option, values_option


@main.command("export-fhir")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the bundles (default: the settings' output, else output/).",
)
@as_of_option
@config_option
@values_option
def export_fhir(
    paths: tuple[Path, ...], output: Path | None, as_of: dt.date, config: Path | None
) -> None:
    """Export plans as HL7 FHIR R4 Bundles (<plan id>-v<version>.fhir.json).

    \b
    Each bundle holds the Patient, Practitioner, Coverage, the practice's
    Organization, a Condition per diagnosis, a Goal per goal and per
    objective, an Observation per score, a ClinicalImpression (medical
    necessity), one CarePlan and a Provenance per signature; references
    resolve inside the bundle and ids are the same for the same plan. A
    plan with errors is reported and not exported.

    \b
    Examples:
      plandoc export-fhir inputs/adult-ptsd.json -o fhir/
      plandoc export-fhir inputs/
    """
    import json

    from plandoc.builds.output_files import write_output
    from plandoc.checks.file import check_paths
    from plandoc.interop import fhir
    from plandoc.model.instruments import load_registry
    from plandoc.planfile.find import find_plan_files
    from plandoc.settings import load_settings

    settings = load_settings(config, output=output)
    registry = load_registry(settings.instruments)
    failed = False
    for checked in check_paths(find_plan_files(paths), settings, (), as_of):
        print_problems(checked.all_problems)
        if checked.plan is None or checked.failed():
            failed = True
            continue
        bundle = fhir.export_bundle(checked.plan, registry)
        name = f"{checked.plan.plan.id}-v{checked.plan.plan.version}.fhir.json"
        target = settings.output / name
        text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
        write_output(target, text.encode("utf-8"), settings.file_mode)
        result(f"wrote {target}")
    sys.exit(1 if failed else 0)


@main.command("import-fhir")
@click.argument("bundle", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=ONE_FILE, help="The plan file (`-`: stdout).")
@click.option(
    "--format", "file_format", type=click.Choice(["md", "json"]), default="md", show_default=True,
    help="Write the plan as Markdown with front-matter, or JSON.",
)  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@click.option(
    "--careplan", "care_plan", metavar="ID",
    help="The id of the CarePlan to read, in a Bundle that holds several.",
)  # fmt: skip
@config_option
@values_option
def import_fhir(
    bundle: Path,
    output: Path | None,
    file_format: str,
    force: bool,
    care_plan: str | None,
    config: Path | None,
) -> None:
    """Turn a FHIR R4 CarePlan into a plan: a Bundle holding it (collection,
    searchset, transaction), or the CarePlan with its resources contained.

    \b
    What FHIR does not carry (the treatment contract, the time estimate,
    the narrative history...) is left as "FILL IN: ..." placeholders that
    `plandoc validate` names; every element plandoc does not map is listed
    by its path, with the reason, and every value it infers is listed.

    \b
    Examples:
      plandoc import-fhir careplan-bundle.json -o inputs/tp-7.md
      plandoc import-fhir search-result.json --careplan cp-2 -o inputs/tp-8.md
    """
    from plandoc.builds.output_files import write_output
    from plandoc.checks.plan_checks import plan_id_problem
    from plandoc.errors import PlandocError, UsageError
    from plandoc.interop import fhir
    from plandoc.model.instruments import load_registry
    from plandoc.planfile import new as new_plan
    from plandoc.planfile.placeholders import placeholders
    from plandoc.problems import Problem, file_name, internal_error, plan_value
    from plandoc.settings import load_settings

    settings = load_settings(config)
    registry = load_registry(settings.instruments)
    try:
        plan, unmapped = fhir.import_file(bundle, registry, care_plan)
        text = new_plan.as_markdown(plan) if file_format == "md" else new_plan.as_json(plan)
        content = text.encode("utf-8")
    except fhir.FhirError as error:  # every problem of the file, one line each
        print_problems(Problem(str(bundle), error.line, (), p) for p in error.problems)
        sys.exit(2 if error.usage else 1)
    except PlandocError:  # a plan no file can carry (larger than a plan file may be...)
        raise
    except Exception as error:  # a bug of ours: one line, without a traceback or values
        print_problems([internal_error(str(bundle), "importing", error)])
        sys.exit(1)
    plan_id = str(plan["plan"]["id"])
    if output is None:
        problem = plan_id_problem(plan_id)
        if problem:
            raise UsageError(
                f"{file_name(bundle)}: plan id {plan_value(plan_id, quote=True)} {problem}; "
                "give -o FILE"
            )
        output = settings.input / f"{plan_id}.{file_format}"
    _refuse_overwrite(output, force)
    write_output(output, content, settings.file_mode)
    print_problems(Problem(str(bundle), None, (), f"import: {line}") for line in unmapped)
    left = sum(1 for _ in placeholders(plan))
    _wrote(output, _to_fill(left, output))
