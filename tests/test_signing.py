"""Digitally signed PDFs (issue 19, part 5): a throwaway certificate authority and
certificate made here, a PDF signed at render time, verified, then a byte flipped; a wrong
password and a certificate out of its dates are one line."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from tests.test_verify import run

pytestmark = pytest.mark.pdf

NAME = "TP-2026-0042-v2.standard"
PASSWORD = "correct horse"


def make_p12(path: Path, not_before: dt.datetime, not_after: dt.datetime) -> None:
    """A PKCS#12 file: a key and certificate issued by a certificate authority made here."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Riverside Counseling Group"),
            ]
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Test Clinic CA"))
        .issuer_name(name("Test Clinic CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before - dt.timedelta(days=1))
        .not_valid_after(not_after + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name("Morgan Reyes, LCSW"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"clinician",
            key,
            certificate,
            [ca],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "inputs").mkdir()
    shutil.copy(SAMPLES / "adult-ptsd.json", tmp_path / "inputs")
    (tmp_path / "plandoc.toml").write_text(
        '[signing]\ncertificate = "clinic.p12"\npassword_env = "TEST_P12_PASSWORD"\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TEST_P12_PASSWORD", PASSWORD)
    return tmp_path


NOW = dt.datetime.now(dt.UTC)


def test_a_signed_pdf_verifies_and_a_flipped_byte_fails(clinic: Path) -> None:
    make_p12(clinic / "clinic.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 0, err
    path = clinic / "out" / f"{NAME}.pdf"
    signed = path.read_bytes()
    assert b"/ByteRange" in signed and b"/ETSI.CAdES.detached" in signed  # PAdES

    code, stdout, _ = run("verify", str(path))
    assert code == 0, stdout
    assert stdout.startswith(f"identical: {NAME}.pdf is what plan TP-2026-0042 v2")
    assert "signature intact, over the whole file: signed by " in stdout
    assert "Morgan Reyes, LCSW" in stdout

    # The unsigned PDF is the signed file's first revision, byte for byte.
    Path("plandoc.toml").write_text("", "utf-8")
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "plain")
    assert code == 0, err
    unsigned = (clinic / "plain" / f"{NAME}.pdf").read_bytes()
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)

    # A byte flipped inside the signed bytes (in the middle of the first revision).
    at = len(unsigned) // 2
    path.write_bytes(signed[:at] + bytes([signed[at] ^ 0x01]) + signed[at + 1 :])
    code, stdout, _ = run("verify", str(path))
    assert code == 1, stdout
    assert stdout.startswith("altered: ")
    assert "signature broken" in stdout

    # Something added after signing: the signature no longer covers the whole file.
    path.write_bytes(signed + b"\n% added later\n")
    code, stdout, _ = run("verify", str(path))
    assert code == 1 and "changed after signing" in stdout


def test_a_wrong_password_is_one_line(clinic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_p12(clinic / "clinic.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    monkeypatch.setenv("TEST_P12_PASSWORD", "wrong")
    code, stdout, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 1
    assert err == (
        "plandoc: error: signing certificate clinic.p12: wrong password, "
        "or not a PKCS#12 (.p12, .pfx) file\n"
    )
    assert not (clinic / "out").exists() and not stdout


def test_no_password_and_no_terminal_is_one_line(
    clinic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_p12(clinic / "clinic.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    monkeypatch.delenv("TEST_P12_PASSWORD")
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 1
    assert err.startswith("plandoc: error: the signing certificate's password: set $TEST_P12_")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (-60, -1, "expired on "),
        (5, 60, "not valid before "),
    ],
)
def test_a_certificate_out_of_its_dates_is_one_line(
    clinic: Path, start: int, end: int, message: str
) -> None:
    make_p12(clinic / "clinic.p12", NOW + dt.timedelta(days=start), NOW + dt.timedelta(days=end))
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 1
    assert err.startswith(f"plandoc: error: signing certificate clinic.p12: {message}")
    assert len(err.splitlines()) == 1


def test_build_signs_pdfs_too(clinic: Path) -> None:
    make_p12(clinic / "clinic.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    code, _, err = run("build", "-t", "pdf", "--jobs", "1")
    assert code == 0, err
    code, stdout, _ = run("verify", str(clinic / "output" / f"{NAME}.pdf"))
    assert code == 0 and "signed by " in stdout


def test_the_password_is_never_a_setting(clinic: Path) -> None:
    Path("plandoc.toml").write_text(
        '[signing]\ncertificate = "clinic.p12"\npassword = "secret"\n', "utf-8"
    )
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 1 and "signing.password" in err


def test_verify_in_its_own_process_prints_no_traceback_of_the_signature_library(
    clinic: Path,
) -> None:
    """Before, pyHanko logged two tracebacks (a self-signed certificate) on every signed
    PDF, with the certificate's subject as it is."""
    import subprocess
    import sys

    make_p12(clinic / "clinic.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 0, err
    done = subprocess.run(
        [sys.executable, "-m", "plandoc", "verify", str(clinic / "out" / f"{NAME}.pdf")],
        capture_output=True, text=True, cwd=clinic, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Validation error" not in done.stderr


def _paint_over_page_one(writer: object) -> None:
    """What an attacker adds: a white box and new words over the top of page 1."""
    from pyhanko.pdf_utils import generic

    name = generic.NameObject
    page = writer.root["/Pages"]["/Kids"][0].get_object()  # type: ignore[attr-defined]
    font = writer.add_object(  # type: ignore[attr-defined]
        generic.DictionaryObject(
            {name("/Type"): name("/Font"), name("/Subtype"): name("/Type1"),
             name("/BaseFont"): name("/Helvetica")}
        )
    )  # fmt: skip
    words = writer.add_object(  # type: ignore[attr-defined]
        generic.StreamObject(
            stream_data=b"q 1 1 1 rg 0 600 612 192 re f Q BT /FX 28 Tf 60 700 Td (RISK: HIGH) Tj ET"
        )
    )
    contents = page["/Contents"]
    kept = (
        list(contents) if isinstance(contents, generic.ArrayObject) else [page.raw_get("/Contents")]
    )
    page[name("/Contents")] = generic.ArrayObject([*kept, words])
    resources = page["/Resources"]
    fonts = resources.get("/Font", generic.DictionaryObject())
    fonts[name("/FX")] = font
    resources[name("/Font")] = fonts
    page[name("/Resources")] = resources
    writer.update_container(page)  # type: ignore[attr-defined]


def _note_on_page_one(writer: object) -> None:
    """What an attacker adds: a note (a free-text annotation) shown on page 1."""
    from pyhanko.pdf_utils import generic

    name = generic.NameObject
    page = writer.root["/Pages"]["/Kids"][0].get_object()  # type: ignore[attr-defined]
    note = writer.add_object(  # type: ignore[attr-defined]
        generic.DictionaryObject(
            {name("/Type"): name("/Annot"), name("/Subtype"): name("/FreeText"),
             name("/Rect"): generic.ArrayObject(map(generic.FloatObject, (50, 700, 400, 760))),
             name("/Contents"): generic.TextStringObject("RISK: HIGH"),
             name("/DA"): generic.TextStringObject("/Helv 20 Tf 1 0 0 rg")}
        )
    )  # fmt: skip
    page[name("/Annots")] = generic.ArrayObject([note])
    writer.update_container(page)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "same_update", "found"),
    [
        (_paint_over_page_one, False, "page 1 changed (/Annots, /Contents, /Resources)"),
        (_paint_over_page_one, True, "page 1 changed (/Annots, /Contents, /Resources)"),
        (_note_on_page_one, True, "page 1 changed (/Annots)"),
    ],
    ids=["painted-own-update", "painted-in-the-signature", "note-in-the-signature"],
)
def test_a_signed_pdf_whose_page_was_changed_before_signing_is_altered(
    clinic: Path, change, same_update: bool, found: str
) -> None:  # type: ignore[no-untyped-def]
    """Before, plandoc's PDF + an update painting over page 1 + a signature by anyone's key
    verified as identical (the first revision was plandoc's, the signature covered it all)."""
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    Path("plandoc.toml").write_text("", "utf-8")  # plandoc's PDF, unsigned
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", "pdf", "-o", "out")
    assert code == 0, err
    path = clinic / "out" / f"{NAME}.pdf"
    writer = IncrementalPdfFileWriter(io.BytesIO(path.read_bytes()))
    change(writer)
    if not same_update:
        painted = io.BytesIO()
        writer.write(painted)
        writer = IncrementalPdfFileWriter(io.BytesIO(painted.getvalue()))
    make_p12(clinic / "attacker.p12", NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))
    signer = signers.SimpleSigner.load_pkcs12(
        str(clinic / "attacker.p12"), passphrase=PASSWORD.encode()
    )
    metadata = signers.PdfSignatureMetadata(
        field_name="PlandocSignature", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    path.write_bytes(signers.sign_pdf(writer, metadata, signer=signer).getvalue())

    code, stdout, _ = run("verify", str(path))
    assert code == 1, stdout
    assert stdout.startswith("altered: ")
    assert f"besides the signature: {found}" in stdout  # what was found, by page number
