"""Markdown events -> the document as a tree of plain data, for the PDF's Typst program.

The PDF is made by Typst (see pdf_writer) running a fixed program shipped with
plandoc (`documents/typst/plan.typ`). The plan never becomes Typst source: this
module turns the same Markdown event stream the HTML and DOCX writers read into
JSON (blocks, inline runs, tables with their column widths, charts as SVG text),
and the program reads that JSON as data (`json(bytes(sys.inputs.document))`)
and lays it out. A string in the tree is always shown as text, whatever it
holds (`#import`, `$x$`, `*bold*`, backslashes).

Blocks (`"kind"`): `heading` (level, runs), `paragraph` (runs), `list` (ordered,
start, items: each a list of blocks), `quote` (alert: "warning", "important" or
none; blocks), `code` (text), `rule`, `table` (see `_Table.data`) and `chart`
(svg, alt). A run is `{"text": ...}` with flags `strong`, `emphasis`, `strike`,
`code`; `{"break": true}` is a line break and `{"link": url, "runs": [...]}`
a link. `sticky` on a block keeps it on the page of the block after it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from plandoc.documents import charts, table_widths
from plandoc.documents.compose import PlanDocument
from plandoc.documents.docx_writer import SHORT_TABLE_ROWS, keep_dates_whole
from plandoc.documents.markdown_events import parsed
from plandoc.documents.markdown_text import safe_link
from plandoc.layouts import Layout
from plandoc.model.progress import GoalProgress

ALERTS = {"Warning": "warning", "Important": "important"}
# A short table stays on one page, unless its text could fill more of one than this
# (points: about a third of a page's text height, Letter or A4): a taller one breaks
# between rows, so a long identification after a long letterhead does not move whole to
# page 2 and leave page 1 holding the letterhead alone.
KEPT_TABLE_HEIGHT = 240
# The signature block stays on one page unless its text could fill more than most of one
# (within the 20 and 18 mm margins).
KEPT_SIGNATURES_HEIGHT = 520
LIST_INDENT = 48  # points: the deepest list or quote's indent a long word allows for
SIGN_ROW_POINTS = 42.5  # 1.5 cm: a signature row's room to sign
# Characters that are not text (controls); the model refuses them, this is the last guard.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_SEPARATORS = re.compile("[\u2028\u2029]")  # a line break in one line of text: a space
_WORD = re.compile(r"[^ \t\n]+")  # a date's no-break spaces keep it one word
# About how wide a character prints, in ems of Liberation Sans (Arial's metrics), rounded
# up; a wide (East Asian) character 1, any other character not listed 0.7.
_NARROW, _THIN, _WIDE = set("ijl.,:;!|'`"), set('ftrI/\\()[]{}-"*'), set("mwMW@%")
_BOLD = 1.08  # bold prints wider: a table's header and label cells
CODE_EM = 0.6  # Liberation Mono
PIECES_A_LINE = 3  # a word too long for its line breaks into pieces of a third of the line


def shown(text: str) -> str:
    """Text as it prints: dates never split (no-break spaces inside), a line or paragraph
    separator (U+2028, U+2029) a space, as any line break in a line of text is."""
    if _CONTROL.search(text):
        text = _CONTROL.sub("\ufffd", text)
    if _LINE_SEPARATORS.search(text):
        text = _LINE_SEPARATORS.sub(" ", text)
    if table_widths.HAS_DIGIT.search(text):
        text = keep_dates_whole(text)
    return text


def em_width(text: str, code: bool = False) -> float:
    """About how wide `text` prints in ems, at most (see _NARROW...)."""
    if code:
        return CODE_EM * len(text)
    width = 0.0
    for char in text:
        if char.isascii():
            width += (0.25 if char in _NARROW else 0.34 if char in _THIN else 0.9 if char in _WIDE
                      else 0.72 if char.isupper() else 0.56)  # fmt: skip
        else:
            width += 1.0 if unicodedata.east_asian_width(char) in "WF" else 0.7
    return width


def pieces(word: str, room: float, code: bool = False) -> list[str]:
    """`word` cut into pieces of at most a third of `room` (ems) each, never inside a
    character and its marks (a combining accent, a variation selector, a joiner and what
    it joins)."""
    most = max(room / PIECES_A_LINE, 0.0)
    cut: list[str] = []
    piece, width, joined = "", 0.0, False
    for char in word:
        mark = unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf", "Sk") or joined
        step = em_width(char, code)
        if piece and not mark and width + step > most:
            cut.append(piece)
            piece, width = "", 0.0
        piece += char
        width += step
        joined = char == "\u200d"
    return [*cut, piece] if piece else cut


Runs = list[dict[str, Any]]


def with_breaks(runs: Runs, room: float, scale: float = 1.0) -> Runs:
    """`runs` with every word wider than `room` (ems; `scale`: how much wider the text
    prints, bold) given as `pieces`: the program sets each piece in a box, and a line may
    break between boxes, so the word breaks where its line ends and nowhere else. No
    character is added (a zero-width space would be copied with the text)."""
    given: Runs = []
    for run in runs:
        if "runs" in run:
            given.append({**run, "runs": with_breaks(run["runs"], room, scale)})
            continue
        text = run.get("text")
        code = bool(run.get("code"))
        if text is None or len(text) * (CODE_EM if code else 1.0) * scale <= room:
            given.append(run)  # no word of it can be too wide
            continue
        at = 0
        for word in _WORD.finditer(text):
            if em_width(word.group(), code) * scale <= room:
                continue
            if word.start() > at:
                given.append({**run, "text": text[at : word.start()]})
            given.append({key: value for key, value in run.items() if key != "text"}
                         | {"pieces": pieces(word.group(), room / scale, code)})  # fmt: skip
            at = word.end()
        if at < len(text):
            given.append({**run, "text": text[at:]})
    return given


@dataclass
class _Table:
    alignments: tuple[str, ...]
    rows: list[list[dict[str, Any]]] = field(default_factory=list)  # cells: runs, text
    header: list[str] | None = None  # the column headers' texts (None: a key/value table)
    sticky: bool = False

    def data(self, page_size: str, points: float, label: int | None) -> dict[str, Any]:
        """The table as the Typst program reads it: `widths` (percent of the text
        width, from the content: see table_widths), `header` (the header row's cells,
        or none for a key/value table, whose first column heads each row), `rows`
        (cells: runs, `nowrap`, `line`: a line to sign or date on, `align`),
        `signatures` (the signature block: room to sign, no grid) and `keep` (the
        table stays on one page)."""
        columns = max(len(self.alignments), *(len(row) for row in self.rows), 1)
        texts = [[row[c]["text"] for row in self.rows if c < len(row)] for c in range(columns)]
        signatures = self.header is not None and table_widths.is_signature_table(self.header)
        one_line: list[bool] = []
        grow = None
        if signatures:
            one_line, grow = table_widths.signature_columns(self.header or [])
        percents = table_widths.column_percents(
            texts, page_size, points, one_line, grow, None if self.header is not None else label
        )
        body = self.rows[1:] if self.header is not None else self.rows
        shares = [float(width.rstrip("%")) / 100 for width in percents]
        short = len(body) <= SHORT_TABLE_ROWS
        floor = SIGN_ROW_POINTS if signatures else 0.0
        most = KEPT_SIGNATURES_HEIGHT if signatures else KEPT_TABLE_HEIGHT
        tall = height(self.rows, shares, page_size, points, floor) > most
        keep = (signatures or short) and not tall
        # Each column's room for a word (ems of the table's text): its width less the
        # cells' padding (half an em each side).
        line = table_widths.print_text_width(page_size) / 20 / points
        rooms = [max(share * line - 1, 0.5) for share in shares]
        labels = self.header is None
        return {
            "kind": "table",
            "widths": [float(width.rstrip("%")) for width in percents],
            "header": [_cell(cell, False, rooms[c], _BOLD) for c, cell in enumerate(self.rows[0])]
            if self.header
            else None,
            "rows": [
                [
                    _cell(cell, True, rooms[c], _BOLD if labels and c == 0 else 1.0)
                    for c, cell in enumerate(row)
                ]
                for row in body
            ],
            "align": [align.lower() for align in self.alignments],
            "signatures": signatures,
            "keep": keep,
            "sticky": self.sticky,
        }


def height(
    rows: list[list[dict[str, Any]]],
    shares: list[float],
    page_size: str,
    points: float,
    floor: float = 0.0,
) -> float:
    """About how tall the rows print (points), at most: each row as many lines as its
    fullest cell takes in its column, a character half the text size wide; at least
    `floor` a row."""
    width = table_widths.print_text_width(page_size) / 20  # twips -> points
    total = 0.0
    for row in rows:
        lines = 1
        for column, cell in enumerate(row[: len(shares)]):
            per_line = max(1, int(shares[column] * width / (points * 0.5)) - 2)
            lines = max(lines, -(-len(cell["text"]) // per_line))
        total += max(floor, lines * points * 1.6 + points)  # its lines, and the padding
    return total


def _cell(cell: dict[str, Any], body: bool, room: float, scale: float) -> dict[str, Any]:
    """A cell as the program reads it; a word wider than the column's `room` (ems) breaks
    (see with_breaks), and so does a date or a code that would not fit on one line."""
    text = cell["text"]
    if body and table_widths.is_line(text):
        return {"runs": [], "line": True}
    if body and table_widths.unbreakable(text) and em_width(text.strip()) * scale <= room:
        runs = [{**run, "text": run["text"].replace(" ", "\u00a0")} if "text" in run else run
                for run in cell["runs"]]  # fmt: skip
        return {"runs": runs, "nowrap": True}
    return {"runs": with_breaks(cell["runs"], room, scale)}


@dataclass
class _Tree:
    """The blocks being built: a stack of open containers (the document, a quote, a list
    item), each a list of blocks."""

    page_size: str
    points: float  # the tables' text size
    label: int | None  # every key/value table's label column (twips)
    charts: dict[str, GoalProgress]
    font_size: float
    date_format: str
    words: charts.ChartWords | None
    room: float  # a line's room for a word outside tables (ems, see document_tree)
    stack: list[list[dict[str, Any]]] = field(default_factory=lambda: [[]])
    runs: list[dict[str, Any]] | None = None  # the open paragraph's or heading's
    inline: list[list[dict[str, Any]]] = field(default_factory=list)  # open links' runs
    links: list[str | None] = field(default_factory=list)  # open links' targets, if safe
    strong: int = 0
    emphasis: int = 0
    strike: int = 0
    table: _Table | None = None
    cell: list[dict[str, Any]] | None = None
    cell_text: list[str] = field(default_factory=list)
    in_chart: bool = False
    in_code: bool = False
    opening: bool = False  # right after a heading, only quotes since

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return self.stack[-1]

    def add_run(self, run: dict[str, Any]) -> None:
        if self.inline:
            self.inline[-1].append(run)
        elif self.cell is not None:
            self.cell.append(run)
        else:
            if self.runs is None:
                self.runs = []
                self.blocks.append({"kind": "paragraph", "runs": self.runs})
            self.runs.append(run)

    def add_text(self, text: str, code: bool = False) -> None:
        if self.cell is not None:
            self.cell_text.append(text)
        run: dict[str, Any] = {"text": shown(text)}
        for flag, on in (("strong", self.strong), ("emphasis", self.emphasis),
                         ("strike", self.strike), ("code", code)):  # fmt: skip
            if on:
                run[flag] = True
        if self.cell is not None:  # broken when the table's columns are known
            self.add_run(run)
            return
        for part in with_breaks([run], self.room):
            self.add_run(part)

    def add_block(self, block: dict[str, Any]) -> None:
        self.runs = None
        self.blocks.append(block)

    def add_chart(self, name: str, progress: GoalProgress) -> None:
        """The chart as SVG (the HTML's), described as the DOCX's picture is; it keeps
        with the two paragraphs before it and the start of what follows."""
        words = self.words or charts.english_words(self.date_format)
        title = progress.title_in(words.gettext)
        trend = progress.trend(words.date, words.gettext, words.ngettext, words.number)
        picture = charts.svg(progress, name, self.font_size, self.date_format, self.words)
        before = self.blocks
        if before and before[-1]["kind"] == "paragraph" and not before[-1]["runs"]:
            before.pop()  # the paragraph that holds only the chart
        # What introduces the chart keeps with it (a paragraph, or the "Progress as of"
        # table), and a paragraph before that (the client copy's "Goal N: we use ...").
        if before and before[-1]["kind"] != "heading":
            before[-1]["sticky"] = True
        if len(before) >= 2 and before[-2]["kind"] == "paragraph":
            before[-2]["sticky"] = True
        self.add_block({"kind": "chart", "svg": picture, "alt": f"{title}. {trend}",
                        "sticky": True})  # fmt: skip


def document_tree(
    markdown: str,
    page_size: str = "letter",
    font_size: float = 10,
    date_format: str = "%Y-%m-%d",
    chart_list: dict[str, GoalProgress] | None = None,
    words: charts.ChartWords | None = None,
) -> list[dict[str, Any]]:
    """The Markdown's blocks, as the Typst program reads them (see the module's doc)."""
    stream, labels = parsed(markdown)  # shared with the HTML and DOCX writers
    points = font_size - 0.5  # the tables' text: 9.5 points by a 10-point body
    tree = _Tree(
        page_size,
        points,
        table_widths.label_width(labels, table_widths.print_text_width(page_size), points)
        if labels
        else None,
        chart_list or {},
        font_size,
        date_format,
        words,
        # The text width less room for a nested list's or a quote's indent, in ems of
        # a goal's heading (1.4 times the text).
        (table_widths.print_text_width(page_size) / 20 - LIST_INDENT) / (font_size * 1.4),
    )
    for kind, name, value in stream:
        if tree.in_chart and not (kind == "end" and name == "Image"):
            continue  # the alt text: the chart carries its own description
        if kind == "leaf":
            _leaf(tree, name, value)
        elif kind == "start":
            _start(tree, name, value)
        else:
            _end(tree, name, value)
    return tree.stack[0]


def _leaf(tree: _Tree, name: str, value: Any) -> None:
    if name == "Text" and tree.in_code:
        tree.blocks[-1]["text"] += shown(value)
    elif name in ("Text", "Html", "InlineHtml", "InlineMath", "DisplayMath"):
        tree.add_text(value)
    elif name == "Code":
        tree.add_text(value, code=True)
    elif name == "SoftBreak":
        tree.add_text(" ")
    elif name == "HardBreak":
        tree.add_run({"break": True})
    elif name == "Rule":
        tree.add_block({"kind": "rule"})
        tree.opening = False


def _start(tree: _Tree, name: str, value: Any) -> None:
    if name == "Paragraph":
        if tree.table is None:
            tree.runs = []
            tree.blocks.append({"kind": "paragraph", "runs": tree.runs})
    elif name == "Heading":
        tree.runs = []
        level = int(value["level"].removeprefix("H"))
        tree.blocks.append({"kind": "heading", "level": level, "runs": tree.runs})
    elif name == "BlockQuote":
        quote = {"kind": "quote", "alert": ALERTS.get(value), "blocks": [],
                 "sticky": tree.opening}  # fmt: skip
        tree.add_block(quote)
        tree.stack.append(quote["blocks"])
    elif name == "List":
        tree.add_block({"kind": "list", "ordered": value is not None, "start": value or 1,
                        "items": []})  # fmt: skip
        tree.opening = False
        tree.stack.append(tree.blocks[-1]["items"])
    elif name == "Item":
        item: list[dict[str, Any]] = []
        tree.blocks.append(item)  # type: ignore[arg-type]  # a list's items are lists
        tree.stack.append(item)
        tree.runs = None
    elif name == "CodeBlock":
        tree.add_block({"kind": "code", "text": ""})
        tree.in_code = True
    elif name == "Table":
        tree.runs = None
        tree.table = _Table(tuple(value))
        before = tree.blocks[-1] if tree.blocks else {}
        if before.get("kind") == "table" and before["opening"] and before["keep"]:
            # A heading's opening table keeps with this one, if it is kept whole itself (a
            # taller one that may break would move whole with it to the next page).
            before["sticky"] = True
    elif name == "TableHead" or name == "TableRow":
        assert tree.table is not None
        tree.table.rows.append([])
    elif name == "TableCell":
        tree.cell, tree.cell_text = [], []
    elif name == "Strong":
        tree.strong += 1
    elif name == "Emphasis":
        tree.emphasis += 1
    elif name == "Strikethrough":
        tree.strike += 1
    elif name == "Link":
        tree.inline.append([])
        tree.links.append(safe_link(value["dest_url"]))
    elif name == "Image":
        target = value["dest_url"]
        chart = tree.charts.get(target.removeprefix("chart:"))
        if target.startswith("chart:") and chart is not None:
            tree.add_chart(target.removeprefix("chart:"), chart)
            tree.in_chart = True


def _end(tree: _Tree, name: str, value: Any) -> None:
    if name in ("Paragraph", "Heading", "CodeBlock"):
        tree.in_code = False
        if tree.table is None:
            tree.runs = None
        if name == "Heading":
            tree.opening = True
        elif name == "Paragraph" and len(tree.stack) == 1:
            tree.opening = False
    elif name in ("BlockQuote", "Item", "List"):
        tree.stack.pop()
        tree.runs = None
    elif name == "TableCell":
        assert tree.table is not None and tree.cell is not None
        tree.table.rows[-1].append({"runs": tree.cell, "text": "".join(tree.cell_text)})
        tree.cell = None
    elif name == "TableHead":
        assert tree.table is not None
        head = [cell["text"] for cell in tree.table.rows[-1]]
        if any(text.strip() for text in head):
            tree.table.header = head
        else:
            tree.table.rows.pop()  # no column headers: a key/value table
    elif name == "Table":
        table, tree.table = tree.table, None
        if table is not None and table.rows:
            data = table.data(tree.page_size, tree.points, tree.label)
            data["opening"] = tree.opening and len(data["rows"]) <= SHORT_TABLE_ROWS
            tree.add_block(data)
        tree.opening = False
    elif name == "Strong":
        tree.strong -= 1
    elif name == "Emphasis":
        tree.emphasis -= 1
    elif name == "Strikethrough":
        tree.strike -= 1
    elif name == "Link":
        runs, href = tree.inline.pop(), tree.links.pop()
        tree.add_run({"link": href, "runs": runs} if href else {"runs": runs})
    elif name == "Image":
        tree.in_chart = False


def typst_language(tag: str) -> tuple[str, str | None]:
    """A BCP 47 tag as Typst takes it: the language (ISO 639, two or three letters) and the
    region, if the tag names one by its two letters (ISO 3166). A script (`zh-Hant-TW`), a
    numeric region (`es-419`, `ar-001`) or a variant is left out: the PDF's /Lang says
    `zh-TW`, `es`, `ar`."""
    language, *subtags = tag.split("-")
    region = None
    for subtag in subtags:
        if len(subtag) == 1:  # an extension or a private use part: no region after it
            break
        if len(subtag) == 2 and subtag.isascii() and subtag.isalpha():
            region = subtag.upper()
            break
    return language.lower(), region


def document_data(document: PlanDocument, layout: Layout) -> dict[str, Any]:
    """Everything the Typst program prints, as plain data (see the module's doc)."""
    charts_by_name = dict(document.charts)
    language, region = typst_language(document.language)
    return {
        "title": document.title,
        "author": document.author,
        "created": [document.created.year, document.created.month, document.created.day],
        "language": language,
        "region": region,
        "page_size": layout.page_size,
        "font_size": layout.font_size,
        "large_print": layout.large_print,
        "header": "  \u00b7  ".join(document.header),
        "footer": document.footer if document.footer is not None else layout.footer,
        "fingerprint": document.fingerprint.short() if document.fingerprint else "",
        "page_words": list(document.page_words),
        "letterhead": document_tree(document.letterhead, layout.page_size, layout.font_size)
        if document.letterhead
        else [],
        "body": document_tree(
            document.body,
            layout.page_size,
            layout.font_size,
            layout.date_format,
            charts_by_name,
            document.chart_words,
        ),
    }
