"""What changed between two versions of one plan, in clinical terms.

`compare(old, new)` lists the changes a reviewer looks for: goals and
objectives added, removed, reworded or with a new status or target date;
measures changed; new (or corrected) scores; methods added, removed or
changed; diagnoses added, removed or re-ranked; the plan's status, dates,
time estimate and risk level; strengths, needs, abilities and preferences;
the safety plan (each list, the people to call, when it was gone over);
medical necessity; services and the authorization; the practice; revisions
recorded. Each change is one small
record; `as_text`, `as_markdown`, `as_html` and `as_json` print them.
Items are matched by their ids (goals, objectives, methods), codes
(diagnoses) and dates (scores), so a reordered list is not a change.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from plandoc.documents.markdown_text import escape_inline
from plandoc.model.plan import Goal, Objective, Plan, number_text

SECTIONS = (
    "plan", "care", "diagnoses", "goals", "objectives", "scores", "methods", "services",
    "revisions",
)  # fmt: skip
TITLES = {
    "plan": "Plan",
    "care": "Assessment, safety plan and medical necessity",
    "services": "Services and authorization",
    "diagnoses": "Diagnoses",
    "goals": "Goals",
    "objectives": "Objectives",
    "scores": "Scores",
    "methods": "Methods",
    "revisions": "Revisions",
}


@dataclass(frozen=True, slots=True)
class Change:
    section: str  # one of SECTIONS
    kind: str  # added, removed, reworded, status, moved, changed, new score...
    subject: str  # "goal G1", "objective G1.2", "diagnosis F43.10"...
    detail: str  # what it was and what it is

    def line(self) -> str:
        return f"{self.subject}: {self.kind}" + (f": {self.detail}" if self.detail else "")


def compare(old: Plan, new: Plan) -> list[Change]:
    changes = [
        *_plan_changes(old, new),
        *_diagnosis_changes(old, new),
        *_goal_changes(old, new),
        *_method_changes(old, new),
        *_care_changes(old, new),
        *_service_changes(old, new),
        *_revision_changes(old, new),
    ]
    order = {section: index for index, section in enumerate(SECTIONS)}
    return sorted(changes, key=lambda c: order[c.section])  # stable: plan order within


def _was(old: object, new: object) -> str:
    return f"{_show(old)} → {_show(new)}"


def _show(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, str):
        return f'"{value}"' if " " in value else value
    return str(value)


def _plan_changes(old: Plan, new: Plan) -> Iterator[Change]:
    for name in ("version", "status", "effective", "last_reviewed", "review_by", "layout"):
        before, after = getattr(old.plan, name), getattr(new.plan, name)
        if before != after:
            kind = "moved" if isinstance(after or before, dt.date) else "changed"
            yield Change("plan", kind, name.replace("_", " "), _was(before, after))
    before_time, after_time = old.time_estimate, new.time_estimate
    for name in ("sessions", "frequency", "weeks"):
        if getattr(before_time, name) != getattr(after_time, name):
            yield Change(
                "plan",
                "changed",
                f"time estimate {name}",
                _was(getattr(before_time, name), getattr(after_time, name)),
            )
    old_risk = old.assessment.risk.level if old.assessment.risk else None
    new_risk = new.assessment.risk.level if new.assessment.risk else None
    if old_risk != new_risk:
        yield Change("plan", "changed", "risk level", _was(old_risk, new_risk))


def _diagnosis_changes(old: Plan, new: Plan) -> Iterator[Change]:
    before = {d.code: d for d in old.diagnoses}
    after = {d.code: d for d in new.diagnoses}
    for code, diagnosis in after.items():
        subject = f"diagnosis {code}"
        if code not in before:
            primary = " (primary)" if diagnosis.primary else ""
            yield Change("diagnoses", "added", subject, f"{diagnosis.description}{primary}")
        elif before[code].primary != diagnosis.primary:
            yield Change(
                "diagnoses", "changed", subject,
                "now primary" if diagnosis.primary else "no longer primary",
            )  # fmt: skip
        elif before[code].description != diagnosis.description:
            yield Change(
                "diagnoses",
                "reworded",
                subject,
                _was(before[code].description, diagnosis.description),
            )
    for code, diagnosis in before.items():
        if code not in after:
            yield Change("diagnoses", "removed", f"diagnosis {code}", diagnosis.description)


def _goal_changes(old: Plan, new: Plan) -> Iterator[Change]:
    before = {g.id: g for g in old.goals}
    after = {g.id: g for g in new.goals}
    for goal_id, goal in after.items():
        subject = f"goal {goal_id}"
        if goal_id not in before:
            yield Change("goals", "added", subject, goal.statement)
            yield from _objective_changes([], goal)
            yield from _score_changes(None, goal)
            continue
        was = before[goal_id]
        yield from _common(was, goal, "goals", subject)
        if was.measure != goal.measure:
            yield Change("goals", "changed", f"{subject} measure", _measure_change(was, goal))
        yield from _objective_changes(was.objectives, goal)
        yield from _score_changes(was, goal)
    for goal_id, goal in before.items():
        if goal_id not in after:
            yield Change("goals", "removed", f"goal {goal_id}", goal.statement)


def _common(
    was: Goal | Objective, now: Goal | Objective, section: str, subject: str
) -> Iterator[Change]:
    if was.statement != now.statement:
        yield Change(section, "reworded", subject, _was(was.statement, now.statement))
    if (was.status or "not-started") != (now.status or "not-started"):
        status = _was(was.status or "not-started", now.status or "not-started")
        yield Change(section, "status", subject, status)
    if was.target_date != now.target_date:
        yield Change(
            section, "moved", f"{subject} target date", _was(was.target_date, now.target_date)
        )


def _measure_change(was: Goal, now: Goal) -> str:
    def describe(goal: Goal) -> str:
        measure = goal.measure
        name = getattr(measure, "instrument", None) or getattr(measure, "behavior", "")
        return f"{name} {number_text(measure.baseline)} → {number_text(measure.target)}"

    return f"{describe(was)}, now {describe(now)}"


def _objective_changes(objectives: list[Objective], now: Goal) -> Iterator[Change]:
    before = {o.id: o for o in objectives}
    after = {o.id: o for o in now.objectives}
    for objective_id, objective in after.items():
        subject = f"objective {objective_id}"
        if objective_id not in before:
            yield Change("objectives", "added", subject, objective.statement)
            continue
        yield from _common(before[objective_id], objective, "objectives", subject)
        if before[objective_id].methods != objective.methods:
            yield Change(
                "objectives", "changed", f"{subject} methods",
                _was(", ".join(before[objective_id].methods), ", ".join(objective.methods)),
            )  # fmt: skip
    for objective_id, objective in before.items():
        if objective_id not in after:
            yield Change("objectives", "removed", f"objective {objective_id}", objective.statement)


def _score_changes(was: Goal | None, now: Goal) -> Iterator[Change]:
    before = {e.date: e.score for e in (was.progress if was else []) if e.score is not None}
    subject = f"goal {now.id}"
    for entry in sorted(now.progress, key=lambda e: e.date):
        if entry.score is None:
            continue
        when = entry.date.isoformat()
        if entry.date not in before:
            yield Change("scores", "new score", subject, f"{number_text(entry.score)} on {when}")
        elif before[entry.date] != entry.score:
            yield Change(
                "scores",
                "score corrected",
                subject,
                f"{when}: {_was(before[entry.date], entry.score)}",
            )
    after = {e.date for e in now.progress if e.score is not None}
    for date in sorted(set(before) - after):
        yield Change(
            "scores", "score removed", subject, f"{number_text(before[date])} on {date.isoformat()}"
        )


def _method_changes(old: Plan, new: Plan) -> Iterator[Change]:
    before = {m.id: m for m in old.methods}
    after = {m.id: m for m in new.methods}
    for method_id, method in after.items():
        subject = f"method {method_id}"
        if method_id not in before:
            yield Change("methods", "added", subject, method.name)
            continue
        for name in ("name", "description", "responsible", "frequency", "session_minutes"):
            was, now = getattr(before[method_id], name), getattr(method, name)
            if was != now:
                yield Change(
                    "methods", "changed", f"{subject} {name.replace('_', ' ')}", _was(was, now)
                )
    for method_id, method in before.items():
        if method_id not in after:
            yield Change("methods", "removed", f"method {method_id}", method.name)


def _items(
    section: str, subject: str, before: Iterable[str], after: Iterable[str]
) -> Iterator[Change]:
    """Items of a list added or removed (a reordered list is not a change)."""
    was, now = list(before), list(after)
    for item in now:
        if item not in was:
            yield Change(section, "added", subject, item)
    for item in was:
        if item not in now:
            yield Change(section, "removed", subject, item)


def _fields(
    section: str, subject: str, was: object, now: object, names: Iterable[str]
) -> Iterator[Change]:
    for name in names:
        before, after = getattr(was, name, None), getattr(now, name, None)
        if before != after:
            kind = "moved" if isinstance(after or before, dt.date) else "changed"
            yield Change(section, kind, f"{subject} {name.replace('_', ' ')}", _was(before, after))


def _care_changes(old: Plan, new: Plan) -> Iterator[Change]:
    for name in ("strengths", "needs", "abilities", "preferences"):
        yield from _items(
            "care", name, getattr(old.assessment, name), getattr(new.assessment, name)
        )
    was, now = old.safety_plan, new.safety_plan
    if was is None and now is not None:
        yield Change("care", "added", "safety plan", f"gone over {now.reviewed.isoformat()}")
    elif was is not None and now is None:
        yield Change("care", "removed", "safety plan", "")
    elif was is not None and now is not None:
        yield from _fields("care", "safety plan", was, now, ("reviewed",))
        for name in (
            "warning_signs", "coping_strategies", "distractions", "means_safety",
            "reasons_for_living",
        ):  # fmt: skip
            subject = f"safety plan {name.replace('_', ' ')}"
            yield from _items("care", subject, getattr(was, name), getattr(now, name))
        for name in ("supports", "professionals"):
            people = [[f"{c.name}, {c.phone}" for c in getattr(p, name)] for p in (was, now)]
            yield from _items("care", f"safety plan {name}", *people)
    was_mn, now_mn = old.medical_necessity, new.medical_necessity
    if (was_mn is None) != (now_mn is None):
        kind = "added" if now_mn is not None else "removed"
        yield Change("care", kind, "medical necessity", "")
    elif was_mn is not None and now_mn is not None:
        yield from _fields("care", "medical necessity", was_mn, now_mn, ("level_of_care",))
        if was_mn.rationale != now_mn.rationale:
            yield Change("care", "reworded", "medical necessity rationale", "")
        impairments = [
            [f"{i.domain}: {i.description}" for i in m.functional_impairments]
            for m in (was_mn, now_mn)
        ]
        yield from _items("care", "functional impairment", *impairments)
    was_name = old.practice.name if old.practice else None
    now_name = new.practice.name if new.practice else None
    if was_name != now_name:
        yield Change("care", "changed", "practice", _was(was_name, now_name))


def _services_by_key(plan: Plan, counts: Counter[str]) -> dict[tuple[str, str], Any]:
    """Services by code, and by place of service when a code is listed more than once in
    either version (90837 in the office and 90837 by telehealth are two services)."""
    keyed: dict[tuple[str, str], Any] = {}
    for service in plan.services:
        where = (service.place_of_service or "") if counts[service.cpt] > 1 else ""
        key, number = (service.cpt, where), 1
        while key in keyed:  # the same code and place twice: by their order
            number += 1
            key = (service.cpt, f"{where}#{number}")
        keyed[key] = service
    return keyed


def _service_subject(key: tuple[str, str]) -> str:
    code, where = key
    place, _, number = where.partition("#")
    return (
        f"service {code}"
        + (f" (place {place})" if place else "")
        + (f" #{number}" if number else "")
    )


def _service_changes(old: Plan, new: Plan) -> Iterator[Change]:
    counts = Counter(s.cpt for s in old.services) | Counter(s.cpt for s in new.services)
    before, after = _services_by_key(old, counts), _services_by_key(new, counts)
    for key, service in after.items():
        subject = _service_subject(key)
        if key not in before:
            yield Change(
                "services", "added", subject, f"{service.units} units, {service.frequency}"
            )
            continue
        names = ("units", "frequency", "minutes", "method", "place_of_service", "modifiers")
        yield from _fields("services", subject, before[key], service, names)
    for key, service in before.items():
        if key not in after:
            yield Change("services", "removed", _service_subject(key), service.description)
    was = old.client.coverage.authorized if old.client.coverage else None
    now = new.client.coverage.authorized if new.client.coverage else None
    if was is not None or now is not None:
        names = ("number", "start", "end", "sessions", "used")
        yield from _fields("services", "authorization", was, now, names)


def _revision_changes(old: Plan, new: Plan) -> Iterator[Change]:
    known = {r.version for r in old.revisions}
    for revision in sorted(new.revisions, key=lambda r: r.version):
        if revision.version not in known:
            yield Change(
                "revisions", "added", f"revision {revision.version}",
                f"{revision.date.isoformat()}: {revision.summary}",
            )  # fmt: skip


# --- printing --------------------------------------------------------------------


def _grouped(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for change in changes:
        groups.setdefault(change.section, []).append(change)
    return [(TITLES[section], groups[section]) for section in SECTIONS if section in groups]


def heading(old: Plan, new: Plan) -> str:
    return f"Plan {new.plan.id}: version {old.plan.version} → version {new.plan.version}"


def as_text(old: Plan, new: Plan, changes: list[Change]) -> str:
    lines = [heading(old, new)]
    if not changes:
        return "\n".join([*lines, "no changes", ""])
    for title, items in _grouped(changes):
        lines += ["", f"{title}:"] + [f"  {change.line()}" for change in items]
    return "\n".join(lines) + "\n"


def as_markdown(old: Plan, new: Plan, changes: list[Change]) -> str:
    lines = [f"# {escape_inline(heading(old, new))}", ""]
    if not changes:
        return "\n".join([*lines, "No changes.", ""])
    for title, items in _grouped(changes):
        lines += [f"## {title}", ""] + [f"- {escape_inline(c.line())}" for c in items] + [""]
    return "\n".join(lines)


def as_html(old: Plan, new: Plan, changes: list[Change]) -> str:
    title = html.escape(heading(old, new))
    body = [f"<h1>{title}</h1>"]
    if not changes:
        body.append("<p>No changes.</p>")
    for section, items in _grouped(changes):
        body.append(f"<h2>{html.escape(section)}</h2>\n<ul>")
        body += [f"<li>{html.escape(change.line())}</li>" for change in items]
        body.append("</ul>")
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(new.plan.language)}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{title}</title>\n'
        "<style>body{font-family:Arial,sans-serif;max-width:50rem;margin:2rem auto;"
        "line-height:1.4}li{margin:.2rem 0}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def as_json(old: Plan, new: Plan, changes: list[Change]) -> str:
    data = {
        "plan_id": new.plan.id,
        "from_version": old.plan.version,
        "to_version": new.plan.version,
        "changes": [asdict(change) for change in changes],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": as_text, "md": as_markdown, "html": as_html, "json": as_json}
