"""Plan text into Markdown without letting it become markup.

Two kinds of plan text reach a template. Short fields (names, statements,
codes) are *inline text*: every character that Markdown would read as syntax
is escaped, and line breaks become spaces, so a `|` cannot break a table and a
leading `#` cannot make a heading (`escape_inline`).

Narrative fields (history, presenting problem, contract summary, progress
notes) *are* Markdown, but each is parsed on its own and written out again by
plandoc (`narrative`): only paragraphs, lists, block quotes, tables, emphasis,
strikethrough, code spans and links survive, every piece of text in them is
escaped like inline text, and nothing can open or close anything around the
narrative. Headings become bold lines; raw HTML, code blocks and images are
shown as typed, as text; link reference definitions are kept as text.
Quotes and lists nested deeper than `MAX_NESTING`, and tables wider than
`MAX_COLUMNS`, are flattened into plain paragraphs. Everything here runs in
time linear in the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import pyromark

from plandoc.documents.text_cache import remembered


class Markdown(str):
    """Text that is already Markdown; a template inserts it unchanged."""

    __slots__ = ()


# Characters that are Markdown syntax wherever they stand (one character class:
# the substitution is linear whatever the text).
_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>|~&#])")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ORDERED_MARKER = re.compile(r"[0-9]{1,9}(?=[.)])")


@remembered
def escape_inline(text: str) -> Markdown:
    """Plain text -> Markdown that renders as exactly that text, on one line.

    A short text is escaped once a process (see text_cache): a template prints about
    150 values a plan, most of them labels, dates, codes and statuses that recur from
    plan to plan (composing the spec variants took 0.69 ms a plan instead of 0.9,
    2026-11-30)."""
    if "\n" in text or "\r" in text:  # (most values are one line: no split to make)
        text = _one_line(text)
    return Markdown(_line_start(_escape(text)))


def _escape(text: str) -> str:
    return _INLINE_SYNTAX.sub(r"\\\1", text)


def _one_line(text: str) -> str:
    """Line breaks, with the spaces and tabs around them, become one space."""
    parts = _LINE_BREAK.split(text)
    if len(parts) == 1:
        return text
    last = len(parts) - 1
    trimmed = [part.strip(" \t") for part in parts]
    trimmed[0], trimmed[last] = parts[0].rstrip(" \t"), parts[last].lstrip(" \t")
    return " ".join(trimmed)


def _line_start(text: str) -> str:
    """Escape what would start a block at the beginning of a line (a list, a setext underline)."""
    if text[:1] in ("-", "+", "="):
        return "\\" + text
    if match := _ORDERED_MARKER.match(text):
        return f"{match.group()}\\{text[match.end() :]}"  # "1." would start a numbered list
    return text


# --- narratives ---------------------------------------------------------------------

# Tables and strikethrough, as in the document; no GFM alerts: a narrative cannot
# make a "Needs attention" note, which only a layout writes.
_NARRATIVE_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
MAX_NESTING = 4  # quotes and lists inside one another; deeper ones are flattened
MAX_COLUMNS = 12  # a wider table is written as one paragraph a row
# A link reference definition (`[label]: url`) would be dropped from the text by the
# parser; with a character between `]` and `:` it stays text. That character is one a
# plan can never hold (the checks refuse C0 controls), taken out again everywhere.
_DEFINITION, _NOT_A_DEFINITION, _MARK = "]:", "]\x01:", "\x01"
SAFE_LINK_SCHEMES = ("http://", "https://", "mailto:")
_URL_SAFE = "-._~:/?#[]@!$&'()*+,;=%"  # kept as they are; anything else is percent-encoded


def safe_link(url: str) -> str | None:
    """A link target a document may carry: a web or mail address, percent-encoded so
    that it holds no space, quote, `<` or `>` (valid in HTML, plain in Markdown)."""
    stripped = url.strip()
    if not stripped.lower().startswith(SAFE_LINK_SCHEMES):
        return None
    return quote(stripped, safe=_URL_SAFE)


def narrative(text: str) -> Markdown:
    """Narrative Markdown -> Markdown of its own blocks only (see the module's description)."""
    source = text.replace("\r\n", "\n").replace("\r", "\n").replace(_DEFINITION, _NOT_A_DEFINITION)
    events = _joined_text(pyromark.events_with_range(source, options=_NARRATIVE_OPTIONS))
    writer = _NarrativeWriter(source.encode("utf-8", "surrogatepass"), _loose_lists(events))
    for number, (event, span) in enumerate(events):
        writer.event(number, event, span)
    writer.close_block()
    return Markdown("\n".join(writer.lines).strip("\n"))


def _raw(text: str) -> str:
    """Text taken from the source as it is (code, HTML, an image as typed)."""
    return text.replace(_MARK, "")


def _kind(event: object) -> tuple[str, str, object]:
    """pyromark's event -> (start | end | leaf, name, payload)."""
    if isinstance(event, str):
        return "leaf", event, None
    assert isinstance(event, dict)
    ((key, value),) = event.items()
    if key in ("Start", "End"):
        if isinstance(value, dict):
            ((name, payload),) = value.items()
            return key.lower(), name, payload
        return key.lower(), value, None
    return "leaf", key, value


Span = dict[str, int]


def _joined_text(events: Iterable[tuple[object, Span]]) -> list[tuple[object, Span]]:
    """Adjacent text events as one (so "1" and ". x" are escaped as the "1. x" they make)."""
    joined: list[tuple[object, Span]] = []
    for event, span in events:
        if isinstance(event, dict) and "Text" in event and joined:
            before, before_span = joined[-1]
            if isinstance(before, dict) and "Text" in before:
                text = before["Text"] + event["Text"]
                joined[-1] = ({"Text": text}, {"start": before_span["start"], "end": span["end"]})
                continue
        joined.append((event, span))
    return joined


def _loose_lists(events: list[tuple[object, Span]]) -> set[int]:
    """The event numbers of the lists whose items hold paragraphs (loose lists)."""
    loose: set[int] = set()
    stack: list[tuple[str, int]] = []
    for number, (event, _) in enumerate(events):
        kind, name, _ = _kind(event)
        if kind == "start":
            if name == "Paragraph" and len(stack) >= 2 and stack[-1][0] == "Item":
                loose.add(stack[-2][1])
            stack.append((name, number))
        elif kind == "end" and stack:
            stack.pop()
    return loose


@dataclass
class _Container:
    """A block quote, or an item of a list, that the narrative keeps."""

    quote: bool
    marker: str = ""  # an item's "- " or "3. "
    tight: bool = False
    started: bool = False  # a line was written in it
    blocks: int = 0  # blocks begun in it


@dataclass
class _List:
    kept: bool
    ordered: bool
    number: int  # the next item's, in an ordered list
    loose: bool
    items: int = 0


@dataclass
class _Table:
    alignments: tuple[str, ...]
    rows: list[list[str]] = field(default_factory=list)


_ALIGN = {"Left": ":--", "Right": "--:", "Center": ":-:"}
_DELIMITERS = {"Emphasis": "*", "Strong": "**", "Strikethrough": "~~"}


class _NarrativeWriter:
    """Writes the events of one narrative as Markdown lines, every text escaped."""

    def __init__(self, source: bytes, loose: set[int]) -> None:
        self.source = source  # UTF-8: the parser's spans count bytes
        self.loose = loose
        self.lines: list[str] = []
        self.root = _Container(quote=False)
        self.containers: list[_Container] = []
        self.open: list[tuple[str, bool]] = []  # each quote, list and item begun: kept or not
        self.lists: list[_List] = []
        self.block: list[str] | None = None  # the paragraph-like block being written
        self.closing = ""  # what ends it (a heading's "**")
        self.line_start = True
        self.code = False  # inside a code block: its text is shown line by line
        self.links: list[str] = []
        self.delimiters: list[str] = []  # the emphasis each open one was written with
        self.skip = 0  # inside a link or image shown as typed: its events are in that text
        self.skipping = ""
        self.table: _Table | None = None
        self.cell: list[str] | None = None

    # --- lines and blocks -------------------------------------------------------------

    @property
    def current(self) -> _Container:
        return self.containers[-1] if self.containers else self.root

    def emit(self, line: str) -> None:
        prefix = ""
        for container in self.containers:
            if container.quote:
                prefix += "> "
            elif not container.started:
                prefix += container.marker
            else:
                prefix += " " * len(container.marker)
            container.started = True
        self.lines.append((prefix + line).rstrip() if not line else prefix + line)

    def begin_block(self, spaced: bool = False) -> None:
        """Start a block: a blank line before it, unless it is first or its list is tight."""
        self.close_block()
        container = self.current
        if container.blocks and (spaced or not container.tight):
            self.emit("")
        container.blocks += 1

    def open_block(self, closing: str = "", opening: str = "", spaced: bool = False) -> None:
        self.begin_block(spaced)
        self.block, self.closing, self.line_start = [opening], closing, not opening

    def close_block(self) -> None:
        if self.block is None:
            return
        block, self.block = self.block, None
        while len(block) > 1 and (block[-1] in ("\n", "\\\n") or not block[-1].strip(" \t")):
            block.pop()  # line breaks and spaces at the end
        if len(block) == 1:
            return  # nothing but the opening: no text
        text = "".join(block).rstrip(" \t")
        for line in (text + self.closing).split("\n"):
            self.emit(line.rstrip(" \t"))

    def write(self, markdown: str) -> None:
        """Markdown made here (delimiters, escaped text) into the current block or cell."""
        if self.cell is not None:
            self.cell.append(markdown)
            return
        if self.block is None:
            self.open_block()  # text straight in a tight list item
        assert self.block is not None
        self.block.append(markdown)

    def _last_written(self) -> str:
        written = self.cell if self.cell is not None else self.block
        return written[-1][-1:] if written and written[-1] else ""

    def text(self, text: str) -> None:
        """Plan text, escaped; at the start of a line, also what would start a block."""
        text = text.replace(_MARK, "")
        if self.cell is not None:
            self.cell.append(_escape(_one_line(text)))
            return
        if "\n" in text:
            for number, line in enumerate(text.split("\n")):
                if number:
                    self.line_break(hard=False)
                self.text(line)
            return
        escaped = _escape(text)
        if self.line_start:
            escaped = _line_start(escaped.lstrip(" \t"))
            if not escaped:
                return
        self.write(escaped)
        self.line_start = False

    def line_break(self, hard: bool) -> None:
        if self.cell is not None:
            self.cell.append(" ")
            return
        self.write("\\\n" if hard else "\n")
        self.line_start = True

    def shown_as_typed(self, raw: str) -> None:
        """Raw text (HTML, code) shown as typed, its lines kept."""
        lines = _raw(raw).split("\n")
        for number, line in enumerate(lines):
            if number:
                self.line_break(hard=True)
            self.text(line)

    # --- events -----------------------------------------------------------------------

    def event(self, number: int, event: object, span: dict[str, int]) -> None:
        kind, name, value = _kind(event)
        if self.skip:  # inside what is shown as typed: its own events are in the text
            if name == self.skipping:
                self.skip += 1 if kind == "start" else -1
            return
        if kind == "leaf":
            self.leaf(name, value)
        elif kind == "start":
            self.start(number, name, value, span)
        else:
            self.end(name)

    def leaf(self, name: str, value: object) -> None:
        if name == "Text" and self.code:
            self.shown_as_typed(str(value).removesuffix("\n"))
            if str(value).endswith("\n"):
                self.line_break(hard=True)
        elif name == "Text":
            self.text(str(value))
        elif name == "Code":
            self.code_span(_raw(str(value)))
        elif name in ("Html", "InlineHtml"):
            raw = str(value)
            self.shown_as_typed(raw.removesuffix("\n"))
            if name == "Html" and raw.endswith("\n"):
                self.line_break(hard=True)
        elif name in ("SoftBreak", "HardBreak"):
            self.line_break(hard=name == "HardBreak")
        elif name == "Rule":
            self.begin_block(spaced=True)
            self.emit("* * *")

    def code_span(self, code: str) -> None:
        if self.cell is not None:  # a `|` in a code span would split a table cell
            self.text(code)
            return
        longest = max((len(run) for run in re.findall("`+", code)), default=0)
        fence = "`" * (longest + 1)
        pad = " " if code.startswith(("`", " ")) or code.endswith(("`", " ")) else ""
        self.write(f"{fence}{pad}{code}{pad}{fence}")
        self.line_start = False

    def start(self, number: int, name: str, value: object, span: dict[str, int]) -> None:
        if name == "Paragraph":
            if self.table is None:
                self.open_block()
        elif name == "Heading":  # a heading would reshape the document: a bold line instead
            self.open_block(closing="**", opening="**", spaced=True)
        elif name in ("CodeBlock", "HtmlBlock"):
            self.open_block(spaced=True)
            self.code = name == "CodeBlock"
        elif name == "BlockQuote":
            self.open_container(_Container(quote=True), "quote")
        elif name == "List":
            self.start_list(number, value)
        elif name == "Item":
            self.start_item()
        elif name == "Table":
            self.close_block()
            self.table = _Table(tuple(str(a) for a in value))  # type: ignore[attr-defined]
        elif name in ("TableHead", "TableRow") and self.table is not None:
            self.table.rows.append([])
        elif name == "TableCell":
            self.cell = []
        elif name in _DELIMITERS:
            delimiter = _DELIMITERS[name]
            if self._last_written() == "*" and delimiter[0] == "*":
                delimiter = delimiter.replace("*", "_")  # `**` would join the `*` before
            self.delimiters.append(delimiter)
            self.write(delimiter)
            self.line_start = False
        elif name == "Link" and (href := safe_link(_raw(str(value["dest_url"])))):  # type: ignore[index]
            self.links.append(href)
            self.write("[")
            self.line_start = False
        elif name in ("Link", "Image"):
            # Only a layout places pictures, and a link goes only to the web or to mail:
            # plan text shows any other as typed (a reader sees what was written).
            typed = self.source[span["start"] : span["end"]].decode("utf-8", "surrogatepass")
            self.text(_raw(typed))
            self.skip, self.skipping = 1, name

    def end(self, name: str) -> None:
        if name in ("Paragraph", "Heading", "CodeBlock", "HtmlBlock"):
            if self.table is None:
                self.close_block()
            self.code = False
        elif name == "BlockQuote":
            self.close_container("quote")
        elif name == "List":
            self.close_block()
            self.lists.pop()
            self.open.pop()
        elif name == "Item":
            self.close_container("item")
        elif name == "TableCell" and self.table is not None and self.cell is not None:
            self.table.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif name == "Table":
            self.finish_table()
        elif name in _DELIMITERS:
            self.write(self.delimiters.pop() if self.delimiters else _DELIMITERS[name])
        elif name == "Link":
            self.write(f"](<{self.links.pop()}>)")

    # --- containers -------------------------------------------------------------------

    def open_container(self, container: _Container, kind: str) -> None:
        kept = len(self.containers) < MAX_NESTING
        if kept:
            self.begin_block(spaced=True)
            self.containers.append(container)
        else:
            self.close_block()
        self.open.append((kind, kept))

    def close_container(self, kind: str) -> None:
        self.close_block()
        while self.open:
            opened, kept = self.open.pop()
            if kept and opened in ("quote", "item"):
                self.containers.pop()
            if opened == kind:
                return

    def start_list(self, number: int, start: object) -> None:
        kept = len(self.containers) < MAX_NESTING
        first = int(start) if isinstance(start, int) else None
        self.lists.append(_List(kept, first is not None, first or 0, number in self.loose))
        self.open.append(("list", kept))
        if kept:
            self.begin_block()
        else:
            self.close_block()

    def start_item(self) -> None:
        self.close_block()
        listing = self.lists[-1] if self.lists else None
        if listing is None or not listing.kept:
            self.open.append(("item", False))
            return
        if listing.items and listing.loose:
            self.emit("")
        listing.items += 1
        marker = f"{min(listing.number, 999_999_999)}. " if listing.ordered else "- "
        listing.number += 1
        self.containers.append(_Container(quote=False, marker=marker, tight=not listing.loose))
        self.open.append(("item", True))

    # --- tables -----------------------------------------------------------------------

    def finish_table(self) -> None:
        table, self.table = self.table, None
        if table is None or not table.rows:
            return
        columns = len(table.alignments)
        if columns > MAX_COLUMNS:  # too wide for a page: one paragraph a row
            for row in table.rows:
                self.begin_block()
                self.emit(" \\| ".join(cell for cell in row if cell) or "\\|")
            return
        self.begin_block(spaced=True)
        for index, row in enumerate(table.rows):
            cells = (row + [""] * columns)[:columns]
            self.emit("| " + " | ".join(cells) + " |")
            if index == 0:
                self.emit("|" + "|".join(_ALIGN.get(a, "---") for a in table.alignments) + "|")
