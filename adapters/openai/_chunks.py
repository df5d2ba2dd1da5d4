"""A Chat Completions stream read as the Messages API's stream events.

:class:`ChunkReader` is fed the stream's chunks (``chat.completion.chunk``
objects, then ``[DONE]``) and returns, for each, the Messages API events it
amounts to (``message_start``, ``content_block_start``, ``content_block_delta``
of text or of a tool call's JSON arguments, ``content_block_stop``,
``message_delta``, ``message_stop``), which the shared stream folds with the
same :class:`~adapters._http.Accumulator` as an Anthropic stream. So a cut
stream keeps what arrived in exactly the same way, and the folded reply
equals what :func:`._translate.reply_from_completion` reads from the same
answer sent whole.

The reply ends at ``[DONE]``: the chunk with ``finish_reason`` is followed
by one with the usage (``stream_options.include_usage``, which the adapter
asks for). An ``{"error": ...}`` object in the stream is an ``error`` event.
"""

from __future__ import annotations

from typing import Any, Final

from adapters._http import DONE
from conversation import MalformedReplyError
from conversation.errors import quote

from ._translate import PROVIDER_FIELDS, map_usage, provider_fields, stop_reason

__all__ = ["ChunkReader"]

Event = tuple[str, dict[str, Any]]

_NO_EVENTS: Final[list[Event]] = []


class ChunkReader:
    """The Messages API events of one Chat Completions stream, chunk by chunk (it holds state)."""

    __slots__ = (
        "_blocks",
        "_done",
        "_finish",
        "_first",
        "_open",
        "_refused",
        "_text",
        "_tools",
        "_usage",
    )

    def __init__(self) -> None:
        self._first: dict[str, Any] | None = None  # the first chunk: id, model, created...
        self._blocks = 0  # how many blocks were started
        self._text: int | None = None  # the index of the open text block
        self._tools: dict[int, int] = {}  # a tool call's index in the chunks: its block's index
        self._open: list[int] = []  # the open blocks, in order
        self._finish: Any = None
        self._refused = False
        self._usage: Any = None
        self._done = False

    def feed(self, name: str, data: dict[str, Any]) -> list[Event]:
        """The events one chunk amounts to (``name`` is ``[DONE]`` for the end)."""
        if name == DONE:
            return self._end()
        if "error" in data and "choices" not in data:
            return [("error", data)]
        if self._done:
            raise MalformedReplyError(f"a chunk came after [DONE]: {quote(data, 120)}")
        events: list[Event] = []
        if self._first is None:
            self._first = data
            events.append(("message_start", self._message_start(data)))
        usage = data.get("usage")
        if usage is not None:
            self._usage = usage
        choices = data.get("choices")
        if choices:
            choice = choices[0]
            if type(choice) is not dict:
                raise MalformedReplyError(
                    f"a chunk's choice must be an object, got {quote(choice, 120)}"
                )
            delta = choice.get("delta")
            if delta:
                self._delta(delta, events)
            finish = choice.get("finish_reason")
            if finish is not None:
                self._finish = finish
                self._close(events)
        return events

    @staticmethod
    def _message_start(data: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": data.get("id"),
            "type": "message",
            "role": "assistant",
            "model": data.get("model"),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return {"type": "message_start", "message": message}

    def _start(self, block: dict[str, Any], events: list[Event]) -> int:
        index = self._blocks
        self._blocks += 1
        self._open.append(index)
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block},
            )
        )
        return index

    def _text_piece(self, text: str, events: list[Event]) -> None:
        index = self._text
        if index is None:
            self._close(events)
            index = self._text = self._start({"type": "text", "text": ""}, events)
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": text},
                },
            )
        )

    def _delta(self, delta: dict[str, Any], events: list[Event]) -> None:
        content = delta.get("content")
        if content:
            self._text_piece(content, events)
        refusal = delta.get("refusal")
        if refusal:
            self._refused = True
            self._text_piece(refusal, events)
        calls = delta.get("tool_calls")
        if calls:
            for call in calls:
                self._tool_piece(call, events)

    def _tool_piece(self, call: Any, events: list[Event]) -> None:
        if type(call) is not dict:
            raise MalformedReplyError(
                f"a tool call delta must be an object, got {quote(call, 120)}"
            )
        function = call.get("function") or {}
        position = call.get("index", 0)
        index = self._tools.get(position)
        if index is None:
            if self._text is not None:
                self._close(events)
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": {},
            }
            index = self._tools[position] = self._start(block, events)
        arguments = function.get("arguments")
        if arguments:
            delta = {"type": "input_json_delta", "partial_json": arguments}
            events.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            )

    def _close(self, events: list[Event]) -> None:
        for index in self._open:
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        self._open.clear()
        self._text = None

    def _end(self) -> list[Event]:
        if self._first is None:
            raise MalformedReplyError("the stream ended ([DONE]) before any chunk arrived")
        self._done = True
        events: list[Event] = []
        self._close(events)
        extra = {"usage": self._usage} if self._usage is not None else {}
        reason = "refusal" if self._refused else stop_reason(self._finish)
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": reason, "stop_sequence": None},
                    "usage": map_usage(self._usage),
                    PROVIDER_FIELDS: provider_fields(self._first, self._finish, extra),
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        return events
