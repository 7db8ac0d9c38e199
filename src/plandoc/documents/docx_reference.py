"""The Word package a layout's documents are built on, prepared once per layout.

python-docx opens its default template and gives us Word's own styles,
theme, settings and a section with a header and footer; we tune the styles
(fonts, colours, a table style with a header row, the letterhead's), give the
first page a header of its own (the letterhead goes there) and the same footer
as the others, slim the package to the parts a plan uses, and keep every part
as bytes. Each plan then only needs its body, its headers and its properties
written (see `docx_writer`).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from functools import cache

import docx
from docx.enum.section import WD_ORIENT
from docx.shared import Pt, RGBColor, Twips
from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {"w": W}
HEADER_MARK = "PLANDOC-RUNNING-HEADER"
FIRST_HEADER_MARK = "PLANDOC-FIRST-PAGE-HEADER"  # the first page header's paragraphs go here
FOOTER_MARK = "PLANDOC-FOOTER-TEXT"
ACCENT = RGBColor(0x1F, 0x4E, 0x5F)

# Page sizes in twips (1/1440 inch), with one-inch margins.
PAGE = {"letter": (12240, 15840), "a4": (11906, 16838)}
MARGIN = 1440
HEADER_SHADE = "E8EEF2"
RULE_COLOR = "C9D1D8"

# The styles a plan document uses; the rest of the template's ~200 are dropped.
KEEP_STYLES = {
    "Normal", "DefaultParagraphFont", "TableNormal", "NoList", "Title", "Heading1",
    "Heading2", "Heading3", "Heading1Char", "Heading2Char", "Heading3Char", "TitleChar",
    "ListBullet", "ListBullet2", "ListBullet3", "ListNumber", "ListNumber2", "ListNumber3",
    "ListContinue", "ListContinue2", "ListContinue3", "Quote", "QuoteChar", "Header",
    "HeaderChar", "Footer", "FooterChar", "TableGrid", "TableText", "PlanTable",
    "LetterheadName", "Letterhead",
}  # fmt: skip
DROP_PARTS = re.compile(r"^(customXml/|docProps/thumbnail|word/stylesWithEffects)")

TABLE_STYLES = f"""\
<w:style xmlns:w="{W}" w:type="paragraph" w:customStyle="1" w:styleId="TableText">\
<w:name w:val="Table Text"/><w:basedOn w:val="Normal"/><w:qFormat/>\
<w:pPr><w:spacing w:before="20" w:after="20" w:line="240" w:lineRule="auto"/></w:pPr>\
<w:rPr><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>
<w:style xmlns:w="{W}" w:type="table" w:customStyle="1" w:styleId="PlanTable">\
<w:name w:val="Plan Table"/><w:basedOn w:val="TableNormal"/><w:uiPriority w:val="59"/>\
<w:pPr><w:spacing w:after="0"/></w:pPr>\
<w:tblPr><w:tblBorders>\
<w:top w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
<w:left w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
<w:bottom w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
<w:right w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
<w:insideH w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
<w:insideV w:val="single" w:sz="4" w:space="0" w:color="{RULE_COLOR}"/>\
</w:tblBorders><w:tblCellMar><w:top w:w="40" w:type="dxa"/><w:left w:w="90" w:type="dxa"/>\
<w:bottom w:w="40" w:type="dxa"/><w:right w:w="90" w:type="dxa"/></w:tblCellMar></w:tblPr>\
<w:tblStylePr w:type="firstRow"><w:rPr><w:b/><w:bCs/></w:rPr>\
<w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{HEADER_SHADE}"/></w:tcPr></w:tblStylePr>\
</w:style>"""

# The letterhead, in the first page's header: the practice's name, then its address,
# phones (and, in payer layouts, billing ids) in small type.
LETTERHEAD_STYLES = f"""\
<w:style xmlns:w="{W}" w:type="paragraph" w:customStyle="1" w:styleId="LetterheadName">\
<w:name w:val="Letterhead Name"/><w:basedOn w:val="Normal"/><w:qFormat/>\
<w:pPr><w:spacing w:before="0" w:after="40" w:line="240" w:lineRule="auto"/></w:pPr>\
<w:rPr><w:b/><w:bCs/><w:color w:val="1F4E5F"/><w:sz w:val="30"/><w:szCs w:val="30"/></w:rPr>\
</w:style>
<w:style xmlns:w="{W}" w:type="paragraph" w:customStyle="1" w:styleId="Letterhead">\
<w:name w:val="Letterhead"/><w:basedOn w:val="Normal"/><w:qFormat/>\
<w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>\
<w:rPr><w:color w:val="56606B"/><w:sz w:val="18"/><w:szCs w:val="18"/></w:rPr></w:style>"""

FOOTER_PARAGRAPH = """\
<w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="right"/></w:pPr>\
<w:r><w:t xml:space="preserve">PLANDOC-FOOTER-TEXT</w:t></w:r>\
<w:r><w:t xml:space="preserve">Page </w:t></w:r>\
<w:fldSimple w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>\
<w:r><w:t xml:space="preserve"> of </w:t></w:r>\
<w:fldSimple w:instr=" NUMPAGES "><w:r><w:t>1</w:t></w:r></w:fldSimple></w:p>"""


@dataclass(frozen=True)
class ReferencePackage:
    """Every part of the base package, plus the pieces a plan's parts are built from."""

    parts: dict[str, bytes]
    document_start: str  # the <w:document ...><w:body> opening of document.xml
    section: str  # the body's closing <w:sectPr>, with header and footer references
    header_xml: str  # every page's header, with HEADER_MARK where the running header goes
    header_part: str
    first_header_xml: str  # the first page's, with FIRST_HEADER_MARK where its paragraphs go
    first_header_part: str
    footer_xml: str  # every page's footer (the first's too), FOOTER_MARK before "Page X of Y"
    footer_part: str
    first_footer_part: str
    numbering_xml: str
    list_abstract: dict[str, str]  # ListNumber style id -> its abstractNumId
    text_width: int  # twips between the margins
    table_points: int = 9  # the Table Text style's size: a point under the body's


@cache
def reference_package(
    page_size: str, font_size: int = 10, large_print: bool = False
) -> ReferencePackage:
    document = docx.Document()
    _set_up_section(document, page_size)
    _set_up_styles(document, font_size, large_print)
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as package:
        parts = {
            name: package.read(name) for name in package.namelist() if not DROP_PARTS.match(name)
        }
    parts["[Content_Types].xml"] = _drop_references(parts["[Content_Types].xml"], "PartName")
    for rels in ("_rels/.rels", "word/_rels/document.xml.rels"):
        parts[rels] = _drop_references(parts[rels], "Target")
    parts["word/styles.xml"] = _slim_styles(parts["word/styles.xml"])
    body = parts["word/document.xml"].decode("utf-8")
    start = body[: body.index("<w:body>") + len("<w:body>")]
    section = body[body.index("<w:sectPr") : body.index("</w:body>")]
    rels = parts["word/_rels/document.xml.rels"].decode("utf-8")
    header_part = _section_part(section, rels, "header", "default")
    first_header_part = _section_part(section, rels, "header", "first")
    footer_part = _section_part(section, rels, "footer", "default")
    first_header = re.sub(
        rf"<w:p[ >](?:(?!</w:p>).)*{FIRST_HEADER_MARK}.*?</w:p>",
        FIRST_HEADER_MARK,
        parts[first_header_part].decode("utf-8"),
        flags=re.S,
    )
    numbering = parts["word/numbering.xml"].decode("utf-8")
    width = PAGE[page_size][0] - 2 * MARGIN
    return ReferencePackage(
        parts=parts,
        document_start=start,
        section=section,
        header_xml=parts[header_part].decode("utf-8"),
        header_part=header_part,
        first_header_xml=first_header,
        first_header_part=first_header_part,
        footer_xml=parts[footer_part].decode("utf-8"),
        footer_part=footer_part,
        first_footer_part=_section_part(section, rels, "footer", "first"),
        numbering_xml=numbering,
        list_abstract=_list_abstracts(parts["word/styles.xml"], numbering),
        text_width=width,
        table_points=font_size - 1,
    )


def _section_part(section: str, rels: str, kind: str, page: str) -> str:
    """The part of the section's `kind` ("header", "footer") for `page` ("default", "first")."""
    found = re.search(rf'<w:{kind}Reference w:type="{page}" r:id="([^"]+)"', section)
    assert found, f"the reference package has no {page} {kind}"
    target = re.search(rf'Id="{found.group(1)}"[^>]*Target="([^"]+)"', rels)
    assert target, f"the reference package's {page} {kind} has no part"
    return f"word/{target.group(1)}"


def _set_up_section(document: docx.document.Document, page_size: str) -> None:
    section = document.sections[0]
    width, height = PAGE[page_size]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Twips(width), Twips(height)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Twips(MARGIN))
    section.header_distance = section.footer_distance = Twips(560)
    header = section.header.paragraphs[0]
    header.text = HEADER_MARK
    header.style = document.styles["Header"]
    # The first page has a header of its own (the letterhead's place) and the same footer.
    section.different_first_page_header_footer = True
    first_header = section.first_page_header
    first_header.is_linked_to_previous = False
    first_header.paragraphs[0].text = FIRST_HEADER_MARK
    for footer in (section.footer, section.first_page_footer):
        footer.is_linked_to_previous = False
        footer_element = footer._element
        for paragraph in list(footer_element):
            footer_element.remove(paragraph)
        paragraph = etree.fromstring(f'<w:root xmlns:w="{W}">{FOOTER_PARAGRAPH}</w:root>')[0]
        footer_element.append(paragraph)


def _set_up_styles(
    document: docx.document.Document, font_size: int, large_print: bool = False
) -> None:
    styles = document.styles
    scale = font_size / 10
    normal = styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(font_size)
    # Large print: lines and paragraphs (a list's items too) further apart.
    normal.paragraph_format.space_after = Pt(10 if large_print else 5)
    normal.paragraph_format.line_spacing = 1.4 if large_print else 1.1
    fonts = normal.element.rPr.rFonts
    for attribute in ("w:eastAsia", "w:cs"):
        fonts.set(f"{{{W}}}{attribute.split(':')[1]}", "Arial")
    for style_id, size, before, after in (
        ("Title", 20, 0, 8),
        ("Heading 1", 14, 16, 6),
        ("Heading 2", 11.5, 10, 4),
        ("Heading 3", 10.5, 8, 3),
    ):
        style = styles[style_id]
        style.font.name = "Arial"
        style.font.size = Pt(round(size * scale, 1))
        style.font.color.rgb = ACCENT if style_id != "Heading 2" else RGBColor(0x1D, 0x23, 0x29)
        style.font.bold = True
        style.font.italic = False
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
        style.paragraph_format.keep_with_next = True
    title = styles["Title"].element
    for border in title.xpath("./w:pPr/w:pBdr"):
        border.getparent().remove(border)
    quote = styles["Quote"]
    quote.font.italic = True
    quote.font.color.rgb = RGBColor(0x1D, 0x23, 0x29)
    quote.paragraph_format.left_indent = Twips(360)
    for style_id in ("Header", "Footer"):
        styles[style_id].font.size = Pt(8)
        styles[style_id].font.color.rgb = RGBColor(0x56, 0x60, 0x6B)
    root = styles.element
    table_size = str(2 * (font_size - 1))  # half-points
    for xml in TABLE_STYLES.split("\n"):
        root.append(etree.fromstring(xml.replace('w:val="18"', f'w:val="{table_size}"')))
    for xml in LETTERHEAD_STYLES.split("\n"):
        root.append(etree.fromstring(xml))


THEME_FONTS = ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme")


def _slim_styles(xml: bytes) -> bytes:
    """Only the styles plandoc uses; and every font named, never the theme's: Word takes a
    theme font (Calibri, Calibri Light) before a named one, so the default template's
    headings would not be in Arial like the text."""
    root = etree.fromstring(xml)
    for style in root.findall(f"{{{W}}}style"):
        if style.get(f"{{{W}}}styleId") not in KEEP_STYLES:
            root.remove(style)
    for fonts in root.iter(f"{{{W}}}rFonts"):
        themed = [name for name in THEME_FONTS if fonts.get(f"{{{W}}}{name}") is not None]
        for name in themed:
            del fonts.attrib[f"{{{W}}}{name}"]
        if themed:
            for name in ("ascii", "hAnsi", "eastAsia", "cs"):
                fonts.set(f"{{{W}}}{name}", fonts.get(f"{{{W}}}{name}") or "Arial")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _drop_references(xml: bytes, attribute: str) -> bytes:
    root = etree.fromstring(xml)
    for element in list(root):
        target = (element.get(attribute) or "").lstrip("/")
        if (
            (target and DROP_PARTS.match(target if "/" in target else f"word/{target}"))
            or target.startswith("../customXml")
            or "stylesWithEffects" in target
        ):
            root.remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _list_abstracts(styles_xml: bytes, numbering_xml: str) -> dict[str, str]:
    """For each numbered-list style, the abstract numbering its lists restart from."""
    styles = etree.fromstring(styles_xml)
    numbering = etree.fromstring(numbering_xml.encode("utf-8"))
    found = {}
    for style_id in ("ListNumber", "ListNumber2", "ListNumber3"):
        num_id = styles.xpath(f'w:style[@w:styleId="{style_id}"]//w:numId/@w:val', namespaces=NS)
        if num_id:
            abstract = numbering.xpath(
                f'w:num[@w:numId="{num_id[0]}"]/w:abstractNumId/@w:val', namespaces=NS
            )
            if abstract:
                found[style_id] = abstract[0]
    return found
