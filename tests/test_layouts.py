"""Layouts: built-ins render everything, payer rules, the client copy, custom layouts, bad manifests."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.documents import render_documents
from plandoc.errors import PlandocError
from plandoc.layouts import available_layouts, find_layout
from plandoc.problems import Severity

from .conftest import SAMPLES

BUILT_IN = ("standard", "client-copy", "medicare", "medicaid", "managed-care")
SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
AS_OF = dt.date(2026, 11, 26)


def test_every_built_in_layout_is_found():
    assert set(BUILT_IN) <= set(available_layouts())


@pytest.mark.parametrize("layout", BUILT_IN)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_layout_renders_every_sample_in_every_format(layout, sample):
    checked = check_file(sample, layout, today=AS_OF)
    assert checked.plan is not None and not checked.layout_failed(checked.layout), [
        str(p) for p in checked.all_problems
    ]
    documents = render_documents(checked.plan, checked.layout, checked.layout.formats)
    charts = {name for name in documents if name.endswith(".png")}
    assert set(documents) - charts == {"md", "html", "docx"}
    assert all(documents[name].startswith(b"\x89PNG\r\n") for name in charts)
    docx.Document(io.BytesIO(documents["docx"]))  # opens
    assert documents == render_documents(checked.plan, checked.layout, checked.layout.formats)


# --- payer rules: one plan that breaks each, and the example that passes all ---


def _drop(*path):
    def change(plan):
        target = plan
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


def _set(value, *path):
    def change(plan):
        target = plan
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _signatures_without(*roles):
    return lambda plan: plan.update(
        signatures=[s for s in plan["signatures"] if s["role"] not in roles]
    )


def _both(*changes):
    def change(plan):
        for one in changes:
            one(plan)

    return change


_OVERDUE = _set("2026-11-25", "plan", "review_by")  # the day before AS_OF
_MODERATE_RISK_NO_SAFETY_PLAN = _both(
    _set({"level": "moderate", "summary": "Passive ideation, no plan."}, "assessment", "risk"),
    lambda plan: plan.pop("safety_plan", None),
)
_EVERY_LAYOUT = ("standard", "client-copy", "medicare", "medicaid", "managed-care")
_PAYERS = ("medicare", "medicaid", "managed-care")


def _authorization(**values):
    return lambda plan: plan["client"]["coverage"]["authorization"].update(values)


# billing (issue 16): one change breaking each billing check
_TIME = _set(45, "services", 1, "minutes")  # 90837 (53 minutes or more) at 45 minutes
_EVALUATION_REPEATED = _set(3, "services", 0, "units")  # 90791 three times
_Z_CODE_FIRST = _set("Z63.0", "diagnoses", 0, "code")
_SESSIONS_LEFT = _authorization(sessions=20, used=10)  # 10 left; 16 planned
_OUTSIDE_PERIOD = _authorization(end="2026-12-31")  # the plan runs to 2027-01-27
_OVERUSED = _authorization(sessions=10, used=12)
_TELEHEALTH_NO_MODIFIER = _set("10", "services", 1, "place_of_service")
_TELEHEALTH_95 = _both(_TELEHEALTH_NO_MODIFIER, _set(["95"], "services", 1, "modifiers"))

RULES = [
    *((layout, "review-overdue", _OVERDUE, "plan.review_by", "review") for layout in _EVERY_LAYOUT),
    *(
        (layout, "safety-plan", _MODERATE_RISK_NO_SAFETY_PLAN, "safety_plan", "safety plan")
        for layout in _EVERY_LAYOUT
    ),
    *(
        (layout, "service-time", _TIME, "services[1].minutes", "bill 90834")
        for layout in _EVERY_LAYOUT
    ),
    *(
        (layout, "once-per-episode", _EVALUATION_REPEATED, "services[0].units", "billed once")
        for layout in _EVERY_LAYOUT
    ),
    *(
        (layout, "first-listed-diagnosis", _Z_CODE_FIRST, "diagnoses[0].code", "is a Z code")
        for layout in _EVERY_LAYOUT
    ),
    *(
        (
            layout,
            "authorization-sessions",
            _SESSIONS_LEFT,
            "time_estimate.sessions",
            "sessions and the authorization has",
        )
        for layout in _EVERY_LAYOUT
    ),
    *(
        (
            layout,
            "authorization-period",
            _OUTSIDE_PERIOD,
            "client.coverage.authorization.end",
            "after the authorization ends",
        )
        for layout in _EVERY_LAYOUT
    ),
    *(
        (layout, "authorization-used", _OVERUSED, "client.coverage.authorization.used", "used of")
        for layout in _EVERY_LAYOUT
    ),
    (
        "managed-care",
        "telehealth-modifier",
        _TELEHEALTH_NO_MODIFIER,
        "services[1].modifiers",
        "no telehealth modifier",
    ),
    ("medicare", "telehealth-no-95", _TELEHEALTH_95, "services[1].modifiers[0]", "modifier 95"),
    ("medicare", "services-amount-frequency", _drop("services"), "services", "list the services"),
    (
        "medicare",
        "provider-signature",
        _signatures_without("clinician"),
        "signatures",
        "treating clinician must sign",
    ),
    (
        "medicare",
        "progress-summary",
        _drop("progress_notes"),
        "progress_notes",
        "periodic progress summary",
    ),
    (
        "medicaid",
        "client-participation",
        _drop("contract", "client_agreement"),
        "contract.client_agreement",
        "participation",
    ),
    (
        "medicaid",
        "responsibilities",
        _drop("contract", "responsibilities"),
        "contract.responsibilities",
        "who is responsible",
    ),
    (
        "medicaid",
        "strengths",
        _drop("assessment", "strengths"),
        "assessment.strengths",
        "strengths",
    ),
    (
        "medicaid",
        "preferences",
        _drop("assessment", "preferences"),
        "assessment.preferences",
        "preferences",
    ),
    (
        "medicaid",
        "medical-necessity",
        _drop("medical_necessity"),
        "medical_necessity",
        "medically necessary",
    ),
    (
        "medicaid",
        "discharge-criteria",
        _drop("discharge_criteria"),
        "discharge_criteria",
        "discharge criteria",
    ),
    (
        "medicaid",
        "client-or-guardian-signature",
        _signatures_without("client", "guardian"),
        "signatures",
        "client (or guardian) must sign",
    ),
    (
        "medicaid",
        "clinician-signature",
        _signatures_without("clinician"),
        "signatures",
        "clinician must sign",
    ),
    (
        "medicaid",
        "review-within-a-year",
        _set("2027-12-01", "plan", "review_by"),
        "plan.review_by",
        "more than 12 months",
    ),
    (
        "managed-care",
        "current-risk",
        _drop("assessment", "risk"),
        "assessment.risk",
        "current risk",
    ),
    (
        "managed-care",
        "medications",
        _drop("assessment", "medications"),
        "assessment.medications",
        "medications",
    ),
    (
        "managed-care",
        "member-agreement",
        _drop("contract", "client_agreement"),
        "contract.client_agreement",
        "member's agreement",
    ),
    ("managed-care", "services-requested", _drop("services"), "services", "CPT code and units"),
    (
        "managed-care",
        "authorization-number",
        _drop("client", "coverage", "authorization", "number"),
        "client.coverage.authorization_number",
        "authorization number",
    ),
    (
        "managed-care",
        "medical-necessity",
        _drop("medical_necessity", "functional_impairments"),
        "medical_necessity.functional_impairments",
        "functional impairment",
    ),
    (
        "managed-care",
        "progress-with-scores",
        _set([], "goals", 1, "progress"),
        "goals[1].progress",
        "progress since the last review",
    ),
]


RULES += [
    ("client-copy", "readability", lambda plan: None, "presenting_problem.text", "reads at grade"),
    (
        "client-copy",
        "crisis-lines",
        _set("FR", "practice", "country"),
        "practice.country",
        "knows no public crisis lines",
    ),
    (
        "client-copy",
        "risk-in-client-copy",
        _set(
            ["Re-assess suicide risk at every session"], "contract", "responsibilities", 1, "duties"
        ),
        "contract.responsibilities[1].duties[0]",
        "speaks of risk",
    ),
]

# The example plan in plain words for the client: the client-facing keys the client copy
# shows in place of the clinical text, and a clinician duty said plainly.
PLAIN_WORDS = {
    "summary": "Since a crash at work in March, you have bad dreams, you avoid driving on the "
    "highway, and it is hard to focus at work.",
    "G1.1": "You will write about what the crash means to you and read it out loud in a session.",
    "G1.2": "You will spot the thoughts that keep you stuck and try out other ways to see them.",
    "G2.1": "You will drive on the highway with someone you trust, a little farther each week.",
    "G2.2": "You will drive one highway trip on your own each week.",
}


def in_plain_words(plan_data):
    plan_data["presenting_problem"]["client_summary"] = PLAIN_WORDS["summary"]
    for goal in plan_data["goals"]:
        for objective in goal["objectives"]:
            objective["client_statement"] = PLAIN_WORDS[objective["id"]]
    duties = plan_data["contract"]["responsibilities"][1]["duties"]
    duties[2] = "Talk with her doctor about her sleep, with her consent"
    return plan_data


def test_every_built_in_rule_has_a_test():
    tested = {(layout, rule) for layout, rule, *_ in RULES}
    declared = {(name, rule.id) for name in BUILT_IN for rule in find_layout(name).rules}
    assert declared == tested


@pytest.mark.parametrize("layout", BUILT_IN)
def test_the_example_plan_passes_every_rule(write_plan, plan_data, layout):
    if layout == "client-copy":  # its readability check wants the plan's plain words
        in_plain_words(plan_data)
    checked = check_file(write_plan(plan_data), layout, today=AS_OF)
    assert checked.all_problems == []


@pytest.mark.parametrize(
    ("layout", "rule", "change", "field", "message"), RULES, ids=[f"{r[0]}:{r[1]}" for r in RULES]
)
def test_a_plan_breaking_the_rule_gets_its_message_and_source(
    write_plan, plan_data, layout, rule, change, field, message
):
    change(plan_data)
    checked = check_file(write_plan(plan_data), layout, today=AS_OF)
    assert checked.plan is not None, [str(p) for p in checked.problems]
    declared = next(r for r in checked.layout.rules if r.id == rule)
    found = [
        p for p in checked.layout_problems[layout] if p.field_name == field and message in str(p)
    ]
    assert found, [str(p) for p in checked.all_problems]
    assert (
        found[0].message.startswith(f"[{layout}] ") and declared.source.cite() in found[0].message
    )
    assert found[0].severity is declared.severity
    assert checked.layout_failed(checked.layout) == (declared.severity is Severity.ERROR)
    # The standard layout has no such rule: the same plan is fine there.
    assert not check_file(write_plan(plan_data), "standard", today=AS_OF).layout_failed(
        find_layout("standard")
    )


def test_a_plan_failing_one_layout_still_renders_the_others(tmp_path, write_plan, plan_data):
    del plan_data["services"]
    path = write_plan(plan_data)
    result = CliRunner().invoke(
        main,
        [
            "render",
            str(path),
            "-l",
            "standard",
            "-l",
            "medicare",
            "-o",
            str(tmp_path / "o"),
            "--as-of",
            "2026-11-26",
        ],
    )
    assert result.exit_code == 1
    assert "services: [medicare] list the services" in result.output
    documents = [p for p in (tmp_path / "o").iterdir() if p.suffix != ".png"]
    assert sorted(p.name.split(".")[1] for p in documents) == ["standard"] * 3


# --- the client copy ----------------------------------------------------------

SECRETS = {
    ("client", "coverage"): {
        "payer": "Zebra Mutual Insurance",
        "plan_name": "Quartz Gold Plan",
        "member_id": "MEMBER-7731904",
        "group_number": "GROUP-55120",
        "authorization": {
            "number": "AUTH-99421",
            "start": "2026-08-01",
            "end": "2027-01-31",
            "sessions": 1931,
            "used": 1877,
        },
    },
    ("provider",): {"npi": "1234567893", "license": "LIC-PSY-88123"},
    ("assessment", "risk"): {"level": "high", "summary": "Zircon risk narrative 4471"},
}


def _plan_with_every_internal_field(plan_data):
    for path, values in SECRETS.items():
        target = plan_data
        for part in path:
            target = target.setdefault(part, {})
        target.update(values)
    plan_data["provider"]["supervisor"] = {
        "name": "Sup Ervisor",
        "credentials": "PhD",
        "npi": "1987654328",
    }
    plan_data["services"] = [
        {
            "cpt": "90837",
            "description": "Psychotherapy xylophone 60",
            "frequency": "weekly",
            "units": 731,
        }
    ]
    plan_data["diagnoses"][0]["description"] = "Diagnosis text quokka"
    plan_data["assessment"]["medications"] = ["Medication walrus 10 mg"]
    plan_data["assessment"]["history"] = "History narrative narwhal"
    plan_data["progress_notes"][0]["text"] = "Review note okapi"
    plan_data["x-internal"] = {"flag": "Custom pangolin"}
    return plan_data


HIDDEN = [
    "1931",  # sessions authorized
    "1877",  # and used
    "Zebra Mutual Insurance",
    "Quartz Gold Plan",
    "MEMBER-7731904",
    "GROUP-55120",
    "AUTH-99421",
    "1234567893",
    "LIC-PSY-88123",
    "1987654328",
    "Zircon risk narrative 4471",
    "90837",
    "Psychotherapy xylophone 60",
    "731",
    "F43.10",
    "G47.00",
    "Diagnosis text quokka",
    "Medication walrus 10 mg",
    "History narrative narwhal",
    "Review note okapi",
    "Custom pangolin",
    "1988",
    "Okafor",
]


def _all_text(documents):
    texts = [documents["md"].decode(), documents["html"].decode()]
    with zipfile.ZipFile(io.BytesIO(documents["docx"])) as package:
        texts += [
            package.read(name).decode("utf-8", "replace")
            for name in package.namelist()
            if name.endswith(".xml")
        ]
    return "\n".join(texts)


def test_the_client_copy_never_shows_billing_or_internal_content(write_plan, plan_data):
    path = write_plan(_plan_with_every_internal_field(plan_data))
    checked = check_file(path, "client-copy")
    assert not checked.failed(), [str(p) for p in checked.all_problems]
    text = _all_text(render_documents(checked.plan, checked.layout, ("md", "html", "docx")))
    for value in HIDDEN:
        assert value not in text, value
    # ... while the standard layout of the same plan shows them all (the search is real).
    standard = check_file(path, "standard")
    shown = _all_text(render_documents(standard.plan, standard.layout, ("md", "html", "docx")))
    for value in (
        "MEMBER-7731904",
        "AUTH-99421",
        "LIC-PSY-88123",
        "Zircon risk narrative 4471",
        "731",
    ):
        assert value in shown


def test_the_client_copy_speaks_plainly_and_puts_the_clients_words_first(write_plan, plan_data):
    checked = check_file(write_plan(plan_data), "client-copy")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    for heading in (
        "## What we are working on",
        "## How we will get there",
        "## How we will know it is working",
    ):
        assert heading in markdown
    assert markdown.index("I keep seeing the crash") < markdown.index(
        "Post-traumatic stress symptoms"
    )
    assert '### Goal 1: "I want to stop reliving it every day."' in markdown
    document = docx.Document(
        io.BytesIO(render_documents(checked.plan, checked.layout, ("docx",))["docx"])
    )
    assert document.styles["Normal"].font.size.pt == 12
    assert document.sections[0].header.paragraphs[0].text.startswith("Dana")


# --- custom layouts -------------------------------------------------------------

MANIFEST_ONLY = """
name = "riverside"
title = "Riverside Counseling Plan"
extends = "standard"
header = ["client_name", "plan_id"]

[blocks]
discharge = '''
## When Treatment Ends

{% for d in plan.discharge_criteria %}
1. {{ d }}
{% endfor %}

'''
"""


def test_a_manifest_only_layout_outside_the_repo_is_found_and_used(tmp_path, monkeypatch):
    folder = tmp_path / "clinic-layouts" / "riverside"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text(MANIFEST_ONLY)
    monkeypatch.chdir(tmp_path)  # away from the repository's ./templates
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "render",
            str(SAMPLES / "adult-ptsd.json"),
            "-l",
            "riverside",
            "--layout-folder",
            str(folder.parent),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    markdown = (out / "TP-2026-0042-v2.riverside.md").read_text()
    assert "## When Treatment Ends\n\n1. PCL-5 below 31" in markdown
    assert "## Discharge Criteria" not in markdown
    assert "## Diagnoses" in markdown  # everything else comes from standard
    listing = CliRunner().invoke(main, ["layouts", "--layout-folder", str(folder.parent)]).output
    assert "riverside" in listing and "layout_folders" in listing
    monkeypatch.setenv("PLANDOC_LAYOUTS", str(folder.parent))
    assert (
        CliRunner()
        .invoke(main, ["validate", "-l", "riverside", str(SAMPLES / "adult-ptsd.json")])
        .exit_code
        == 0
    )


def test_a_later_folder_overrides_a_built_in_layout(tmp_path, monkeypatch):
    folder = tmp_path / "mine" / "medicaid"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text(
        'extends = "standard"\ntitle = "State ISP"\nreview_interval_days = 90\n'
    )
    monkeypatch.chdir(tmp_path)
    layout = find_layout("medicaid", [folder.parent])
    assert (
        layout.title == "State ISP"
        and layout.review_interval_days == 90
        and layout.origin == "layout_folders"
    )


BAD_MANIFESTS = {
    "syntax": ('title = "x\n', "layout.toml:1: not valid TOML"),
    "unknown key": (
        'extends = "standard"\n\ncolour = "red"\n',
        "layout.toml:3: colour: unknown key",
    ),
    "wrong type": (
        'review_interval_days = "ninety"\n',
        "layout.toml:1: review_interval_days: must be a whole number",
    ),
    "rule on a missing field": (
        'extends = "standard"\n[[rules]]\nmessage = "m"\nsource = "s"\nrequire = "client.shoe_size"\n',
        "layout.toml:5: rules[0].require: 'client.shoe_size' names no field of the plan at 'shoe_size'",
    ),
    "rule without source": (
        '[[rules]]\nmessage = "m"\nrequire = "services"\n',
        "layout.toml:1: rules[0].source: missing (required)",
    ),
    "bound on a text field": (
        '[[rules]]\nmessage = "m"\nsource = "s"\nfrom = "plan.effective"\nto = "client.name"\nmax_days = 3\n',
        "layout.toml:1: rules[0]: 'client.name' is not a date field",
    ),
    "missing parent": (
        'extends = "nowhere"\n',
        "layout.toml:1: extends: no layout 'nowhere' to extend",
    ),
    "cycle": ('extends = "broken"\n', "extends: layouts extend in a cycle: broken -> broken"),
    "blocks without parent": ("[blocks]\ngoals = 'x'\n", "blocks: blocks override a parent"),
    "bad format": (
        'formats = ["rtf"]\n',
        "formats[0]: must be one of: 'md', 'html', 'docx' or 'pdf'",
    ),
    "pdf without html": ('formats = ["pdf"]\n', "pdf is made from the html: list html too"),
}


@pytest.mark.parametrize("case", BAD_MANIFESTS, ids=list(BAD_MANIFESTS))
def test_a_bad_manifest_is_one_clear_error_and_nothing_renders(tmp_path, monkeypatch, case):
    text, expected = BAD_MANIFESTS[case]
    folder = tmp_path / "layouts" / "broken"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text(text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PlandocError) as raised:
        find_layout("broken", [folder.parent])
    assert f"{folder / 'layout.toml'}" in raised.value.message and expected in raised.value.message
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        [
            "render",
            str(SAMPLES / "adult-ptsd.json"),
            "-l",
            "broken",
            "--layout-folder",
            str(folder.parent),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1 and "Traceback" not in result.output and expected in result.output
    assert not out.exists()


def test_a_cycle_between_two_layouts(tmp_path):
    for name, parent in (("a", "b"), ("b", "a")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "layout.toml").write_text(f'extends = "{parent}"\n')
    with pytest.raises(PlandocError, match="a -> b -> a"):
        find_layout("a", [tmp_path])


def test_a_layout_that_does_not_make_a_format_says_so(tmp_path, monkeypatch):
    folder = tmp_path / "layouts" / "mdonly"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('extends = "standard"\nformats = ["md"]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main,
        [
            "render",
            str(SAMPLES / "adult-ptsd.json"),
            "-l",
            "mdonly",
            "--layout-folder",
            str(folder.parent),
            "-f",
            "docx",
            "-o",
            str(tmp_path / "o"),
        ],
    )
    assert (
        result.exit_code == 1
        and "layout 'mdonly' does not support format docx (it makes md)" in result.output
    )


def test_layouts_show_prints_rules_with_sources():
    result = CliRunner().invoke(main, ["layouts", "show", "medicaid"])
    assert result.exit_code == 0
    assert "review interval: none (plans give review_by)" in result.output
    assert "extends:         standard" in result.output
    # Each rule: its source document and section, the public address, and what it says.
    assert "42 CFR 441.725, Person-centered service plan" in result.output
    assert "42 CFR 441.725(b)(2)" in result.output
    assert "https://www.law.cornell.edu/cfr/text/42/441.725" in result.output
    assert "says:    Patient participation in treatment planning" in result.output
    assert result.output.count("      says:    ") == len(find_layout("medicaid").rules)


@pytest.mark.parametrize("layout", BUILT_IN)
def test_every_built_in_rule_names_its_document_section_address_and_words(layout):
    for rule in find_layout(layout).rules:
        source = rule.source
        assert source.document and source.section and source.says, rule.id
        assert source.url.startswith("https://") and " " not in source.url, rule.id


@pytest.mark.parametrize("layout", ["medicare", "medicaid", "managed-care"])
def test_each_payer_layout_readme_lists_its_rules_with_source_section_and_address(layout):
    readme = (find_layout(layout).folder / "README.md").read_text("utf-8")
    parts = {  # "### `rule-id` (severity)" and the text under it
        part.split("`", 1)[0]: part for part in readme.split("\n### `")[1:]
    }
    for rule in find_layout(layout).rules:
        assert rule.id in parts, f"{layout} README does not list {rule.id}"
        part = parts[rule.id]
        assert part.startswith(f"{rule.id}` ({rule.severity.value})"), rule.id
        assert rule.source.section in part and f"<{rule.source.url}>" in part, rule.id
    assert set(parts) == {rule.id for rule in find_layout(layout).rules}


def test_a_payer_rule_replaces_the_standard_warning_of_the_same_id():
    standard, medicare = find_layout("standard"), find_layout("medicare")
    ids = [rule.id for rule in medicare.rules]
    assert len(ids) == len(set(ids))  # replaced, not added twice
    for rule_id in ("review-overdue", "safety-plan"):
        assert next(r for r in standard.rules if r.id == rule_id).severity is Severity.WARNING
        assert next(r for r in medicare.rules if r.id == rule_id).severity is Severity.ERROR
    # The client copy keeps standard's warnings, and adds its own three.
    client = {r.id: r.severity for r in find_layout("client-copy").rules}
    assert {r.id: r.severity for r in standard.rules}.items() <= client.items()
    assert set(client) - {r.id for r in standard.rules} == {
        "readability",
        "crisis-lines",
        "risk-in-client-copy",
    }


def test_json_report_names_the_layouts(write_plan, plan_data):
    result = CliRunner().invoke(
        main,
        [
            "validate",
            "--format",
            "json",
            "-l",
            "medicare",
            "--as-of",
            "2026-11-26",
            str(write_plan(plan_data)),
        ],
    )
    assert json.loads(result.stdout)["plans"][0]["layouts"] == ["medicare"]


def test_only_standard_computes_a_review_date_payer_layouts_need_the_plans_own(
    write_plan, plan_data
):
    del plan_data["plan"]["review_by"]
    path: Path = write_plan(plan_data)
    checked = check_file(path, "standard", today=AS_OF)
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "2027-04-27" in markdown  # 2026-10-29 (last reviewed) + 180 days
    for layout in ("medicare", "medicaid", "managed-care"):
        checked = check_file(path, layout, today=AS_OF)
        assert [p.field_name for p in checked.problems] == ["plan.review_by"], layout
        assert "no review interval" in checked.problems[0].message
        assert checked.layout_failed(checked.layout)


@pytest.mark.parametrize("layout", BUILT_IN[1:])
def test_payer_and_client_layouts_match_golden_markdown(layout, update_golden):
    from .conftest import GOLDEN

    checked = check_file(SAMPLES / "adult-ptsd.json", layout, today=AS_OF)
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    golden = GOLDEN / f"adult-ptsd.{layout}.md"
    if update_golden:
        golden.write_text(markdown, "utf-8")
    assert markdown == golden.read_text("utf-8"), f"{golden.name} changed"


@pytest.mark.parametrize("name", ["my.layout", "../standard", "a|b", "x" * 65, "-dash"])
def test_a_layout_name_that_cannot_name_a_document_is_refused(tmp_path, name):
    with pytest.raises(PlandocError, match="use letters, digits"):
        find_layout(name, [tmp_path])
    result = CliRunner().invoke(main, ["validate", "-l", name, str(SAMPLES / "adult-ptsd.json")])
    assert result.exit_code != 0 and "use letters, digits" in result.output
    assert "Traceback" not in result.output


def test_medicare_amount_counts_the_sessions_the_clinician_gives(write_plan, plan_data):
    """The plan's "Amount" is the length of the clinician's sessions: a method the client
    practises between sessions (M2, responsible: client) is not an amount of therapy."""
    checked = check_file(write_plan(plan_data), "medicare", today=AS_OF)
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    amount = next(line for line in markdown.splitlines() if line.startswith("| Amount |"))
    assert amount == "| Amount | Cognitive Processing Therapy: 60 minutes |"
    for method in plan_data["methods"]:
        method["responsible"] = "client"
    checked = check_file(write_plan(plan_data), "medicare", today=AS_OF)
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "| Amount | Not stated (no method delivered by the clinician) |" in markdown


def test_the_clients_age_is_the_age_on_the_documents_date(write_plan, plan_data):
    """Born 1988-02-14; the plan took effect 2026-01-05 (age 37) and was reviewed
    2026-11-16: the document, dated by its review, says 38."""
    plan_data["plan"].update(created="2026-01-05", effective="2026-01-05")
    plan_data["plan"].update(last_reviewed="2026-11-16", review_by="2027-02-14")
    checked = check_file(write_plan(plan_data), today=dt.date(2026, 11, 20))
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "| Date of birth | 1988-02-14 (age 38) |" in markdown
