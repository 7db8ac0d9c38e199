"""A document's fingerprint: what it was made from, carried in its own metadata.

Every document plandoc makes carries:

- `plan-sha256`: the SHA-256 of its plan's whole content (`plan_sha256`);
- `layout-sha256`: the SHA-256 of its layout's files, its parents' included
  (`layout_sha256`);
- `plandoc-version`: the version of plandoc that made it;
- and, to make it again: the plan's id and version, the layout's name and the
  page size (`letter` or `a4`).

Hashes, ids and names only: never a plan's text. Since plandoc's output is
deterministic, these say exactly what `plandoc verify` must render again to
get the same bytes. Where each format carries it:

- Markdown: a last line `[//]: # (plandoc-fingerprint key=value ...)`, a
  link reference definition that no Markdown reader shows;
- HTML: `<meta name="plandoc-KEY" content="VALUE">` in the head;
- DOCX: custom properties (`docProps/custom.xml`), named `plandoc-KEY`;
- PDF: keys of the document information dictionary (`/PlandocPlanSHA256`...).

A short form (`short`) is printed in the footer of HTML, PDF and DOCX.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from plandoc._version import __version__
from plandoc.layouts.layout import PAGE_SIZES

if TYPE_CHECKING:
    from plandoc.layouts import Layout
    from plandoc.model.plan import Plan

SHORT = 12  # hex digits of each hash in the footer


def plan_sha256(plan: Plan) -> str:
    """The SHA-256 of a plan's whole content, as plandoc read it.

    The plan's data (every field plandoc reads, under the names the file format
    gives them, dates as ISO text; a plan file's `x-` keys are not read, so not
    included) as canonical JSON: keys sorted, no whitespace, UTF-8 (non-ASCII
    characters as themselves). A JSON file and a Markdown file of the same plan
    give the same hash; any change to a value the plan holds changes it. The
    plan is the one rendered: with the settings' `[practice]` merged in.
    """
    data = plan.model_dump(mode="json", by_alias=True)
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def layout_sha256(layout: Layout) -> str:
    """The SHA-256 of every file a layout is made of, its ancestors' included.

    For each layout of the chain, the root first (`standard` before a layout
    that extends it): its name, then each file of its folder and subfolders
    (manifest, templates, stylesheets, anything else it ships) in the order of
    their relative paths (`/`-separated), each as its path and its bytes, each
    piece preceded by its length. Left out: hidden files and folders,
    `__pycache__`, and `README.md` (words for people, not part of a document).
    The page size is not part of it (it is a fingerprint field of its own).
    """
    chain = tuple((member.name, member.folder) for member in reversed(layout.chain))
    found = [_layout_files(folder) for _, folder in chain]
    # Hashed again only when a file is added, removed or written (its size or times change).
    stamps = tuple(
        (relative, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        for files in found
        for relative, info in files
    )
    key = (chain, stamps)
    if key not in _LAYOUT_HASHES:
        files = tuple(
            (folder, [relative for relative, _ in files])
            for (_, folder), files in zip(chain, found, strict=True)
        )
        _LAYOUT_HASHES[key] = _layout_sha256(chain, files)
    return _LAYOUT_HASHES[key]


_LAYOUT_HASHES: dict[object, str] = {}


def _layout_sha256(
    chain: tuple[tuple[str, Path], ...], files: tuple[tuple[Path, list[str]], ...]
) -> str:
    digest = hashlib.sha256()

    def piece(data: bytes) -> None:
        digest.update(f"{len(data)}:".encode())
        digest.update(data)

    for (name, _), (folder, names) in zip(chain, files, strict=True):
        piece(name.encode("utf-8"))
        for relative in names:
            piece(relative.encode("utf-8", "surrogateescape"))
            piece((folder / relative).read_bytes())
    return digest.hexdigest()


def _layout_files(folder: Path) -> list[tuple[str, os.stat_result]]:
    """The layout's files (see `layout_sha256`), each as its `/`-separated path in the
    folder and its `stat` (taken once: every document's fingerprint looks them over)."""
    found = []
    top = str(folder)
    for parent, folders, names in os.walk(top):
        folders[:] = [n for n in folders if not n.startswith(".") and n != "__pycache__"]
        within = os.path.relpath(parent, top).replace(os.sep, "/")
        prefix = "" if within == "." else within + "/"
        for name in names:
            if name.startswith(".") or (name == "README.md" and parent == top):
                continue
            try:
                info = os.stat(os.path.join(parent, name))  # a link is followed, as is_file
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((prefix + name, info))
    return sorted(found, key=lambda file: file[0])


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a document was made from (see the module's description)."""

    plan_id: str
    plan_version: int
    layout: str
    page_size: str
    plan_sha256: str
    layout_sha256: str
    plandoc_version: str = __version__
    large_print: bool = False  # recorded only when true: `large-print=yes`

    @classmethod
    def of(cls, plan: Plan, layout: Layout) -> Fingerprint:
        return cls(
            plan.plan.id,
            plan.plan.version,
            layout.name,
            layout.page_size,
            plan_sha256(plan),
            layout_sha256(layout),
            large_print=layout.large_print,
        )

    def short(self) -> str:
        """The footer's form: `plandoc 0.2.0 · plan 1a2b3c4d5e6f · layout 9f8e7d6c5b4a`."""
        return (
            f"plandoc {self.plandoc_version} · plan {self.plan_sha256[:SHORT]} · "
            f"layout {self.layout_sha256[:SHORT]}"
        )

    def items(self) -> list[tuple[str, str]]:
        """(key, value) pairs, in a fixed order: `plan-sha256`, ..."""
        pairs = []
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "large_print":
                if value:
                    pairs.append((_key(field.name), "yes"))
                continue
            pairs.append((_key(field.name), str(value)))
        return pairs

    @classmethod
    def from_items(cls, items: dict[str, str]) -> Fingerprint | None:
        """The fingerprint these keys and values hold, or None when one is missing or wrong."""
        large = items.get(_key("large_print"), "no")
        if large not in ("yes", "no"):
            return None
        try:
            values = {
                field.name: items[_key(field.name)]
                for field in fields(cls)
                if field.name != "large_print"
            }
        except KeyError:
            return None
        if values["page_size"] not in PAGE_SIZES:  # a size plandoc never makes
            return None
        if not all(_VALUE.fullmatch(value) for value in values.values()):
            return None
        if not (values["plan_version"].isdigit() and len(values["plan_version"]) <= 9):
            return None
        if not all(_HASH.fullmatch(values[key]) for key in ("plan_sha256", "layout_sha256")):
            return None
        numbered = {**values, "plan_version": int(values["plan_version"])}
        return cls(**numbered, large_print=large == "yes")  # type: ignore[arg-type]

    def markdown_line(self) -> str:
        """The Markdown file's last line: a link reference definition no reader shows."""
        pairs = " ".join(f"{key}={value}" for key, value in self.items())
        return f"[//]: # (plandoc-fingerprint {pairs})"

    def pdf_info(self) -> dict[str, str]:
        """The keys of the PDF's document information dictionary (without the `/`)."""
        return {_pdf_key(key): value for key, value in self.items()}


_VALUE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_HASH = re.compile(r"[0-9a-f]{64}")
MARKDOWN_LINE = re.compile(r"^\[//\]: # \(plandoc-fingerprint ((?:[a-z0-9-]+=[^ )]* ?)+)\)\s*$")


def _key(name: str) -> str:
    return {"plandoc_version": "plandoc-version"}.get(name, name.replace("_", "-"))


def _pdf_key(key: str) -> str:
    """`plan-sha256` -> `PlandocPlanSHA256`: PDF names of letters and digits."""
    words = key.removeprefix("plandoc-").split("-")
    return "Plandoc" + "".join(w.upper() if w.startswith("sha") else w.title() for w in words)


def from_markdown(text: str) -> Fingerprint | None:
    """The fingerprint of a Markdown document: its last line that holds one."""
    for line in reversed(text.splitlines()[-5:]):
        found = MARKDOWN_LINE.match(line)
        if found:
            pairs = dict(pair.partition("=")[::2] for pair in found.group(1).split())
            return Fingerprint.from_items(pairs)
    return None


def html_meta(fingerprint: Fingerprint) -> str:
    """The HTML page's `<meta>` elements (values are letters, digits, '.', '-', '_')."""
    return "".join(
        f'<meta name="plandoc-{key.removeprefix("plandoc-")}" content="{value}">\n'
        for key, value in fingerprint.items()
    )


HTML_META = re.compile(r'<meta name="plandoc-([a-z0-9-]+)" content="([^"<>]*)">')


def from_html(text: str) -> Fingerprint | None:
    head = text[: text.find("</head>")] if "</head>" in text else text[:100_000]
    pairs = {("plandoc-version" if key == "version" else key): value
             for key, value in HTML_META.findall(head)}  # fmt: skip
    return Fingerprint.from_items(pairs)


def from_pdf_info(info: dict[str, str]) -> Fingerprint | None:
    names = {_pdf_key(_key(field.name)): _key(field.name) for field in fields(Fingerprint)}
    return Fingerprint.from_items(
        {names[key]: value for key, value in info.items() if key in names}
    )
