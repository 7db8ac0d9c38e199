"""plandoc diff: what changed between two versions of one plan; and the revision history."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.documents import render_documents
from plandoc.problems import shown
from plandoc.reports import diff

from .conftest import SAMPLES

FIXTURES = Path(__file__).parent / "fixtures"


def changes(write_plan, old, new) -> set[tuple[str, str, str, str]]:
    before = check_file(write_plan(old, "old.json")).plan
    after = check_file(write_plan(new, "new.json")).plan
    assert before is not None and after is not None
    return {(c.section, c.kind, c.subject, c.detail) for c in diff.compare(before, after)}


def _edit(plan_data, change):
    new = copy.deepcopy(plan_data)
    change(new)
    return new


def _add_goal(plan):
    goal = copy.deepcopy(plan["goals"][1])
    goal["id"] = "G3"
    goal["statement"] = "Sleep six hours a night."
    goal["objectives"][0]["id"], goal["objectives"][1]["id"] = "G3.1", "G3.2"
    plan["goals"].append(goal)


def _add_method(plan):
    plan["methods"].append(
        {"id": "M9", "name": "Sleep hygiene", "description": "Routine.", "responsible": "client",
         "frequency": "daily", "session_minutes": 10}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("goal added", _add_goal, ("goals", "added", "goal G3", "Sleep six hours a night.")),
        ("goal removed", lambda p: p["goals"].pop(1),
         ("goals", "removed", "goal G2", "Resume highway driving for commuting.")),
        ("goal reworded", lambda p: p["goals"][0].update(statement="Feel safe again."),
         ("goals", "reworded", "goal G1",
          '"Reduce post-traumatic stress symptoms to below the clinical threshold." → '
          '"Feel safe again."')),
        ("goal status", lambda p: p["goals"][0].update(status="met"),
         ("goals", "status", "goal G1", "in-progress → met")),
        ("goal target date", lambda p: p["goals"][0].update(target_date="2027-03-01"),
         ("goals", "moved", "goal G1 target date", "2027-01-27 → 2027-03-01")),
        ("measure", lambda p: p["goals"][0]["measure"].update(target=25),
         ("goals", "changed", "goal G1 measure", "PCL-5 52 → 30, now PCL-5 52 → 25")),
        ("objective added", _add_goal, ("objectives", "added", "objective G3.1",
                                        "Dana will complete a graded driving hierarchy with her clinician.")),
        ("objective removed", lambda p: p["goals"][0]["objectives"].pop(1),
         ("objectives", "removed", "objective G1.2",
          "Dana will identify and challenge at least three stuck points a week using worksheets.")),
        ("objective status", lambda p: p["goals"][0]["objectives"][1].update(status="met"),
         ("objectives", "status", "objective G1.2", "in-progress → met")),
        ("objective methods", lambda p: p["goals"][0]["objectives"][1].update(methods=["M1", "M2"]),
         ("objectives", "changed", "objective G1.2 methods", 'M1 → "M1, M2"')),
        ("new score", lambda p: p["goals"][0]["progress"].append({"date": "2026-11-20", "score": 31}),
         ("scores", "new score", "goal G1", "31 on 2026-11-20")),
        ("score corrected", lambda p: p["goals"][0]["progress"][1].update(score=46),
         ("scores", "score corrected", "goal G1", "2026-08-31: 47 → 46")),
        ("score removed", lambda p: p["goals"][0]["progress"].pop(1),
         ("scores", "score removed", "goal G1", "47 on 2026-08-31")),
        ("method added", _add_method, ("methods", "added", "method M9", "Sleep hygiene")),
        ("method removed", lambda p: (p["methods"].pop(1), [o.update(methods=["M1"]) for g in p["goals"] for o in g["objectives"]]),
         ("methods", "removed", "method M2", "Graded in-vivo exposure")),
        ("method changed", lambda p: p["methods"][0].update(frequency="twice weekly"),
         ("methods", "changed", "method M1 frequency", 'weekly → "twice weekly"')),
        ("diagnosis added", lambda p: p["diagnoses"].append(
            {"code": "F51.01", "description": "Primary insomnia", "primary": False}),
         ("diagnoses", "added", "diagnosis F51.01", "Primary insomnia")),
        ("diagnosis removed", lambda p: p["diagnoses"].pop(1),
         ("diagnoses", "removed", "diagnosis G47.00", "Insomnia, unspecified")),
        ("plan status", lambda p: p["plan"].update(status="completed"),
         ("plan", "changed", "status", "active → completed")),
        ("date moved", lambda p: p["plan"].update(review_by="2027-02-15"),
         ("plan", "moved", "review by", "2027-01-27 → 2027-02-15")),
        ("time estimate", lambda p: p["time_estimate"].update(sessions=20),
         ("plan", "changed", "time estimate sessions", "16 → 20")),
        ("risk", lambda p: p["assessment"]["risk"].update(level="moderate"),
         ("plan", "changed", "risk level", "low → moderate")),
        ("preference added", lambda p: p["assessment"]["preferences"].append("Mornings"),
         ("care", "added", "preferences", "Mornings")),
        ("safety plan added", lambda p: p.update(safety_plan={
            "warning_signs": ["Pacing"], "coping_strategies": ["Walk"], "reviewed": "2026-10-29",
            "supports": [{"name": "Chris", "relationship": "brother", "phone": "555-0187"}]}),
         ("care", "added", "safety plan", "gone over 2026-10-29")),
        ("level of care", lambda p: p["medical_necessity"].update(level_of_care="intensive-outpatient"),
         ("care", "changed", "medical necessity level of care", "outpatient → intensive-outpatient")),
        ("impairment", lambda p: p["medical_necessity"]["functional_impairments"].pop(0),
         ("care", "removed", "functional impairment", None)),
        ("practice", lambda p: p["practice"].update(name="Northgate"),
         ("care", "changed", "practice", '"Riverside Counseling Group" → Northgate')),
        ("service units", lambda p: p["services"][1].update(units=20),
         ("services", "changed", "service 90837 units", "16 → 20")),
        ("service place", lambda p: p["services"][1].update(place_of_service="10"),
         ("services", "changed", "service 90837 place of service", "11 → 10")),
        ("authorization used", lambda p: p["client"]["coverage"]["authorization"].update(used=10),
         ("services", "changed", "authorization used", "6 → 10")),
        ("revision", lambda p: p.update(revisions=[
            {"version": 2, "date": "2026-10-29", "summary": "Twelve-week review."}]),
         ("revisions", "added", "revision 2", "2026-10-29: Twelve-week review.")),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)  # fmt: skip
def test_each_kind_of_change_is_named(write_plan, plan_data, name, change, expected):
    found = changes(write_plan, plan_data, _edit(plan_data, change))
    if expected[3] is None:  # the detail is the plan's own text: any
        found = {f[:3] for f in found}
        expected = expected[:3]
    assert expected in found, sorted(found)


def test_a_diagnosis_made_primary_and_a_reordered_list_are_told_apart(write_plan, plan_data):
    def swap(plan):
        first, second = plan["diagnoses"]
        first["primary"], second["primary"] = False, True
        plan["diagnoses"] = [second, first]

    found = changes(write_plan, plan_data, _edit(plan_data, swap))
    assert ("diagnoses", "changed", "diagnosis G47.00", "now primary") in found
    assert ("diagnoses", "changed", "diagnosis F43.10", "no longer primary") in found
    reordered = _edit(plan_data, lambda p: p["goals"].reverse())
    assert changes(write_plan, plan_data, reordered) == set()


def test_the_sample_versions_diff_in_every_format():
    old, new = str(FIXTURES / "adult-ptsd-v1.json"), str(SAMPLES / "adult-ptsd.json")
    runner = CliRunner()
    text = runner.invoke(main, ["diff", old, new])
    assert text.exit_code == 0, text.output
    assert text.output.startswith("Plan TP-2026-0042: version 1 → version 2\n")
    assert "  objective G1.1: status: in-progress → met" in text.output
    assert "  goal G1: new score: 41 on 2026-09-28" in text.output
    markdown = runner.invoke(main, ["diff", old, new, "--format", "md"]).output
    assert "## Objectives" in markdown and "- objective G1.1: status: in-progress → met" in markdown
    html = runner.invoke(main, ["diff", old, new, "--format", "html"]).output
    assert html.startswith("<!DOCTYPE html>") and "<h2>Scores</h2>" in html
    data = json.loads(runner.invoke(main, ["diff", old, new, "--format", "json"]).output)
    assert (data["plan_id"], data["from_version"], data["to_version"]) == ("TP-2026-0042", 1, 2)
    assert {"section": "goals", "kind": "status", "subject": "goal G1",
            "detail": "not-started → in-progress"} in data["changes"]  # fmt: skip
    same = runner.invoke(main, ["diff", new, new])
    assert same.exit_code == 0 and "no changes" in same.output


def test_diff_of_two_different_plans_refuses(write_plan, plan_data):
    other = _edit(plan_data, lambda p: p["plan"].update(id="TP-OTHER"))
    result = CliRunner().invoke(
        main, ["diff", str(write_plan(plan_data, "a.json")), str(write_plan(other, "b.json"))]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is plan TP-2026-0042 and" in result.output
    assert "diff compares two versions of one plan" in result.output


def test_diff_of_an_unreadable_plan_shows_its_problems(write_plan, plan_data):
    broken = write_plan("{", "broken.json")
    result = CliRunner().invoke(main, ["diff", str(broken), str(write_plan(plan_data))])
    assert result.exit_code == 1 and "broken.json:1: not valid JSON" in result.output
    assert "cannot compare a plan that cannot be read" in result.output


def test_plan_text_in_a_diff_is_escaped_in_html_and_markdown(write_plan, plan_data):
    new = _edit(plan_data, lambda p: p["goals"][0].update(statement="<script>x</script> # | *"))
    before = check_file(write_plan(plan_data, "a.json")).plan
    after = check_file(write_plan(new, "b.json")).plan
    found = diff.compare(before, after)
    assert "<script>" not in diff.as_html(before, after, found)
    assert "\\<script\\>" in diff.as_markdown(before, after, found)


# --- the revision history -------------------------------------------------------


def test_revisions_show_as_a_history_and_are_checked(write_plan, plan_data):
    plan_data["revisions"] = [
        {"version": 1, "date": "2026-08-03", "summary": "First plan.", "author": "Morgan Reyes"},
        {"version": 2, "date": "2026-10-29", "summary": "Twelve-week review."},
    ]
    checked = check_file(write_plan(plan_data))
    assert not checked.problems, [str(p) for p in checked.problems]
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "## Revision History" in markdown
    assert "| 2 | 2026-10-29 | Twelve-week review. |  |" in markdown
    plan_data["revisions"].append({"version": 3, "date": "2026-11-01", "summary": "Later."})
    plan_data["revisions"].append({"version": 1, "date": "2026-08-03", "summary": "Again."})
    problems = {
        (p.field_name, shown(p.message, values=True))
        for p in check_file(write_plan(plan_data)).problems
    }
    assert ("revisions[2].version", "version 3 is later than the plan's (2)") in problems
    assert ("revisions[3].version", "version 1 is listed twice") in problems


def test_the_client_copy_lists_the_changes_in_plain_words():
    checked = check_file(SAMPLES / "couple-relationship.json", "client-copy")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "## Changes to your plan" in markdown
    assert "- Version 1, November 2, 2026: First plan, drafted with both partners" in markdown


def test_two_services_with_one_code_are_told_apart_by_their_place(write_plan, plan_data):
    office = plan_data["services"][1]
    plan_data["services"].append({**office, "place_of_service": "10", "units": 6})
    found = changes(
        write_plan, plan_data, _edit(plan_data, lambda p: p["services"][1].update(units=4))
    )
    assert ("services", "changed", "service 90837 (place 11) units", "16 → 4") in found
    assert not any("place 10" in f[2] for f in found)
    found = changes(write_plan, plan_data, _edit(plan_data, lambda p: p["services"].pop(1)))
    assert [f for f in found if f[0] == "services"] == [
        ("services", "removed", "service 90837 (place 11)", "Psychotherapy, 60 minutes")
    ]
