"""Payer rules as data: what a layout's manifest says a plan must hold.

A rule is one `[[rules]]` table of `layout.toml`, with a one-line `message`
and the public `source` it comes from, and one of four kinds:

    require = ["services", "goals[*].client_words"]    # each must be present, non-empty
    require_any = ["signatures[role=client]", "signatures[role=guardian]"]   # one of them
    from = "plan.effective"  to = "goals[*].target_date"  max_days = 365     # a bound
    check = "service-time"       # one of plandoc's named checks (checks/named.py)

A check's message says `{detail}` where the check's finding goes ("90834 is for
sessions of 38 to 52 minutes and this one is planned at 53 minutes: bill 90837").

A bound's message may name its dates: `{from}` and `{to}` are replaced by them.

A rule may apply only when a field has one of some values, or when each of
several fields does:

    when = { field = "assessment.risk.level", in = ["moderate", "high", "imminent"] }
    when = [{ field = "plan.status", in = ["active"] }, { field = "...", in = [...] }]

and may stand aside for a plan that a newer version of it replaces in the same
run (`unless_newer_version = true`: an old version still rebuilds).

The source is a table naming the public document, the section, its address
and what it says (`source = { document = "...", section = "...", url =
"https://...", says = "...", cite = "..." }`); a clinic's own layout may give
one line of text instead. Each problem cites the source: its short `cite`, else
the document and section.

Paths are the input format's keys joined by dots; `[*]` means every item of a
list (the rule then applies to each one), `[key=value]` the items whose key
has that value. Bounds may also use `today`, `review_due` (the plan's review
date, or the layout's interval after the last review) and `last_review`
(`plan.last_reviewed`, else `plan.effective`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from plandoc.problems import FieldPath, Finding, Severity, plan_value

SPECIAL_DATES = ("today", "review_due", "last_review")
_SEGMENT = re.compile(r"([a-z_]+)(?:\[(\*|[a-z_]+=[A-Za-z0-9_.-]+)\])?")


@dataclass(frozen=True, slots=True)
class RuleContext:
    today: dt.date | None
    review_due: dt.date | None
    newer_version: bool = False  # a newer version of this plan is in the same run
    service_codes: Any = None  # the codes known (model.service_codes); None: built-in
    crisis_lines: Any = None  # the crisis lines known (model.crisis_lines); None: built-in


@dataclass(frozen=True, slots=True)
class Source:
    """Where a rule comes from: the public document, its section, its address, what it says."""

    document: str
    section: str = ""
    url: str = ""
    says: str = ""
    short: str = ""  # the citation problems give (`cite` in layout.toml)

    def cite(self) -> str:
        if self.short:
            return self.short
        return f"{self.document}, {self.section}" if self.section else self.document


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    message: str
    source: Source
    severity: Severity = Severity.ERROR
    require: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    max_days: int | None = None
    when: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field, values): all must hold
    unless_newer_version: bool = False
    check_name: str | None = None

    @property
    def kind(self) -> str:
        if self.check_name is not None:
            from plandoc.checks.named import NAMED

            checks = (
                f"{self.check_name}: {(NAMED[self.check_name].__doc__ or '').strip().rstrip('.')}"
            )
        elif self.max_days is not None:
            checks = f"{self.end} at most {self.max_days} days after {self.start}"
        elif self.require_any:
            checks = "one of: " + ", ".join(self.require_any)
        else:
            checks = "required: " + ", ".join(self.require)
        for number, (field, values) in enumerate(self.when):
            checks += f"{', when' if number == 0 else ' and'} {field} is {' or '.join(values)}"
        if self.unless_newer_version:
            checks += ", unless a newer version of the plan is in the same run"
        return checks

    def applies(self, plan: Any, context: RuleContext) -> bool:
        if self.unless_newer_version and context.newer_version:
            return False
        return all(
            any(str(value) in values for _, value in resolve(plan, field))
            for field, values in self.when
        )

    def check(self, plan: Any, context: RuleContext) -> list[Finding]:
        if not self.applies(plan, context):
            return []
        if self.check_name is not None:
            from plandoc.checks.named import NAMED

            return [
                self._finding(where, detail=detail)
                for where, detail in NAMED[self.check_name](plan, context)
            ]
        if self.max_days is not None:
            return self._check_bound(plan, context)
        if self.require_any:
            if any(
                _present(value) for path in self.require_any for _, value in resolve(plan, path)
            ):
                return []
            return [self._finding(_parent(self.require_any[0]))]
        missing = [where for path in self.require for where in _missing(plan, path)]
        return [self._finding(where) for where in dict.fromkeys(missing)]  # each place once

    def _check_bound(self, plan: Any, context: RuleContext) -> list[Finding]:
        assert self.start and self.end and self.max_days is not None
        findings = []
        for start_path, start in _dates(plan, self.start, context):
            for end_path, end in _dates(plan, self.end, context):
                if (end - start).days > self.max_days:
                    findings.append(
                        self._finding(end_path or start_path, {"{from}": start, "{to}": end})
                    )
        return findings

    def _finding(
        self, path: FieldPath, dates: dict[str, dt.date] | None = None, detail: str = ""
    ) -> Finding:
        message = self.message
        for slot, date in (dates or {}).items():  # a bound's message may name its two dates
            message = message.replace(slot, plan_value(date.isoformat()))
        message = message.replace("{detail}", detail)  # a check's finding
        message = f"{message} ({self.source.cite()})"
        return Finding(path, message, self.severity, self.unless_newer_version)


def resolve(plan: Any, path: str) -> list[tuple[FieldPath, Any]]:
    """Every (field path, value) the rule path reaches in the plan."""
    found: list[tuple[FieldPath, Any]] = [((), plan)]
    for name, selector in _segments(path):
        reached: list[tuple[FieldPath, Any]] = []
        for where, obj in found:
            value = getattr(obj, name, None)
            if value is None:
                continue
            if not selector:
                reached.append(((*where, name), value))
                continue
            for index, item in enumerate(value):
                if selector == "*" or _matches(item, selector):
                    reached.append(((*where, name, index), item))
        found = reached
    return found


def _matches(item: Any, selector: str) -> bool:
    key, wanted = selector.split("=", 1)
    return str(getattr(item, key, "")) == wanted


def _segments(path: str) -> list[tuple[str, str | None]]:
    return [
        (match.group(1), match.group(2))
        for match in (_SEGMENT.fullmatch(part) for part in path.split("."))
        if match
    ]


def _present(value: Any) -> bool:
    return value not in (None, "", [], ())


def _missing(plan: Any, path: str) -> list[FieldPath]:
    """Where `path` is absent: once per item of its last `[*]` list, or once for the plan."""
    head, star, tail = path.rpartition("[*]")
    if not star:
        return [] if any(_present(v) for _, v in resolve(plan, path)) else [_absent(plan, path)]
    missing = []
    for where, item in resolve(plan, head + star):
        rest = tail.lstrip(".")
        if rest and not any(_present(v) for _, v in resolve(item, rest)):
            missing.append((*where, *_parent(rest)))
    return missing


def _absent(plan: Any, path: str) -> FieldPath:
    """Where a plain path stops: `medical_necessity.rationale` is reported at
    `medical_necessity` when the plan has none, so a rule naming three of its
    fields says so once."""
    names: list[str | int] = []
    for name, selector in _segments(path):
        names.append(name)
        if selector or not resolve(plan, ".".join(str(n) for n in names)):
            break
    return tuple(names)


def _parent(path: str) -> FieldPath:
    """The field path to report for a rule path that reached nothing.

    Up to the first list filter: `signatures[role=client].date` is reported
    at `signatures`, where the missing signature would go.
    """
    names: list[str | int] = []
    for name, selector in _segments(path):
        names.append(name)
        if selector:
            break
    return tuple(names)


def _dates(plan: Any, path: str, context: RuleContext) -> list[tuple[FieldPath, dt.date]]:
    if path == "today":
        return [((), context.today)] if context.today else []
    if path == "review_due":
        return [(("plan", "review_by"), context.review_due)] if context.review_due else []
    if path == "last_review":
        info = plan.plan
        return [(("plan", "last_reviewed"), info.last_reviewed or info.effective)]
    return [(where, value) for where, value in resolve(plan, path) if isinstance(value, dt.date)]


# --- rules from a manifest (layouts/manifest.py checks their shape) ----------------


def rules_from(tables: tuple[Any, ...]) -> tuple[Rule, ...]:
    """The manifest's `[[rules]]` tables (layouts.manifest.RuleTable) as rules to check."""
    return tuple(
        Rule(
            id=table.id or f"rule-{number}",
            message=table.message,
            source=(
                Source(table.source)
                if isinstance(table.source, str)
                else Source(
                    **table.source.model_dump(exclude={"cite"}), short=table.source.cite or ""
                )
            ),
            severity=Severity(table.severity),
            require=table.require,
            require_any=table.require_any,
            start=table.start,
            end=table.end,
            max_days=table.max_days,
            when=tuple((when.field, when.values) for when in _conditions(table.when)),
            unless_newer_version=table.unless_newer_version,
            check_name=table.check,
        )
        for number, table in enumerate(tables, 1)
    )


def _conditions(when: Any) -> tuple[Any, ...]:
    """A rule's `when`: none, one table, or a list of tables."""
    if when is None:
        return ()
    return when if isinstance(when, tuple) else (when,)


def field_values(path: str) -> tuple[str, ...]:
    """The values a plan field may hold when the format fixes them (a risk level, a
    status), else ()."""
    import typing

    from plandoc.model.plan import Plan, model_in

    model: Any = Plan
    annotation: Any = None
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        fields = getattr(model, "model_fields", {}) if model else {}
        if match is None or match.group(1) not in fields:
            return ()
        annotation = fields[match.group(1)].annotation
        model = model_in(annotation)
    found: list[str] = []

    def literals(kind: Any) -> None:
        if typing.get_origin(kind) is typing.Literal:
            found.extend(str(arg) for arg in typing.get_args(kind))
        for arg in typing.get_args(kind):
            literals(arg)

    literals(annotation)
    return tuple(found)


def path_problem(path: str, want_date: bool = False) -> str | None:
    """Why a rule path names no field of the input format (a typo would never match), or None."""
    from plandoc.model.plan import Plan, model_in

    model: Any = Plan
    annotation: Any = None
    for part in path.split("."):
        match = _SEGMENT.fullmatch(part)
        fields = getattr(model, "model_fields", {}) if model else {}
        if match is None or match.group(1) not in fields:
            known = ", ".join(name for name in fields if name != "extensions")
            return f"'{path}' names no field of the plan at '{part}'; fields there: {known}"
        annotation = fields[match.group(1)].annotation
        model = model_in(annotation)
        selector = match.group(2)
        if selector and selector != "*":
            key = selector.split("=", 1)[0]
            if model is None or key not in model.model_fields:
                return f"'{path}': the items of '{match.group(1)}' have no field '{key}'"
    if want_date and "date" not in str(annotation):
        return f"'{path}' is not a date field"
    return None
