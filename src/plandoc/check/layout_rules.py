"""Payer rules as data: what a layout's manifest says a plan must hold.

A rule is one `[[rules]]` table of `layout.toml`, with a one-line `message`
and the public `source` it comes from, and one of three kinds:

    require = ["services", "goals[*].client_words"]    # each must be present, non-empty
    require_any = ["signatures[role=client]", "signatures[role=guardian]"]   # one of them
    from = "plan.effective"  to = "goals[*].target_date"  max_days = 365     # a bound

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
from pathlib import Path
from typing import Any

from plandoc.problems import FieldPath, Finding, PlandocError, Severity

SPECIAL_DATES = ("today", "review_due", "last_review")
_SEGMENT = re.compile(r"([a-z_]+)(?:\[(\*|[a-z_]+=[A-Za-z0-9_.-]+)\])?")
_RULE_KEYS = {
    "id",
    "message",
    "source",
    "severity",
    "require",
    "require_any",
    "from",
    "to",
    "max_days",
}


@dataclass(frozen=True, slots=True)
class RuleContext:
    today: dt.date | None
    review_due: dt.date | None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    message: str
    source: str
    severity: Severity = Severity.ERROR
    require: tuple[str, ...] = ()
    require_any: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    max_days: int | None = None

    @property
    def kind(self) -> str:
        if self.max_days is not None:
            return f"{self.end} at most {self.max_days} days after {self.start}"
        if self.require_any:
            return "one of: " + ", ".join(self.require_any)
        return "required: " + ", ".join(self.require)

    def check(self, plan: Any, context: RuleContext) -> list[Finding]:
        if self.max_days is not None:
            return self._check_bound(plan, context)
        if self.require_any:
            if any(
                _present(value) for path in self.require_any for _, value in resolve(plan, path)
            ):
                return []
            return [self._finding(_parent(self.require_any[0]))]
        return [self._finding(missing) for path in self.require for missing in _missing(plan, path)]

    def _check_bound(self, plan: Any, context: RuleContext) -> list[Finding]:
        assert self.start and self.end and self.max_days is not None
        findings = []
        for start_path, start in _dates(plan, self.start, context):
            for end_path, end in _dates(plan, self.end, context):
                if (end - start).days > self.max_days:
                    findings.append(self._finding(end_path or start_path))
        return findings

    def _finding(self, path: FieldPath) -> Finding:
        return Finding(path, f"{self.message} ({self.source})", self.severity)


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
        return [] if any(_present(v) for _, v in resolve(plan, path)) else [_parent(path)]
    missing = []
    for where, item in resolve(plan, head + star):
        rest = tail.lstrip(".")
        if rest and not any(_present(v) for _, v in resolve(item, rest)):
            missing.append((*where, *_parent(rest)))
    return missing


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


# --- reading rules from a manifest -------------------------------------------


def parse_rules(tables: list[Any], manifest: Path, text: str) -> tuple[Rule, ...]:
    rules = []
    for number, table in enumerate(tables, 1):
        line = _rule_line(text, number)

        def fail(message: str, line: int = line) -> PlandocError:
            return PlandocError(f"{manifest}:{line}: rules: {message}")

        if not isinstance(table, dict):
            raise fail("each rule is a [[rules]] table")
        unknown = set(table) - _RULE_KEYS
        if unknown:
            raise fail(
                f"unknown key {sorted(unknown)[0]!r}; keys are: {', '.join(sorted(_RULE_KEYS))}"
            )
        for key in ("message", "source"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise fail(f"every rule needs a one-line `{key}`")
        severity = table.get("severity", "error")
        if severity not in ("error", "warning"):
            raise fail("severity must be 'error' or 'warning'")
        require = _paths(table.get("require", []), fail)
        require_any = _paths(table.get("require_any", []), fail)
        start, end, max_days = table.get("from"), table.get("to"), table.get("max_days")
        bound = (start, end, max_days)
        kinds = sum((bool(require), bool(require_any), any(v is not None for v in bound)))
        if kinds != 1:
            raise fail("a rule has exactly one of: require, require_any, or from/to/max_days")
        if any(v is not None for v in bound):
            if not (isinstance(start, str) and isinstance(end, str) and isinstance(max_days, int)):
                raise fail("a bound needs `from` and `to` (fields or dates) and `max_days`")
            for path in (start, end):
                if path not in SPECIAL_DATES:
                    _check_path(path, fail, want_date=True)
        rules.append(
            Rule(
                id=str(table.get("id", f"rule-{number}")),
                message=table["message"].strip(),
                source=table["source"].strip(),
                severity=Severity(severity),
                require=require,
                require_any=require_any,
                start=start,
                end=end,
                max_days=max_days,
            )
        )
    return tuple(rules)


def _paths(value: Any, fail: Any) -> tuple[str, ...]:
    paths = [value] if isinstance(value, str) else value
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise fail("`require` and `require_any` take a field path or a list of them")
    for path in paths:
        _check_path(path, fail)
    return tuple(paths)


def _check_path(path: str, fail: Any, want_date: bool = False) -> None:
    """A rule path must name fields the input format has (a typo would never match)."""
    from plandoc.model.plan import Plan, model_in

    model: Any = Plan
    parts = path.split(".")
    for part in parts:
        match = _SEGMENT.fullmatch(part)
        fields = getattr(model, "model_fields", {}) if model else {}
        if match is None or match.group(1) not in fields:
            known = ", ".join(name for name in fields if name != "extensions")
            raise fail(f"'{path}' names no field of the plan at '{part}'; fields there: {known}")
        annotation = fields[match.group(1)].annotation
        model = model_in(annotation)
        selector = match.group(2)
        if selector and selector != "*":
            key = selector.split("=", 1)[0]
            if model is None or key not in model.model_fields:
                raise fail(f"'{path}': the items of '{match.group(1)}' have no field '{key}'")
    if want_date and "date" not in str(annotation):
        raise fail(f"'{path}' is not a date field")


def _rule_line(text: str, number: int) -> int:
    """The line of the number-th `[[rules]]` table in the manifest."""
    starts = [m.start() for m in re.finditer(r"^[ \t]*\[\[[ \t]*rules[ \t]*\]\]", text, re.M)]
    if number <= len(starts):
        return text[: starts[number - 1]].count("\n") + 1
    match = re.search(r"^[ \t]*rules[ \t]*=", text, re.M)
    return text[: match.start()].count("\n") + 1 if match else 1
