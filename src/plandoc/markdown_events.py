"""The composed Markdown as a stream of events, shared by the HTML and DOCX writers.

pyromark (Rust's pulldown-cmark) parses CommonMark plus GFM tables into a flat
event stream, about a hundred times faster than a pure-Python parser, which is
what keeps rendering within its throughput target (see README, "Why pyromark").
Raw HTML in the source arrives as `Html`/`InlineHtml` events, which both
writers print as plain text: plan text can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyromark

OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True, slots=True)
class Event:
    """kind is "start", "end" or "leaf"; name is pulldown-cmark's tag (Paragraph, Text...)."""

    kind: str
    name: str
    value: Any = None


def events(markdown: str) -> Iterator[Event]:
    for raw in pyromark.events(markdown, options=OPTIONS):
        if isinstance(raw, str):
            yield Event("leaf", raw)
            continue
        ((key, value),) = raw.items()
        if key in ("Start", "End"):
            kind = "start" if key == "Start" else "end"
            if isinstance(value, dict):
                ((name, payload),) = value.items()
                yield Event(kind, name, payload)
            else:
                yield Event(kind, value)
        else:
            yield Event("leaf", key, value)


def safe_link(url: str) -> str | None:
    """A link target a document may carry: web and mail addresses only."""
    stripped = url.strip()
    return stripped if stripped.lower().startswith(SAFE_LINK_SCHEMES) else None
