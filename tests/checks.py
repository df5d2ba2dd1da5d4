"""Checks that more than one test module makes of a value the library accepted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conversation import Conversation, RuleViolationError, converter

__all__ = ["round_trip", "shared_prefix"]


def _turns(c: Conversation) -> list[tuple[str, Any]]:
    return [(turn.role, turn.content) for turn in c]


def round_trip(c: Conversation) -> None:
    """Use an accepted conversation every way; assert it survives its own round trips."""
    digest = hash(c)
    saved = c.dumps()
    again = Conversation.loads(saved)
    assert again == c
    assert hash(again) == digest
    assert again.dumps() == saved
    assert Conversation(c.system, list(c), metadata=c.metadata) == c
    repr(c)
    for turn in c:
        repr(turn)
        assert converter.structure(converter.unstructure(turn), type(turn)).content == turn.content
    try:
        body = c.to_payload(model="m", max_tokens=1)
    except RuleViolationError:
        pass  # a conversation the API would refuse is not sent: nothing to read back
    else:
        back = Conversation.from_payload(body)
        assert _turns(back) == _turns(c)
        assert back.system == c.system
        assert back.to_payload(model="m", max_tokens=1) == body
    resumed = c.resumable()
    assert Conversation.loads(resumed.dumps()) == resumed


def shared_prefix(a: Iterable[Any], b: Iterable[Any]) -> int:
    """How many items two sequences begin with alike, counted the slow, obvious way."""
    size = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        size += 1
    return size
