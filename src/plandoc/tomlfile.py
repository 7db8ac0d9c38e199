"""TOML files plandoc reads (plandoc.toml, layout manifests, instruments files), checked by
a pydantic model, with every problem as `FILE:LINE: key: message`.

`read_model(path, Model)` reads the file (UTF-8, valid TOML) and validates it;
a wrong file raises the given error class holding one line per problem, all
of them at once. Lines are found by scanning the text for table headers and
keys (tomllib keeps no positions): the line of the key, or of the table it
sits in, or 1.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from plandoc.errors import PlandocError, SettingsError
from plandoc.problems import TYPE_MESSAGES

ModelT = TypeVar("ModelT", bound=BaseModel)
TomlPath = tuple[str | int, ...]

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([^\]]+?)[ \t]*\]\]?[ \t]*(?:#.*)?$")
MAX_TOML_BYTES = 4 * 1024 * 1024  # settings, layout manifests and measures are small
_LEADING_KEY = re.compile(r"([a-z_]+): ")
_KEY = re.compile(r"^[ \t]*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_.-]+)[ \t]*=")


def read_text(path: Path, error: type[PlandocError] = SettingsError) -> str:
    """The file's text: UTF-8 (a byte-order mark is fine), or one clear error."""
    from plandoc.planfile.source import read_regular_file

    try:
        raw = read_regular_file(path, MAX_TOML_BYTES)
    except OSError as problem:
        raise error(f"{path}: cannot read: {problem.strerror or problem}") from None
    if len(raw) > MAX_TOML_BYTES:
        most = MAX_TOML_BYTES // 1024 // 1024
        raise error(f"{path}: larger than {most} MiB: not a settings file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as problem:
        line = raw[: problem.start].count(b"\n") + 1
        raise error(f"{path}:{line}: not UTF-8 text (save the file as UTF-8)") from None


def parse(path: Path, text: str, error: type[PlandocError] = SettingsError) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        match = re.search(r"\(at line (\d+)", str(problem))
        at_end = text.count("\n") + 1 if "at end of document" in str(problem) else 1
        line = match.group(1) if match else str(at_end)
        message = re.sub(r" \(at (line \d+, column \d+|end of document)\)", "", str(problem))
        raise error(f"{path}:{line}: not valid TOML: {message}") from None


def read_model(
    path: Path,
    model: type[ModelT],
    error: type[PlandocError] = SettingsError,
    prepare: Any = None,
) -> ModelT:
    """Read and check a TOML file against `model`; `prepare(data)` may adjust the data first."""
    text = read_text(path, error)
    data = parse(path, text, error)
    if prepare is not None:
        data = prepare(data)
    return validate(path, text, data, model, error)


def validate(
    path: Path,
    text: str,
    data: Any,
    model: type[ModelT],
    error: type[PlandocError] = SettingsError,
) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as problems:
        lines = TomlLines(text)
        found = []
        errors = problems.errors(include_url=False)
        paths = [_clean(e["loc"], model) for e in errors]
        for problem, where in zip(errors, paths, strict=True):
            if any(len(other) > len(where) and other[: len(where)] == where for other in paths):
                continue  # the deeper problem says it better ("formats[0]" over "formats")
            text_of = message(problem, model)
            if not where and (key := _LEADING_KEY.match(text_of)):  # a check across keys
                where = (key.group(1),)
            found.append(f"{path}:{lines.line_of(where)}: {text_of}")
        raise error("\n".join(dict.fromkeys(found))) from None


_INTERNAL = {"int", "float", "str", "bool", "none", "list", "tuple", "dict", "literal"}


def _clean(loc: Sequence[Any], model: type[BaseModel] | None = None) -> TomlPath:
    """pydantic's location without its own steps: a union's arm (`int`, a model's name),
    a validator (`function-after[...]`); what is left is the key path of the file."""
    names = _model_names(model) if model is not None else set()
    return tuple(
        part
        for part in loc
        if isinstance(part, int)
        or not ("[" in part or part in _INTERNAL or part in names or part.startswith(
            ("constrained-", "lax-", "strict-", "json-")
        ))
    )  # fmt: skip


def _model_names(model: Any, seen: set[str] | None = None) -> set[str]:
    """The names of every model reachable from `model` (pydantic puts them in locations)."""
    seen = set() if seen is None else seen
    if not (isinstance(model, type) and issubclass(model, BaseModel)) or model.__name__ in seen:
        return seen
    seen.add(model.__name__)
    for field in model.model_fields.values():
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            _model_names(annotation, seen)
            stack += getattr(annotation, "__args__", ())
    return seen


def key_text(path: TomlPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_MESSAGES = {
    **TYPE_MESSAGES,
    **{kind: "must be a table" for kind in ("dict_type", "model_type", "model_attributes_type")},
}


def message(error: Any, model: type[BaseModel]) -> str:
    """One problem of a validation: `key.path: what is wrong`, in plandoc's words."""
    path = _clean(error["loc"], model)
    kind = error["type"]
    where = f"{key_text(path)}: " if path else ""
    if kind == "extra_forbidden":
        known = _known_keys(model, path[:-1])
        close = difflib.get_close_matches(str(path[-1]), known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"{where}unknown key; {hint}keys are: {', '.join(known)}"
    if kind == "literal_error":
        return f"{where}must be one of: {error['ctx']['expected']}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _bounds(model, path)
        if low is not None and high is not None:
            return f"{where}must be {low} to {high}"
        bound = error["ctx"].get("ge", error["ctx"].get("le"))
        return f"{where}must be {bound} or {'more' if kind == 'greater_than_equal' else 'less'}"
    if kind == "value_error":
        return f"{where}{error['ctx']['error']}"
    if kind == "too_short":
        return f"{where}needs at least {error['ctx']['min_length']}"
    if kind == "too_long":
        return f"{where}at most {error['ctx']['max_length']} items"
    if kind == "string_too_long":
        return f"{where}at most {error['ctx']['max_length']} characters"
    return f"{where}{_MESSAGES.get(kind, error['msg'])}"


def _bounds(model: type[BaseModel], path: TomlPath) -> tuple[Any, Any]:
    """The (least, most) a field allows, from its `Field(ge=..., le=...)`."""
    current: Any = model
    for part in path[:-1]:
        current = _descend(current, part)
    fields = getattr(current, "model_fields", {})
    field = fields.get(path[-1]) if path and isinstance(path[-1], str) else None
    low = high = None
    for item in _metadata(field):
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    return low, high


def _metadata(field: Any) -> list[Any]:
    """A field's constraints, also those inside `Annotated[...] | None`."""
    if field is None:
        return []
    found = list(field.metadata)
    stack = [field.annotation]
    while stack:
        annotation = stack.pop()
        for item in getattr(annotation, "__metadata__", ()):
            found += [item, *getattr(item, "metadata", ())]  # a FieldInfo holds Ge, Le...
        stack += getattr(annotation, "__args__", ())
    return found


def _known_keys(model: type[BaseModel], path: TomlPath) -> list[str]:
    current: Any = model
    for part in path:
        current = _descend(current, part)
    if current is None or not isinstance(current, type) or not issubclass(current, BaseModel):
        return []
    return [field.alias or name for name, field in current.model_fields.items()]


@dataclass(frozen=True, slots=True)
class _Entries:
    """A table of named entries (`[codes.H0004]`): any key of it leads to `entry`."""

    entry: Any


def _descend(model: Any, part: str | int) -> Any:
    """The model a key leads to: a field's model, or a table of named entries' entry."""
    if isinstance(part, int) or model is None:
        return model
    if isinstance(model, _Entries):  # the key names an entry
        return model.entry
    fields = getattr(model, "model_fields", {})
    if "root" in fields and part not in fields:  # RootModel[dict[str, Entry]]
        args = getattr(fields["root"].annotation, "__args__", ())
        return _model_in(args[-1]) if args else None
    field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
    if field is None:
        return None
    if typing.get_origin(field.annotation) is dict:  # a field holding named entries
        return _Entries(_model_in(field.annotation))
    return _model_in(field.annotation)


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


class TomlLines:
    """Where each key of a TOML text is written: (table path + key) -> 1-based line."""

    def __init__(self, text: str) -> None:
        self.lines: dict[TomlPath, int] = {}
        table: TomlPath = ()
        counts: dict[TomlPath, int] = {}
        for number, line in enumerate(text.splitlines(), 1):
            header = _HEADER.match(line)
            if header:
                table = tuple(_key_parts(header.group(2)))
                if header.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                    table = (*table, index)
                self.lines.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault((*table, *_key_parts(key.group(1))), number)

    def line_of(self, path: TomlPath) -> int:
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def _key_parts(key: str) -> list[str]:
    return [part.strip().strip("\"'") for part in key.split(".")]
