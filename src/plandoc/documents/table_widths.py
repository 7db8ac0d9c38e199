"""Column widths computed from a table's content, shared by the HTML (and so PDF) and DOCX.

No column is narrower than its longest word (up to 24 characters), and the
width left over goes to the columns with the longest text. Computing widths
here, instead of leaving them to the renderer's automatic table layout, keeps
a PDF's layout time linear in the text (WeasyPrint's automatic layout takes
time growing with the square of a cell's text) and gives every format the same
columns.
"""

from __future__ import annotations

from collections.abc import Sequence

TWIPS_PER_CHAR = 100  # about one character of 9-point Arial
CELL_MARGINS = 200  # left and right cell padding of the Plan Table style
LETTER_TEXT_WIDTH = 9360  # twips: 6.5 inches, a Letter page's text width


def column_widths(columns: Sequence[Sequence[str]], text_width: int) -> list[int]:
    """Widths in twips for columns of cell texts, together exactly `text_width`."""
    floors, weights = [], []
    for texts in columns:
        longest_word = max((len(word) for text in texts for word in text.split()), default=1)
        floors.append(min(longest_word + 1, 24) * TWIPS_PER_CHAR + CELL_MARGINS)
        weights.append(min(max((len(text) for text in texts), default=1), 60))
    spare = max(text_width - sum(floors), 0)
    total = sum(weights) or 1
    widths = [
        floor + spare * weight // total for floor, weight in zip(floors, weights, strict=True)
    ]
    total_width = sum(widths)
    if total_width > text_width:  # too many columns for their words: scale down evenly
        widths = [w * text_width // total_width for w in widths]
    widths[-1] += text_width - sum(widths)
    return widths


def column_percents(columns: Sequence[Sequence[str]]) -> list[str]:
    """The same shares as `column_widths`, as CSS percentages of the table's width."""
    widths = column_widths(columns, LETTER_TEXT_WIDTH)
    return [f"{width * 100 / LETTER_TEXT_WIDTH:.2f}%" for width in widths]
