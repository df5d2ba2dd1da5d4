"""Matching a request to the recorded ones: by content, and saying how close a miss came.

A request is keyed by the SHA-256 of the canonical JSON (sorted keys, compact,
UTF-8) of its kind and body, so finding its recorded answers is one dict
lookup whatever the size of the cassette, and the order requests are made in
does not matter. When there is none, :func:`closest` finds the recorded
request that differs from it least and :func:`differences` says where, as a
person would read it: ``messages[3].content[0].text: 'x' != 'y'``,
``option temperature 0.5 != 0.7``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

from conversation.errors import quote

from ._format import Exchange

__all__ = ["closest", "differences", "request_key"]

_UNSET: Final = object()
_PROMPT: Final = frozenset({"messages", "system"})
_LIMIT: Final = 50
"""Differences counted per recorded request before it is known not to be the closest."""


def request_key(kind: str, body: Mapping[str, Any]) -> str:
    """The key of a request: the SHA-256 of the canonical JSON of ``[kind, body]``."""
    return hashlib.sha256(orjson.dumps([kind, body], option=orjson.OPT_SORT_KEYS)).hexdigest()


def differences(
    kind: str, body: Mapping[str, Any], recorded: Exchange, limit: int = _LIMIT
) -> list[str]:
    """Where a request (``kind``, ``body``) differs from ``recorded``'s, this one's value first.

    At most ``limit`` differences are listed (the first ones, in key order).
    """
    return _Differences(limit).of(kind, body, recorded).found


class _Differences:
    """The differences found so far, and a score: the number of JSON leaves that differ.

    An item one list has beyond the other counts its leaves, so a request one
    turn longer than another is further from it than one with a word changed.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.found: list[str] = []
        self.score = 0

    def add(self, text: str, weight: int = 1) -> None:
        self.found.append(text)
        self.score += weight

    @property
    def full(self) -> bool:
        return self.score >= self.limit

    def of(self, kind: str, body: Mapping[str, Any], recorded: Exchange) -> _Differences:
        if kind != recorded.kind:
            self.add(f"kind {quote(kind)} != {quote(recorded.kind)}")
        for key in sorted({*body, *recorded.request}):
            if self.full:
                break
            ours, theirs = body.get(key, _UNSET), recorded.request.get(key, _UNSET)
            if key in _PROMPT:
                self.compare(ours, theirs, key)
            elif not _same(ours, theirs):
                self.add(f"option {key} {_show(ours)} != {_show(theirs)}")
        del self.found[self.limit :]
        return self

    def compare(self, ours: Any, theirs: Any, where: str) -> None:
        """Add each place where ``ours`` and ``theirs`` differ, until the limit."""
        stack = [(ours, theirs, where)]
        while stack and not self.full:
            a, b, path = stack.pop()
            if isinstance(a, dict) and isinstance(b, dict):
                for key in sorted({*a, *b}, reverse=True):
                    stack.append((a.get(key, _UNSET), b.get(key, _UNSET), f"{path}.{key}"))
            elif isinstance(a, list) and isinstance(b, list):
                if len(a) != len(b):
                    extra = a[len(b) :] if len(a) > len(b) else b[len(a) :]
                    self.add(f"{path}: {_items(len(a))} != {_items(len(b))}", _leaves(extra))
                for index in reversed(range(min(len(a), len(b)))):
                    stack.append((a[index], b[index], f"{path}[{index}]"))
            elif type(a) is not type(b) or a != b:
                self.add(f"{path}: {_show(a)} != {_show(b)}")


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON (``1`` and ``1.0`` differ, ``True`` and ``1`` too)."""
    if isinstance(a, dict | list):
        differ = _Differences(1)
        differ.compare(a, b, "")
        return not differ.found
    return type(a) is type(b) and a == b


def _leaves(value: Any) -> int:
    """How many scalars ``value`` holds (at least 1)."""
    count, stack = 0, [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            count += 1
    return max(count, 1)


def _items(count: int) -> str:
    return f"{count} item{'' if count == 1 else 's'}"


def _show(value: Any) -> str:
    return "(not set)" if value is _UNSET else quote(value, 60)


def closest(
    kind: str, body: Mapping[str, Any], recorded: Iterable[Exchange]
) -> tuple[Exchange, list[str]] | None:
    """The recorded exchange whose request differs least from this one, and how; None if none.

    Fewest differences win; on a tie, the one recorded first. It looks at every
    recorded request, so it is for the error path only.
    """
    best: tuple[Exchange, _Differences] | None = None
    for exchange in recorded:
        limit = best[1].score if best is not None else _LIMIT
        found = _Differences(limit + 1).of(kind, body, exchange)
        if best is None or found.score < best[1].score:
            best = (exchange, found)
            if not found.score:
                break
    return None if best is None else (best[0], best[1].found)
