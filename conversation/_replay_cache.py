"""Prompt caching across replayed siblings: where the requests of many replays meet.

Dialogues replayed together often begin alike (one system prompt, the same
opening turns). Every request of a replay carries the turns before its first
regenerated turn unchanged, so when two dialogues share such a prefix, a
cache breakpoint at its end lets the second read from the cache what the
first wrote. :func:`cache_points` finds that prefix for each dialogue (by the
content ids of prefixes: one pass over the turns) and :func:`mark_turn` /
:func:`mark_system` place the mark on a request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from ._blocks import Text
from ._conversation import Conversation
from ._json import FrozenDict
from ._rules import MAX_BREAKPOINTS
from ._turn import Turn
from .caching import _can_hold, count_breakpoints

__all__ = ["cache_points", "mark_system", "mark_turn"]

_EPHEMERAL: Final = FrozenDict({"type": "ephemeral"})


def cache_points(
    conversations: Sequence[Conversation],
    stable: Sequence[int],
    options: Mapping[str, Any],
) -> list[int | None]:
    """For each conversation, how many leading turns to cache (0: the system prompt), or None.

    ``stable[i]`` is how many leading turns every request of conversation i
    carries unchanged. The point is the longest such prefix another
    conversation shares (same system prompt, same turns); None when it shares
    none, or when its requests (with ``options``) hold 4 breakpoints already.
    """
    counts: Counter[str] = Counter()
    for conversation, length in zip(conversations, stable, strict=True):
        for size in _sizes(conversation, length):
            counts[conversation[:size].id] += 1
    points: list[int | None] = []
    for conversation, length in zip(conversations, stable, strict=True):
        shared = [
            size for size in _sizes(conversation, length) if counts[conversation[:size].id] > 1
        ]
        full = count_breakpoints(conversation, **options) >= MAX_BREAKPOINTS
        points.append(None if full or not shared else max(shared))
    return points


def _sizes(conversation: Conversation, length: int) -> range:
    """The prefix sizes worth caching: 1..length turns, and 0 when there is a system prompt."""
    return range(0 if conversation.system is not None else 1, length + 1)


def mark_turn(turn: Turn) -> Turn:
    """``turn`` with a cache breakpoint on its last block that can hold one (if it has none)."""
    blocks = turn.blocks
    for position in range(len(blocks) - 1, -1, -1):
        block: Any = blocks[position]  # a block that can hold a mark has cache_control
        if _can_hold(block):
            if block.cache_control is not None:
                return turn
            marked = attrs.evolve(block, cache_control=_EPHEMERAL)
            return Turn(
                turn.role, (*blocks[:position], marked, *blocks[position + 1 :]), turn.provenance
            )
    return turn


def mark_system(conversation: Conversation) -> Conversation:
    """``conversation`` with a cache breakpoint at the end of its system prompt."""
    system = conversation.system
    if system is None:
        return conversation
    blocks = (Text(system),) if isinstance(system, str) else system
    last = blocks[-1] if blocks else None
    if last is None or not _can_hold(last) or last.cache_control is not None:
        return conversation
    return conversation.with_system((*blocks[:-1], attrs.evolve(last, cache_control=_EPHEMERAL)))
