"""Read a plan file (JSON, or Markdown with YAML front-matter) into plain data.

The reader knows file formats, nothing of treatment plans beyond the table of
narrative `##` sections. It returns the data, a source map for line numbers,
and the problems that stopped it (bad syntax, duplicate keys, unknown
sections); it never raises for bad input. A Markdown plan's YAML and sections
are read by `yaml_text` and `markdown_plan`, imported only for a Markdown plan.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from plandoc.planfile.source import (
    MAX_DEPTH,
    MAX_PLAN_BYTES,
    PLAN_SUFFIXES,
    TOO_DEEP,
    NotAFile,
    PlanSource,
    add_problem,
    fail,
    in_nfc,
    leaves,
    read_regular_file,
    whole_number,
)
from plandoc.planfile.sourcemap import JsonSourceMap
from plandoc.problems import plan_value

__all__ = [
    "MAX_DEPTH",
    "MAX_PLAN_BYTES",
    "PLAN_SUFFIXES",
    "PlanSource",
    "in_nfc",
    "leaves",
    "read_bytes",
    "read_plan",
]


def read_plan(path: Path) -> PlanSource:
    """Read one plan file; problems are returned in `PlanSource.problems`, never raised."""
    source = PlanSource(path, None)
    try:
        raw = read_regular_file(path, MAX_PLAN_BYTES)
    except FileNotFoundError:
        return fail(source, None, "no such file")
    except IsADirectoryError:
        return fail(source, None, "is a folder, not a plan file")
    except NotAFile:
        return fail(source, None, "is not a file (a FIFO or a device): a plan is a file")
    except OSError as error:
        return fail(source, None, f"cannot read: {error.strerror or error}")
    return read_bytes(raw, path)


def read_bytes(raw: bytes, path: Path) -> PlanSource:
    """Read the bytes of a plan file named `path` (its suffix says the format), as `read_plan`."""
    source = PlanSource(path, None)
    if len(raw) > MAX_PLAN_BYTES:
        return _too_large(source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        return fail(source, line, "not UTF-8 text (save the file as UTF-8)")
    if not text.strip():
        return fail(
            source, 1, "the file is empty: a plan starts with `{` (JSON) or `---` (Markdown)"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            _read_json(source, text)
        elif suffix == ".md":
            from plandoc.planfile.markdown_plan import markdown_lines, read_markdown

            read_markdown(source, markdown_lines(text))
        else:
            return fail(source, None, "not a plan file: expected a .json or .md file")
    except RecursionError:  # not reached while MAX_DEPTH holds: a last guard
        return fail(source, 1, TOO_DEEP)
    if source.data is not None and not (text.isascii() and "\\" not in text):
        source.data = in_nfc(source.data)
    return source


def _too_large(source: PlanSource) -> PlanSource:
    return fail(source, 1, f"file is larger than {MAX_PLAN_BYTES // 1024 // 1024} MiB")


# --- JSON --------------------------------------------------------------------


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _too_deep(data: Any) -> bool:
    """Whether plain data (from JSON) nests lists and dicts more than MAX_DEPTH levels.

    One level at a time, without recursion: about half the time `json.loads` takes.
    """
    level = [data] if type(data) is dict or type(data) is list else []
    for _ in range(MAX_DEPTH):
        below = []
        for value in level:
            for child in value.values() if type(value) is dict else value:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        if not below:
            return False
        level = below
    return True


def _json_too_deep_line(text: str) -> int:
    """The line where JSON text opens its (MAX_DEPTH + 1)th level (1 if it never does).

    Strings are skipped whole, so a bracket inside one does not count. Run only
    for a file already known to nest too deep: it is ten times slower than parsing.
    """
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        first = match.group()[0]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return text.count("\n", 0, match.start()) + 1
        elif first in "]}":
            depth -= 1
    return 1


def _read_json(source: PlanSource, text: str) -> None:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            duplicates.append("")
        return obj

    def constant(name: str) -> Any:
        raise ValueError(name)

    try:
        data = json.loads(
            text, object_pairs_hook=pairs, parse_constant=constant, parse_int=whole_number
        )
    except json.JSONDecodeError as error:
        fail(source, error.lineno, f"not valid JSON: {error.msg} (column {error.colno})")
        return
    except ValueError as error:  # Python reads NaN and Infinity; JSON has no such numbers
        fail(source, None, f"not valid JSON: {plan_value(error)} is not a JSON number")
        return
    except RecursionError:  # a thousand levels and more
        fail(source, _json_too_deep_line(text), TOO_DEEP)
        return
    if _too_deep(data):
        fail(source, _json_too_deep_line(text), TOO_DEEP)
        return
    source.source_map = JsonSourceMap(text)
    if not isinstance(data, dict):
        fail(source, 1, "a plan must be one JSON object ({ ... })")
        return
    if duplicates:
        for path, line in source.source_map.duplicate_keys():
            add_problem(source, line, path, "key given twice (the second would silently win)")
        return
    source.data = data
