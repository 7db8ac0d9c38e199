"""Read and check one plan file: every problem of the file, collected, never raised.

`check_file` runs the plan's path up to the documents: read (planfile) ->
typed plan (model) -> the format's checks (plan_checks) -> each layout's rules
(layout_rules). What it returns, a `CheckedPlan`, says whether each layout may
render the plan.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from plandoc.checks.layout_rules import RuleContext
from plandoc.checks.plan_checks import (
    CheckOptions,
    check_file_name,
    check_parts,
    check_plan,
    plan_id_problem,
    review_due,
    stale_safety_plan,
)
from plandoc.errors import LayoutError, PlandocError
from plandoc.layouts import DEFAULT_LAYOUT, Layout, find_layout
from plandoc.layouts.languages import language_for, missing_language_message
from plandoc.model.instruments import Registry, built_in_registry, load_registry
from plandoc.model.plan import NOT_FINITE, Plan, no_one_to_call, parse_plan, valid_parts
from plandoc.model.service_codes import ServiceCodes, load_codes
from plandoc.planfile.placeholders import placeholder
from plandoc.planfile.read import PlanSource, leaves, read_bytes, read_plan
from plandoc.problems import (
    UNPRINTABLE,
    Finding,
    Problem,
    Severity,
    internal_error,
    plan_value,
    unprintable,
)
from plandoc.settings import Settings


@dataclass
class CheckedPlan:
    """A plan file after reading and checking: the plan (when readable) and every problem.

    `problems` are the plan's own; `layout_problems` are each layout's rules
    broken by the plan. A plan renders in a layout when neither has errors.
    """

    source: PlanSource
    plan: Plan | None = None
    problems: list[Problem] = field(default_factory=list)
    layouts: list[Layout] = field(default_factory=list)
    superseded: bool = False  # a newer version of the plan was checked in the same run
    layout_problems: dict[str, list[Problem]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def layout(self) -> Layout | None:
        """The first (usually the only) layout the plan was checked against."""
        return self.layouts[0] if self.layouts else None

    @property
    def all_problems(self) -> list[Problem]:
        return self.problems + [p for ps in self.layout_problems.values() for p in ps]

    def failed(self, strict: bool = False) -> bool:
        """The plan itself is unusable, or fails every layout it was checked against."""
        if self.plan is None or _fails(self.problems, strict):
            return True
        return bool(self.layouts) and all(self.layout_failed(lay, strict) for lay in self.layouts)

    def layout_failed(self, layout: Layout, strict: bool = False) -> bool:
        return _fails(self.problems, strict) or _fails(
            self.layout_problems.get(layout.name, []), strict
        )

    def any_failed(self, strict: bool = False) -> bool:
        return self.failed(strict) or any(self.layout_failed(lay, strict) for lay in self.layouts)


def _fails(problems: list[Problem], strict: bool) -> bool:
    return any(p.severity is Severity.ERROR or strict for p in problems)


STILL_TO_FILL = "still to fill: "
SHADOWING = (STILL_TO_FILL, UNPRINTABLE, NOT_FINITE)  # say only this of a field


def unusable_value(value: Any) -> str | None:
    """Why no document can carry this value (a control character in a text, a number
    that is not finite: YAML's .inf and .nan), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{NOT_FINITE} ({plan_value(value)})"
    if isinstance(value, str):
        return unprintable(value)
    return None


def _value_findings(data: Any) -> list[Finding]:
    """One walk over the plain data: placeholders left, and values no document can carry."""
    findings = []
    for path, value in leaves(data):
        what = placeholder(value)  # a skeleton's "FILL IN: ..." not yet filled
        if what is not None:
            findings.append(Finding(path, f"{STILL_TO_FILL}{plan_value(what)}"))
        elif (why := unusable_value(value)) is not None:
            findings.append(Finding(path, why))
    return findings


def check_file(
    path: Path,
    layout_names: Iterable[str] | str | None = None,
    layout_folders: Iterable[Path] = (),
    today: dt.date | None = None,
    instruments: Registry | None = None,
    *,
    newer_version: bool = False,
    practice: dict[str, Any] | None = None,
    service_codes: ServiceCodes | None = None,
    raw: bytes | None = None,
) -> CheckedPlan:
    """Read and check one plan file (or its bytes `raw`); problems are collected, never raised.

    The layouts are `layout_names` when given, else the plan's own
    `plan.layout`, else `standard`; each layout's rules are checked. An
    unknown layout named by the command line raises LayoutError; one named
    by the plan is a problem of that plan. `today` is needed by the checks
    that bound a date by today's (skipped without it). `instruments` are the
    measures known (default: the built-in ones), `service_codes` the CPT and
    HCPCS codes (default: the built-in ones). A placeholder left from
    `plandoc new`, or a character no document can carry (NUL, other control
    characters, U+FFFE, a lone surrogate), is one problem of its field, and
    nothing else is said of that field.
    """
    checked = _check_file(
        path, layout_names, layout_folders, today, instruments, newer_version, practice,
        service_codes, raw,
    )  # fmt: skip
    _at_most(checked, MOST_PROBLEMS)
    unfilled = {p.field for p in checked.all_problems if p.message.startswith(SHADOWING)}
    if unfilled:

        def keep(problem: Problem) -> bool:
            within = any(problem.field[: len(path)] == path for path in unfilled)
            return problem.message.startswith(SHADOWING) or not within

        checked.problems = [p for p in checked.problems if keep(p)]
        checked.layout_problems = {
            name: [p for p in problems if keep(p)]
            for name, problems in checked.layout_problems.items()
        }
    return checked


# The problems said of one plan: past this many, one more line counts the rest. Beyond
# it a person fixes the first ones and validates again; it bounds the output of a plan
# full of the same mistake (150,000 unknown method references fit in 2 MiB).
MOST_PROBLEMS = 1000


def _at_most(checked: CheckedPlan, most: int) -> None:
    total = len(checked.all_problems)
    if total <= most:
        return
    kept = checked.problems[:most]
    checked.layout_problems = {
        name: problems[: max(most - len(kept), 0)]
        for name, problems in checked.layout_problems.items()
    }
    shown = len(kept) + sum(len(p) for p in checked.layout_problems.values())
    rest = Problem(
        checked.name,
        None,
        (),
        f"and {total - shown:,} more problems; fix these, then validate again (docs: Limits)",
        Severity.ERROR if any(p.severity is Severity.ERROR for p in checked.all_problems)
        else Severity.WARNING,
    )  # fmt: skip
    checked.problems = [*kept, rest]


def _check_file(
    path: Path,
    layout_names: Iterable[str] | str | None,
    layout_folders: Iterable[Path],
    today: dt.date | None,
    instruments: Registry | None,
    newer_version: bool,
    practice: dict[str, Any] | None,
    service_codes: ServiceCodes | None = None,
    raw: bytes | None = None,
) -> CheckedPlan:
    registry = instruments or built_in_registry()
    names = [layout_names] if isinstance(layout_names, str) else list(layout_names or [])
    folders = list(layout_folders)
    source = read_plan(path) if raw is None else read_bytes(raw, path)
    checked = CheckedPlan(source, problems=list(source.problems))
    if source.data is None:
        return checked
    if practice:  # the clinic's (plandoc.toml's [practice]); the plan's own wins key by key
        own = source.data.get("practice")
        source.data["practice"] = {**practice, **own} if isinstance(own, dict) else (
            own if own is not None else dict(practice)
        )  # fmt: skip
    plan, findings = parse_plan(source.data)
    if plan is None and (contacts := no_one_to_call(source.data)) is not None:
        findings.append(contacts)  # beside the safety plan's other problems, said once
    findings = list(dict.fromkeys(findings + _value_findings(source.data)))  # .inf: said once
    checked.problems += _locate(source, findings)
    if plan is None:
        # Still report what the cross-field checks find in the parts that are valid.
        parts = valid_parts(source.data)
        known = {(f.field, f.message) for f in findings}
        interval = _review_interval(source.data, names, folders)
        options = CheckOptions(interval, registry, today, service_codes)
        extra = [f for f in check_parts(parts, options) if (f.field, f.message) not in known]
        checked.problems += _locate(source, extra)
        checked.problems.sort(key=lambda p: p.line or 0)
        return checked
    checked.plan = plan
    return _check_model(
        checked, plan, names, folders, today, registry, path.name, newer_version, service_codes
    )


def _check_model(
    checked: CheckedPlan,
    plan: Plan,
    names: list[str],
    folders: list[Path],
    today: dt.date | None,
    registry: Registry,
    file_name: str | None,
    newer_version: bool = False,
    service_codes: ServiceCodes | None = None,
) -> CheckedPlan:
    """The typed plan's checks: the format's, then each layout's rules."""
    source = checked.source
    for name in names or [plan.plan.layout or DEFAULT_LAYOUT]:
        try:
            checked.layouts.append(find_layout(name, folders))
        except LayoutError as error:
            if names:
                raise
            line = source.source_map.line_of(("plan", "layout"))
            checked.problems.append(Problem(source.name, line, ("plan", "layout"), error.message))
            checked.plan = None
            return checked
    intervals = [layout.review_interval_days for layout in checked.layouts]
    interval = None if None in intervals else min(intervals)  # type: ignore[type-var]
    options = CheckOptions(interval, registry, today, service_codes)
    checked.problems += _locate(source, check_plan(plan, options))
    if file_name is not None:
        checked.problems += _locate(source, check_file_name(file_name, plan))
    for layout in checked.layouts:
        due = review_due(plan, layout.review_interval_days)
        context = RuleContext(
            today, due, newer_version, service_codes,
            plan_path=source.path if file_name is not None else None,
        )  # fmt: skip
        found = [f for rule in layout.rules for f in rule.check(plan, context)]
        if stale := stale_safety_plan(plan, layout.review_interval_days, due, today):
            found.append(stale)
        findings = [
            Finding(f.field, f"[{layout.name}] {f.message}", f.severity, f.unless_newer_version)
            for f in found
        ]
        if language_for(layout, plan.plan.language) is None:  # a translated layout
            message = missing_language_message(layout, plan_value(plan.plan.language, quote=True))
            findings.insert(0, Finding(("plan", "language"), message))
        checked.layout_problems[layout.name] = _locate(source, findings)
    return checked


def check_model(
    plan: Plan,
    layout_names: Iterable[str] | str | None = None,
    layout_folders: Iterable[Path] = (),
    today: dt.date | None = None,
    instruments: Registry | None = None,
    service_codes: ServiceCodes | None = None,
) -> CheckedPlan:
    """`check_file` for a plan already in memory (a `Plan`): the same checks but the
    file's own (its name); problems name the plan's id as their file, without lines."""
    names = [layout_names] if isinstance(layout_names, str) else list(layout_names or [])
    source = PlanSource(Path(f"plan {plan.plan.id} v{plan.plan.version}"), None)
    checked = CheckedPlan(source, plan=plan)
    registry = instruments or built_in_registry()
    return _check_model(
        checked, plan, names, list(layout_folders), today, registry, None, False, service_codes
    )


def check_path(
    path: str | os.PathLike[str],
    settings: Settings,
    layouts: Iterable[str] | str | None = None,
    as_of: dt.date | None = None,
    newer_version: bool = False,
    raw: bytes | None = None,
) -> CheckedPlan:
    """`check_file` with the settings' layouts, layout folders and measures.

    A bug of plandoc's while checking is one problem of the plan ("internal
    error ... please report it"), never a traceback; an unknown layout named
    by the settings or the command line raises LayoutError. The settings'
    `practice` (plandoc.toml's [practice]) fills the plan's, key by key;
    `newer_version` says a newer version of this plan is in the same run (a
    rule may stand aside for it: an old version still rebuilds). `raw` is the
    file's bytes when they were read already (from a URL: `path` then names it).
    """
    chosen = settings.layouts if layouts is None else layouts
    registry = load_registry(settings.instruments)
    codes = load_codes(settings.service_codes)
    try:
        return check_file(
            Path(path),
            chosen,
            settings.layout_folders,
            as_of,
            registry,
            newer_version=newer_version,
            practice=settings.practice,
            service_codes=codes,
            raw=raw,
        )
    except PlandocError:
        raise
    except Exception as error:  # a bug of ours: say so without a traceback or plan values
        checked = CheckedPlan(PlanSource(Path(path), None))
        checked.problems.append(internal_error(str(path), "checking", error))
        return checked


def plan_id_and_version(checked: CheckedPlan) -> tuple[str, int] | None:
    """The plan's id and version, from its model, or read from its data when the model
    could not be made: an invalid newer version still marks an older one as history,
    whatever made it invalid."""
    if checked.plan is not None:
        return checked.plan.plan.id, checked.plan.plan.version
    data = checked.source.data
    info = data.get("plan") if isinstance(data, dict) else None
    if not isinstance(info, dict):
        return None
    plan_id, version = info.get("id"), info.get("version")
    if not isinstance(plan_id, str) or plan_id_problem(plan_id) is not None:
        return None
    if type(version) is not int or version < 1:
        return None
    return plan_id, version


def check_paths(
    paths: Iterable[Path | str],
    settings: Settings,
    layouts: Iterable[str] | str | None = None,
    as_of: dt.date | None = None,
) -> Iterator[CheckedPlan]:
    """`check_path` on each file, in order, with the versions of a plan seen together.

    A rule may stand aside for a plan that a newer version replaces
    (`unless_newer_version`: an overdue review). A file such a rule found
    something in waits until every file was checked; when a newer version of
    its plan (same id, compared case-folded; higher version) was among them, it
    is checked again with `newer_version`. Those files come last, in order.
    """
    latest: dict[str, int] = {}
    waiting: list[CheckedPlan] = []
    for path in paths:
        checked = check_path(path, settings, layouts, as_of)
        if (known := plan_id_and_version(checked)) is not None:
            key, version = known[0].casefold(), known[1]
            latest[key] = max(latest.get(key, 0), version)
        if checked.plan is not None and any(p.unless_newer_version for p in checked.all_problems):
            waiting.append(checked)
        else:
            yield checked
    for checked in waiting:
        assert checked.plan is not None
        info = checked.plan.plan
        if latest[info.id.casefold()] > info.version:
            checked = check_path(checked.source.path, settings, layouts, as_of, newer_version=True)
            checked.superseded = True
        yield checked


def _review_interval(data: object, names: list[str], folders: list[Path]) -> int | None:
    """The review interval of an unreadable plan's layouts, when they can be found."""
    plan_part = data.get("plan") if isinstance(data, dict) else None
    own = plan_part.get("layout") if isinstance(plan_part, dict) else None
    intervals = []
    for name in names or [own if isinstance(own, str) else DEFAULT_LAYOUT]:
        try:
            intervals.append(find_layout(name, folders).review_interval_days)
        except LayoutError:
            return None
    return None if None in intervals else min(intervals)  # type: ignore[type-var]


def _locate(source: PlanSource, findings: Iterable[Finding]) -> list[Problem]:
    return [
        Problem(
            source.name,
            source.source_map.line_of(f.field),
            f.field,
            f.message,
            f.severity,
            f.unless_newer_version,
        )
        for f in findings
    ]
