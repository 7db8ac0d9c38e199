"""Issue 15 in the documents: the safety plan, crisis lines, medical necessity, the
person-centred assessment, the practice letterhead (with billing ids in payer layouts
only) and the client copy's words for who agreed to the plan, each in every format,
with plan text in the new fields always shown as typed."""

from __future__ import annotations

import copy
import html
import io
import re
import shutil
import subprocess
import zipfile
from typing import Any

import docx
import pyromark
import pytest

from plandoc.checks.file import check_file
from plandoc.documents import markdown_events
from plandoc.documents.compose import compose, consent
from plandoc.documents.documents import render_documents
from plandoc.layouts import find_layout
from plandoc.model.plan import parse_plan

PAYER = ("medicare", "medicaid", "managed-care")
CLINICAL = ("standard", *PAYER)
EVERY = ("client-copy", *CLINICAL)

SAFETY_PLAN = {
    "warning_signs": ["Staying in bed past noon", "Thinking nobody would miss me"],
    "coping_strategies": ["Walk the river path", "Box breathing for five minutes"],
    "distractions": ["The climbing gym", "Coffee with Sam at the corner cafe"],
    "supports": [{"name": "Chris Okafor", "relationship": "brother", "phone": "555-0187"}],
    "professionals": [{"name": "Dr. Lena Ortiz", "role": "psychiatrist", "phone": "555-0166"}],
    "means_safety": ["Partner keeps the sleeping tablets locked away"],
    "reasons_for_living": ["My partner", "Getting back on the road"],
    "reviewed": "2026-10-29",
}
SAFETY_PLAN_TEXTS = [
    "Staying in bed past noon",
    "Thinking nobody would miss me",
    "Walk the river path",
    "Box breathing for five minutes",
    "The climbing gym",
    "Coffee with Sam at the corner cafe",
    "Chris Okafor",
    "brother",
    "555-0187",
    "Dr. Lena Ortiz",
    "psychiatrist",
    "555-0166",
    "Partner keeps the sleeping tablets locked away",
    "My partner",
    "Getting back on the road",
]
NPI, TAX_ID = "1245319599", "12-3456789"
LINE_988 = "988 Suicide & Crisis Lifeline: call or text 988, or chat at 988lifeline.org"
LINE_911 = "In an emergency, call 911"


# --- helpers ------------------------------------------------------------------------------


def render(data: dict[str, Any], layout: str, formats=("md", "html", "docx")) -> dict[str, Any]:
    """The documents of a plan in a layout: Markdown and HTML as text, the DOCX opened."""
    plan, findings = parse_plan(data)
    assert plan is not None, findings
    documents = render_documents(plan, find_layout(layout), formats)
    shown: dict[str, Any] = {}
    for fmt in formats:
        if fmt == "docx":
            shown["docx"] = docx.Document(io.BytesIO(documents["docx"]))
            shown["docx-xml"] = _package_text(documents["docx"])
        else:
            shown[fmt] = documents[fmt].decode("utf-8")
    return shown


def _package_text(package: bytes) -> str:
    """Every XML part of a Word package (body, headers, footers, properties), as text."""
    with zipfile.ZipFile(io.BytesIO(package)) as opened:
        return "\n".join(
            opened.read(name).decode("utf-8")
            for name in opened.namelist()
            if name.endswith((".xml", ".rels"))
        )


def page_text(page: str) -> str:
    """The words an HTML page shows: tags dropped, entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.replace("<wbr>", "")))


def docx_text(document: Any) -> str:
    """The body's paragraphs and table cells, in order enough for membership tests."""
    paragraphs = [p.text for p in document.paragraphs]
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join(paragraphs + cells)


def header_text(header: Any) -> str:
    return "\n".join(p.text for p in header.paragraphs)


def with_safety_plan(plan_data: dict[str, Any]) -> dict[str, Any]:
    plan_data["safety_plan"] = copy.deepcopy(SAFETY_PLAN)
    plan_data["assessment"]["risk"]["level"] = "moderate"
    return plan_data


def headings(markdown: str) -> list[str]:
    return re.findall(r"^#{1,3} .*$", markdown, flags=re.M)


# --- the safety plan ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", CLINICAL)
def test_the_safety_plan_is_its_own_section_right_after_the_risk_assessment(plan_data, layout):
    documents = render(with_safety_plan(plan_data), layout)
    markdown = documents["md"]
    titles = headings(markdown)
    at = titles.index("## Safety Plan")
    assert titles[at - 1] == "### Risk Assessment"
    assert titles.index("## Safety Plan") < titles.index("## Treatment Contract")
    for part in (
        "### Warning Signs",
        "### Internal Coping Strategies",
        "### People and Social Settings That Provide Distraction",
        "### People to Ask for Help",
        "### Professionals and Agencies to Contact",
        "### Making the Environment Safe",
        "### Reasons for Living",
        "### Crisis Lines",
    ):
        assert part in titles[at:], part
    assert "| Chris Okafor | brother | 555-0187 |" in markdown
    assert "| Dr. Lena Ortiz | psychiatrist | 555-0166 |" in markdown
    page = documents["html"]
    assert "<h2>Safety Plan</h2>" in page
    word = docx_text(documents["docx"])
    assert "Safety Plan" in [p.text for p in documents["docx"].paragraphs]
    for text in SAFETY_PLAN_TEXTS:
        assert text in markdown and text in page_text(page) and text in word, (layout, text)


def test_the_safety_plan_says_when_it_was_last_reviewed_in_the_layouts_date_format(plan_data):
    with_safety_plan(plan_data)
    assert "**Made or last reviewed with Dana:** 2026-10-29." in render(plan_data, "standard")["md"]
    assert "**Made or last reviewed with Dana:** 10/29/2026." in render(plan_data, "medicaid")["md"]


def test_without_a_safety_plan_no_layout_has_the_section(plan_data):
    plan_data.pop("safety_plan", None)
    for layout in CLINICAL:
        assert "Safety Plan" not in render(plan_data, layout, ("md",))["md"]


def test_the_client_copy_prints_the_whole_safety_plan_in_plain_words(plan_data):
    documents = render(with_safety_plan(plan_data), "client-copy")
    markdown = documents["md"]
    titles = headings(markdown)
    at = titles.index("## Your safety plan")
    assert titles[at + 1 : at + 8] == [
        "### Warning signs to watch for",
        "### Things you can do on your own",
        "### People and places that take your mind off things",
        "### People you can ask for help",
        "### Professionals you can call",
        "### Making your surroundings safer",
        "### Your reasons for living",
    ]
    assert titles[at + 8] == "## Questions"  # the crisis box between, a box not a section
    end = markdown.index("## Questions")
    assert markdown.rindex("> **If you need help now**", 0, end) > markdown.index(
        "### Your reasons"
    )
    for words in (
        "This is your plan for when things get hard.",
        "You and Morgan Reyes made it or last went over it together on October 29, 2026.",
        "When you notice these, it is time to use this plan:",
        "When things get hard, you can:",
        "| Chris Okafor | brother | 555-0187 |",
        "| Dr. Lena Ortiz | psychiatrist | 555-0166 |",
    ):
        assert words in markdown, words
    page, word = page_text(documents["html"]), docx_text(documents["docx"])
    for text in [*SAFETY_PLAN_TEXTS, "When things get hard, you can:", "Your reasons for living"]:
        assert text in page and text in word, text
    # ... and never the clinician's risk assessment behind it.
    assert "C-SSRS" not in markdown and "Risk level" not in markdown


# --- crisis lines ---------------------------------------------------------------------------

CRISIS_CASES = {
    "no practice: the US lines": (None, [LINE_988, LINE_911], []),
    "a US practice without a crisis phone": (
        {"name": "Riverside Counseling Group"},
        [LINE_988, LINE_911],
        ["crisis line:", "day or night"],
    ),
    "a US practice's own line first": (
        {"name": "Riverside Counseling Group", "crisis_phone": "(217) 555-0199"},
        ["Riverside Counseling Group", "(217) 555-0199", LINE_988, LINE_911],
        [],
    ),
    "a country plandoc knows no lines of: the practice's line only": (
        {"name": "Cabinet Martin", "country": "FR", "crisis_phone": "01 23 45 67 89"},
        ["Cabinet Martin", "01 23 45 67 89"],
        ["988 Suicide", "call 911", "local emergency number"],
    ),
    "GB: its own lines": (
        {"name": "Thames Talking Therapies", "country": "GB"},
        ["116 123", "NHS 111", "call 999"],
        ["988 Suicide", "call 911"],
    ),
}


def crisis_box(markdown: str) -> str:
    """The client copy's first crisis box: its lines after the heading, '> ' taken off."""
    after = markdown.split("> **If you need help now**\n", 1)[1]
    lines = []
    for line in after.split("\n"):
        if not line.startswith(">"):
            break
        lines.append(line.removeprefix(">").strip())
    return re.sub(r"\\(.)", r"\1", "\n".join(line for line in lines if line))  # unescaped


@pytest.mark.parametrize("case", CRISIS_CASES, ids=list(CRISIS_CASES))
def test_crisis_lines_in_the_client_copy_and_every_safety_plan(plan_data, case):
    practice, shown, hidden = CRISIS_CASES[case]
    plan_data.pop("practice")
    if practice:
        plan_data["practice"] = practice
    with_safety_plan(plan_data)
    client_copy = render(plan_data, "client-copy", ("md",))["md"]
    standard = render(plan_data, "standard", ("md",))["md"]
    boxes = client_copy.count("> **If you need help now**")
    assert boxes == 2  # on the first page and again at the end
    section = standard.split("### Crisis Lines", 1)[1].split("\n#")[0]
    for lines in (crisis_box(client_copy), re.sub(r"\\(.)", r"\1", section).strip()):
        for text in shown:
            assert text in lines, text
        for text in hidden:
            assert text not in lines, text
        if practice and practice.get("crisis_phone"):  # the practice's own line comes first
            assert practice["crisis_phone"] in lines.strip().split("\n")[0]


def test_every_client_copy_prints_the_crisis_box_even_without_a_safety_plan(plan_data):
    plan_data.pop("safety_plan", None)
    documents = render(plan_data, "client-copy")
    assert documents["md"].count("> [!IMPORTANT]\n> **If you need help now**") == 2
    assert "> Call Riverside Counseling Group at (217) 555-0199, day or night." in documents["md"]
    for text in (LINE_988, LINE_911):
        assert text in page_text(documents["html"]) and text in docx_text(documents["docx"])
    assert '<blockquote class="important">' in documents["html"]
    assert "Your safety plan" not in documents["md"] and "safety plan" not in crisis_box(
        documents["md"]
    )


def test_a_country_without_known_lines_or_a_crisis_phone_says_to_call_the_local_number(
    plan_data,
    write_plan,
):
    plan_data["practice"] = {"name": "Cabinet Martin", "country": "FR"}
    with_safety_plan(plan_data)
    client_copy = render(plan_data, "client-copy", ("md",))["md"]
    standard = render(plan_data, "standard", ("md",))["md"]
    box = crisis_box(client_copy)
    assert box.startswith("In an emergency, call your local emergency number.")
    assert "Crisis Lines" not in standard
    assert "988 Suicide" not in client_copy + standard and "call 911" not in client_copy + standard
    checked = check_file(write_plan(plan_data), "client-copy")
    [warning] = [p for p in checked.all_problems if p.field_name == "practice.country"]
    assert "knows no public crisis lines" in warning.message


def test_a_crisis_line_not_checked_against_its_source_is_never_printed(plan_data, write_plan):
    from plandoc.model.crisis_lines import built_in_lines

    lines = built_in_lines()
    for country in lines.known:
        for line in lines.lines_for(country):
            assert line.source.url.startswith("https://") and line.source.says
    unchecked = [(c, line.number) for c in lines.known for line in lines.unconfirmed(c)]
    assert unchecked  # the table holds some still to check ...
    plan_data["practice"] = {"name": "Dublin Talking Therapies", "country": "IE"}
    client_copy = render(plan_data, "client-copy", ("md",))["md"]
    assert "116 123" not in client_copy  # ... and the client copy leaves them out
    assert "local emergency number" in client_copy
    checked = check_file(write_plan(plan_data), "client-copy")
    assert any(
        "116 123" in p.message and "not yet checked" in p.message for p in checked.all_problems
    )


# --- medical necessity ------------------------------------------------------------------------

MEDICAL_NECESSITY = {
    "rationale": "Symptoms keep her off shift.\n\n- nightmares four nights a week\n- avoids the highway",
    "level_of_care": "intensive-outpatient",
    "functional_impairments": [
        {"domain": "self-care", "description": "Sleeps about five hours a night."},
        {"domain": "work", "description": "Five sick days since June."},
    ],
}


@pytest.mark.parametrize("layout", CLINICAL)
def test_medical_necessity_has_its_section_with_level_rationale_and_impairments(plan_data, layout):
    plan_data["medical_necessity"] = copy.deepcopy(MEDICAL_NECESSITY)
    documents = render(plan_data, layout)
    markdown = documents["md"]
    titles = headings(markdown)
    assert titles.index("## Medical Necessity") < titles.index("## Treatment Contract")
    assert "**Level of care requested:** Intensive outpatient." in markdown
    assert "- nightmares four nights a week\n- avoids the highway" in markdown  # a narrative
    assert "| Domain | Impairment |" in markdown
    assert "| Self-care | Sleeps about five hours a night. |" in markdown
    assert "| Work | Five sick days since June. |" in markdown
    page = documents["html"]
    assert "<h2>Medical Necessity</h2>" in page and "<li>avoids the highway</li>" in page
    assert "<td>Self-care</td><td>Sleeps about five hours a night.</td>" in page
    cells = [[c.text for c in row.cells] for t in documents["docx"].tables for row in t.rows]
    assert ["Self-care", "Sleeps about five hours a night."] in cells


def test_managed_care_asks_for_the_level_of_care_in_its_authorization_request(plan_data):
    plan_data["medical_necessity"] = copy.deepcopy(MEDICAL_NECESSITY)
    markdown = render(plan_data, "managed-care", ("md",))["md"]
    assert "| Level of care requested | Intensive outpatient |" in markdown


def test_the_client_copy_leaves_medical_necessity_to_the_payers(plan_data):
    plan_data["medical_necessity"] = copy.deepcopy(MEDICAL_NECESSITY)
    documents = render(plan_data, "client-copy")
    text = documents["md"] + page_text(documents["html"]) + docx_text(documents["docx"])
    for hidden in (
        "Medical Necessity",
        "Symptoms keep her off shift",
        "Five sick days",
        "Intensive",
    ):
        assert hidden not in text, hidden


# --- the person-centred assessment ------------------------------------------------------------


@pytest.mark.parametrize("layout", CLINICAL)
def test_needs_abilities_and_preferences_stand_beside_strengths_and_barriers(plan_data, layout):
    a = plan_data["assessment"]
    a.update(needs=["Needs quokka"], abilities=["Ability wombat"], preferences=["Prefers numbat"])
    documents = render(plan_data, layout)
    titles = headings(documents["md"])
    order = [
        "### Strengths",
        "### Needs",
        "### Abilities",
        "### Preferences",
        "### Barriers to Treatment",
    ]
    assert [t for t in titles if t in order] == order
    for text in ("Needs quokka", "Ability wombat", "Prefers numbat"):
        assert f"- {text}" in documents["md"]
        assert f"<li>{text}</li>" in documents["html"]
        assert text in docx_text(documents["docx"])


def test_the_client_copy_says_them_in_plain_words(plan_data):
    a = plan_data["assessment"]
    a.update(needs=["Needs quokka"], abilities=["Ability wombat"], preferences=["Prefers numbat"])
    documents = render(plan_data, "client-copy")
    markdown = documents["md"]
    for title, item in (
        ("What you have going for you", "Insight into her symptoms"),
        ("What you're good at", "Ability wombat"),
        ("What you told us you need", "Needs quokka"),
        ("How you want your care", "Prefers numbat"),
    ):
        assert f"**{title}:**\n\n- {item}" in markdown, title
        assert title in page_text(documents["html"]) and title in docx_text(documents["docx"])


def test_the_client_copy_leaves_out_what_the_plan_does_not_say(plan_data):
    for key in ("strengths", "needs", "abilities", "preferences"):
        plan_data["assessment"].pop(key, None)
    markdown = render(plan_data, "client-copy", ("md",))["md"]
    assert "## About you" not in markdown and "good at" not in markdown
    plan_data["assessment"]["preferences"] = ["Prefers numbat"]
    markdown = render(plan_data, "client-copy", ("md",))["md"]
    assert "## About you" in markdown and "What you're good at" not in markdown


# --- the letterhead ----------------------------------------------------------------------------


@pytest.mark.parametrize("layout", EVERY)
def test_the_letterhead_heads_the_first_page_of_every_layout(plan_data, layout):
    documents = render(plan_data, layout)
    markdown = documents["md"]
    assert markdown.startswith("**Riverside Counseling Group**\n\n210 Main Street, Suite 4 · ")
    assert "Phone (217) 555-0100 · Fax (217) 555-0101" in markdown.split("\n# ", 1)[0]
    page = documents["html"]
    body = page.split("<body>", 1)[1]
    letterhead = body.split('<header>\n<div class="letterhead">', 1)[1]  # one banner landmark
    letterhead = letterhead.split("</div>", 1)[0]
    assert (
        body.index('class="letterhead"')
        < body.index('class="running-header"')
        < body.index("<main>")
    )
    assert "<strong>Riverside Counseling Group</strong>" in letterhead
    for text in ("210 Main Street, Suite 4", "Springfield, IL 62701"):  # once, in the letterhead
        assert text in letterhead and text not in body.split("<main>", 1)[1]
    assert "Phone (217) 555-0100 · Fax (217) 555-0101" in letterhead
    # Printed, the first page has the letterhead instead of the margin's running header.
    assert "@page :first {\n  @top-left { content: none; }\n}" in page


@pytest.mark.parametrize("layout", EVERY)
def test_the_docx_letterhead_is_in_the_first_page_header_and_later_pages_keep_theirs(
    plan_data, layout
):
    document = render(plan_data, layout, ("docx",))["docx"]
    section = document.sections[0]
    assert section.different_first_page_header_footer
    first = header_text(section.first_page_header)
    lines = first.split("\n")
    assert lines[0] == "Riverside Counseling Group"
    assert "210 Main Street, Suite 4 · Springfield, IL 62701" in first
    assert "Phone (217) 555-0100 · Fax (217) 555-0101" in first
    running = header_text(section.header)
    assert lines[-1] == running and running.split("   ·   ")[-1] == "Plan TP-2026-0042 v2"
    assert "Riverside Counseling Group" not in running
    assert "Page" in "".join(p._p.xml for p in section.first_page_footer.paragraphs)
    assert document.paragraphs[0].style.name == "Title"  # the body starts at the title
    styles = [p.style.name for p in section.first_page_header.paragraphs]
    assert styles[:2] == ["Letterhead Name", "Letterhead"]


def test_without_a_practice_there_is_no_letterhead(plan_data):
    plan_data.pop("practice")
    documents = render(plan_data, "standard")
    assert documents["md"].startswith("# Treatment Plan")
    assert 'class="letterhead"' not in documents["html"]
    assert '@page :first {\n  @top-left { content: "Dana Okafor' in documents["html"]
    section = documents["docx"].sections[0]
    assert header_text(section.first_page_header) == header_text(section.header)


@pytest.mark.pdf
@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed"
)
def test_the_pdf_letterhead_is_on_the_first_page_only(plan_data, tmp_path):
    pdf = render_documents(parse_plan(plan_data)[0], find_layout("medicare"), ("pdf",))["pdf"]
    (tmp_path / "plan.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(tmp_path / "plan.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first, *later = text.split("\f")
    assert first.lstrip().startswith("Riverside Counseling Group")
    assert f"Organization NPI {NPI} · Tax ID {TAX_ID}" in first
    assert "Dana Okafor" in first.split("Medicare Outpatient")[0]  # the running header under it
    assert later and not any("Riverside Counseling Group" in page.split("\n")[0] for page in later)


# --- billing ids: payer layouts only --------------------------------------------------------


@pytest.mark.parametrize("layout", PAYER)
def test_payer_layouts_carry_the_practices_npi_and_tax_id(plan_data, layout):
    documents = render(plan_data, layout)
    ids = f"Organization NPI {NPI} · Tax ID {TAX_ID}"
    assert ids in documents["md"].split("\n# ", 1)[0]
    letterhead = documents["html"].split('class="letterhead"', 1)[1].split("</div>", 1)[0]
    assert ids in letterhead
    assert ids in header_text(documents["docx"].sections[0].first_page_header)


def test_a_payer_letterhead_shows_only_the_ids_the_plan_has(plan_data):
    del plan_data["practice"]["tax_id"]
    markdown = render(plan_data, "managed-care", ("md",))["md"]
    assert f"Organization NPI {NPI}\n" in markdown and "Tax ID" not in markdown


@pytest.mark.parametrize("layout", ["standard", "client-copy"])
def test_the_npi_and_tax_id_never_appear_outside_payer_layouts(plan_data, layout):
    documents = render(plan_data, layout)
    for value in (NPI, TAX_ID, "Tax ID", "Organization NPI"):
        assert value not in documents["md"], value
        assert value not in documents["html"], value
        assert value not in documents["docx-xml"], value  # body, headers, footers, properties
    assert "Riverside Counseling Group" in header_text(
        documents["docx"].sections[0].first_page_header
    )


# --- who agreed: the client copy's words ---------------------------------------------------


def _intro(plan_data: dict[str, Any]) -> str:
    markdown = render(plan_data, "client-copy", ("md",))["md"]
    after_title = markdown.split("# Your Treatment Plan\n\n", 1)[1]
    after_box = re.sub(r"\A(?:>.*\n)+\n", "", after_title)  # the crisis box comes first
    return after_box.split("\n\nThis is your copy.", 1)[0]


def test_an_agreed_plan_was_made_together_on_its_date(plan_data):
    assert _intro(plan_data) == "You and Morgan Reyes made this plan together on August 3, 2026."


def test_a_declined_plan_says_who_wrote_it_and_why_the_client_did_not_agree(plan_data):
    plan_data["contract"]["client_agreement"] = {
        "agreed": False,
        "declined_reason": "Wants to think about the exposure work first.",
    }
    intro = _intro(plan_data)
    assert intro == (
        "Morgan Reyes wrote this plan. You did not agree to it (the reason noted: Wants to think "
        "about the exposure work first.); you can talk about any part of it at your next session."
    )
    assert "made this plan together" not in render(plan_data, "client-copy", ("md",))["md"]


def test_a_declined_client_signature_is_the_record_when_the_contract_has_none(plan_data):
    del plan_data["contract"]["client_agreement"]
    plan_data["signatures"][0] = {
        "role": "client",
        "name": "Dana Okafor",
        "declined_reason": "Not ready to sign.",
    }
    assert _intro(plan_data).startswith(
        "Morgan Reyes wrote this plan. You did not agree to it (the reason noted: Not ready to sign.)"
    )


def test_a_client_signature_is_agreement_when_the_contract_has_none(plan_data):
    del plan_data["contract"]["client_agreement"]
    assert _intro(plan_data) == "You and Morgan Reyes made this plan together on October 29, 2026."


def test_nothing_recorded_claims_nothing(plan_data):
    del plan_data["contract"]["client_agreement"]
    plan_data["signatures"] = [s for s in plan_data["signatures"] if s["role"] != "client"]
    assert _intro(plan_data) == (
        "Morgan Reyes wrote this plan. It does not yet say whether you agree to it; "
        "you can talk about any part of it at your next session."
    )


def test_a_minors_guardian_is_named_with_what_they_did(plan_data):
    plan_data["client"]["date_of_birth"] = "2010-05-22"
    plan_data["signatures"].insert(
        1, {"role": "guardian", "name": "Alicia Okafor", "date": "2026-10-29"}
    )
    assert _intro(plan_data) == (
        "You and Morgan Reyes made this plan together on August 3, 2026. "
        "Alicia Okafor, your parent or guardian, signed it on October 29, 2026."
    )
    plan_data["signatures"][1] = {
        "role": "guardian",
        "name": "Alicia Okafor",
        "declined_reason": "Disagrees with the exposure work.",
    }
    intro = _intro(plan_data)
    assert intro.endswith("Alicia Okafor, your parent or guardian, did not sign it.")
    assert "Disagrees" not in intro  # only the client's own reason is the client copy's


def test_a_client_who_agreed_but_declined_to_sign_is_told_both_and_warned_of(plan_data, write_plan):
    client = next(s for s in plan_data["signatures"] if s["role"] == "client")
    client.pop("date")
    client["declined_reason"] = "Prefers not to sign forms."
    assert _intro(plan_data) == (
        "You and Morgan Reyes made this plan together on August 3, 2026. You did not sign it."
    )
    checked = check_file(write_plan(plan_data))
    [warning] = [p for p in checked.problems if "declined to sign" in p.message]
    assert warning.severity.value == "warning" and warning.field_name.endswith("declined_reason")


def test_consent_reads_the_contract_before_the_signatures(plan_data):
    plan_data["signatures"][0]["date"] = None
    plan_data["signatures"][0]["declined_reason"] = "Signed on paper instead."
    plan = parse_plan(plan_data)[0]
    recorded = consent(plan)
    assert recorded.agreed is True and recorded.date.isoformat() == "2026-08-03"
    assert recorded.reason is None and recorded.others == ()


# --- plan text in the new fields is data ------------------------------------------------------

HOSTILE = "<script>alert(1)</script> [x](javascript:alert(1)) {{ 7*7 }} {% raw %} **b** | # h"


def _hostile_plan(plan_data: dict[str, Any]) -> dict[str, Any]:
    plan_data["practice"].update(
        name=f"Clinic {HOSTILE}",
        address=[f"1 {HOSTILE}", "</header><main>"],
        phone=f"555 {HOSTILE}",
        fax="{{ plan.client.name }}",
        crisis_phone=f"999 {HOSTILE}",
    )
    with_safety_plan(plan_data)
    sp = plan_data["safety_plan"]
    sp["warning_signs"] = [f"Sign {HOSTILE}"]
    sp["supports"][0].update(name=f"Friend {HOSTILE}", relationship=HOSTILE, phone=f"5 {HOSTILE}")
    sp["professionals"][0]["role"] = f"Role {HOSTILE}"
    sp["reasons_for_living"] = [f"Reason {HOSTILE}"]
    plan_data["medical_necessity"] = {
        "rationale": f"Why {HOSTILE}\n\n# Not a heading\n\n<img src=x onerror=alert(2)>",
        "level_of_care": "outpatient",
        "functional_impairments": [{"domain": "other", "description": f"Impairment {HOSTILE}"}],
    }
    plan_data["assessment"].update(
        needs=[f"Need {HOSTILE}"], abilities=[f"Ability {HOSTILE}"], preferences=[f"Pref {HOSTILE}"]
    )
    plan_data["contract"]["client_agreement"] = {"agreed": False, "declined_reason": HOSTILE}
    return plan_data


@pytest.mark.parametrize("layout", EVERY)
def test_hostile_text_in_the_new_fields_is_shown_as_typed(plan_data, layout):
    clean = render(with_safety_plan(copy.deepcopy(plan_data)), layout, ("md",))["md"]
    documents = render(_hostile_plan(plan_data), layout)
    markdown, page = documents["md"], documents["html"]
    # The Markdown: no raw HTML, no link, no heading a plan wrote; the same sections.
    events = pyromark.events(markdown, options=markdown_events.OPTIONS)
    kinds = {next(iter(e)) if isinstance(e, dict) else e for e in events}
    assert not kinds & {"Html", "InlineHtml"}
    links = [e["Start"] for e in events if isinstance(e, dict) and isinstance(e.get("Start"), dict)]
    assert not [link for link in links if "Link" in link]
    assert [t for t in headings(markdown) if "h" not in t[-2:]] == [
        t for t in headings(clean) if "h" not in t[-2:]
    ]
    # The page: every value escaped, the letterhead closed where the page closes it.
    body = page.split("<body>", 1)[1]
    assert "<script" not in body and "<img" not in body and 'href="javascript' not in body
    assert body.count("</header>") == 1 and body.count("<main>") == 1
    shown = page_text(page)
    assert "Clinic " + HOSTILE in shown and "</header><main>" in shown
    assert "{{ 7*7 }}" in shown and "{% raw %}" in shown and "{{ plan.client.name }}" in shown
    assert "49" not in re.sub(r"[0-9]{2,}[-/][0-9]", "", shown.replace(NPI, ""))
    # The Word document: the text exactly as typed, in the body and the first page's header.
    word = docx_text(documents["docx"])
    first_header = header_text(documents["docx"].sections[0].first_page_header)
    assert first_header.startswith(f"Clinic {HOSTILE}")
    if layout == "client-copy":
        for text in (f"Sign {HOSTILE}", f"Friend {HOSTILE}", f"Need {HOSTILE}", f"999 {HOSTILE}"):
            assert text in word and text in shown, text
        assert f"(the reason noted: {HOSTILE})" in word
    else:
        for text in (f"Sign {HOSTILE}", f"Impairment {HOSTILE}", f"Need {HOSTILE}"):
            assert text in word and text in shown, text
        # The rationale is a narrative: its emphasis is kept, everything else is as typed.
        for text in ("Why <script>alert(1)</script> [x](javascript:alert(1)) {{ 7*7 }} {% raw %}",
                     "Not a heading", "<img src=x onerror=alert(2)>"):  # fmt: skip
            assert text in word and text in shown, text
        assert "<strong>Not a heading</strong>" in body  # a heading in a narrative: a bold line


def test_a_practice_name_like_a_heading_cannot_end_the_letterhead(plan_data):
    plan_data["practice"]["name"] = "# Fake title\n# Another"
    plan = parse_plan(plan_data)[0]
    document = compose(plan, find_layout("standard"))
    assert document.letterhead.startswith("**\\# Fake title \\# Another**")
    assert document.body.startswith("# Treatment Plan\n")
    assert document.markdown == document.letterhead + document.body


def test_the_letterhead_documents_are_the_same_bytes_every_time(plan_data):
    plan = parse_plan(plan_data)[0]
    layout = find_layout("managed-care")
    assert render_documents(plan, layout, ("md", "html", "docx")) == render_documents(
        plan, layout, ("md", "html", "docx")
    )


# --- what a reviewer reads: no blank cells, no code words --------------------------------


def test_the_managed_care_request_says_none_where_the_plan_has_no_value(plan_data):
    plan_data["medical_necessity"] = copy.deepcopy(MEDICAL_NECESSITY)
    plan_data["client"]["coverage"].pop("authorization", None)
    plan_data["assessment"]["medications"] = []
    markdown = render(plan_data, "managed-care", ("md",))["md"]
    assert "| Current authorization | None on file |" in markdown
    assert "| Medications | None listed |" in markdown


def test_the_medicaid_summary_names_other_participants_not_other(plan_data):
    plan_data["contract"]["responsibilities"].append({"party": "other", "duties": ["Attend"]})
    plan_data["signatures"].append(
        {"role": "other", "name": "Tomas Vega", "declined_reason": "Will sign next time."}
    )
    markdown = render(plan_data, "medicaid", ("md",))["md"]
    participants = next(line for line in markdown.splitlines() if "| Participants |" in line)
    assert "Tomas Vega" in participants
    assert ", other" not in participants


def test_the_docx_keeps_a_short_list_with_its_intro_line_and_a_goal_quote_with_its_table():
    from plandoc.documents.docx_reference import reference_package
    from plandoc.documents.docx_writer import body_xml

    reference = reference_package("letter", 11)
    out = body_xml("When things get hard, you can:\n\n- a\n- b\n- c\n", reference).out
    assert ["<w:keepNext/>" in p for p in out] == [True, True, True, False]
    out = body_xml('> In X\'s words: "y"\n\n| A | B |\n|---|---|\n| 1 | 2 |\n', reference).out
    assert "<w:keepNext/>" in out[0]


def test_the_medicaid_summary_names_every_signer_with_their_role(plan_data):
    plan_data["signatures"] += [
        {"role": "other", "name": "Tomas Vega", "declined_reason": "Not present."},
        {"role": "guardian", "name": "Alicia Okafor", "date": "2026-10-29"},
    ]
    markdown = render(plan_data, "medicaid", ("md",))["md"]
    participants = next(line for line in markdown.splitlines() if "| Participants |" in line)
    assert participants == (
        "| Participants | Dana (client), Morgan Reyes (clinician), Tomas Vega, "
        "Alicia Okafor (guardian) |"
    )


def test_a_duty_that_speaks_of_risk_never_reaches_the_client_copy(plan_data):
    """The clinical record's view of risk (its level, its summary, a clinician's duty that
    names it) stays out of every format of the client copy; the standard plan keeps it."""
    duty = "Re-assess suicide risk and lethal means at every session"
    plan_data["contract"]["responsibilities"][1]["duties"].append(duty)
    plan_data["assessment"]["risk"] = {"level": "moderate", "summary": "Passive ideation in May."}
    with_safety_plan(plan_data)
    client = render(plan_data, "client-copy", ("md", "html", "docx"))
    texts = [client["md"], page_text(client["html"]), docx_text(client["docx"])]
    for text in texts:
        assert "Re-assess suicide risk" not in text and "Passive ideation" not in text
        assert "Moderate" not in text and "lethal means" not in text
    assert "Deliver CPT according to protocol" in client["md"]  # the other duties stay
    assert duty in render(plan_data, "standard", ("md",))["md"]


@pytest.mark.parametrize(
    "duty",
    [
        "Review self\u2011harm urges",  # a no-break hyphen
        "Review self\u00a0harm urges",  # a no-break space
        "Check sui\u00adcidal thoughts",  # a soft hyphen
        "Check ri\u200bsk level",  # a zero-width space
        "Check \uff52\uff49\uff53\uff4b level",  # fullwidth letters
        "Complete the C\u2011SSRS monthly",
    ],
)
def test_a_risk_word_printed_with_odd_characters_is_still_left_out(plan_data, duty):
    """Before, each of these reached the client copy: it prints as the word it hides."""
    plan_data["contract"]["responsibilities"][1]["duties"].append(duty)
    markdown = render(plan_data, "client-copy", ("md",))["md"]
    assert duty not in markdown and duty.split()[-1] in render(plan_data, "standard", ("md",))["md"]


@pytest.mark.parametrize(
    "duty",
    [
        "Ask about self-injury at each visit",
        "Review overdose prevention with her",
        "Ask whether he thinks of ending his life",
        "Assess dangerousness monthly",
        "Revisar conducta autolítica cada semana",
        "Preguntar por ideas de quitarse la vida",
    ],
)
def test_the_risk_words_cover_the_ways_clinicians_write_of_it(plan_data, duty):
    plan_data["contract"]["responsibilities"][1]["duties"].append(duty)
    assert duty not in render(plan_data, "client-copy", ("md",))["md"]
