"""The print HTML -> PDF, with WeasyPrint (imported only when a PDF is asked for).

The PDF is the HTML page as printed: the layout's page size, its running
header (client, date of birth, member id, plan id and version) and "Page X of
Y" in the margins of every page, table header rows repeated, fonts embedded.
Deterministic: WeasyPrint takes no clock when the page carries its dates
(`dcterms.created` / `dcterms.modified`, from the plan), and the PDF's file
identifier is made from the plan id, version and layout, so the same plan
gives the same bytes. The title is the layout's title and the plan id, never
the client's name. Tagged for screen readers (WeasyPrint's PDF/UA-1 variant:
a structure tree of headings, lists and tables, the title shown, the
language from the page's `lang`, else the plan's). The document information
dictionary carries the document's fingerprint (`/PlandocPlanSHA256`...: see
documents.fingerprint).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from plandoc.documents.compose import PlanDocument
from plandoc.documents.html_writer import render_page
from plandoc.errors import PlandocError
from plandoc.layouts import Layout

MISSING = (
    "PDF needs WeasyPrint and the Pango library: pip install 'plandoc[pdf]' and, on "
    "Debian or Ubuntu, apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-liberation; "
    "md, html and docx still work without them"
)


# Whatever a layout's stylesheet says: the automatic table layout takes time growing with
# the square of a cell's text; the page's <colgroup> gives the columns instead.
BOUNDED_LAYOUT = "table { table-layout: fixed !important; }"


def render_pdf(document: PlanDocument, layout: Layout, plan_key: str) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as error:  # OSError: WeasyPrint is there, Pango is not
        raise PlandocError(f"{MISSING} ({type(error).__name__})") from None
    # WeasyPrint logs every CSS property it ignores; plan text must never reach a log.
    logging.getLogger("weasyprint").setLevel(logging.CRITICAL)
    logging.getLogger("fontTools").setLevel(logging.CRITICAL)
    identifier = hashlib.sha256(f"{plan_key}|{layout.name}".encode()).hexdigest()[:32]
    try:
        page = weasyprint.HTML(
            string=render_page(document, layout), url_fetcher=fetcher(weasyprint)
        )
        rendered = page.render(stylesheets=[weasyprint.CSS(string=BOUNDED_LAYOUT)])
        _metadata_from_the_plan(rendered.metadata, document)
        with _font_timestamps(document.modified):
            return rendered.write_pdf(
                pdf_identifier=identifier.encode("ascii"),
                pdf_variant="pdf/ua-1",
                custom_metadata=True,
            )
    except Exception as error:  # WeasyPrint failing on a page: say so, in one line
        raise PlandocError(
            f"PDF could not be made ({type(error).__name__}); md, html and docx still work"
        ) from None


@contextlib.contextmanager
def _font_timestamps(day: dt.date) -> Iterator[None]:
    """Embedded font subsets dated by the plan, not the clock.

    Without HarfBuzz's subsetter, WeasyPrint subsets fonts with fontTools, which
    stamps each subset's `head.modified` with the time of writing, or with
    SOURCE_DATE_EPOCH when set (the reproducible-builds convention): set it to
    the plan's date for the write (whatever the caller's environment holds, so
    the bytes never depend on it), and put back what was there.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.combine(day, dt.time(), dt.UTC)
    os.environ["SOURCE_DATE_EPOCH"] = str(int(moment.timestamp()))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


def fetcher(weasyprint: Any) -> Any:
    """WeasyPrint's fetcher for a page: nothing from the network or the file system.

    A plan's page is self-contained (inline CSS, charts as inline SVG); a URL in
    it could only come from a layout, and must not send a request (one that
    could carry what the page holds) or read a local file into a document.
    WeasyPrint skips what it cannot fetch and goes on.
    """
    return weasyprint.URLFetcher(allowed_protocols=frozenset())


def _metadata_from_the_plan(metadata: Any, document: PlanDocument) -> None:
    """Dates, author and title from the plan, whatever a layout's own page template says.

    The built-in page carries them as <meta> elements; a clinic's page template
    may not, and the PDF must still be dated by the plan, never the clock.
    """
    metadata.created = document.created.isoformat()
    metadata.modified = document.modified.isoformat()
    metadata.authors = metadata.authors or [document.author]
    metadata.title = metadata.title or document.title
    metadata.lang = metadata.lang or document.language
    # The document information dictionary holds the fingerprint and nothing else of the
    # page's <meta> elements (see documents.fingerprint).
    metadata.custom = document.fingerprint.pdf_info() if document.fingerprint else {}
