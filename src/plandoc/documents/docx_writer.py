"""Markdown events -> a Word document, written as WordprocessingML directly.

The body is built as XML text from the same event stream the HTML writer
reads; so is the letterhead, which goes in the first page's header above the
running header (later pages have the running header alone); every other part
comes from the layout's reference package. Building the XML directly is about
six times faster than python-docx's object model, and the zip is written with
fixed timestamps and plan-derived properties so the same plan always gives the
same bytes.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from xml.sax.saxutils import escape

from plandoc.documents import charts, table_widths
from plandoc.documents.compose import PlanDocument
from plandoc.documents.docx_reference import (
    FIRST_HEADER_MARK,
    FOOTER_MARK,
    HEADER_MARK,
    HEADER_SHADE,
    RULE_COLOR,
    ReferencePackage,
    reference_package,
)
from plandoc.documents.fingerprint import Fingerprint
from plandoc.documents.markdown_events import parsed
from plandoc.documents.markdown_text import safe_link
from plandoc.documents.text_cache import remembered
from plandoc.layouts import Layout
from plandoc.model.progress import GoalProgress

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
# A "needs attention" note: a warm shade and a rule on its left, set apart from quotations.
ALERT_PARAGRAPH = (
    '<w:pBdr><w:left w:val="single" w:sz="18" w:space="6" w:color="B3541E"/></w:pBdr>'
    '<w:shd w:val="clear" w:color="auto" w:fill="FDF1E8"/><w:ind w:left="144" w:right="144"/>'
)
# The client copy's crisis box (`> [!IMPORTANT]`): a cool shade and a heavier rule, its
# paragraphs kept together on one page.
IMPORTANT_PARAGRAPH = (
    '<w:keepNext/><w:pBdr><w:left w:val="single" w:sz="24" w:space="6" w:color="1F5C99"/>'
    '</w:pBdr><w:shd w:val="clear" w:color="auto" w:fill="E8F1FA"/>'
    '<w:ind w:left="144" w:right="144"/>'
)
ALERTS = {"Warning": ALERT_PARAGRAPH, "Important": IMPORTANT_PARAGRAPH}
HEADING_STYLES = {"H1": "Title", "H2": "Heading1", "H3": "Heading2"}
HEADINGS = {*HEADING_STYLES.values(), "Heading3"}  # every heading's style: each keeps with the next
# The letterhead's paragraphs: the practice's name, then the lines under it.
LETTERHEAD_STYLES = ("LetterheadName", "Letterhead")
# Characters XML 1.0 cannot hold; the model refuses them, this is the last guard.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@remembered
def xml_text(text: str) -> str:
    """Text as XML character data. A short text is escaped once a process (see
    text_cache): a document's labels, dates and codes recur from plan to plan (2.11 ms
    a DOCX body instead of 2.19, 2026-11-30)."""
    return escape(_NOT_XML.sub("\ufffd", text))


@dataclass
class _Run:
    text: str
    bold: bool = False
    italic: bool = False
    strike: bool = False
    code: bool = False
    line_break: bool = False
    drawing: str = ""  # a picture's <w:drawing>, instead of text

    def xml(self) -> str:
        if self.drawing:
            return f"<w:r>{self.drawing}</w:r>"
        return run_xml(self.text, self.bold, self.italic, self.strike, self.code, self.line_break)


@remembered
def run_xml(
    text: str,
    bold: bool = False,
    italic: bool = False,
    strike: bool = False,
    code: bool = False,
    line_break: bool = False,
) -> str:
    """A run of text (or a line break) as WordprocessingML. A short text's is made once a
    process (see text_cache): a document's labels, dates, codes and statuses recur from
    plan to plan (with `_cell_run_xml`, a DOCX body took 1.98 ms instead of
    2.11 on the spec variants, 2026-11-30)."""
    props = (
        ("<w:b/><w:bCs/>" if bold else "")
        + ("<w:i/><w:iCs/>" if italic else "")
        + ("<w:strike/>" if strike else "")
        + ('<w:rFonts w:ascii="Courier New" w:hAnsi="Courier New"/>' if code else "")
    )
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    if line_break:
        return f"<w:r>{rpr}<w:br/></w:r>"
    return f'<w:r>{rpr}<w:t xml:space="preserve">{xml_text(text)}</w:t></w:r>'


@dataclass
class _Table:
    rows: list[list[list[_Run]]] = field(default_factory=list)
    header_rows: int = 0
    alignments: tuple[str, ...] = ()
    keyed: bool = (
        False  # an empty header row (`| | |`): no header row, each row's first cell heads it
    )


@dataclass
class _BodyBuilder:
    reference: ReferencePackage
    out: list[str] = field(default_factory=list)
    runs: list[_Run] | None = None  # the paragraph being written
    style: str | None = None
    numbering: str = ""  # a numPr for a restarted numbered list
    lists: list[tuple[bool, str]] = field(default_factory=list)  # (ordered, numPr)
    list_start: int = 0  # where the open top-level list's paragraphs begin in `out`
    item_pending: bool = False
    quote_depth: int = 0
    alerts: list[str] = field(default_factory=list)  # the alerts open: WARNING, IMPORTANT
    bold: int = 0
    italic: int = 0
    strike: int = 0
    table: _Table | None = None
    links: list[str | None] = field(default_factory=list)
    restarts: list[tuple[int, str, int]] = field(default_factory=list)  # numId, abstract, start
    in_code: bool = False
    charts: dict[str, GoalProgress] = field(default_factory=dict)
    drawn: dict[str, bytes] = field(default_factory=dict)  # chart name -> PNG, drawn already
    font_size: float = 10  # the body's, in points: the charts' text follows it
    date_format: str = "%Y-%m-%d"  # the layout's: the charts' dates follow it
    words: charts.ChartWords | None = None  # the charts' words, in the document's language
    keep_next: bool = False  # the open paragraph keeps with the next (a chart's)
    pictures: list[tuple[str, bytes]] = field(default_factory=list)  # media name, PNG
    in_chart: bool = False
    plain_styles: tuple[str, ...] = ()  # the styles of plain paragraphs, in turn (the last repeats)
    plain_paragraphs: int = 0
    label_width: int | None = None  # every key/value table's label column (twips)
    # A heading's opening block: the quotes and the short table right after a heading (a
    # goal's "In X's words" and measure table) keep with the next block when it is a table
    # (the goal's objectives), so the goal never opens at the foot of a page without them.
    opening: bool = False  # right after a heading, no other block since but quotes
    opening_table: int = -1  # where the opening block's table is in `out`

    def add_chart(self, name: str, progress: GoalProgress) -> None:
        """The chart as a PNG picture, the width of the text, described by its trend."""
        number = len(self.pictures) + 1
        picture = self.drawn.get(name) or charts.png(
            progress, self.font_size, self.date_format, self.words
        )
        self.pictures.append((f"chart{number}.png", picture))
        width = self.reference.text_width * 635  # twips -> EMU
        height = width * charts.HEIGHT // charts.WIDTH
        if self.table is None and not self.runs and self.out:
            self.out[-1] = keep_with_previous_block(self.out[-1])  # what introduces the chart
            # ... and a paragraph before that one too (the client copy's "Goal N: we use
            # the PHQ-9 ..." before "Your latest result ..."), never a table or heading.
            if (
                len(self.out) >= 2
                and self.out[-2].startswith("<w:p>")
                and ('<w:pStyle w:val="Heading' not in self.out[-2])
            ):
                self.out[-2] = keep_with_next(self.out[-2])
        drawing = picture_xml(number, width, height, progress, self.date_format, self.words)
        self.current_runs().append(_Run("", drawing=drawing))
        self.keep_next = self.table is None  # and with the start of what follows it

    # --- paragraphs ---------------------------------------------------------

    def open_paragraph(self, style: str | None = None) -> list[_Run]:
        self.close_paragraph()
        self.numbering = ""
        if style is None and self.lists:
            depth = min(len(self.lists), 3)
            suffix = "" if depth == 1 else str(depth)
            ordered, numbering = self.lists[-1]
            if self.item_pending:
                style = ("ListNumber" if ordered else "ListBullet") + suffix
                self.numbering = numbering
            else:
                style = "ListContinue" + suffix
            self.item_pending = False
        elif style is None and self.alerts:
            self.numbering = self.alerts[-1]  # shaded, with a rule on the left; not italic
        elif style is None and self.quote_depth:
            style = "Quote"
        elif style is None and self.plain_styles:
            style = self.plain_styles[min(self.plain_paragraphs, len(self.plain_styles) - 1)]
            self.plain_paragraphs += 1
        self.style, self.runs = style, []
        return self.runs

    def close_paragraph(self) -> None:
        if self.runs is None:
            return
        props = f'<w:pStyle w:val="{self.style}"/>' if self.style else ""
        props += self.numbering
        ppr = f"<w:pPr>{props}</w:pPr>" if props else ""
        paragraph = f"<w:p>{ppr}{''.join(run.xml() for run in self.runs)}</w:p>"
        heading = self.style in HEADINGS
        quote = self.style == "Quote" and not self.lists
        keep = self.keep_next or heading or (quote and self.opening)
        self.out.append(keep_with_next(paragraph) if keep else paragraph)
        self.opening = heading or (quote and self.opening)
        self.runs, self.keep_next = None, False

    def current_runs(self) -> list[_Run]:
        if self.table is not None:
            return self.table.rows[-1][-1]
        return self.runs if self.runs is not None else self.open_paragraph()

    def add_text(self, text: str, code: bool = False) -> None:
        if " " in text and table_widths.HAS_DIGIT.search(text):
            text = keep_dates_whole(text)
        self.current_runs().append(
            _Run(text, self.bold > 0, self.italic > 0, self.strike > 0, code)
        )

    def add_code_lines(self, text: str) -> None:
        lines = text.rstrip("\n").split("\n")
        for number, line in enumerate(lines):
            if number:
                self.add_break()
            self.add_text(line, code=True)

    def add_break(self) -> None:
        self.current_runs().append(_Run("", line_break=True))

    # --- lists --------------------------------------------------------------

    def start_list(self, start: int | None) -> None:
        self.close_paragraph()
        self.opening = False
        if not self.lists:
            self.list_start = len(self.out)
        numbering = ""
        if start is not None:
            depth = min(len(self.lists) + 1, 3)
            style = "ListNumber" + ("" if depth == 1 else str(depth))
            abstract = self.reference.list_abstract.get(style)
            if abstract is not None:
                num_id = 1000 + len(self.restarts)
                self.restarts.append((num_id, abstract, start))
                numbering = f'<w:numPr><w:ilvl w:val="0"/><w:numId w:val="{num_id}"/></w:numPr>'
        self.lists.append((start is not None, numbering))

    def end_list(self) -> None:
        """Close the list; a short top-level list keeps on one page with the paragraph
        that introduces it ("When things get hard, you can:"), as short tables do."""
        self.close_paragraph()
        self.lists.pop()
        if self.lists or self.table is not None:
            return
        first, last = self.list_start, len(self.out) - 1
        if last - first + 1 > SHORT_LIST_MOST:
            return
        if first > 0 and self.out[first - 1].startswith("<w:p>"):
            first -= 1  # the paragraph before the list (a heading keeps with it already)
        for index in range(first, last):
            self.out[index] = keep_with_next(self.out[index])

    # --- tables -------------------------------------------------------------

    def start_table(self, alignments: tuple[str, ...]) -> None:
        self.close_paragraph()
        if self.out and self.out[-1].startswith('<w:p><w:pPr><w:pStyle w:val="Quote"/>'):
            self.out[-1] = keep_with_next(self.out[-1])  # a goal's "In X's words" heads its table
        if self.opening_table == len(self.out) - 1:  # the opening block keeps with this table
            self.out[-1] = keep_with_previous_block(self.out[-1])
        self.opening_table = -1
        self.table = _Table(alignments=alignments)

    def finish_table(self) -> None:
        table, self.table = self.table, None
        if table is None or not table.rows:
            return
        label = self.label_width if table.keyed else None
        self.out.append(
            table_xml(table, self.reference.text_width, self.reference.table_points, label)
        )
        if self.opening and len(table.rows) - table.header_rows <= SHORT_TABLE_ROWS:
            self.opening_table = len(self.out) - 1
        self.opening = False


SHORT_LIST_MOST = 12  # paragraphs of a list kept on one page
# A table of up to this many rows (besides its header) stays on one page; a longer one
# may break between rows, its header row repeated, but never leaves fewer than
# TABLE_ENDS_KEPT rows of it at the foot of a page or at the top of the next.
SHORT_TABLE_ROWS = 6
TABLE_ENDS_KEPT = 3


def keep_with_next(paragraph: str) -> str:
    """The paragraph's XML with <w:keepNext/> where the schema wants it: right after
    its style, else first in its properties."""
    if "<w:keepNext/>" in paragraph:
        return paragraph
    if paragraph.startswith("<w:p><w:pPr><w:pStyle "):
        end = paragraph.index("/>", len("<w:p><w:pPr><w:pStyle ")) + 2
        return paragraph[:end] + "<w:keepNext/>" + paragraph[end:]
    if paragraph.startswith("<w:p><w:pPr>"):
        return paragraph.replace("<w:p><w:pPr>", "<w:p><w:pPr><w:keepNext/>", 1)
    return paragraph.replace("<w:p>", "<w:p><w:pPr><w:keepNext/></w:pPr>", 1)


def keep_with_previous_block(block: str) -> str:
    """A paragraph or table (with the spacing paragraph after it) that keeps with what
    follows it: a paragraph keeps with the next; a table's last row too, and the rest of
    it as a short table's rows already do."""
    if not block.startswith("<w:tbl>"):
        return keep_with_next(block) if block.startswith("<w:p>") else block
    end = block.rindex("</w:tbl>")
    last_row = block.rindex("<w:tr>", 0, end)
    cell = '<w:pStyle w:val="TableText"/>'
    row = block[last_row:end].replace(f"{cell}<w:keepNext/>", cell)
    row = row.replace(cell, f"{cell}<w:keepNext/>")
    return block[:last_row] + row + "</w:tbl>" + keep_with_next(block[end + len("</w:tbl>") :])


def keep_dates_whole(text: str) -> str:
    """Text with a no-break space inside each date ("August 3, 2026"): never split there."""
    return table_widths.DATE_IN_TEXT.sub(lambda date: date.group().replace(" ", "\u00a0"), text)


SIGN_ROW_HEIGHT = 851  # twips: 1.5 cm, room to sign by hand
# The signature block is a form to sign, not a grid: no borders but the header row's
# rule below (the style's first row) and the lines to write on.
SIGNATURE_BORDERS = (
    "<w:tblBorders>"
    + "".join(
        f'<w:{side} w:val="nil"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    + "</w:tblBorders>"
)
# A line to sign or date on: an empty paragraph ruled below, the cell's width.
SIGN_LINE = (
    '<w:p><w:pPr><w:pStyle w:val="TableText"/>{keep}'
    '<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" w:color="1D2329"/></w:pBdr>'
    "</w:pPr></w:p>"
)


def table_xml(
    table: _Table,
    text_width: int,
    points: float = table_widths.TABLE_POINTS,
    label: int | None = None,
) -> str:
    """The table, its columns as wide as their content asks (a key/value table's label
    column `label` twips wide, when given). A cell that is a date, code, id, number or
    phone never wraps (`w:noWrap`, no-break spaces). No row splits across pages
    (`w:cantSplit`); a header row repeats on each page (`w:tblHeader`). A short table
    stays on one page (every row's paragraphs keep with the next row's, but the last);
    a longer one keeps its header with its first rows and its last rows together. The
    signature block (a table with a "Signature" column) has rows of at least 1.5 cm,
    lines to sign and date on, and every row kept with the next so it stays on one page."""
    columns = max(len(row) for row in table.rows)
    texts = [[_text(runs) for runs in row] for row in table.rows]  # each cell's, once
    head = texts[0] if table.header_rows else []
    signatures = table_widths.is_signature_table(head)
    widths = _column_widths(texts, columns, text_width, points, head if signatures else None, label)
    short = len(table.rows) - table.header_rows <= SHORT_TABLE_ROWS or signatures
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    rows = []
    last = len(table.rows) - 1
    for index, row in enumerate(table.rows):
        header = index < table.header_rows
        height = (
            f'<w:trHeight w:val="{SIGN_ROW_HEIGHT}" w:hRule="atLeast"/>'
            if signatures and not header
            else ""
        )
        trpr = (
            f"<w:trPr><w:cantSplit/>{height}" + ("<w:tblHeader/>" if header else "") + "</w:trPr>"
        )
        # Keep a short table (and the whole signature block) on one page: every row but
        # the last keeps with the next; a long one, its header and first rows, and its last.
        ends = (
            index < table.header_rows + TABLE_ENDS_KEPT - 1 or index >= last - TABLE_ENDS_KEPT + 1
        )
        keep = "<w:keepNext/>" if index < last and (short or ends) else ""
        cells = []
        for column in range(columns):
            runs = row[column] if column < len(row) else []
            text = texts[index][column] if column < len(row) else ""
            heads = header or (table.keyed and column == 0)
            shade = (
                f'<w:shd w:val="clear" w:color="auto" w:fill="{HEADER_SHADE}"/>' if heads else ""
            )
            one_line = not header and table_widths.unbreakable(text)
            props = ("<w:noWrap/>" if one_line else "") + (
                '<w:vAlign w:val="bottom"/>' if signatures and not header else ""
            )
            if not header and table_widths.is_line(text):
                cells.append(
                    f'<w:tc><w:tcPr><w:tcW w:w="{widths[column]}" w:type="dxa"/>{props}</w:tcPr>'
                    f"{SIGN_LINE.format(keep=keep)}</w:tc>"
                )
                continue
            align = table.alignments[column] if column < len(table.alignments) else "None"
            jc = _JUSTIFIED.get(align, "")
            cells.append(
                f'<w:tc><w:tcPr><w:tcW w:w="{widths[column]}" w:type="dxa"/>{shade}{props}</w:tcPr>'
                f'<w:p><w:pPr><w:pStyle w:val="TableText"/>{keep}{jc}</w:pPr>'
                f"{''.join([_cell_run_xml(run, one_line, heads) for run in runs])}</w:p></w:tc>"
            )
        rows.append(f"<w:tr>{trpr}{''.join(cells)}</w:tr>")
    # The table style shades a first row only where the table has a header row: a
    # key/value table's first row is data (its first column holds the row headers).
    look = 'w:val="0420" w:firstRow="1"' if table.header_rows else 'w:val="0400" w:firstRow="0"'
    borders = SIGNATURE_BORDERS if signatures else ""
    return (
        '<w:tbl><w:tblPr><w:tblStyle w:val="PlanTable"/><w:tblW w:w="5000" w:type="pct"/>'
        f'{borders}<w:tblLayout w:type="fixed"/>'
        f'<w:tblLook {look} w:lastRow="0" w:firstColumn="0" '
        'w:lastColumn="0" w:noHBand="1" w:noVBand="1"/></w:tblPr>'
        f"<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"
        '<w:p><w:pPr><w:spacing w:before="0" w:after="60"/></w:pPr></w:p>'
    )


def _cell_run_xml(run: _Run, one_line: bool, heads: bool) -> str:
    """A run of a table cell: in a cell kept on one line, its spaces no-break; in a cell
    that heads its row or column, bold (as a text run)."""
    text = run.text
    plain = not run.line_break and not run.drawing
    if one_line and plain:
        text = text.replace(" ", "\u00a0")
    if heads:
        return run_xml(text, True, run.italic, run.strike, run.code, run.line_break)
    if one_line and plain:
        return run_xml(text, run.bold, run.italic, run.strike, run.code)
    return run.xml()


_JUSTIFIED = {"Right": '<w:jc w:val="right"/>', "Center": '<w:jc w:val="center"/>'}


def _text(runs: list[_Run]) -> str:
    return "".join(run.text for run in runs)


def column_widths(
    table: _Table,
    columns: int,
    text_width: int,
    points: float = table_widths.TABLE_POINTS,
    signatures: list[str] | None = None,
    label: int | None = None,
) -> list[int]:
    """Share the text width among the columns by their content (see table_widths); in the
    signature block (`signatures`: its header), roles and dates keep to one line and the
    signature takes the rest (see table_widths.signature_columns); `label`: the first
    column's width, fixed."""
    texts = [[_text(runs) for runs in row] for row in table.rows]
    return _column_widths(texts, columns, text_width, points, signatures, label)


def _column_widths(
    texts: list[list[str]],
    columns: int,
    text_width: int,
    points: float,
    signatures: list[str] | None,
    label: int | None,
) -> list[int]:
    """`column_widths` of the table's cell texts (row by row)."""
    by_column = [[row[column] for row in texts if column < len(row)] for column in range(columns)]
    one_line, grow = table_widths.signature_columns(signatures) if signatures else ([], None)
    return table_widths.column_widths(by_column, text_width, points, one_line, grow, label)


def body_xml(
    markdown: str,
    reference: ReferencePackage,
    charts: dict[str, GoalProgress] | None = None,
    drawn: dict[str, bytes] | None = None,
    plain_styles: tuple[str, ...] = (),
    font_size: float = 10,
    date_format: str = "%Y-%m-%d",
    words: charts.ChartWords | None = None,
) -> _BodyBuilder:
    """The <w:body> content for the Markdown (`.out`), the numbered lists that restart at 1
    (or N) (`.restarts`), and the charts' pictures (`.pictures`). Plain paragraphs take
    `plain_styles` in turn, the last repeating (default: Word's Normal). Every key/value
    table gets the same label column, from the widest label of them all."""
    stream, labels = parsed(markdown)
    b = _BodyBuilder(
        reference,
        charts=charts or {},
        drawn=drawn or {},
        plain_styles=plain_styles,
        font_size=font_size,
        date_format=date_format,
        words=words,
    )
    if labels:
        b.label_width = table_widths.label_width(
            labels, reference.text_width, reference.table_points
        )
    for kind, name, value in stream:
        if b.in_chart and not (kind == "end" and name == "Image"):
            continue  # the alt text: the picture carries it as its description
        if kind == "leaf":
            if name == "Text" and b.in_code:
                b.add_code_lines(value)
            elif name in ("Text", "Html", "InlineHtml", "InlineMath", "DisplayMath"):
                b.add_text(value)
            elif name == "Code":
                b.add_text(value, code=True)
            elif name == "SoftBreak":
                b.add_text(" ")
            elif name == "HardBreak":
                b.add_break()
            elif name == "Rule":
                b.close_paragraph()
                b.out.append(
                    '<w:p><w:pPr><w:pBdr><w:bottom w:val="single" w:sz="6" w:space="1" '
                    'w:color="C9D1D8"/></w:pBdr></w:pPr></w:p>'
                )
        elif kind == "start":
            if name == "Paragraph":
                if b.table is None:
                    b.open_paragraph()
            elif name == "Heading":
                b.open_paragraph(HEADING_STYLES.get(value["level"], "Heading3"))
            elif name == "BlockQuote":
                b.close_paragraph()
                b.quote_depth += 1
                if value in ALERTS:
                    b.alerts.append(ALERTS[value])
            elif name == "List":
                b.start_list(value)
            elif name == "Item":
                b.close_paragraph()
                b.item_pending = True
            elif name == "CodeBlock":
                b.open_paragraph()
                b.in_code = True
            elif name == "Table":
                b.start_table(tuple(value))
            elif name in ("TableHead", "TableRow") and b.table is not None:
                b.table.rows.append([])
                if name == "TableHead":
                    b.table.header_rows = 1
            elif name == "TableCell" and b.table is not None:
                b.table.rows[-1].append([])
            elif name == "Strong":
                b.bold += 1
            elif name == "Emphasis":
                b.italic += 1
            elif name == "Strikethrough":
                b.strike += 1
            elif name == "Link":
                b.links.append(safe_link(value["dest_url"]))
            elif name == "Image" and value["dest_url"].startswith("chart:"):
                chart_name = value["dest_url"].removeprefix("chart:")
                chart = b.charts.get(chart_name)
                if chart is not None:
                    b.add_chart(chart_name, chart)
                    b.in_chart = True
        else:
            if name in ("Paragraph", "Heading", "Item", "CodeBlock"):
                b.in_code = False
                if b.table is None:
                    b.close_paragraph()
            elif name == "BlockQuote":
                b.close_paragraph()
                b.quote_depth -= 1
                if value in ALERTS:
                    b.alerts.pop()
            elif name == "List":
                b.end_list()
            elif name == "TableHead" and b.table is not None:
                if not any(run.text.strip() for cell in b.table.rows[-1] for run in cell):
                    b.table.rows.pop()  # no column headers: a key/value table
                    b.table.header_rows, b.table.keyed = 0, True
            elif name == "Table":
                b.finish_table()
            elif name == "Strong":
                b.bold -= 1
            elif name == "Emphasis":
                b.italic -= 1
            elif name == "Strikethrough":
                b.strike -= 1
            elif name == "Link":
                href = b.links.pop()
                if href:
                    b.add_text(f" ({href})")
            elif name == "Image":
                b.in_chart = False
    b.close_paragraph()
    return b


def picture_xml(
    number: int,
    width: int,
    height: int,
    progress: GoalProgress,
    date_format: str = "%Y-%m-%d",
    words: charts.ChartWords | None = None,
) -> str:
    """An inline picture of `word/media/chart{number}.png`, described for screen readers."""
    words = words or charts.english_words(date_format)
    title = xml_text(progress.title_in(words.gettext)).replace('"', "&quot;")
    trend = progress.trend(words.date, words.gettext, words.ngettext, words.number)
    description = xml_text(trend)
    description = description.replace('"', "&quot;")
    return (
        '<w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">'
        f'<wp:extent cx="{width}" cy="{height}"/>'
        f'<wp:docPr id="{number}" name="Chart {number}" title="{title}" descr="{description}"/>'
        "<wp:cNvGraphicFramePr><a:graphicFrameLocks "
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" noChangeAspect="1"/>'
        "</wp:cNvGraphicFramePr>"
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        f'<pic:nvPicPr><pic:cNvPr id="{number}" name="chart{number}.png" descr="{description}"/>'
        "<pic:cNvPicPr/></pic:nvPicPr>"
        f'<pic:blipFill><a:blip r:embed="rIdChart{number}"/><a:stretch><a:fillRect/></a:stretch>'
        "</pic:blipFill>"
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{width}" cy="{height}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>'
        "</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing>"
    )


IMAGE_RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"


def add_pictures(parts: dict[str, bytes], pictures: list[tuple[str, bytes]]) -> None:
    """Put each picture in word/media, with its relationship and the PNG content type."""
    if not pictures:
        return
    relationships = "".join(
        f'<Relationship Id="rIdChart{number}" Type="{IMAGE_RELATIONSHIP}" Target="media/{name}"/>'
        for number, (name, _) in enumerate(pictures, 1)
    )
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    parts["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>", f"{relationships}</Relationships>"
    ).encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    if 'Extension="png"' not in types:
        types = types.replace(
            "<Default ", '<Default Extension="png" ContentType="image/png"/><Default ', 1
        )
        parts["[Content_Types].xml"] = types.encode("utf-8")
    for name, png in pictures:
        parts[f"word/media/{name}"] = png


def render_docx(
    document: PlanDocument, layout: Layout, pictures: dict[str, bytes] | None = None
) -> bytes:
    """The Word document; `pictures` are the charts' PNGs when already drawn (by name)."""
    reference = reference_package(layout.page_size, layout.font_size, layout.large_print)
    built = body_xml(
        document.body,
        reference,
        dict(document.charts),
        pictures or {},
        font_size=layout.font_size,
        date_format=layout.date_format,
        words=document.chart_words,
    )
    body, restarts = "".join(built.out), built.restarts
    parts = dict(reference.parts)
    add_pictures(parts, built.pictures)
    parts["word/document.xml"] = (
        f"{reference.document_start}{body}{reference.section}</w:body></w:document>"
    ).encode()
    header_text = xml_text("   ·   ".join(document.header))
    parts[reference.header_part] = reference.header_xml.replace(HEADER_MARK, header_text).encode(
        "utf-8"
    )
    parts[reference.first_header_part] = first_page_header(document, reference, header_text)
    footer_text = xml_text(f"{document.footer}   ·   ") if document.footer else ""
    footer_xml = reference.footer_xml.replace(FOOTER_MARK, footer_text)
    if document.page_words != ("Page ", " of ", ""):  # "Page X of Y" in the document's words
        before, between, after = (xml_text(word) for word in document.page_words)
        footer_xml = footer_xml.replace('"preserve">Page </w:t>', f'"preserve">{before}</w:t>')
        footer_xml = footer_xml.replace('"preserve"> of </w:t>', f'"preserve">{between}</w:t>')
        if after:
            end = footer_xml.rindex("</w:p>")
            run = f'<w:r><w:t xml:space="preserve">{after}</w:t></w:r>'
            footer_xml = footer_xml[:end] + run + footer_xml[end:]
    if document.fingerprint is not None:
        second = fingerprint_paragraph(document.fingerprint)
        footer_xml = footer_xml.replace("</w:ftr>", f"{second}</w:ftr>")
    footer = footer_xml.encode("utf-8")
    parts[reference.footer_part] = parts[reference.first_footer_part] = footer
    if restarts:
        parts["word/numbering.xml"] = numbering_with_restarts(reference.numbering_xml, restarts)
    parts["docProps/core.xml"] = core_properties(document)
    if document.fingerprint is not None:
        add_custom_properties(parts, document.fingerprint)
    parts["word/styles.xml"] = styles_in_language(parts["word/styles.xml"], document.language)
    return zip_package(parts)


def styles_in_language(styles: bytes, language: str) -> bytes:
    """The styles with the plan's language as every run's default (`w:lang` in the
    document defaults), which screen readers and spell checkers go by."""
    value = xml_text(language).replace('"', "&quot;")
    return re.sub(
        rb'(<w:rPrDefault><w:rPr>.*?<w:lang w:val=")[^"]*"',
        lambda m: m.group(1) + value.encode() + b'"',
        styles,
        count=1,
        flags=re.S,
    )


def first_page_header(document: PlanDocument, reference: ReferencePackage, header: str) -> bytes:
    """The first page's header: the letterhead (when the plan names its practice), then
    the running header under a rule; without a letterhead, the running header alone."""
    paragraphs = header_paragraph(header)
    if document.letterhead:
        letterhead = body_xml(document.letterhead, reference, plain_styles=LETTERHEAD_STYLES).out
        paragraphs = "".join(letterhead) + header_paragraph(header, ruled=True)
    return reference.first_header_xml.replace(FIRST_HEADER_MARK, paragraphs).encode("utf-8")


def header_paragraph(text: str, ruled: bool = False) -> str:
    """The running header's paragraph (its text already XML); `ruled`: under a letterhead,
    with a rule below it and room before the title, as on the HTML page."""
    rule = (
        f'<w:pBdr><w:bottom w:val="single" w:sz="6" w:space="4" w:color="{RULE_COLOR}"/></w:pBdr>'
        '<w:spacing w:before="80" w:after="280"/>'
        if ruled
        else ""
    )
    return (
        f'<w:p><w:pPr><w:pStyle w:val="Header"/>{rule}</w:pPr>'
        f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'
    )


def numbering_with_restarts(numbering: str, restarts: list[tuple[int, str, int]]) -> bytes:
    extra = "".join(
        f'<w:num w:numId="{num_id}"><w:abstractNumId w:val="{abstract}"/>'
        f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="{start}"/></w:lvlOverride></w:num>'
        for num_id, abstract, start in restarts
    )
    return numbering.replace("</w:numbering>", f"{extra}</w:numbering>").encode("utf-8")


def core_properties(document: PlanDocument) -> bytes:
    """Document properties from the plan, never the clock; no client name."""
    created = f"{document.created.isoformat()}T00:00:00Z"
    modified = f"{document.modified.isoformat()}T00:00:00Z"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{xml_text(document.title)}</dc:title>"
        f"<dc:creator>{xml_text(document.author)}</dc:creator>"
        f"<cp:lastModifiedBy>{xml_text(document.author)}</cp:lastModifiedBy>"
        f"<cp:revision>{document.version}</cp:revision>"
        f"<dc:language>{xml_text(document.language)}</dc:language>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
        "</cp:coreProperties>"
    ).encode()


def fingerprint_paragraph(fingerprint: Fingerprint) -> str:
    """The footer's second line: the fingerprint's short form, small and muted, on the right."""
    return (
        '<w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="right"/></w:pPr>'
        f'<w:r><w:rPr><w:color w:val="56606B"/><w:sz w:val="13"/><w:szCs w:val="13"/>'
        f'</w:rPr><w:t xml:space="preserve">{xml_text(fingerprint.short())}</w:t></w:r></w:p>'
    )


CUSTOM_PROPERTIES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
)
CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
# The format identifier Office gives user-defined properties.
USER_PROPERTIES = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def add_custom_properties(parts: dict[str, bytes], fingerprint: Fingerprint) -> None:
    """The fingerprint as the document's custom properties (`docProps/custom.xml`,
    `plandoc-plan-sha256`...: File > Properties > Custom in Word), with its
    relationship and content type."""
    properties = "".join(
        f'<property fmtid="{USER_PROPERTIES}" pid="{number}" '
        f'name="plandoc-{key.removeprefix("plandoc-")}">'
        f"<vt:lpwstr>{xml_text(value)}</vt:lpwstr></property>"
        for number, (key, value) in enumerate(fingerprint.items(), 2)
    )
    parts["docProps/custom.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        "<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{properties}</Properties>"
    ).encode()
    rels = parts["_rels/.rels"].decode("utf-8")
    parts["_rels/.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdPlandocFingerprint" Type="{CUSTOM_PROPERTIES}" '
        'Target="docProps/custom.xml"/></Relationships>',
    ).encode("utf-8")
    types = parts["[Content_Types].xml"].decode("utf-8")
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        f'<Override PartName="/docProps/custom.xml" ContentType="{CUSTOM_TYPE}"/></Types>',
    ).encode("utf-8")


def zip_package(parts: dict[str, bytes]) -> bytes:
    """The parts as a zip with fixed order, dates and attributes: same parts, same bytes.

    Each part's entry (its local header and compressed data, and its central directory
    record) is made by `zipfile` on its own and kept (see `_zip_entry`): most parts are
    the same from plan to plan of one layout (the styles, the numbering, the settings,
    the fonts' table...), so each is compressed once a process, not once a document.
    The entries are then laid end to end, each central record given its entry's offset,
    as `zipfile` lays them: the bytes are those `zipfile` writes for the whole package."""
    order = ["[Content_Types].xml", "_rels/.rels"]
    names = order + sorted(name for name in parts if name not in order)
    local: list[bytes] = []
    central: list[bytes] = []
    offset = 0
    for name in names:
        data = parts[name]
        entry = _zip_entry(name, data) if name not in UNCACHED_PARTS else _make_entry(name, data)
        record, directory = entry
        local.append(record)
        central.append(directory[:42] + struct.pack("<L", offset) + directory[46:])
        offset += len(record)
    directory_bytes = b"".join(central)
    end = struct.pack(
        zipfile.structEndArchive,
        zipfile.stringEndArchive,
        0,
        0,
        len(names),
        len(names),
        len(directory_bytes),
        offset,
        0,
    )
    return b"".join(local) + directory_bytes + end


# Parts that differ from plan to plan (not worth keeping): the document's text.
UNCACHED_PARTS = frozenset({"word/document.xml"})


@lru_cache(maxsize=512)
def _zip_entry(name: str, data: bytes) -> tuple[bytes, bytes]:
    return _make_entry(name, data)


def _make_entry(name: str, data: bytes) -> tuple[bytes, bytes]:
    """One part's local record (header and deflated data) and its central directory
    record (its offset 0, to be set), as `zipfile` writes them in a package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.create_system = 0
        info.external_attr = 0
        package.writestr(info, data, compresslevel=6)
        start = package.start_dir
    written = buffer.getvalue()
    end = written.rindex(zipfile.stringEndArchive)
    directory = written[start:end]
    assert len(directory) >= 46 and struct.unpack("<L", directory[42:46]) == (0,)
    return written[:start], directory
