"""Prompt caching: put ``cache_control`` breakpoints where they pay, and keep them within 4.

The API caches the prompt prefix up to each block marked ``"cache_control":
{"type": "ephemeral"}``, in the order tools -> system -> messages, and rejects a
request with more than 4 marks. For a growing chat the marks that pay are: the
last tool definition (:func:`cache_tools`), the system prompt, and the last user
turn, so each request reads what the one before it wrote.

:func:`with_cache_breakpoints` places the system and last-turn marks. Called
again after the conversation has grown, it moves the last-turn mark forward:
it keeps the mark it placed on the previous request's last user turn (that
prefix is what the cache holds now, and the API looks back only about 20
blocks from a mark for a hit) and rebuilds every older turn it had marked
without the mark. It recognises its own marks by a note in the conversation's
``metadata`` (key :data:`METADATA_KEY`: the ``[turn, block]`` positions it
marked), which is saved with the conversation and never sent; a mark the
program placed itself is never touched. The total stays within 4: the
helper places only what fits, in the order system, last turn, previous turn.

>>> from conversation import Conversation
>>> c = with_cache_breakpoints(Conversation(system="Be terse.").user("Hi"))
>>> c.to_payload(model="m", max_tokens=8)["system"]
[{'type': 'text', 'text': 'Be terse.', 'cache_control': {'type': 'ephemeral'}}]
>>> count_breakpoints(c)
2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from ._blocks import (
    CACHE_HOLDERS,
    Block,
    Text,
)
from ._conversation import Conversation
from ._json import FrozenDict, thaw
from ._rules import MAX_BREAKPOINTS, block_breakpoints, option_breakpoints
from ._turn import Turn
from .errors import MalformedInputError

__all__ = ["METADATA_KEY", "cache_tools", "count_breakpoints", "with_cache_breakpoints"]

METADATA_KEY = "conversation.caching"
"""The metadata entry where :func:`with_cache_breakpoints` notes the message
positions it marked (``[[turn, block], ...]``)."""

Ttl = Literal["5m", "1h"]

_HOLDERS = CACHE_HOLDERS


def _marker(ttl: Ttl | None) -> dict[str, str]:
    if ttl is None:
        return {"type": "ephemeral"}
    if ttl not in ("5m", "1h"):
        raise MalformedInputError(f'ttl must be "5m", "1h" or None, got {ttl!r}', "$.ttl")
    return {"type": "ephemeral", "ttl": ttl}


def _can_hold(block: Block) -> bool:
    """Whether the API accepts a cache_control on ``block`` (a non-empty text, an image...)."""
    if type(block) is Text:
        return bool(block.text) and not block.text.isspace()
    return isinstance(block, _HOLDERS)


def count_breakpoints(conversation: Conversation, **options: Any) -> int:
    """How many ``cache_control`` marks a request for ``conversation`` with ``options`` holds.

    Counts the tools and request-level marks in ``options``, the system prompt's
    and every message block's (blocks nested in tool results and documents
    too), as the ``too_many_cache_breakpoints`` rule does.
    """
    return option_breakpoints(options) + _system_marks(conversation) + _message_marks(conversation)


def cache_tools(tools: Iterable[Any], *, ttl: Ttl | None = None) -> list[Any]:
    """A copy of ``tools`` whose last definition carries ``cache_control``.

    That one mark caches every tool definition. A dict gets the key; an attrs
    tool value with a ``cache_control`` field is rebuilt with it set; any other
    object with ``to_wire()`` is replaced by its wire dict with the key added.
    ``tools`` itself is not changed.
    """
    result = list(tools)
    if not result:
        return result
    marker = _marker(ttl)
    last = result[-1]
    if isinstance(last, Mapping):
        result[-1] = {**thaw(last), "cache_control": marker}
    elif attrs.has(type(last)) and "cache_control" in attrs.fields_dict(type(last)):
        result[-1] = attrs.evolve(last, cache_control=marker)
    elif callable(getattr(last, "to_wire", None)):
        result[-1] = {**last.to_wire(), "cache_control": marker}
    else:
        raise MalformedInputError(
            f"cannot mark a tool definition of type {type(last).__name__}: give a dict, "
            "or a tool value with a cache_control field or a to_wire() method",
            f"$.tools[{len(result) - 1}]",
        )
    return result


def with_cache_breakpoints(
    conversation: Conversation,
    *,
    system: bool = True,
    tools: Sequence[Any] | None = None,
    last_turn: bool = True,
    ttl: Ttl | None = None,
) -> Conversation:
    """``conversation`` with cache breakpoints on its system prompt and last user turn.

    Args:
        system: mark the system prompt's last block (a str system becomes one
            text block).
        tools: the tool definitions the request will carry; their marks count
            toward the limit of 4 (mark them with :func:`cache_tools`).
        last_turn: mark the last block that can hold a mark (not a thinking
            block, not empty text) of the last user turn, and move the mark
            this helper placed before forward (see the module doc).
        ttl: ``"5m"`` (the API's default) or ``"1h"``; None sends no ttl.

    Marks are placed only while the request stays within 4 (tools and the
    program's own marks first, then system, last turn, previous turn).
    Calling it twice gives the same conversation as calling it once.
    """
    marker = FrozenDict(_marker(ttl))
    tool_marks = 0 if tools is None else option_breakpoints({"tools": list(tools)})
    ours = _recorded(conversation) if last_turn else []
    # The program's own marks in the messages: every mark but the ones we placed.
    theirs = _message_marks(conversation) - len(ours)

    result = conversation
    if system:
        result = _mark_system(result, marker, MAX_BREAKPOINTS - tool_marks - theirs)
    if not last_turn:
        return result
    room = MAX_BREAKPOINTS - tool_marks - _system_marks(result) - theirs
    wanted: list[tuple[int, int]] = []
    target = _last_user_position(result)
    if target is not None and room > 0:
        turn_index, block_index = target
        block = result[turn_index].blocks[block_index]
        if block.cache_control is None or target in ours:  # type: ignore[union-attr]
            wanted.append(target)
            room -= 1
    earlier = [p for p in ours if p not in wanted and (target is None or p[0] < target[0])]
    if earlier and room > 0:
        wanted.append(max(earlier))
    return _apply(result, ours, wanted, marker)


def _system_marks(conversation: Conversation) -> int:
    system = conversation.system
    if not isinstance(system, tuple):
        return 0
    return sum(block_breakpoints(block) for block in system)


def _message_marks(conversation: Conversation) -> int:
    count = 0
    for turn in conversation:
        if type(turn.content) is not str:
            count += sum(block_breakpoints(block) for block in turn.blocks)
    return count


def _mark_system(conversation: Conversation, marker: FrozenDict, room: int) -> Conversation:
    """The system prompt with its last block marked, if there is one and room for it."""
    system = conversation.system
    if system is None:
        return conversation
    blocks = (Text(system),) if isinstance(system, str) else system
    if not blocks or not _can_hold(blocks[-1]):
        return conversation
    marked = sum(block.cache_control is not None for block in blocks[:-1])
    if blocks[-1].cache_control is None and marked + 1 > room:
        return conversation
    return conversation.with_system((*blocks[:-1], attrs.evolve(blocks[-1], cache_control=marker)))


def _recorded(conversation: Conversation) -> list[tuple[int, int]]:
    """The positions this helper marked before that still hold a mark."""
    note = conversation.metadata.get(METADATA_KEY)
    if not isinstance(note, list):
        return []
    size = len(conversation)
    found = []
    for item in note:
        if not (isinstance(item, list) and len(item) == 2 and all(type(i) is int for i in item)):
            continue
        turn_index, block_index = item
        if not 0 <= turn_index < size:
            continue
        turn = conversation[turn_index]
        blocks = turn.blocks
        if (
            turn.role == "user"
            and 0 <= block_index < len(blocks)
            and getattr(blocks[block_index], "cache_control", None) is not None
        ):
            found.append((turn_index, block_index))
    return sorted(set(found))


def _last_user_position(conversation: Conversation) -> tuple[int, int] | None:
    """(turn, block) of the last block that can hold a mark in the last user turn having one."""
    for turn_index in range(len(conversation) - 1, -1, -1):
        turn = conversation[turn_index]
        if turn.role != "user":
            continue
        blocks = turn.blocks
        for block_index in range(len(blocks) - 1, -1, -1):
            if _can_hold(blocks[block_index]):
                return turn_index, block_index
    return None


def _apply(
    conversation: Conversation,
    ours: list[tuple[int, int]],
    wanted: list[tuple[int, int]],
    marker: FrozenDict,
) -> Conversation:
    """Unmark ``ours`` not in ``wanted``, mark ``wanted``, and note ``wanted`` in metadata."""
    changes: dict[int, dict[int, Any]] = {}
    desired = dict.fromkeys(ours) | dict.fromkeys(wanted, marker)
    for (turn_index, block_index), mark in desired.items():
        current = getattr(conversation[turn_index].blocks[block_index], "cache_control", None)
        if current != mark:
            changes.setdefault(turn_index, {})[block_index] = mark
    result = conversation
    if changes:
        first = min(changes)
        rebuilt = conversation[:first]
        for index in range(first, len(conversation)):
            turn = conversation[index]
            edits = changes.get(index)
            if edits:
                blocks = list(turn.blocks)
                for block_index, mark in edits.items():
                    blocks[block_index] = attrs.evolve(blocks[block_index], cache_control=mark)
                turn = Turn(turn.role, tuple(blocks), turn.provenance)
            rebuilt = rebuilt.append(turn)
        result = rebuilt
    note = [list(position) for position in sorted(wanted)]
    if conversation.metadata.get(METADATA_KEY, []) == note:
        return result
    return result.with_metadata({METADATA_KEY: note})
