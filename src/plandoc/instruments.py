"""The rating scales plandoc knows (data in `instruments.toml`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str
    title: str
    min: float
    max: float
    lower_is_better: bool

    def contains(self, score: float) -> bool:
        return self.min <= score <= self.max

    @property
    def range_text(self) -> str:
        return f"{self.min:g} to {self.max:g}"


@cache
def known_instruments() -> dict[str, Instrument]:
    """Instruments by upper-case name (`phq-9` and `PHQ-9` are the same scale)."""
    text = resources.files("plandoc").joinpath("instruments.toml").read_text("utf-8")
    return {
        name.upper(): Instrument(name=name, **fields)
        for name, fields in tomllib.loads(text).items()
    }


def find_instrument(name: str) -> Instrument | None:
    return known_instruments().get(name.strip().upper())
