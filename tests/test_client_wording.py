"""The client-facing wording keys (plan-format-additions.md, "Client-facing wording"):
`presenting_problem.client_summary`, `methods[].client_description` and
`goals[].objectives[].client_statement`, read from JSON and from a Markdown plan's
front-matter, in the JSON Schema and the docs, with errors in the project's format."""

from __future__ import annotations

import json

from plandoc.checks.file import check_file
from plandoc.interop.json_schema import plan_schema
from plandoc.planfile.markdown_plan import SECTIONS

from .conftest import ROOT
from .test_reading import FRONT

SUMMARY = "You have felt low and tired for six months."
DESCRIPTION = "We talk about your thoughts and try new ways to handle them."
STATEMENT = "Write down one thing you enjoyed each day."


def test_json_plan_reads_the_client_facing_keys(write_plan, plan_data):
    plan_data["presenting_problem"]["client_summary"] = SUMMARY
    plan_data["methods"][0]["client_description"] = DESCRIPTION
    plan_data["goals"][1]["objectives"][0]["client_statement"] = STATEMENT
    checked = check_file(write_plan(plan_data))
    assert checked.plan is not None, [str(p) for p in checked.problems]
    plan = checked.plan
    assert plan.presenting_problem.client_summary == SUMMARY
    assert plan.methods[0].client_description == DESCRIPTION
    assert plan.goals[1].objectives[0].client_statement == STATEMENT
    # Optional: a plan without them stays valid, and reads them as absent.
    assert plan.methods[-1].client_description is None or len(plan.methods) == 1


def test_markdown_front_matter_carries_them_beside_a_presenting_problem_section(write_plan):
    text = (
        FRONT.replace(
            "presenting_problem: P.\n", f"presenting_problem: {{client_summary: {SUMMARY}}}\n"
        )
        .replace("description: D.,", f"description: D., client_description: {DESCRIPTION},")
        .replace("statement: Practise,", f"statement: Practise, client_statement: {STATEMENT},")
    )
    body = "\n## Presenting Problem\n\nThe clinical words.\n\n## Prior Treatment\n\nNone.\n"
    checked = check_file(write_plan(text + body, "plan.md"))
    assert checked.plan is not None, [str(p) for p in checked.problems]
    plan = checked.plan
    assert plan.presenting_problem.text == "The clinical words."
    assert plan.presenting_problem.client_summary == SUMMARY
    assert plan.methods[0].client_description == DESCRIPTION
    assert plan.goals[0].objectives[0].client_statement == STATEMENT


def test_the_client_summary_is_no_markdown_section():
    """Like `client_words`, it lives in the front-matter: the spec's section table is the contract."""
    assert ("presenting_problem", "client_summary") not in SECTIONS.values()


def test_bad_values_are_field_path_errors_with_their_line(write_plan, plan_data):
    plan_data["presenting_problem"]["client_summary"] = ""
    plan_data["methods"][0]["client_description"] = 7
    plan_data["goals"][1]["objectives"][0]["client_statement"] = ["a", "list"]
    path = write_plan(plan_data)
    lines = path.read_text().splitlines()

    def line_of(key):
        return next(i for i, line in enumerate(lines, 1) if f'"{key}"' in line)

    found = [str(p) for p in check_file(path).problems]
    for where, key, what in [
        ("presenting_problem.client_summary", "client_summary", "must not be empty"),
        ("methods[0].client_description", "client_description", "must be text"),
        ("goals[1].objectives[0].client_statement", "client_statement", "must be text"),
    ]:
        assert f"{path}:{line_of(key)}: {where}: {what}" in found, found


def test_json_schema_describes_them():
    schema = json.dumps(plan_schema())
    for key in ("client_summary", "client_description", "client_statement"):
        assert f'"{key}"' in schema


def test_the_format_docs_name_them():
    text = (ROOT / "docs" / "format.md").read_text("utf-8")
    for key in ("client_summary", "client_description", "client_statement"):
        assert f"`{key}`" in text


# Client-facing text that could move between fields on its way through a Markdown file.
CLIENT_FACING = {
    ("presenting_problem", "client_summary"): "You feel low.\n\n## History\n\nSee above.",
    ("methods", 0, "client_description"): "We talk # each week: ---",
    ("goals", 1, "objectives", 0, "client_statement"): "Write it down | every day *",
}


def test_client_facing_keys_round_trip_through_markdown_json_and_new_from(tmp_path, plan_data):
    from plandoc.model.plan import parse_plan
    from plandoc.planfile.new import as_json, as_markdown, same_data

    from .test_round_trip import _next_versions, _put, _read

    for path, text in CLIENT_FACING.items():
        _put(plan_data, path, text)
    model, findings = parse_plan(plan_data)
    assert model is not None and findings == []
    for written, suffix in ((as_markdown(plan_data), ".md"), (as_json(plan_data), ".json")):
        back = _read(tmp_path, written, suffix)
        assert same_data(back, plan_data), suffix
        assert parse_plan(back)[0] == model
    as_md, as_json_file = _next_versions(tmp_path, plan_data)
    for (*parent, key), text in CLIENT_FACING.items():
        part = as_md
        for name in parent:
            part = part[name]
        assert part[key] == text
    assert same_data(as_md, as_json_file)


def test_a_skeleton_holds_them_only_where_the_layout_requires_them():
    import dataclasses
    import datetime as dt

    from plandoc.checks.layout_rules import Rule, Source
    from plandoc.layouts import find_layout
    from plandoc.planfile.new import skeleton

    standard = find_layout("standard")
    plain = skeleton("P-1", standard, dt.date(2026, 8, 3))
    assert "client_summary" not in plain["presenting_problem"]
    assert "client_description" not in plain["methods"][0]
    paths = (
        "presenting_problem.client_summary",
        "methods[*].client_description",
        "goals[*].objectives[*].client_statement",
    )
    rule = Rule(id="plain", message="m", source=Source("s"), require=paths)
    asking = dataclasses.replace(standard, rules=(*standard.rules, rule))
    data = skeleton("P-1", asking, dt.date(2026, 8, 3))
    assert data["presenting_problem"]["client_summary"].startswith("FILL IN")
    assert data["methods"][0]["client_description"].startswith("FILL IN")
    assert data["goals"][0]["objectives"][0]["client_statement"].startswith("FILL IN")
