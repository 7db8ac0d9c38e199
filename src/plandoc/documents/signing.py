"""Digitally signed PDFs (PAdES baseline B-B, with pyHanko: the optional extra `plandoc[sign]`).

With `[signing] certificate = "clinic.p12"` in plandoc.toml, every PDF plandoc
makes is signed with that PKCS#12 file's key. Its password comes from the
environment variable the settings name (`password_env`, default
`PLANDOC_P12_PASSWORD`), else from a prompt on a terminal; never from a flag
or the settings file. pyHanko is imported only to sign or to check a signature.

The signature is an incremental update: the PDF as plandoc made it stays, byte
for byte, the file's first part (its first revision), and the signature covers
all of it. A signature holds the time of signing, so a signed PDF is not the
same bytes twice; `plandoc verify` compares the first revision with the PDF
made again, and checks the signature over the whole file.

Only B-B: a signature with a trusted time (B-T) needs a time-stamping server,
which plandoc does not reach.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plandoc.errors import PlandocError

if TYPE_CHECKING:
    from plandoc.settings import SigningSettings

MISSING = "signing PDFs needs pyHanko: pip install 'plandoc[sign]'"
MAX_CERTIFICATE_BYTES = 1 << 20
FIELD_NAME = "PlandocSignature"


def _quiet() -> None:
    """pyHanko logs a validation's doubts (a self-signed certificate) with tracebacks and
    the certificate's subject as it is: plandoc reports the verdict in its own words."""
    import logging

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def _pyhanko() -> Any:
    _quiet()
    try:
        from pyhanko.sign import signers
    except ImportError:
        raise PlandocError(MISSING) from None
    return signers


def password(signing: SigningSettings, environ: dict[str, str] | None = None) -> bytes:
    """The certificate's password: the environment variable, else a prompt on a terminal.

    A password typed at the prompt is put in this process's environment under
    the variable's name, for the rest of the run only: `build`'s workers get it
    from there. It is never written anywhere.
    """
    env = os.environ if environ is None else environ
    value = env.get(signing.password_env)
    if value is not None:
        return value.encode("utf-8", "surrogateescape")  # the bytes as the environment holds them
    if sys.stdin is not None and sys.stdin.isatty():
        import click

        typed = click.prompt(
            f"Password of the signing certificate {signing.certificate.name}",
            hide_input=True,
            default="",
            show_default=False,
        )
        os.environ[signing.password_env] = typed
        return str(typed).encode("utf-8")
    raise PlandocError(
        f"the signing certificate's password: set ${signing.password_env} "
        "(plandoc.toml [signing] password_env names the variable), or run on a terminal"
    )


@dataclass(frozen=True)
class Certificate:
    """A loaded PKCS#12 file: the signer pyHanko signs with, and who it names."""

    signer: Any
    subject: str
    not_after: dt.datetime


_LOADED: dict[tuple[str, str, bytes], Certificate] = {}


def load_certificate(signing: SigningSettings, now: dt.datetime | None = None) -> Certificate:
    """The settings' certificate, its password from `password` (once per process).

    Every reason it cannot sign is one line: no pyHanko, no such file, a wrong
    password, no private key in it, a certificate expired or not yet valid.
    """
    import hashlib

    _pyhanko()
    data = _read(signing.certificate)
    secret = password(signing)
    key = (hashlib.sha256(data).hexdigest(), secret)
    if key not in _LOADED:
        _LOADED[key] = _load(signing.certificate, data, secret, now)
    certificate = _LOADED[key]
    _check_dates(signing.certificate, certificate.signer.signing_cert, now)
    return certificate


def _read(path: Path) -> bytes:
    from plandoc.planfile.source import NotAFile, read_regular_file

    where = f"signing certificate {path}"
    try:
        data = read_regular_file(path, MAX_CERTIFICATE_BYTES)
    except FileNotFoundError:
        raise PlandocError(f"{where}: no such file ([signing] certificate)") from None
    except (OSError, NotAFile) as error:
        raise PlandocError(
            f"{where}: cannot read: {getattr(error, 'strerror', '') or error}"
        ) from None
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise PlandocError(f"{where}: larger than a PKCS#12 file can be (1 MiB)")
    return data


def _load(path: Path, data: bytes, secret: bytes, now: dt.datetime | None) -> Certificate:
    signers = _pyhanko()
    from asn1crypto import keys, x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    where = f"signing certificate {path}"
    try:
        private, certificate, others = pkcs12.load_key_and_certificates(data, secret or None)
    except ValueError:
        raise PlandocError(f"{where}: wrong password, or not a PKCS#12 (.p12, .pfx) file") from None
    if private is None or certificate is None:
        raise PlandocError(f"{where}: holds no private key and certificate to sign with")
    signer = signers.SimpleSigner(
        signing_cert=x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        signing_key=keys.PrivateKeyInfo.load(
            private.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in others]
        ),
    )
    _check_dates(path, signer.signing_cert, now)
    return Certificate(
        signer,
        signer.signing_cert.subject.human_friendly,
        certificate.not_valid_after_utc,
    )


def _check_dates(path: Path, certificate: Any, now: dt.datetime | None) -> None:
    moment = now or dt.datetime.now(dt.UTC)
    validity = certificate["tbs_certificate"]["validity"]
    start, end = validity["not_before"].native, validity["not_after"].native
    if moment < start:
        raise PlandocError(
            f"signing certificate {path}: not valid before {start:%Y-%m-%d %H:%M} UTC"
        )
    if moment > end:
        raise PlandocError(f"signing certificate {path}: expired on {end:%Y-%m-%d %H:%M} UTC")


def sign_pdf(pdf: bytes, certificate: Certificate) -> bytes:
    """The PDF with a PAdES B-B signature over all of it, as an incremental update."""
    signers = _pyhanko()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import SigSeedSubFilter

    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = signers.sign_pdf(writer, metadata, signer=certificate.signer)
    return output.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    """What `plandoc verify` says of a signed PDF's signature."""

    intact: bool  # the signed bytes are those the signature was made over
    covers_all: bool  # nothing was added to the file after it was signed
    signer: str  # the certificate's subject
    signed_at: str  # the time the signer's machine gave, as the signature says
    # What the updates after plandoc's PDF changed besides adding the signature (pages,
    # objects: numbers and PDF names, never their text); empty: only the signature.
    other_changes: tuple[str, ...] = ()

    @property
    def good(self) -> bool:
        return self.intact and self.covers_all and not self.other_changes


def is_signed(pdf: bytes) -> bool:
    """Whether a PDF's form holds a signature field with a signature (its /V): read from the
    PDF's structure (with pypdf), so words in the plan's text never make a PDF "signed"."""
    import logging

    import pypdf

    logging.getLogger("pypdf").setLevel(logging.CRITICAL)
    try:
        reader = pypdf.PdfReader(io.BytesIO(pdf), strict=False)
        form = reader.trailer["/Root"].get_object().get("/AcroForm")
        fields = form.get_object().get("/Fields", []) if form is not None else []
        return any(_holds_signature(field.get_object(), 0) for field in fields.get_object())
    except Exception:  # a damaged PDF, or one without a form: no signature to check
        return False


def _holds_signature(field: Any, depth: int) -> bool:
    if not hasattr(field, "get") or depth > 8:
        return False
    if field.get("/FT") == "/Sig" and field.get("/V") is not None:
        return True
    return any(_holds_signature(kid.get_object(), depth + 1) for kid in field.get("/Kids", []))


def check_signature(pdf: bytes) -> SignatureCheck | None:
    """The first signature of a PDF checked: its integrity, who signed, and that the file is
    its first revision (plandoc's PDF) and one update adding only the signature. None: unsigned.

    The certificate is not checked against a list of trusted authorities:
    plandoc reports whose certificate it is; whether to trust it is the reader's.
    """
    _pyhanko()
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    signatures = reader.embedded_signatures
    if not signatures:
        return None
    signature = signatures[0]
    status = validate_pdf_signature(
        signature, ValidationContext(trust_roots=[], allow_fetching=False), skip_diff=True
    )
    when = status.signer_reported_dt
    return SignatureCheck(
        intact=bool(status.intact and status.valid),
        covers_all=status.coverage == SignatureCoverageLevel.ENTIRE_FILE and len(signatures) == 1,
        signer=status.signing_cert.subject.human_friendly,
        signed_at=when.strftime("%Y-%m-%d %H:%M %Z").strip() if when else "unknown time",
        other_changes=tuple(changes_besides_signature(reader)),
    )


# What signing may change in an object of plandoc's PDF (pyHanko: the catalog gains the form,
# the information dictionary its dates, the page its signature widget; the XMP metadata
# stream is written again with the new date and producer).
_CATALOG_KEYS = {"/AcroForm", "/Extensions", "/Version"}
_INFO_KEYS = {"/ModDate", "/Producer"}


def changes_besides_signature(reader: Any) -> list[str]:
    """What the updates after a PDF's first revision change besides adding one invisible
    signature: every object of the first revision the updates replace is compared with
    what it was. Said in page numbers, object numbers and PDF names, never their text."""
    from pyhanko.pdf_utils import generic

    revisions = reader.xrefs.total_revisions
    found = []
    if revisions != 2:
        found.append(f"{revisions - 1} updates after the PDF plandoc made; a signature is one")
    before = reader.get_historical_resolver(0)
    trailer = reader.trailer
    catalog = trailer.raw_get("/Root").reference
    info = trailer.raw_get("/Info").reference if "/Info" in trailer else None
    metadata = reader.root.raw_get("/Metadata") if "/Metadata" in reader.root else None
    pages = _page_numbers(reader)
    changed = {
        generic.Reference(ref.idnum, ref.generation)
        for revision in range(1, revisions)
        for ref in reader.xrefs.explicit_refs_in_revision(revision)
    }
    for ref in sorted(changed, key=lambda r: (r.idnum, r.generation)):
        try:
            old = before(ref)
        except Exception:  # an object the update adds: reachable only through those checked
            continue
        if isinstance(old, generic.NullObject):
            continue
        new = reader.get_object(ref)
        keys = _keys_changed(old, new)
        if ref == catalog and keys <= _CATALOG_KEYS:
            continue
        if ref == info and keys <= _INFO_KEYS:
            continue
        if metadata is not None and ref == getattr(metadata, "reference", None):
            continue
        if ref in pages:
            if keys <= {"/Annots"} and _only_signature_added(old, new):
                continue
            found.append(f"page {pages[ref]} changed ({', '.join(sorted(keys)) or 'its stream'})")
            continue
        kind = old.get("/Type") if isinstance(old, generic.DictionaryObject) else None
        found.append(f"object {ref.idnum} changed" + (f" (a {kind})" if kind else ""))
    return found


def _keys_changed(old: Any, new: Any) -> set[str]:
    from pyhanko.pdf_utils import generic

    if not isinstance(old, generic.DictionaryObject) or not isinstance(
        new, generic.DictionaryObject
    ):
        return {"(the object)"} if old != new else set()

    def raw(value: Any, key: Any) -> Any:
        return value.raw_get(key) if key in value else None

    keys = {str(key) for key in set(old) | set(new) if raw(old, key) != raw(new, key)}
    streams = isinstance(old, generic.StreamObject) and isinstance(new, generic.StreamObject)
    if streams and old.data != new.data:
        keys.add("(its stream)")
    return keys


def _page_numbers(reader: Any) -> dict[Any, int]:
    """Each page object's reference -> its page number, from the page tree."""
    numbers: dict[Any, int] = {}
    waiting = [reader.root.raw_get("/Pages")]
    while waiting and len(numbers) < 100_000:
        node = waiting.pop()
        value = node.get_object()
        if value.get("/Type") == "/Pages":
            kids = value["/Kids"]
            waiting.extend(kids.raw_get(i) for i in reversed(range(len(kids))))
        elif hasattr(node, "reference"):
            numbers[node.reference] = len(numbers) + 1
    return numbers


def _only_signature_added(old: Any, new: Any) -> bool:
    """Whether a page's annotations are those it had and invisible signature widgets."""
    kept = _references(old.get("/Annots"))
    added = _references(new.get("/Annots"))
    if kept - added:
        return False
    for ref in added - kept:
        widget = ref.get_object()
        kind = widget.get("/FT") or widget.get("/Parent", {}).get("/FT")
        x1, y1, x2, y2 = (float(v) for v in widget.get("/Rect", [0, 0, 0, 0]))
        if widget.get("/Subtype") != "/Widget" or kind != "/Sig" or (x2 - x1) * (y2 - y1):
            return False
    return True


def _references(annotations: Any) -> set[Any]:
    if annotations is None:
        return set()
    array = annotations.get_object()
    return {array.raw_get(i).reference for i in range(len(array))}
