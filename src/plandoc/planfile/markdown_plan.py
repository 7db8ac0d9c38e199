"""A Markdown plan: YAML front-matter, and narrative fields as `## Section` blocks.

Sections are found by a CommonMark parser (pulldown-cmark), so a `#` line in
code, a quote or a list item is not one; each top-level section fills its
field (`SECTIONS`); a heading that maps to no field, a section given twice, or
a field given both in the front-matter and as a section is a problem.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Any

from plandoc.planfile.source import PlanSource, add_problem, fail
from plandoc.planfile.yaml_text import load_yaml
from plandoc.problems import FieldPath, plan_value

# Narrative fields that a Markdown plan may write as `## Heading` sections.
SECTIONS: dict[str, FieldPath] = {
    "presenting problem": ("presenting_problem", "text"),
    "history": ("assessment", "history"),
    "symptom onset": ("assessment", "symptom_onset"),
    "prior treatment": ("assessment", "prior_treatment"),
    "treatment contract": ("contract", "summary"),
    "medical necessity": ("medical_necessity", "rationale"),
    "progress and outcomes": ("progress_notes",),
}
SECTION_TITLES = (
    "Presenting Problem",
    "History",
    "Symptom Onset",
    "Prior Treatment",
    "Treatment Contract",
    "Medical Necessity",
    "Progress and Outcomes",
)


_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
# CommonMark with GFM tables: a table row cannot be taken for a heading's underline.
_OPTIONS = 1 << 1  # pyromark.Options.ENABLE_TABLES, without importing pyromark at start-up


@dataclass
class Section:
    title: str
    level: int
    line: int  # 1-based line of the heading in the file
    text: str


def markdown_lines(text: str) -> list[str]:
    """The lines of a Markdown plan: CommonMark and YAML both end a line at CR LF, LF or CR."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_markdown(source: PlanSource, lines: list[str]) -> None:
    if not lines or lines[0].rstrip() != "---":
        fail(source, 1, "a Markdown plan must start with a YAML front-matter block (a '---' line)")
        return
    close = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if close is None:
        fail(source, 1, "the front-matter block opened here never closes (no second '---' line)")
        return
    # Each line ends with its line break (a `|+` block keeps the last one).
    data = load_yaml("".join(line + "\n" for line in lines[1:close]), source, first_line=2)
    if source.problems:
        return
    if data is None:
        fail(source, 1, "the front-matter block is empty")
        return
    if not isinstance(data, dict):
        fail(source, 2, "the front-matter must be a set of keys (key: value)")
        return
    body_start = close + 1  # 0-based index of the first body line
    for section in sections(lines[body_start:], body_start + 1, source):
        _place_section(source, data, section)
    if not source.problems:
        source.data = data


def sections(body: list[str], first_line: int, source: PlanSource) -> list[Section]:
    """Split the body on level-1/2 headings of the document itself.

    A CommonMark parser (pulldown-cmark, through pyromark: no nesting limit, time
    linear in the text) finds them, so a `#` line in code is not one, nor is one
    inside a block quote or a list item (`> ## Plan`, `- # Family`), however deep:
    only headings at the top level of the document start a section.
    """
    headings = _top_headings(body)
    lead_end = headings[0][0] if headings else len(body)
    if "\n".join(body[:lead_end]).strip():
        line = first_line + next(i for i, text in enumerate(body) if text.strip())
        add_problem(source, line, (), "text before the first '## ' section belongs to no field")
    found = []
    for number, (start, content_start, level, title) in enumerate(headings):
        end = headings[number + 1][0] if number + 1 < len(headings) else len(body)
        text = "\n".join(body[content_start:end]).strip("\n")
        found.append(Section(title.strip(), level, first_line + start, text))
    return found


def _top_headings(body: list[str]) -> list[tuple[int, int, int, str]]:
    """(first line, first line after it, level, its text as written) of each level-1/2
    heading outside any block quote or list; lines count from 0."""
    import pyromark

    text = "\n".join(body)
    raw = text.encode("utf-8", "surrogatepass")  # the parser's spans count bytes
    starts = [0]
    for line in body[:-1]:
        starts.append(starts[-1] + len(line.encode("utf-8", "surrogatepass")) + 1)
    headings = []
    depth, heading = 0, None
    for event, span in pyromark.events_with_range(text, options=_OPTIONS):
        kind = next(iter(event)) if isinstance(event, dict) else ""
        if kind == "End":
            depth -= 1
        if depth == 0 and kind == "Start" and isinstance(event["Start"], dict):
            level = int(event["Start"].get("Heading", {}).get("level", "H9")[1])
            heading = [span["start"], span["end"], level, None, None] if level <= 2 else None
        elif depth == 0 and kind == "End" and heading is not None:
            first, last, level, inline_start, inline_end = heading
            title = raw[inline_start:inline_end] if inline_start is not None else b""
            line = bisect.bisect_right(starts, first) - 1
            after = bisect.bisect_right(starts, max(last - 1, first))  # the line after it
            headings.append((line, after, level, title.decode("utf-8", "surrogatepass")))
            heading = None
        elif heading is not None:  # inside the heading: its text as written spans these
            heading[3] = span["start"] if heading[3] is None else heading[3]
            heading[4] = span["end"]
        if kind == "Start":
            depth += 1
    return headings


def _place_section(source: PlanSource, data: dict[str, Any], section: Section) -> None:
    if section.level == 1:
        if section.text.strip():
            add_problem(source, section.line, (), "text under the '# ' title belongs to no field")
        return
    key = " ".join(section.title.split()).casefold()
    path = SECTIONS.get(key)
    if path is None:
        known = ", ".join(f"'## {title}'" for title in SECTION_TITLES)
        add_problem(
            source,
            section.line,
            (),
            f"section {plan_value('## ' + section.title, quote=True)} matches no field "
            f"and would be dropped; sections are: {known}",
        )
        return
    if path in source.source_map.overrides:
        add_problem(
            source,
            section.line,
            path,
            f"section {plan_value('## ' + section.title, quote=True)} is given twice",
        )
        return
    if path == ("progress_notes",):
        _add_progress_note(source, data, section)
        return
    parent_key, field_name = path
    parent = data.setdefault(parent_key, {})
    if isinstance(parent, str) and parent_key == "presenting_problem":
        parent = data[parent_key] = {"text": parent}
    if not isinstance(parent, dict) or field_name in parent:
        written = source.source_map.line_of(path)
        add_problem(
            source,
            section.line,
            path,
            f"given both in the front-matter (line {written}) and as section "
            f"{plan_value('## ' + section.title, quote=True)}",
        )
        return
    parent[field_name] = section.text
    source.source_map.overrides[path] = section.line


def _add_progress_note(source: PlanSource, data: dict[str, Any], section: Section) -> None:
    notes = data.setdefault("progress_notes", [])
    if not isinstance(notes, list):
        add_problem(source, section.line, ("progress_notes",), "must be a list in the front-matter")
        return
    plan_info = data.get("plan") if isinstance(data.get("plan"), dict) else {}
    date = plan_info.get("last_reviewed") or plan_info.get("effective")
    if date is None:
        add_problem(
            source,
            section.line,
            ("progress_notes",),
            "the '## Progress and Outcomes' section is dated by plan.last_reviewed "
            "or plan.effective; give one of them",
        )
        return
    path = ("progress_notes", len(notes))
    notes.append({"date": date, "text": section.text})
    source.source_map.overrides[path] = section.line
    source.source_map.overrides[("progress_notes",)] = section.line
