"""Cross-plan lint: the same goal or objective text used verbatim in many plans.

Accreditation surveyors' most common finding is a scripted plan: goals and
objectives copied word for word across clients instead of written for each.
Statements are compared after folding case, spaces and closing punctuation,
and only their hashes are kept, so no plan text is stored in a build manifest.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from plandoc.checks.plan_checks import plan_id_text, shown_plan_id
from plandoc.model.plan import Plan

DEFAULT_REPEAT_LIMIT = 3


@dataclass(frozen=True)
class Repeated:
    kind: str  # "goal" or "objective"
    plan_ids: tuple[str, ...]

    def message(self) -> str:
        """The warning, naming the plans by id (an id without an id's shape is a value)."""
        ids = [plan_id_text(plan_id) for plan_id in self.plan_ids[:10]]
        shown = ", ".join(ids) + (", ..." if len(self.plan_ids) > 10 else "")
        return (
            f"warning: the same {self.kind} statement is in {len(self.plan_ids)} plans ({shown}): "
            "accreditors look for goals and objectives written for each client"
        )

    def as_report(self) -> dict[str, object]:
        """For a JSON report: the plan ids that have an id's shape (None for any other)."""
        return {"kind": self.kind, "plan_ids": [shown_plan_id(i) for i in self.plan_ids]}


def statement_keys(plan: Plan) -> list[str]:
    """A hash for each goal and objective statement of the plan, prefixed with its kind."""
    keys = {f"g:{_hash(goal.statement)}" for goal in plan.goals}
    keys |= {f"o:{_hash(o.statement)}" for goal in plan.goals for o in goal.objectives}
    return sorted(keys)


class StatementIndex:
    """Statement keys of many plans, in 12 bytes per statement, to find the repeated ones.

    Each key becomes a 64-bit number (its kind in the top bit) stored with the
    plan's number in flat arrays, bucketed by the top byte so that finding
    repeats sorts one small bucket at a time: memory stays flat at tens of
    thousands of plans, where a dict of strings would not.
    """

    def __init__(self) -> None:
        self.buckets: list[tuple[array, array]] = [(array("Q"), array("I")) for _ in range(256)]

    def add(self, plan_number: int, keys: Iterable[str]) -> None:
        for key in keys:
            kind, _, digest = key.partition(":")
            value = (_KIND_BITS[kind] << 63) | (int(digest, 16) >> 1)
            values, numbers = self.buckets[value >> 56]
            values.append(value)
            numbers.append(plan_number)

    def repeated(self, plan_id: Callable[[int], str], limit: int) -> list[Repeated]:
        """Statements in more than `limit` distinct plan ids (versions of a plan count once)."""
        found = []
        for values, numbers in self.buckets:
            order = sorted(range(len(values)), key=values.__getitem__)
            start = 0
            while start < len(order):
                end = start
                while end < len(order) and values[order[end]] == values[order[start]]:
                    end += 1
                if end - start > limit:
                    ids = {plan_id(numbers[i]) for i in order[start:end]}
                    if len(ids) > limit:
                        kind = "objective" if values[order[start]] >> 63 else "goal"
                        found.append(Repeated(kind, tuple(sorted(ids))))
                start = end
        return sorted(found, key=lambda item: (item.kind, item.plan_ids))


_KIND_BITS = {"g": 0, "o": 1}


def _hash(statement: str) -> str:
    folded = " ".join(statement.casefold().split()).rstrip(".!;: ")
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]
