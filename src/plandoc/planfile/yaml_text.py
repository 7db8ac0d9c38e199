"""YAML as plan files hold it: read with YAML 1.2's plain scalars, written back the same.

The loader reads `no`, `on` and `1:20` as text and dates as text (the model
reads them), refuses aliases, duplicate keys, tags JSON cannot hold and
nesting past the limit; the dumper writes what the loader reads back as the
same data.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from plandoc.planfile.source import MAX_DEPTH, TOO_DEEP, PlanSource, add_problem, whole_number
from plandoc.planfile.sourcemap import YamlSourceMap
from plandoc.problems import plan_value, quotes_as_values

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
    return whole_number(node.value) if _CANONICAL_INT.fullmatch(node.value) else node.value


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


# Line breaks to YAML but not to Markdown (which splits a plan file's lines): written raw
# in a block, one could end the front-matter early (a `...` after it). Always escaped.
_YAML_ONLY_BREAKS = ("\u0085", "\u2028", "\u2029")


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    node = dumper.represent_scalar("tag:yaml.org,2002:str", text)
    if any(mark in text for mark in _YAML_ONLY_BREAKS):
        node.style = '"'
        return node
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
                add_problem(source, line, (), TOO_DEEP)
            else:
                add_problem(source, line, (), f"not valid YAML: {quotes_as_values(problem)}")
            return None
        if node is None:
            return None
        deep = _yaml_too_deep(node)
        if deep is not None:
            add_problem(source, deep + first_line, (), TOO_DEEP)
            return None
        source_map = YamlSourceMap(node, first_line)
        source.source_map = source_map
        for path, line in source_map.aliases:
            add_problem(source, line, path, "YAML aliases (*name) are not allowed in plans")
        for path, line in source_map.duplicate_keys():
            add_problem(source, line, path, "key given twice (the second would silently win)")
        for path, line in source_map.untexted_keys:
            add_problem(source, line, path, "a key must be text: put it in quotes")
        if source.problems:
            return None
        try:
            return loader.construct_document(node)
        except (yaml.YAMLError, ValueError, TypeError) as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + first_line if mark else first_line
            problem = getattr(error, "problem", None) or str(error)
            add_problem(source, line, (), f"cannot read this YAML value: {plan_value(problem)}")
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
