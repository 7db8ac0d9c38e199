"""The measures plandoc knows: rating scales and counted behaviours (data in `instruments.toml`).

A `Registry` holds them by upper-case name. The built-in one ships with
plandoc; a clinic adds its own measures in a file of the same shape, named by
`instruments` in plandoc.toml, and gets a registry with both. A clinic file
cannot redefine a built-in measure: a PHQ-9 means the same thing everywhere.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from plandoc.errors import SettingsError
from plandoc.model.plan import number_text, read_number


@dataclass(frozen=True, slots=True)
class Band:
    min: float
    max: float
    label: str


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str
    title: str
    min: float
    max: float  # math.inf for a behaviour count
    lower_is_better: bool
    kind: str = "scale"  # or "behavior"
    unit: str | None = None
    loinc: str | None = None
    cutoff: float | None = None
    cutoff_meaning: str | None = None
    bands: tuple[Band, ...] = ()
    response_percent: float | None = None
    remission_below: float | None = None
    remission_above: float | None = None
    meaningful_change: float | None = None
    source: str | None = None

    def contains(self, score: float) -> bool:
        return self.min <= score <= self.max

    @property
    def range_text(self) -> str:
        if math.isinf(self.max):
            return f"{number_text(self.min)} or more"
        return f"{number_text(self.min)} to {number_text(self.max)}"

    def band(self, score: float) -> str | None:
        """The severity band of a score ('moderate'), if the measure has bands."""
        for band in self.bands:
            if score <= band.max:
                return band.label
        return None

    def better(self, a: float, b: float) -> bool:
        """Is score `a` better than score `b`?"""
        return a < b if self.lower_is_better else a > b

    def in_remission(self, score: float) -> bool | None:
        if self.remission_below is not None:
            return score < self.remission_below
        if self.remission_above is not None:
            return score > self.remission_above
        return None

    def responded(self, baseline: float, score: float) -> bool | None:
        """A drop (or rise) of at least `response_percent` of the baseline."""
        if self.response_percent is None or baseline == 0:
            return None
        improvement = (baseline - score) if self.lower_is_better else (score - baseline)
        return improvement * 100 >= self.response_percent * abs(baseline)


@dataclass(frozen=True)
class Registry:
    """Measures by upper-case name, and behaviours by lower-case unit."""

    instruments: dict[str, Instrument]
    by_unit: dict[str, Instrument] = field(default_factory=dict)

    def find(self, name: str) -> Instrument | None:
        return self.instruments.get(name.strip().upper())

    def find_behavior(self, unit: str) -> Instrument | None:
        return self.by_unit.get(" ".join(unit.lower().split()))

    def closest(self, name: str) -> str | None:
        """The known scale whose name is nearest `name` (for "did you mean")."""
        scales = {key: i.name for key, i in self.instruments.items() if i.kind == "scale"}
        match = difflib.get_close_matches(name.strip().upper(), list(scales), n=1, cutoff=0.5)
        return scales[match[0]] if match else None

    def scale_names(self) -> list[str]:
        return [i.name for i in self.instruments.values() if i.kind == "scale"]


BUILT_IN = "plandoc/model/instruments.toml"


@cache
def built_in_registry() -> Registry:
    text = resources.files("plandoc.model").joinpath("instruments.toml").read_text("utf-8")
    return _registry(_parse(text, BUILT_IN))


def load_registry(clinic_file: Path | str | None = None) -> Registry:
    """The built-in measures, plus those of a clinic's file when one is named."""
    if clinic_file is None:
        return built_in_registry()
    path = Path(clinic_file)
    try:
        stat = path.stat()
    except OSError as error:
        raise SettingsError(f"{path}: cannot read the instruments file: {error.strerror}") from None
    return _clinic_registry(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@cache
def _clinic_registry(path: str, mtime: int, size: int) -> Registry:
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot read the instruments file: {error}") from None
    built_in = built_in_registry().instruments
    added = _parse(text, path)
    for key, instrument in added.items():
        if key in built_in:
            raise SettingsError(
                f"{path}: [{instrument.name}]: {built_in[key].name} is built in and means the "
                "same everywhere; give your measure another name"
            )
    return _registry({**built_in, **added})


def _registry(instruments: dict[str, Instrument]) -> Registry:
    by_unit = {
        " ".join(i.unit.lower().split()): i
        for i in instruments.values()
        if i.kind == "behavior" and i.unit
    }
    return Registry(instruments, by_unit)


_FIELDS: dict[str, tuple[type | tuple[type, ...], bool]] = {
    # key: (type, required)
    "title": (str, True),
    "kind": (str, False),
    "min": ((int, float), True),
    "max": ((int, float), False),
    "unit": (str, False),
    "lower_is_better": (bool, True),
    "loinc": (str, False),
    "cutoff": ((int, float), False),
    "cutoff_meaning": (str, False),
    "bands": (list, False),
    "response_percent": ((int, float), False),
    "remission_below": ((int, float), False),
    "remission_above": ((int, float), False),
    "meaningful_change": ((int, float), False),
    "source": (str, False),
}


def _parse(text: str, path: str) -> dict[str, Instrument]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: not valid TOML: {error}") from None
    problems: list[str] = []
    instruments = {}
    for name, entry in data.items():
        where = f"{path}: [{name}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table of the measure's fields")
            continue
        before = len(problems)
        _check_entry(where, entry, problems)
        if len(problems) == before:
            instruments[name.upper()] = _instrument(name, entry)
    if problems:
        raise SettingsError("\n".join(problems))
    return instruments


def _check_entry(where: str, entry: dict[str, Any], problems: list[str]) -> None:
    for key, value in entry.items():
        if key not in _FIELDS:
            hint = difflib.get_close_matches(key, list(_FIELDS), n=1)
            problems.append(
                f"{where}.{key}: unknown key" + (f"; did you mean '{hint[0]}'?" if hint else "")
            )
        elif not isinstance(value, _FIELDS[key][0]) or (
            isinstance(value, bool) and key != "lower_is_better"
        ):
            problems.append(f"{where}.{key}: wrong type ({type(value).__name__})")
        elif _FIELDS[key][0] == (int, float) and (problem := _score_problem(value)):
            problems.append(f"{where}.{key}: {problem}")
    for key, (_, required) in _FIELDS.items():
        if required and key not in entry:
            problems.append(f"{where}: {key} is missing")
    kind = entry.get("kind", "scale")
    if kind not in ("scale", "behavior"):
        problems.append(f"{where}.kind: must be 'scale' or 'behavior'")
    elif kind == "scale" and "max" not in entry:
        problems.append(f"{where}: max is missing (a scale has a score range)")
    elif kind == "behavior" and not entry.get("unit"):
        problems.append(f"{where}: unit is missing (a behaviour is counted in a unit)")
    low, high = entry.get("min"), entry.get("max", math.inf)
    if isinstance(low, int | float) and isinstance(high, int | float) and low >= high:
        problems.append(f"{where}: min must be below max")
    bands = entry.get("bands", [])
    if isinstance(bands, list) and bands:
        _check_bands(where, bands, low, high, problems)


def _check_bands(where: str, bands: list[Any], low: Any, high: Any, problems: list[str]) -> None:
    edge = None
    for index, band in enumerate(bands):
        if not (
            isinstance(band, dict)
            and set(band) == {"min", "max", "label"}
            and isinstance(band["label"], str)
            and all(isinstance(band[k], int | float) for k in ("min", "max"))
        ):
            problems.append(f"{where}.bands[{index}]: must be {{ min, max, label }}")
            return
        problem = _score_problem(band["min"]) or _score_problem(band["max"])
        if problem:
            problems.append(f"{where}.bands[{index}]: {problem}")
            return
        if band["min"] > band["max"] or (edge is not None and band["min"] <= edge):
            problems.append(f"{where}.bands[{index}]: bands must rise without overlapping")
            return
        edge = band["max"]
    if bands[0]["min"] != low or bands[-1]["max"] != high:
        problems.append(f"{where}.bands: must cover the whole range, {low} to {high}")


def _score_problem(value: float) -> str | None:
    """A measure's numbers are scores, with a score's bounds (model.NUMBERS): TOML's
    `inf` and `nan`, or a range of 1e300, would leave nothing a chart can draw."""
    try:
        read_number(value, "score")
    except ValueError as error:
        return str(error)
    return None


def _instrument(name: str, entry: dict[str, Any]) -> Instrument:
    fields = dict(entry)
    fields["bands"] = tuple(Band(b["min"], b["max"], b["label"]) for b in entry.get("bands", []))
    fields.setdefault("max", math.inf)
    return Instrument(name=name, **fields)
