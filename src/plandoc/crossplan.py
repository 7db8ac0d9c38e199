"""Cross-plan lint: the same goal or objective text used verbatim in many plans.

Accreditation surveyors' most common finding is a scripted plan: goals and
objectives copied word for word across clients instead of written for each.
Statements are compared after folding case, spaces and closing punctuation,
and only their hashes are kept, so no plan text is stored in a build manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from .model import Plan

DEFAULT_REPEAT_LIMIT = 3


@dataclass(frozen=True)
class Repeated:
    kind: str  # "goal" or "objective"
    plan_ids: tuple[str, ...]

    def message(self) -> str:
        shown = ", ".join(self.plan_ids[:10]) + (", ..." if len(self.plan_ids) > 10 else "")
        return (
            f"warning: the same {self.kind} statement is in {len(self.plan_ids)} plans ({shown}): "
            "accreditors look for goals and objectives written for each client"
        )


def statement_keys(plan: Plan) -> list[str]:
    """A hash for each goal and objective statement of the plan, prefixed with its kind."""
    keys = {f"g:{_hash(goal.statement)}" for goal in plan.goals}
    keys |= {f"o:{_hash(o.statement)}" for goal in plan.goals for o in goal.objectives}
    return sorted(keys)


def repeated_statements(
    plans: Iterable[tuple[str, Iterable[str]]], limit: int = DEFAULT_REPEAT_LIMIT
) -> list[Repeated]:
    """(plan id, statement keys) for each plan -> the statements in more than `limit` plans.

    Most statements are in one plan only, so the first plan of each is kept
    as a plain entry and a set is made only for statements seen again: this
    stays small at tens of thousands of plans.
    """
    first: dict[str, str] = {}
    again: dict[str, set[str]] = {}
    for plan_id, keys in plans:
        for key in keys:
            owner = first.setdefault(key, plan_id)
            if owner != plan_id:
                again.setdefault(key, {owner}).add(plan_id)
    kinds = {"g": "goal", "o": "objective"}
    return [
        Repeated(kinds[key.split(":", 1)[0]], tuple(sorted(ids)))
        for key, ids in sorted(again.items(), key=lambda item: (item[0][0], sorted(item[1])))
        if len(ids) > limit
    ]


def _hash(statement: str) -> str:
    folded = " ".join(statement.casefold().split()).rstrip(".!;: ")
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()[:16]
