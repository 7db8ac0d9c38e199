"""Problems found in a plan, and the errors that stop plandoc.

A `Problem` is data: every stage collects them and hands them back, so the
user sees every problem of a file at once. Exceptions are kept for what stops
the program (a missing file, an unknown layout); they subclass
`click.ClickException` so the command line prints one clean line.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

import click

# A field path as the model sees it: ("goals", 0, "objectives", 1, "methods").
FieldPath = tuple[str | int, ...]


class Severity(enum.StrEnum):
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

    @property
    def field_name(self) -> str:
        return format_field_path(self.field)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = "" if self.severity is Severity.ERROR else "warning: "
        field = f"{self.field_name}: " if self.field else ""
        return one_line(f"{where}: {field}{label}{self.message}")

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field_name,
            "severity": self.severity.value,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem before it knows its file and line (what a check returns)."""

    field: FieldPath
    message: str
    severity: Severity = Severity.ERROR


_UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def one_line(text: str) -> str:
    """A problem is one line: control characters (a newline in a key...) are shown escaped."""
    return _UNSEEN.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode(),
                       text)  # fmt: skip


def format_field_path(path: Sequence[str | int]) -> str:
    """("goals", 0, "objectives") -> "goals[0].objectives"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class PlandocError(click.ClickException):
    """Something that stops plandoc: printed as one line, exit status 1."""

    exit_code = 1

    def show(self, file=None) -> None:  # type: ignore[no-untyped-def]
        click.echo(f"plandoc: error: {self.format_message()}", err=True, file=file)


class OutputError(PlandocError):
    """A document or the build manifest could not be written (a full disk, a read-only folder).

    It stops a batch build: every later plan would fail the same way.
    """
