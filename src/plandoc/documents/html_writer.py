"""Markdown events -> one self-contained HTML5 page (CSS inline, no scripts, no network)."""

from __future__ import annotations

import html
import re

from markupsafe import Markup

from plandoc.documents.charts import ChartWords, english_words, svg
from plandoc.documents.compose import PlanDocument
from plandoc.documents.fingerprint import html_meta
from plandoc.documents.markdown_events import parsed
from plandoc.documents.markdown_text import safe_link
from plandoc.documents.table_widths import (
    DATE_IN_TEXT,
    HAS_DIGIT,
    column_percents,
    is_line,
    is_signature_table,
    label_width,
    print_text_width,
    signature_columns,
    unbreakable,
)
from plandoc.documents.text_cache import remembered
from plandoc.layouts import PAGE_TEMPLATE, Layout
from plandoc.model.progress import GoalProgress

# Blocks that end a run of paragraphs (a chart keeps only with paragraphs right before it).
_BLOCKS = {"Heading", "BlockQuote", "List", "Item", "CodeBlock", "Table"}
_SIMPLE_TAGS = {
    "Paragraph": "p",
    "Item": "li",
    "Emphasis": "em",
    "Strong": "strong",
    "Strikethrough": "del",
}
CSS_PAGE_SIZE = {"letter": "letter", "a4": "A4"}  # layout page_size -> CSS @page size


def render_body(
    markdown: str,
    charts: dict[str, GoalProgress] | None = None,
    page_size: str = "letter",
    font_size: float = 10,
    date_format: str = "%Y-%m-%d",
    words: ChartWords | None = None,
) -> str:
    """The document body as HTML: every text escaped, raw HTML shown as text.

    An image `chart:NAME` that names one of `charts` becomes that chart, as
    inline SVG, its text sized for a body of `font_size` points and its dates
    written in `date_format`; its alt text is the
    SVG's description, and its scores follow it as text for screen readers (see
    `chart_data`). Tables get column widths from their content for the page size
    and the layout's font size; a cell that is a date, code, id, number or phone
    never breaks (class `nowrap`), and the signature block (a table with a
    "Signature" column) gets lines to sign on.

    A table whose header row is empty (`| | |`: a key/value table, such as the
    identification) has no column headers: no <thead>, and the first cell of
    each row is that row's header (`<th scope="row">`). Any other table's
    header row is its column headers (`<th scope="col">`). Every key/value table
    of the document has the same label column, as wide as the widest label of
    them all asks (within bounds): consecutive tables line up.
    """
    charts = charts or {}
    stream, labels = parsed(markdown)
    label = label_width(labels, print_text_width(page_size), font_size - 0.5) if labels else None
    in_chart = False
    out: list[str] = []
    write = out.append
    alignments: tuple[str, ...] = ()
    cell = 0
    in_head = False
    body_open = False
    lists: list[str] = []
    links: list[str] = []
    table_at = 0  # where the open table's <colgroup> goes
    columns: list[list[str]] = []  # the open table's cell texts, by column
    texts: list[str] | None = None  # the open cell's
    paragraph_at: int | None = None  # where the open paragraph's <p> is in `out`
    paragraphs: list[int] = []  # where the <p> of each paragraph since the last other block is
    header: list[str] = []  # the open table's header texts
    signatures = False  # the open table is the signature block (its lines drawn)
    cell_at = 0  # where the open cell's start tag is in `out`
    keyed = False  # the open table's header row is empty: its rows are keyed by their first cell
    head_at = 0  # where the open table's header row starts in `out`
    for kind, name, value in stream:
        if in_chart and not (kind == "end" and name == "Image"):
            continue  # the alt text: the chart carries it as its description
        if texts is not None and kind == "leaf" and name in ("Text", "Code"):
            texts.append(value)
        if kind == "leaf":
            if name == "Text":
                write(breakable(value))
            elif name == "Code":
                write(f"<code>{breakable(value)}</code>")
            elif name in ("Html", "InlineHtml", "InlineMath", "DisplayMath"):
                write(breakable(value))
            elif name == "SoftBreak":
                write("\n")
            elif name == "HardBreak":
                write("<br>")
            elif name == "Rule":
                write("<hr>\n")
                paragraphs.clear()
        elif kind == "start":
            if name == "Paragraph":
                paragraph_at = len(out)
                paragraphs.append(paragraph_at)
            elif name in _BLOCKS:
                paragraphs.clear()
            if name in _SIMPLE_TAGS:
                write(f"<{_SIMPLE_TAGS[name]}>")
            elif name == "Heading":
                write(f"<{value['level'].lower()}>")
            elif name == "BlockQuote":  # an alert (`> [!WARNING]`) gets its kind as a class
                write(f'<blockquote class="{value.lower()}">' if value else "<blockquote>")
            elif name == "List":
                tag = "ol" if value is not None else "ul"
                lists.append(tag)
                start = f' start="{value}"' if value not in (None, 1) else ""
                write(f"<{tag}{start}>\n")
            elif name == "CodeBlock":
                write("<pre><code>")
            elif name == "Table":
                alignments, body_open = tuple(value), False
                write("<table>\n")
                table_at, columns = len(out), [[] for _ in alignments]
                header, signatures = [], False
            elif name == "TableHead":
                in_head, cell, head_at = True, 0, len(out)
                write("<thead>\n<tr>")
            elif name == "TableRow":
                cell = 0
                if not body_open:
                    body_open = True
                    write("<tbody>\n")
                write("<tr>")
            elif name == "TableCell":
                texts = []
                tag = "th" if in_head or (keyed and cell == 0) else "td"
                align = alignments[cell] if cell < len(alignments) else "None"
                style = f' style="text-align:{align.lower()}"' if align != "None" else ""
                scope = ' scope="col"' if in_head else ' scope="row"' if tag == "th" else ""
                cell_at = len(out)
                write(f"<{tag}{scope}{style}>")
            elif name == "Link":
                href = safe_link(value["dest_url"])
                links.append("a" if href else "span")
                write(f'<a href="{html.escape(href)}">' if href else "<span>")
            elif name == "Image":
                chart = charts.get(value["dest_url"].removeprefix("chart:"))
                if value["dest_url"].startswith("chart:") and chart is not None:
                    in_chart = True
                    name = value["dest_url"].removeprefix("chart:")
                    # The paragraph holding a chart is marked, and the two paragraphs right
                    # before it (the client copy's "Goal N: ..." and "Your latest result
                    # ..."), for the stylesheet to keep them together on paper (no `:has()`:
                    # the W3C checker's CSS lacks it).
                    if paragraph_at is not None:
                        out[paragraph_at] = '<p class="chart-block">'
                        for start in paragraphs[-3:-1]:
                            out[start] = '<p class="keep-next">'
                    picture = svg(chart, name, font_size, date_format, words)
                    data = chart_data(chart, date_format, words)
                    write(f'<span class="chart">{picture}{data}')
                else:
                    write('<span class="image-alt">')
        else:  # end
            if name == "Paragraph":
                paragraph_at = None
            elif name in _BLOCKS:
                paragraphs.clear()
            if name in _SIMPLE_TAGS:
                write(f"</{_SIMPLE_TAGS[name]}>" + ("\n" if name in ("Paragraph", "Item") else ""))
            elif name == "Heading":
                write(f"</{value.lower()}>\n")
            elif name == "BlockQuote":
                write("</blockquote>")
            elif name == "List":
                write(f"</{lists.pop()}>\n")
            elif name == "CodeBlock":
                write("</code></pre>\n")
            elif name == "TableCell":
                text = "".join(texts or [])
                if in_head:
                    header.append(text)
                elif is_line(text):  # a line to sign or date on, drawn the cell's width
                    del out[cell_at + 1 :]
                    out[cell_at] = out[cell_at].replace("<td", '<td class="line"', 1)
                    write('<span class="line"></span>')
                elif unbreakable(text):
                    out[cell_at] = out[cell_at].replace("<td", '<td class="nowrap"', 1)
                write("</th>" if in_head or (keyed and cell == 0) else "</td>")
                if texts is not None and cell < len(columns):
                    columns[cell].append(text)
                texts = None
                cell += 1
            elif name == "TableHead":
                in_head = False
                keyed = not any(text.strip() for column in columns for text in column)
                if keyed:  # no column headers: drop the empty header row
                    del out[head_at:]
                    columns, header = [[] for _ in alignments], []
                else:
                    signatures = is_signature_table(header)
                    if signatures:
                        out[table_at - 1] = '<table class="signatures">\n'
                    write("</tr>\n</thead>\n")
            elif name == "TableRow":
                write("</tr>\n")
            elif name == "Table":
                write("</tbody>\n</table>\n" if body_open else "</table>\n")
                first = label if keyed else None
                out.insert(table_at, colgroup(columns, header, page_size, font_size, first))
                keyed = False
            elif name == "Link":
                write(f"</{links.pop()}>")
            elif name == "Image":
                in_chart = False
                write("</span>")
    return "".join(out)


def chart_data(
    progress: GoalProgress, date_format: str = "%Y-%m-%d", words: ChartWords | None = None
) -> str:
    """A chart's data as text beside it: each score with its date, and the target.

    Screen readers read it after the chart's title and description; the
    layout's stylesheet hides it from sight (`.chart-data`), since the page
    lists the scores in a table too.
    """
    words = words or english_words(date_format)
    _ = words.gettext
    scores = "; ".join(
        (_("baseline %(score)s on %(date)s") if point.baseline else _("%(score)s on %(date)s"))
        % {"score": words.number(point.score), "date": words.date(point.date)}
        for point in progress.points
    )
    text = _("%(title)s: %(scores)s; target %(target)s.") % {
        "title": progress.title_in(_),
        "scores": scores,
        "target": words.number(progress.target),
    }
    return f'<span class="chart-data">{html.escape(text, quote=False)}</span>'


def colgroup(
    columns: list[list[str]],
    header: list[str],
    page_size: str = "letter",
    font_size: float = 10,
    label: int | None = None,
) -> str:
    """Each column's width, from its content (see table_widths): the table's layout is
    fixed by them (`table-layout: fixed` in the stylesheet). In the signature block,
    roles and dates keep to one line, a signer's name wraps only at its spaces and hyphens, and
    the signature takes the rest (at least SIGNATURE_SHARE of the width). `label`: a key/value
    table's label column (twips), the same for the whole document."""
    one_line: list[bool] = []
    grow = None
    if is_signature_table(header):
        one_line, grow = signature_columns(header)
    points = font_size - 0.5  # the stylesheets' table text: 9.5 points by a 10-point body
    percents = column_percents(columns, page_size, points, one_line, grow, label)
    cols = "".join(f'<col style="width:{width}">' for width in percents)
    return f"<colgroup>{cols}</colgroup>\n"


LONG_WORD = re.compile(r"[^\s<>&]{40,}")  # after escaping: never inside an entity
WORD_PIECE = 20


@remembered
def breakable(text: str) -> str:
    """Text as HTML, with a line-break opportunity (`<wbr>`) every 20 characters of a
    word longer than 40: a browser or the PDF renderer breaks such a "word" (a pasted
    URL, a run of letters) there instead of searching every character of it, which
    costs the PDF renderer time growing with the square of the word's length.

    A short text is made once a process (see text_cache): most of a document's texts
    are the layout's own words and the plan's dates, codes and scores, which recur from
    plan to plan: the HTML writer took 1.0 ms a plan instead of 1.4 ms over 12 variants
    of the spec's example plan (2026-11-30; variants share more text than a clinic's
    plans do)."""
    escaped = html.escape(text, quote=False)
    if HAS_DIGIT.search(text):  # a date never breaks inside
        escaped = DATE_IN_TEXT.sub(r'<span class="nowrap">\g<0></span>', escaped)
    if len(text) < 40:
        return escaped
    return LONG_WORD.sub(
        lambda m: "<wbr>".join(
            m.group()[start : start + WORD_PIECE] for start in range(0, len(m.group()), WORD_PIECE)
        ),
        escaped,
    )


def render_page(document: PlanDocument, layout: Layout) -> str:
    """The page: the letterhead (when the plan names its practice) at the top of the
    first page, the running header, then the document from its title on."""
    letterhead = render_body(document.letterhead) if document.letterhead else ""
    short = document.fingerprint.short() if document.fingerprint else ""
    page = layout.render(
        PAGE_TEMPLATE,
        dict(
            title=document.title,
            language=document.language,
            author=document.author,
            created=document.created.isoformat(),
            modified=document.modified.isoformat(),
            header=document.header,
            footer=document.footer,
            fingerprint=short,
            letterhead=Markup(letterhead),
            body=Markup(
                render_body(
                    document.body,
                    dict(document.charts),
                    layout.page_size,
                    layout.font_size,
                    layout.date_format,
                    document.chart_words,
                )
            ),
            stylesheet=Markup(
                stylesheet(
                    layout,
                    document.header,
                    bool(letterhead),
                    document.page_words,
                    document.footer,
                    short,
                )
            ),
        ),
    )
    return with_fingerprint(page, document)


def with_fingerprint(page: str, document: PlanDocument) -> str:
    """The page with the fingerprint's `<meta>` elements at the end of its head, whatever
    the layout's page template holds (see documents.fingerprint)."""
    if document.fingerprint is None:
        return page
    at = page.find("</head>")
    if at < 0:
        return page
    return page[:at] + html_meta(document.fingerprint) + page[at:]


_STYLESHEET_SLOTS = re.compile(
    "__(PAGE_SIZE|RUNNING_HEADER|FIRST_PAGE_HEADER|FOOTER|PAGE_NUMBER)__"
)


def stylesheet(
    layout: Layout,
    header: tuple[str, ...],
    letterhead: bool = False,
    page_words: tuple[str, str, str] = ("Page ", " of ", ""),
    footer: str | None = None,
    fingerprint: str = "",
) -> str:
    """The layout's CSS, with the page size, running header and footer of printed pages.

    The footer is the layout's footer text, then, on a line of its own, the
    short form of the document's fingerprint (`fingerprint`).

    A page with a letterhead has none in the first page's margin: the letterhead
    heads that page, with the running header under it (as the Word document's
    first-page header does). One pass over the layout's CSS: a slot's name inside
    the plan text put in another slot (a client named `__FOOTER__`) is never
    filled in turn.
    """
    running_header = css_string("  ·  ".join(header))
    values = {
        "PAGE_SIZE": CSS_PAGE_SIZE[layout.page_size],
        "RUNNING_HEADER": running_header,
        "FIRST_PAGE_HEADER": "none" if letterhead else running_header,
        "FOOTER": css_string(
            "\n".join(
                part
                for part in (footer if footer is not None else layout.footer, fingerprint)
                if part
            )
        ),
        "PAGE_NUMBER": page_number(page_words),
    }
    sheet = layout.stylesheet + (large_print_css(layout.font_size) if layout.large_print else "")
    return _STYLESHEET_SLOTS.sub(lambda slot: values[slot.group(1)], sheet)


def page_number(words: tuple[str, str, str]) -> str:
    """The CSS content of "Page X of Y", its words in the document's language."""
    before, between, after = (css_string(word) for word in words)
    return f"{before} counter(page) {between} counter(pages) {after}".replace(' ""', "")


def large_print_css(font_size: int) -> str:
    """Large print: the body at `font_size` points on screen and paper, lines and items
    further apart (after the layout's own rules, so it wins)."""
    return f"""
/* large print */
html, body {{ font-size: {font_size}pt; line-height: 1.7; }}
@media print {{ html, body {{ font-size: {font_size}pt; }} }}
main p, main li, main td, main th, main blockquote {{ line-height: 1.7; }}
main li + li {{ margin-top: 0.45em; }}
main p {{ margin: 0 0 0.8em; }}
main table {{ font-size: 1em; }}
"""


_CSS_UNSAFE = re.compile(r"[^A-Za-z0-9 ,.:;_()/#+=?!@$%*\'-]")


def css_string(text: str) -> str:
    """Text as a quoted CSS string; anything but plain characters becomes a hex escape."""
    return '"' + _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", text) + '"'
