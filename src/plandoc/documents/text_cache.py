"""What a writer makes of a short text, made once a process and remembered.

A document's short texts recur from plan to plan: the layout's labels and
headings, the plans' dates, codes, scores and statuses. The writers escape,
measure and mark up each text the same way every time, so for a short text
they remember the result (`remembered`): the HTML writer, the Markdown
template's escaping and the DOCX runs each took a quarter to a third less
time on the spec's example plans (see docs/performance.md, issue 21).

Memory stays bounded: only texts of at most SHORT_TEXT characters are
remembered, the last CACHED_TEXTS of each function, in this process' memory
only (never written anywhere); a longer text is worked out each time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, TypeVar

SHORT_TEXT = 256  # characters: a label, a date, a code, a status, a short statement
CACHED_TEXTS = 4096  # remembered per function

Result = TypeVar("Result")


def remembered(function: Callable[..., Result]) -> Callable[..., Result]:
    """`function(text, *flags)` remembered for short texts (see the module's notes).

    The function must give the same result for the same arguments, and its
    result must not be changed by its callers (a string, a tuple)."""
    cached = lru_cache(maxsize=CACHED_TEXTS)(function)

    @wraps(function)
    def call(text: str, *flags: Any) -> Result:
        if len(text) <= SHORT_TEXT:
            return cached(text, *flags)
        return function(text, *flags)

    call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    call.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return call
