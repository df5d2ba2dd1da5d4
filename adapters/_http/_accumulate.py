"""Streamed Messages API events folded into the reply they spell, as the events arrive.

:class:`Accumulator` takes the raw ``(event name, data)`` pairs of a stream
(see :mod:`._sse`) one at a time. For each it returns the typed event of
:mod:`adapters._events` to hand to the caller (or ``None``: ``ping``,
``message_delta`` and signature/citation/compaction deltas have none of their
own), and it keeps the reply so far, following the accumulation rules of the
API reference (what the official SDK does), so that the final message
equals the one the API sends whole for the same reply:

- ``message_start``: the snapshot is the event's ``message``;
- ``content_block_start``: the block is appended (its ``index`` must be its
  position). A ``fallback`` block names the model that answered from here on:
  the snapshot's ``model`` becomes its ``to.model``, as the official SDK does
  (a reply sent whole already names that model);
- ``content_block_delta``: ``text_delta`` and ``thinking_delta`` append,
  ``input_json_delta`` appends to the block's JSON buffer (parsed at
  ``content_block_stop``), ``signature_delta`` replaces the signature,
  ``citations_delta`` appends one citation, ``compaction_delta`` replaces each
  field it carries (``content``, ``encrypted_content``);
- a delta type this library does not know is applied to its block by the
  **generic delta rule**, so that a newer delta type survives: for each field
  of the delta other than ``type``, a string is appended to the block's field
  of the same name if that is a string, and becomes its value otherwise
  (absent or null); a list extends the block's list of the same name, or
  becomes its value; any other value (object, number, boolean, null) replaces
  the field. Every known delta but ``input_json_delta`` and
  ``citations_delta`` (whose field names differ from the block's) obeys this
  same rule on the blocks the API starts;
- ``message_delta``: overwrites ``stop_reason``, ``stop_sequence`` (and any
  newer field of its ``delta``; a null ``container`` keeps the known one) and
  each usage count it carries (counts are cumulative totals, not
  increments). Its other top-level fields (``context_management``,
  ``input_transformations``, ...) are the message's fields of the same name: a
  value replaces the known one, a null is kept only where none is known;
- ``message_stop``: the snapshot is the final Message.

Text is kept as a list of pieces and joined when its block stops (appending to
one growing string would copy it on every delta: quadratic on a long reply).
This loop is the hot path of streaming, so nothing here validates more than it
must: a delta costs a dict lookup (which also checks that its index is an open
block of the right kind), an append and the typed event.

A stream that breaks the protocol (an event before ``message_start``, a delta
for a block that is not open, ``message_stop`` while a block is open, tool
input that is not JSON, a block the library cannot read) raises
:class:`~conversation.MalformedReplyError`; :meth:`Accumulator.partial` still
holds what arrived (the stream folds it as an interrupted turn). Event types
this library does not know are skipped: the API documents that it may add
new ones.

A tool call cut off inside its input (a reply stopped at ``max_tokens``
mid-arguments, or a broken connection) keeps what arrived, losslessly: the
block's ``input`` stays what ``content_block_start`` gave (``{}``) and the
JSON fragments received, joined, are the block's ``partial_json`` field (the
name of the delta field that carried them; on a :class:`~conversation.ToolUse`
it is in ``extra``). :meth:`~conversation.Conversation.resumable` leaves such
a call out, as its arguments are unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import orjson

from conversation import (
    Block,
    MalformedInputError,
    MalformedReplyError,
    Reply,
    converter,
)
from conversation.errors import quote

from .._events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)

__all__ = ["Accumulator"]

_Handler = Callable[[dict[str, Any]], StreamEvent | None]
_PieceEvent = Callable[[int, str], StreamEvent]  # TextDelta, ThinkingDelta, InputJsonDelta

# Keys of a message_delta's ``delta`` that may not overwrite the snapshot's own.
_NOT_DELTA_FIELDS = frozenset({"type", "role", "content", "usage"})

# Top-level keys of a message_delta that are not fields of the message.
_NOT_MESSAGE_FIELDS = frozenset({"type", "delta", "usage", "role", "content"})

PARTIAL_JSON = "partial_json"
"""The field of a tool call cut inside its input: the JSON fragments that arrived, joined."""


def _malformed(reason: str) -> NoReturn:
    raise MalformedReplyError(f"malformed stream: {reason}", "$")


def _structure(block: dict[str, Any], where: str) -> Block:
    """The typed block of a wire block dict; MalformedReplyError naming ``where`` if unreadable."""
    try:
        typed: Block = converter.structure(block, Block)  # type: ignore[arg-type]
    except MalformedInputError as exc:
        raise MalformedReplyError(f"malformed stream: {where}: {exc.reason}", exc.path) from None
    return typed


def _index_of(data: dict[str, Any]) -> int:
    index = data.get("index")
    if type(index) is not int:
        _malformed(
            f"a {quote(data.get('type'))} event needs an integer 'index', got {quote(index, 40)}"
        )
    return index


class Accumulator:
    """The reply of one stream, built from its events as they arrive.

    >>> acc = Accumulator()
    >>> acc.feed("message_start", {"type": "message_start", "message": {
    ...     "id": "msg_1", "type": "message", "role": "assistant", "content": [],
    ...     "model": "claude-x", "stop_reason": None, "stop_sequence": None,
    ...     "usage": {"input_tokens": 5, "output_tokens": 1}}})
    MessageStart(id='msg_1', model='claude-x')
    >>> _ = acc.feed("content_block_start", {"type": "content_block_start", "index": 0,
    ...     "content_block": {"type": "text", "text": ""}})
    >>> acc.feed("content_block_delta", {"type": "content_block_delta", "index": 0,
    ...     "delta": {"type": "text_delta", "text": "Hi"}})
    TextDelta(index=0, text='Hi')
    >>> acc.partial()["content"]
    [{'type': 'text', 'text': 'Hi'}]
    """

    __slots__ = (
        "_content",
        "_deltas",
        "_done",
        "_handlers",
        "_json",
        "_message",
        "_objects",
        "_open",
        "_text",
        "_thinking",
    )

    def __init__(self) -> None:
        self._message: dict[str, Any] | None = None
        # The snapshot's blocks as wire dicts. While a text or thinking block is
        # open, its text lives in ``_text`` / ``_thinking`` as pieces, and a
        # tool call's input in ``_json``; they are written into the dict when
        # the block stops (or copied into a partial()).
        self._content: list[dict[str, Any]] = []
        self._objects: list[Block | None] = []  # the typed block, once it stopped
        self._open: set[int] = set()
        self._text: dict[int, list[str]] = {}
        self._thinking: dict[int, list[str]] = {}
        self._json: dict[int, list[str]] = {}
        # The streamed pieces: the delta's field, where its pieces go, its event.
        self._deltas: dict[str, tuple[str, dict[int, list[str]], _PieceEvent]] = {
            "text_delta": ("text", self._text, TextDelta),
            "thinking_delta": ("thinking", self._thinking, ThinkingDelta),
            "input_json_delta": ("partial_json", self._json, InputJsonDelta),
        }
        self._done = False
        self._handlers: dict[str, _Handler] = {
            "message_start": self._on_message_start,
            "content_block_start": self._before_start,
            "content_block_delta": self._before_start,
            "content_block_stop": self._before_start,
            "message_delta": self._before_start,
            "message_stop": self._before_start,
        }

    # -- reading events ------------------------------------------------------------------

    def feed(self, name: str, data: dict[str, Any]) -> StreamEvent | None:
        """Take one event; the typed event to hand on, or None if it has none.

        ``name`` is the SSE event name (equal to ``data["type"]``). ``ping`` and
        unknown event names return None. ``error`` events are not fed here: the
        stream turns them into an API error before they reach the accumulator
        (fed anyway, one is skipped as unknown). ``data`` is not changed; the
        accumulator copies what it keeps.

        Raises :class:`~conversation.MalformedReplyError` for an event the
        protocol does not allow where it came.
        """
        handler = self._handlers.get(name)
        if handler is None:
            return None
        return handler(data)

    @property
    def done(self) -> bool:
        """True once ``message_stop`` arrived: :meth:`final` is the whole reply."""
        return self._done

    def _before_start(self, data: dict[str, Any]) -> NoReturn:
        _malformed(f"a {quote(data.get('type'))} event came before message_start")

    def _after_stop(self, data: dict[str, Any]) -> NoReturn:
        _malformed(f"a {quote(data.get('type'))} event came after message_stop")

    def _on_message_start(self, data: dict[str, Any]) -> MessageStart:
        message = data.get("message")
        if type(message) is not dict:
            _malformed(f"message_start needs a 'message' object, got {quote(message, 60)}")
        message = dict(message)
        content = message.get("content", [])
        if type(content) is not list:
            _malformed(f"message_start's message content must be a list, got {quote(content, 60)}")
        usage = message.get("usage")
        if type(usage) is dict:
            message["usage"] = dict(usage)  # message_delta overwrites counts in place
        message_id, model = message.get("id"), message.get("model")
        if not (message_id is None or type(message_id) is str):
            _malformed(f"message_start's id must be a string, got {quote(message_id, 60)}")
        if not (model is None or type(model) is str):
            _malformed(f"message_start's model must be a string, got {quote(model, 60)}")
        self._message = message
        self._content = message["content"] = []
        # A message that starts with content (the API sends none) keeps it, complete.
        for index, block in enumerate(content):
            self._content.append(dict(block) if type(block) is dict else block)
            self._objects.append(_structure(self._content[-1], f"message_start block {index}"))
        self._handlers = {
            "content_block_start": self._on_block_start,
            "content_block_delta": self._on_block_delta,
            "content_block_stop": self._on_block_stop,
            "message_delta": self._on_message_delta,
            "message_stop": self._on_message_stop,
            "message_start": self._second_start,
        }
        return MessageStart(message_id, model)

    def _second_start(self, data: dict[str, Any]) -> NoReturn:
        _malformed("a second message_start came in the same stream")

    def _on_block_start(self, data: dict[str, Any]) -> BlockStart:
        index = _index_of(data)
        if index != len(self._content):
            _malformed(
                f"content_block_start for index {index}, but the next block is "
                f"index {len(self._content)}"
            )
        block = data.get("content_block")
        if type(block) is not dict or type(block.get("type")) is not str:
            _malformed(
                f"content_block_start {index} needs a block with a 'type', got {quote(block, 60)}"
            )
        block = dict(block)
        kind = block["type"]
        if kind == "text":
            text = block.get("text", "")
            if type(text) is not str:
                _malformed(f"text block {index} starts with a text that is not a string")
            self._text[index] = [text] if text else []
            citations = block.get("citations")
            if type(citations) is list:
                block["citations"] = list(citations)  # citations_delta appends in place
        elif kind == "thinking":
            thinking = block.get("thinking", "")
            if type(thinking) is not str:
                _malformed(f"thinking block {index} starts with a thinking that is not a string")
            self._thinking[index] = [thinking] if thinking else []
        elif "input" in block:
            # tool_use, server_tool_use, and any newer block that streams its input.
            self._json[index] = []
        elif kind == "fallback":
            served_by = block.get("to")
            model = served_by.get("model") if type(served_by) is dict else None
            message = self._message
            if type(model) is str and message is not None:
                message["model"] = model
        started = _structure(block, f"content_block_start {index}")
        self._content.append(block)
        self._objects.append(None)
        self._open.add(index)
        return BlockStart(index, started)

    def _on_block_delta(self, data: dict[str, Any]) -> StreamEvent | None:
        # The hot path: one call per token.
        try:
            index = data["index"]
            delta = data["delta"]
            kind = delta["type"]
            piece = self._deltas.get(kind)
            if piece is not None:
                field, pieces, event = piece
                value = delta[field]
                if type(value) is not str:
                    _malformed(f"{kind} for block {index} has a {field} that is not a string")
                pieces[index].append(value)
                return event(index, value)
            if kind == "signature_delta":
                signature = delta["signature"]
                if index not in self._thinking or type(signature) is not str:
                    self._bad_delta(data)
                self._content[index]["signature"] = signature
                return None
            if kind == "citations_delta":
                citation = delta["citation"]
                if index not in self._text or type(citation) is not dict:
                    self._bad_delta(data)
                block = self._content[index]
                citations = block.get("citations")
                if type(citations) is list:
                    citations.append(citation)
                else:
                    block["citations"] = [citation]
                return None
            if index not in self._open:
                self._bad_delta(data)
            if kind == "compaction_delta":
                block = self._content[index]
                for key, value in delta.items():
                    if key != "type":
                        block[key] = value  # each field replaces (as the SDK does)
                return None
            self._apply_generic(index, kind, delta)  # a delta type newer than this library
            return None
        except (KeyError, TypeError, AttributeError):
            self._bad_delta(data)

    def _apply_generic(self, index: int, kind: str, delta: dict[str, Any]) -> None:
        """Apply a delta of a type this library does not know, by the generic rule (see above)."""
        block = self._content[index]
        pieces_of = {"text": self._text.get(index), "thinking": self._thinking.get(index)}
        for key, value in delta.items():
            if key == "type":
                continue
            pieces = pieces_of.get(key)
            if pieces is not None and block.get("type") == key:
                # The block's text (or thinking) lives in its pieces while it is open.
                if type(value) is not str:
                    _malformed(f"a {kind} for block {index} sets its {key!r} to a non-string")
                pieces.append(value)
                continue
            current = block.get(key)
            if type(value) is str:
                block[key] = current + value if type(current) is str else value
            elif type(value) is list:
                block[key] = [*current, *value] if type(current) is list else list(value)
            else:
                block[key] = value

    def _bad_delta(self, data: dict[str, Any]) -> NoReturn:
        """Say what is wrong with a content_block_delta (only on the error path)."""
        index = data.get("index")
        delta = data.get("delta")
        kind = delta.get("type") if type(delta) is dict else None
        if type(delta) is not dict or type(kind) is not str:
            _malformed(
                f"content_block_delta needs a 'delta' object with a 'type', got {quote(delta, 80)}"
            )
        if type(index) is not int or index not in self._open:
            _malformed(f"a {kind} arrived for block {quote(index, 20)}, which is not an open block")
        block_type = self._content[index].get("type")
        fields = {
            "text_delta": "text",
            "thinking_delta": "thinking",
            "input_json_delta": "partial_json",
            "signature_delta": "signature",
            "citations_delta": "citation",
        }
        field = fields.get(kind)
        if field is not None and field not in delta:
            _malformed(f"a {kind} for block {index} has no {field!r}")
        _malformed(f"a {kind} arrived for block {index}, a {block_type!r} block, or is malformed")

    def _on_block_stop(self, data: dict[str, Any]) -> BlockStop:
        index = _index_of(data)
        if index not in self._open:
            _malformed(
                f"content_block_stop for block {quote(index, 20)}, which is not an open block"
            )
        self._open.remove(index)
        block = self._content[index]
        pieces = self._text.pop(index, None)
        if pieces is not None:
            block["text"] = "".join(pieces)
        else:
            pieces = self._thinking.pop(index, None)
            if pieces is not None:
                block["thinking"] = "".join(pieces)
            else:
                pieces = self._json.pop(index, None)
                if pieces is not None:
                    buffer = "".join(pieces)  # fragments may be empty: an empty buffer is no input
                    if buffer:
                        block["input"] = _parse_input(buffer, index)
        finished = _structure(block, f"content block {index}")
        self._objects[index] = finished
        return BlockStop(index, finished)

    def _on_message_delta(self, data: dict[str, Any]) -> None:
        message = self._message
        assert message is not None  # handlers after message_start only
        delta = data.get("delta")
        if type(delta) is dict:
            for key, value in delta.items():
                if key in _NOT_DELTA_FIELDS or (key == "container" and value is None):
                    continue  # a null container keeps the one already known (as the SDK does)
                message[key] = value
        for key, value in data.items():
            if key not in _NOT_MESSAGE_FIELDS and (value is not None or key not in message):
                message[key] = value  # context_management...: a null keeps the known value
        usage = data.get("usage")
        if type(usage) is dict:
            counts = message.get("usage")
            if type(counts) is not dict:
                counts = message["usage"] = {}
            for key, value in usage.items():
                if value is not None:  # absent or null: the message_start value stands
                    counts[key] = value

    def _on_message_stop(self, data: dict[str, Any]) -> MessageStop:
        if self._open:
            _malformed(f"message_stop came while block {min(self._open)} was still open")
        message = self._message
        assert message is not None
        self._done = True
        self._handlers = dict.fromkeys(self._handlers, self._after_stop)
        head = {**message, "content": []}
        try:
            info = converter.structure(head, Reply).info
        except MalformedInputError as exc:
            raise MalformedReplyError(f"malformed stream: {exc.reason}", exc.path) from None
        blocks = tuple(block for block in self._objects if block is not None)
        return MessageStop(Reply.from_info(blocks, info))

    # -- the reply -----------------------------------------------------------------------

    def final(self) -> dict[str, Any]:
        """The complete Message dict, once ``message_stop`` arrived (for ``Conversation.fold``).

        The dict is the accumulator's own: copy it before changing it.
        Raises :class:`~conversation.MalformedReplyError` before the end.
        """
        if not self._done or self._message is None:
            _malformed("the reply is not complete: message_stop has not arrived")
        return self._message

    def partial(self) -> dict[str, Any] | None:
        """What arrived so far, as a Message dict to fold with ``interrupted=True``.

        None if not even ``message_start`` arrived. Otherwise a new dict: the
        message as known (its ``stop_reason`` and ``stop_sequence`` null until a
        ``message_delta`` gave them: a reply cut at ``max_tokens`` says so even
        when its ``message_stop`` came too early or never), its content the
        completed blocks plus the blocks in progress, as far as they got:

        - text: the text so far (a text block still empty is left out);
        - thinking: the thinking so far, with the signature if it arrived and
          ``""`` if not. Such an unsigned block is kept so that the interrupted
          turn records it; ``Conversation.resumable()`` drops it before the
          turn is sent again, since the API rejects unsigned thinking;
        - a tool call (``tool_use``, ``server_tool_use``): with its input if the
          JSON that arrived is a whole object; otherwise, losslessly, with the
          input of its start (``{}``) and the JSON text that arrived (maybe
          ``""``) as its ``partial_json`` field. ``Conversation.resumable()``
          drops such a call before the turn is sent again;
        - any other block arrived whole at its start, and is kept.
        """
        message = self._message
        if message is None:
            return None
        content: list[dict[str, Any]] = []
        for index, block in enumerate(self._content):
            if index not in self._open:
                content.append(block)
                continue
            pieces = self._text.get(index)
            if pieces is not None:
                text = "".join(pieces)
                if text or block.get("citations"):
                    content.append({**block, "text": text})
                continue
            pieces = self._thinking.get(index)
            if pieces is not None:
                thinking = "".join(pieces)
                if thinking or block.get("signature"):
                    content.append({**block, "thinking": thinking})
                continue
            pieces = self._json.get(index)
            if pieces is not None:
                buffer = "".join(pieces)
                try:
                    parsed = orjson.loads(buffer) if buffer else None
                except orjson.JSONDecodeError:
                    parsed = None  # cut inside its input
                if type(parsed) is dict:
                    content.append({**block, "input": parsed})
                else:
                    content.append({**block, PARTIAL_JSON: buffer})
                continue
            content.append(block)
        partial = dict(message)
        partial["content"] = content
        return partial


def _parse_input(buffer: str, index: int) -> Any:
    """A tool call's input: the JSON of its whole buffer."""
    try:
        return orjson.loads(buffer)
    except orjson.JSONDecodeError as exc:
        _malformed(
            f"the input of tool call block {index} is not JSON ({exc}): {quote(buffer, 200)}"
        )
