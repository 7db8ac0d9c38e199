"""Document fingerprints and `plandoc verify` (issue 19, part 4): identical, altered and
different documents in every format, and the bad input that gets one line and exit 2."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from plandoc import __version__
from plandoc.checks.file import check_file
from plandoc.cli import main
from plandoc.documents.fingerprint import (
    Fingerprint,
    from_html,
    from_markdown,
    layout_sha256,
    plan_sha256,
)
from plandoc.layouts import find_layout
from tests.conftest import ROOT, SAMPLES

NAME = "TP-2026-0042-v2.standard"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clinic's folder: inputs/ with the adult sample, the working folder."""
    (tmp_path / "inputs").mkdir()
    shutil.copy(SAMPLES / "adult-ptsd.json", tmp_path / "inputs" / "adult-ptsd.json")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def render(*formats: str, plan: str = "inputs/adult-ptsd.json") -> Path:
    code, _, err = run("render", plan, "-t", ",".join(formats), "-o", "out")
    assert code == 0, err
    return Path("out")


def edit_plan(change) -> None:  # type: ignore[no-untyped-def]
    path = Path("inputs/adult-ptsd.json")
    data = json.loads(path.read_text("utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), "utf-8")


# --- the fingerprint --------------------------------------------------------------------


def test_the_plan_hash_is_the_same_for_a_json_and_a_markdown_file_of_one_plan(
    spec_examples: tuple[Path, Path],
) -> None:
    json_file, markdown_file = spec_examples
    one, other = check_file(json_file).plan, check_file(markdown_file).plan
    assert one is not None and other is not None
    assert plan_sha256(one) == plan_sha256(other)
    assert re.fullmatch(r"[0-9a-f]{64}", plan_sha256(one))
    changed = one.model_copy(update={"plan": one.plan.model_copy(update={"version": 9})})
    assert plan_sha256(changed) != plan_sha256(one)


def test_the_layout_hash_covers_the_chain_and_not_the_readme(tmp_path: Path) -> None:
    standard, medicare = find_layout("standard"), find_layout("medicare")
    assert layout_sha256(standard) != layout_sha256(medicare)
    folder = tmp_path / "layouts"
    shutil.copytree(ROOT / "templates" / "standard", folder / "house")
    manifest = folder / "house" / "layout.toml"
    manifest.write_text(manifest.read_text("utf-8").replace('"standard"', '"house"', 1), "utf-8")
    house = find_layout("house", [folder])
    before = layout_sha256(house)
    (folder / "house" / "README.md").write_text("words for people", "utf-8")
    assert layout_sha256(find_layout("house", [folder])) == before
    (folder / "house" / "style.css").write_text("body { color: red; }", "utf-8")
    assert layout_sha256(find_layout("house", [folder])) != before


def test_every_format_carries_the_fingerprint_and_no_plan_text(clinic: Path) -> None:
    out = render("md", "html", "docx")
    markdown = (out / f"{NAME}.md").read_text("utf-8")
    html = (out / f"{NAME}.html").read_text("utf-8")
    found = from_markdown(markdown)
    assert found is not None and found == from_html(html)
    assert found.plan_id == "TP-2026-0042" and found.plan_version == 2
    assert found.layout == "standard" and found.page_size == "letter"
    assert markdown.splitlines()[-1].startswith("[//]: # (plandoc-fingerprint ")
    assert f'<meta name="plandoc-plan-sha256" content="{found.plan_sha256}">' in html
    assert found.short() in html  # the page's footer
    with zipfile.ZipFile(out / f"{NAME}.docx") as package:
        custom = package.read("docProps/custom.xml").decode()
        footers = [package.read(n).decode() for n in package.namelist() if "footer" in n]
        assert "docProps/custom.xml" in package.read("_rels/.rels").decode()
        assert "/docProps/custom.xml" in package.read("[Content_Types].xml").decode()
    assert f'name="plandoc-layout-sha256"><vt:lpwstr>{found.layout_sha256}<' in custom
    assert all(found.short() in footer for footer in footers)
    # Hashes, ids and names only: the client's name is nowhere in the fingerprint.
    assert "Reyes" not in found.markdown_line() and "Dana" not in custom


def test_the_markdown_line_shows_nothing_to_a_reader(clinic: Path) -> None:
    from markdown_it import MarkdownIt

    out = render("md")
    rendered = MarkdownIt("commonmark").render((out / f"{NAME}.md").read_text("utf-8"))
    assert "plandoc-fingerprint" not in rendered


# --- verify: identical, altered, different ----------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_verify_an_untouched_document_is_identical(clinic: Path, fmt: str) -> None:
    out = render(fmt)
    code, stdout, _ = run("verify", str(out / f"{NAME}.{fmt}"))
    assert code == 0, stdout
    assert stdout.startswith(f"identical: {NAME}.{fmt} is what plan TP-2026-0042 v2")


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_verify_an_edited_text_document_says_altered_and_where(clinic: Path, fmt: str) -> None:
    path = render(fmt) / f"{NAME}.{fmt}"
    lines = path.read_text("utf-8").split("\n")
    number = next(n for n, line in enumerate(lines) if "PTSD" in line or "ptsd" in line)
    lines[number] = lines[number].replace("PTSD", "PT5D").replace("ptsd", "pt5d")
    path.write_text("\n".join(lines), "utf-8")
    code, stdout, _ = run("verify", str(path))
    assert code == 1
    assert stdout.startswith("altered: ")
    assert f"first difference: line {number + 1}" in stdout


def test_verify_an_edited_docx_names_the_parts_changed(clinic: Path) -> None:
    path = render("docx") / f"{NAME}.docx"
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"Goal", b"Gaol", 1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    code, stdout, _ = run("verify", str(path))
    assert code == 1 and stdout.startswith("altered: ")
    assert "parts changed: word/document.xml" in stdout
    assert "docProps" not in stdout


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_verify_after_the_plan_changed_says_different(clinic: Path, fmt: str) -> None:
    path = render(fmt) / f"{NAME}.{fmt}"
    edit_plan(lambda plan: plan["goals"][0].update(statement="A new goal statement."))
    code, stdout, _ = run("verify", str(path))
    assert code == 1
    assert stdout.startswith("different: ")
    assert "the plan's content differs" in stdout
    assert "A new goal" not in stdout  # hashes, never plan text


def test_verify_against_another_version_says_different(clinic: Path) -> None:
    path = render("md") / f"{NAME}.md"
    data = json.loads(Path("inputs/adult-ptsd.json").read_text("utf-8"))
    data["plan"]["version"] = 3
    Path("v3.json").write_text(json.dumps(data), "utf-8")
    code, stdout, _ = run("verify", str(path), "--plan", "v3.json")
    assert code == 1
    assert "a different plan version: the document is of v2, the plan file is v3" in stdout


def test_verify_after_the_layout_changed_says_different(clinic: Path) -> None:
    shutil.copytree(ROOT / "templates" / "standard", clinic / "templates" / "standard")
    path = render("html") / f"{NAME}.html"
    style = clinic / "templates" / "standard" / "style.css"
    style.write_text(style.read_text("utf-8") + "\nh1 { color: navy; }\n", "utf-8")
    from plandoc.layouts import layout

    layout._FOUND.clear()
    code, stdout, _ = run("verify", str(path))
    assert code == 1
    assert "layout standard differs from the one the document was made with" in stdout
    assert "plan's content" not in stdout


def test_verify_a_document_of_another_plandoc_version_says_different(clinic: Path) -> None:
    path = render("md") / f"{NAME}.md"
    path.write_text(
        path.read_text("utf-8").replace("plandoc-version=0", "plandoc-version=9"), "utf-8"
    )
    code, stdout, _ = run("verify", str(path))
    assert code == 1
    assert "made by plandoc 9" in stdout


# --- bad input: one line, exit 2 --------------------------------------------------------


def test_verify_bad_input_is_one_line_and_exit_2(clinic: Path) -> None:
    out = render("md", "docx")
    Path("notes.md").write_text("# Notes\n\nNot a plandoc document.\n", "utf-8")
    Path("broken.docx").write_bytes(b"PK\x03\x04 not a zip at all")
    Path("broken.pdf").write_bytes(b"%PDF-1.7\n garbage")
    Path("plain.txt").write_text("text", "utf-8")
    Path("folder.md").mkdir()
    cases = {
        "notes.md": "notes.md: not a plandoc document (it carries no plandoc fingerprint)",
        "broken.docx": "broken.docx: not a plandoc document",
        "broken.pdf": "broken.pdf: not a plandoc document",
        "plain.txt": "plain.txt: not a plandoc document (plandoc verifies .md, .html, .docx",
        "missing.md": "missing.md: no such file",
        "folder.md": "folder.md: is a folder, not a document",
    }
    for name, message in cases.items():
        code, stdout, stderr = run("verify", name)
        assert code == 2, (name, stdout, stderr)
        assert stderr.startswith(f"plandoc: error: {message}"), (name, stderr)
        assert len(stderr.strip().splitlines()) == 1 and not stdout
    Path("inputs/adult-ptsd.json").unlink()
    Path("inputs/other.json").write_text("{}", "utf-8")
    code, _, stderr = run("verify", str(out / f"{NAME}.md"))
    assert code == 2
    assert stderr == "plandoc: error: plan TP-2026-0042 v2 not found in inputs\n"
    code, _, stderr = run("verify", str(out / f"{NAME}.md"), "--plan", "nowhere.json")
    assert code == 2 and "nowhere.json: no such plan file" in stderr


def test_verify_finds_another_version_and_says_so(clinic: Path) -> None:
    path = render("md") / f"{NAME}.md"
    edit_plan(lambda plan: plan["plan"].update(version=3))
    code, _, stderr = run("verify", str(path))
    assert code == 2
    assert "plan TP-2026-0042 v2 not found in inputs (found v3: name one with --plan" in stderr


# --- PDF ----------------------------------------------------------------------------------


@pytest.mark.pdf
def test_verify_pdf_identical_altered_and_different(clinic: Path) -> None:
    import pypdf

    path = render("pdf") / f"{NAME}.pdf"
    info = pypdf.PdfReader(path).metadata
    assert info is not None and re.fullmatch(r"[0-9a-f]{64}", info["/PlandocPlanSHA256"])
    assert info["/PlandocLayout"] == "standard" and info["/PlandocVersion"]
    text = "".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    assert Fingerprint.from_items({}) is None and f"plandoc {__version__} · plan " in text
    code, stdout, _ = run("verify", str(path))
    assert code == 0 and stdout.startswith("identical: ")
    original = path.read_bytes()

    # Altered: the same fingerprint over other text (a goal edited, the metadata kept).
    edit_plan(lambda plan: plan["goals"][0].update(statement="An edited goal statement."))
    render("pdf")
    writer = pypdf.PdfWriter(clone_from=path)
    writer.add_metadata({key: value for key, value in info.items()})
    edited = io.BytesIO()
    writer.write(edited)
    path.write_bytes(edited.getvalue())
    shutil.copy(SAMPLES / "adult-ptsd.json", "inputs/adult-ptsd.json")
    code, stdout, _ = run("verify", str(path))
    assert code == 1 and stdout.startswith("altered: ")
    assert re.search(r"text differs on pages? [0-9]", stdout), stdout

    # Different: the plan changed after the PDF was made.
    path.write_bytes(original)
    edit_plan(lambda plan: plan["plan"].update(last_reviewed="2026-10-30"))
    code, stdout, _ = run("verify", str(path))
    assert code == 1 and "the plan's content differs" in stdout


# --- found by an outside attack -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["md", "html", "docx"])
def test_a_large_print_document_verifies_identical(clinic: Path, fmt: str) -> None:
    """Before, every large-print document verified as altered: the fingerprint did not
    say it was made in large print."""
    code, _, err = run("render", "inputs/adult-ptsd.json", "-t", fmt, "-o", "out", "--large-print")
    assert code == 0, err
    code, out, _ = run("verify", f"out/{NAME}.{fmt}")
    assert code == 0 and out.startswith("identical"), out


def test_a_page_size_plandoc_never_makes_is_not_a_plandoc_document(clinic: Path) -> None:
    out = render("md")
    document = out / f"{NAME}.md"
    text = document.read_text("utf-8").replace("page-size=letter", "page-size=tabloid")
    document.write_text(text, "utf-8")
    code, _, err = run("verify", str(document))
    assert code == 2 and "not a plandoc document" in err


@pytest.mark.pdf
def test_a_pdf_with_pdf_structure_words_in_its_text_verifies_identical(clinic: Path) -> None:
    """Before, a fresh PDF whose goal statement held `/ByteRange /Sig` (stored uncompressed
    in the bookmarks) was taken for a signed PDF and reported as altered, signature broken."""
    edit_plan(lambda plan: plan["goals"][0].update(statement="Reduce /ByteRange /Sig below."))
    path = render("pdf") / f"{NAME}.pdf"
    assert b"/ByteRange /Sig" in path.read_bytes()
    code, stdout, _ = run("verify", str(path))
    assert code == 0 and stdout.startswith("identical: "), stdout


@pytest.mark.pdf
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda pdf: pdf[:-5], "the file is the document cut short: 5 bytes missing"),
        (lambda pdf: pdf[:-1], "the file is the document cut short: 1 byte missing"),
        (lambda pdf: b"junk\n" + pdf, "the document with 5 bytes put before its start"),
        (lambda pdf: pdf + b"\n", "the document with 1 byte added after its end"),
    ],
    ids=["cut-5", "cut-1", "junk-before", "added-after"],
)
def test_a_damaged_pdf_that_still_carries_its_fingerprint_is_altered(
    clinic: Path, damage, reason: str
) -> None:  # type: ignore[no-untyped-def]
    """Before, a PDF cut short by its last bytes, or with bytes before `%PDF`, was "not a
    plandoc document" (exit 2), though its fingerprint is still there."""
    path = render("pdf") / f"{NAME}.pdf"
    path.write_bytes(damage(path.read_bytes()))
    code, stdout, stderr = run("verify", str(path))
    assert code == 1, (stdout, stderr)
    assert stdout.startswith("altered: ") and reason in stdout, stdout


@pytest.mark.parametrize("command", ["verify", "schema", "layouts"])
def test_output_into_a_closed_pipe_ends_quietly_with_exit_1(clinic: Path, command: str) -> None:
    """Before, `plandoc verify X | head -1` printed "plandoc: internal error
    (BrokenPipeError); please report it" when the reader had closed the pipe."""
    import subprocess
    import sys

    target = [str(render("md") / f"{NAME}.md")] if command == "verify" else []
    process = subprocess.Popen(
        [sys.executable, "-m", "plandoc", command, *target],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=clinic,
    )  # fmt: skip
    process.stdout.close()  # type: ignore[union-attr]  # the reader is gone before any line
    stderr = process.stderr.read().decode()  # type: ignore[union-attr]
    assert process.wait(timeout=120) == 1
    assert stderr == "", stderr
