"""Read a plan file (JSON, or Markdown with YAML front-matter) into plain data.

The reader knows file formats, nothing of treatment plans beyond the table of
narrative `##` sections. It returns the data, a source map for line numbers,
and the problems that stopped it (bad syntax, duplicate keys, unknown
sections); it never raises for bad input.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from plandoc.planfile.sourcemap import JsonSourceMap, SourceMap, YamlSourceMap
from plandoc.problems import FieldPath, Problem, plan_value, quotes_as_values

PLAN_SUFFIXES = (".json", ".md")
MAX_PLAN_BYTES = 2 * 1024 * 1024
# Lists and sets of keys inside one another: a plan needs 6 (plan, goals, a goal, its
# objectives, an objective, its methods); `x-` data may use the rest. Past it is one
# error, found before the data is built, so nothing after the reader (the model,
# `leaves`, copies, YAML output) can recurse too deep.
MAX_DEPTH = 50
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (lists and sets of keys; README: Limits)"
# A whole number longer than this is read as its digits (text), which the model refuses
# as a number: Python will not read one of more than 4,300 digits.
MOST_DIGITS = 100

# Narrative fields that a Markdown plan may write as `## Heading` sections.
SECTIONS: dict[str, FieldPath] = {
    "presenting problem": ("presenting_problem", "text"),
    "history": ("assessment", "history"),
    "symptom onset": ("assessment", "symptom_onset"),
    "prior treatment": ("assessment", "prior_treatment"),
    "treatment contract": ("contract", "summary"),
    "progress and outcomes": ("progress_notes",),
}
SECTION_TITLES = (
    "Presenting Problem",
    "History",
    "Symptom Onset",
    "Prior Treatment",
    "Treatment Contract",
    "Progress and Outcomes",
)


@dataclass
class PlanSource:
    """A plan file as read: its data (None when unreadable) and where things are in it."""

    path: Path
    data: dict[str, Any] | None
    source_map: SourceMap = field(default_factory=SourceMap)
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.path)


def read_plan(path: Path) -> PlanSource:
    """Read one plan file; problems are returned in `PlanSource.problems`, never raised."""
    source = PlanSource(path, None)
    try:
        if path.stat().st_size > MAX_PLAN_BYTES:
            return _too_large(source)
        raw = path.read_bytes()
    except FileNotFoundError:
        return _fail(source, None, "no such file")
    except IsADirectoryError:
        return _fail(source, None, "is a folder, not a plan file")
    except OSError as error:
        return _fail(source, None, f"cannot read: {error.strerror or error}")
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
        return _fail(source, line, "not UTF-8 text (save the file as UTF-8)")
    if not text.strip():
        return _fail(
            source, 1, "the file is empty: a plan starts with `{` (JSON) or `---` (Markdown)"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            _read_json(source, text)
        elif suffix == ".md":
            _read_markdown(source, markdown_lines(text))
        else:
            return _fail(source, None, "not a plan file: expected a .json or .md file")
    except RecursionError:  # not reached while MAX_DEPTH holds: a last guard
        return _fail(source, 1, TOO_DEEP)
    if source.data is not None and not (text.isascii() and "\\" not in text):
        source.data = in_nfc(source.data)
    return source


def in_nfc(data: Any) -> Any:
    """Every text of the data in Unicode's composed form (NFC); keys as written.

    Done here, once, for every plan read: "É" typed as one character or as "E"
    and a combining accent is then the same text for the model, the checks (ids
    compared), the documents and `new --from`. A file of ASCII without escapes
    (`\\u00e9`) holds no other text, and is not walked. The data is at most
    MAX_DEPTH deep. Keys are left: two keys equal in NFC would silently become one.
    """
    if isinstance(data, str):
        return data if data.isascii() else unicodedata.normalize("NFC", data)
    if isinstance(data, list):
        return [in_nfc(value) for value in data]
    if isinstance(data, dict):
        return {key: in_nfc(value) for key, value in data.items()}
    return data


def _too_large(source: PlanSource) -> PlanSource:
    return _fail(source, 1, f"file is larger than {MAX_PLAN_BYTES // 1024 // 1024} MiB")


def _fail(source: PlanSource, line: int | None, message: str) -> PlanSource:
    source.problems.append(Problem(source.name, line, (), message))
    return source


def _problem(source: PlanSource, line: int | None, path: FieldPath, message: str) -> None:
    source.problems.append(Problem(source.name, line, path, message))


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
            text, object_pairs_hook=pairs, parse_constant=constant, parse_int=_whole_number
        )
    except json.JSONDecodeError as error:
        _fail(source, error.lineno, f"not valid JSON: {error.msg} (column {error.colno})")
        return
    except ValueError as error:  # Python reads NaN and Infinity; JSON has no such numbers
        _fail(source, None, f"not valid JSON: {plan_value(error)} is not a JSON number")
        return
    except RecursionError:  # a thousand levels and more
        _fail(source, _json_too_deep_line(text), TOO_DEEP)
        return
    if _too_deep(data):
        _fail(source, _json_too_deep_line(text), TOO_DEEP)
        return
    source.source_map = JsonSourceMap(text)
    if not isinstance(data, dict):
        _fail(source, 1, "a plan must be one JSON object ({ ... })")
        return
    if duplicates:
        for path, line in source.source_map.duplicate_keys():
            _problem(source, line, path, "key given twice (the second would silently win)")
        return
    source.data = data


# --- YAML front-matter --------------------------------------------------------

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# How a plain (unquoted) YAML scalar is read: YAML 1.2 core scalars, not PyYAML's 1.1 ones.
# The loader and the dumper share this table, so the dumper quotes a string exactly when
# the loader would read it unquoted as something else (`1e5`, `null`, `true`, `-3`).
PLAIN_SCALARS = (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^[-+]?[0-9]+$", "-+0123456789"),
    ("float", r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$", "-+.0123456789"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
)


def _resolve_as_plan_yaml(cls: type[yaml.resolver.BaseResolver]) -> None:
    cls.yaml_implicit_resolvers = {}
    for tag, pattern, first in PLAIN_SCALARS:
        cls.add_implicit_resolver(f"tag:yaml.org,2002:{tag}", re.compile(pattern), list(first))


class _PlanYamlLoader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    """YAML 1.2 core scalars: `no`, `on`, `1:20` stay text; dates stay text for the model."""


_resolve_as_plan_yaml(_PlanYamlLoader)

_CANONICAL_INT = re.compile(r"-?(?:0|[1-9][0-9]*)")


def _construct_int(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> int | str:
    # Leading zeros (a CPT code such as 00100) mean the digits, not a number.
    return _whole_number(node.value) if _CANONICAL_INT.fullmatch(node.value) else node.value


def _whole_number(digits: str) -> int | str:
    return int(digits) if len(digits) <= MOST_DIGITS else digits


def _construct_float(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> float | str:
    # Keep the text when a float would lose digits (a code such as 296.30).
    value = float(node.value)
    return value if repr(value) == node.value else node.value


def _refuse_tag(loader: yaml.BaseLoader, node: yaml.Node) -> None:
    # Plan data is what JSON holds: text, numbers, true/false, null, lists and keys.
    # The reader marks the whole message as a plan value.
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    message = f"{tag} is not plan data: a plan holds text, numbers, true/false, lists and keys"
    raise yaml.constructor.ConstructorError(None, None, message, node.start_mark)


_PlanYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_PlanYamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_PlanYamlLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)
for _tag in ("binary", "set", "omap", "pairs"):
    _PlanYamlLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


class _ScalarDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, resolving plain scalars as the plan's loader does."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # the reader refuses aliases


_resolve_as_plan_yaml(_ScalarDumper)
# Then YAML 1.1's rules, after the plan's: a text that another YAML tool (an editor, a
# script using PyYAML's defaults) would read as a date, a yes/no or a number is quoted
# too. Quoting only ever keeps a text a text, so the plan's loader reads it the same.
for _first, _rules in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
    for _tag11, _pattern11 in _rules:
        _ScalarDumper.add_implicit_resolver(_tag11, _pattern11, [_first])


def _represent_float(dumper: yaml.SafeDumper, value: float) -> yaml.ScalarNode:
    # repr is the shortest text that reads back as the same float; `inf` and `nan` (which
    # the plan's checks refuse) are not plain numbers, so the dumper tags them `!!float`.
    return dumper.represent_scalar("tag:yaml.org,2002:float", repr(value))


_ScalarDumper.add_representer(float, _represent_float)


class PlanYamlDumper(_ScalarDumper):
    """Writes YAML that `load_yaml` reads back as the same data.

    Plain scalars are resolved with the loader's table (PyYAML's own dumper uses
    YAML 1.1 rules, and would leave `1e5` or `+1` unquoted); a float is written as
    its repr, which the loader keeps as a number; no alias is written. Each text
    is written in the first style that reads back as the same text: a `|` block
    for a multi-line text, else the style PyYAML picks, else double quotes, which
    escape every character a YAML parser would change (a lone CR, U+0085, U+2028).
    """


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    node = dumper.represent_scalar("tag:yaml.org,2002:str", text)
    styles = ("|", None, '"') if "\n" in text else (None, '"')
    node.style = next((style for style in styles if _reads_back(text, style)), '"')
    return node


def _reads_back(text: str, style: str | None) -> bool:
    loader = _PlanYamlLoader(_dump({"x": text}, _ScalarDumper, style))
    try:
        return loader.get_single_data() == {"x": text}
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()


def _dump(data: Any, dumper: type[yaml.SafeDumper], style: str | None = None) -> str:
    text = yaml.dump(
        data, Dumper=dumper, default_style=style, sort_keys=False, allow_unicode=True,
        default_flow_style=False, width=100,
    )  # fmt: skip
    # After a `|+` block PyYAML ends the document with `...`, which would close a
    # front-matter block; the end of the text ends the document as well.
    return text.removesuffix("...\n") if text == "...\n" or text.endswith("\n...\n") else text


PlanYamlDumper.add_representer(str, _represent_text)


def dump_yaml(data: Any) -> str:
    """`data` as block YAML that `load_yaml` reads back as the same data."""
    return _dump(data, PlanYamlDumper)


def load_yaml(text: str, source: PlanSource, first_line: int) -> Any:
    """Parse YAML that starts on `first_line` of the file; sets the source map."""
    loader = _PlanYamlLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
            line = mark.line + first_line if mark else first_line
            problem = getattr(error, "problem", None) or type(error).__name__
            if "nesting depth" in problem:  # libyaml's own limit (1,000 levels)
                _problem(source, line, (), TOO_DEEP)
            else:
                _problem(source, line, (), f"not valid YAML: {quotes_as_values(problem)}")
            return None
        if node is None:
            return None
        deep = _yaml_too_deep(node)
        if deep is not None:
            _problem(source, deep + first_line, (), TOO_DEEP)
            return None
        source_map = YamlSourceMap(node, first_line)
        source.source_map = source_map
        for path, line in source_map.aliases:
            _problem(source, line, path, "YAML aliases (*name) are not allowed in plans")
        for path, line in source_map.duplicate_keys():
            _problem(source, line, path, "key given twice (the second would silently win)")
        if source.problems:
            return None
        try:
            return loader.construct_document(node)
        except (yaml.YAMLError, ValueError, TypeError) as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + first_line if mark else first_line
            problem = getattr(error, "problem", None) or str(error)
            _problem(source, line, (), f"cannot read this YAML value: {plan_value(problem)}")
            return None
    finally:
        loader.dispose()


def _yaml_too_deep(root: yaml.Node) -> int | None:
    """The 0-based line of the first node past MAX_DEPTH in a composed YAML tree, or None.

    Walked with a list, not recursion; an alias is a node already seen and is not
    followed (the source map reports it).
    """
    seen: set[int] = set()
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen or not isinstance(node, yaml.CollectionNode):
            continue
        seen.add(id(node))
        if depth > MAX_DEPTH:
            return node.start_mark.line
        children = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [child for pair in node.value for child in pair]
        )
        stack.extend((child, depth + 1) for child in reversed(children))  # in file order
    return None


# --- Markdown with front-matter ---------------------------------------------

_FENCE = re.compile(r"^(?:---|\.\.\.)[ \t]*$")
_BLOCKS = MarkdownIt("commonmark").disable(["inline"], ignoreInvalid=True)


@dataclass
class Section:
    title: str
    level: int
    line: int  # 1-based line of the heading in the file
    text: str


def markdown_lines(text: str) -> list[str]:
    """The lines of a Markdown plan: CommonMark and YAML both end a line at CR LF, LF or CR."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _read_markdown(source: PlanSource, lines: list[str]) -> None:
    if not lines or lines[0].rstrip() != "---":
        _fail(source, 1, "a Markdown plan must start with a YAML front-matter block (a '---' line)")
        return
    close = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if close is None:
        _fail(source, 1, "the front-matter block opened here never closes (no second '---' line)")
        return
    # Each line ends with its line break (a `|+` block keeps the last one).
    data = load_yaml("".join(line + "\n" for line in lines[1:close]), source, first_line=2)
    if source.problems:
        return
    if data is None:
        _fail(source, 1, "the front-matter block is empty")
        return
    if not isinstance(data, dict):
        _fail(source, 2, "the front-matter must be a set of keys (key: value)")
        return
    body_start = close + 1  # 0-based index of the first body line
    for section in sections(lines[body_start:], body_start + 1, source):
        _place_section(source, data, section)
    if not source.problems:
        source.data = data


def sections(body: list[str], first_line: int, source: PlanSource) -> list[Section]:
    """Split the body on level-1/2 headings of the document itself.

    A CommonMark parser finds them, so a `#` line in code is not one, nor is one
    inside a block quote or a list item (`> ## Plan`, `- # Family`): only headings
    at the top level of the document start a section.
    """
    tokens = _BLOCKS.parse("\n".join(body))
    headings = [
        (token.map[0], token.map[1], int(token.tag[1]), tokens[index + 1].content)
        for index, token in enumerate(tokens)
        if token.type == "heading_open"
        and token.tag in ("h1", "h2")
        and token.level == 0
        and token.map
    ]
    lead_end = headings[0][0] if headings else len(body)
    if "\n".join(body[:lead_end]).strip():
        line = first_line + next(i for i, text in enumerate(body) if text.strip())
        _problem(source, line, (), "text before the first '## ' section belongs to no field")
    found = []
    for number, (start, content_start, level, title) in enumerate(headings):
        end = headings[number + 1][0] if number + 1 < len(headings) else len(body)
        text = "\n".join(body[content_start:end]).strip("\n")
        found.append(Section(title.strip(), level, first_line + start, text))
    return found


def _place_section(source: PlanSource, data: dict[str, Any], section: Section) -> None:
    if section.level == 1:
        if section.text.strip():
            _problem(source, section.line, (), "text under the '# ' title belongs to no field")
        return
    key = " ".join(section.title.split()).casefold()
    path = SECTIONS.get(key)
    if path is None:
        known = ", ".join(f"'## {title}'" for title in SECTION_TITLES)
        _problem(
            source,
            section.line,
            (),
            f"section {plan_value('## ' + section.title, quote=True)} matches no field "
            f"and would be dropped; sections are: {known}",
        )
        return
    if path in source.source_map.overrides:
        _problem(
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
        _problem(
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
        _problem(source, section.line, ("progress_notes",), "must be a list in the front-matter")
        return
    plan_info = data.get("plan") if isinstance(data.get("plan"), dict) else {}
    date = plan_info.get("last_reviewed") or plan_info.get("effective")
    if date is None:
        _problem(
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


def leaves(data: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every scalar of plain data with its field path: ("goals", 0, "statement"), value."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaves(value, (*path, index))
    else:
        yield path, data
