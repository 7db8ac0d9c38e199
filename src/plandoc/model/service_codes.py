"""The service codes plandoc knows (data in `service_codes.toml`): CPT and HCPCS
codes with their time ranges and add-on pairs, places of service, modifiers.

`built_in_codes()` is plandoc's own list; a clinic adds codes in a file of the
same shape (`[codes.*]` and `[sources.*]` only), named by `service_codes` in
plandoc.toml, and `load_codes(path)` gives both. A clinic file cannot redefine
a built-in code: 90834 means the same thing everywhere.

Checks ask `ServiceCodes.find(code)`, `closest(code)`, `place(pos)` and
`modifier(mod)`; a `ServiceCode` says whether a number of minutes fits it
(`minutes_problem`) and, for an add-on, whether a list of codes holds its
primary (`has_primary`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from plandoc.errors import SettingsError

CODE = re.compile(r"[0-9]{4}[0-9FTU]|[A-V][0-9]{4}")  # CPT (with categories II, III) or HCPCS II
RANGE = re.compile(r"([0-9]{5})-([0-9]{5})")


@dataclass(frozen=True, slots=True)
class CodeSource:
    document: str
    section: str
    url: str
    says: str

    def cite(self) -> str:
        return f"{self.document}, {self.section}"


@dataclass(frozen=True, slots=True)
class ServiceCode:
    code: str  # a code, or a range of codes "99202-99215"
    kind: str
    description: str
    minutes: tuple[int, int | None] | None = None  # (low, high); high None: or more
    add_on_to: tuple[str, ...] = ()
    once: str | None = None  # "episode"
    unit: str | None = None
    source: CodeSource | None = None

    @property
    def timed(self) -> bool:
        return self.minutes is not None

    @property
    def minutes_text(self) -> str:
        if self.minutes is None:
            return "any length"
        low, high = self.minutes
        return f"{low} minutes or more" if high is None else f"{low} to {high} minutes"

    def fits(self, minutes: int) -> bool:
        if self.minutes is None:
            return True
        low, high = self.minutes
        return minutes >= low and (high is None or minutes <= high)

    def has_primary(self, codes: list[str], known: ServiceCodes | None = None) -> bool:
        """Does `codes` hold one of the codes this add-on goes with (and, given the codes
        known, one that exists: 99216, inside 99202-99255, was deleted)?"""
        return any(
            _within(code, primary) and (known is None or known.find(code) is not None)
            for code in codes
            for primary in self.add_on_to
        )


def _within(code: str, pattern: str) -> bool:
    if match := RANGE.fullmatch(pattern):
        return code.isdigit() and len(code) == 5 and match[1] <= code <= match[2]
    return code == pattern


@dataclass(frozen=True, slots=True)
class ServiceCodes:
    codes: dict[str, ServiceCode]
    places: dict[str, tuple[str, bool]]  # "02" -> (name, telehealth)
    modifiers: dict[str, str]  # "95" -> meaning

    def find(self, code: str) -> ServiceCode | None:
        if code in self.codes:
            return self.codes[code]
        return next(
            (
                entry
                for key, entry in self.codes.items()
                if RANGE.fullmatch(key) and _within(code, key)
            ),
            None,
        )

    def closest(self, code: str) -> str | None:
        """The known code nearest `code` (for "did you mean"): the longest shared
        beginning first (90835 -> 90834), then the nearest number."""
        wanted = code.strip().upper()
        # A range stands for its first code: 99499 is nearest 99341-99350's 99341.
        plain = [RANGE.sub(r"\1", key) for key in self.codes]
        shown = {RANGE.sub(r"\1", key): key for key in self.codes}
        if not wanted or not plain:
            return None

        def shared(key: str) -> int:
            return next(
                (i for i, (a, b) in enumerate(zip(key, wanted, strict=False)) if a != b),
                min(len(key), len(wanted)),
            )

        def distance(key: str) -> int:
            digits, mine = re.sub(r"\D", "", key), re.sub(r"\D", "", wanted)
            return abs(int(digits) - int(mine)) if digits and mine else 10**6

        alike = [key for key in plain if key[0].isdigit() == wanted[0].isdigit()] or plain
        best = min(alike, key=lambda key: (-shared(key), distance(key), key))
        if distance(best) >= 10**6:
            match = difflib.get_close_matches(wanted, plain, n=1, cutoff=0.0)
            return shown[match[0]] if match else None
        return shown[best]

    def place(self, code: str) -> tuple[str, bool] | None:
        return self.places.get(code)

    def is_telehealth(self, code: str | None) -> bool:
        return bool(code and self.places.get(code, ("", False))[1])


# --- the files ---------------------------------------------------------------------


class SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    document: Annotated[str, Field(min_length=1, max_length=500)]
    section: Annotated[str, Field(min_length=1, max_length=500)]
    url: Annotated[str, Field(pattern=r"^https://\S+$", max_length=500)]
    says: Annotated[str, Field(min_length=1, max_length=2000)]


Minutes = Annotated[int, Field(ge=1, le=1440)]


class CodeEntry(BaseModel):
    """One `[codes.CODE]` table (see service_codes.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    kind: Literal["CPT", "HCPCS"]
    description: Annotated[str, Field(min_length=1, max_length=200)]
    minutes: tuple[Minutes] | tuple[Minutes, Minutes] | None = None
    add_on_to: tuple[str, ...] = ()
    once: Literal["episode"] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    source: str | None = None

    @field_validator("minutes")
    @classmethod
    def _rising(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and len(value) == 2 and value[0] > value[1]:
            raise ValueError("the low end must not be above the high end")
        return value

    @field_validator("add_on_to")
    @classmethod
    def _codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for code in value:
            if not (CODE.fullmatch(code) or RANGE.fullmatch(code)):
                raise ValueError(f"'{code}' is not a CPT or HCPCS code, nor a range 99202-99215")
        return value


class PlaceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    name: Annotated[str, Field(min_length=1, max_length=100)]
    telehealth: StrictBool = False


class ModifierEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    meaning: Annotated[str, Field(min_length=1, max_length=200)]


class CodesFile(BaseModel):
    """A clinic's service codes file: its own codes, and the sources they cite."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    sources: dict[str, SourceEntry] = {}
    codes: dict[str, CodeEntry] = {}

    @field_validator("codes")
    @classmethod
    def _code_keys(cls, value: dict[str, CodeEntry]) -> dict[str, CodeEntry]:
        for code in value:
            if not (CODE.fullmatch(code) or RANGE.fullmatch(code)):
                raise ValueError(f"'{code}' is not a CPT or HCPCS code (90834, H0004)")
        return value


class BuiltInFile(CodesFile):
    places: dict[str, PlaceEntry] = {}
    modifiers: dict[str, ModifierEntry] = {}


@cache
def built_in_codes() -> ServiceCodes:
    """plandoc's own codes (checked by the tests against `BuiltInFile`)."""
    import tomllib

    text = resources.files("plandoc.model").joinpath("service_codes.toml").read_text("utf-8")
    data = BuiltInFile.model_validate(tomllib.loads(text))
    return ServiceCodes(
        _codes(data, "service_codes.toml"),
        {key: (entry.name, entry.telehealth) for key, entry in data.places.items()},
        {key: entry.meaning for key, entry in data.modifiers.items()},
    )


def _codes(data: CodesFile, where: str) -> dict[str, ServiceCode]:
    codes = {}
    for key, entry in data.codes.items():
        source = None
        if entry.source is not None:
            if entry.source not in data.sources:
                known = ", ".join(data.sources) or "none"
                raise SettingsError(
                    f"{where}: codes.{key}.source: no [sources.{entry.source}] table "
                    f"(sources: {known})"
                )
            s = data.sources[entry.source]
            source = CodeSource(s.document, s.section, s.url, s.says)
        minutes = None
        if entry.minutes is not None:
            minutes = (entry.minutes[0], entry.minutes[1] if len(entry.minutes) == 2 else None)
        codes[key] = ServiceCode(
            key, entry.kind, entry.description, minutes, entry.add_on_to, entry.once,
            entry.unit, source,
        )  # fmt: skip
    return codes


def load_codes(clinic_file: Path | str | None = None) -> ServiceCodes:
    """The built-in codes, plus a clinic's file when one is named."""
    if clinic_file is None:
        return built_in_codes()
    path = Path(clinic_file)
    try:
        stat = path.stat()
    except OSError as error:
        raise SettingsError(
            f"{path}: cannot read the service codes file: {error.strerror}"
        ) from None
    return _clinic_codes(str(path), stat.st_mtime_ns, stat.st_size)


@cache
def _clinic_codes(path: str, mtime: int, size: int) -> ServiceCodes:
    from plandoc import tomlfile

    text = tomlfile.read_text(Path(path))
    data = tomlfile.validate(Path(path), text, tomlfile.parse(Path(path), text), CodesFile)
    lines = tomlfile.TomlLines(text)
    built_in = built_in_codes()
    problems = [
        f"{path}:{lines.line_of(('codes', key, *at))}: codes.{key}{'.' if at else ''}"
        f"{'.'.join(at)}: {message}"
        for key, at, message in clinic_file_problems(data, built_in)
    ]
    if problems:
        raise SettingsError("\n".join(problems))
    return ServiceCodes(
        {**built_in.codes, **_codes(data, path)}, built_in.places, built_in.modifiers
    )


def clinic_file_problems(
    data: CodesFile, built_in: ServiceCodes
) -> list[tuple[str, tuple[str, ...], str]]:
    """What a clinic's codes file says that cannot hold, as (code, key path, message): a
    built-in code or range redefined or overlapped, a source it does not define, an
    add-on to a code that exists nowhere, a kind that does not fit the code's shape."""
    found: list[tuple[str, tuple[str, ...], str]] = []
    known = set(data.codes)
    for key, entry in data.codes.items():
        if match := RANGE.fullmatch(key):
            low, high = match[1], match[2]
            if low > high:
                found.append((key, (), f"a range runs from the lower code: {high}-{low}"))
            inside = [
                code for code in built_in.codes
                if (CODE.fullmatch(code) and low <= code <= high and code.isdigit())
                or ((r := RANGE.fullmatch(code)) and r[1] <= high and low <= r[2])
            ]  # fmt: skip
            if inside:
                found.append((key, (), f"overlaps built-in codes ({', '.join(inside[:5])})"))
        elif key in built_in.codes or built_in.find(key) is not None:
            found.append(
                (key, (), f"{key} is built in and means the same everywhere; a clinic file "
                 "adds codes plandoc does not know")
            )  # fmt: skip
        shape = "HCPCS" if key[:1].isalpha() else "CPT"
        if entry.kind != shape:
            found.append((key, ("kind",), f"{key} is shaped as a {shape} code, not {entry.kind}"))
        if entry.source is not None and entry.source not in data.sources:
            names = ", ".join(data.sources) or "none"
            found.append(
                (key, ("source",), f"no [sources.{entry.source}] table (sources: {names})")
            )
        for primary in entry.add_on_to:
            exists = (
                primary in known
                or built_in.find(primary) is not None
                or (RANGE.fullmatch(primary) is not None)
            )
            if not exists:
                found.append(
                    (key, ("add_on_to",), f"{primary} is not a code plandoc or this file knows")
                )
    return found
