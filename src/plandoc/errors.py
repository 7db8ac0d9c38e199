"""What stops plandoc: plain exceptions under one `PlandocError`.

A problem of a plan (a missing field, a date out of order) is not an
exception: it is a `Problem`, collected and returned with every other problem
of the file (see `problems`). These exceptions are for what stops the work:
a plan that cannot be used at all, a layout that cannot be loaded, a document
that cannot be written, a settings file that is wrong. Each carries one line
for the person running plandoc; a message that quotes a plan or a file name
marks it (`problems.plan_value`, `problems.file_name`), and whoever prints it
decides what is shown. The command line turns them into that line and an exit
status: 2 for `UsageError`, 1 for the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from plandoc.problems import Problem


class PlandocError(Exception):
    """Something that stops plandoc; `message` is one line, its values marked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PlanError(PlandocError):
    """A plan that cannot be used: `problems` holds every problem found in it."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class LayoutError(PlandocError):
    """A layout that cannot be found or loaded (its manifest, rules or templates)."""


class SettingsError(PlandocError):
    """A settings file (`plandoc.toml`, a clinic's instruments file) that is wrong."""


class OutputError(PlandocError):
    """A document or the build manifest could not be written (a full disk, a read-only folder).

    It stops a batch build: every later plan would fail the same way.
    """


class UsageError(PlandocError):
    """A request that cannot be done as asked (an unknown format): exit status 2."""
