"""Compose a checked plan into the layout's Markdown document.

The template gets the plan as it is plus a few values derived from it (the
review due date, the signature block with a line for each missing role, who
agreed to the plan, the running header) so templates stay free of logic.
Everything here is a pure function of the plan and the layout.

What a template writes above the document's title (its first level-1
heading) is the letterhead: the Markdown file keeps it at the top, the HTML
page sets it apart at the top of the first page, and the Word document puts it
in the first page's header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pyromark

from plandoc.checks.plan_checks import ADULT_AGE, client_age, review_due
from plandoc.documents.charts import ChartWords
from plandoc.documents.fingerprint import Fingerprint
from plandoc.documents.markdown_events import OPTIONS
from plandoc.errors import UsageError
from plandoc.layouts import PLAN_TEMPLATE, Layout
from plandoc.layouts.languages import N_, Language, document_language
from plandoc.model.crisis_lines import built_in_lines
from plandoc.model.instruments import Registry, built_in_registry
from plandoc.model.plan import Plan
from plandoc.model.progress import GoalProgress, plan_progress
from plandoc.model.service_codes import ServiceCodes, built_in_codes

SIGNATURE_LINE = "_" * 24
ROLE_LABELS = {
    "client": "Client",
    "guardian": "Parent or guardian",
    "clinician": "Clinician",
    "supervisor": "Clinical supervisor",
    "other": "Other participant",
}


@dataclass(frozen=True, slots=True)
class SignatureRow:
    role: str
    name: str
    credentials: str
    # "Electronically signed by ... at 14:05 UTC-05:00", "Signed on paper" (a wet
    # signature recorded), "Declined: reason", or a line to sign on
    signed: str
    date: str


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone besides the client whose signature the plan records: a guardian, a partner."""

    name: str
    role: str  # "guardian" or "other"
    signed: dt.date | None  # None: not signed (yet, or declined)
    declined: bool = False  # declined to sign (the plan gives the reason; the copy does not)


@dataclass(frozen=True, slots=True)
class Consent:
    """Who agreed to the plan, as the plan records it, for the client copy's words.

    The client's agreement is the contract's `client_agreement`, else the client's
    signature: signed is agreed, a declined signature is not; neither is unknown (None).
    """

    agreed: bool | None
    date: dt.date | None  # when the client agreed
    reason: str | None  # why the client did not agree, as recorded
    others: tuple[Participant, ...]  # guardians and other participants, in the plan's order
    signature_declined: bool = False  # the client agreed but declined to sign


@dataclass(frozen=True, slots=True)
class PlanDocument:
    """What every writer needs besides the Markdown: the running header and metadata."""

    markdown: str  # the whole document, letterhead first
    title: str
    header: tuple[str, ...]
    footer: str
    version: int
    language: str
    created: dt.date
    modified: dt.date
    author: str
    # The Markdown above the title: the practice's letterhead (empty without a practice).
    letterhead: str = ""
    # The charts the Markdown names as `![description](chart:NAME)`: NAME -> the progress drawn.
    charts: tuple[tuple[str, GoalProgress], ...] = ()
    # The charts' words and dates, and "Page X of Y", in the document's language.
    chart_words: ChartWords = field(default_factory=ChartWords)
    page_words: tuple[str, str, str] = ("Page ", " of ", "")  # before, between and after
    # What the document is made from (hashes, ids and names only): see documents.fingerprint.
    fingerprint: Fingerprint | None = None

    @property
    def body(self) -> str:
        """The document from its title on: the Markdown without the letterhead."""
        return self.markdown[len(self.letterhead) :]

    def chart(self, name: str) -> GoalProgress | None:
        return dict(self.charts).get(name)


def compose(
    plan: Plan,
    layout: Layout,
    instruments: Registry | None = None,
    service_codes: ServiceCodes | None = None,
) -> PlanDocument:
    try:
        language = document_language(layout, plan.plan.language)
    except LookupError as error:  # checked plans never get here: see checks/file.py
        raise UsageError(f"plan.language: {error}") from None
    progress = plan_progress(
        plan,
        instruments or built_in_registry(),
        layout.progress,
        date_text=language.date,
    )
    charts = {
        goal.id: f"goal-{number}"
        for number, goal in enumerate(plan.goals, 1)
        if layout.progress.charts and len(progress[goal.id].points) >= 2
    }
    context = {
        "plan": plan,
        "layout": layout,
        "review_due": review_due(plan, layout.review_interval_days),
        # The age on the document's date (its last review), as a reviewer reads it.
        "age": client_age(plan, plan.plan.last_reviewed or plan.plan.effective),
        "is_minor": client_age(plan) < ADULT_AGE,
        "signature_rows": signature_rows(plan, layout),
        "consent": consent(plan),
        "signature_line": SIGNATURE_LINE,
        "progress": progress,
        "charts": charts,
        "services": service_lines(plan, service_codes or built_in_codes()),
        "authorization": plan.client.coverage.authorized if plan.client.coverage else None,
        # The public crisis lines of the practice's country a client copy prints (only
        # those checked against their source: model.crisis_lines).
        "crisis_lines": built_in_lines().printable(
            plan.practice.country if plan.practice else "US"
        ),
    }
    markdown = layout.templates.render(PLAN_TEMPLATE, context, language)
    _ = language.gettext
    return PlanDocument(
        markdown=markdown,
        letterhead=letterhead(markdown),
        title=f"{_(layout.title)} {plan.plan.id} v{plan.plan.version}",
        header=running_header(plan, layout, language),
        footer=_(layout.footer) if layout.footer else "",
        version=plan.plan.version,
        language=plan.plan.language,
        created=plan.plan.created,
        modified=plan.plan.last_reviewed or plan.plan.effective,
        author=f"{plan.provider.name}, {plan.provider.credentials}",
        charts=tuple((name, progress[goal_id]) for goal_id, name in charts.items()),
        chart_words=chart_words(language),
        page_words=page_words(language),
        fingerprint=Fingerprint.of(plan, layout),
    )


# The pages' footer, made by the writers: "Page 2 of 5".
PAGE_OF = N_("Page %(page)s of %(pages)s")


def page_words(language: Language) -> tuple[str, str, str]:
    """The footer's words before the page's number, between it and the count of pages,
    and after that."""
    text = language.gettext(PAGE_OF)
    before, _, rest = text.partition("%(page)s")
    between, _, after = rest.partition("%(pages)s")
    return before, between, after


def chart_words(language: Language) -> ChartWords:
    """A chart's words and dates in the document's language."""
    return ChartWords(
        gettext=language.gettext,
        ngettext=language.ngettext,
        date=language.date,
        axis_date=language.axis_date,
        decimal=language.number(0.5)[1],
    )


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A service as a billing table shows it: the plan's entry and what its codes mean."""

    service: Any
    minutes: int | None  # its own, else its method's
    place: str  # "10 (telehealth, the patient at home)", or ""
    modifiers: str  # "95, HO"
    once: bool  # an evaluation, billed once for the episode (not a recurring service)
    unit: str  # what one unit is, when the code counts time in units


def service_lines(plan: Plan, codes: ServiceCodes) -> list[ServiceLine]:
    from plandoc.checks.billing import session_minutes

    lines = []
    for service in plan.services:
        entry = codes.find(service.cpt)
        pos = service.place_of_service
        place = codes.place(pos) if pos else None
        lines.append(
            ServiceLine(
                service,
                session_minutes(plan, service),
                f"{pos} ({place[0].lower()})" if pos and place else (pos or ""),
                ", ".join(service.modifiers),
                bool(entry and entry.once == "episode"),
                entry.unit if entry and entry.unit else "",
            )
        )
    return lines


def letterhead(markdown: str) -> str:
    """The Markdown above the document's title (its first level-1 heading): the letterhead.

    Plan text can never make a heading (it is escaped), so only a template's own
    title ends the letterhead; a document without a title has none.
    """
    source = markdown.encode("utf-8")  # the parser's spans count bytes
    for event, span in pyromark.events_with_range(markdown, options=OPTIONS):
        start = event.get("Start") if isinstance(event, dict) else None
        heading = start.get("Heading") if isinstance(start, dict) else None
        if isinstance(heading, dict) and heading.get("level") == "H1":
            above = source[: span["start"]].decode("utf-8")
            return above if above.strip() else ""
    return ""


def consent(plan: Plan) -> Consent:
    """Who agreed to the plan: the client (the contract's record, else the client's
    signature) and the guardians and others who signed or declined."""
    agreement = plan.contract.client_agreement
    signature = next((s for s in plan.signatures if s.role == "client"), None)
    signed_on = signature.date if signature else None
    others = tuple(
        Participant(s.name, s.role, s.date, s.date is None and bool(s.declined_reason))
        for s in plan.signatures
        if s.role in ("guardian", "other")
    )
    declined = signature is not None and signed_on is None and bool(signature.declined_reason)
    if agreement is not None:
        if agreement.agreed:
            return Consent(True, agreement.date or signed_on, None, others, declined)
        return Consent(False, None, agreement.declined_reason, others)
    if signature is not None:
        if signed_on is not None:
            return Consent(True, signed_on, None, others)
        return Consent(False, None, signature.declined_reason, others)
    return Consent(None, None, None, others)


def running_header(plan: Plan, layout: Layout, language: Language | None = None) -> tuple[str, ...]:
    """The items the layout's manifest names, in its order (those the plan has), in the
    document's language."""
    if language is None:
        language = document_language(layout, "en")
    _ = language.gettext
    coverage = plan.client.coverage
    member = coverage.member_id if coverage else None
    items = {
        "client_name": plan.client.name,
        "preferred_name": plan.client.called,
        "date_of_birth": _("DOB %(date)s") % {"date": language.date(plan.client.date_of_birth)},
        "member_id": _("Member ID %(id)s") % {"id": member} if member else None,
        "plan_id": _("Plan %(id)s v%(version)s")
        % {"id": plan.plan.id, "version": plan.plan.version},
    }
    return tuple(_short(text) for name in layout.header if (text := items[name]))


HEADER_ITEM_MOST = 60  # characters of one item of the running header


def _short(text: str) -> str:
    """A header item as it fits a page's margin: the whole text is in the document."""
    text = " ".join(text.split())
    return text if len(text) <= HEADER_ITEM_MOST else text[: HEADER_ITEM_MOST - 1] + "…"


def expected_roles(plan: Plan) -> list[str]:
    roles = ["client"]
    if client_age(plan) < ADULT_AGE:
        roles.append("guardian")
    roles.append("clinician")
    if plan.provider.supervisor:
        roles.append("supervisor")
    return roles


SIGNED_ON_PAPER = "Signed on paper"


def signed_time(moment: dt.datetime) -> str:
    """The time of an electronic signature as documents print it: 24-hour, with its UTC
    offset (`14:05 UTC-05:00`), so it reads the same wherever the document is read."""
    offset = moment.strftime("%z")  # -0500
    return f"{moment:%H:%M} UTC{offset[:3]}:{offset[3:]}"


def electronic_words(signature: Any, layout: Layout) -> str:
    """ "Electronically signed by NAME, CREDENTIALS on DATE at TIME" (the time when the
    signature records one)."""
    who = signature.name + (f", {signature.credentials}" if signature.credentials else "")
    words = f"Electronically signed by {who} on {layout.format_date(signature.date)}"
    if signature.signed_at is not None:
        words += f" at {signed_time(signature.signed_at)}"
    return words


def signature_rows(plan: Plan, layout: Layout) -> list[SignatureRow]:
    """Recorded signatures, plus an empty line to sign for each expected role not yet signed."""
    rows = []
    for signature in plan.signatures:
        if signature.date is not None and signature.electronic:
            signed, date = electronic_words(signature, layout), layout.format_date(signature.date)
        elif signature.date is not None:
            signed, date = SIGNED_ON_PAPER, layout.format_date(signature.date)
        else:
            signed, date = f"Declined: {signature.declined_reason}", ""
        rows.append(
            SignatureRow(
                ROLE_LABELS[signature.role],
                signature.name,
                signature.credentials or "",
                signed,
                date,
            )
        )
    signed_roles = {signature.role for signature in plan.signatures}
    defaults = {
        "client": (plan.client.name, ""),
        "guardian": ("", ""),
        "clinician": (plan.provider.name, plan.provider.credentials),
        "supervisor": (
            (plan.provider.supervisor.name, plan.provider.supervisor.credentials)
            if plan.provider.supervisor
            else ("", "")
        ),
    }
    for role in expected_roles(plan):
        if role not in signed_roles:
            name, credentials = defaults[role]
            rows.append(
                SignatureRow(ROLE_LABELS[role], name, credentials, SIGNATURE_LINE, SIGNATURE_LINE)
            )
    return rows
