"""Placeholders a new plan holds until someone fills them in: `FILL IN: what goes here`.

`plandoc validate` names each one still in a plan (and says nothing else of
that field), so an untouched skeleton is never rendered as if it were a plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plandoc.planfile.source import leaves
from plandoc.problems import FieldPath

FILL = "FILL IN"


def fill(what: str) -> str:
    return f"{FILL}: {what}"


def placeholder(value: Any) -> str | None:
    """What goes in place of a placeholder ("FILL IN: the client's name"), or None."""
    if isinstance(value, str) and value.strip().startswith(FILL):
        return value.strip()[len(FILL) :].lstrip(": ").strip() or "a value"
    return None


def placeholders(data: Any) -> Iterator[tuple[FieldPath, str]]:
    """Every placeholder still in the data: (field path, what goes there)."""
    for path, value in leaves(data):
        what = placeholder(value)
        if what is not None:
            yield path, what
