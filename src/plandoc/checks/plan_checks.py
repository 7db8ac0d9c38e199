"""Clinical and format rules that look across a plan's fields.

Each check is a small function `Plan -> Iterable[Finding]`; `check_plan` runs
them all and returns every finding, errors and warnings alike. Shape and type
rules are the model's (`model.py`); the rules of a particular payer are the
layout's.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace

from plandoc.model.instruments import Instrument, Registry, built_in_registry
from plandoc.model.plan import Goal, Plan, RatingScale, number_text
from plandoc.model.service_codes import ServiceCodes
from plandoc.problems import FieldPath, Finding, Severity, plan_value

WARNING = Severity.WARNING

PLAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {
    f"{p}{n}" for p in ("COM", "LPT") for n in range(10)
}
# A language tag (BCP 47, RFC 5646) as a plan needs one: a language of 2 or 3 letters, an
# optional script (4 letters) and an optional region (2 letters, or 3 digits: `es-419`).
# Each part must be registered with IANA (checked by `langcodes`): the HTML `lang` of
# every document, which validators check against the registry.
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?")
COMMON_LANGUAGES = {"en", "en-US", "es", "es-US", "es-MX", "es-419", "fr", "zh", "vi", "ko"}


def language_tag_is_valid(tag: str) -> bool:
    if tag in COMMON_LANGUAGES:
        return True
    if not LANGUAGE_TAG.fullmatch(tag):
        return False
    import langcodes  # the IANA registry; read only for a tag not known above

    return bool(langcodes.tag_is_valid(tag))


# The shape of an ICD-10-CM code; whether the release has it is `check_icd10cm_code`'s.
ICD10CM = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?")
NPI = re.compile(r"[0-9]{10}")
ADULT_AGE = 18


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """What the checks need beyond the plan: the layout's review interval, the
    measures known (built-in plus the clinic's), today's date (None: the
    checks that need it are skipped) and the service codes known."""

    review_interval_days: int | None = None
    instruments: Registry = field(default_factory=built_in_registry)
    today: dt.date | None = None
    service_codes: ServiceCodes | None = None  # None: the built-in ones


Check = Callable[[Plan, CheckOptions], Iterable[Finding]]


def check_plan(plan: Plan, options: CheckOptions | None = None) -> list[Finding]:
    options = options or CheckOptions()
    return [finding for check in CHECKS for finding in check(plan, options)]


def check_parts(parts: SimpleNamespace, options: CheckOptions | None = None) -> list[Finding]:
    """Run the checks on the valid parts of an invalid plan (see `model.valid_parts`).

    A check that needs a part which is missing or invalid stops where it
    reaches for it; what it found before then is kept.
    """
    options = options or CheckOptions()
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            for finding in check(parts, options):  # type: ignore[arg-type]
                findings.append(finding)
        except AttributeError:
            continue
    return findings


# --- identification -----------------------------------------------------------


def plan_id_problem(plan_id: str) -> str | None:
    """What is wrong with a plan id as part of a file name, or None."""
    if not PLAN_ID.fullmatch(plan_id) or ".." in plan_id:
        return (
            "must be 1 to 64 letters, digits, '-', '_' or '.', starting with a letter or digit "
            "(it becomes the output file name)"
        )
    if plan_id.split(".")[0].upper() in WINDOWS_RESERVED:
        return f"{plan_value(plan_id, quote=True)} is a reserved file name on Windows"
    return None


# A plan id is printed everywhere (document names, logs, reports) once it has
# the shape of one; text in `plan.id` without that shape is a plan value like
# any other (it may be a client's name), and never printed as an id.


def shown_plan_id(plan_id: str) -> str | None:
    """The plan id for a report (JSON, CSV): the id when it has an id's shape, else None."""
    return plan_id if plan_id_problem(plan_id) is None else None


def plan_id_text(plan_id: str) -> str:
    """The plan id inside a message: as is when it has an id's shape, else marked as a value."""
    return plan_id if plan_id_problem(plan_id) is None else plan_value(plan_id, quote=True)


_WORDS = re.compile(r"[^\W_]+")


def check_file_name(file_name: str, plan: Plan) -> Iterator[Finding]:
    """Warn when a plan's file name holds the client's name, date of birth or member id.

    File names show in terminals, logs, backups and folder listings that are
    not protected the way plan contents are; plandoc names its own files by
    plan id, and a clinic should name plan files the same way.
    """
    # NFC, as the plan's text is: macOS writes "José" in a file name as "Jose" and an accent.
    stem = unicodedata.normalize("NFC", file_name.rsplit(".", 1)[0]).casefold()
    words = _WORDS.findall(stem)
    joined = "".join(words)
    client = plan.client
    names = [_WORDS.findall(n.casefold()) for n in (client.name, client.preferred_name or "")]
    name_words = {w for name in names for w in name if len(w) >= 3}
    full_names = ["".join(name) for name in names]
    born = client.date_of_birth
    dates = (born.isoformat(), born.strftime("%Y%m%d"), born.strftime("%m%d%Y"))
    member = (client.coverage.member_id or "").casefold() if client.coverage else ""
    found = []
    if name_words.intersection(words) or any(len(n) >= 6 and n in joined for n in full_names):
        found.append(("client", "name"))
    if any(d in stem or d.replace("-", "") in joined for d in dates):
        found.append(("client", "date_of_birth"))
    if len(member) >= 4 and "".join(_WORDS.findall(member)) in joined:
        found.append(("client", "coverage", "member_id"))
    for path in found:
        yield Finding(
            path,
            "is in the plan's file name: file names show in logs, listings and backups; "
            "name the file by plan id (as `plandoc new` does)",
            WARNING,
        )


def check_identification(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    problem = plan_id_problem(plan.plan.id)
    if problem:
        yield Finding(("plan", "id"), problem)
    if not language_tag_is_valid(plan.plan.language):
        yield Finding(
            ("plan", "language"),
            f"{plan_value(plan.plan.language, quote=True)} is not a registered language tag: "
            "a language, then optionally a script and a region, such as 'en', 'es-US', "
            "'zh-Hant-TW' or 'es-419' (BCP 47)",
        )


def check_provider(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    yield from _check_npi(plan.provider.npi, ("provider", "npi"))
    if plan.provider.supervisor:
        yield from _check_npi(plan.provider.supervisor.npi, ("provider", "supervisor", "npi"))


def check_practice(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    if plan.practice is not None:
        yield from _check_npi(plan.practice.npi, ("practice", "npi"))


def check_safety_plan(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    safety = plan.safety_plan
    if safety is not None and options.today is not None and safety.reviewed > options.today:
        yield Finding(
            ("safety_plan", "reviewed"),
            f"{plan_value(safety.reviewed)} is in the future: the date the safety plan was "
            "made or last gone over with the client",
        )


def safety_plan_cycle(plan: Plan, interval: int | None, due: dt.date | None) -> int | None:
    """The days a safety plan may go without being gone over: the layout's review interval,
    else the plan's own cycle (its last review to its review date); None without either."""
    if interval is None and due is not None:
        interval = (due - (plan.plan.last_reviewed or plan.plan.effective)).days
    return interval if interval is not None and interval > 0 else None


def stale_safety_plan(
    plan: Plan, interval: int | None, due: dt.date | None, today: dt.date | None
) -> Finding | None:
    """A warning when the safety plan was last gone over with the client longer ago than
    the layout's review interval (a layout without one: the plan's own cycle, from its last
    review to its review date), or None."""
    safety = plan.safety_plan
    if safety is None or today is None:
        return None
    own_cycle = interval is None
    interval = safety_plan_cycle(plan, interval, due)
    age = (today - safety.reviewed).days
    if interval is None or age <= interval:
        return None
    # Both numbers give away the plan's dates (with --as-of, its review date exactly):
    # they are values, hidden where values are; the layout's own interval is not.
    cycle = (
        f"the plan's review cycle ({plan_value(str(interval))} days)"
        if own_cycle
        else (f"the review interval ({interval} days)")
    )
    return Finding(
        ("safety_plan", "reviewed"),
        f"the safety plan was last gone over with the client {plan_value(str(age))} days "
        f"ago, longer than {cycle}: review it with the client",
        WARNING,
    )


def npi_is_valid(npi: str) -> bool:
    """Luhn check digit over the NPI prefixed with 80840 (the US health industry number)."""
    if not NPI.fullmatch(npi):
        return False
    total = 0
    for position, char in enumerate(reversed("80840" + npi)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return total % 10 == 0


def _check_npi(npi: str | None, path: FieldPath) -> Iterator[Finding]:
    if npi is None:
        return
    if not NPI.fullmatch(npi):
        yield Finding(path, "an NPI is exactly 10 digits")
    elif not npi_is_valid(npi):
        yield Finding(path, "check digit does not match: this is not a valid NPI (mistyped?)")


# --- dates --------------------------------------------------------------------


def check_dates(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    info = plan.plan
    if info.review_by is None and options.review_interval_days is None:
        yield Finding(
            ("plan", "review_by"),
            "missing: give the date the plan must be reviewed by "
            "(this layout has no review interval to compute it from)",
        )
    if info.review_by is not None and info.review_by <= info.effective:
        yield Finding(("plan", "review_by"), "must be after plan.effective")
    if info.last_reviewed is not None:
        if info.last_reviewed < info.effective:
            yield Finding(("plan", "last_reviewed"), "must not be before plan.effective")
        if info.review_by is not None and info.review_by <= info.last_reviewed:
            yield Finding(
                ("plan", "review_by"),
                "is not after plan.last_reviewed: set the next review date",
                WARNING,
            )
    if plan.client.date_of_birth >= info.effective:
        yield Finding(("client", "date_of_birth"), "must be before plan.effective")
    for g, goal in enumerate(plan.goals):
        if goal.target_date < info.effective:
            yield Finding(("goals", g, "target_date"), "must not be before plan.effective")
        for o, objective in enumerate(goal.objectives):
            path = ("goals", g, "objectives", o, "target_date")
            if objective.target_date < info.effective:
                yield Finding(path, "must not be before plan.effective")
            elif objective.target_date > goal.target_date:
                yield Finding(
                    path,
                    f"is after its goal's target date ({plan_value(goal.target_date)})",
                    WARNING,
                )


def review_due(plan: Plan, review_interval_days: int | None) -> dt.date | None:
    """The review date: the plan's own, else the layout interval after the last review."""
    if plan.plan.review_by is not None:
        return plan.plan.review_by
    if review_interval_days is None:
        return None
    start = plan.plan.last_reviewed or plan.plan.effective
    return start + dt.timedelta(days=review_interval_days)


def verdict_holds_until(plan: Plan, intervals: list[int | None], today: dt.date) -> dt.date | None:
    """The last day the checks bounded by today find what they find `today`: after it a
    review falls due (its layout's interval, or the plan's own date) or the safety plan
    grows stale. None when none is still ahead (a completed or revoked plan, or one whose
    review is already past: it stays past). A build takes a plan it built as current
    only until then (builds/batch.py)."""
    if plan.plan.status in ("completed", "revoked"):
        return None
    days: list[dt.date] = []
    for interval in intervals:
        due = review_due(plan, interval)
        if due is not None:
            days.append(due)
        cycle = safety_plan_cycle(plan, interval, due)
        if plan.safety_plan is not None and cycle is not None:
            days.append(plan.safety_plan.reviewed + dt.timedelta(days=cycle))
    return min((day for day in days if day >= today), default=None)


# --- diagnoses ---------------------------------------------------------------


def check_diagnoses(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    primaries = [d for d in plan.diagnoses if d.primary]
    if len(primaries) != 1:
        yield Finding(
            ("diagnoses",),
            f"exactly one diagnosis must be primary (found {len(primaries)})",
        )
    # A completed or revoked plan is history, coded with the release of its day: a code
    # deleted since is a warning there (the plan still renders), an error in a current one.
    history = str(getattr(getattr(plan, "plan", None), "status", "")) in ("completed", "revoked")
    # The description is compared with the release's (English) only in an English plan.
    english = str(getattr(getattr(plan, "plan", None), "language", "en")).lower()[:2] == "en"
    seen: set[str] = set()
    for index, diagnosis in enumerate(plan.diagnoses):
        path = ("diagnoses", index, "code")
        code = diagnosis.code
        if not ICD10CM.fullmatch(code):
            hint = ""
            if ICD10CM.fullmatch(f"{code[:3]}.{code[3:]}"):
                hint = f"; write it with a dot: {plan_value(f'{code[:3]}.{code[3:]}')}"
            elif ICD10CM.fullmatch(code.strip().upper()):
                hint = f"; write it in capitals: {plan_value(code.strip().upper())}"
            yield Finding(path, f"not an ICD-10-CM code (such as F43.10){hint}")
        else:
            description = diagnosis.description if english else None
            for finding in check_icd10cm_code(("diagnoses", index), code, description):
                if history and finding.severity is Severity.ERROR:  # a code of its year
                    finding = Finding(finding.field, f"{finding.message} {OLDER_RELEASE}", WARNING)
                yield finding
        if code in seen:
            yield Finding(path, f"diagnosis {plan_value(code)} is listed twice")
        seen.add(code)


EXAMPLE_CODES = 6  # a category's billable codes listed in full up to this many
OLDER_RELEASE = (
    "(a warning only: the plan is completed or revoked, coded with the release of its day)"
)


def check_icd10cm_code(
    path: FieldPath, code: str, description: str | None = None
) -> Iterator[Finding]:
    """A well-formed code against the ICD-10-CM release (`plandoc.model.icd10cm`): it must
    exist and be billable; a `description` that names another condition is a warning.

    What the release suggests (near codes, a category's codes, the official description)
    is marked as a plan value: it tells what the plan's code is.
    """
    from plandoc.model import icd10cm  # read at the first diagnosis, never at start-up

    entry = icd10cm.lookup(code)
    if entry is None:
        near = icd10cm.closest(code, 3)
        suggestion = f"; closest: {plan_value(', '.join(near))}" if near else ""
        yield Finding((*path, "code"), f"not an ICD-10-CM code ({release_short()}){suggestion}")
        return
    if not entry.billable:
        codes = icd10cm.billable_children(code)
        if len(codes) <= EXAMPLE_CODES:
            listed = f"{', '.join(codes[:-1])} or {codes[-1]}" if len(codes) > 1 else codes[0]
            examples = plan_value(listed)
        else:
            listed = ", ".join(codes[: EXAMPLE_CODES - 1])
            examples = f"{plan_value(listed)} ({len(codes)} billable codes in all)"
        yield Finding(
            (*path, "code"), f"not billable: add the next character(s), for example {examples}"
        )
        return
    if description is not None and not icd10cm.description_fits(code, description):
        yield Finding(
            (*path, "description"),
            f"{plan_value(description, quote=True)} does not name the condition of "
            f"{plan_value(code)}, which is {plan_value(entry.description, quote=True)} in "
            "ICD-10-CM: check the code and the description",
            WARNING,
        )


def release_short() -> str:
    """ "April 2026 release", from the release's name ("ICD-10-CM April 1, 2026 (FY2026)")."""
    from plandoc.model import icd10cm

    match = re.search(r"([A-Z][a-z]+) \d{1,2}, (\d{4})", icd10cm.RELEASE)
    return f"{match[1]} {match[2]} release" if match else icd10cm.RELEASE


# --- goals, objectives, methods ---------------------------------------------


def check_ids(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    goal_ids = Counter(goal.id for goal in plan.goals)
    goal_ids.update(o.id for goal in plan.goals for o in goal.objectives)
    for g, goal in enumerate(plan.goals):
        if goal_ids[goal.id] > 1:
            yield Finding(
                ("goals", g, "id"),
                f"id {plan_value(goal.id, quote=True)} is used more than once in the plan",
            )
        for o, objective in enumerate(goal.objectives):
            if goal_ids[objective.id] > 1:
                yield Finding(
                    ("goals", g, "objectives", o, "id"),
                    f"id {plan_value(objective.id, quote=True)} is used more than once in the plan",
                )
    method_ids = Counter(method.id for method in plan.methods)
    for m, method in enumerate(plan.methods):
        if method_ids[method.id] > 1:
            yield Finding(
                ("methods", m, "id"),
                f"method id {plan_value(method.id, quote=True)} is used more than once",
            )


SUGGESTIONS_MOST = 100  # "did you mean" for this many unknown ids of a plan, then no more


def check_method_references(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    """Every objective's methods exist. The methods are listed once, at the first unknown
    one, and a closest id is looked up once per unknown id (for at most 100 of them):
    a plan full of unknown references costs time linear in its size."""
    ordered = [method.id for method in plan.methods]
    known = set(ordered)
    used: set[str] = set()
    suggested: dict[str, str] = {}
    listed = False
    for g, goal in enumerate(plan.goals):
        for o, objective in enumerate(goal.objectives):
            for r, method_id in enumerate(objective.methods):
                used.add(method_id)
                if method_id in known:
                    continue
                if method_id not in suggested and len(suggested) < SUGGESTIONS_MOST:
                    close = difflib.get_close_matches(method_id, ordered, n=1)
                    suggested[method_id] = (
                        f" (did you mean {plan_value(close[0], quote=True)}?)" if close else ""
                    )
                methods = "" if listed else f"; methods are: {plan_value(', '.join(ordered))}"
                listed = True
                yield Finding(
                    ("goals", g, "objectives", o, "methods", r),
                    f"no method has id {plan_value(method_id, quote=True)}"
                    f"{suggested.get(method_id, '')}{methods}",
                )
    for m, method in enumerate(plan.methods):
        if method.id not in used:
            yield Finding(
                ("methods", m),
                f"method {plan_value(method.id, quote=True)} is used by no objective",
                WARNING,
            )


def check_goals(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    for g, goal in enumerate(plan.goals):
        if not goal.client_words:
            yield Finding(
                ("goals", g, "client_words"),
                "missing: accreditors expect each goal in the client's own words",
                WARNING,
            )
        yield from _check_measure(goal, ("goals", g), options.instruments)
        yield from _check_progress_dates(plan, goal, ("goals", g), options.today)


def _check_measure(goal: Goal, path: FieldPath, instruments: Registry) -> Iterator[Finding]:
    measure = goal.measure
    if measure.baseline == measure.target:
        yield Finding(
            (*path, "measure", "target"), "equals the baseline: no change to measure", WARNING
        )
    if not isinstance(measure, RatingScale):
        for p, entry in enumerate(goal.progress):
            if entry.score is not None and entry.score < 0:
                yield Finding((*path, "progress", p, "score"), "a count cannot be negative")
        return
    instrument = instruments.find(measure.instrument)
    if instrument is None:
        yield _unknown_instrument((*path, "measure", "instrument"), measure.instrument, instruments)
        return
    for key in ("baseline", "target"):
        score = getattr(measure, key)
        if not instrument.contains(score):
            yield _out_of_range((*path, "measure", key), score, instrument)
    if measure.target != measure.baseline and not instrument.better(
        measure.target, measure.baseline
    ):
        direction = "lower" if instrument.lower_is_better else "higher"
        yield Finding(
            (*path, "measure", "target"),
            f"on the {instrument.name} {direction} is better, but the target is not {direction} "
            "than the baseline",
            WARNING,
        )
    for p, entry in enumerate(goal.progress):
        if entry.score is not None and not instrument.contains(entry.score):
            yield _out_of_range((*path, "progress", p, "score"), entry.score, instrument)


def _check_progress_dates(
    plan: Plan, goal: Goal, path: FieldPath, today: dt.date | None
) -> Iterator[Finding]:
    for p, entry in enumerate(goal.progress):
        if entry.date < plan.plan.created:
            yield Finding(
                (*path, "progress", p, "date"),
                f"{plan_value(entry.date)} is before the plan was created "
                f"({plan_value(plan.plan.created)}); earlier scores belong in "
                "assessment.baseline_measures",
            )
        elif today is not None and entry.date > today:
            yield Finding(
                (*path, "progress", p, "date"),
                f"{plan_value(entry.date)} is in the future (today is {today})",
            )


def _out_of_range(path: FieldPath, score: float, instrument: Instrument) -> Finding:
    return Finding(
        path,
        f"{plan_value(number_text(score))} is outside the {instrument.name} range "
        f"({instrument.range_text})",
    )


def _unknown_instrument(path: FieldPath, name: str, instruments: Registry) -> Finding:
    close = instruments.closest(name)
    hint = f"did you mean {close}? " if close else ""  # a known name, not plan text
    return Finding(
        path,
        f"unknown instrument {plan_value(name, quote=True)}: {hint}known ones are "
        f"{', '.join(instruments.scale_names())}; a clinic adds its own in the file named "
        "by `instruments` in plandoc.toml",
    )


def check_baseline_measures(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    for index, result in enumerate(plan.assessment.baseline_measures):
        path = ("assessment", "baseline_measures", index)
        instrument = options.instruments.find(result.instrument)
        if instrument is None:
            yield _unknown_instrument((*path, "instrument"), result.instrument, options.instruments)
        elif not instrument.contains(result.score):
            yield _out_of_range((*path, "score"), result.score, instrument)
        if options.today is not None and result.date > options.today:
            message = f"{plan_value(result.date)} is in the future (today is {options.today})"
            yield Finding((*path, "date"), message)


# --- contract, services, signatures ------------------------------------------


def check_contract(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    contract = plan.contract
    if not contract.responsibilities:
        yield Finding(
            ("contract", "responsibilities"),
            "missing: the treatment contract should say who does what",
            WARNING,
        )
    agreement = contract.client_agreement
    path: FieldPath = ("contract", "client_agreement")
    if agreement is None:
        yield Finding(path, "missing: record whether the client agreed to the plan", WARNING)
    elif agreement.agreed and agreement.date is None:
        yield Finding((*path, "date"), "missing: give the date the client agreed")
    elif not agreement.agreed and not agreement.declined_reason:
        yield Finding((*path, "declined_reason"), "missing: say why the client did not agree")
    if agreement is not None and agreement.agreed:
        for index, signature in enumerate(plan.signatures):
            if signature.role == "client" and signature.date is None and signature.declined_reason:
                yield Finding(
                    ("signatures", index, "declined_reason"),
                    "the contract records the client's agreement, but the client declined to "
                    "sign: check which is right (the client copy says both)",
                    WARNING,
                )


def check_services(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    from plandoc.checks.billing import check_services as billing_checks  # codes: data, read late

    yield from billing_checks(plan, options)


def check_signatures(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    for index, signature in enumerate(plan.signatures):
        path = ("signatures", index)
        if signature.date is None and not signature.declined_reason:
            yield Finding(path, "give the date it was signed, or a declined_reason")
        elif signature.date is not None and signature.declined_reason:
            yield Finding(path, "has both a date and a declined_reason: keep one", WARNING)
        elif signature.date is not None and signature.date < plan.plan.created:
            yield Finding((*path, "date"), "is before the plan was created", WARNING)
        if signature.signed_at is not None:
            day = signature.signed_at.date()
            if signature.date is None:
                yield Finding((*path, "signed_at"), "give the signature's date too")
            elif day != signature.date:
                yield Finding(
                    (*path, "signed_at"),
                    f"is on {plan_value(day.isoformat())}, but the signature's date is "
                    f"{plan_value(signature.date.isoformat())}: they must be the same day",
                )
        if signature.content_sha256 is not None and signature.date is None:
            yield Finding((*path, "content_sha256"), "a signature's content hash needs its date")
    roles = {signature.role for signature in plan.signatures}
    if client_age(plan) < ADULT_AGE and "guardian" not in roles:
        yield Finding(
            ("signatures",),
            "the client is a minor: a guardian signature (or its declined_reason) is expected",
            WARNING,
        )


def check_revisions(plan: Plan, options: CheckOptions) -> Iterator[Finding]:
    seen: set[int] = set()
    for index, revision in enumerate(plan.revisions):
        path = ("revisions", index)
        if revision.version > plan.plan.version:
            yield Finding(
                (*path, "version"),
                f"version {plan_value(revision.version)} is later than the plan's "
                f"({plan_value(plan.plan.version)})",
            )
        if revision.version in seen:
            yield Finding(
                (*path, "version"), f"version {plan_value(revision.version)} is listed twice"
            )
        seen.add(revision.version)
        if options.today is not None and revision.date > options.today:
            yield Finding((*path, "date"), f"{plan_value(revision.date)} is in the future")


def client_age(plan: Plan, on: dt.date | None = None) -> int:
    """The client's age in whole years on `on`, by default the day the plan took effect
    (when consent was given: whether a guardian signs)."""
    born, on = plan.client.date_of_birth, on or plan.plan.effective
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


CHECKS: tuple[Check, ...] = (
    check_identification,
    check_provider,
    check_practice,
    check_safety_plan,
    check_dates,
    check_diagnoses,
    check_ids,
    check_method_references,
    check_goals,
    check_baseline_measures,
    check_contract,
    check_services,
    check_signatures,
    check_revisions,
)
