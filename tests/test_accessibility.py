"""Accessibility (issue 17, part 4), over every sample in every built-in layout.

- HTML: axe-core in a real headless Chromium finds no violation of WCAG 2.1 A/AA
  (nor of axe's best practices: one banner, headings in order...), Letter and A4;
  key/value tables head their rows, never their columns, with plan data.
- PDF: tagged (PDF/UA-1), with a title and the plan's language, and a structure
  tree that holds the headings and the tables.
- DOCX: every picture described, header rows marked, the plan's language set.

The browser check needs Chromium (/usr/bin/chromium, or $PLANDOC_CHROMIUM), the
`playwright` package (the test extra) and axe-core from npm (`axe.min.js` under
`tests/browser/node_modules/`, `npm ci --prefix tests/browser`, or $PLANDOC_AXE).
`.ci/run` installs them and sets PLANDOC_REQUIRE_TOOLS, so in CI a missing one FAILS,
saying how to install it: the check never passes there by being skipped. On a
developer's machine without them, the check is skipped with that reason, as the
README says of every outside tool.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import re
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path

import pytest

from plandoc.checks.file import check_file
from plandoc.documents import table_widths
from plandoc.documents.documents import render_documents

from .conftest import ROOT, SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
LAYOUTS = ["standard", "client-copy", "managed-care", "medicare", "medicaid"]
PAGE_SIZES = ["letter", "a4"]
AS_OF = dt.date(2026, 11, 30)  # a date every sample passes every payer's rules on

CHROMIUM = os.environ.get("PLANDOC_CHROMIUM", "/usr/bin/chromium")
AXE = Path(os.environ.get("PLANDOC_AXE", ROOT / "tests/browser/node_modules/axe-core/axe.min.js"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
INSTALL = (
    "install them as .ci/run does: apt-get install chromium; "
    "pip install -e '.[test]' (playwright; never `playwright install`, the system Chromium is used); "
    "npm ci --prefix tests/browser (axe-core, the version in tests/browser/package.json)"
)


@cache
def documents(sample: Path, layout: str, page_size: str, fmt: str) -> bytes:
    checked = check_file(sample, layout, today=AS_OF)
    assert checked.plan is not None and not checked.layout_failed(checked.layout), (
        sample.name,
        layout,
    )
    return render_documents(checked.plan, checked.layout, (fmt,), page_size=page_size)[fmt]


def _missing(message: str) -> None:
    """A tool this check needs is missing: skipped with the reason on a developer's machine
    (as the README says), a failure where PLANDOC_REQUIRE_TOOLS is set: `.ci/run` sets it,
    so CI never passes without the check."""
    if os.environ.get("PLANDOC_REQUIRE_TOOLS"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _browser_missing(chromium: str = CHROMIUM, axe: Path = AXE) -> str | None:
    missing = []
    if not Path(chromium).is_file():
        missing.append(f"Chromium ({chromium})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if not axe.is_file():
        missing.append(f"axe-core ({axe})")
    return f"{', '.join(missing)} missing: {INSTALL}" if missing else None


@pytest.fixture(scope="module")
def browser_page():
    missing = _browser_missing()
    if missing:
        _missing(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def axe_violations(page, path: Path) -> list[str]:
    page.goto(path.as_uri())
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}: "
        + "; ".join(node["html"][:120] for node in violation["nodes"][:3])
        for violation in result["violations"]
    ]


@pytest.mark.browser
@pytest.mark.parametrize("page_size", PAGE_SIZES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_axe_core_finds_no_violation_in_chromium(browser_page, tmp_path, sample, layout, page_size):
    path = tmp_path / f"{sample.stem}.{layout}.{page_size}.html"
    path.write_bytes(documents(sample, layout, page_size, "html"))
    assert axe_violations(browser_page, path) == []


def test_the_browser_check_fails_saying_how_to_install_what_is_missing():
    message = _browser_missing("/nonexistent/chromium", Path("/nonexistent/axe.min.js"))
    assert message and message.startswith("Chromium (/nonexistent/chromium), axe-core")
    assert "apt-get install chromium" in message and "npm ci --prefix tests/browser" in message


# --- HTML structure, without a browser ---------------------------------------------------


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_key_value_tables_head_rows_and_never_put_plan_data_in_a_column_header(sample, layout):
    page = documents(sample, layout, "letter", "html").decode()
    checked = check_file(sample, layout, today=AS_OF)
    plan = checked.plan
    assert plan is not None
    column_headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', page, flags=re.S)
    for value in (plan.client.name, plan.plan.id, plan.provider.name):
        assert not [h for h in column_headers if value in h], value
    assert re.search(r'<html lang="' + re.escape(plan.plan.language) + '"', page)
    if layout != "client-copy":  # the client copy has no identification table
        assert '<tr><th scope="row">' in page


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_landmarks_headings_in_order_and_charts_with_a_text_alternative(sample, layout):
    page = documents(sample, layout, "letter", "html").decode()
    body = page.split("<body>", 1)[1]
    assert body.count("<header>") == 1 and body.count("<main>") == 1
    assert body.index("</header>") < body.index("<main>")
    levels = [int(level) for level in re.findall(r"<h([1-6])>", body)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels
    for chart in re.findall(r'<span class="chart">(.*?)</span>\n?</p>', body, flags=re.S):
        assert 'role="img"' in chart and "<title " in chart and "<desc " in chart
        data = re.search(r'<span class="chart-data">(.*?)</span>', chart)
        english = r"target .*\d on "  # or the Spanish client copy's words
        assert data and re.search(
            rf"(?:{english}|meta: .*\d el )(?:{table_widths.DATE})|"
            rf"\d (?:on|el) (?:{table_widths.DATE}).*(?:target|meta)",
            data.group(1),
        )


# --- PDF ---------------------------------------------------------------------------------


def _structure_types(pdf: bytes) -> list[str]:
    import pypdf

    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    found: list[str] = []
    stack = [root["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, pypdf.generic.DictionaryObject):
            if "/S" in node:
                found.append(str(node["/S"]))
            if "/K" in node:
                stack.append(node["/K"])
        elif isinstance(node, pypdf.generic.ArrayObject):
            stack.extend(node)
    return found


@pytest.mark.pdf
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_the_pdf_is_tagged_titled_in_the_plans_language_with_headings_and_tables(
    sample, layout, tmp_path
):
    import pypdf

    if not shutil.which("pdfinfo"):
        _missing("pdfinfo is missing: apt-get install poppler-utils (.ci/run does)")
    pdf = documents(sample, layout, "letter", "pdf")
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    assert re.search(r"^Tagged:\s+yes$", info.stdout, flags=re.M), info.stdout
    assert re.search(r"^Title:\s+\S", info.stdout, flags=re.M), info.stdout
    root = pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    plan = check_file(sample, layout, today=AS_OF).plan
    assert plan is not None and str(root["/Lang"]) == plan.plan.language
    assert root["/MarkInfo"]["/Marked"] and root["/ViewerPreferences"]["/DisplayDocTitle"]
    types = _structure_types(pdf)
    assert types.count("/H1") == 1 and "/H2" in types
    html = documents(sample, layout, "letter", "html")
    tables = html.count(b"<table>") + html.count(b'<table class="signatures">')
    # Every table is tagged; one split across pages may be tagged once a page.
    assert types.count("/Table") >= tables  # the client copy of a plan may have none
    if tables:
        for kind in ("/TR", "/TH", "/TD"):
            assert kind in types, kind


# --- DOCX --------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", PAGE_SIZES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_the_docx_describes_every_picture_marks_header_rows_and_sets_the_language(
    sample, layout, page_size
):
    package = zipfile.ZipFile(io.BytesIO(documents(sample, layout, page_size, "docx")))
    body = package.read("word/document.xml").decode()
    pictures = re.findall(r"<wp:docPr [^>]*>", body)
    assert len(pictures) == len(re.findall(r"<w:drawing>", body))
    for picture in pictures:
        assert re.search(r'descr="[^"]{10,}"', picture), picture
    media = [n for n in package.namelist() if n.startswith("word/media/")]
    assert len(media) == len(pictures)
    tables = re.findall(r"<w:tbl>.*?</w:tbl>", body, flags=re.S)
    for table in tables:
        rows = re.findall(r"<w:tr>.*?</w:tr>", table, flags=re.S)
        headers = ["<w:tblHeader/>" in row for row in rows]
        # A header row is the first row (never one in the middle); a key/value
        # table has none.
        assert headers in ([False] * len(rows), [True] + [False] * (len(rows) - 1)), headers
    html_headers = documents(sample, layout, page_size, "html").count(b"<thead>")
    assert sum("<w:tblHeader/>" in table for table in tables) == html_headers
    plan = check_file(sample, layout, today=AS_OF).plan
    assert plan is not None
    styles = package.read("word/styles.xml").decode()
    defaults = styles.split("<w:rPrDefault>", 1)[1].split("</w:rPrDefault>", 1)[0]
    assert f'<w:lang w:val="{plan.plan.language}"' in defaults
