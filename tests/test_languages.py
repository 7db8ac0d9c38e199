"""Languages of the client copy: the Spanish catalog is complete, a Spanish plan's client copy
holds no English text of plandoc's in any format and writes its dates in Spanish, a language
without a catalog is a clear error, and large print is 18 points in HTML and DOCX."""

from __future__ import annotations

import html
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from plandoc.checks.file import check_file
from plandoc.documents.documents import render_documents
from plandoc.layouts.languages import language_for

from .conftest import SAMPLES

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "templates" / "client-copy" / "locale" / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_SAMPLE = SAMPLES / "adult-depression-es.md"
# Written the same in both languages.
SAME_IN_SPANISH = {"No", "Fax"}
PLACEHOLDER = re.compile(r"%\([a-z]+\)s")


def catalog():
    with CATALOG.open("rb") as file:
        return read_po(file, locale="es")


def extracted_ids(tmp_path: Path) -> set[str]:
    """Every text `pybabel extract` finds with the repository's babel.cfg."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [Path(sys.executable).parent / "pybabel", "-q", "extract", "-F", "babel.cfg",
         "-o", str(pot), "--no-wrap", "."],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with pot.open("rb") as file:
        return {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(file) if m.id}


def test_every_extracted_text_has_a_spanish_translation(tmp_path):
    messages = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog() if m.id}
    missing = extracted_ids(tmp_path) - set(messages)
    assert not missing, f"not in the Spanish catalog (pybabel update, see docs): {missing}"
    for key, message in messages.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert all(strings), f"untranslated: {key!r}"
        assert not message.fuzzy, f"fuzzy: {key!r}"
        if key not in SAME_IN_SPANISH:
            assert strings[0] != ids[0], f"the same as the English: {key!r}"
        # The values put in a text: the translation has each placeholder of the English.
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= set(PLACEHOLDER.findall(ids[-1])), key
            assert set(PLACEHOLDER.findall(ids[0])) - {"%(num)s"} <= set(
                PLACEHOLDER.findall(string)
            ), key


def english_pieces() -> list[str]:
    """The English texts of the catalog, cut at their placeholders: the pieces of two
    letters or more that the Spanish translation does not itself contain."""
    pieces = set()
    for message in catalog():
        if not message.id or message.id in SAME_IN_SPANISH:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in ids:
            for piece in PLACEHOLDER.split(text):
                piece = piece.strip(" :;,.()\"'")
                wordy = len(piece) >= 2 and re.search("[A-Za-z]{2}", piece)
                if wordy and not any(re.search(rf"\b{re.escape(piece)}\b", s) for s in strings):
                    pieces.add(piece)
    return sorted(pieces, key=len, reverse=True)


def spanish_documents(formats=("md", "html", "docx", "pdf"), large_print=False):
    checked = check_file(SPANISH_SAMPLE, "client-copy")
    assert checked.plan is not None and not checked.layout_failed(checked.layout)
    return render_documents(checked.plan, checked.layout, formats, large_print=large_print)


def html_text(page: str) -> str:
    page = re.sub(r"(?s)<style>.*?</style>", " ", page)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = [n for n in package.namelist() if re.match(r"word/(document|header|footer)", n)]
        xml = " ".join(package.read(name).decode("utf-8") for name in parts)
    # The words, and the pictures' titles and descriptions (screen readers read them).
    texts = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)
    texts += re.findall(r'(?:title|descr)="([^"]*)"', xml)
    return html.unescape(" ".join(texts))


def pdf_text(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        message = "pdftotext (poppler) is not installed"
        if os.environ.get("PLANDOC_REQUIRE_TOOLS"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    pdf = tmp_path / "copy.pdf"
    pdf.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture(scope="module")
def spanish():
    return spanish_documents()


@pytest.mark.parametrize("fmt", ["md", "html", "docx", "pdf"])
def test_the_spanish_client_copy_has_no_english_text_of_plandoc(spanish, fmt, tmp_path):
    if fmt == "pdf":
        pytest.importorskip("typst")
    data = spanish[fmt]
    text = {
        "md": lambda: data.decode("utf-8"),
        "html": lambda: html_text(data.decode("utf-8")),
        "docx": lambda: docx_text(data),
        "pdf": lambda: pdf_text(data, tmp_path),
    }[fmt]()
    text = " ".join(text.split())
    left = [p for p in english_pieces() if re.search(rf"\b{re.escape(p)}\b", text)]
    assert not left, f"English left in the {fmt}: {left}"
    assert "de agosto de 2026" in text
    assert "Su plan de tratamiento" in text
    assert "Cómo sabremos que está funcionando" in text
    if fmt in ("html", "docx", "pdf"):
        assert "Página" in text or fmt == "html"  # the page numbers (HTML: in the CSS)


def test_the_spanish_html_numbers_its_pages_in_spanish(spanish):
    page = spanish["html"].decode("utf-8")
    assert r'"P\e1 gina " counter(page) " de " counter(pages)' in page
    assert '<html lang="es">' in page


def test_the_spanish_chart_reads_in_spanish(spanish):
    page = spanish["html"].decode("utf-8")
    assert "G1: PHQ-9 a lo largo del tiempo" in page
    assert "más bajo es mejor" in page and "meta 9" in page
    assert re.search(r">\d+ (ago|sept|oct) 2026<", page)  # the axis: the month short
    assert "moderadamente grave" in page  # the PHQ-9's bands, from the registry


def test_dates_in_english_read_as_before():
    checked = check_file(SAMPLES / "adult-ptsd.json", "client-copy")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "on August 3, 2026" in markdown


def test_a_language_without_a_catalog_is_an_error_naming_the_languages(tmp_path):
    text = SPANISH_SAMPLE.read_text("utf-8").replace("language: es", "language: fr-CA")
    plan = tmp_path / "plan.md"
    plan.write_text(text, "utf-8")
    checked = check_file(plan, ["client-copy", "standard"])
    problems = checked.layout_problems["client-copy"]
    assert [p.field for p in problems] == [("plan", "language")]
    message = str(problems[0])
    assert message.startswith(f"{plan}:7: plan.language: [client-copy]")
    assert "its languages are en, es" in message
    assert not checked.layout_failed(checked.layouts[1])  # standard is in English


def test_a_regional_tag_falls_back_to_its_language():
    checked = check_file(SPANISH_SAMPLE, "client-copy")
    layout = checked.layout
    assert language_for(layout, "es-MX") == "es"
    assert language_for(layout, "en-US") == "en"
    assert language_for(layout, "pt-BR") is None
    standard = check_file(SPANISH_SAMPLE, "standard").layout
    assert language_for(standard, "pt-BR") == "en"  # not translated: English


def test_payer_layouts_stay_in_english_for_a_spanish_plan():
    checked = check_file(SPANISH_SAMPLE, "standard")
    markdown = render_documents(checked.plan, checked.layout, ("md",))["md"].decode()
    assert "# Treatment Plan" in markdown and "Su plan" not in markdown


def test_large_print_is_18_points_in_html_and_docx():
    documents = spanish_documents(("html", "docx"), large_print=True)
    page = documents["html"].decode("utf-8")
    assert re.search(r"html, body \{ font-size: 18pt; line-height: 1\.7; \}", page)
    with zipfile.ZipFile(io.BytesIO(documents["docx"])) as package:
        styles = package.read("word/styles.xml").decode("utf-8")
    normal = re.search(r'<w:style [^>]*w:styleId="Normal".*?</w:style>', styles, re.S)
    assert normal and '<w:sz w:val="36"/>' in normal.group()  # half-points: 18 pt
    assert 'w:line="336"' in normal.group()  # 1.4 lines


def test_without_large_print_the_client_copy_keeps_its_size():
    documents = spanish_documents(("html",))
    assert "large print" not in documents["html"].decode("utf-8")


def test_start_up_does_not_import_babel():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "plandoc", "--version"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "babel" not in result.stderr and "jinja2" not in result.stderr


@pytest.mark.parametrize("large_print", [False, True], ids=["normal", "large-print"])
@pytest.mark.parametrize(
    "sample",
    sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md")),
    ids=lambda p: p.stem,
)
def test_the_crisis_box_is_on_the_first_page_of_every_client_copy(sample, large_print):
    """Crisis help first: the box's heading and every line of it on page 1 of the PDF,
    in the plan's language, in normal and in large print."""
    if not shutil.which("pdftotext"):
        if os.environ.get("PLANDOC_REQUIRE_TOOLS"):
            pytest.fail("pdftotext is missing")
        pytest.skip("poppler-utils is missing; .ci/run installs it")
    checked = check_file(sample, "client-copy")
    assert checked.plan is not None
    made = render_documents(checked.plan, checked.layout, ("md", "pdf"), large_print=large_print)
    markdown = made["md"].decode()
    box = markdown.split("> [!IMPORTANT]\n", 1)[1].split("\n\n", 1)[0]
    lines = [line.removeprefix("> ").replace("\\", "") for line in box.splitlines()]
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-", "-"],
        input=made["pdf"], capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    page = " ".join(first.split())
    for line in lines:
        words = " ".join(line.replace("**", "").split())
        if words and words != ">":
            assert words in page, (sample.name, words)
