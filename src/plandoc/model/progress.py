"""Progress toward each goal, computed from the plan: where it started, where it is, is it working.

For each goal: the baseline, the scores recorded since (by date), the latest
score and its severity band, the change, how far along the way to the target
it is, response and remission where the measure defines them, and flags for a
goal that is not working:

- `stalled`: no improvement over its last `stalled_after` measurements (the
  latest is not better than the first of them);
- `worsened`: the latest score is worse than the best one before it (the
  baseline included) by at least the measure's `meaningful_change` (from the
  registry) or, for a measure without one, by `worsening_percent` of the
  baseline (from the layout);
- `past-target`: the goal's target date has passed and it is not met;
- `not-measured`: no score in the last `not_measured_after` days (from the
  layout, default 90) before the date progress is read as of: the latest
  score, or the baseline when there is none, is older than that.

The thresholds live in the instrument registry and the layout manifest
(`[progress]`), never in code. A goal that is met or discontinued is never
flagged. Everything is a pure function of the plan, the registry, the rules
and the date "as of" which progress is read: for a document, the plan's own
date (its last review, or its latest score if later), so a document does not
change with the day it is built; for `plandoc status`, today.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from plandoc.model.instruments import Instrument, Registry
from plandoc.model.plan import BehaviorTracking, Goal, Plan, number_text

CLOSED = {"met", "discontinued", "revised"}


def _same(message: str) -> str:
    """English, the source language: a text as written."""
    return message


def _plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


@dataclass(frozen=True, slots=True)
class ProgressRules:
    """The layout's thresholds (manifest table `[progress]`)."""

    stalled_after: int = 3  # measurements without improvement
    worsening_percent: float = 20  # of the baseline, when the measure has no meaningful change
    not_measured_after: int = 90  # days without a score before a goal is flagged
    charts: bool = True


@dataclass(frozen=True, slots=True)
class Point:
    date: dt.date
    score: float
    baseline: bool = False  # the goal's baseline, not a recorded progress score


@dataclass(frozen=True, slots=True)
class Flag:
    kind: str  # stalled, worsened, past-target, not-measured
    text: str


@dataclass(frozen=True)
class GoalProgress:
    goal_id: str
    measure: str  # "PCL-5", or the behaviour ("Panic attacks")
    unit: str  # "points" for a scale, the behaviour's unit otherwise
    instrument: Instrument | None  # None for a behaviour the registry does not know
    lower_is_better: bool
    baseline: float
    target: float
    points: tuple[Point, ...]  # the baseline first, then each scored entry by date
    status: str  # the goal's status, else its latest entry's, else "not-started"
    as_of: dt.date
    flags: tuple[Flag, ...]

    # `scores` and `latest` are worked out once a goal (the goal is frozen): the texts
    # below, the template and the charts ask for them about 70 times a plan.
    @cached_property
    def scores(self) -> tuple[Point, ...]:
        """The recorded scores (without the baseline point)."""
        return tuple(p for p in self.points if not p.baseline)

    @cached_property
    def latest(self) -> Point | None:
        scores = self.scores
        return scores[-1] if scores else None

    @property
    def change(self) -> float | None:
        """Latest minus baseline (negative: the score went down)."""
        return None if self.latest is None else self.latest.score - self.baseline

    @property
    def improvement(self) -> float | None:
        """How much better than the baseline (negative: worse), in the measure's units."""
        if self.change is None:
            return None
        return -self.change if self.lower_is_better else self.change

    @property
    def percent_of_the_way(self) -> float | None:
        """How far from baseline to target the latest score is (100: target reached)."""
        if self.latest is None or self.target == self.baseline:
            return None
        return 100 * (self.latest.score - self.baseline) / (self.target - self.baseline)

    @property
    def band(self) -> str | None:
        if self.latest is None or self.instrument is None:
            return None
        return self.instrument.band(self.latest.score)

    @property
    def baseline_band(self) -> str | None:
        return self.instrument.band(self.baseline) if self.instrument else None

    @property
    def target_reached(self) -> bool:
        if self.latest is None:
            return False
        score = self.latest.score
        return score <= self.target if self.lower_is_better else score >= self.target

    @property
    def responded(self) -> bool | None:
        if self.latest is None or self.instrument is None:
            return None
        return self.instrument.responded(self.baseline, self.latest.score)

    @property
    def in_remission(self) -> bool | None:
        if self.latest is None or self.instrument is None:
            return None
        return self.instrument.in_remission(self.latest.score)

    @property
    def measure_text(self) -> str:
        """The measure with its unit when it counts something: "PCL-5", "School attendance
        (days missed per month)"."""
        return self.measure if self.unit == "points" else f"{self.measure} ({self.unit})"

    @property
    def title(self) -> str:
        """The chart's title, naming its goal: "G3: PCL-5 over time"."""
        return f"{self.goal_id}: {self.measure_text} over time"

    @property
    def direction_text(self) -> str:
        return "lower is better" if self.lower_is_better else "higher is better"

    # --- as the documents show them -----------------------------------------

    @property
    def change_text(self) -> str:
        if self.improvement is None:
            return "-"
        if self.improvement == 0:
            return "no change"
        return self._amount(self.improvement)

    @property
    def change_short(self) -> str:
        """The change where the measure's unit is said beside it: '16 points better',
        '4 better', 'no change'."""
        if self.improvement is None:
            return "-"
        if self.improvement == 0 or self.unit == "points":
            return self.change_text
        way = "better" if self.improvement > 0 else "worse"
        return f"{number_text(abs(self.improvement))} {way}"

    def _amount(
        self,
        improvement: float,
        gettext: Callable[[str], str] = _same,
        ngettext: Callable[[str, str, int], str] = _plural,
        number: Callable[[float], str] = number_text,
    ) -> str:
        """16 -> '16 points better'; -2 -> 'worse by 2 (attacks per week)'; in the words
        of `gettext` and `ngettext` (a document's language: English by default)."""
        if improvement == 0:
            return gettext("no change")
        amount = number(abs(improvement))
        count = 1 if amount == "1" else 2
        if self.unit == "points":
            if improvement > 0:
                text = ngettext("%(num)s point better", "%(num)s points better", count)
            else:
                text = ngettext("%(num)s point worse", "%(num)s points worse", count)
            return text % {"num": amount}
        if improvement > 0:
            return gettext("better by %(amount)s (%(unit)s)") % {
                "amount": amount,
                "unit": self.unit,
            }
        return gettext("worse by %(amount)s (%(unit)s)") % {"amount": amount, "unit": self.unit}

    @property
    def baseline_text(self) -> str:
        band = f" ({self.baseline_band})" if self.baseline_band else ""
        return number_text(self.baseline) + band

    @property
    def percent_text(self) -> str:
        percent = self.percent_of_the_way
        return "-" if percent is None else f"{round(percent)}%"

    @property
    def band_text(self) -> str:
        """The latest score's band, else where it lies against the clinical cut-off."""
        if self.band or self.latest is None or self.instrument is None:
            return self.band or "-"
        cutoff = self.instrument.cutoff
        if cutoff is None:
            return "-"
        past = self.latest.score >= cutoff if self.lower_is_better else self.latest.score <= cutoff
        side = (
            ("at or above" if past else "below")
            if self.lower_is_better
            else ("at or below" if past else "above")
        )
        meaning = (
            f": {self.instrument.cutoff_meaning}" if past and self.instrument.cutoff_meaning else ""
        )
        return f"{side} the cut-off ({number_text(cutoff)}){meaning}"

    @property
    def response_text(self) -> str:
        """'yes: 52% better than baseline (response: 50% or more)', or 'not yet: ...'."""
        if self.responded is None or self.improvement is None or not self.baseline:
            return _yes_no(self.responded, "")
        better = 100 * self.improvement / abs(self.baseline)
        way = f"{number_text(round(abs(better)))}% {'better' if better >= 0 else 'worse'}"
        rule = (
            f" (response: {number_text(self.instrument.response_percent)}% better or more)"
            if self.instrument and self.instrument.response_percent
            else ""
        )
        return f"{_yes_no(self.responded, '')}: {way} than baseline{rule}"

    @property
    def remission_text(self) -> str:
        """'yes: latest 4 (remission: below 5)', or 'not yet: latest 12 (remission: below 5)'."""
        if self.in_remission is None or self.latest is None:
            return "-"
        rule = ""
        if self.instrument and self.instrument.remission_below is not None:
            rule = f" (remission: below {number_text(self.instrument.remission_below)})"
        elif self.instrument and self.instrument.remission_above is not None:
            rule = f" (remission: above {number_text(self.instrument.remission_above)})"
        return f"{_yes_no(self.in_remission, '')}: latest {number_text(self.latest.score)}{rule}"

    @property
    def trend_text(self) -> str:
        """The trend sentence with ISO dates (see `trend`)."""
        return self.trend()

    def trend(
        self,
        date_text: Callable[[dt.date], str] = dt.date.isoformat,
        gettext: Callable[[str], str] = _same,
        ngettext: Callable[[str, str, int], str] = _plural,
        number: Callable[[float], str] = number_text,
    ) -> str:
        """One sentence stating the trend, naming the goal: the text alternative of the
        chart. `date_text` writes a date the way the document does, `gettext`,
        `ngettext` and `number` its words and numbers (English by default)."""
        values = {
            "goal": self.goal_id,
            "measure": self.measure_text,
            "baseline": number(self.baseline),
            "target": number(self.target),
            "direction": self.direction_in(gettext),
        }
        if self.latest is None:
            text = gettext("%(goal)s: %(measure)s: no scores recorded yet; baseline %(baseline)s.")
            return text % values
        count = len(self.scores)
        values |= {
            "latest": number(self.latest.score),
            "date": date_text(self.latest.date),
            "change": self._amount(self.improvement or 0, gettext, ngettext, number),
            "num": count,
        }
        text = ngettext(
            "%(goal)s: %(measure)s from %(baseline)s at baseline to %(latest)s on %(date)s "
            "(%(change)s; %(num)s score); target %(target)s, %(direction)s.",
            "%(goal)s: %(measure)s from %(baseline)s at baseline to %(latest)s on %(date)s "
            "(%(change)s; %(num)s scores); target %(target)s, %(direction)s.",
            count,
        )
        return text % values

    def title_in(self, gettext: Callable[[str], str] = _same) -> str:
        """The chart's title (see `title`) in the words of `gettext`."""
        text = gettext("%(goal)s: %(measure)s over time")
        return text % {"goal": self.goal_id, "measure": self.measure_text}

    def direction_in(self, gettext: Callable[[str], str] = _same) -> str:
        return gettext("lower is better") if self.lower_is_better else gettext("higher is better")


def plan_as_of(plan: Plan) -> dt.date:
    """The date a document reads progress as of: the last review, or the latest score if later."""
    dates = [plan.plan.last_reviewed or plan.plan.effective]
    dates += [entry.date for goal in plan.goals for entry in goal.progress]
    return max(dates)


def plan_progress(
    plan: Plan,
    registry: Registry,
    rules: ProgressRules,
    as_of: dt.date | None = None,
    date_text: Callable[[dt.date], str] = dt.date.isoformat,
) -> dict[str, GoalProgress]:
    """Goal id -> its progress, for every goal of the plan; the flags' texts write dates
    with `date_text` (a document's: its layout's format)."""
    when = as_of or plan_as_of(plan)
    return {
        goal.id: goal_progress(plan, goal, registry, rules, when, date_text) for goal in plan.goals
    }


def goal_progress(
    plan: Plan,
    goal: Goal,
    registry: Registry,
    rules: ProgressRules,
    as_of: dt.date,
    date_text: Callable[[dt.date], str] = dt.date.isoformat,
) -> GoalProgress:
    measure = goal.measure
    if isinstance(measure, BehaviorTracking):
        instrument = registry.find_behavior(measure.unit)
        name, unit = measure.behavior, measure.unit
    else:
        instrument = registry.find(measure.instrument)
        name = instrument.name if instrument else measure.instrument
        unit = "points"
    if instrument is not None:
        lower_is_better = instrument.lower_is_better
    else:  # a behaviour the registry does not know: the target says which way is better
        lower_is_better = measure.target <= measure.baseline
    entries = sorted(
        (e for e in goal.progress if e.score is not None and e.date <= as_of),
        key=lambda e: e.date,
    )
    points = tuple(Point(e.date, float(e.score)) for e in entries)  # type: ignore[arg-type]
    start = _baseline_date(plan, goal)
    if not points or points[0].date > start:
        points = (Point(start, float(measure.baseline), baseline=True), *points)
    status = goal.status or next(
        (e.status for e in reversed(goal.progress) if e.status and e.date <= as_of), None
    )
    progress = GoalProgress(
        goal_id=goal.id,
        measure=name,
        unit=unit,
        instrument=instrument,
        lower_is_better=lower_is_better,
        baseline=float(measure.baseline),
        target=float(measure.target),
        points=points,
        status=status or "not-started",
        as_of=as_of,
        flags=(),
    )
    flags = _flags(progress, goal, rules, date_text)
    return dataclasses.replace(progress, flags=flags)


def _baseline_date(plan: Plan, goal: Goal) -> dt.date:
    """The date of the baseline: the matching baseline measure's, else the plan's creation."""
    instrument = getattr(goal.measure, "instrument", None)
    for result in plan.assessment.baseline_measures:
        if instrument and result.instrument.strip().upper() == instrument.strip().upper():
            return result.date
    return plan.plan.created


def _flags(
    progress: GoalProgress, goal: Goal, rules: ProgressRules, date_text: Callable[[dt.date], str]
) -> tuple[Flag, ...]:
    if progress.status in CLOSED:
        return ()
    flags = []
    better = _better(progress.lower_is_better)
    scores = [p.score for p in progress.points]
    window = [p.score for p in progress.scores][-rules.stalled_after :]
    if len(window) >= rules.stalled_after and not better(window[-1], window[0]):
        flags.append(
            Flag(
                "stalled",
                f"no improvement over the last {rules.stalled_after} measurements "
                f"({', '.join(number_text(s) for s in window)})",
            )
        )
    if len(scores) >= 2:
        best = scores[0]
        best_at = progress.points[0]
        for point in progress.points[1:-1]:
            if better(point.score, best):
                best, best_at = point.score, point
        worse_by = (scores[-1] - best) if progress.lower_is_better else (best - scores[-1])
        threshold = _meaningful_change(progress, rules)
        if worse_by >= threshold and worse_by > 0:
            since = (
                "the baseline"
                if best_at.baseline
                else f"{number_text(best)} on {date_text(best_at.date)}"
            )
            flags.append(
                Flag(
                    "worsened",
                    f"{number_text(worse_by)} {progress.unit} worse than {since} "
                    f"(a change of {number_text(threshold)} or more is clinically meaningful)",
                )
            )
    if goal.target_date < progress.as_of and not progress.target_reached:
        flags.append(
            Flag(
                "past-target",
                f"target date {date_text(goal.target_date)} has passed and it is not met",
            )
        )
    last = progress.points[-1]
    if (progress.as_of - last.date).days > rules.not_measured_after:
        latest = "the baseline" if last.baseline else "the latest score"
        flags.append(
            Flag(
                "not-measured",
                f"{latest} is from {date_text(last.date)}, more than "
                f"{rules.not_measured_after} days before {date_text(progress.as_of)}: "
                "measure again",
            )
        )
    return tuple(flags)


def _meaningful_change(progress: GoalProgress, rules: ProgressRules) -> float:
    if progress.instrument and progress.instrument.meaningful_change is not None:
        return progress.instrument.meaningful_change
    return max(abs(progress.baseline) * rules.worsening_percent / 100, 1.0)


def _yes_no(value: bool | None, threshold: str) -> str:
    if value is None:
        return "-"
    return ("yes" if value else "not yet") + (f" ({threshold})" if threshold else "")


def _better(lower_is_better: bool):  # type: ignore[no-untyped-def]
    if lower_is_better:
        return lambda a, b: a < b
    return lambda a, b: a > b
