"""`pybabel extract` for the texts a document takes from TOML files (see babel.cfg).

A layout's manifest gives its documents' title and footer; the instrument
registry gives a chart's band labels ("moderate"). Used only when a catalog
is updated, never when plandoc runs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from typing import IO, Any

# The keys whose text a document shows: a manifest's, and a band's of the registry.
KEYS = ("title", "footer", "label")


def extract_toml(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Each text of a KEYS key (at the top of a manifest, or in a table's list of
    bands), with its line, as Babel's extractors yield them."""
    text = fileobj.read().decode("utf-8")
    data = tomllib.loads(text)
    lines = text.splitlines()
    found: list[str] = []
    for key in ("title", "footer"):
        if isinstance(data.get(key), str):
            found.append(data[key])
    for table in data.values():
        if isinstance(table, dict):
            for band in table.get("bands", ()):
                if isinstance(band, dict) and isinstance(band.get("label"), str):
                    found.append(band["label"])
    for message in dict.fromkeys(found):
        line = next((n for n, row in enumerate(lines, 1) if f'"{message}"' in row), 0)
        yield line, "_", message, []
