"""Write plandoc's compact ICD-10-CM index from the official tabular list (a developer tool).

plandoc checks every diagnosis code against the ICD-10-CM code set (does the code
exist, is it billable, does the plan's description fit it). It does not read the
10 MB tabular XML at run time: this tool turns the XML into a small index shipped
as package data in `src/plandoc/model/icd10cm/data/`, read by
`plandoc.model.icd10cm` one first letter at a time.

Inputs (either):

- the CDC/NCHS release files, from https://www.cdc.gov/nchs/icd/icd-10-cm/files.html:
  the tabular list (`icd10cm-tabular-<release>.xml`, in the "Tables and Index"
  zip) and a code list (`icd10cm-codes-<release>.txt`, in the "Code Descriptions"
  zip: one code a line, the code first, with or without its dot); or
- the same two files as the `simple-icd-10-cm` package ships them (MIT; the
  package is only read for its data, never imported at run time by plandoc):
  `pip install simple-icd-10-cm` and pass `--from-package`.

    python tools/icd10cm_index.py --from-package --release "ICD-10-CM April 1, 2026 (FY2026)"
    python tools/icd10cm_index.py --tabular icd10cm-tabular-2027.xml \\
        --codes icd10cm-codes-2027.txt --release "ICD-10-CM October 1, 2026 (FY2027)"

Output, in --out (default: src/plandoc/model/icd10cm/data):

- `A.tsv.gz` ... `Z.tsv.gz`: one line per code of the tabular list (categories,
  subcategories, billable codes, codes with a 7th character), in tabular order:
  `CODE<TAB>B|H<TAB>DESCRIPTION<TAB>INCLUSION TERMS` with the code written with
  its dot, `B` a billable (leaf) code and `H` a header (not billable), and the
  inclusion terms of the code joined by ` | ` (often empty).
- `RELEASE`: the release's name, where the data came from, the file names and
  SHA-256 of the inputs, and the counts.

and in --stems-out (default: src/plandoc/model/icd10cm/stems, when --out is the
default; elsewhere only when given):

- `A.tsv.gz` ... `Z.tsv.gz`: the words of each letter, worked out here once rather
  than each time plandoc first checks a description of the letter (up to 0.9 s for
  S): one line per stem of the letter's descriptions and inclusion terms, sorted,
  `STEM<TAB>CATEGORIES<TAB>TITLE CATEGORIES`: the 3-character categories whose codes
  have the stem, and those whose own description or inclusion terms have it
  (space-separated, sorted). The stems are made by plandoc's own functions
  (`plandoc.model.icd10cm.letter_stems`, from this repository's src/), so they are
  the stems the check compares; why the check needs them is told in that module.

How the tree is read (as the ICD-10-CM conventions say, and as `simple-icd-10-cm`
does): a `<diag>` without `<diag>` children is a leaf; a leaf under a
`<sevenChrDef>` (its own or an ancestor's) is not billable itself: its codes are
the leaf padded with the placeholder X to six characters, plus each 7th
character, kept only when the code list has them (some 7th characters are not
valid for some codes). Chapters and blocks (`A00-A09`) are not codes and are left out.

The output is deterministic: the same inputs give the same bytes (gzip without
a file name or time stamp, at a fixed level; lines in the XML's order).
Regenerate after a new release, and after changing how plandoc makes text into stems
(`stem`, GENERIC, PHRASES, ... in plandoc.model.icd10cm), then run the tests (see
docs/checks.md, "Updating the ICD-10-CM release").
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "plandoc" / "model" / "icd10cm" / "data"
DEFAULT_STEMS_OUT = DEFAULT_OUT.parent / "stems"
SOURCE_URL = "https://www.cdc.gov/nchs/icd/icd-10-cm/files.html"
GZIP_LEVEL = 9
SEPARATOR = " | "  # between inclusion terms


def text_of(element: ET.Element | None) -> str:
    """An element's text on one line, without tabs (the index's separator)."""
    if element is None or element.text is None:
        return ""
    return " ".join(element.text.split())


def read_code_list(text: str) -> set[str]:
    """The codes of a code list, without dots: the first word of each line."""
    return {line.split()[0].replace(".", "") for line in text.splitlines() if line.strip()}


def index_lines(tabular_xml: bytes, code_list: set[str]) -> list[tuple[str, str, str, str]]:
    """(code, B|H, description, inclusion terms) for every code, in tabular order."""
    root = ET.fromstring(tabular_xml)
    rows: list[tuple[str, str, str, str]] = []

    def visit(diag: ET.Element, seven: dict[str, str]) -> None:
        code = text_of(diag.find("name"))
        description = text_of(diag.find("desc"))
        own = diag.find("sevenChrDef")
        if own is not None:
            seven = {}
            last = None
            for item in own:
                if item.tag == "extension":
                    last = item.get("char", "")
                    seven[last] = text_of(item)
                elif item.tag == "note" and last is not None and text_of(item):
                    seven[last] += "/" + text_of(item)
        terms = [text_of(note) for term in diag.findall("inclusionTerm") for note in term]
        children = diag.findall("diag")
        extended = []
        if not children and seven:
            padded = (code if "." in code else code + ".").ljust(7, "X")
            extended = [
                (padded + char, "B", f"{description}, {meaning}", "")
                for char, meaning in seven.items()
                if (padded + char).replace(".", "") in code_list
            ]
        billable = not children and not extended
        rows.append((code, "B" if billable else "H", description,
                     SEPARATOR.join(t for t in terms if t)))  # fmt: skip
        for child in children:
            visit(child, seven)
        rows.extend(extended)

    for chapter in root.iter("chapter"):
        for section in chapter.findall("section"):
            for diag in section.findall("diag"):
                visit(diag, {})
    return rows


def gzip_bytes(text: str) -> bytes:
    """Deterministic gzip: no file name, time stamp 0, a fixed level."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=GZIP_LEVEL,
                       mtime=0) as out:  # fmt: skip
        out.write(text.encode("utf-8"))
    return buffer.getvalue()


def build_index(
    tabular_xml: bytes, code_list_file: bytes, release: str, names: tuple[str, str]
) -> dict[str, bytes]:
    """File name -> bytes: a `.tsv.gz` per first letter, and `RELEASE`."""
    code_list = read_code_list(code_list_file.decode("utf-8"))
    rows = index_lines(tabular_xml, code_list)
    by_letter: dict[str, list[str]] = {}
    for row in rows:
        by_letter.setdefault(row[0][0], []).append("\t".join(row) + "\n")
    files = {f"{letter}.tsv.gz": gzip_bytes("".join(lines)) for letter, lines in by_letter.items()}
    billable = [row[0].replace(".", "") for row in rows if row[1] == "B"]
    missing = [code for code in billable if code not in code_list]
    if missing:  # a leaf of the XML that the code list lacks: the inputs disagree
        sys.exit(f"{len(missing)} billable codes are not in the code list, e.g. {missing[:5]}")
    tabular_name, codes_name = names
    files["RELEASE"] = (
        f"release: {release}\n"
        f"source: {SOURCE_URL}\n"
        f"tabular: {tabular_name} sha256:{hashlib.sha256(tabular_xml).hexdigest()}\n"
        f"codes: {codes_name} sha256:"
        f"{hashlib.sha256(code_list_file).hexdigest()}\n"
        f"made by: tools/icd10cm_index.py\n"
        f"entries: {len(rows)} ({len(billable)} billable)\n"
    ).encode()
    return files


def build_stems(index: dict[str, bytes]) -> dict[str, bytes]:
    """File name -> bytes: the stems of each letter of an index (`build_index`'s files)."""
    sys.path.insert(0, str(ROOT / "src"))  # this repository's plandoc: its stems
    from plandoc.model.icd10cm import letter_stems_text

    files = {}
    for name, content in index.items():
        if name.endswith(".tsv.gz"):
            rows = {}
            for line in gzip.decompress(content).decode("utf-8").splitlines():
                code, _, rest = line.partition("\t")
                rows[code] = rest
            files[name] = gzip_bytes(letter_stems_text(rows))
    return files


def write(files: dict[str, bytes], out: Path) -> None:
    """Write the files to `out`, removing a letter's file that is no longer made."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.tsv.gz"):  # a letter may have gone from a release
        if old.name not in files:
            old.unlink()
    for name, content in sorted(files.items()):
        (out / name).write_bytes(content)
    total = sum(len(content) for content in files.values())
    print(f"wrote {len(files)} files, {total / 1024:.0f} KiB, to {out}")


def package_inputs() -> tuple[Path, Path]:
    """The tabular XML and code list inside the installed `simple-icd-10-cm` package."""
    from importlib.resources import files  # the package's data folder; its code is not run

    data = files("simple_icd_10_cm.data")
    tabular = sorted(p for p in data.iterdir() if p.name.endswith(".xml"))
    codes = sorted(p for p in data.iterdir() if p.name.startswith("code-list"))
    if len(tabular) != 1 or len(codes) != 1:
        sys.exit("simple_icd_10_cm.data: expected one tabular XML and one code list")
    return Path(str(tabular[0])), Path(str(codes[0]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-package", action="store_true",
                        help="read the files the simple-icd-10-cm package ships")  # fmt: skip
    source.add_argument("--tabular", type=Path, help="the CDC tabular list XML")
    parser.add_argument("--codes", type=Path, help="the code list (with --tabular)")
    parser.add_argument(
        "--release", required=True, help='its name, e.g. "ICD-10-CM April 1, 2026 (FY2026)"'
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--stems-out", type=Path,
                        help="where the stems go (default: beside the shipped index, when "
                             "--out is the default; else not written)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.from_package:
        tabular, codes = package_inputs()
    else:
        if args.codes is None:
            parser.error("--tabular needs --codes")
        tabular, codes = args.tabular, args.codes
    files = build_index(
        tabular.read_bytes(),
        codes.read_bytes(),
        args.release,
        (tabular.name, codes.name),
    )
    write(files, args.out)
    stems_out = args.stems_out or (DEFAULT_STEMS_OUT if args.out == DEFAULT_OUT else None)
    if stems_out is not None:
        write(build_stems(files), stems_out)
    print(files["RELEASE"].decode("utf-8"), end="")


if __name__ == "__main__":
    main()
