"""The public crisis lines a client copy prints, by country (data in `crisis_lines.toml`).

`built_in_lines()` is plandoc's own table, validated when first read (a
malformed entry is an error naming its key, never a client copy printing a
wrong number). A clinic adds or replaces countries in a file of the same
shape, named by `crisis_lines` in plandoc.toml; `load_crisis_lines(path)`
gives both, the clinic's entry for a country replacing the built-in one.

`CrisisLines.lines_for(country)` is what a template prints; `label(language)`
gives a line's words in the plan's language (`es-MX` reads `es`; a language
with no label reads English).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from plandoc.errors import SettingsError

LANGUAGES = ("en", "es")  # every line has a label in each (the client copy's languages)
_COUNTRY = re.compile(r"[A-Z]{2}")
_NUMBER = re.compile(r"^[0-9][0-9 -]{1,18}[0-9]$")  # what is dialled: digits, spaces, hyphens
_Text = Annotated[StrictStr, Field(min_length=1, max_length=500)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceTable(_Table):
    document: _Text
    section: _Text
    url: Annotated[StrictStr, Field(pattern=r"^https://\S+$")]
    says: _Text
    confirmed: StrictBool = True  # false: the number is known, this page not yet read


class LineTable(_Table):
    number: Annotated[StrictStr, Field(pattern=_NUMBER.pattern)]
    kind: Literal["crisis", "support", "emergency"]
    text: StrictBool = False
    chat: StrictStr | None = None
    label: dict[str, _Text]
    source: SourceTable

    @field_validator("label")
    @classmethod
    def _every_language(cls, label: dict[str, str]) -> dict[str, str]:
        missing = [language for language in LANGUAGES if language not in label]
        if missing:
            raise ValueError(f"a label in each language: {', '.join(missing)} missing")
        return label


class CountryTable(_Table):
    name: _Text
    checked: dt.date
    lines: Annotated[tuple[LineTable, ...], Field(min_length=1, max_length=10)]

    @field_validator("lines")
    @classmethod
    def _an_emergency_number(cls, lines: tuple[LineTable, ...]) -> tuple[LineTable, ...]:
        if not any(line.kind == "emergency" for line in lines):
            raise ValueError("name the country's emergency number (a line of kind emergency)")
        return lines


class CrisisLinesFile(_Table):
    countries: dict[str, CountryTable]

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: dict[str, CountryTable]) -> dict[str, CountryTable]:
        for code in value:
            if not _COUNTRY.fullmatch(code):
                raise ValueError(f"'{code}' is not an ISO 3166 country code in capitals (US)")
        return value


@dataclass(frozen=True, slots=True)
class CrisisLine:
    number: str
    kind: str  # crisis, support, emergency
    text: bool  # takes text messages too
    chat: str | None
    labels: dict[str, str]  # language -> words
    source: SourceTable

    def label(self, language: str = "en") -> str:
        """The line's words in `language` (a BCP 47 tag; `es-MX` reads `es`), else English."""
        primary = language.split("-", 1)[0].split("_", 1)[0].casefold()
        return self.labels.get(primary, self.labels["en"])


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    checked: dt.date
    lines: tuple[CrisisLine, ...]


@dataclass(frozen=True, slots=True)
class CrisisLines:
    countries: dict[str, Country]

    def lines_for(self, country: str) -> tuple[CrisisLine, ...]:
        """The lines of `country` (ISO 3166), in the order to print them; () if none known."""
        found = self.countries.get(country)
        return found.lines if found else ()

    def printable(self, country: str) -> tuple[CrisisLine, ...]:
        """The lines a client copy prints for `country`: those whose source has been read
        (`confirmed`); a number not yet checked against its source is never printed."""
        return tuple(line for line in self.lines_for(country) if line.source.confirmed)

    def unconfirmed(self, country: str) -> tuple[CrisisLine, ...]:
        return tuple(line for line in self.lines_for(country) if not line.source.confirmed)

    @property
    def known(self) -> tuple[str, ...]:
        return tuple(sorted(self.countries))


def _lines(data: CrisisLinesFile) -> dict[str, Country]:
    return {
        code: Country(
            code,
            table.name,
            table.checked,
            tuple(
                CrisisLine(
                    line.number, line.kind, line.text, line.chat, dict(line.label), line.source
                )
                for line in table.lines
            ),
        )
        for code, table in data.countries.items()
    }


@cache
def built_in_lines() -> CrisisLines:
    """plandoc's own table, validated (tests/test_crisis_lines.py reads it too)."""
    import tomllib

    text = resources.files("plandoc.model").joinpath("crisis_lines.toml").read_text("utf-8")
    return CrisisLines(_lines(CrisisLinesFile.model_validate(tomllib.loads(text))))


def load_crisis_lines(clinic_file: Path | str | None = None) -> CrisisLines:
    """The built-in lines, with a clinic's file (when one is named) adding countries or
    replacing a country's lines whole."""
    if clinic_file is None:
        return built_in_lines()
    path = Path(clinic_file)
    try:
        stat = path.stat()
    except OSError as error:
        raise SettingsError(
            f"{path}: cannot read the crisis lines file: {error.strerror}"
        ) from None
    return _clinic_lines(str(path), stat.st_mtime_ns, stat.st_size)


@cache
def _clinic_lines(path: str, mtime: int, size: int) -> CrisisLines:
    from plandoc import tomlfile

    text = tomlfile.read_text(Path(path))
    data = tomlfile.validate(Path(path), text, tomlfile.parse(Path(path), text), CrisisLinesFile)
    return CrisisLines({**built_in_lines().countries, **_lines(data)})
