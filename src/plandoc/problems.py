"""Problems found in a plan, and the errors that stop plandoc.

A `Problem` is data: every stage collects them and hands them back, so the
user sees every problem of a file at once. Exceptions are kept for what stops
the program (a missing file, an unknown layout): see `errors`.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A field path as the model sees it: ("goals", 0, "objectives", 1, "methods").
FieldPath = tuple[str | int, ...]


class Severity(enum.StrEnum):
    """An error keeps a plan from being rendered; a warning does only with `strict`."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a plan: where it is and what to do about it."""

    file: str
    line: int | None
    field: FieldPath
    message: str
    severity: Severity = Severity.ERROR
    # From a layout rule that stands aside when a newer version of the plan is in the run.
    unless_newer_version: bool = False

    @property
    def field_name(self) -> str:
        """The field path as written: `goals[0].objectives[1].methods`."""
        return shown(format_field_path(self.field), values=True)

    def __str__(self) -> str:
        return self.text(values=True)

    def marked(self) -> str:
        """`FILE:LINE: field.path: message`, one line, its values and file name still marked."""
        where = f"{file_name(self.file)}:{self.line}" if self.line else file_name(self.file)
        label = "" if self.severity is Severity.ERROR else "warning: "
        field = f"{format_field_path(self.field)}: " if self.field else ""
        return one_line(f"{where}: {field}{label}{self.message}")

    def text(self, values: bool, names: bool = True) -> str:
        """The problem as printed: plan values only when `values`, its file only when `names`."""
        return shown(self.marked(), values, names)

    def as_dict(self, names: bool = True) -> dict[str, object]:
        """For a JSON report: never a plan value; the file's path only when `names`."""
        return {
            **({"file": self.file} if names else {}),
            "line": self.line,
            "field": one_line(shown(format_field_path(self.field), values=False)),
            "severity": self.severity.value,
            "message": one_line(shown(self.message, values=False, names=names)),
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem before it knows its file and line (what a check returns)."""

    field: FieldPath
    message: str
    severity: Severity = Severity.ERROR
    unless_newer_version: bool = False


# --- values from plans, and file names, inside messages ----------------------------
#
# A message may quote the plan: a date, a code, a score, an unknown key. Every
# such value is wrapped with `plan_value()` where the message is made, and every
# input file name with `file_name()`; whoever prints the message decides what is
# shown. Plan values go only to the terminal of the person running the command
# (never to a log, a JSON report or a file, and not at all with --no-values);
# file names, which a clinic may have made from client names, stay out of JSON
# reports unless asked for. The marks are private-use characters, and any in
# the value itself are replaced, so a plan cannot end its own mark early.

_VALUE, _VALUE_END, _NAME, _NAME_END = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKS = re.compile("[\ue000-\ue003]")
_MARKED_VALUE = re.compile("\ue000[^\ue001]*\ue001")
_MARKED_NAME = re.compile("\ue002[^\ue003]*\ue003")
HIDDEN_VALUE = "[value hidden]"
HIDDEN_NAME = "[file name hidden]"


def plan_value(item: object, quote: bool = False) -> str:
    """A plan value inside a message: shown or hidden when the message is printed.

    Control characters in it are shown escaped: a value never breaks a line.
    """
    text = one_line(_MARKS.sub("\ufffd", str(item)))
    return f"{_VALUE}'{text}'{_VALUE_END}" if quote else f"{_VALUE}{text}{_VALUE_END}"


# A quoted text as Python's repr writes it ('O\'Brien "Bo"' keeps its escaped quote
# inside); the apostrophe of a word ("can't") opens no quote.
_QUOTED = re.compile(r"(?<!\w)(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")")


def quotes_as_values(message: str) -> str:
    """A library's message may quote what it read (`found undefined tag '!x'`): mark quotes."""
    return _QUOTED.sub(lambda match: plan_value(match.group()), message)


def file_name(path: object) -> str:
    """An input file's name inside a message (it may hold a client's name)."""
    return f"{_NAME}{_MARKS.sub(chr(0xFFFD), str(path))}{_NAME_END}"


def file_key(path: str) -> str:
    """An input file named without its path, in a report (`file_key`): a hash of the path."""
    return hashlib.sha256(path.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def has_values(text: str) -> bool:
    """Does the message quote a plan value (one that `shown` would hide)?"""
    return _MARKED_VALUE.search(text) is not None


def shown(text: str, values: bool, names: bool = True) -> str:
    """A message as printed: values and file names shown or replaced."""
    if not values:
        text = _MARKED_VALUE.sub(HIDDEN_VALUE, text)
    if not names:
        text = _MARKED_NAME.sub(HIDDEN_NAME, text)
    return _MARKS.sub("", text)


# Control characters, line separators, lone surrogates, and the bidirectional
# controls that can reorder what a terminal shows (U+061C, U+200E/F, U+202A-E, U+2066-9).
_UNSEEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def one_line(text: str) -> str:
    """A problem is one line: control characters (a newline in a key, an escape sequence,
    a bidirectional override) are shown escaped."""
    return _UNSEEN.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode(),
                       text)  # fmt: skip


# The plan format's own keys (filled in by `model`): any other key in a field
# path was written by the plan's author, so it is a plan value like any other.
FORMAT_KEYS: set[str] = set()


def format_field_path(path: Sequence[str | int]) -> str:
    """("goals", 0, "objectives") -> "goals[0].objectives"; a key of the author's is marked."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            key = part if part in FORMAT_KEYS or not FORMAT_KEYS else plan_value(part)
            text += f".{key}" if text else key
    return text


def internal_error(file: str, stage: str, error: BaseException) -> Problem:
    """A bug of plandoc's, met while `stage` ("checking", "rendering") a plan: one problem
    of that plan, naming the kind of error only (its text could quote the plan)."""
    kind = type(error).__name__
    return Problem(file, None, (), f"internal error while {stage} ({kind}); please report it")


# What a type error of pydantic means, in plandoc's words: for a plan (its objects are
# "sets of keys") and, with `table` for those, for a TOML settings file.
TYPE_MESSAGES = {
    "missing": "missing (required)",
    "string_type": "must be text",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "tuple_type": "must be a list",
    "model_type": "must be a set of keys (an object)",
    "dict_type": "must be a set of keys (an object)",
    "model_attributes_type": "must be a set of keys (an object)",
    "string_too_short": "must not be empty",
}


UNPRINTABLE = "holds a character no document can carry"
# Characters XML 1.0 (so DOCX) cannot hold, those HTML forbids (DEL and the C1 controls,
# U+0080 to U+009F, and the noncharacters: U+FDD0 to U+FDEF and the last two of every
# plane), and lone UTF-16 surrogates.
_NONCHARACTERS = "".join(
    f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17)
)
_UNPRINTABLE = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ud800-\udfff{_NONCHARACTERS}]"
)


def unprintable(text: str) -> str | None:
    """Why no document can carry this text (the first such character), or None."""
    match = _UNPRINTABLE.search(text)
    if match is None:
        return None
    code = f"U+{ord(match.group()):04X}"
    return f"{UNPRINTABLE} ({code}, at character {match.start() + 1}); remove it"
