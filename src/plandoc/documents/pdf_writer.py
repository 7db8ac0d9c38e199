"""The document -> PDF, with Typst (the `typst` package; imported only when a PDF is asked for).

The page is laid out by one fixed Typst program shipped with plandoc
(`documents/typst/plan.typ`); the document reaches it as data (JSON made by
typst_writer from the same Markdown event stream as the HTML and DOCX), so no
plan text is ever Typst source. One compiler is kept per process: after the
first PDF (about 60 ms), a plan takes a few milliseconds (docs: "Performance").

The PDF: the layout's page size, the running header (client, date of birth,
member id, plan id and version) at the top of every page (under the letterhead
on the first, when the plan names its practice), the footer and "Page X of Y"
at the bottom, table header rows repeated, fonts (the Liberation families)
embedded and subset. Tagged for screen readers (PDF/UA-1: a structure tree of
headings, lists and tables, every chart described, the title shown, the
plan's language). The title is the layout's title and the plan id, never the
client's name. Deterministic: dated by the plan (created, last reviewed), the
file identifier made from the plan id, version and layout; the same plan gives
the same bytes. The document information dictionary carries the document's
fingerprint (`/PlandocPlanSHA256`...: see documents.fingerprint), written into
Typst's PDF here (Typst writes no keys of its own there).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import multiprocessing
import multiprocessing.util
import re
import shutil
import tempfile
import threading
import unicodedata
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from plandoc.documents.compose import PlanDocument
from plandoc.documents.typst_writer import document_data
from plandoc.errors import PlandocError
from plandoc.layouts import Layout

PROGRAM = Path(__file__).with_name("typst") / "plan.typ"
MISSING = (
    "PDF needs the typst package: pip install 'plandoc[pdf]'; md, html and docx still work "
    "without it"
)
# The fonts the program uses, from fonts-liberation; no other font is ever given to Typst,
# so the PDF does not depend on what else the machine has installed.
FONT_FILES = tuple(
    f"Liberation{family}-{face}.ttf"
    for family in ("Sans", "Mono")
    for face in ("Regular", "Bold", "Italic", "BoldItalic")
)
FONT_FOLDERS = (
    "/usr/share/fonts/truetype/liberation",  # Debian, Ubuntu (fonts-liberation)
    "/usr/share/fonts/truetype/liberation2",
    "/usr/share/fonts/liberation-sans",  # Fedora
    "/usr/share/fonts/liberation-mono",
    "/usr/share/fonts/liberation",
    "/usr/share/fonts/TTF",  # Arch
    "/usr/local/share/fonts",
    "/opt/homebrew/share/fonts",
)
# The fallback for the scripts Liberation lacks (Hebrew, Arabic, many symbols), and for the
# replacement character (U+FFFD) a character no font has prints as: DejaVu Sans and Sans Mono,
# regular and bold (all in fonts-dejavu-core), each used when installed. Only these files
# reach Typst (copied to a folder of their own): another font beside them (DejaVu Serif, Math,
# Oblique from fonts-dejavu-extra) is never picked by Typst's fallback.
FALLBACK_FOLDERS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu-sans-fonts",
                    "/usr/share/fonts/dejavu-sans-mono-fonts", "/usr/share/fonts/dejavu",
                    "/usr/share/fonts/TTF")  # fmt: skip
FALLBACK_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf",
                  "DejaVuSansMono-Bold.ttf")  # fmt: skip
NO_FONTS = (
    "PDF needs the Liberation fonts (Sans and Mono): on Debian or Ubuntu, apt-get install "
    "fonts-liberation; md, html and docx still work without them"
)
_compiling = threading.Lock()  # one compiler a process, one document at a time


def render_pdf(document: PlanDocument, layout: Layout, plan_key: str) -> bytes:
    data = json.dumps(document_data(document, layout), ensure_ascii=False)
    compiler = _compiler()
    moment = dt.datetime.combine(document.created, dt.time(), dt.UTC)
    pdf = None
    for _ in range(3):
        try:
            pdf = _compile(compiler, data, moment)
            break
        except Exception as error:
            # PDF/UA refuses a character none of the fonts can show: it prints as U+FFFD
            # (from DejaVu Sans; "?" without it).
            missing = not_shown(error)
            if not missing:  # Typst failing on a page: say so, in one line, no plan text
                raise PlandocError(
                    f"PDF could not be made ({type(error).__name__}); md, html and docx still work"
                ) from None
            instead = "\ufffd" if fallback_files() else "?"
            for text in sorted(missing, key=len, reverse=True):
                data = data.replace(text, "" if invisible(text) else instead)
    if not isinstance(pdf, bytes):
        raise PlandocError(
            "PDF could not be made: the document holds characters no installed font can show; "
            "md, html and docx still work"
        )
    identifier = hashlib.sha256(f"{plan_key}|{layout.name}".encode()).digest()[:16]
    info = document.fingerprint.pdf_info() if document.fingerprint else {}
    return with_information(pdf, info, document.modified, identifier)


# Typst's PDF/UA-1 check of a character no font shows (the text quoted as Rust writes it:
# a character it cannot print as `\u{d7a4}`).
NOT_SHOWN = re.compile(
    r'the text `"((?:[^"\\`]|\\u\{[0-9a-f]{1,6}\}){1,16})"` could not be displayed'
)
_RUST_ESCAPE = re.compile(r"\\u\{([0-9a-f]{1,6})\}")


def invisible(text: str) -> bool:
    """Text of formatting characters only (a joiner, a direction mark, a tag character of
    a flag's sequence): printed as nothing when no font has it, not as U+FFFD."""
    return all(unicodedata.category(char) == "Cf" for char in text)


def not_shown(error: Exception) -> set[str]:
    """The texts Typst's error says no font can show (empty: another error)."""
    said = f"{getattr(error, 'message', '')}\n{getattr(error, 'diagnostic', '')}"
    return {
        _RUST_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
        for text in NOT_SHOWN.findall(said)
    }


def fallback_files() -> list[str]:
    """The DejaVu fonts' files (FALLBACK_FILES) that are installed, each from the first
    folder that holds it; none without DejaVu Sans itself."""
    found = []
    for name in FALLBACK_FILES:
        folder = next((f for f in FALLBACK_FOLDERS if (Path(f) / name).is_file()), None)
        if folder is not None:
            found.append(str(Path(folder) / name))
    return found if found and found[0].endswith(FALLBACK_FILES[0]) else []


def font_folder(files: list[str]) -> str:
    """A folder of this process's own holding copies of `files` and nothing else (Typst
    reads fonts by the folder), removed when the process ends."""
    folder = tempfile.mkdtemp(prefix="plandoc-fonts-")
    # Removed at exit by this process only (not by atexit: a pool's worker process ends
    # without running it; multiprocessing runs its finalizers in every process, each
    # only in the process that made it).
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, exitpriority=0
    )
    for path in files:
        shutil.copyfile(path, Path(folder) / Path(path).name)
    return folder


def _compile(compiler: Any, data: str, moment: dt.datetime) -> bytes:
    with _compiling:
        return compiler.compile(
            format="pdf", pdf_standards=["ua-1"], sys_inputs={"document": data}, timestamp=moment
        )


@functools.cache
def _compiler() -> Any:
    try:
        import typst
    except ImportError as error:
        raise PlandocError(f"{MISSING} ({type(error).__name__})") from None
    folder = font_folder(font_files() + fallback_files())
    fonts = typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=False, font_paths=[folder]
    )
    return typst.Compiler(PROGRAM, root=PROGRAM.parent, font_paths=fonts)


def font_files() -> list[str]:
    """The Liberation fonts' files, from the first folder that holds them all."""
    for folder in map(Path, FONT_FOLDERS):
        if all((folder / name).is_file() for name in FONT_FILES):
            return [str(folder / name) for name in FONT_FILES]
    sans, mono = Path(FONT_FOLDERS[2]), Path(FONT_FOLDERS[3])  # Fedora: a folder a family
    found = [sans / name if "Sans" in name else mono / name for name in FONT_FILES]
    if all(path.is_file() for path in found):
        return [str(path) for path in found]
    raise PlandocError(NO_FONTS)


def pool_context() -> BaseContext | None:
    """How a pool of worker processes starts from this process: forked (the default, None),
    unless this process has run Typst, whose threads do not survive a fork (a forked
    worker's Typst never answers): then from a fresh process ("forkserver")."""
    return multiprocessing.get_context("forkserver") if _compiler.cache_info().currsize else None


class NotTypstOutput(PlandocError):
    """The PDF is not laid out as Typst writes one (a classic cross-reference table)."""


# The file's end, as Typst writes it: the last `startxref` in the file is the real one (plan
# text comes before it), and nothing but the offset and `%%EOF` follows it.
_TAIL = re.compile(rb"startxref\r?\n(\d+)\r?\n%%EOF\r?\n?")
_INFO = re.compile(rb"/Info (\d+) 0 R")
_ROOT = re.compile(rb"/Root (\d+) 0 R")
_METADATA = re.compile(rb"/Metadata (\d+) 0 R")
_ID = re.compile(rb"/ID\s*\[\s*\(([A-Za-z0-9+/=]{24})\)\s*\(([A-Za-z0-9+/=]{24})\)\s*\]")
_ENTRY = re.compile(rb"(\d{10}) (\d{5}) ([nf])")
_MOD_DATE = re.compile(rb"/ModDate\(D:\d{14}Z\)")
_XMP_ID = re.compile(rb"(?<=<xmpMM:(?:Document|Instance)ID>)[A-Za-z0-9+/=]{24}(?=<)")
_XMP_MODIFY = re.compile(rb"<xmp:ModifyDate>\d{4}-\d\d-\d\dT00:00:00Z</xmp:ModifyDate>")


def with_information(
    pdf: bytes, info: dict[str, str], modified: dt.date, identifier: bytes
) -> bytes:
    """Typst's PDF with `info`'s keys added to its document information dictionary, its
    modification date `modified` (Typst dates both by the document's date) and its file
    identifier `identifier` (16 bytes), in place: the dictionary grows, every offset after
    it moves by as much. The bytes stay a pure function of the input.

    The PDF is read by its structure, not searched: the trailer at the file's end names the
    information dictionary and the catalog, the cross-reference table gives their offsets,
    and only they, the catalog's XMP metadata stream and the trailer are changed. Plan text
    stored elsewhere (bookmarks, chart descriptions) is never touched, whatever it holds."""
    at = pdf.rfind(b"startxref")
    tail = _TAIL.fullmatch(pdf, at) if at >= 0 else None
    xref = int(tail.group(1)) if tail else -1
    trailer_at = pdf.rfind(b"\ntrailer", xref, at) + 1 if 0 < xref < at else 0
    if tail is None or not pdf.startswith(b"xref", xref) or trailer_at <= 0:
        raise NotTypstOutput("PDF could not be made (an unexpected trailer)")
    trailer = pdf[trailer_at:]
    info_ref, root_ref = _INFO.search(trailer), _ROOT.search(trailer)
    offsets = _object_offsets(pdf[xref:trailer_at])
    if info_ref is None or root_ref is None or offsets is None:
        raise NotTypstOutput("PDF could not be made (an unexpected trailer)")
    ends = sorted({*offsets.values(), xref})
    catalog = _object(pdf, offsets, ends, int(root_ref.group(1)))
    metadata = _METADATA.search(pdf, *catalog) if catalog else None
    if metadata:  # the XMP: the same dates and identifier, in as many bytes
        xmp = _object(pdf, offsets, ends, int(metadata.group(1)))
        if xmp is None:
            raise NotTypstOutput("PDF could not be made (an unexpected metadata stream)")
        shown = base64.b64encode(identifier)
        stream = _XMP_ID.sub(shown, pdf[xmp[0] : xmp[1]])
        stream = _XMP_MODIFY.sub(
            f"<xmp:ModifyDate>{modified}T00:00:00Z</xmp:ModifyDate>".encode(), stream
        )
        if len(stream) != xmp[1] - xmp[0]:
            raise NotTypstOutput("PDF could not be made (an unexpected metadata stream)")
        pdf = pdf[: xmp[0]] + stream + pdf[xmp[1] :]
    span = _object(pdf, offsets, ends, int(info_ref.group(1)))
    end = pdf.rfind(b">>", *span) if span else -1
    if span is None or end < 0:
        raise NotTypstOutput("PDF could not be made (an unexpected information dictionary)")
    start = span[0]
    day = f"D:{modified:%Y%m%d}000000Z".encode()
    keys = b"".join(f"/{key}({_literal(value)})".encode() for key, value in sorted(info.items()))
    # Typst escapes the parentheses of its strings: `/ModDate(` is only ever the key.
    dictionary = _MOD_DATE.sub(b"/ModDate(" + day + b")", pdf[start:end], count=1) + keys
    delta = len(dictionary) - (end - start)

    def moved(entry: re.Match[bytes]) -> bytes:
        offset = int(entry.group(1))
        if entry.group(3) == b"n" and offset > start:
            offset += delta
        return b"%010d %s %s" % (offset, entry.group(2), entry.group(3))

    table = _ENTRY.sub(moved, pdf[xref:trailer_at])
    shown = base64.b64encode(identifier)
    trailer_text = _ID.sub(b"/ID[(" + shown + b")(" + shown + b")]", pdf[trailer_at:at])
    return (
        pdf[:start] + dictionary + pdf[end:xref] + table + trailer_text
        + b"startxref\n%d\n%%%%EOF" % (xref + delta)
    )  # fmt: skip


def _object_offsets(table: bytes) -> dict[int, int] | None:
    """A classic cross-reference table's objects in use: number -> offset (None: not one)."""
    words = table.split()
    found: dict[int, int] = {}
    at = 1
    try:
        while at < len(words):
            first, count = int(words[at]), int(words[at + 1])
            at += 2
            for number in range(first, first + count):
                if words[at + 2] == b"n":
                    found[number] = int(words[at])
                at += 3
    except (IndexError, ValueError):
        return None
    return found if words[:1] == [b"xref"] else None


def _object(
    pdf: bytes, offsets: dict[int, int], ends: list[int], number: int
) -> tuple[int, int] | None:
    """Where object `number` lies: from `N 0 obj` to its `endobj` (before the next object)."""
    import bisect

    start = offsets.get(number, -1)
    if start < 0 or not pdf.startswith(b"%d 0 obj" % number, start):
        return None
    following = bisect.bisect_right(ends, start)
    end = pdf.rfind(b"endobj", start, ends[following] if following < len(ends) else len(pdf))
    return (start, end) if end > start else None


def _literal(text: str) -> str:
    """A PDF literal string's content (the fingerprint's values are letters, digits, dots
    and dashes: see documents.fingerprint; anything else is escaped all the same)."""
    return re.sub(
        r"[()\\]", lambda m: "\\" + m.group(), text.encode("latin-1", "replace").decode("latin-1")
    )
