"""Where each field of a plan stands in its file, for `FILE:LINE` in errors.

A valid plan never needs a line number, so the JSON map is built only when a
problem asks for one; YAML nodes carry their lines already.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import yaml

from plandoc.problems import FieldPath

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class SourceMap:
    """Maps a field path to the 1-based line where it (or its nearest parent) is written."""

    def __init__(self, lines: dict[FieldPath, int] | None = None, root_line: int = 1) -> None:
        self._lines = lines if lines is not None else {}
        self.root_line = root_line
        self.overrides: dict[FieldPath, int] = {}

    def _table(self) -> dict[FieldPath, int]:
        return self._lines

    def line_of(self, path: FieldPath) -> int:
        table = self._table()
        for end in range(len(path), 0, -1):
            prefix = tuple(path[:end])
            if prefix in self.overrides:
                return self.overrides[prefix]
            if prefix in table:
                return table[prefix]
        return self.root_line

    def duplicate_keys(self) -> list[tuple[FieldPath, int]]:
        return []


class JsonSourceMap(SourceMap):
    """Scans JSON text (already known to be valid) on first use."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text
        self._scanned = False
        self._duplicates: list[tuple[FieldPath, int]] = []

    def _table(self) -> dict[FieldPath, int]:
        if not self._scanned:
            self._scanned = True
            scanner = _JsonScanner(self._text)
            scanner.value(())
            self._lines, self._duplicates = scanner.lines, scanner.duplicates
        return self._lines

    def duplicate_keys(self) -> list[tuple[FieldPath, int]]:
        self._table()
        return self._duplicates


class _JsonScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines: dict[FieldPath, int] = {}
        self.duplicates: list[tuple[FieldPath, int]] = []

    def line(self) -> int:
        return bisect.bisect_left(self.newlines, self.pos) + 1

    def skip(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def value(self, path: FieldPath) -> None:
        self.skip()
        self.lines.setdefault(path, self.line())
        char = self.text[self.pos : self.pos + 1]
        if char == "{":
            self.members(path)
        elif char == "[":
            self.items(path)
        else:
            match = (_STRING if char == '"' else _SCALAR).match(self.text, self.pos)
            self.pos = match.end() if match and match.end() > self.pos else len(self.text)

    def members(self, path: FieldPath) -> None:
        self.pos += 1
        seen: set[str] = set()
        while True:
            self.skip()
            if self.text.startswith("}", self.pos):
                self.pos += 1
                return
            if self.text.startswith(",", self.pos):
                self.pos += 1
                self.skip()
            match = _STRING.match(self.text, self.pos)
            if match is None:
                self.pos = len(self.text)
                return
            key = json.loads(match.group())
            child = (*path, key)
            if key in seen:
                self.duplicates.append((child, self.line()))
            seen.add(key)
            self.lines[child] = self.line()
            self.pos = match.end()
            self.skip()
            self.pos += 1  # the colon
            self.value(child)

    def items(self, path: FieldPath) -> None:
        self.pos += 1
        index = 0
        while True:
            self.skip()
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return
            if self.text.startswith(",", self.pos):
                self.pos += 1
            start = self.pos
            self.value((*path, index))
            if self.pos <= start:  # nothing it can read: stop, never loop (the JSON is bad)
                self.pos = len(self.text)
                return
            index += 1


class YamlSourceMap(SourceMap):
    """Lines of a composed YAML node tree; `offset` is the line the YAML text starts on."""

    def __init__(self, root: yaml.Node, offset: int) -> None:
        lines: dict[FieldPath, int] = {}
        self._duplicates: list[tuple[FieldPath, int]] = []
        self.aliases: list[tuple[FieldPath, int]] = []
        self.untexted_keys: list[tuple[FieldPath, int]] = []  # `1: x`, `true: x`, `~: x`
        for path, node, kind in _walk(root, (), set()):
            line = node.start_mark.line + offset
            if kind == "duplicate":
                self._duplicates.append((path, line))
            elif kind == "untexted key":
                self.untexted_keys.append((path, line))
            elif kind == "alias":  # the node is the anchor's: point at the key instead
                self.aliases.append((path, lines.get(path, line)))
            else:
                lines.setdefault(path, line)
        super().__init__(lines, root_line=offset)

    def duplicate_keys(self) -> list[tuple[FieldPath, int]]:
        return self._duplicates


def _walk(
    node: yaml.Node, path: FieldPath, visited: set[int]
) -> Iterator[tuple[FieldPath, yaml.Node, str]]:
    """Yield (path, node, kind); kind is "", "duplicate" (a repeated key), "alias", or
    "untexted key" (a key YAML reads as a number, true/false, null or a list: plan data
    holds text keys only, as JSON does).

    An alias (`*name`) makes the tree share a node; it is reported, never
    followed, so a YAML "billion laughs" costs no more than its text.
    """
    if id(node) in visited:
        yield path, node, "alias"
        return
    visited.add(id(node))
    yield path, node, ""
    import yaml  # only a Markdown plan's front-matter has YAML nodes

    if isinstance(node, yaml.MappingNode):
        seen: set[object] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node)
            child = (*path, key)
            if key in seen:
                yield child, key_node, "duplicate"
                continue
            seen.add(key)
            text_key = isinstance(key_node, yaml.ScalarNode) and key_node.tag.endswith(":str")
            yield child, key_node, "" if text_key else "untexted key"
            yield from _walk(value_node, child, visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _walk(item, (*path, index), visited)
