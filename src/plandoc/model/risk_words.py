"""Words that say a text is about risk: what the clinical record says about suicide,
self-harm or danger, which the client's copy leaves to the safety plan.

A client copy shows the contract's duties, but a clinician's duty such as "Re-assess
suicide risk at every session" is the clinical record's view of the client's risk,
not the client's plan: it is left out of the client copy (the `risk-in-client-copy`
check warns, naming it). English and Spanish stems, matched at the start of a word,
case ignored.
"""

from __future__ import annotations

import re

RISK_WORDS = re.compile(
    r"\b(?:risk|suicid|self[- ]?harm|homicid|lethal|c-ssrs|columbia suicide|danger to self"
    r"|riesgo|autolesi|letal)",
    re.IGNORECASE,
)


def mentions_risk(text: str) -> bool:
    """Whether `text` speaks of risk (see RISK_WORDS)."""
    return RISK_WORDS.search(text) is not None
