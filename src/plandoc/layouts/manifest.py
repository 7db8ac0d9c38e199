"""A layout's `layout.toml`, as data checked by pydantic models.

Every key a manifest may hold is a field here; a key left out is inherited
from the layout it `extends` (None below), or plandoc's default. A wrong
manifest is one `LayoutError` with a line per problem:
`templates/x/layout.toml:12: rules[1].max_days: must be a whole number`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from plandoc.checks.layout_rules import SPECIAL_DATES, field_values, path_problem

HeaderField = Literal["client_name", "preferred_name", "date_of_birth", "member_id", "plan_id"]
FormatName = Literal["md", "html", "docx", "pdf"]
# A language of a translated layout: a BCP 47 tag as its catalog's folder is named
# ("en", "es", "es-MX"): letters and digits, parts joined by "-".
LanguageTag = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Line = Annotated[str, Field(min_length=1)]
RulePaths = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ProgressTable(_Table):
    """`[progress]`: the thresholds of the "is it working" flags, and the charts."""

    stalled_after: Annotated[StrictInt, Field(ge=2, le=12)] | None = None
    worsening_percent: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    not_measured_after: Annotated[StrictInt, Field(ge=7, le=366)] | None = None  # days
    charts: StrictBool | None = None


class SourceTable(_Table):
    """A rule's source: the public document, its section, its address, and what it says."""

    document: Line
    section: Line
    url: str
    says: Line
    cite: Line | None = None  # the short citation messages give; default: document, section

    @field_validator("url")
    @classmethod
    def _public_address(cls, url: str) -> str:
        if not re.fullmatch(r"https://[^\s/]+\.[^\s/]+(/\S*)?", url):
            raise ValueError("the public address of the source, starting https://")
        return url


class WhenTable(_Table):
    """`when = { field = "assessment.risk.level", in = ["moderate", "high"] }`; a list of
    them means all must hold. A field with fixed values takes only those (a typo would
    make a rule that never applies)."""

    field: str
    values: Annotated[tuple[str, ...], Field(min_length=1)] = Field(alias="in")

    @field_validator("field")
    @classmethod
    def _a_field_of_the_plan(cls, path: str) -> str:
        if problem := path_problem(path):
            raise ValueError(problem)
        return path

    @model_validator(mode="after")
    def _values_it_can_have(self) -> WhenTable:
        allowed = field_values(self.field)
        unknown = [value for value in self.values if allowed and value not in allowed]
        if unknown:
            raise ValueError(
                f"in: {', '.join(repr(v) for v in unknown)} is not a value of {self.field} "
                f"({', '.join(allowed)})"
            )
        return self


class RuleTable(_Table):
    """One `[[rules]]` table: what a plan must hold for this layout, and the source saying so."""

    id: str | None = None
    message: Line
    source: Line | SourceTable
    when: WhenTable | tuple[WhenTable, ...] | None = None
    unless_newer_version: StrictBool = False
    severity: Literal["error", "warning"] = "error"
    require: RulePaths = ()
    require_any: RulePaths = ()
    start: str | None = Field(None, alias="from")
    end: str | None = Field(None, alias="to")
    max_days: StrictInt | None = None
    check: str | None = None

    @field_validator("check")
    @classmethod
    def _known_check(cls, value: str | None) -> str | None:
        from plandoc.checks.named import NAMED

        if value is not None and value not in NAMED:
            import difflib

            near = difflib.get_close_matches(value, list(NAMED), n=1)
            hint = f"; did you mean '{near[0]}'?" if near else ""
            raise ValueError(f"'{value}' is not one of plandoc's checks: {', '.join(NAMED)}{hint}")
        return value

    @field_validator("message")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value.strip():
            raise ValueError("must be one line")
        return value.strip()

    @field_validator("require", "require_any")
    @classmethod
    def _fields_of_the_plan(cls, paths: tuple[str, ...]) -> tuple[str, ...]:
        for path in paths:
            if problem := path_problem(path):
                raise ValueError(problem)
        return paths

    @model_validator(mode="after")
    def _one_kind(self) -> RuleTable:
        bound = (self.start, self.end, self.max_days)
        kinds = bool(self.require) + bool(self.require_any) + any(v is not None for v in bound)
        kinds += self.check is not None
        if kinds != 1:
            raise ValueError(
                "a rule has exactly one of: require, require_any, from/to/max_days, or check"
            )
        if any(v is not None for v in bound):
            if self.start is None or self.end is None or self.max_days is None:
                raise ValueError("a bound needs `from` and `to` (fields or dates) and `max_days`")
            for path in (self.start, self.end):
                if path not in SPECIAL_DATES and (problem := path_problem(path, want_date=True)):
                    raise ValueError(problem)
        return self


class LayoutManifest(_Table):
    """`layout.toml`: None means "the parent layout's", else plandoc's default."""

    name: str | None = None
    title: str | None = None
    description: str = ""
    extends: str | None = None
    formats: Annotated[tuple[FormatName, ...], Field(min_length=1)] | None = None
    page_size: Literal["letter", "a4"] | None = None
    date_format: str | None = None
    # 0: no interval; plans give plan.review_by (a layout whose payer sets none)
    review_interval_days: Annotated[StrictInt, Field(ge=0, le=366)] | None = None
    font_size: Annotated[StrictInt, Field(ge=8, le=16)] | None = None
    # The languages its documents are written in, English first (see docs/layouts.md)
    languages: tuple[LanguageTag, ...] | None = None
    large_print: StrictBool | None = None  # an 18-point body and wider spacing
    header: tuple[HeaderField, ...] | None = None
    footer: str | None = None
    rules: tuple[RuleTable, ...] = ()
    blocks: dict[str, str] = Field(default_factory=dict)
    progress: ProgressTable | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LayoutManifest:
        if self.formats and "pdf" in self.formats and "html" not in self.formats:
            raise ValueError("formats: pdf is made from the html: list html too")
        if self.blocks and self.extends is None:
            raise ValueError("blocks: blocks override a parent: add `extends`")
        ids = [rule.id for rule in self.rules if rule.id is not None]
        if twice := sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1}):
            raise ValueError(f"rules: the id {twice[0]!r} is given twice (ids name one rule)")
        return self
