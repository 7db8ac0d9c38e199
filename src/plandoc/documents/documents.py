"""A checked plan -> the bytes of each document: Markdown, HTML, DOCX, PDF.

The layout's template is composed into Markdown once (compose), and each
writer turns that Markdown into its format; a chart is drawn once for the
Markdown and the DOCX that both carry it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import pyromark

from plandoc.builds.output_files import document_name
from plandoc.documents import charts, docx_writer, html_writer, markdown_events, pdf_writer
from plandoc.documents.compose import PlanDocument, compose
from plandoc.errors import PlandocError, UsageError
from plandoc.layouts import Layout
from plandoc.model.instruments import Registry, load_registry
from plandoc.model.plan import Plan
from plandoc.model.service_codes import ServiceCodes, load_codes
from plandoc.problems import Problem, internal_error

if TYPE_CHECKING:
    from plandoc.checks.file import CheckedPlan
    from plandoc.settings import Settings


def render_documents(
    plan: Plan,
    layout: Layout,
    formats: Iterable[str],
    instruments: Registry | None = None,
    page_size: str | None = None,
    service_codes: ServiceCodes | None = None,
    large_print: bool = False,
) -> dict[str, bytes]:
    """The bytes of each file to write, by the end of its name after the layout's.

    One entry per format ("md", "html", "docx"), plus, with Markdown, each
    chart as an image beside it ("goal-1.png"), since Markdown cannot hold
    one. The Markdown is composed once for all formats. `page_size` ("letter",
    "a4") overrides the layout's; `service_codes` (default: the built-in ones)
    say which services are evaluations and what a place of service is called;
    `large_print` makes the documents in large print (see `Layout.in_large_print`).
    """
    formats = tuple(formats)
    if page_size is not None and page_size != layout.page_size:
        layout = dataclasses.replace(layout, page_size=page_size)
    if large_print:
        layout = layout.in_large_print()
    unsupported = [fmt for fmt in formats if not layout.makes(fmt)]
    if unsupported:
        raise UsageError(
            f"layout '{layout.name}' does not support format {', '.join(unsupported)} "
            f"(it makes {', '.join(layout.formats)}"
            + (", and pdf when asked)" if "html" in layout.formats else ")")
        )
    document = compose(plan, layout, instruments, service_codes)
    # Each chart's picture, drawn once for the Markdown and the DOCX that both carry it.
    pictures = (
        {
            name: charts.png(progress, layout.font_size, layout.date_format, document.chart_words)
            for name, progress in document.charts
        }
        if {"md", "docx"} & set(formats)
        else {}
    )
    rendered: dict[str, bytes] = {}
    for fmt in formats:
        if fmt == "md":
            prefix = document_name(plan.plan.id, plan.plan.version, layout.name, "")
            rendered[fmt] = markdown_file(document, prefix).encode("utf-8")
            rendered.update((f"{name}.png", picture) for name, picture in pictures.items())
        elif fmt == "html":
            rendered[fmt] = html_writer.render_page(document, layout).encode("utf-8")
        elif fmt == "docx":
            rendered[fmt] = docx_writer.render_docx(document, layout, pictures)
        elif fmt == "pdf":
            key = f"{plan.plan.id}|{plan.plan.version}"
            rendered[fmt] = pdf_writer.render_pdf(document, layout, key)
    return rendered


def markdown_file(document: PlanDocument, prefix: str) -> str:
    """The Markdown as written to disk: each chart names its image file beside it.

    The charts are the images of the parsed document whose target is
    `chart:NAME` (only a layout's template can write an image: plan text never
    makes one, see markdown_text); text that merely looks like a chart's target
    is left as it is. The last line is the document's fingerprint (see
    documents.fingerprint).
    """
    markdown = document.markdown
    names = {f"chart:{name}" for name, _ in document.charts}
    source = markdown.encode("utf-8")  # the parser's spans count bytes
    pieces, done = [], 0
    for event, span in pyromark.events_with_range(markdown, options=markdown_events.OPTIONS):
        # (most events are text or an end: tested by class first, the cheapest test)
        start = event.get("Start") if event.__class__ is dict else None
        image = start.get("Image") if start.__class__ is dict else None
        target = image["dest_url"] if image.__class__ is dict else None
        if target not in names:
            continue
        at = source.rfind(target.encode("utf-8"), span["start"], span["end"])
        pieces += [source[done:at], f"{prefix}{target.removeprefix('chart:')}.png".encode()]
        done = at + len(target)
    text = b"".join([*pieces, source[done:]]).decode("utf-8")
    if document.fingerprint is None:
        return text
    # Last, a line no Markdown reader shows (a link reference definition): the fingerprint.
    return text.rstrip("\n") + "\n\n" + document.fingerprint.markdown_line() + "\n"


def signed(pdf: bytes, settings: Settings) -> bytes:
    """The PDF signed with the settings' certificate (see documents.signing)."""
    from plandoc.documents import signing

    assert settings.signing is not None
    certificate = signing.load_certificate(settings.signing)
    try:
        return signing.sign_pdf(pdf, certificate)
    except PlandocError:
        raise
    except Exception as error:  # pyHanko failing on a PDF: one line
        raise PlandocError(f"the PDF could not be signed ({type(error).__name__})") from None


def render_checked(
    checked: CheckedPlan, settings: Settings, formats: Iterable[str] | None = None
) -> Iterator[tuple[Layout, dict[str, bytes] | Problem]]:
    """Each layout a checked plan passes, with its documents (see `render_documents`).

    The formats are `formats`, else the settings', else each layout's own. A
    plan that fails a layout (errors; warnings too with `settings.strict`) is
    not rendered in it. With the settings' `[signing]`, each PDF is signed.
    What stops one layout (a format it does not make, a bug of plandoc's, a
    certificate that cannot sign) comes back as a problem of the plan instead
    of documents; the other layouts still render.
    """
    if checked.plan is None:
        return
    registry = load_registry(settings.instruments)
    codes = load_codes(settings.service_codes)
    chosen = tuple(formats) if formats else settings.formats
    for layout in checked.layouts:
        if checked.layout_failed(layout, settings.strict):
            continue
        try:
            documents = render_documents(
                checked.plan,
                layout,
                chosen or layout.formats,
                registry,
                settings.page_size,
                codes,
                large_print=settings.large_print,
            )
            if "pdf" in documents and settings.signing is not None:
                documents["pdf"] = signed(documents["pdf"], settings)
        except PlandocError as error:  # a format the layout does not make, no Typst
            yield layout, Problem(checked.name, None, (), error.message)
        except Exception as error:  # a bug of ours: say so without a traceback or values
            yield layout, internal_error(checked.name, "rendering", error)
        else:
            yield layout, documents
