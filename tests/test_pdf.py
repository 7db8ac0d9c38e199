"""PDF copies: Typst laying out the document given as data, read back with poppler (pdfinfo,
pdftotext)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents import pdf_writer
from plandoc.documents.compose import page_words
from plandoc.documents.documents import render_documents
from plandoc.errors import PlandocError
from plandoc.layouts import find_layout
from plandoc.layouts.languages import document_language

from .conftest import ROOT, SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))
BUILT_IN = ["standard", "client-copy", "medicare", "medicaid", "managed-care"]


def _typst_works() -> str | None:
    try:
        import typst  # noqa: F401
    except ImportError as error:
        return f"typst is missing ({error}); pip install 'plandoc[pdf]'"
    if not shutil.which("pdftotext") or not shutil.which("pdfinfo"):
        return "poppler-utils (pdftotext, pdfinfo) is missing; .ci/run installs it"
    return None


MISSING = _typst_works()
needs_pdf = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def pdf_of(sample: Path, layout: str, page_size: str | None = None) -> bytes:
    checked = check_file(sample, layout)
    assert checked.plan is not None
    return render_documents(checked.plan, checked.layout, ("pdf",), page_size=page_size)["pdf"]


def poppler(tool: str, pdf: bytes, tmp_path: Path, *arguments: str) -> str:
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([tool, *arguments, str(path), "-"] if tool == "pdftotext" else
                            [tool, str(path)], capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout


@needs_pdf
@pytest.mark.parametrize("layout", BUILT_IN)
@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_every_sample_in_every_layout_prints_with_header_and_page_numbers(sample, layout, tmp_path):
    pdf = pdf_of(sample, layout)
    info = poppler("pdfinfo", pdf, tmp_path)
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    checked = check_file(sample, layout)
    plan = checked.plan
    words = document_language(checked.layout, plan.plan.language)  # a translated layout's
    title = words.gettext(checked.layout.title)
    assert f"Title:           {title} {plan.plan.id} v{plan.plan.version}" in info
    assert plan.client.name not in info.split("Producer")[0]  # not in the metadata
    text = poppler("pdftotext", pdf, tmp_path, "-layout")
    page_texts = text.split("\f")[:pages]
    assert len(page_texts) == pages
    for number, page in enumerate(page_texts, 1):
        before, between, after = page_words(words)  # "Page X of Y" in the document's words
        assert f"{before}{number}{between}{pages}{after}" in page, (number, page[-300:])
        plan_words = words.gettext("Plan %(id)s v%(version)s")
        assert plan_words % {"id": plan.plan.id, "version": plan.plan.version} in page
    for goal in plan.goals:  # every goal is on paper
        assert goal.statement.split()[0] in text


@needs_pdf
def test_page_size_comes_from_the_layout_unless_overridden(tmp_path):
    sample = SAMPLES / "adult-ptsd.json"
    assert find_layout("standard").page_size == "letter"
    assert "612 x 792 pts (letter)" in poppler("pdfinfo", pdf_of(sample, "standard"), tmp_path)
    a4 = poppler("pdfinfo", pdf_of(sample, "standard", page_size="a4"), tmp_path)
    assert "(A4)" in a4


@needs_pdf
def test_two_renders_are_byte_identical_even_in_another_process(tmp_path):
    sample = SAMPLES / "adolescent-depression.md"
    first = pdf_of(sample, "standard")
    assert first == pdf_of(sample, "standard")
    script = (
        "import sys; from pathlib import Path; from plandoc.checks.file import check_file; "
        "from plandoc.documents.documents import render_documents; c = check_file(Path(sys.argv[1]), 'standard'); "
        "sys.stdout.buffer.write(render_documents(c.plan, c.layout, ('pdf',))['pdf'])"
    )
    # Another moment too: font subsets must not be stamped with the clock (fontTools
    # stamps them with SOURCE_DATE_EPOCH when set, else the time of writing).
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "86400"}
    other = subprocess.run(
        [sys.executable, "-c", script, str(sample)],
        capture_output=True,
        check=True,
        env=environment,
    ).stdout
    assert other == first


@needs_pdf
def test_the_dates_and_fonts_come_from_the_plan_and_are_embedded(tmp_path):
    pdf = pdf_of(SAMPLES / "adult-ptsd.json", "standard")
    info = poppler("pdfinfo", pdf, tmp_path)
    assert "CreationDate:    Mon Aug  3 00:00:00 2026 UTC" in info
    assert "ModDate:         Thu Oct 29 00:00:00 2026 UTC" in info
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    rows = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(" yes " in row for row in rows)  # every font embedded


@needs_pdf
def test_render_and_build_make_pdf_when_asked(tmp_path):
    runner = CliRunner()
    rendered = runner.invoke(
        main, ["render", str(SAMPLES / "adult-ptsd.json"), "-f", "pdf", "-o", str(tmp_path / "r")]
    )
    assert rendered.exit_code == 0, rendered.output
    assert (tmp_path / "r" / "TP-2026-0042-v2.standard.pdf").read_bytes().startswith(b"%PDF-")
    built = runner.invoke(
        main, ["build", str(SAMPLES), "-o", str(tmp_path / "b"), "-f", "html,pdf", "-j", "1"]
    )
    assert built.exit_code == 0, built.output
    assert len(list((tmp_path / "b").glob("*.pdf"))) == len(list(SAMPLES.iterdir()))
    again = runner.invoke(
        main, ["build", str(SAMPLES), "-o", str(tmp_path / "b"), "-f", "html,pdf", "-j", "1"]
    )
    assert f"0 built, {len(list(SAMPLES.iterdir()))} current" in again.output
    a4 = runner.invoke(
        main,
        ["build", str(SAMPLES), "-o", str(tmp_path / "b"), "-f", "html,pdf", "--page-size", "a4"],
    )
    assert (
        f"{len(list(SAMPLES.iterdir()))} built" in a4.output
    )  # another page size is another document


def test_without_typst_pdf_is_a_clear_error_and_other_formats_still_work(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "typst", None)  # import fails
    monkeypatch.setattr(pdf_writer, "_compiler", pdf_writer._compiler.__wrapped__)
    checked = check_file(SAMPLES / "adult-ptsd.json")
    with pytest.raises(PlandocError, match="md, html and docx still work"):
        render_documents(checked.plan, checked.layout, ("pdf",))
    assert render_documents(checked.plan, checked.layout, ("html",))["html"]
    result = CliRunner().invoke(
        main, ["render", str(SAMPLES / "adult-ptsd.json"), "-f", "pdf", "-o", str(tmp_path)]
    )
    assert result.exit_code == 1 and "pip install 'plandoc[pdf]'" in result.output
    assert "Traceback" not in result.output and not list(tmp_path.glob("*.pdf"))


@needs_pdf
def test_a_table_crossing_a_page_repeats_its_header_row(tmp_path, plan_data, write_plan):
    import datetime as dt

    start = dt.date(2026, 8, 3)
    plan_data["goals"][0]["progress"] = [
        {"date": (start + dt.timedelta(days=i)).isoformat(), "score": 52 - i // 3,
         "note": f"Session {i + 1}: worksheet reviewed."}
        for i in range(70)
    ]  # fmt: skip
    checked = check_file(write_plan(plan_data), today=dt.date(2026, 11, 26))
    assert not checked.failed(), [str(p) for p in checked.problems]
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    pages = poppler("pdftotext", pdf, tmp_path, "-layout").split("\f")
    carrying = [page for page in pages if "Session 3" in page or "Session 60" in page]
    with_rows = [page for page in pages if "worksheet reviewed" in page]
    assert len(with_rows) >= 2  # the table crosses at least one page break
    assert all("Progress date" in page and "Score" in page for page in with_rows), carrying


PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@needs_pdf
def test_a_pdf_loads_no_file_or_url_even_when_a_layout_names_one(tmp_path):
    (tmp_path / "secret.png").write_bytes(PIXEL)
    folder = tmp_path / "layouts" / "leaky"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('extends = "standard"\ntitle = "Leaky"\n')
    style = (ROOT / "templates" / "standard" / "style.css").read_text()
    (folder / "style.css").write_text(
        style + f'\nbody {{ background: url("{(tmp_path / "secret.png").as_uri()}") }}\n'
    )
    checked = check_file(SAMPLES / "adult-ptsd.json", "leaky", [folder.parent])
    assert checked.plan is not None

    def pdf() -> bytes:
        return render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]

    assert b"/Subtype /Image" not in pdf() and b"/Subtype/Image" not in pdf()
    # The layout's stylesheet styles the HTML only; Typst runs plandoc's own program, in a
    # folder holding nothing else (see tests/test_pdf_typst.py for text that asks to read).
    assert sorted(p.name for p in pdf_writer.PROGRAM.parent.iterdir()) == ["plan.typ"]


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(
    str.strip
)
FIELDS = [("client", "name"), ("goals", 0, "statement"), ("goals", 0, "client_words"),
          ("methods", 0, "description"), ("presenting_problem", "text")]  # fmt: skip


@needs_pdf
@settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "4")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(texts=st.lists(TEXT, min_size=len(FIELDS), max_size=len(FIELDS)))
def test_any_text_that_validates_prints_in_every_layout_that_makes_html(tmp_path, plan_data, texts):
    for (*parents, key), text in zip(FIELDS, texts, strict=True):
        target = plan_data
        for part in parents:
            target = target[part]
        target[key] = text
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    for layout in BUILT_IN:
        checked = check_file(tmp_path / "plan.json", layout)
        if checked.plan is None or checked.layout_failed(checked.layout):
            continue
        pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
        assert "Page 1 of" in poppler("pdftotext", pdf, tmp_path), layout


@needs_pdf
def test_a_layouts_own_page_template_still_gets_the_plans_dates_and_title(tmp_path):
    folder = tmp_path / "layouts" / "plain"
    folder.mkdir(parents=True)
    (folder / "layout.toml").write_text('extends = "standard"\ntitle = "Plain Plan"\n')
    (folder / "page.html.j2").write_text(
        "<!DOCTYPE html><html><head><meta charset=utf-8><title></title></head>"
        "<body>{{ body }}</body></html>\n"
    )
    checked = check_file(SAMPLES / "adult-ptsd.json", "plain", [folder.parent])
    assert checked.plan is not None
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    info = poppler("pdfinfo", pdf, tmp_path)
    assert "CreationDate:    Mon Aug  3 00:00:00 2026 UTC" in info
    assert "ModDate:         Thu Oct 29 00:00:00 2026 UTC" in info
    assert "Author:          Morgan Reyes" in info and "TP-2026-0042" in info
    assert render_documents(checked.plan, checked.layout, ("pdf",))["pdf"] == pdf


@needs_pdf
def test_a_long_word_in_a_table_cell_costs_time_linear_in_its_length(write_plan, plan_data):
    """An unbreakable word in a table cell once cost the PDF time growing with the square of
    its length (WeasyPrint: a 3,000-letter method name took 35 s); the document gives it a
    break opportunity every 20 characters instead."""

    def seconds(length: int) -> float:
        plan_data["methods"][0]["name"] = "A" * length
        checked = check_file(write_plan(plan_data, f"plan-{length}.json"), "standard")
        assert checked.plan is not None and not checked.failed()
        started = time.process_time()
        pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
        assert pdf.startswith(b"%PDF")
        return time.process_time() - started

    assert seconds(2000) / seconds(500) < 4  # quadratic made it about 7 (2 s, then 14 s)


PROSE = "sessions focus on the avoidance and the thoughts that keep it going " * 100


@pytest.mark.parametrize(
    ("where", "text"),
    [
        (("methods", 0, "description"), lambda n: PROSE[:n]),  # a table cell of ordinary prose
        (("client", "pronouns"), lambda n: "a " * (n // 2)),  # a short table cell, long
        (("client", "name"), lambda n: "a\u3000" * (n // 2)),  # the running header
    ],
    ids=["prose in a cell", "many short words", "the running header"],
)
@needs_pdf
def test_text_in_a_table_or_the_header_costs_pdf_time_linear_in_its_length(
    write_plan, plan_data, where, text
):
    """An automatic table layout (WeasyPrint's) took time growing with the square of a cell's
    text (4,000 characters of prose: 21 s); the columns come from the content."""

    def seconds(length: int) -> float:
        part = plan_data
        for key in where[:-1]:
            part = part[key]
        part[where[-1]] = text(length)
        checked = check_file(write_plan(plan_data, f"plan-{length}.json"), "standard")
        assert checked.plan is not None and not checked.failed(), checked.all_problems
        started = time.process_time()
        render_documents(checked.plan, checked.layout, ("pdf",))
        return time.process_time() - started

    assert seconds(2000) / seconds(500) < 4  # quadratic made it 6 and more
