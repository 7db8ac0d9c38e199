"""Project configuration: an optional `plandoc.toml` in the working folder.

    input = "inputs"            # the folder `plandoc build` reads
    output = "output"           # where documents go
    layouts = ["standard", "client-copy"]   # every plan in each (default: the plan's own)
    formats = ["md", "html", "docx"]        # default: every format of the layout
    layout_folders = ["clinic-layouts"]     # more places to find layouts
    strict = false              # warnings fail
    jobs = 2                    # worker processes (default: the number of CPUs)
    repeat_limit = 3            # warn when a goal/objective statement is in more plans
    instruments = "clinic-instruments.toml"  # the clinic's own measures (see README)
    file_mode = "0640"          # files plandoc writes (default "0600": the owner only)
                                # others (not owner or group) may never read or write them

Command-line flags override it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plandoc.problems import PlandocError

CONFIG_NAME = "plandoc.toml"
_KEYS: dict[str, type] = {
    "input": str,
    "output": str,
    "layouts": list,
    "formats": list,
    "layout_folders": list,
    "strict": bool,
    "jobs": int,
    "repeat_limit": int,
    "instruments": str,
    "file_mode": str,
}
OWNER_ONLY = 0o600


@dataclass(frozen=True)
class ProjectConfig:
    input: Path = Path("inputs")
    output: Path = Path("output")
    layouts: tuple[str, ...] = ()
    formats: tuple[str, ...] | None = None
    layout_folders: tuple[Path, ...] = ()
    strict: bool = False
    jobs: int | None = None
    repeat_limit: int = 3
    instruments: Path | None = None
    file_mode: int = OWNER_ONLY


def load_config(folder: Path = Path()) -> ProjectConfig:
    path = folder / CONFIG_NAME
    if not path.is_file():
        return ProjectConfig()
    text = path.read_text("utf-8")
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PlandocError(f"{path}: not valid TOML: {error}") from None
    for key, value in data.items():
        expected = _KEYS.get(key)
        match = re.search(rf"^[ \t]*{re.escape(key)}[ \t]*=", text, re.M)
        line = text[: match.start()].count("\n") + 1 if match else 1
        if expected is None:
            raise PlandocError(f"{path}:{line}: {key}: unknown key; keys are: {', '.join(_KEYS)}")
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise PlandocError(f"{path}:{line}: {key}: must be {expected.__name__}")
        if expected is list and not all(isinstance(item, str) for item in value):
            raise PlandocError(f"{path}:{line}: {key}: must be a list of text")
        if key in ("jobs", "repeat_limit") and value < 1:
            raise PlandocError(f"{path}:{line}: {key}: must be 1 or more")
        if key == "file_mode" and (problem := file_mode_problem(value)):
            raise PlandocError(f"{path}:{line}: {key}: {problem}")
    return ProjectConfig(
        input=Path(data.get("input", "inputs")),
        output=Path(data.get("output", "output")),
        layouts=tuple(data.get("layouts", ())),
        formats=tuple(data["formats"]) if "formats" in data else None,
        layout_folders=tuple(Path(p) for p in data.get("layout_folders", ())),
        strict=data.get("strict", False),
        jobs=data.get("jobs"),
        repeat_limit=data.get("repeat_limit", 3),
        instruments=Path(data["instruments"]) if "instruments" in data else None,
        file_mode=int(data["file_mode"], 8) if "file_mode" in data else OWNER_ONLY,
    )


def file_mode_problem(text: str) -> str | None:
    """What is wrong with a `file_mode` ("0640"), or None.

    The owner must be able to read and write; nobody may execute a document;
    others (outside the owner and group) may never read or write one: every
    document is protected health information, and a clinic that shares them
    shares them with a group (0640, 0660), never with every account on the machine.
    """
    if not re.fullmatch(r"0?[0-7]{3}", text):
        return 'must be an octal mode such as "0600" (the default) or "0640"'
    mode = int(text, 8)
    if mode & 0o600 != 0o600:
        return "the owner must be able to read and write (6 as the first digit)"
    if mode & 0o111:
        return "documents are never executable: use only 0, 4 and 6"
    if mode & 0o006:
        return (
            "others may never read or write the documents (protected health information): "
            'the last digit is 0, such as "0640" to share with your group'
        )
    return None
