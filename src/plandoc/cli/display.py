"""What the command line prints, and where: plan values only to a terminal.

Results go to stdout; problems, progress and notes to stderr. A message that
quotes a plan marks its values (`problems.plan_value`); `Display` decides,
once per command, whether they are shown: by default only on a terminal, so
a log, a pipe or a file never gets them (`--values`/`--no-values` decide for
all).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import click

from plandoc.problems import Problem, has_values, shown


class Display:
    """Whether printed messages show plan values: set once per command by the command line.

    `values` None (the default) shows them only when the stream is a terminal,
    so a log, a pipe or a file never gets them; True or False decides for all.
    """

    def __init__(self) -> None:
        self.values: bool | None = None
        self.hid_values = False

    def reset(self, values: bool | None = None) -> None:
        self.values, self.hid_values = values, False

    def line(self, text: str, err: bool) -> str:
        """A marked message as it may be printed on stdout (or stderr, when `err`)."""
        stream = sys.stderr if err else sys.stdout
        show = self.values if self.values is not None else _is_terminal(stream)
        if not show and has_values(text):
            self.hid_values = True
        return shown(text, show)

    def echo(self, text: str, err: bool = False) -> None:
        click.echo(self.line(text, err), err=err)

    def explain(self) -> None:
        """Once, at the end: say why values were hidden, when the user did not ask."""
        if self.hid_values and self.values is None:
            click.echo(
                "plandoc: values from plans are hidden in messages that do not go to a "
                "terminal; --values shows them",
                err=True,
            )
            self.hid_values = False


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


DISPLAY = Display()


def print_problems(problems: Iterable[Problem]) -> None:
    """Each problem as `FILE:LINE: field.path: message`, on stderr."""
    for problem in problems:
        DISPLAY.echo(problem.marked(), err=True)


def result(text: str) -> None:
    """A result of the command (a file written, a report): stdout."""
    DISPLAY.echo(text)


def note(text: str) -> None:
    """Progress, a summary, a note: stderr."""
    DISPLAY.echo(text, err=True)
