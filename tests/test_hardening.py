"""Hostile input: a corpus with the expected outcome of each, and property-based tests.

Whatever plandoc reads, it ends with a result or a clear error, never a
traceback; plan text never becomes markup, code or a template; any plan that
validates renders in every format of every built-in layout.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import docx
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.documents import render_documents
from plandoc.model.plan import (
    MOST_GOALS,
    MOST_OBJECTIVES,
    MOST_OTHER,
    MOST_PROGRESS,
    MOST_PROGRESS_NOTES,
)
from plandoc.planfile.read import MAX_PLAN_BYTES

from .conftest import SAMPLES

HOSTILE = Path(__file__).parent / "hostile"
BUILT_IN = ("standard", "client-copy", "medicare", "medicaid", "managed-care")
# Fixed examples in CI (derandomized: the same every run); PLANDOC_EXAMPLES=2000 explores more.
PROPERTY = settings(
    max_examples=int(os.environ.get("PLANDOC_EXAMPLES", "40")),
    derandomize="PLANDOC_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
LINE = re.compile(r"^\S.*?:(\d+:)? .+")  # FILE:LINE: field: message, or FILE: message


def render_everywhere(path: Path) -> dict[str, dict[str, bytes]]:
    """Every format of every built-in layout, for a plan that validates in that layout."""
    documents = {}
    for layout in BUILT_IN:
        checked = check_file(path, layout)
        if checked.plan is None or checked.layout_failed(checked.layout):
            continue
        documents[layout] = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    return documents


def tags(html: str) -> list[str]:
    return re.findall(r"<(/?[a-zA-Z][a-zA-Z0-9]*)", html)


# --- the corpus -----------------------------------------------------------------------


def test_markup_in_every_kind_of_field_is_shown_as_text_never_active():
    documents = render_everywhere(HOSTILE / "markup-in-every-kind-of-field.json")
    assert set(documents) >= {"standard", "client-copy"}
    for layout, rendered in documents.items():
        html = rendered["html"].decode()
        body = html.split("<body>", 1)[1]
        assert "<script" not in body and "<img" not in body and "<iframe" not in body, layout
        for tag in re.findall(r"<[a-zA-Z][^>]*>", html):  # the page's real tags
            assert "onerror" not in tag and "javascript:" not in tag.lower(), tag
        assert "&lt;script&gt;" in body  # shown, as typed
        assert "<style>body{display:none}" not in body
        docx.Document(io.BytesIO(rendered["docx"]))  # Word opens it


def test_markdown_and_jinja_syntax_are_shown_as_typed_and_tables_stay_intact():
    path = HOSTILE / "markdown-and-jinja-syntax.json"
    documents = render_everywhere(path)
    clean = render_everywhere(SAMPLES / "adult-ptsd.json")
    for layout, rendered in documents.items():
        html = rendered["html"].decode()
        shown = re.sub(
            r"<svg.*?</svg>|\d{4}-\d{2}-\d{2}|<colgroup>.*?</colgroup>", "", html, flags=re.S
        )
        assert "{{ 7*7 }}" in html and "49" not in shown
        assert "{% for x in range(9) %}" in html and "012345678" not in html
        assert "Dana Okafor and" not in html  # {{ plan.client.name }} is text, not a lookup
        # The same tables, rows and cells as a plan with plain text.
        want = [t for t in tags(clean[layout]["html"].decode()) if t in ("tr", "td", "th", "table")]
        got = [t for t in tags(html) if t in ("tr", "td", "th", "table")]
        assert got == want, layout


def test_right_to_left_combining_and_very_long_text_render_in_every_format():
    documents = render_everywhere(HOSTILE / "right-to-left-combining-and-long.json")
    assert len(documents) == len(BUILT_IN)
    assert "دانا أوكافور" in documents["standard"]["html"].decode()
    for rendered in documents.values():
        assert "עברית שלום" in rendered["html"].decode()
        package = zipfile.ZipFile(io.BytesIO(rendered["docx"]))
        assert "A" * 3000 in package.read("word/document.xml").decode()
        docx.Document(io.BytesIO(rendered["docx"]))
    css = documents["standard"]["html"].decode()
    # A word longer than its line wraps instead of widening the page (and only such a word).
    assert "overflow-wrap: break-word" in css and "anywhere" not in css


@pytest.mark.parametrize(
    "plan_id", ["../x", "a/b", "a\\b", "nul\x00id", "CON", "LPT1.json", "x" * 300, "-lead", ""]
)
def test_plan_ids_that_cannot_name_a_file_are_refused(write_plan, plan_data, plan_id):
    plan_data["plan"]["id"] = plan_id
    checked = check_file(write_plan(plan_data))
    assert checked.failed() and any(p.field == ("plan", "id") for p in checked.problems)


@pytest.mark.parametrize(
    ("character", "name"),
    [("\x00", "U+0000"), ("\x0b", "U+000B"), ("\ufffe", "U+FFFE"), ("\ud800", "U+D800")],
)
def test_characters_xml_forbids_are_an_error_naming_the_field(
    write_plan, plan_data, character, name
):
    plan_data["goals"][1]["objectives"][0]["statement"] = f"Drive{character} to work."
    checked = check_file(write_plan(plan_data))
    messages = [(p.field_name, p.message) for p in checked.problems]
    assert messages == [
        (
            "goals[1].objectives[0].statement",
            f"holds a character no document can carry ({name}, at character 6); remove it",
        )
    ]


HOSTILE_FILES = {
    "alias bomb": (
        "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n---\n",
        ".md",
        "alias",
    ),
    "deep nesting": ("[" * 5000 + "]" * 5000, ".json", "nested"),
    "duplicate JSON keys": ('{"plandoc": 1, "plandoc": 1}', ".json", "twice"),
    "duplicate YAML keys": ("---\nplandoc: 1\nplandoc: 1\n---\n", ".md", "twice"),
    "not UTF-8": (b'{"plandoc": "\xff\xfe"}', ".json", "UTF-8"),
    "empty": ("", ".json", "empty"),
    "empty Markdown": ("\n\n", ".md", "empty"),
}


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=list(HOSTILE_FILES))
def test_hostile_files_are_clear_errors_in_bounded_time(tmp_path, case):
    content, suffix, expected = HOSTILE_FILES[case]
    path = tmp_path / f"plan{suffix}"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert expected.lower() in result.output.lower(), result.output


def test_a_50_mb_file_is_refused_without_reading_it_whole(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as stream:
        stream.write(b'{"x": "')
        stream.write(b"a" * (50 * 1024 * 1024))
        stream.write(b'"}')
    started = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert time.perf_counter() - started < 5
    assert result.exit_code == 1 and "MiB" in result.output


@pytest.mark.parametrize("variant", ["bom", "crlf"])
def test_a_bom_and_crlf_line_ends_are_accepted(tmp_path, variant):
    text = (SAMPLES / "adolescent-depression.md").read_text()
    data = ("\ufeff" + text) if variant == "bom" else text.replace("\n", "\r\n")
    path = tmp_path / "plan.md"
    path.write_bytes(data.encode("utf-8"))
    assert not check_file(path).failed()


# --- properties -----------------------------------------------------------------------


def _no_traceback(path: Path) -> None:
    checked = check_file(path)  # never raises for what a file holds
    if checked.plan is None:
        assert checked.problems
    for problem in checked.all_problems:
        assert LINE.match(str(problem)), str(problem)


@PROPERTY
@given(raw=st.binary(max_size=3000))
def test_any_bytes_end_in_a_result_or_a_clear_error(tmp_path, raw):
    for suffix in (".json", ".md"):
        path = tmp_path / f"plan{suffix}"
        path.write_bytes(raw)
        _no_traceback(path)
        path.write_bytes(b"---\n" + raw + b"\n---\n")
        _no_traceback(path)


TREES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=25,
)  # fmt: skip


@PROPERTY
@given(tree=TREES)
def test_any_json_or_yaml_tree_ends_in_a_result_or_a_clear_error(tmp_path, tree):
    (tmp_path / "plan.json").write_text(json.dumps(tree))
    _no_traceback(tmp_path / "plan.json")
    front = yaml.safe_dump(tree if isinstance(tree, dict) else {"plandoc": tree})
    (tmp_path / "plan.md").write_text(f"---\n{front}---\n")
    _no_traceback(tmp_path / "plan.md")


SECTIONS = [
    "plan",
    "client",
    "provider",
    "assessment",
    "presenting_problem",
    "diagnoses",
    "contract",
    "goals",
    "methods",
    "time_estimate",
    "signatures",
    "revisions",
]


@PROPERTY
@given(section=st.sampled_from(SECTIONS), value=TREES)
def test_any_value_in_any_section_of_a_plan_ends_well(tmp_path, plan_data, section, value):
    data = json.loads(json.dumps(plan_data))
    data[section] = value
    (tmp_path / "plan.json").write_text(json.dumps(data))
    _no_traceback(tmp_path / "plan.json")


TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
    str.strip
)  # controls: the corpus above; whitespace alone: "must not be empty"
INLINE_FIELDS = [  # plain text fields: whatever they hold, the page keeps its shape
    ("client", "name"),
    ("goals", 0, "statement"),
    ("goals", 0, "client_words"),
    ("goals", 1, "objectives", 0, "statement"),
    ("methods", 0, "name"),
    ("methods", 0, "description"),
    ("diagnoses", 0, "description"),
    ("goals", 0, "progress", 1, "note"),
]
NARRATIVE_FIELDS = [("presenting_problem", "text"), ("assessment", "history")]


def _set(data, path, value):
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@PROPERTY
@given(texts=st.lists(TEXT, min_size=len(INLINE_FIELDS), max_size=len(INLINE_FIELDS)),
       story=TEXT)  # fmt: skip
def test_any_text_in_any_field_renders_everywhere_and_never_becomes_markup(
    tmp_path, plan_data, texts, story
):
    for path, text in zip(INLINE_FIELDS, texts, strict=True):
        _set(plan_data, path, text)
    for path in NARRATIVE_FIELDS:
        _set(plan_data, path, story)
    (tmp_path / "plan.json").write_text(json.dumps(plan_data))
    checked = check_file(tmp_path / "plan.json")
    if checked.failed():  # only for what the text cannot be: empty, or unprintable
        allowed = ("must not be empty", "holds a character no document can carry")
        assert all(p.message.startswith(allowed) for p in checked.problems), [
            str(p) for p in checked.problems
        ]
        return
    documents = render_everywhere(tmp_path / "plan.json")
    assert set(documents) == set(BUILT_IN)
    for rendered in documents.values():
        docx.Document(io.BytesIO(rendered["docx"]))
        for tag in re.findall(r"<[a-zA-Z][^>]*>", rendered["html"].decode()):
            assert not tag.startswith("<script") and "javascript:" not in tag.lower(), tag
    # Inline text never changes the page's tags: compare with the same plan, plain words.
    for path in INLINE_FIELDS:
        _set(plan_data, path, "plain words")
    (tmp_path / "plain.json").write_text(json.dumps(plan_data))
    plain = render_everywhere(tmp_path / "plain.json")
    for layout in ("standard", "managed-care"):
        ours = tags(documents[layout]["html"].decode())
        theirs = tags(plain[layout]["html"].decode())
        assert ours == theirs, layout


# --- limits ---------------------------------------------------------------------------


def _plan_at_the_limits(plan_data, goals=MOST_GOALS, objectives=MOST_OBJECTIVES,
                        progress=MOST_PROGRESS):  # fmt: skip
    template = plan_data["goals"][0]
    plan_data["goals"] = []
    for g in range(goals):
        goal = copy.deepcopy(template)
        goal["id"] = f"G{g + 1}"
        goal["objectives"] = [
            {**template["objectives"][0], "id": f"G{g + 1}.{o + 1}"} for o in range(objectives)
        ]
        goal["progress"] = [
            {"date": (dt.date(2026, 8, 3) + dt.timedelta(days=i % 100)).isoformat(),
             "score": 50 - i % 30}
            for i in range(progress)
        ]  # fmt: skip
        plan_data["goals"].append(goal)
    return plan_data


@pytest.mark.slow
def test_a_plan_at_every_count_limit_fits_the_file_limit_and_renders(write_plan, plan_data):
    path = write_plan(json.dumps(_plan_at_the_limits(plan_data), separators=(",", ":")))
    assert (
        path.stat().st_size < MAX_PLAN_BYTES
    )  # compact JSON; indented, the file limit comes first
    checked = check_file(path, today=dt.date(2026, 11, 26))
    assert not checked.failed(), [str(p) for p in checked.problems][:5]
    documents = render_documents(checked.plan, checked.layout, ("md", "html", "docx"))
    assert documents["md"].decode().count("### Goal ") == MOST_GOALS


@pytest.mark.parametrize(
    ("change", "field", "most"),
    [
        (lambda d: _plan_at_the_limits(d, goals=MOST_GOALS + 1, progress=1), "goals", MOST_GOALS),
        (lambda d: _plan_at_the_limits(d, goals=1, objectives=MOST_OBJECTIVES + 1),
         "goals[0].objectives", MOST_OBJECTIVES),
        (lambda d: _plan_at_the_limits(d, goals=1, progress=MOST_PROGRESS + 1),
         "goals[0].progress", MOST_PROGRESS),
        (lambda d: d.update(progress_notes=d["progress_notes"][:1] * (MOST_PROGRESS_NOTES + 1)),
         "progress_notes", MOST_PROGRESS_NOTES),
        (lambda d: d["assessment"].update(medications=["x"] * (MOST_OTHER + 1)),
         "assessment.medications", MOST_OTHER),
        (lambda d: d.update(methods=d["methods"][:1] * (MOST_OTHER + 1)), "methods", MOST_OTHER),
    ],
    ids=["goals", "objectives", "progress", "progress notes", "medications", "methods"],
)  # fmt: skip
def test_past_a_count_limit_is_one_clear_error_naming_the_list(
    write_plan, plan_data, change, field, most
):
    change(plan_data)
    checked = check_file(write_plan(plan_data))
    assert checked.failed()
    found = [p for p in checked.problems if p.field_name == field]
    assert [p.message for p in found] == [
        f"holds {most + 1} entries; a plan may hold at most {most} here (docs: Limits)"
    ]
    assert found[0].line is not None


def test_the_limits_page_states_the_limits_the_code_enforces():
    section = (Path(__file__).parents[1] / "docs" / "limits.md").read_text("utf-8")
    for number in (MOST_GOALS, MOST_OBJECTIVES, MOST_PROGRESS, MOST_PROGRESS_NOTES, MOST_OTHER):
        assert f"{number:,}" in section, number
    assert f"{MAX_PLAN_BYTES // 1024 // 1024} MiB" in section
