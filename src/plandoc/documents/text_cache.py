"""What a writer makes of a short text, made once a process and remembered.

A document's short texts recur from plan to plan: the layout's labels and
headings, the plans' dates, codes, scores and statuses. The writers escape,
measure and mark up each text the same way every time, so for a short text
they remember the result (`remembered`): the HTML writer, the Markdown
template's escaping and the DOCX runs each took a quarter to a third less
time on the spec's example plans (see docs/performance.md, issue 21).

Memory stays bounded: only texts of at most SHORT_TEXT characters are
remembered, the last CACHED_TEXTS of each function (the oldest dropped first),
in this process' memory only (never written anywhere); a longer text is worked
out each time.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, NamedTuple, TypeVar

SHORT_TEXT = 256  # characters: a label, a date, a code, a status, a short statement
CACHED_TEXTS = 4096  # remembered per function

Result = TypeVar("Result")


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int


def remembered(function: Callable[..., Result]) -> Callable[..., Result]:
    """`function(text, *flags)` remembered for short texts (see the module's notes).

    The function must give the same result for the same arguments, and its
    result must not be changed by its callers (a string, a tuple).

    A plain dict, the oldest text dropped first when it is full, rather than
    `functools.lru_cache` behind a test of the text's length: a remembered text is
    one dictionary lookup. The HTML writer asks about 900 times a plan (the tables'
    widths, timed alone, 0.142 -> 0.135 ms a plan with it; docs/performance.md,
    issue 21, third round)."""
    cache: dict[Any, Result] = {}
    counts = [0, 0]  # hits, misses

    @wraps(function)
    def call(text: str, *flags: Any) -> Result:
        key = (text, *flags) if flags else text
        result = cache.get(key, _MISSING)
        if result is not _MISSING:
            counts[0] += 1
            return result  # type: ignore[return-value]
        counts[1] += 1
        result = function(text, *flags)
        if len(text) <= SHORT_TEXT:
            if len(cache) >= CACHED_TEXTS:
                del cache[next(iter(cache))]  # the oldest
            cache[key] = result
        return result

    def cache_clear() -> None:
        cache.clear()
        counts[:] = [0, 0]

    call.cache_clear = cache_clear  # type: ignore[attr-defined]
    call.cache_info = lambda: CacheInfo(counts[0], counts[1], CACHED_TEXTS, len(cache))  # type: ignore[attr-defined]
    return call


_MISSING = object()
