"""Rendering: escaping of plan text, golden files, output names and the writers."""

from __future__ import annotations

import datetime as dt
import io
import re
from html import unescape
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.compose import SIGNATURE_LINE
from plandoc.documents.documents import render_documents
from plandoc.documents.html_writer import css_string, render_body
from plandoc.documents.markdown_text import escape_inline, narrative

from .conftest import GOLDEN, SAMPLES

SAMPLE_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".json", ".md"))


def rendered(path: Path, formats=("md", "html", "docx")) -> dict[str, bytes]:
    checked = check_file(path)
    assert checked.plan is not None, [str(p) for p in checked.problems]
    return render_documents(checked.plan, checked.layout, formats)


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_match_golden_files(sample, update_golden):
    documents = rendered(sample, ("md", "html"))
    for fmt, content in documents.items():
        if fmt.endswith(".png"):
            continue  # pictures: byte-stable (test_progress), but Pillow's releases may differ
        golden = GOLDEN / f"{sample.stem}.{fmt}"
        if update_golden:
            golden.write_bytes(content)
        assert golden.exists(), f"no golden file {golden.name}: run pytest --update-golden"
        assert content.decode() == golden.read_text("utf-8"), f"{golden.name} changed"


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.name)
def test_samples_validate_cleanly(sample):
    assert [str(p) for p in check_file(sample).problems] == []


HOSTILE = "Ann | *bold* _x_ # [link](javascript:alert(1)) <script>alert(1)</script> &amp; {{ 7*7 }} {% if %}"


def test_plan_text_never_becomes_markup_or_template_code(write_plan, plan_data):
    plan_data["client"]["name"] = HOSTILE
    plan_data["goals"][0]["statement"] = HOSTILE
    plan_data["goals"][0]["objectives"][0]["statement"] = "- 1. " + HOSTILE
    plan_data["assessment"]["history"] = (
        "Para.\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))"
    )
    documents = rendered(write_plan(plan_data))
    page = documents["html"].decode()
    assert (
        "<script>" not in page
        and "<img" not in page
        and "onerror=alert" not in page.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page and "49" not in page.split("<main>")[1].split("Objective")[0]
    assert 'href="javascript' not in page
    # Tables keep their shape: the objective row has exactly five cells.
    row = next(line for line in page.splitlines() if "G1.1" in line and "<td>" in line)
    assert row.count("<td") == 5
    document = docx.Document(io.BytesIO(documents["docx"]))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    assert HOSTILE in cells
    assert "- 1. " + HOSTILE in cells


@pytest.mark.parametrize(
    "text",
    [
        "a|b",
        "*x*",
        "_y_",
        "# h",
        "- item",
        "+ item",
        "1. one",
        "12) x",
        "> q",
        "`c`",
        "<b>",
        "a\\b",
        "&copy;",
        "[a](b)",
        "~~~",
        "![i](x)",
        "a\nb",
        "=",
        "***",
        "<http://x>",
    ],
)
def test_escaped_inline_text_renders_as_exactly_that_text(text):
    html = render_body(f"| {escape_inline(text)} |\n|---|\n| {escape_inline(text)} |\n")
    expected = (
        text.replace("\n", " ").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    )
    assert html.count(f">{expected}</t") == 2, html


def test_narrative_keeps_lists_and_emphasis_but_not_headings_or_link_definitions():
    text = "Intro *kept*.\n\n- one\n- two\n\n## Sneaky heading\n\n[ref]: http://example.org\nUnder\n---"
    html = render_body(narrative(text))
    assert "<em>kept</em>" in html and "<li>one</li>" in html
    assert "<h2>" not in html and "<strong>Sneaky heading</strong>" in html
    assert "[ref]: http://example.org" in html
    assert "<h2>Under</h2>" not in html


def test_docx_numbered_lists_restart_and_code_keeps_lines(write_plan, plan_data):
    plan_data["assessment"]["history"] = "1. a\n2. b\n\nText.\n\n1. c\n\n```\nx\ny\n```"
    document = docx.Document(io.BytesIO(rendered(write_plan(plan_data), ("docx",))["docx"]))
    numbered = [p for p in document.paragraphs if p.style.name == "List Number"]
    assert [p.text for p in numbered] == ["a", "b", "c"]
    num_ids = [p._p.xpath("./w:pPr/w:numPr/w:numId/@w:val")[0] for p in numbered]
    assert num_ids[0] == num_ids[1] != num_ids[2]
    assert any(p.text == "x\ny" for p in document.paragraphs)


def test_html_matches_the_reference_commonmark_parser():
    """Our event-stream HTML says what markdown-it-py (html disabled) says, tag for tag."""
    reference = MarkdownIt("commonmark", {"html": False}).enable("table")
    for sample in SAMPLE_FILES:
        markdown = rendered(sample, ("md",))["md"].decode()
        # Charts and alerts are ours (GFM), not CommonMark's: compared apart, in test_progress.
        markdown = re.sub(r"^(!\[.*\]\(.*\.png\)|> \[!WARNING\])$", "", markdown, flags=re.M)
        ours, theirs = render_body(markdown), reference.render(markdown)
        # Ours keeps a date on one line and draws a line to sign on: the same text.
        ours = re.sub(r'<span class="nowrap">([^<]*)</span>', r"\1", ours)
        ours = ours.replace('<span class="line"></span>', SIGNATURE_LINE)
        ours = re.sub(r'<td class="(?:nowrap|line)"', "<td", ours)
        # A key/value table (its header row empty) is ours too: no <thead>, and each
        # row's first cell its header (<th scope="row">) where CommonMark has a <td>.
        theirs = re.sub(r"<thead>\s*<tr>\s*(<th></th>\s*)+</tr>\s*</thead>\s*", "", theirs)
        ours = re.sub(r'<th scope="row">(.*?)</th>', r"<td>\1</td>", ours, flags=re.S)

        def words(html: str) -> list[str]:
            return unescape(re.sub(r"<[^>]+>", " ", html)).split()

        def tags(html: str) -> list[str]:  # a table's <colgroup> is ours (its widths)
            return [t for t in re.findall(r"<(/?[a-z0-9]+)", html) if t.strip("/") not in
                    ("colgroup", "col")]  # fmt: skip

        assert words(ours) == words(theirs), sample.name
        assert tags(ours) == tags(theirs), sample.name


def test_css_string_cannot_close_the_style_element():
    assert "<" not in css_string("</style><script>") and '"' not in css_string('a"b')[1:-1]


def test_output_names_never_hold_the_client_name(tmp_path):
    result = CliRunner().invoke(main, ["build", str(SAMPLES), "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    kept = (".plandoc-build.json", ".plandoc-build.lock")  # the manifest, the lock: no names
    names = sorted(p.name for p in tmp_path.iterdir() if p.name not in kept and p.suffix != ".png")
    assert "TP-2026-0042-v2.standard.docx" in names and len(names) == 3 * len(SAMPLE_FILES)
    for name in names:
        assert re.fullmatch(r"TP-\d{4}-\d{4}-v\d+\.standard\.(md|html|docx)", name)
        assert (tmp_path / name).stat().st_mode & 0o077 == 0  # owner-only
    assert not list(tmp_path.glob(".plandoc-*.part"))


def test_render_selected_formats_and_bad_format(tmp_path):
    sample = SAMPLES / "adult-ptsd.json"
    result = CliRunner().invoke(main, ["render", str(sample), "-f", "html", "-o", str(tmp_path)])
    assert result.exit_code == 0 and [p.suffix for p in tmp_path.iterdir()] == [".html"]
    result = CliRunner().invoke(main, ["render", str(sample), "--to", "pdfx", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "unknown format 'pdfx': did you mean pdf?" in result.output


def test_unknown_layout_lists_the_ones_that_exist(tmp_path):
    # A layout named on the command line that does not exist is a usage error (exit 2).
    args = ["render", str(SAMPLES), "-l", "standrd", "-o", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert (
        result.exit_code == 2
        and (
            "unknown layout 'standrd': did you mean standard? "
            "(layouts: client-copy, managed-care, medicaid, medicare, standard)"
        )
        in result.output
    )


def test_a_bad_plan_does_not_stop_the_others(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.json").write_bytes((SAMPLES / "adult-ptsd.json").read_bytes())
    (inputs / "bad.json").write_text("{")
    (inputs / ".DS_Store").write_bytes(b"\0\1")
    (inputs / "photo.png").write_bytes(b"\x89PNG")
    result = CliRunner().invoke(main, ["build", str(inputs), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "bad.json:1: not valid JSON" in result.output
    assert len([p for p in (tmp_path / "out").glob("TP-*") if p.suffix != ".png"]) == 3


def test_strict_makes_warnings_fail(write_plan, plan_data, tmp_path):
    del plan_data["goals"][0]["client_words"]
    path = write_plan(plan_data)
    assert CliRunner().invoke(main, ["validate", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["render", "--strict", str(path), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1 and not (tmp_path / "o").exists()


def test_version_and_help():
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output.startswith("plandoc, version ")
    for command in ("validate", "render", "build"):
        result = runner.invoke(main, [command, "--help"])
        assert result.exit_code == 0 and "Examples:" in result.output


def test_templates_run_sandboxed_and_their_mistakes_name_file_and_line(
    tmp_path, write_plan, plan_data
):
    import shutil

    import jinja2

    from plandoc.documents.compose import compose
    from plandoc.errors import PlandocError
    from plandoc.layouts import builtin_layouts_folder, find_layout

    layout = find_layout("standard")
    with pytest.raises(jinja2.exceptions.SecurityError):
        layout.templates.markdown_environment.from_string("{{ plan.__class__.__mro__ }}").render(
            plan=object()
        )
    broken = tmp_path / "layouts" / "broken"
    shutil.copytree(builtin_layouts_folder() / "standard", broken)
    template = broken / "plan.md.j2"
    template.write_text(template.read_text().replace("{{ c.name }}", "{{ c.nmae }}", 1))
    plan = check_file(write_plan(plan_data)).plan
    with pytest.raises(PlandocError) as raised:
        compose(plan, find_layout("broken", [tmp_path / "layouts"]))
    message = raised.value.message
    assert "plan.md.j2:" in message and "nmae" in message and "Dana" not in message


def test_the_sandbox_judges_every_lookup_after_the_first_as_before():
    """Lookups judged safe once are made directly after (templates.PlanSandbox.getattr):
    an unsafe attribute still fails, a string's `format` is still the sandbox's own,
    and a name that is no attribute is still an item, however often each is asked."""
    import jinja2

    from plandoc.layouts import find_layout

    environment = find_layout("standard").templates.markdown_environment
    values = {"text": "{0.__class__}", "row": {"name": "Dana"}, "word": "plan"}
    for _ in range(3):  # the first lookup judges, the next ones use the verdict
        assert environment.from_string("{{ word.upper() }}").render(values) == "PLAN"
        assert environment.from_string("{{ row.name }}").render(values) == "Dana"
        with pytest.raises(jinja2.exceptions.SecurityError):
            environment.from_string("{{ word.__class__.__mro__ }}").render(values)
        with pytest.raises(jinja2.exceptions.SecurityError):
            environment.from_string("{{ text.format(word) }}").render(values)


def test_a_bug_in_plandoc_is_one_line_not_a_traceback(monkeypatch, tmp_path):
    import plandoc.documents.documents

    def broken(*args, **kwargs):
        raise KeyError("Dana Okafor")

    monkeypatch.setattr(plandoc.documents.documents, "render_documents", broken)
    result = CliRunner().invoke(
        main, ["render", str(SAMPLES / "adult-ptsd.json"), "-o", str(tmp_path)]
    )
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "internal error while rendering (KeyError); please report it" in result.output
    assert "Dana" not in result.output


def test_the_docx_names_its_fonts_and_uses_no_theme_font():
    """Word takes a theme font (Calibri) before a named one: headings would not be Arial."""
    import io
    import zipfile

    import plandoc

    for layout in ("standard", "client-copy", "managed-care"):
        docx_bytes = plandoc.render(
            SAMPLES / "adult-ptsd.json",
            layout=layout,
            formats=("docx",),
            as_of=dt.date(2026, 11, 30),
        )["docx"]
        styles = zipfile.ZipFile(io.BytesIO(docx_bytes)).read("word/styles.xml").decode()
        assert "Theme=" not in styles and "w:cstheme" not in styles, layout
        assert 'w:styleId="Heading1"' in styles and 'w:ascii="Arial"' in styles


def test_a_plan_is_parsed_and_its_charts_laid_out_once_for_all_its_formats(monkeypatch):
    """Issue 21: no per-plan work repeated per format. The composed Markdown is parsed
    into events once for the HTML and DOCX writers (markdown_events.parsed), and each
    chart is laid out once for its SVG (HTML) and its PNG (Markdown and DOCX)."""
    import pyromark

    from plandoc.documents import charts, markdown_events

    checked = check_file(SAMPLES / "adult-ptsd.json")
    parses = []
    real_events = pyromark.events

    def counted(markdown, *args, **kwargs):
        parses.append(markdown)
        return real_events(markdown, *args, **kwargs)

    monkeypatch.setattr(pyromark, "events", counted)
    markdown_events.parsed.cache_clear()
    charts.chart_layout.cache_clear()
    documents = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    drawn = [name for name in documents if name.endswith(".png")]
    assert len(drawn) == 2  # the sample's two charts
    body = [markdown for markdown in parses if "# " in markdown and len(markdown) > 1000]
    assert len(body) == 1, f"the body was parsed {len(body)} times"
    assert len(parses) == len(set(parses))  # and the letterhead once too
    assert charts.chart_layout.cache_info().misses == len(drawn)


def test_the_shared_parse_is_the_event_stream_and_cannot_be_changed_by_a_writer():
    from plandoc.documents.markdown_events import events, key_value_labels, parsed

    markdown = "| | |\n|---|---|\n| Client | Dana |\n\nText *and* more.\n"
    shared = parsed(markdown)
    assert list(shared.events) == list(events(markdown))
    assert list(shared.labels) == key_value_labels(events(markdown)) == ["Client"]
    assert isinstance(shared.events, tuple) and isinstance(shared.labels, tuple)
    assert parsed(markdown) is shared  # the next writer of the document reuses it


def test_only_short_texts_are_remembered_and_remembering_changes_nothing():
    """documents/text_cache.py: memory stays bounded (a long text is never kept) and a
    remembered text gives what working it out gives."""
    from plandoc.documents import docx_writer, html_writer, markdown_text, table_widths
    from plandoc.documents.text_cache import CACHED_TEXTS, SHORT_TEXT

    long_text = "Dana said 2026-07-15 | *ok* " * (SHORT_TEXT // 10)
    short_text = "Reviewed 2026-07-15 with Dana & Lee <3"
    for function in (
        markdown_text.escape_inline,
        html_writer.breakable,
        docx_writer.xml_text,
        docx_writer.run_xml,
        table_widths._measure,
    ):
        function.cache_clear()
        for text in (long_text, short_text, short_text):
            assert function(text) == function.__wrapped__(text)
        info = function.cache_info()
        assert (info.currsize, info.hits, info.maxsize) == (1, 1, CACHED_TEXTS), function


def test_a_full_text_cache_drops_its_oldest_text():
    """documents/text_cache.py: a function remembers at most CACHED_TEXTS texts; once
    full, the oldest is dropped for the next, and every answer stays what working it out
    gives."""
    from plandoc.documents.text_cache import CACHED_TEXTS, remembered

    worked_out: list[str] = []

    @remembered
    def shout(text: str) -> str:
        worked_out.append(text)
        return text.upper()

    texts = [f"goal {number}" for number in range(CACHED_TEXTS + 1)]
    assert [shout(text) for text in texts] == [text.upper() for text in texts]
    assert shout.cache_info().currsize == CACHED_TEXTS
    assert shout(texts[-1]) == texts[-1].upper() and len(worked_out) == len(texts)  # kept
    assert shout(texts[0]) == texts[0].upper() and worked_out[-1] == texts[0]  # dropped
