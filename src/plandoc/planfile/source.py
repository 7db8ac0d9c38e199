"""A plan file as read (`PlanSource`), and what every reader of plan files shares:
the limits, the problems of a file, plain data walked as field paths."""

from __future__ import annotations

import errno
import os
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plandoc.planfile.sourcemap import SourceMap
from plandoc.problems import FieldPath, Problem

PLAN_SUFFIXES = (".json", ".md")
MAX_PLAN_BYTES = 2 * 1024 * 1024
# Lists and sets of keys inside one another: a plan needs 6 (plan, goals, a goal, its
# objectives, an objective, its methods); `x-` data may use the rest. Past it is one
# error, found before the data is built, so nothing after the reader (the model,
# `leaves`, copies, YAML output) can recurse too deep.
MAX_DEPTH = 50
TOO_DEEP = f"nested more than {MAX_DEPTH} levels deep (lists and sets of keys; docs: Limits)"
# A whole number longer than this is read as its digits (text), which the model refuses
# as a number: Python will not read one of more than 4,300 digits.
MOST_DIGITS = 100


@dataclass
class PlanSource:
    """A plan file as read: its data (None when unreadable) and where things are in it."""

    path: Path
    data: dict[str, Any] | None
    source_map: SourceMap = field(default_factory=SourceMap)
    problems: list[Problem] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.path)


def fail(source: PlanSource, line: int | None, message: str) -> PlanSource:
    """The file cannot be read: one problem of the whole file."""
    source.problems.append(Problem(source.name, line, (), message))
    return source


def add_problem(source: PlanSource, line: int | None, path: FieldPath, message: str) -> None:
    source.problems.append(Problem(source.name, line, path, message))


def whole_number(digits: str) -> int | str:
    return int(digits) if len(digits) <= MOST_DIGITS else digits


def in_nfc(data: Any) -> Any:
    """Every text of the data in Unicode's composed form (NFC); keys as written.

    Done here, once, for every plan read: "É" typed as one character or as "E"
    and a combining accent is then the same text for the model, the checks (ids
    compared), the documents and `new --from`. A file of ASCII without escapes
    (`\\u00e9`) holds no other text, and is not walked. The data is at most
    MAX_DEPTH deep. Keys are left: two keys equal in NFC would silently become one.
    """
    if isinstance(data, str):
        return data if data.isascii() else unicodedata.normalize("NFC", data)
    if isinstance(data, list):
        return [in_nfc(value) for value in data]
    if isinstance(data, dict):
        return {key: in_nfc(value) for key, value in data.items()}
    return data


def leaves(data: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every scalar of plain data with its field path: ("goals", 0, "statement"), value."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from leaves(value, (*path, index))
    else:
        yield path, data


class NotAFile(OSError):
    """A name plandoc reads that is a FIFO, a socket or a device: never read."""


def read_regular_file(path: Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of the file at `path` (more means: larger than the limit).

    Opened without blocking, so a FIFO with no writer cannot hang plandoc, and
    read only when it is a regular file: a FIFO, a socket or a device
    (`/dev/zero`) raises NotAFile, a folder IsADirectoryError, and no more
    than the limit is ever read, whatever the file claims its size is. A link
    to a file is read like the file (plan files are the clinic's own).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise NotAFile(errno.EINVAL, "not a regular file (a FIFO or a device)", str(path))
        pieces, left = [], limit + 1
        while left > 0:
            piece = os.read(descriptor, min(left, 1 << 20))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
        return b"".join(pieces)
    finally:
        os.close(descriptor)
