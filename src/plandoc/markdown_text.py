"""Plan text into Markdown without letting it become markup.

Two kinds of plan text reach a template. Short fields (names, statements,
codes) are *inline text*: every character that Markdown would read as syntax
is escaped, and line breaks become spaces, so a `|` cannot break a table and a
leading `#` cannot make a heading. Narrative fields (history, presenting
problem, contract summary, progress notes) *are* Markdown: their paragraphs,
lists and emphasis are kept, but headings and link definitions, which would
reshape or silently drop parts of the document, and image syntax, which only a
layout may use (for charts), are neutralised. Raw HTML is
never passed through by the renderers, whatever the text holds.
"""

from __future__ import annotations

import re


class Markdown(str):
    """Text that is already Markdown; a template inserts it unchanged."""

    __slots__ = ()


_INLINE_SYNTAX = re.compile(r"([\\`*_\[\]<>|~&#])")
_LINE_BREAKS = re.compile(r"[ \t]*(?:\r\n|\r|\n)[ \t]*")
_ORDERED_MARKER = re.compile(r"\d{1,9}(?=[.)])")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_LINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_LINK_DEFINITION = re.compile(r"^( {0,3})(\[[^\]]*\]:)")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def escape_inline(text: str) -> Markdown:
    """Plain text -> Markdown that renders as exactly that text, on one line."""
    text = _LINE_BREAKS.sub(" ", text)
    text = _INLINE_SYNTAX.sub(r"\\\1", text)
    if text[:1] in ("-", "+", "="):
        text = "\\" + text  # would start a list or underline a heading
    elif match := _ORDERED_MARKER.match(text):
        text = f"{match.group()}\\{text[match.end() :]}"  # "1." would start a numbered list
    return Markdown(text)


def narrative(text: str) -> Markdown:
    """Narrative Markdown -> Markdown that cannot add headings or hide text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    fenced = False
    previous_blank = True
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            heading = _ATX_HEADING.match(line)
            if heading:
                title = (heading.group(1) or "").strip()
                # A heading inside a narrative would reshape the document: keep it as
                # a bold line of its own instead.
                out.extend(["", f"**{escape_inline(title)}**" if title else "", ""])
                previous_blank = True
                continue
            elif _SETEXT_LINE.match(line) and not previous_blank:
                line = "\\" + line.lstrip()
            else:
                line = _LINK_DEFINITION.sub(r"\1\\\2", line)
            # Plan text shows an image as typed: only a layout's template places
            # pictures (the charts), so plan text can never pull one in.
            line = line.replace("![", "!\\[")
        out.append(line)
        previous_blank = not line.strip()
    if fenced:
        out.append("```")
    return Markdown("\n".join(out).strip("\n"))
