"""The `crisis-lines` check: a client copy prints the public crisis lines of the
practice's country (`model/crisis_lines.toml`); a country plandoc knows none for
is found, naming the countries it knows and how a clinic adds its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plandoc.model.risk_words import mentions_risk
from plandoc.problems import FieldPath, plan_value


def crisis_lines(plan: Any, context: Any) -> Iterator[tuple[FieldPath, str]]:
    """A practice country for which plandoc knows no public crisis lines, or some not checked."""
    from plandoc.model.crisis_lines import built_in_lines

    known = getattr(context, "crisis_lines", None) or built_in_lines()
    country = plan.practice.country if plan.practice is not None else "US"
    unconfirmed = known.unconfirmed(country)
    if unconfirmed:
        yield (
            ("practice", "country"),
            f"the crisis line{'s' * (len(unconfirmed) > 1)} "
            f"{', '.join(line.number for line in unconfirmed)} of {plan_value(country)} "
            "not yet checked against a public source: the client copy leaves "
            f"{'them' if len(unconfirmed) > 1 else 'it'} out",
        )
    if known.printable(country):
        return
    yield (
        ("practice", "country"),
        f"plandoc knows no public crisis lines for {plan_value(country)} (it knows: "
        f"{', '.join(known.known)}): the client copy can print only the practice's own "
        "line, so give practice.crisis_phone",
    )


def risk_in_client_copy(plan: Any, context: Any) -> Iterator[tuple[FieldPath, str]]:
    """A duty of the contract that speaks of risk: the client copy leaves it out."""
    for index, part in enumerate(plan.contract.responsibilities):
        for number, duty in enumerate(part.duties):
            if mentions_risk(duty):
                yield (
                    ("contract", "responsibilities", index, "duties", number),
                    "speaks of risk: the client copy leaves it out (risk belongs to the "
                    "clinical record; the client copy shows the safety plan)",
                )
