"""Print layout checked on the rendered pages, not by eye: every sample and the stress plan
(tests/fixtures/stress-plan.json: 45 weekly scores, 10 goals, 6 signers, long names) in every
built-in layout, on Letter and A4, as the PDF and as the DOCX converted by LibreOffice.

- every date the plan shows is whole on one line of `pdftotext -layout`;
- each signature row's name and role sit on one line, the row on one page, and the whole
  signature block on one page.

PDFs need Typst, the DOCX checks LibreOffice and poppler: skipped, with the reason,
where one is missing (`.ci/run` installs them). Slow (marked `pdf` / `outside_tools`): every
document of a run is made once, and LibreOffice converts them all in one call.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from plandoc.checks.file import check_file
from plandoc.documents.compose import signature_rows
from plandoc.documents.table_widths import DATE_IN_TEXT

from .conftest import SAMPLES

AS_OF = dt.date(2026, 11, 30)  # every sample passes the payer layouts' rules on that day
STRESS = Path(__file__).parent / "fixtures" / "stress-plan.json"
PLANS = [*sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md")), STRESS]
LAYOUTS = ["standard", "client-copy", "managed-care", "medicare", "medicaid"]
SIZES = ["letter", "a4"]
# A signer's name up to this long sits on one line with the role; a longer one (the stress
# plan has some) wraps at its spaces and hyphens, never inside a word.
NAME_ON_ONE_LINE = 28
WORD = re.compile(r"[^\W\d_]{4,}")  # a word of letters, as long as a split would show
CASES = [(plan, layout, size) for plan in PLANS for layout in LAYOUTS for size in SIZES]


def _case_id(case: tuple[Path, str, str]) -> str:
    plan, layout, size = case
    return f"{plan.stem}-{layout}-{size}"


def _typst_missing() -> str | None:
    try:
        import typst  # noqa: F401
    except ImportError as error:
        return f"typst is missing ({type(error).__name__}): pip install 'plandoc[pdf]'"
    return None


needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils is missing; .ci/run installs it"
)


def _render(folder: Path, fmt: str) -> dict[tuple[Path, str, str], Path]:
    from plandoc.documents.documents import render_documents

    written = {}
    for plan, layout, size in CASES:
        checked = check_file(plan, layout, today=AS_OF)
        assert checked.plan is not None and not checked.layout_failed(checked.layout)
        path = folder / f"{plan.stem}.{layout}.{size}.{fmt}"
        path.write_bytes(
            render_documents(checked.plan, checked.layout, (fmt,), page_size=size)[fmt]
        )
        written[(plan, layout, size)] = path
    return written


def _text(pdf: Path) -> list[list[str]]:
    """The PDF's text as `pdftotext -layout` lays it out: pages of lines, spaces collapsed."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    text = text.replace("\u00a0", " ").replace("\u2011", "-")
    return [[re.sub(r"\s+", " ", line).strip() for line in page.splitlines()]
            for page in text.split("\f")]  # fmt: skip


def _markdown(plan: Path, layout: str) -> str:
    """The plan's document as Markdown, chart pictures and the fingerprint line (which no
    reader shows) aside."""
    from plandoc.documents.documents import render_documents

    checked = check_file(plan, layout, today=AS_OF)
    assert checked.plan is not None
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    return re.sub(r"^(!\[|\[//\]: # ).*$", "", markdown, flags=re.M)


def split_words(markdown: str, lines: str) -> list[str]:
    """The document's words that are whole nowhere on its pages: split by the renderer (a
    line may end at a hyphen: "Okafor-" / "Wojciechowska" are both whole words)."""
    text = re.sub(r"\]\([^)]*\)|<[^>]*>|https?://\S+|\[!\w+\]", " ", markdown)
    return sorted(set(WORD.findall(text)) - set(WORD.findall(lines)))


def test_a_word_split_by_the_renderer_is_found():
    markdown = "| Role | Name |\n|---|---|\n| Clinician | Okafor-Wojciechowska |\n> [!WARNING]\n"
    whole = "Role Name\nClinician Okafor-\nWojciechowska"
    assert split_words(markdown, whole) == []
    assert split_words(markdown, "Role Name\nClinicia Okafor-\nn Wojciechowska") == ["Clinician"]


def _check_pages(pdf: Path, plan: Path, layout: str) -> None:
    pages = _text(pdf)
    lines = "\n".join(line for page in pages for line in page)
    markdown = _markdown(plan, layout)
    shown = set(DATE_IN_TEXT.findall(markdown))
    broken = sorted(date for date in shown if date not in lines)
    assert shown and not broken, f"{pdf.name}: dates broken across lines: {broken}"
    split = split_words(markdown, lines)
    assert not split, f"{pdf.name}: words split across lines: {split[:10]}"
    if not re.search(r"^\|.*\| Signature \|", markdown, flags=re.M):
        return  # a layout without a signature block (the client's copy)
    checked = check_file(plan, layout, today=AS_OF)
    assert checked.plan is not None
    block_pages = set()
    for row in signature_rows(checked.plan, checked.layout):
        if not row.name:
            continue
        found = [
            number
            for number, page in enumerate(pages)
            for line in page
            if row.name in line and row.role in line
        ]
        if len(row.name) > NAME_ON_ONE_LINE:  # wraps, at its spaces and hyphens only
            words = re.split(r"(?<=-)|\s+", row.name)
            assert all(word in lines for word in words), f"{pdf.name}: {row.name!r} split"
            found = [n for n, page in enumerate(pages) for line in page if row.role in line]
        assert found, f"{pdf.name}: {row.role} {row.name!r} is not on one line"
        block_pages.add(found[-1])  # the block is the document's last
    assert len(block_pages) <= 1, f"{pdf.name}: the signature block spans pages {block_pages}"


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[tuple[Path, str, str], Path]:
    missing = _typst_missing()
    if missing:
        pytest.skip(missing)
    return _render(tmp_path_factory.mktemp("print-pdf"), "pdf")


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict[tuple[Path, str, str], Path]:
    """Every DOCX converted to PDF by LibreOffice, in one call."""
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is missing; .ci/run installs it")
    folder = tmp_path_factory.mktemp("print-docx")
    documents = _render(folder, "docx")
    out, profile = folder / "pdf", folder / "profile"  # never the user's profile
    result = subprocess.run(
        ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out), *map(str, documents.values())],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return {case: out / f"{path.stem}.pdf" for case, path in documents.items()}


@pytest.mark.pdf
@needs_poppler
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_pdf_keeps_dates_and_signature_rows_whole(pdfs, case):
    plan, layout, _ = case
    _check_pages(pdfs[case], plan, layout)


@pytest.mark.outside_tools
@needs_poppler
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_docx_through_libreoffice_keeps_dates_and_signature_rows_whole(converted, case):
    plan, layout, _ = case
    _check_pages(converted[case], plan, layout)


# --- the signature block's columns, without outside tools ---------------------------


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.stem)
def test_the_signature_column_leaves_room_to_sign_and_the_block_is_not_a_grid(plan):
    """Signer (name, credentials) | Role | Signature | Date: the signature takes at least
    35% of the width in HTML and DOCX; the DOCX block has no grid lines, only lines to
    write on, so a blank line is never doubled by a cell border."""
    import io
    import zipfile

    from plandoc.documents.documents import render_documents

    checked = check_file(plan, "standard", today=AS_OF)
    assert checked.plan is not None
    made = render_documents(checked.plan, checked.layout, ("html", "docx"))
    html = made["html"].decode()
    block = html[html.index('<table class="signatures">') :]
    block = block[: block.index("</table>")]
    assert re.findall(r'<th scope="col">(\w+)</th>', block) == [
        "Signer",
        "Role",
        "Signature",
        "Date",
    ]
    shares = [float(w) for w in re.findall(r'<col style="width:([\d.]+)%">', block)]
    assert shares[2] >= 35 and abs(sum(shares) - 100) < 0.1, shares
    for row in signature_rows(checked.plan, checked.layout):
        signer = f"{row.name}, {row.credentials}" if row.credentials else row.name
        assert f"<td>{signer}</td><td>{row.role}</td>" in block
    body = zipfile.ZipFile(io.BytesIO(made["docx"])).read("word/document.xml").decode()
    table = next(t for t in body.split("<w:tbl>") if ">Signature<" in t.split("</w:tr>")[0])
    grid = [int(w) for w in re.findall(r'<w:gridCol w:w="(\d+)"/>', table)]
    assert grid[2] >= 0.35 * sum(grid), grid
    assert '<w:insideH w:val="nil"/>' in table and '<w:insideV w:val="nil"/>' in table


def test_a_very_long_signer_name_wraps_and_the_signature_keeps_its_room():
    from plandoc.documents.table_widths import column_widths, signature_columns

    header = ["Signer", "Role", "Signature", "Date"]
    one_line, grow = signature_columns(header)
    assert one_line == [False, True, False, True] and grow == 2
    columns = [
        ["Signer", "Anastasia Wilhelmina Nakamura-Oyelaran-Featherstonehaugh, PhD, LP, ABPP"],
        ["Role", "Clinical supervisor"],
        ["Signature", "_" * 24],
        ["Date", "12/31/2026"],
    ]
    widths = column_widths(columns, 10199, 9.5, one_line, grow)
    assert sum(widths) == 10199 and widths[2] >= 0.35 * 10199
    assert widths[1] >= len("Clinical supervisor") * 100 and widths[3] >= len("12/31/2026") * 100
