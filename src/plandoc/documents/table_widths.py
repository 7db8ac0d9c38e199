"""Column widths computed from a table's content, shared by the HTML, PDF and DOCX,
and which cells must never break inside.

No column is narrower than its longest word (up to 24 characters), and no
column of dates, codes, ids, numbers or phone numbers is narrower than its
longest cell: such a cell is kept on one line (`unbreakable`), so a date never
prints as `12/01/20` / `26`. The width left over goes to the columns with the
longest text. Computing widths here, instead of leaving them to the renderer's
automatic table layout, keeps a PDF's layout time linear in the text (an
automatic layout, WeasyPrint's for one, can take time growing with the square
of a cell's text) and gives every format the same columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import NamedTuple

from plandoc.documents.text_cache import remembered

TWIPS_PER_CHAR = 100  # about one digit of 9-point Arial (a digit is 0.556 em)
TABLE_POINTS = 9  # the table text size TWIPS_PER_CHAR is measured at
CELL_MARGINS = 200  # left and right cell padding of the Plan Table style
LETTER_TEXT_WIDTH = 9360  # twips: 6.5 inches, a Letter page's text width (Word's margins)
# The printed page's text width (the stylesheet's 18 mm side margins), by page size.
PRINT_TEXT_WIDTH = {"letter": 10199, "a4": 9865}
WIDE_CHAR = 0.95  # a name's letters average a little narrower than digits
UNBREAKABLE_MOST = 40  # characters: a longer cell wraps whatever it holds
LINE_FLOOR = 12  # characters: the narrowest line to sign or date on
# A key/value table's label column, as a share of the text width: at least (room for a
# short label and its padding), at most (a longer label wraps; the value keeps the rest).
LABEL_SHARE = (0.16, 0.38)

_MONTHS = (
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    "|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
# Spanish months, whole and as Babel shortens them (a translated client copy's dates).
_MESES = (
    "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre"
    "|diciembre|ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic"
)
# A date in any layout's format: 2026-07-15, 07/15/2026, 15.07.2026, July 15, 2026, 15 July 2026,
# 15 de julio de 2026.
DATE = (
    r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    rf"|(?:{_MONTHS})\.? \d{{1,2}}, \d{{4}}|\d{{1,2}} (?:{_MONTHS})\.? \d{{4}}"
    rf"|\d{{1,2}} de (?:{_MESES}) de \d{{4}}"
)
HAS_DIGIT = re.compile(r"\d")  # a text that may hold a date: one search, not one per character
DATE_IN_TEXT = re.compile(rf"(?<![\w/.-])(?:{DATE})(?![\w/-])")
_UNBREAKABLE = re.compile(
    rf"""(?:{DATE})
    | [-+$]?\d[\d,]*(?:\.\d+)?%?                      # a number, an amount, a percentage
    | \d[\d.,]*\ ?[A-Za-z%/]{{1,8}}                    # with its unit: 60 min, 4 units
    | \+?\(?\d[\d ().-]{{5,}}\d(?:\ ?x\d+)?            # a phone number
    | [A-Za-z0-9][A-Za-z0-9.:/\#_+-]*\d[A-Za-z0-9.:/\#_+-]*  # a code or an id: F43.10, PHQ-9
    """,
    re.VERBOSE,
)
_LINE = re.compile(r"_{5,}")


def unbreakable(text: str) -> bool:
    """A cell that must stay on one line: a date, a code, an id, a number or a phone."""
    return _measure(text).unbreakable


def is_line(text: str) -> bool:
    """A cell that is a line to write on (a blank signature or date): underscores only."""
    return _measure(text).line


class _Cell(NamedTuple):
    """What the widths need of one cell's text."""

    length: int
    stripped: int  # the length without the spaces around it
    longest_word: int  # 0: no word
    unbreakable: bool  # see `unbreakable`
    line: bool  # see `is_line`


@remembered
def _measure(text: str) -> _Cell:
    """A cell's text measured once: each table's cells are read by the HTML and the DOCX
    writer, the widths read each several times, and most cells (labels, dates, codes,
    statuses) recur from table to table and plan to plan (a short text's is remembered:
    see text_cache)."""
    stripped = text.strip()
    return _Cell(
        len(text),
        len(stripped),
        max(map(len, text.split()), default=0),
        0 < len(stripped) <= UNBREAKABLE_MOST and _UNBREAKABLE.fullmatch(stripped) is not None,
        _LINE.fullmatch(stripped) is not None,
    )


def is_signature_table(header: Sequence[str]) -> bool:
    """The signature block: a table with a "Signature" column."""
    return any(cell.strip().lower() == "signature" for cell in header)


SIGNATURE_SHARE = 0.35  # of the text width, at least: the room to sign in
_SIGNER_COLUMNS = {"signature", "signer", "name"}  # may wrap: a long name at its spaces


def signature_columns(header: Sequence[str]) -> tuple[list[bool], int]:
    """For the signature block (see `is_signature_table`), which columns keep to one
    line (a role, credentials, a date) and which one takes the room left (the signature)."""
    names = [cell.strip().lower() for cell in header]
    return [name not in _SIGNER_COLUMNS for name in names], names.index("signature")


def label_width(labels: Sequence[str], text_width: int, points: float = TABLE_POINTS) -> int:
    """The label column's width in twips for every key/value table of one document (the
    tables whose rows are headed by their first cell, such as the identification's): the
    widest of all their `labels` on one line, within LABEL_SHARE of `text_width`. One width
    for them all lines up the label columns of consecutive tables."""
    char = TWIPS_PER_CHAR * points / TABLE_POINTS
    longest = max((len(label.strip()) for label in labels), default=0)
    width = int((longest + 1) * char) + CELL_MARGINS
    least, most = (int(text_width * share) for share in LABEL_SHARE)
    return min(max(width, least), most)


def column_widths(
    columns: Sequence[Sequence[str]],
    text_width: int,
    points: float = TABLE_POINTS,
    one_line: Sequence[bool] = (),
    grow: int | None = None,
    label: int | None = None,
) -> list[int]:
    """Widths in twips for columns of cell texts, together exactly `text_width`.

    `label`: the first column's width, fixed (a key/value table's label column, the
    same for every such table of a document: see `label_width`); the other columns
    share the rest. `points`: the table's text size. A column is at least its longest word, and
    at least its longest unbreakable cell (see `unbreakable`), or its longest
    cell when `one_line` says so; a line to sign on is at least LINE_FLOOR
    characters. The rest goes by the columns' text, or all to column `grow`.
    When the floors do not fit, the columns that can wrap give way first.
    """
    if label is not None and len(columns) > 1:
        rest = column_widths(columns[1:], text_width - label, points, one_line[1:])
        return [label, *rest]
    char = TWIPS_PER_CHAR * points / TABLE_POINTS
    floors, minimums, weights = [], [], []
    measured = [[_measure(text) for text in texts] for texts in columns]
    for index, cells in enumerate(measured):
        keep = index < len(one_line) and one_line[index]
        # One pass over the column's cells (0.33 ms a plan for the HTML and DOCX tables
        # instead of 0.48 with a pass for each, 2026-11-30): its longest
        # word; its longest cell kept whole (plus one), and its longest text, lines to
        # sign on left out; whether it holds such a line.
        # (Comparisons rather than `max()` calls: the HTML's 17 tables a plan took 0.17 ms
        # with them; see docs/performance.md, issue 21, third round.)
        longest_word, whole, longest, lines = 0, 0, -1, False
        for length, stripped, word, kept, line in cells:  # see _Cell
            if word > longest_word:
                longest_word = word
            if line:
                lines = True
                continue
            if (keep or kept) and stripped >= whole:
                whole = stripped + 1
            if length > longest:
                longest = length
        longest_word = longest_word or 1
        words = min(longest_word + 1, 24) * char
        floor = max(words if not lines else 0, whole * char * (WIDE_CHAR if keep else 1))
        floor = max(floor, LINE_FLOOR * char if lines else 0)
        floors.append(int(floor) + CELL_MARGINS)
        least = max(whole, min(longest_word + 1, 24), LINE_FLOOR if lines else 6) * char
        minimums.append(int(least) + CELL_MARGINS)
        weights.append(min(longest if longest >= 0 else 1, 60))
    if grow is not None and 0 <= grow < len(columns):  # the signature: room to sign by hand
        room = math.ceil(text_width * SIGNATURE_SHARE)
        floors[grow], minimums[grow] = max(floors[grow], room), max(minimums[grow], room)
    spare = max(text_width - sum(floors), 0)
    if grow is not None and 0 <= grow < len(columns):
        # The columns that may wrap (a signer's name) take what keeps them on one line,
        # if the page has it, before the signature takes the rest.
        for index, cells in enumerate(measured):
            if index == grow or (index < len(one_line) and one_line[index]):
                continue
            longest = max((cell.stripped + 1 for cell in cells), default=0)
            wanted = int(longest * char * WIDE_CHAR) + CELL_MARGINS - floors[index]
            extra = min(max(wanted, 0), spare)
            floors[index] += extra
            spare -= extra
        weights = [1 if index == grow else 0 for index in range(len(columns))]
    total = sum(weights) or 1
    widths = [
        floor + spare * weight // total for floor, weight in zip(floors, weights, strict=True)
    ]
    excess = sum(widths) - text_width
    if excess > 0:  # too wide for its words: the columns that can wrap give way first
        room = [max(width - least, 0) for width, least in zip(widths, minimums, strict=True)]
        share = min(excess, sum(room))
        if share:
            widths = [w - share * r // sum(room) for w, r in zip(widths, room, strict=True)]
    excess = sum(widths) - text_width
    if excess > 0:  # still too wide: the widest columns (a very long name) wrap at their
        # spaces, each down to no narrower than the next widest (never a sliver among wide ones)
        others = sorted((w for index, w in enumerate(widths) if index != grow), reverse=True)
        room_left = text_width - sum(w for index, w in enumerate(widths) if index == grow)
        level, rest = 0, sum(others)
        for count in range(1, len(others) + 1):
            rest -= others[count - 1]  # the columns not cut down
            level = (room_left - rest) // count
            if count == len(others) or level >= others[count]:
                break
        level = max(level, 6 * int(char) + CELL_MARGINS)
        widths = [w if index == grow else min(w, level) for index, w in enumerate(widths)]
    total_width = sum(widths)
    if total_width > text_width:  # still too wide: scale down evenly
        widths = [w * text_width // total_width for w in widths]
    widths[-1] += text_width - sum(widths)
    return widths


def column_percents(
    columns: Sequence[Sequence[str]],
    page_size: str = "letter",
    points: float = TABLE_POINTS,
    one_line: Sequence[bool] = (),
    grow: int | None = None,
    label: int | None = None,
) -> list[str]:
    """The same shares as `column_widths` on the printed page, as CSS percentages
    (`label`: a key/value table's label column, in twips of that page's text width)."""
    text_width = print_text_width(page_size)
    widths = column_widths(columns, text_width, points, one_line, grow, label)
    return [f"{width * 100 / text_width:.2f}%" for width in widths]


def print_text_width(page_size: str = "letter") -> int:
    """The printed page's text width in twips."""
    return PRINT_TEXT_WIDTH.get(page_size, LETTER_TEXT_WIDTH)
