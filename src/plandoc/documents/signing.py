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

    @property
    def good(self) -> bool:
        return self.intact and self.covers_all


def is_signed(pdf: bytes) -> bool:
    """Whether a PDF holds a signature dictionary (without pyHanko: a look at its bytes)."""
    return b"/ByteRange" in pdf and b"/Sig" in pdf


def check_signature(pdf: bytes) -> SignatureCheck | None:
    """The first signature of a PDF checked: its integrity and who signed. None: unsigned.

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
    )
