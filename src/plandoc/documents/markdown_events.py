"""The composed Markdown as a stream of events, shared by the HTML and DOCX writers.

pyromark (Rust's pulldown-cmark) parses CommonMark plus GFM tables into a flat
event stream, about a hundred times faster than a pure-Python parser, which is
what keeps rendering within its throughput target (docs: "Development", dependencies).
Raw HTML in the source arrives as `Html`/`InlineHtml` events, which both
writers print as plain text: plan text can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyromark

# GFM: tables, strikethrough, and alerts (`> [!WARNING]`, the "needs attention" notes).
OPTIONS = (
    pyromark.Options.ENABLE_TABLES
    | pyromark.Options.ENABLE_STRIKETHROUGH
    | pyromark.Options.ENABLE_GFM
)


# An event is a plain tuple (kind, name, value), the cheapest thing to make a
# few thousand times per document: kind is "start", "end" or "leaf"; name is
# pulldown-cmark's tag (Paragraph, Heading, Text...); value its payload or None.
Event = tuple[str, str, Any]


def events(markdown: str) -> Iterator[Event]:
    for raw in pyromark.events(markdown, options=OPTIONS):
        if raw.__class__ is str:
            yield ("leaf", raw, None)
            continue
        for key, value in raw.items():
            if key == "Start" or key == "End":
                kind = "start" if key == "Start" else "end"
                if value.__class__ is dict:
                    for name, payload in value.items():
                        yield (kind, name, payload)
                else:
                    yield (kind, value, None)
            else:
                yield ("leaf", key, value)
