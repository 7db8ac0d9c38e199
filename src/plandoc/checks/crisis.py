"""The `crisis-lines` check: a client copy prints the public crisis lines of the
practice's country (`model/crisis_lines.toml`); a country plandoc knows none for
is found, naming the countries it knows and how a clinic adds its own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plandoc.problems import FieldPath, plan_value


def crisis_lines(plan: Any, context: Any) -> Iterator[tuple[FieldPath, str]]:
    """A practice country for which plandoc knows no public crisis lines to print."""
    from plandoc.model.crisis_lines import built_in_lines

    known = getattr(context, "crisis_lines", None) or built_in_lines()
    country = plan.practice.country if plan.practice is not None else "US"
    if known.lines_for(country):
        return
    yield (
        ("practice", "country"),
        f"plandoc knows no public crisis lines for {plan_value(country)} (it knows: "
        f"{', '.join(known.known)}): the client copy can print only the practice's own "
        "line, so give practice.crisis_phone",
    )
