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

import attrs

__all__ = ["Vocabulary", "misspelling_of", "osa_distance"]

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


def _names(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(names)


@attrs.frozen
class Vocabulary:
    """A set of known names, ready to tell a misspelling of one of them (see the module).

    Built once per set of names: each name's length and letters are kept, so
    that most names a typed one cannot be close to are passed over without
    computing a distance.
    """

    names: tuple[str, ...] = attrs.field(converter=_names)
    _exact: frozenset[str] = attrs.field(init=False, repr=False)
    _entries: tuple[tuple[str, int, frozenset[str], int], ...] = attrs.field(init=False, repr=False)
    _longest: int = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_exact", frozenset(self.names))
        entries = tuple(
            (name, len(name), frozenset(name), 1 if len(name) <= _SHORT else 2)
            for name in self.names
        )
        object.__setattr__(self, "_entries", entries)
        object.__setattr__(self, "_longest", max((len(name) for name in self.names), default=0))

    def misspelling_of(self, name: str) -> str | None:
        """The known name ``name`` is taken to be a misspelling of, or None."""
        if name in self._exact:
            return None
        normal = name.strip().lower().replace("-", "_").replace(" ", "_")
        if normal in self._exact:
            return normal
        size = len(normal)
        if size > self._longest + 2:
            return None  # no known name is within two edits
        letters = frozenset(normal)
        best: str | None = None
        best_distance = 3
        for candidate, length, candidate_letters, budget in self._entries:
            # One edit changes the length by at most 1 and brings or takes at most
            # one letter each way: cheap bounds before the distance itself.
            if abs(size - length) > budget or len(letters ^ candidate_letters) > 2 * budget:
                continue
            found = osa_distance(normal, candidate, budget)
            if found <= budget and found < best_distance and not _family(normal, candidate):
                best, best_distance = candidate, found
        return best


def misspelling_of(name: str, known: Iterable[str]) -> str | None:
    """The known name ``name`` is taken to be a misspelling of, or None (see the module).

    Builds a :class:`Vocabulary` of ``known``; keep one to check many names.
    """
    return Vocabulary(tuple(known)).misspelling_of(name)
