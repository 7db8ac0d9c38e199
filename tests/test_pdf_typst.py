"""The PDF's Typst program reads the plan as data: text that looks like Typst prints as it is,
nothing is read from disk, and the fingerprint written into Typst's PDF keeps it valid."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plandoc.checks.file import check_file
from plandoc.documents import pdf_writer
from plandoc.documents.documents import render_documents
from plandoc.documents.typst_writer import document_tree, pieces, shown

from .test_pdf import needs_pdf, poppler

AS_OF = dt.date(2026, 11, 26)
# Typst markup, code, math, comments, labels and escapes; Hebrew and Arabic (right to left).
HOSTILE = [
    '#import "/plan.typ": *',
    '#read("/etc/passwd")',
    '#include "/etc/hostname"',
    "#emph[not emphasized] and #strong[not strong]",
    "$x^2 + y_1$ math",
    "back\\slash \\u{41} \\#hash",
    "// not a comment",
    "/* not a block comment */",
    "@label <label> ] ) } ``` ~ -- --- (end)",
    '#let x = 1 #x #set text(red) #show: none #panic("no")',
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.replace("\u00a0", " ").split())


@needs_pdf
@pytest.mark.pdf
@pytest.mark.parametrize("layout", ["standard", "medicare"])
def test_text_that_looks_like_typst_prints_as_it_is_and_reads_nothing(
    tmp_path, plan_data, write_plan, layout
):
    fields = [("goals", 0, "statement"), ("goals", 0, "client_words"),
              ("methods", 0, "description"), ("presenting_problem", "text")]  # fmt: skip
    for number, text in enumerate(HOSTILE):
        *parents, key = fields[number % len(fields)]
        target = plan_data
        for part in parents:
            target = target[part]
        target[key] = f"{target[key]} {text}"
    checked = check_file(write_plan(plan_data), layout, today=AS_OF)
    assert checked.plan is not None and not checked.layout_failed(checked.layout)
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    text = _pdf_text(pdf, tmp_path)
    unbroken = "".join(text.split())  # a line may break anywhere between words, or at a slash
    for hostile in HOSTILE[:-1]:  # right to left: see the next test
        assert "".join(hostile.split()) in unbroken, (hostile, text[:3000])
    assert "root:" not in text and "/bin/" not in text  # /etc/passwd was not read


@needs_pdf
def test_right_to_left_text_and_a_huge_cell_print(tmp_path, plan_data, write_plan):
    plan_data["goals"][0]["statement"] = "Reduce \u05e9\u05dc\u05d5\u05dd worry " + "word " * 4000
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    text = _pdf_text(pdf, tmp_path)
    assert "\u05e9\u05dc\u05d5\u05dd" in text or "\u05dd\u05d5\u05dc\u05e9" in text
    assert text.count("word") >= 4000


def test_plan_text_reaches_the_program_as_json_strings_unchanged():
    markdown = '# Title\n\nA #read("/etc/passwd") and $x$ in *emphasis*.\n'
    tree = document_tree(markdown)
    data = json.loads(json.dumps(tree))
    assert data[0] == {"kind": "heading", "level": 1, "runs": [{"text": "Title"}]}
    runs = data[1]["runs"]
    assert runs[0] == {"text": 'A #read("/etc/passwd") and $x$ in '}
    assert runs[1] == {"text": "emphasis", "emphasis": True}
    # The program reads the document from sys.inputs and nothing else.
    program = pdf_writer.PROGRAM.read_text()
    assert re.findall(r"\b(read|include|import|eval|plugin)\(|#(?:import|include)\b", program) == []


def test_control_characters_and_line_separators_are_made_printable_and_no_character_added():
    assert shown("a\x07b\x1bc") == "a\ufffdb\ufffdc"
    assert shown("on 2026-08-03 and August 3, 2026") == "on 2026-08-03 and August\u00a03,\u00a02026"
    assert shown("x" * 45) == "x" * 45  # a long word breaks in pieces, not by a character
    assert shown("one\u2028two\u2029three") == "one two three"


def test_a_word_too_wide_for_its_line_comes_in_pieces_that_fit_and_keep_marks_whole():
    url = "https://www.ptsd.va.gov/understand/treatment/cognitive_processing.asp"
    tree = document_tree(f"See {url} now.\n\nA short one: https://example.org.\n")
    runs = tree[0]["runs"]
    assert runs[0] == {"text": "See "} and runs[2] == {"text": " now."}
    assert "".join(runs[1]["pieces"]) == url and len(runs[1]["pieces"]) > 2
    assert tree[1]["runs"] == [{"text": "A short one: https://example.org."}]
    accented = "e\u0301" * 60  # each e with its combining accent
    assert all(not piece.startswith("\u0301") for piece in pieces(accented, 6))
    assert "".join(pieces(accented, 6)) == accented


@needs_pdf
def test_the_fingerprint_keys_keep_the_pdf_valid_and_the_identifier_comes_from_the_plan():
    import pypdf

    sample = Path(__file__).parents[1] / "inputs" / "adult-ptsd.json"
    checked = check_file(sample, "standard")
    assert checked.plan is not None
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    for page in reader.pages:  # every object found at the offset the table gives
        assert page.extract_text()
    info = reader.metadata
    assert info["/PlandocPlanId"] == "TP-2026-0042" and info["/PlandocLayout"] == "standard"
    assert re.fullmatch(r"[0-9a-f]{64}", info["/PlandocPlanSHA256"])
    assert info["/ModDate"] == "D:20261029000000Z" and info["/CreationDate"] == "D:20260803000000Z"
    first, second = reader.trailer["/ID"]
    assert first == second
    other = render_documents(checked.plan, checked.layout, ("pdf",), page_size="a4")["pdf"]
    assert pypdf.PdfReader(io.BytesIO(other)).trailer["/ID"][0] == first  # same plan and layout
    xref = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref : xref + 4] == b"xref"


def test_a_pdf_not_laid_out_as_typst_writes_one_is_refused_in_one_line():
    with pytest.raises(pdf_writer.NotTypstOutput, match="PDF could not be made"):
        pdf_writer.with_information(b"%PDF-1.7\n%%EOF\n", {}, dt.date(2026, 1, 1), b"0" * 16)


@needs_pdf
@pytest.mark.pdf
def test_a_build_in_worker_processes_after_a_pdf_in_this_one_finishes(tmp_path):
    """Typst's threads do not survive a fork: workers forked from a process that has made a
    PDF never answered. The pool starts them fresh then (see pdf_writer.pool_context)."""
    samples = Path(__file__).parents[1] / "inputs"
    script = (
        "import sys; from pathlib import Path; from click.testing import CliRunner; "
        "from plandoc.cli import main; from plandoc.checks.file import check_file; "
        "from plandoc.documents.documents import render_documents; "
        "c = check_file(Path(sys.argv[1]) / 'adult-ptsd.json'); "
        "render_documents(c.plan, c.layout, ('pdf',)); "
        "r = CliRunner().invoke(main, ['build', sys.argv[1], '-o', sys.argv[2], '-f', 'pdf', "
        "'-j', '2']); print(r.output); sys.exit(r.exit_code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(samples), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.pdf"))) == len(list(samples.iterdir()))


@needs_pdf
@pytest.mark.parametrize("text", ["\u4e2d\u6587", "\ud7a4", "\U0001f600 \u4e2d"])
def test_a_character_no_font_has_prints_as_the_replacement_character(
    tmp_path, plan_data, write_plan, text
):
    """A tagged PDF may not hold a character it cannot show (Typst refuses it): it prints
    as U+FFFD, and the rest of the document as it is."""
    plan_data["presenting_problem"]["text"] = f"Before {text} after."
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    shown_text = _pdf_text(pdf, tmp_path)
    assert re.search("Before [^a-z]+ after", shown_text) and "\ufffd" in shown_text


@needs_pdf
@pytest.mark.parametrize("large_print", [False, True])
def test_a_short_table_too_tall_for_a_page_breaks_instead_of_running_off_it(
    tmp_path, plan_data, write_plan, large_print
):
    """A table of a few rows stays on one page, unless it cannot: then it breaks between
    rows (a table kept whole that is taller than the page would lose its end)."""
    for number, method in enumerate(plan_data["methods"]):
        method["description"] = f"Start{number} " + "practice the steps " * 110 + f"End{number}"
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",), large_print=large_print)["pdf"]
    text = _pdf_text(pdf, tmp_path)
    for number in range(len(plan_data["methods"])):
        assert f"Start{number}" in text and f"End{number}" in text


PDF_LOOKALIKES = {
    "statement": "Ask for the trailer << keys back /Info 1 0 R startxref 12 %%EOF from her brother.",
    "behavior": "film <xmpMM:DocumentID>AAAAAAAAAAAAAAAAAAAAAAAA< "
    "<xmp:ModifyDate>1999-01-01T00:00:00Z</xmp:ModifyDate> /ModDate(D:19990101000000Z) y",
}


@needs_pdf
def test_plan_text_that_looks_like_pdf_structure_is_left_as_it_is(tmp_path, plan_data, write_plan):
    """Before, a goal statement holding `trailer <<` (stored uncompressed in the bookmarks)
    made the PDF fail, and XMP look-alikes in a chart's description were rewritten."""
    import pypdf

    plan_data["goals"][0]["statement"] = PDF_LOOKALIKES["statement"]
    plan_data["goals"][1]["measure"]["behavior"] = PDF_LOOKALIKES["behavior"]
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    reader = pypdf.PdfReader(io.BytesIO(pdf), strict=True)
    assert reader.metadata["/PlandocPlanId"]
    assert reader.metadata["/ModDate"] == "D:20261029000000Z"
    titles, waiting = [], list(reader.outline)
    while waiting:  # the bookmarks, nested
        item = waiting.pop()
        waiting.extend(item) if isinstance(item, list) else titles.append(item.title)
    assert any(PDF_LOOKALIKES["statement"] in title for title in titles), titles
    for text in (b"trailer << keys back /Info 1 0 R startxref 12 %%EOF",
                 b"<xmp:ModifyDate>1999-01-01T00:00:00Z</xmp:ModifyDate>",
                 b"AAAAAAAAAAAAAAAAAAAAAAAA<", b"/ModDate(D:19990101000000Z)"):  # fmt: skip
        assert text in pdf, text  # the bookmark and the chart's description, untouched
    assert "".join(PDF_LOOKALIKES["statement"].split()) in "".join(_pdf_text(pdf, tmp_path).split())
    xmp = reader.trailer["/Root"]["/Metadata"].get_data()
    shown_id = (
        reader.trailer["/ID"][0].encode() if isinstance(reader.trailer["/ID"][0], str) else b""
    )
    assert b"<xmp:ModifyDate>2026-10-29T00:00:00Z</xmp:ModifyDate>" in xmp
    assert shown_id and b"<xmpMM:DocumentID>" + shown_id + b"<" in xmp


@needs_pdf
@pytest.mark.parametrize(
    ("tag", "lang"),
    [("en", "en"), ("es-US", "es-US"), ("zh-Hant-TW", "zh-TW"), ("es-419", "es"),
     ("zh-Hant", "zh"), ("sr-Latn-RS", "sr-RS"), ("ar-001", "ar"), ("haw", "haw"),
     ("yue-HK", "yue-HK")],
)  # fmt: skip
def test_every_valid_language_tag_makes_a_pdf_tagged_with_its_language(
    plan_data, write_plan, tag, lang
):
    """Typst takes a language (ISO 639) and a two-letter region only: a script subtag, a
    numeric region (es-419) is left out of the PDF's /Lang, not an error."""
    import pypdf

    plan_data["plan"]["language"] = tag
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    assert pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == lang


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
# fonts-dejavu-extra's, beside the chosen ones on Debian and Ubuntu
EXTRA_DEJAVU = ("DejaVuSans-Oblique.ttf", "DejaVuMathTeXGyre.ttf", "DejaVuSerif-Bold.ttf",
                "DejaVuSerif.ttf", "DejaVuSans-BoldOblique.ttf")  # fmt: skip


@needs_pdf
@pytest.mark.skipif(
    not all((DEJAVU / name).is_file() for name in (*pdf_writer.FALLBACK_FILES, *EXTRA_DEJAVU)),
    reason="needs fonts-dejavu-core and fonts-dejavu-extra",
)
def test_other_fonts_beside_the_chosen_ones_never_change_the_pdf(
    tmp_path, plan_data, write_plan, monkeypatch
):
    """Typst is given the chosen font files only: DejaVu Serif, Math and Oblique in the
    same folder (fonts-dejavu-extra) are never picked by its fallback."""
    plan_data["goals"][0]["statement"] = (
        "Hebrew \u05e9\u05dc\u05d5\u05dd, math \U0001d400\U0001d6a8\u2102, "
        "*italic \u05e9\u05dc\u05d5\u05dd* and **bold \u05e9\u05dc\u05d5\u05dd \u2200x**"
    )
    plan_data["presenting_problem"]["text"] = "_\u05e9\u05dc\u05d5\u05dd \U0001d4d0 \u2264_"
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    monkeypatch.setattr(pdf_writer, "_compiler", pdf_writer._compiler.__wrapped__)
    pdfs = []
    for extra in ((), EXTRA_DEJAVU):
        folder = tmp_path / f"fonts{len(extra)}"
        folder.mkdir()
        for name in (*pdf_writer.FALLBACK_FILES, *extra):
            (folder / name).write_bytes((DEJAVU / name).read_bytes())
        monkeypatch.setattr(pdf_writer, "FALLBACK_FOLDERS", (str(folder),))
        pdfs.append(render_documents(checked.plan, checked.layout, ("pdf",))["pdf"])
    assert pdfs[0] == pdfs[1]
    fonts = poppler("pdffonts", pdfs[1], tmp_path)
    assert "Serif" not in fonts and "Math" not in fonts and "Oblique" not in fonts


MARGIN = 18 / 25.4 * 72  # points: the page's side margins (18 mm)


def _words(pdf: bytes, tmp_path: Path) -> list[tuple[float, float, float, float, str, float]]:
    """Every word pdftotext finds: its box (x0, y0, x1, y1; y counted from the first page's
    top across pages), text and page width."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    found, width, top = [], 0.0, -10_000.0
    for line in out.splitlines():
        page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', line)
        if page:
            width, top = float(page[1]), top + 10_000
        word = re.search(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" '
                         r'yMax="([-\d.]+)">(.*)</word>', line)  # fmt: skip
        if word:
            x0, y0, x1, y1 = map(float, word.groups()[:4])
            found.append((x0, top + y0, x1, top + y1, word[5], width))
    return found


def _overprinted(words: list[tuple[float, float, float, float, str, float]]) -> list[str]:
    """The pairs of words printed over each other."""
    pairs = []
    for index, (x0, y0, x1, y1, text, _) in enumerate(words):
        for u0, v0, u1, v1, other, _ in words[index + 1 :]:
            if min(x1, u1) - max(x0, u0) > 0.5 and min(y1, v1) - max(y0, v0) > 2:
                pairs.append(f"{text} / {other}")
    return pairs


def _narrative_table_pdf(
    plan_data, write_plan, header: list[str], rows: list[list[str]], **options: Any
) -> bytes:
    plan_data["assessment"]["prior_treatment"] = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(row) + " |" for row in rows]
    )
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    return render_documents(checked.plan, checked.layout, ("pdf",), **options)["pdf"]


@needs_pdf
@pytest.mark.parametrize("options", [{}, {"page_size": "a4"}, {"large_print": True}])
def test_a_twelve_column_table_of_long_tokens_stays_in_its_columns_and_on_the_page(
    tmp_path, plan_data, write_plan, options
):
    """The widest table a plan may hold, each cell a 39-character token (a code, an e-mail
    address): each column's pieces print within the page's text and apart from the next
    column's."""
    letters = "BDFJKMPQVWXZ"
    tokens = [letter * 30 + "123456789" for letter in letters]  # a code: kept whole if it fits
    header = [f"Code {i}" for i in range(12)]
    pdf = _narrative_table_pdf(plan_data, write_plan, header, [tokens] * 3, **options)
    spans: dict[int, list[float]] = {}
    words = _words(pdf, tmp_path)
    top = next(word[1] for word, after in itertools.pairwise(words)
               if (word[4], after[4]) == ("Prior", "Treatment"))  # fmt: skip
    below = min((y0 for _, y0, _, _, text, _ in words if text == "Current" and y0 > top),
                default=float("inf"))  # fmt: skip
    for x0, y0, x1, _, text, width in words:
        assert x0 >= MARGIN - 1 and x1 <= width - MARGIN + 1, (text, x0, x1)
        match = re.fullmatch(r"([A-Z])\1*\d*", text)  # a piece of a token, in the table
        if match and match[1] in letters and top < y0 < below:
            column = letters.index(match[1])
            spans.setdefault(column, [x0, x1])
            spans[column] = [min(spans[column][0], x0), max(spans[column][1], x1)]
    assert sorted(spans) == list(range(12))
    for column in range(11):
        assert spans[column][1] <= spans[column + 1][0], (column, spans)


@needs_pdf
@pytest.mark.parametrize("options", [{}, {"large_print": True}])
def test_an_eight_column_table_of_drug_names_prints_no_word_over_another(
    tmp_path, plan_data, write_plan, options
):
    names = ["sertraline", "hydroxyzine", "quetiapine", "trazodone", "lamotrigine", "bupropion",
             "mirtazapine", "WWWWWWWWWW"]  # fmt: skip
    pdf = _narrative_table_pdf(plan_data, write_plan, [f"Trial {i + 1}" for i in range(8)],
                               [names, ["50 mg daily"] * 8], **options)  # fmt: skip
    assert _overprinted(_words(pdf, tmp_path)) == []
    text = _pdf_text(pdf, tmp_path)
    assert "\u200b" not in text


@needs_pdf
def test_a_long_url_copies_as_it_is_typed_and_invisible_characters_print_as_nothing(
    tmp_path, plan_data, write_plan, monkeypatch
):
    """No zero-width space is put into a long word (copying it from the PDF gives it as
    typed); a joiner or a direction mark prints as nothing, even with no font that has it
    (no DejaVu: it would be "?"), and a line separator as a space."""
    url = "https://www.ptsd.va.gov/understand/treatment/cognitive_processing_therapy.asp"
    flag = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    plan_data["presenting_problem"]["text"] = (
        f"Read {url} first. Then a\u200db, c\u200cd, e\u200ef, g\u200fh, i\u2066j\u2069 end. "
        f"A flag {flag} and nothing more."
    )
    plan_data["goals"][0]["statement"] = "Sleep\u2028through the night"
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    monkeypatch.setattr(pdf_writer, "_compiler", pdf_writer._compiler.__wrapped__)
    monkeypatch.setattr(pdf_writer, "FALLBACK_FOLDERS", (str(tmp_path / "none"),))
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert "\u200b" not in raw and "\ufffd" not in raw and "?" not in raw.split("Then")[1][:30]
    assert url in "".join(raw.split())
    assert "Sleep through the night" in " ".join(raw.split())
    flag_line = " ".join(raw.split()).split("A flag ")[1]
    assert flag_line.startswith("? and nothing more")  # the flag's tag characters: nothing


@needs_pdf
@pytest.mark.pdf
def test_a_script_making_a_pdf_then_building_with_two_jobs_works_under_the_main_guard(tmp_path):
    """docs/api.md: after a PDF, workers start fresh and run the script's top level first;
    under `if __name__ == "__main__":` the script's own work is not run again."""
    samples = Path(__file__).parents[1] / "inputs"
    script = tmp_path / "nightly.py"
    script.write_text(
        "import sys\nfrom plandoc import build, render\n\n"
        'if __name__ == "__main__":\n'
        "    render(sys.argv[1] + '/adult-ptsd.json', 'standard', ('pdf',))\n"
        "    result = build(sys.argv[1], sys.argv[2], formats=('pdf',), jobs=2)\n"
        "    print(result.count('built'), 'built')\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), str(samples), str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.pdf"))) == len(list(samples.iterdir()))


@needs_pdf
@pytest.mark.parametrize("repeat", [10, 30])
def test_a_long_letterhead_and_identification_leave_the_body_starting_on_page_one(
    tmp_path, plan_data, write_plan, repeat
):
    """The identification's tables break across pages when they are tall (10: tall enough
    to break; 30: taller than the rest of page 1, the first table kept with the next): they
    do not move whole to page 2 and leave page 1 holding the letterhead alone."""
    words = "Riverside Counseling Group and Family Services of the Greater Springfield Area "
    plan_data["practice"]["name"] = words * 5
    plan_data["practice"]["address"] = [words * 4, words * 4]
    client = plan_data["client"]
    client["name"] = "Dana Okafor " + "also known by her family name " * 12
    client["preferred_name"] = "Dana " + "goes by her middle name at work " * repeat
    client["pronouns"] = "she/her " + "and they/them with friends and family " * repeat
    contact = client["emergency_contact"]
    contact["name"] = "Chris Okafor " + "also known by his family name " * 12
    contact["relationship"] = "brother " + "who lives nearby and drives " * repeat
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    path = tmp_path / "plan.pdf"
    path.write_bytes(pdf)
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert "Identification" in first and "goes by her middle name" in first


@needs_pdf
def test_a_signature_row_with_a_long_name_grows_instead_of_printing_over_the_rows_above(
    tmp_path, plan_data, write_plan
):
    """A signature row is at least 1.5 cm high (room to sign), not exactly: a name that
    wraps to many lines makes it taller, and prints over nothing."""
    long_name = "Dana Okafor " + "also known by her family name " * 12
    plan_data["client"]["name"] = long_name
    plan_data["signatures"][0]["name"] = long_name
    plan_data["signatures"][1]["name"] = "Morgan Reyes " + "of the Riverside group " * 12
    checked = check_file(write_plan(plan_data), "standard", today=AS_OF)
    assert checked.plan is not None and not checked.failed(), checked.all_problems
    pdf = render_documents(checked.plan, checked.layout, ("pdf",))["pdf"]
    assert _overprinted(_words(pdf, tmp_path)) == []


@needs_pdf
@pytest.mark.pdf
def test_the_fonts_folder_of_every_process_is_removed_when_it_ends(tmp_path):
    """Typst reads the fonts from a folder of copies each process makes (see
    pdf_writer.font_folder); a build's worker processes remove theirs too."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    samples = Path(__file__).parents[1] / "inputs"
    result = subprocess.run(
        [sys.executable, "-m", "plandoc", "build", str(samples), "-o", str(tmp_path / "out"),
         "-f", "pdf", "-j", "2"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "TMPDIR": str(temporary)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(list((tmp_path / "out").glob("*.pdf"))) == len(list(samples.iterdir()))
    assert list(temporary.iterdir()) == []
