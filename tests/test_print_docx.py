"""Pagination and alignment of the Word document (issue 17, "print quality"), checked in its
XML and on the pages LibreOffice makes of it, for the stress plan (45 weekly scores, 10 goals)
and the sample with a safety plan, in the standard and client-copy layouts, Letter and A4.

- a heading keeps with what follows it; no table row splits across pages; a header row
  repeats; a short table stays on one page, a long one keeps its first and last rows together;
- a goal's opening block (heading, quote, measure table) keeps with its objectives: on paper
  the goal's heading and its first objective are on one page;
- every key/value table of a document has the same label column, in DOCX and HTML;
- the chart PNG's text is in the body's face (Arial, or its metric twin Liberation Sans).

The page checks need LibreOffice and poppler: skipped, with the reason, where one is
missing, and a failure where PLANDOC_REQUIRE_TOOLS is set (`.ci/run` sets it).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from plandoc.checks.file import check_file
from plandoc.documents.documents import render_documents

from .test_print import AS_OF, STRESS, _text

SAFETY = Path(__file__).parent.parent / "inputs" / "adolescent-depression.md"
SIZES = ["letter", "a4"]
HEADING = re.compile(r'<w:pStyle w:val="(?:Title|Heading\d)"/>')


def _missing(reason: str) -> None:
    if os.environ.get("PLANDOC_REQUIRE_TOOLS"):
        pytest.fail(f"{reason}, and PLANDOC_REQUIRE_TOOLS is set")
    pytest.skip(reason)


def _render(plan: Path, layout: str, fmt: str, size: str = "letter") -> bytes:
    checked = check_file(plan, layout, today=AS_OF)
    assert checked.plan is not None and not checked.layout_failed(checked.layout)
    return render_documents(checked.plan, checked.layout, (fmt,), page_size=size)[fmt]


def _body(docx: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(docx)) as package:
        return package.read("word/document.xml").decode("utf-8")


def _tables(body: str) -> list[str]:
    return re.findall(r"<w:tbl>.*?</w:tbl>", body, flags=re.S)


def _rows(table: str) -> list[str]:
    return re.findall(r"<w:tr>.*?</w:tr>", table, flags=re.S)


def _keeps(row: str) -> bool:
    """Every paragraph of the row keeps with the next."""
    paragraphs = re.findall(r"<w:p>.*?</w:p>", row, flags=re.S)
    return bool(paragraphs) and all("<w:keepNext/>" in p for p in paragraphs)


# --- the XML -----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["standard", "client-copy"])
def test_docx_headings_keep_with_next_and_table_rows_never_split(layout):
    body = _body(_render(STRESS, layout, "docx"))
    headings = [p for p in re.findall(r"<w:p>.*?</w:p>", body, flags=re.S) if HEADING.search(p)]
    assert headings and all("<w:keepNext/>" in p for p in headings)
    tables = _tables(body)
    assert tables
    for table in tables:
        rows = _rows(table)
        assert all("<w:cantSplit/>" in row for row in rows)
        header = 'w:firstRow="1"' in table
        assert ("<w:tblHeader/>" in rows[0]) == header
        body_rows = len(rows) - header
        if body_rows <= 6:  # short: on one page, every row keeping with the next but the last
            assert all(_keeps(row) for row in rows[:-1]), rows[0][:200]
        else:  # long: may break between rows, but keeps its first and last rows together
            assert all(_keeps(row) for row in rows[: header + 2])
            assert all(_keeps(row) for row in rows[-3:-1])
            assert not all(_keeps(row) for row in rows[:-1])


def test_docx_goal_opening_block_keeps_with_its_objectives():
    """The goal's quote and measure table keep with the objectives table after them: the
    measure table's last row too, and the spacing paragraph after it."""
    body = _body(_render(STRESS, "standard", "docx"))
    blocks = re.findall(r"<w:tbl>.*?</w:tbl><w:p>.*?</w:p>", body, flags=re.S)
    measures = [block for block in blocks if ">Measure<" in block]
    assert len(measures) == 10  # one per goal
    for block in measures:
        table, spacing = block.rsplit("</w:tbl>", 1)
        assert all(_keeps(row) for row in _rows(table)), "the measure table's rows"
        assert "<w:keepNext/>" in spacing


@pytest.mark.parametrize("plan", [STRESS, SAFETY], ids=lambda p: p.stem)
def test_key_value_tables_share_one_label_column_in_docx_and_html(plan):
    body = _body(_render(plan, "standard", "docx"))
    keyed = [t for t in _tables(body) if 'w:firstRow="0"' in t]
    firsts = {re.search(r'<w:gridCol w:w="(\d+)"/>', t).group(1) for t in keyed}
    assert len(keyed) >= 4 and len(firsts) == 1, firsts
    html = _render(plan, "standard", "html").decode()
    tables = re.findall(r"<table>\n<colgroup>(.*?)</colgroup>(.*?)</table>", html, flags=re.S)
    keyed_html = [cols for cols, rows in tables if '<th scope="row">' in rows]
    firsts_html = {re.search(r"width:([\d.]+)%", cols).group(1) for cols in keyed_html}
    assert len(keyed_html) == len(keyed) and len(firsts_html) == 1, firsts_html
    # as wide as the widest label asks: "Emergency contact", "Progress as of ..." on one line
    assert 16 <= float(firsts_html.pop()) <= 38


def test_chart_png_text_is_in_the_documents_body_face():
    from plandoc.documents import charts

    name = charts._font(20).getname()[0]
    if name not in ("Liberation Sans", "Arial"):
        _missing("neither Liberation Sans (fonts-liberation) nor Arial is installed")
    assert name in ("Liberation Sans", "Arial")


# --- the pages LibreOffice makes ------------------------------------------------------


CASES = [(plan, layout, size) for plan in (STRESS, SAFETY)
         for layout in ("standard", "client-copy") for size in SIZES]  # fmt: skip


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[tuple[Path, str, str], list[list[str]]]:
    """Each case's DOCX made into a PDF by LibreOffice, as pdftotext's pages of lines."""
    if not shutil.which("soffice"):
        _missing("LibreOffice is missing; .ci/run installs it")
    if not shutil.which("pdftotext"):
        _missing("poppler-utils is missing; .ci/run installs it")
    folder = tmp_path_factory.mktemp("docx-pages")
    documents = {}
    for plan, layout, size in CASES:
        path = folder / f"{plan.stem}.{layout}.{size}.docx"
        path.write_bytes(_render(plan, layout, "docx", size))
        documents[(plan, layout, size)] = path
    out, profile = folder / "pdf", folder / "profile"  # never the user's profile
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, documents.values())],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {case: _text(out / f"{path.stem}.pdf") for case, path in documents.items()}


def _page_of(pages: list[list[str]], pattern: str) -> int:
    found = [n for n, page in enumerate(pages) for line in page if re.search(pattern, line)]
    assert found, pattern
    return found[0]


@pytest.mark.outside_tools
@pytest.mark.parametrize("size", SIZES)
def test_libreoffice_a_goal_opens_on_the_page_of_its_first_objective(pages, size):
    """Before: on Letter, goals 2-10 each opened at the foot of a page (heading, quote,
    measure table) and their objectives began the next."""
    document = pages[(STRESS, "standard", size)]
    for goal in range(1, 11):
        opens = _page_of(document, rf"^Goal G{goal} \(")
        objective = _page_of(document, rf"^G{goal}\.1 ")
        assert opens == objective, (
            f"goal {goal}: heading on page {opens + 1}, objective on {objective + 1}"
        )


def _last_lines(document: list[list[str]]) -> list[str]:
    """Each page's last line of text, the footer aside."""
    ends = []
    for page in document[:-1]:
        lines = [line for line in page if line and not re.search(r"Page \d+ of \d+$", line)]
        lines = [line for line in lines if not line.startswith("Your copy of your treatment plan")]
        if lines:
            ends.append(lines[-1])
    return ends


@pytest.mark.outside_tools
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("plan", [STRESS, SAFETY], ids=lambda p: p.stem)
def test_libreoffice_no_standard_page_ends_with_a_heading(pages, plan, size):
    markdown = _render(plan, "standard", "md").decode()
    headings = {h.strip() for h in re.findall(r"^#{1,4} (.+)$", markdown, flags=re.M)}
    stranded = [line for line in _last_lines(pages[(plan, "standard", size)]) if line in headings]
    assert not stranded, f"pages ending with a heading: {stranded}"


@pytest.mark.outside_tools
@pytest.mark.parametrize("size", SIZES)
def test_libreoffice_things_you_can_do_on_your_own_stays_with_its_first_item(pages, size):
    document = pages[(SAFETY, "client-copy", size)]
    heading = _page_of(document, r"^Things you can do on your own$")
    item = _page_of(document, r"Play bass along with a favourite album")
    assert heading == item


@pytest.mark.pdf
@pytest.mark.parametrize("size", SIZES)
def test_pdf_a_goal_opens_on_the_page_of_its_first_objective(tmp_path, size):
    """The HTML's opening block (heading, quote, measure table) keeps with the objectives
    table after it (`break-before: avoid`): on A4 a goal taller than a page broke there."""
    from .test_print import _typst_missing

    missing = _typst_missing()
    if missing:
        _missing(missing)
    if not shutil.which("pdftotext"):
        _missing("poppler-utils is missing; .ci/run installs it")
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(_render(STRESS, "standard", "pdf", size))
    document = _text(pdf)
    for goal in range(1, 11):
        opens = _page_of(document, rf"^Goal G{goal} \(")
        assert opens == _page_of(document, rf"^G{goal}\.1 "), f"goal {goal}"
