"""Telling a misspelt name from a new one: the closeness rule behind "did you mean ...?".

Block types and request fields are open sets: the API adds new ones, and the
library passes names it does not know through. A name a letter or two from one
it does know is almost always a typo, though, and sending it only earns a 400.
:func:`misspelling_of` decides, by one rule for both:

- a name that is known is not a misspelling;
- a name that differs from a known one only in case, ``-`` or spaces for ``_``,
  or surrounding whitespace is one (``"Text"``, ``"tool-use"``);
- otherwise it is one when its Damerau-Levenshtein distance (optimal string
  alignment: insert, delete, substitute, or swap two neighbours) to a known
  name is at most 1 for known names of up to 5 characters and at most 2 for
  longer ones, unless the two are a family (split at ``_``, one is the other
  with whole words added, as ``x_tool_result`` is to ``tool_result``): those
  are different names, not typos.

The closest known name wins (the first in the given order on a tie).
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["misspelling_of", "osa_distance"]

_SHORT = 5
"""Known names up to this long allow one edit; longer ones two."""


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of ``a`` and ``b``, or ``limit + 1`` if above.

    Insertions, deletions, substitutions and swaps of two adjacent characters
    each cost 1. The work is bounded by the limit: names far apart in length
    are rejected at once, and a row whose minimum passes the limit ends it.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def _family(a: str, b: str) -> bool:
    """True when one name is the other with whole ``_``-separated words added."""
    short, long = sorted((a.split("_"), b.split("_")), key=len)
    if len(short) == len(long):
        return False
    words = iter(long)
    return all(word in words for word in short)  # a subsequence, in order


def misspelling_of(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` is taken to be a misspelling of, or None (see the module)."""
    names = tuple(known)
    if name in names:
        return None
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in names:
        return normal
    best: str | None = None
    best_distance = 3
    for candidate in names:
        budget = 1 if len(candidate) <= _SHORT else 2
        found = osa_distance(normal, candidate, budget)
        if found <= budget and found < best_distance and not _family(normal, candidate):
            best, best_distance = candidate, found
    return best
