"""`plandoc verify`: is a document exactly what its plan and layout make?

The document's fingerprint (documents.fingerprint) names its plan (id and
version), layout, page size and plandoc version, with the hashes of the plan's
content and of the layout's files. The plan is found by id and version in the
settings' input folder (or named), checked (rules bounded by today are not:
a document made then stays what it was), and rendered again in the same
layout, page size and format. The verdict:

- `identical` (exit 0): the same bytes (for a signed PDF: the signed PDF's
  first revision is the PDF made again, and the signature is intact and covers
  the whole file);
- `altered` (exit 1): the fingerprint matches the plan, layout and plandoc
  version, but the bytes differ: which parts (DOCX), pages (PDF, by their
  text) or first line (HTML, Markdown);
- `different` (exit 1): the plan's content, its version, the layout's files
  or plandoc's version differ from what the document was made from.

What cannot be verified at all (not a plandoc document, no plan found, a file
that cannot be read) is a `VerifyError`: one line, exit 2. Messages hold
hashes, ids, file names and numbers, never plan text.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from plandoc.documents.fingerprint import (
    SHORT,
    Fingerprint,
    from_html,
    from_markdown,
    from_pdf_info,
)
from plandoc.errors import PlandocError

if TYPE_CHECKING:
    from plandoc.documents.signing import SignatureCheck
    from plandoc.settings import Settings

MAX_DOCUMENT_BYTES = 256 << 20
MAX_PART_BYTES = 64 << 20  # of one part of a DOCX package, unpacked
FORMATS = {".md": "md", ".html": "html", ".htm": "html", ".docx": "docx", ".pdf": "pdf"}


class VerifyError(PlandocError):
    """What stops a verification (exit status 2): no fingerprint, no plan, unreadable."""


@dataclass
class Verdict:
    verdict: str  # "identical", "altered" or "different"
    summary: str  # one line
    details: list[str] = field(default_factory=list)
    plan_file: Path | None = None
    signature: SignatureCheck | None = None

    @property
    def exit_code(self) -> int:
        return 0 if self.verdict == "identical" else 1


def read_document(path: Path) -> tuple[bytes, str]:
    """The document's bytes and format ("md", "html", "docx", "pdf")."""
    from plandoc.planfile.source import NotAFile, read_regular_file

    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise VerifyError(
            f"{path}: not a plandoc document (plandoc verifies .md, .html, .docx and .pdf files)"
        )
    try:
        data = read_regular_file(path, MAX_DOCUMENT_BYTES)
    except FileNotFoundError:
        raise VerifyError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise VerifyError(f"{path}: is a folder, not a document") from None
    except NotAFile:
        raise VerifyError(f"{path}: is not a file (a FIFO or a device)") from None
    except OSError as error:
        raise VerifyError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > MAX_DOCUMENT_BYTES:
        raise VerifyError(f"{path}: larger than any plandoc document (256 MiB)")
    return data, fmt


def fingerprint_of(path: Path, data: bytes, fmt: str) -> Fingerprint:
    """The fingerprint the document carries; a document without one is a VerifyError."""
    found: Fingerprint | None = None
    if fmt in ("md", "html"):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        found = from_markdown(text) if fmt == "md" else from_html(text)
    elif fmt == "docx":
        found = _docx_fingerprint(data)
    else:
        found = _pdf_fingerprint(path, data)
    if found is None:
        raise VerifyError(f"{path}: not a plandoc document (it carries no plandoc fingerprint)")
    return found


def _docx_fingerprint(data: bytes) -> Fingerprint | None:
    import re

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            info = package.getinfo("docProps/custom.xml")
            if info.file_size > 1 << 20:
                return None
            xml = package.read(info).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError, UnicodeDecodeError, RuntimeError, ValueError):
        return None
    except Exception:  # zlib errors of a damaged package
        return None
    pairs = re.findall(r'name="plandoc-([a-z0-9-]+)"><vt:lpwstr>([^<]*)</vt:lpwstr>', xml)
    return Fingerprint.from_items(
        {("plandoc-version" if key == "version" else key): value for key, value in pairs}
    )


def _pdf_reader(data: bytes) -> object:
    try:
        import pypdf
    except ImportError:
        raise VerifyError(
            "verifying a PDF needs pypdf and typst: pip install 'plandoc[pdf]'"
        ) from None
    import logging

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    return pypdf.PdfReader(io.BytesIO(data), strict=False)


def _pdf_fingerprint(path: Path, data: bytes) -> Fingerprint | None:
    if not data.startswith(b"%PDF-"):
        return None
    try:
        reader = _pdf_reader(data)
        info = reader.metadata or {}  # type: ignore[attr-defined]
        pairs = {str(key).lstrip("/"): str(value) for key, value in info.items()}
    except VerifyError:
        raise
    except Exception:  # a damaged PDF
        return None
    return from_pdf_info(pairs)


def find_plan(fingerprint: Fingerprint, settings: Settings) -> Path:
    """The file in the settings' input folder holding the document's plan id and version."""
    from plandoc.planfile.find import plan_file_names
    from plandoc.planfile.read import read_plan

    folder = settings.input
    wanted = f"plan {fingerprint.plan_id} v{fingerprint.plan_version}"
    if not folder.is_dir():
        raise VerifyError(
            f"{wanted} not found: no input folder {folder} (name the plan with --plan)"
        )
    try:
        names = list(plan_file_names([folder]))
    except PlandocError:
        names = []
    found, versions = [], []
    for name in names:
        data = read_plan(Path(name)).data
        about = data.get("plan") if isinstance(data, dict) else None
        if not isinstance(about, dict) or about.get("id") != fingerprint.plan_id:
            continue
        version = about.get("version")
        if version == fingerprint.plan_version and not isinstance(version, bool):
            found.append(Path(name))
        else:
            versions.append(str(version))
    if len(found) > 1:
        raise VerifyError(
            f"{wanted} is in {len(found)} files ({', '.join(map(str, found))}): "
            "name one with --plan"
        )
    if not found:
        other = f" (found v{', v'.join(sorted(versions))}: name one with --plan to compare)"
        raise VerifyError(f"{wanted} not found in {folder}" + (other if versions else ""))
    return found[0]


def verify(path: Path, settings: Settings, plan_path: Path | None = None) -> Verdict:
    """Verify the document at `path` against its plan (found, or `plan_path`)."""
    from plandoc.checks.file import check_file
    from plandoc.documents.documents import render_documents
    from plandoc.model.instruments import load_registry
    from plandoc.model.service_codes import load_codes

    data, fmt = read_document(path)
    recorded = fingerprint_of(path, data, fmt)
    source = plan_path or find_plan(recorded, settings)
    registry = load_registry(settings.instruments)
    codes = load_codes(settings.service_codes)
    if plan_path is not None and not plan_path.is_file():
        raise VerifyError(f"{plan_path}: no such plan file")
    try:
        checked = check_file(
            source,
            [recorded.layout],
            settings.layout_folders,
            None,
            registry,
            practice=settings.practice,
            service_codes=codes,
        )
    except PlandocError as error:  # the layout is not found
        raise VerifyError(f"the document's layout: {error.message}") from None
    if checked.plan is None:
        raise VerifyError(
            f"{source}: the plan cannot be read ({len(checked.all_problems)} problems; "
            f"plandoc validate {source} lists them)"
        )
    plan, layout = checked.plan, checked.layouts[0]
    if recorded.large_print:  # made in large print: render it so again
        layout = layout.in_large_print()
    differences = _differences(recorded, plan, layout)
    name = path.name
    if differences:
        return Verdict(
            "different",
            f"different: {name} was not made from {source} as it is now, "
            f"in layout {layout.name} with plandoc {Fingerprint.of(plan, layout).plandoc_version}",
            differences,
            source,
        )
    documents = render_documents(
        plan, layout, [fmt], registry, recorded.page_size, codes, large_print=recorded.large_print
    )
    fresh = documents[fmt]
    made = (
        f"plan {recorded.plan_id} v{recorded.plan_version} ({source}) makes in layout "
        f"{layout.name} with plandoc {recorded.plandoc_version}"
    )
    signature = None
    if fmt == "pdf" and _is_signed(data):
        signature = _signature(path, data)
        same = data[: len(fresh)] == fresh
        if same and signature.good:
            return Verdict(
                "identical",
                f"identical: {name} is what {made}, signed",
                [_signature_line(signature)],
                source,
                signature,
            )
        details = [_signature_line(signature)]
        if not same:
            details += _where_different(fmt, data[: len(fresh)], fresh)
        return Verdict("altered", f"altered: {name} is not what {made}", details, source, signature)
    if data == fresh:
        return Verdict("identical", f"identical: {name} is what {made}", [], source)
    return Verdict(
        "altered",
        f"altered: {name} carries the fingerprint of what {made}, but its bytes differ",
        _where_different(fmt, data, fresh),
        source,
    )


def _differences(recorded: Fingerprint, plan: object, layout: object) -> list[str]:
    current = Fingerprint.of(plan, layout)  # type: ignore[arg-type]
    found = []
    if recorded.plan_id != current.plan_id:
        found.append(f"a different plan: the document is of plan {recorded.plan_id}, "
                     f"the plan file holds plan {current.plan_id}")  # fmt: skip
    elif recorded.plan_version != current.plan_version:
        found.append(
            f"a different plan version: the document is of v{recorded.plan_version}, "
            f"the plan file is v{current.plan_version}"
        )
    elif recorded.plan_sha256 != current.plan_sha256:
        found.append(
            f"the plan's content differs from what the document was made from (plan "
            f"{recorded.plan_sha256[:SHORT]} in the document, {current.plan_sha256[:SHORT]} "
            "now): the plan file was edited since, or the settings' [practice] changed"
        )
    if recorded.layout_sha256 != current.layout_sha256:
        found.append(
            f"layout {recorded.layout} differs from the one the document was made with (layout "
            f"{recorded.layout_sha256[:SHORT]} in the document, "
            f"{current.layout_sha256[:SHORT]} now)"
        )
    if recorded.plandoc_version != current.plandoc_version:
        found.append(
            f"made by plandoc {recorded.plandoc_version}; this is plandoc "
            f"{current.plandoc_version} (its documents may differ)"
        )
    return found


def _where_different(fmt: str, data: bytes, fresh: bytes) -> list[str]:
    if fmt in ("md", "html"):
        return [_first_line(data, fresh)]
    if fmt == "docx":
        return _docx_parts(data, fresh)
    return _pdf_pages(data, fresh)


def _first_line(data: bytes, fresh: bytes) -> str:
    ours, theirs = data.split(b"\n"), fresh.split(b"\n")
    for number, (one, other) in enumerate(zip(ours, theirs, strict=False), 1):
        if one != other:
            return f"first difference: line {number}"
    shorter = min(len(ours), len(theirs))
    if len(ours) != len(theirs):
        which = "the document has more lines" if len(ours) > len(theirs) else "lines are missing"
        return f"first difference: line {shorter + 1} ({which})"
    return "first difference: line endings or characters within a line"


def _docx_parts(data: bytes, fresh: bytes) -> list[str]:
    def parts(package_bytes: bytes) -> dict[str, bytes]:
        with zipfile.ZipFile(io.BytesIO(package_bytes)) as package:
            return {
                info.filename: package.read(info)
                for info in package.infolist()
                if info.file_size <= MAX_PART_BYTES
            }

    try:
        ours = parts(data)
    except Exception:  # a damaged package: zip and zlib errors
        return ["the file is not a readable DOCX package any more"]
    theirs = parts(fresh)
    changed = sorted(name for name in ours.keys() & theirs.keys() if ours[name] != theirs[name])
    added = sorted(ours.keys() - theirs.keys())
    missing = sorted(theirs.keys() - ours.keys())
    lines = [f"parts changed: {', '.join(changed)}"] if changed else []
    lines += [f"parts added: {', '.join(added)}"] if added else []
    lines += [f"parts missing: {', '.join(missing)}"] if missing else []
    return lines or ["every part is the same; the zip container around them differs"]


def _pdf_pages(data: bytes, fresh: bytes) -> list[str]:
    try:
        ours = _page_texts(data)
    except Exception:  # a damaged PDF
        return ["the file is not a readable PDF any more"]
    theirs = _page_texts(fresh)
    lines = []
    if len(ours) != len(theirs):
        lines.append(f"{len(ours)} pages; the plan makes {len(theirs)}")
    pages = [str(n) for n, (a, b) in enumerate(zip(ours, theirs, strict=False), 1) if a != b]
    if pages:
        lines.append(f"text differs on pages {', '.join(pages)}")
    if not lines:
        lines.append(
            "the text of every page is the same; other objects differ (pictures, fonts, "
            "metadata or the file's structure)"
        )
    return lines


def _page_texts(data: bytes) -> list[str]:
    reader = _pdf_reader(data)
    return [page.extract_text() or "" for page in reader.pages]  # type: ignore[attr-defined]


def _is_signed(data: bytes) -> bool:
    from plandoc.documents.signing import is_signed

    return is_signed(data)


def _signature(path: Path, data: bytes) -> SignatureCheck:
    from plandoc.documents.signing import check_signature

    try:
        check = check_signature(data)
    except PlandocError as error:
        raise VerifyError(f"{path}: the PDF is signed; {error.message}") from None
    except Exception as error:  # pyHanko failing on a damaged file
        from plandoc.documents.signing import SignatureCheck

        return SignatureCheck(False, False, f"unknown ({type(error).__name__})", "")
    if check is None:
        from plandoc.documents.signing import SignatureCheck

        return SignatureCheck(False, False, "unknown (no readable signature)", "")
    return check


def _signature_line(check: SignatureCheck) -> str:
    if check.good:
        return (
            f"signature intact, over the whole file: signed by {check.signer} "
            f"at {check.signed_at} (the certificate is not checked against trusted authorities)"
        )
    if not check.intact:
        return f"signature broken: the signed bytes were changed (signer: {check.signer})"
    return (
        f"the signature is intact, but the file was changed after signing (signer: {check.signer})"
    )
