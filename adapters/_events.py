"""The events a streaming adapter yields while a reply is being written.

They are the Messages API's SSE events, typed and trimmed to what a program
reacts to; every streaming adapter yields these same classes::

    MessageStart     the reply began: its id and model
    BlockStart       content block ``index`` began: the block as known so far
    TextDelta        text appended to a text block
    ThinkingDelta    reasoning appended to a thinking block
    InputJsonDelta   a fragment of a tool_use block's JSON input
    BlockStop        content block ``index`` is complete: the whole block
    MessageStop      the reply is complete: the whole :class:`~conversation.Reply`

``ping`` is not an event; ``message_delta`` (stop reason, final usage) arrives
folded into the Reply of :class:`MessageStop`, and signature, citation,
compaction and newer deltas into the finished block of :class:`BlockStop`. Each class has a
``type`` class attribute naming it, as the content blocks do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import ClassVar, TypeAlias

import attrs

from conversation import Block, Reply, Text, Thinking, ToolUse

__all__ = [
    "BlockStart",
    "BlockStop",
    "InputJsonDelta",
    "MessageStart",
    "MessageStop",
    "StreamEvent",
    "TextDelta",
    "ThinkingDelta",
    "events_from_reply",
]


@attrs.frozen
class MessageStart:
    """The reply began; ``id`` and ``model`` are what the API said about it."""

    type: ClassVar[str] = "message_start"
    id: str | None
    model: str | None


@attrs.frozen
class BlockStart:
    """Content block ``index`` began; ``block`` is it with an empty payload.

    A text block starts as ``Text("")``, a tool call as ``ToolUse(id, name, {})``
    (so a program can show "calling get_weather..." at once); blocks that do
    not stream arrive whole here.
    """

    type: ClassVar[str] = "block_start"
    index: int
    block: Block


@attrs.frozen
class TextDelta:
    """``text`` was appended to the text block at ``index``."""

    type: ClassVar[str] = "text_delta"
    index: int
    text: str


@attrs.frozen
class ThinkingDelta:
    """``thinking`` was appended to the thinking block at ``index``."""

    type: ClassVar[str] = "thinking_delta"
    index: int
    thinking: str


@attrs.frozen
class InputJsonDelta:
    """A fragment of the JSON input of the tool call at ``index``.

    Fragments split anywhere, even inside a string; the parsed input is in the
    ``block`` of the :class:`BlockStop` that follows.
    """

    type: ClassVar[str] = "input_json_delta"
    index: int
    partial_json: str


@attrs.frozen
class BlockStop:
    """Content block ``index`` is complete; ``block`` is the finished block."""

    type: ClassVar[str] = "block_stop"
    index: int
    block: Block


@attrs.frozen
class MessageStop:
    """The reply is complete; ``reply`` has its content, stop reason and usage."""

    type: ClassVar[str] = "message_stop"
    reply: Reply


StreamEvent: TypeAlias = (
    MessageStart | BlockStart | TextDelta | ThinkingDelta | InputJsonDelta | BlockStop | MessageStop
)
"""Any event a stream yields."""

_WORDS = re.compile(r"\s*\S+|\s+")
_JSON_PIECE = 16


def _words(text: str) -> list[str]:
    """``text`` cut before each word, the way a model's tokens arrive (joined, equal)."""
    return _WORDS.findall(text)


def events_from_reply(reply: Reply) -> Iterator[StreamEvent]:
    """The events that stream ``reply``: what a streaming API would have sent for it.

    Text and thinking arrive word by word, tool input in short JSON fragments;
    the deltas of a block joined give its content exactly.
    """
    yield MessageStart(reply.id, reply.model)
    for index, block in enumerate(reply.content):
        if type(block) is Text:
            yield BlockStart(index, Text(""))
            for piece in _words(block.text):
                yield TextDelta(index, piece)
        elif type(block) is Thinking:
            yield BlockStart(index, Thinking("", ""))
            for piece in _words(block.thinking):
                yield ThinkingDelta(index, piece)
        elif type(block) is ToolUse:
            yield BlockStart(index, ToolUse(block.id, block.name, {}))
            text = json.dumps(block.input, ensure_ascii=False, separators=(",", ":"))
            for start in range(0, len(text), _JSON_PIECE):
                yield InputJsonDelta(index, text[start : start + _JSON_PIECE])
        else:
            yield BlockStart(index, block)
        yield BlockStop(index, block)
    yield MessageStop(reply)
