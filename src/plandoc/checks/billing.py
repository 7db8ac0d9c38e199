"""Billing checks: service codes, session times, add-ons, places of service,
modifiers, the first-listed diagnosis and the authorization.

Two kinds live here:

- `check_services` runs for every plan, whatever the layout (a code plandoc
  does not know is a warning; an add-on without its primary code, or a
  service billing for a method the plan does not have, is an error);
- the named checks in `NAMED` are what a layout's `[[rules]]` call with
  `check = "NAME"`: the layout decides the severity and cites the source
  (`service-time` is a warning in `standard` and an error in the payer
  layouts). Each yields (field path, detail); the rule's message says
  `{detail}` where the detail goes.

The codes themselves are data: `model/service_codes.toml`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from plandoc.model.service_codes import CODE, ServiceCode, ServiceCodes, built_in_codes
from plandoc.problems import FieldPath, Finding, Severity, plan_value

WARNING = Severity.WARNING
TELEHEALTH_MODIFIERS = ("95", "GT", "93", "FQ")


def codes_of(options: Any) -> ServiceCodes:
    return getattr(options, "service_codes", None) or built_in_codes()


# --- every layout --------------------------------------------------------------------


def check_services(plan: Any, options: Any) -> Iterator[Finding]:
    codes = codes_of(options)
    listed = [service.cpt for service in plan.services]
    methods = [method.id for method in plan.methods]
    for index, service in enumerate(plan.services):
        at: FieldPath = ("services", index)
        code = service.cpt
        if not CODE.fullmatch(code):
            upper = code.strip().upper()
            hint = f"; write it in capitals: {plan_value(upper)}" if CODE.fullmatch(upper) else ""
            yield Finding(
                (*at, "cpt"),
                "a service code is a CPT code (5 characters, such as 90837) or an HCPCS "
                f"code (a letter and 4 digits, such as H0004){hint}",
            )
        elif (entry := codes.find(code)) is None:
            near = codes.closest(code)
            # The suggestion tells the code apart: a value, hidden where values are.
            known = f"{near} ({codes.codes[near].description})" if near else ""
            hint = f"; the closest known is {plan_value(known)}" if near else ""
            yield Finding(
                (*at, "cpt"),
                f"{plan_value(code)} is not a behavioural-health code plandoc knows{hint}; a "
                "clinic adds its own codes in the file named by service_codes in plandoc.toml",
                WARNING,
            )
        elif entry.add_on_to and not entry.has_primary(listed, codes):
            yield Finding(
                (*at, "cpt"),
                f"{plan_value(code)} is an add-on code and is billed only with "
                f"{_primaries(entry)}: list that service too",
            )
        if service.method is not None and service.method not in methods:
            known = ", ".join(plan_value(m) for m in methods) or "none"
            yield Finding(
                (*at, "method"),
                f"no method has the id {plan_value(service.method, quote=True)} (methods: {known})",
            )
        if service.place_of_service is not None and codes.place(service.place_of_service) is None:
            yield Finding(
                (*at, "place_of_service"),
                f"{plan_value(service.place_of_service)} is not a place of service plandoc "
                "knows (11 office, 02 telehealth outside the home, 10 telehealth at home, "
                "03 school, 12 home, 53 community mental health center; docs: Billing)",
                WARNING,
            )
        seen: set[str] = set()
        for m, modifier in enumerate(service.modifiers):
            if modifier in seen:
                yield Finding((*at, "modifiers", m), f"{plan_value(modifier)} is given twice")
            elif modifier not in codes.modifiers:
                yield Finding(
                    (*at, "modifiers", m),
                    f"{plan_value(modifier)} is not a modifier plandoc knows (docs: Billing)",
                    WARNING,
                )
            seen.add(modifier)


def _primaries(entry: ServiceCode) -> str:
    shown = list(entry.add_on_to)
    return ", ".join(shown[:-1]) + f" or {shown[-1]}" if len(shown) > 1 else shown[0]


# --- named checks, called by layout rules --------------------------------------------

Detail = tuple[FieldPath, str]


def session_minutes(plan: Any, service: Any) -> int | None:
    """The service's planned minutes: its own, else those of the method it bills for."""
    if service.minutes is not None:
        return int(service.minutes)
    if service.method is not None:
        method = next((m for m in plan.methods if m.id == service.method), None)
        if method is not None:
            return int(method.session_minutes)
    return None


def service_time(plan: Any, context: Any) -> Iterator[Detail]:
    """A timed code whose session length falls outside the code's range."""
    codes = codes_of(context)
    for index, service in enumerate(plan.services):
        entry = codes.find(service.cpt)
        minutes = session_minutes(plan, service)
        if entry is None or not entry.timed or minutes is None or entry.fits(minutes):
            continue
        if entry.minutes and minutes > entry.minutes[0] and _extended(plan, codes, service.cpt):
            continue  # 90839 with 90840: the add-on bills the time past the code's range
        where = "minutes" if service.minutes is not None else "method"
        fitting = [
            other.code
            for other in codes.codes.values()
            if other.timed and other.add_on_to == entry.add_on_to and other.source == entry.source
            and other.fits(minutes)
        ]  # fmt: skip
        advice = (
            f"bill {plan_value(fitting[0])}"
            if fitting
            else "no code of this kind is for that length"
        )  # the range and the advice tell the code apart: values, hidden where values are
        source = f" ({entry.source.document})" if entry.source else ""
        yield (
            ("services", index, where),
            f"{plan_value(service.cpt)} is for sessions of {plan_value(entry.minutes_text)}"
            f"{source} and this one is planned at {plan_value(str(minutes))} minutes: {advice}",
        )


def _extended(plan: Any, codes: ServiceCodes, code: str) -> bool:
    """Does the plan list an add-on of `code` (90840 for 90839): time beyond its range?"""
    for other in plan.services:
        entry = codes.find(other.cpt)
        if entry is not None and code in entry.add_on_to:
            return True
    return False


def once_per_episode(plan: Any, context: Any) -> Iterator[Detail]:
    """An evaluation code (billed once for an episode of care) requested more than once"""
    codes = codes_of(context)
    requested: dict[str, int] = {}  # an evaluation's units so far, over every row
    for index, service in enumerate(plan.services):
        entry = codes.find(service.cpt)
        if entry is None or entry.once != "episode":
            continue
        before = requested.get(service.cpt, 0)
        requested[service.cpt] = before + int(service.units)
        if before:
            yield (
                ("services", index, "cpt"),
                f"{plan_value(service.cpt)} is an evaluation, billed once for an episode of "
                "care, and is listed again here",
            )
        elif service.units > 1:
            yield (
                ("services", index, "units"),
                f"{plan_value(service.cpt)} is an evaluation, billed once for an episode of "
                f"care, not {plan_value(str(service.units))} times",
            )


def first_listed_diagnosis(plan: Any, context: Any) -> Iterator[Detail]:
    """A Z code (a factor or circumstance) or an external-cause code as the primary diagnosis."""
    for index, diagnosis in enumerate(plan.diagnoses):
        if not diagnosis.primary:
            continue
        letter = diagnosis.code[:1].upper()
        if letter == "Z":
            kind = "a Z code (a factor or circumstance, not a condition)"
        elif letter in "VWXY":
            kind = "an external-cause code (how an injury happened)"
        else:
            continue
        yield (
            ("diagnoses", index, "code"),
            f"the primary diagnosis {plan_value(diagnosis.code)} is {kind}",
        )


def authorization_sessions(plan: Any, context: Any) -> Iterator[Detail]:
    """More sessions planned than the authorization has left."""
    authorization = _authorization(plan)
    if authorization is None or authorization.remaining is None:
        return
    planned = int(plan.time_estimate.sessions)
    if planned > authorization.remaining:
        yield (
            ("time_estimate", "sessions"),
            f"the plan estimates {plan_value(str(planned))} sessions and the authorization "
            f"has {plan_value(str(authorization.remaining))} left "
            f"({plan_value(str(authorization.sessions))} authorized, "
            + (
                f"{plan_value(str(authorization.used))} used)"
                if authorization.used is not None
                else "none recorded as used)"
            ),
        )


def authorization_period(plan: Any, context: Any) -> Iterator[Detail]:
    """A plan period (effective to review date) outside the authorization's period."""
    authorization = _authorization(plan)
    if authorization is None:
        return
    at: FieldPath = ("client", "coverage", "authorization")
    start, end = plan.plan.effective, getattr(context, "review_due", None)
    if authorization.start is not None and start < authorization.start:
        yield (
            (*at, "start"),
            f"the plan takes effect on {_day(start)}, before the authorization starts "
            f"({_day(authorization.start)})",
        )
    if authorization.end is not None and end is not None and end > authorization.end:
        yield (
            (*at, "end"),
            f"the plan runs to its review on {_day(end)}, after the authorization ends "
            f"({_day(authorization.end)})",
        )


def authorization_used(plan: Any, context: Any) -> Iterator[Detail]:
    """More sessions used than authorized."""
    authorization = _authorization(plan)
    if authorization is None or authorization.sessions is None or authorization.used is None:
        return
    if authorization.used > authorization.sessions:
        yield (
            ("client", "coverage", "authorization", "used"),
            f"{plan_value(str(authorization.used))} sessions used of "
            f"{plan_value(str(authorization.sessions))} authorized",
        )


def telehealth_modifier(plan: Any, context: Any) -> Iterator[Detail]:
    """A telehealth service (place of service 02 or 10) without a telehealth modifier."""
    codes = codes_of(context)
    for index, service in enumerate(plan.services):
        if codes.is_telehealth(service.place_of_service) and not any(
            m in TELEHEALTH_MODIFIERS for m in service.modifiers
        ):
            yield (
                ("services", index, "modifiers"),
                f"{plan_value(service.cpt)} is by telehealth (place of service "
                f"{plan_value(service.place_of_service or '')}) and has no telehealth modifier",
            )


def telehealth_no_95(plan: Any, context: Any) -> Iterator[Detail]:
    """Modifier 95 on a telehealth service whose place of service already says telehealth."""
    codes = codes_of(context)
    for index, service in enumerate(plan.services):
        if codes.is_telehealth(service.place_of_service) and "95" in service.modifiers:
            m = service.modifiers.index("95")
            yield (
                ("services", index, "modifiers", m),
                f"{plan_value(service.cpt)} has place of service "
                f"{plan_value(service.place_of_service or '')} and modifier 95",
            )


def _authorization(plan: Any) -> Any:
    coverage = plan.client.coverage
    return coverage.authorization if coverage is not None else None


def _day(day: dt.date) -> str:
    return plan_value(day.isoformat())


NAMED: dict[str, Callable[[Any, Any], Iterator[Detail]]] = {
    "service-time": service_time,
    "once-per-episode": once_per_episode,
    "first-listed-diagnosis": first_listed_diagnosis,
    "authorization-sessions": authorization_sessions,
    "authorization-period": authorization_period,
    "authorization-used": authorization_used,
    "telehealth-modifier": telehealth_modifier,
    "telehealth-no-95": telehealth_no_95,
}
