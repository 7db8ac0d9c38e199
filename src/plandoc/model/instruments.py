"""The measures plandoc knows: rating scales and counted behaviours (data in `instruments.toml`).

A `Registry` holds them by upper-case name. The built-in one ships with
plandoc; a clinic adds its own measures in a file of the same shape, named by
`instruments` in plandoc.toml, and gets a registry with both. A clinic file
cannot redefine a built-in measure: a PHQ-9 means the same thing everywhere.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    StrictBool,
    model_validator,
)

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
    """plandoc's own measures. The file is plandoc's own data, checked by the tests against
    the same model as a clinic's file, so it is read here without the model's cost."""
    import tomllib

    text = resources.files("plandoc.model").joinpath("instruments.toml").read_text("utf-8")
    return _registry(
        {
            name.upper(): _instrument(name, _Trusted(entry))
            for name, entry in tomllib.loads(text).items()
        }
    )


class _Trusted:
    """A built-in entry with the attributes of an `InstrumentEntry` (see built_in_registry)."""

    def __init__(self, entry: dict[str, Any]) -> None:
        self.entry = {key: entry.get(key, default) for key, default in _DEFAULTS.items()}
        self.entry["bands"] = tuple(BandEntry.model_construct(**b) for b in entry.get("bands", ()))
        self.bands = self.entry["bands"]
        self.max = self.entry["max"]

    def model_dump(self) -> dict[str, Any]:
        return dict(self.entry)


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


def _score(value: Any) -> Any:
    """A measure's numbers are scores, with a score's bounds (model.NUMBERS): TOML's
    `inf` and `nan`, or a range of 1e300, would leave nothing a chart can draw."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    read_number(value, "score")
    return value


ScoreValue = Annotated[float, BeforeValidator(_score)]


class BandEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    min: ScoreValue
    max: ScoreValue
    label: Annotated[str, Field(min_length=1)]


class InstrumentEntry(BaseModel):
    """One measure of an instruments file: `[NAME]` and its keys (see instruments.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    title: Annotated[str, Field(min_length=1)]
    kind: Literal["scale", "behavior"] = "scale"
    min: ScoreValue
    max: ScoreValue | None = None
    unit: str | None = None
    lower_is_better: StrictBool
    loinc: str | None = None
    cutoff: ScoreValue | None = None
    cutoff_meaning: str | None = None
    bands: tuple[BandEntry, ...] = ()
    response_percent: ScoreValue | None = None
    remission_below: ScoreValue | None = None
    remission_above: ScoreValue | None = None
    meaningful_change: ScoreValue | None = None
    source: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> InstrumentEntry:
        if self.kind == "scale" and self.max is None:
            raise ValueError("max: missing (a scale has a score range)")
        if self.kind == "behavior" and not self.unit:
            raise ValueError("unit: missing (a behaviour is counted in a unit)")
        high = math.inf if self.max is None else self.max
        if self.min >= high:
            raise ValueError("min: must be below max")
        edge = None
        for index, band in enumerate(self.bands):
            if band.min > band.max or (edge is not None and band.min <= edge):
                raise ValueError(f"bands[{index}]: bands must rise without overlapping")
            edge = band.max
        if self.bands and (self.bands[0].min != self.min or self.bands[-1].max != high):
            low_text, high_text = number_text(self.min), number_text(high)
            raise ValueError(f"bands: must cover the whole range, {low_text} to {high_text}")
        return self


class InstrumentsFile(RootModel[dict[str, InstrumentEntry]]):
    """An instruments file: measure name -> its entry."""

    model_config = ConfigDict(defer_build=True)  # built when a clinic's file is first read


_DEFAULTS = {name: field.default for name, field in InstrumentEntry.model_fields.items()}


def _parse(text: str, path: str) -> dict[str, Instrument]:
    from plandoc import tomlfile

    data = tomlfile.parse(Path(path), text)
    checked = tomlfile.validate(Path(path), text, data, InstrumentsFile)
    return {name.upper(): _instrument(name, entry) for name, entry in checked.root.items()}


def _instrument(name: str, entry: InstrumentEntry | _Trusted) -> Instrument:
    fields = entry.model_dump()
    fields["bands"] = tuple(Band(b.min, b.max, b.label) for b in entry.bands)
    fields["max"] = math.inf if entry.max is None else entry.max
    return Instrument(name=name, **fields)
