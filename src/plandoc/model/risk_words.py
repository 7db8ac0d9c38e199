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
import unicodedata

RISK_WORDS = re.compile(
    r"\b(?:risk|suicid|self[- ]?harm|self[- ]?injur|homicid|lethal|overdos|c-ssrs"
    r"|columbia suicide|danger(?:ous(?:ness)?)? to (?:self|others)|dangerousness"
    r"|(?:end|ending|take|taking|took) (?:his|her|their|my|your) (?:own )?life"
    r"|kill (?:him|her|my|your|them|one)sel(?:f|ves)"
    r"|riesgo|autolesi|autol[ií]tic|letal|sobredosis|quitarse la vida)",
    re.IGNORECASE,
)


# Characters that print as nothing inside a word (soft hyphen, zero-width space and
# joiners, word joiner, BOM): taken out before matching, so "sui\u00adcidal" is found.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def mentions_risk(text: str) -> bool:
    """Whether `text` speaks of risk (see RISK_WORDS), read as it prints: compatibility
    forms folded (fullwidth letters, the no-break hyphen and space: NFKC) and characters
    that print as nothing taken out."""
    folded = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    folded = folded.replace("\u2010", "-").replace("\u2011", "-")
    return RISK_WORDS.search(folded) is not None
