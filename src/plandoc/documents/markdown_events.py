"""The composed Markdown as a stream of events, shared by the HTML and DOCX writers.

pyromark (Rust's pulldown-cmark) parses CommonMark plus GFM tables into a flat
event stream, about a hundred times faster than a pure-Python parser, which is
what keeps rendering within its throughput target (docs: "Development", dependencies).
Raw HTML in the source arrives as `Html`/`InlineHtml` events, which both
writers print as plain text: plan text can never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any, NamedTuple

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
    """The events of `markdown`, made as they are read (see `parsed` for a shared list)."""
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


def key_value_labels(stream: Iterable[Event]) -> list[str]:
    """The label (first cell) of every row of every key/value table in the stream: a
    table whose header row is empty (`| | |`), each row headed by its first cell. The
    writers size every such table's label column from these, once per document, so the
    label columns of consecutive tables line up."""
    labels: list[str] = []
    head: list[str] | None = None  # the open header row's cell texts
    texts: list[str] | None = None  # the open cell's, when it is collected
    keyed = False
    cell = 0
    for kind, name, value in stream:
        if kind == "leaf":
            if texts is not None and name in ("Text", "Code"):
                texts.append(value)
        elif kind == "start":
            if name == "TableHead":
                head, cell = [], 0
            elif name == "TableRow":
                cell = 0
            elif name == "TableCell":
                texts = [] if head is not None or (keyed and cell == 0) else None
        elif name == "TableCell":
            if head is not None:
                head.append("".join(texts or []))
            elif keyed and cell == 0:
                labels.append("".join(texts or []))
            texts, cell = None, cell + 1
        elif name == "TableHead":
            keyed = head is not None and not any(text.strip() for text in head)
            head = None
        elif name == "Table":
            keyed = False
    return labels


class Parsed(NamedTuple):
    """A document's events, made once, and the labels of its key/value tables."""

    events: tuple[Event, ...]
    labels: tuple[str, ...]  # see `key_value_labels`


@lru_cache(maxsize=4)
def parsed(markdown: str) -> Parsed:
    """`markdown`'s events and key/value labels, parsed once for every writer of a document.

    The HTML, DOCX (and PDF) writers of one document read the same Markdown: the
    last few documents' parses are kept (in memory only), so the second writer of a
    document reuses the first one's events instead of parsing and converting them
    again (about 0.2 ms of a 7 KB document, measured 2026-11-30). The events are a
    tuple: a writer cannot change them under another.
    """
    stream = tuple(events(markdown))
    return Parsed(stream, tuple(key_value_labels(stream)))
