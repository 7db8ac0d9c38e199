"""The review-due report: which plans are due for review, and what needs attention.

One row per plan file, sorted by review due date (unreadable plans last):
id, version, status, layout, last reviewed, review due, days left, sessions
left in the authorization, and flags:

- `overdue`: the review date has passed (never for a `completed` or `revoked`
  plan);
- `due-soon`: due within `within` days (default 30);
- `superseded`: a newer version of the plan is in the same folder: this one is
  history, and neither overdue nor due;
- `unsigned`: no dated client (or guardian) signature;
- `goal-past-target`: a goal's target date has passed and it is not met
  (nor discontinued or revised);
- `goal-stalled`: a goal shows no improvement over its last measurements;
- `goal-worsened`: a goal's latest score is worse than its best by a
  clinically meaningful amount (the thresholds: see progress.py);
- `goal-not-measured`: an open goal of a current plan has had no score for
  more than 90 days (the plan's layout's `[progress] not_measured_after`);
- `authorization-low`: the authorization has fewer than `sessions_left`
  sessions left (default 4; the `sessions_left` column says how many);
- `authorization-ending`: the authorization ends within `within` days;
  `authorization-ended`: it has ended (neither for a completed, revoked or
  superseded plan);
- `invalid`: the plan has errors (`plandoc validate` says which) other than an
  overdue review, which `overdue` says already.

Client names, and file paths (which may hold them), appear only when asked for
(`show_names`); otherwise a file is named by a hash of its path (`file_key`,
as in `plandoc validate --format json`). A plan id is shown when it has an
id's shape (`?` otherwise). Text from plans never reaches a terminal raw (control
characters are escaped) nor a spreadsheet as a formula (see `spreadsheet_cell`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from plandoc.checks.file import CheckedPlan
from plandoc.checks.plan_checks import review_due, shown_plan_id
from plandoc.model.instruments import Registry, built_in_registry
from plandoc.model.progress import ProgressRules, plan_progress
from plandoc.problems import Severity, file_key, one_line

COLUMNS = (
    "plan_id", "version", "status", "layout", "last_reviewed", "review_due", "days_left",
    "sessions_left", "flags",
)  # fmt: skip
SESSIONS_LEFT = 4  # flag an authorization with fewer sessions left than this


@dataclass(frozen=True)
class StatusRow:
    plan_id: str
    version: int | None
    status: str
    layout: str
    last_reviewed: str
    review_due: str
    days_left: int | None
    flags: tuple[str, ...]
    sessions_left: int | None = None
    client: str = ""
    file: str = ""

    def as_dict(self, show_names: bool) -> dict[str, object]:
        row = asdict(self)
        row["flags"] = list(self.flags)
        if not show_names:  # names, and file names that may hold them, only when asked
            row.pop("client")
            row["file_key"] = file_key(row.pop("file"))
        return row


def _only_overdue(checked: CheckedPlan) -> bool:
    """The plan fails only because its review is overdue: `overdue` says so already."""
    errors = [p for p in checked.all_problems if p.severity is Severity.ERROR]
    return bool(errors) and all(p.unless_newer_version for p in errors)


def status_row(
    checked: CheckedPlan,
    today: dt.date,
    within: int,
    instruments: Registry | None = None,
    sessions_left: int = SESSIONS_LEFT,
) -> StatusRow:
    plan, layout = checked.plan, checked.layout
    if plan is None:
        return StatusRow("?", None, "unreadable", "", "", "", None, ("invalid",), file=checked.name)
    plan_id = shown_plan_id(plan.plan.id)  # other text in `plan.id` is a value: never shown
    due = review_due(plan, layout.review_interval_days if layout else None)
    days_left = (due - today).days if due else None
    flags = []
    if checked.superseded:  # a newer version is in the folder: this one is history
        flags.append("superseded")
    elif plan.plan.status in ("completed", "revoked"):
        pass  # no review falls due
    elif days_left is not None and days_left < 0:
        flags.append("overdue")
    elif days_left is not None and days_left <= within:
        flags.append("due-soon")
    if not any(s.role in ("client", "guardian") and s.date for s in plan.signatures):
        flags.append("unsigned")
    authorization = plan.client.coverage.authorization if plan.client.coverage else None
    remaining = authorization.remaining if authorization else None
    current = not checked.superseded and plan.plan.status not in ("completed", "revoked")
    if current and authorization is not None:
        if remaining is not None and remaining < sessions_left:
            flags.append("authorization-low")
        if authorization.end is not None and authorization.end < today:
            flags.append("authorization-ended")
        elif authorization.end is not None and (authorization.end - today).days <= within:
            flags.append("authorization-ending")
    rules = layout.progress if layout else ProgressRules()
    progress = plan_progress(plan, instruments or built_in_registry(), rules, as_of=today)
    kinds = {flag.kind for goal in progress.values() for flag in goal.flags}
    flags += [f"goal-{kind}" for kind in ("past-target", "stalled", "worsened") if kind in kinds]
    if current and "not-measured" in kinds:  # history is not measured any more
        flags.append("goal-not-measured")
    if checked.failed() and not _only_overdue(checked):
        flags.append("invalid")
    return StatusRow(
        plan_id=plan_id or "?",
        version=plan.plan.version,
        status=plan.plan.status,
        layout=layout.name if layout else "",
        last_reviewed=(plan.plan.last_reviewed or plan.plan.effective).isoformat(),
        review_due=due.isoformat() if due else "",
        days_left=days_left,
        flags=tuple(flags),
        sessions_left=remaining,
        client=plan.client.name,
        file=checked.name,
    )


def sort_rows(rows: Iterable[StatusRow]) -> list[StatusRow]:
    return sorted(rows, key=lambda r: (r.review_due == "", r.review_due, r.plan_id, r.version or 0))


def render_table(rows: list[StatusRow], show_names: bool) -> str:
    headers = ["PLAN", "V", "STATUS", "LAYOUT", "LAST REVIEW", "DUE", "DAYS", "LEFT", "FLAGS"]
    if show_names:
        headers.insert(1, "CLIENT")
    lines = []
    for row in rows:
        named = row.file if show_names else f"? {file_key(row.file)}"
        cells = [
            row.plan_id if row.plan_id != "?" else named,
            str(row.version or ""),
            row.status,
            row.layout,
            row.last_reviewed,
            row.review_due,
            "" if row.days_left is None else str(row.days_left),
            "" if row.sessions_left is None else str(row.sessions_left),
            ", ".join(row.flags),
        ]
        if show_names:
            cells.insert(1, row.client)
        lines.append([one_line(cell) for cell in cells])  # no escape sequence, no newline
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *lines, strict=False)]
    return "\n".join(
        "  ".join(
            str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()
        for cells in [headers, *lines]
    )


def render_csv(rows: list[StatusRow], show_names: bool) -> str:
    """Every text cell in double quotes (a `;` inside one cannot start a cell where `;`
    separates them), and none starting a formula (`spreadsheet_cell`)."""
    buffer = io.StringIO()
    columns = [*COLUMNS, "file"] + (["client"] if show_names else [])
    if not show_names:
        columns.remove("file")
    writer = csv.DictWriter(
        buffer,
        fieldnames=columns,
        lineterminator="\n",
        extrasaction="ignore",
        quoting=csv.QUOTE_NONNUMERIC,
    )
    writer.writeheader()
    for row in rows:
        data = row.as_dict(show_names)
        data["flags"] = " ".join(row.flags)
        writer.writerow({key: spreadsheet_cell(value) for key, value in data.items()})
    return buffer.getvalue()


# Text a spreadsheet would take for a formula (OWASP, "CSV Injection"): a cell
# starting with = + - @, a tab, a carriage return (or a line feed, or NUL),
# also after leading spaces or quotes, and the full-width = + - @.
_FORMULA = re.compile(r"[\t\r\n\x00]|[\s\"'\x00]*[=+\-@\uff1d\uff0b\uff0d\uff20]")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as typed: text that could start a formula gets a `'`.

    Numbers plandoc computes (the version, days left: -3 is a number) stay numbers.
    """
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def render_json(rows: list[StatusRow], show_names: bool) -> str:
    return json.dumps([row.as_dict(show_names) for row in rows], indent=1)
