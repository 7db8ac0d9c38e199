"""What `plandoc validate` reports of many plans: counts, copied statements, the JSON report.

A `Validation` takes checked plans one at a time and keeps only counts, each
plan's id and its statements' hashes (for the copied-goals warning) and, for
the JSON report, a small entry per plan: never a checked plan itself, so a
folder of 10,000 plans costs little memory. The JSON holds no plan value, and
input paths only when asked (`names`).
"""

from __future__ import annotations

from typing import Any

from plandoc._version import __version__
from plandoc.checks.crossplan import Repeated, StatementIndex, statement_keys
from plandoc.checks.file import CheckedPlan
from plandoc.checks.plan_checks import shown_plan_id
from plandoc.problems import Severity, file_key


class Validation:
    """The plans checked so far (see the module's description)."""

    def __init__(self, strict: bool, keep_entries: bool = False, names: bool = False) -> None:
        self.strict = strict
        self.names = names
        self.keep_entries = keep_entries
        self.plans = self.failed = self.errors = self.warnings = 0
        self.entries: list[dict[str, Any]] = []
        self._statements = StatementIndex()
        self._plan_ids: list[str] = []

    def add(self, checked: CheckedPlan) -> None:
        problems = checked.all_problems
        self.plans += 1
        self.failed += checked.any_failed(self.strict)
        self.errors += sum(p.severity is Severity.ERROR for p in problems)
        self.warnings += sum(p.severity is Severity.WARNING for p in problems)
        if checked.plan is not None:
            self._statements.add(len(self._plan_ids), statement_keys(checked.plan))
            self._plan_ids.append(checked.plan.plan.id)
        if self.keep_entries:
            self.entries.append(self.entry(checked))

    def repeated(self, limit: int) -> list[Repeated]:
        """Goal and objective statements in more than `limit` plans (scripted plans)."""
        return self._statements.repeated(self._plan_ids.__getitem__, limit)

    def summary(self) -> str:
        plans = "plan" if self.plans == 1 else "plans"
        return (
            f"{self.plans} {plans} checked: {self.plans - self.failed} ok, {self.failed} failed "
            f"({self.errors} errors, {self.warnings} warnings)"
        )

    def entry(self, checked: CheckedPlan) -> dict[str, Any]:
        """One plan in the JSON report: never a plan value; its path only with `names`."""
        plan = checked.plan
        return {
            **({"file": checked.name} if self.names else {"file_key": file_key(checked.name)}),
            "plan_id": shown_plan_id(plan.plan.id) if plan else None,
            "version": plan.plan.version if plan else None,
            "valid": not checked.any_failed(self.strict),
            "layouts": [layout.name for layout in checked.layouts],
            "problems": [p.as_dict(self.names) for p in checked.all_problems],
        }

    def report(self, repeated: list[Repeated]) -> dict[str, Any]:
        """The JSON report (`validate --format json`)."""
        return {
            "plandoc": __version__,
            "strict": self.strict,
            "plans": self.entries,
            "repeated_statements": [r.as_report() for r in repeated],
        }
