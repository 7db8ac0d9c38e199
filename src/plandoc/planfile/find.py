"""Which files are plans: those named, and the .json and .md files under named folders."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from plandoc.errors import PlandocError
from plandoc.planfile.read import PLAN_SUFFIXES


def find_plan_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Plan files named, or found under named folders (sorted; other files skipped quietly)."""
    for name in plan_file_names(paths):
        yield Path(name)


def plan_file_names(paths: Iterable[Path]) -> Iterator[str]:
    """`find_plan_files` as strings: a folder of 10,000 plans costs little memory.

    Folders are listed with os.walk, hidden files and folders skipped; no
    Path is made per file (pathlib interns every part it parses).
    """
    for path in paths:
        if path.is_dir():
            found = []
            for folder, subfolders, names in os.walk(path):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                found += [
                    os.path.join(folder, name)
                    for name in names
                    if not name.startswith(".") and name.lower().endswith(PLAN_SUFFIXES)
                ]
            if not found:
                raise PlandocError(f"{path}: no plan files (.json or .md) in this folder")
            found.sort(key=lambda name: name.split(os.sep))
            yield from found
        else:
            yield str(path)
