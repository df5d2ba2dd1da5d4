"""The cassette format: JSON Lines, a header line and then one exchange per line.

::

    {"format":"conversation-state-cassette","version":1}
    {"kind":"send","request":{...},"reply":{...}}
    {"kind":"stream","request":{...},"events":[{"type":"message_start",...},...]}
    {"kind":"count_tokens","request":{...},"input_tokens":42}
    {"kind":"send","request":{...},"error":{"type":"RateLimitError",...}}

Each exchange line holds, in this order:

``kind``
    ``send``, ``stream`` or ``count_tokens``: the adapter method that was called
    (``asend``, ``astream`` and ``acount_tokens`` record the same kinds).
``request``
    The request body that the conversation and the call's options make
    (``conversation.to_payload(**options)``, the adapter's ``default_options``
    merged under the call's), less ``stream`` (the kind says it), with the
    value of every secret-named field (``api_key``, ``authorization``...)
    replaced by ``"[redacted]"``. Nothing from HTTP headers is ever recorded.
then the outcome, one of:
``reply``
    the Messages API response (JSON) that ``send`` folded;
``events``
    the events a stream yielded (:mod:`adapters._events`), each an object with
    its ``type`` (``message_start``, ``block_start``, ``text_delta``,
    ``thinking_delta``, ``input_json_delta``, ``block_stop``, ``message_stop``)
    and its fields: a content block as its wire dict, the ``reply`` of
    ``message_stop`` as the response JSON. A stream that ended has
    ``message_stop`` last;
``input_tokens``
    what ``count_tokens`` returned;
``error``
    the error raised instead: ``type`` and ``module`` name its class,
    ``message`` is its text, ``fields`` its attributes that are JSON values,
    ``partial`` (present when the error carries a conversation, as
    ``StreamInterruptedError`` does) the part of the reply that had arrived,
    or null, and ``cause`` the error it was raised from, kept the same way.
    A stream that broke after its answer began has both ``events`` (those
    received) and ``error``; one whose answer never began has only ``error``.

Inside ``request`` and the outcome, object keys are sorted, so a cassette
recorded again diffs only where the exchanges differ. Lines are UTF-8; blank
lines are skipped. A reader meeting a newer ``version`` refuses the file
rather than guess.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Literal, TypeAlias, cast

import attrs
import orjson

from adapters._events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)
from adapters._secrets import redact
from adapters.errors import CassetteFormatError, StreamInterruptedError
from conversation import Block, ConversationError, Reply, converter
from conversation.errors import quote

from ._failures import RESERVED, Failure, find_class

__all__ = [
    "FORMAT",
    "KINDS",
    "VERSION",
    "Exchange",
    "Kind",
    "decode_exchange",
    "decode_header",
    "encode_exchange",
    "encode_header",
]

FORMAT: Final = "conversation-state-cassette"
VERSION: Final = 1

Kind: TypeAlias = Literal["send", "stream", "count_tokens"]
KINDS: Final[tuple[Kind, ...]] = ("send", "stream", "count_tokens")

_SORTED: Final = orjson.OPT_SORT_KEYS
_EVENTS: Final[Mapping[str, type[StreamEvent]]] = {
    cls.type: cls
    for cls in (
        MessageStart,
        BlockStart,
        TextDelta,
        ThinkingDelta,
        InputJsonDelta,
        BlockStop,
        MessageStop,
    )
}
_OUTCOMES: Final[Mapping[Kind, frozenset[str]]] = {
    "send": frozenset({"reply", "error"}),
    "stream": frozenset({"events", "error"}),
    "count_tokens": frozenset({"input_tokens", "error"}),
}
_MAX_CAUSES: Final = 8


@attrs.frozen
class Exchange:
    """One recorded request and its outcome, read from (or written to) one line.

    Exactly one of ``reply``, ``events`` (maybe with ``error``), ``input_tokens``
    and ``error`` is set, as ``kind`` has it. ``line`` is where it was read
    (0 for an exchange recorded in this run).
    """

    kind: Kind
    request: Mapping[str, Any]
    reply: Reply | None = None
    events: tuple[StreamEvent, ...] | None = None
    input_tokens: int | None = None
    error: Failure | None = None
    line: int = attrs.field(default=0, eq=False)


# -- writing ---------------------------------------------------------------------------


def encode_header() -> bytes:
    """The first line of every cassette (without its newline)."""
    return orjson.dumps({"format": FORMAT, "version": VERSION})


def encode_exchange(exchange: Exchange) -> bytes:
    """One exchange as its line (without the newline); any key-shaped text redacted."""
    parts = [b'{"kind":', orjson.dumps(exchange.kind), b',"request":']
    parts.append(orjson.dumps(exchange.request, option=_SORTED))
    if exchange.reply is not None:
        parts += [b',"reply":', orjson.dumps(exchange.reply.to_wire(), option=_SORTED)]
    if exchange.events is not None:
        events = [_event_to_json(event) for event in exchange.events]
        parts += [b',"events":', orjson.dumps(events, option=_SORTED)]
    if exchange.input_tokens is not None:
        parts += [b',"input_tokens":', orjson.dumps(exchange.input_tokens)]
    if exchange.error is not None:
        parts += [b',"error":', orjson.dumps(_failure_to_json(exchange.error), option=_SORTED)]
    parts.append(b"}")
    return redact(b"".join(parts).decode("utf-8")).encode("utf-8")


def _event_to_json(event: StreamEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"type": event.type}
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if isinstance(value, Reply):
            value = value.to_wire()
        elif field.name == "block":
            value = converter.unstructure(value)
        out[field.name] = value
    return out


def _failure_to_json(failure: Failure) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": failure.cls.__qualname__,
        "module": failure.cls.__module__,
        "message": failure.message,
        "fields": dict(failure.fields),
    }
    if failure.carries:
        out["partial"] = None if failure.partial is None else failure.partial.to_wire()
    if failure.cause is not None:
        out["cause"] = _failure_to_json(failure.cause)
    return out


# -- reading ---------------------------------------------------------------------------


class _Line:
    """Where a value was read from, to say so in a :class:`CassetteFormatError`."""

    def __init__(self, path: str, number: int) -> None:
        self.path = path
        self.number = number

    def error(self, where: str, reason: str) -> CassetteFormatError:
        return CassetteFormatError(f"{where}: {reason}", path=self.path, line=self.number)

    def parse(self, text: bytes) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise CassetteFormatError(
                f"not a line of JSON ({exc}); each line of a cassette is one JSON object",
                path=self.path,
                line=self.number,
            ) from None

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if type(value) is not dict:
            raise self.error(where, f"expected a JSON object, got {_json_type(value)}")
        return cast(dict[str, Any], value)

    def text(self, value: Any, where: str) -> str:
        if type(value) is not str:
            raise self.error(where, f"expected a string, got {_json_type(value)}")
        return value

    def count(self, value: Any, where: str) -> int:
        if type(value) is not int or value < 0:
            raise self.error(where, f"expected a whole number >= 0, got {quote(value)}")
        return value

    def keys(self, data: dict[str, Any], where: str, allowed: frozenset[str]) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            expected = ", ".join(sorted(allowed))
            raise self.error(where, f"unknown field {quote(unknown[0])} (expected {expected})")

    def read(self, where: str, read: Callable[[Any], Any], value: Any) -> Any:
        """``read(value)`` for a reader of the core, its error told as this line's."""
        try:
            return read(value)
        except ConversationError as exc:
            raise self.error(where, str(exc)) from None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def decode_header(text: bytes, path: str) -> None:
    """Check the header line; raises :class:`CassetteFormatError` for anything else."""
    line = _Line(path, 1)
    header = line.obj(line.parse(text), "the header")
    if header.get("format") != FORMAT:
        raise line.error(
            "the header",
            f"this is not a cassette: the first line must be {encode_header().decode()}, "
            f"got {quote(header)}",
        )
    version = header.get("version")
    if type(version) is not int or version < 1:
        raise line.error("the header", f"version must be a whole number, got {quote(version)}")
    if version > VERSION:
        raise line.error(
            "the header",
            f"version {version} was written by a newer conversation-state (this one reads "
            f"version {VERSION}); upgrade it, or record the cassette again",
        )


def decode_exchange(text: bytes, path: str, number: int) -> Exchange:
    """The exchange on line ``number``; raises :class:`CassetteFormatError` naming the problem."""
    line = _Line(path, number)
    data = line.obj(line.parse(text), "the exchange")
    kind = data.get("kind")
    if kind not in KINDS:
        raise line.error("kind", f"expected one of {', '.join(KINDS)}, got {quote(kind)}")
    outcomes = _OUTCOMES[kind]
    line.keys(data, "the exchange", frozenset({"kind", "request"}) | outcomes)
    request = line.obj(data.get("request"), "request")
    given = outcomes & set(data)
    if not given:
        raise line.error("the exchange", f"a {kind} needs one of {', '.join(sorted(outcomes))}")
    if len(given) > 1 and given != {"events", "error"}:
        raise line.error("the exchange", f"a {kind} has one of {', '.join(sorted(outcomes))}")
    reply = _reply(line, data["reply"], "reply") if "reply" in data else None
    events = _events(line, data["events"], ended="error" not in data) if "events" in data else None
    tokens = line.count(data["input_tokens"], "input_tokens") if "input_tokens" in data else None
    error = _failure(line, data["error"], "error", 0) if "error" in data else None
    return Exchange(kind, request, reply, events, tokens, error, number)


def _events(line: _Line, value: Any, *, ended: bool) -> tuple[StreamEvent, ...]:
    if type(value) is not list:
        raise line.error("events", f"expected an array, got {_json_type(value)}")
    events = tuple(_event(line, item, f"events[{i}]") for i, item in enumerate(value))
    stops = [i for i, event in enumerate(events) if type(event) is MessageStop]
    if ended and stops != [len(events) - 1]:
        raise line.error("events", "a stream that ended has one message_stop, as its last event")
    if not ended and stops:
        raise line.error("events", "a stream that broke has no message_stop")
    return events


def _event(line: _Line, value: Any, where: str) -> StreamEvent:
    data = line.obj(value, where)
    kind = data.get("type")
    cls = _EVENTS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise line.error(f"{where}.type", f"unknown event type {quote(kind)}")
    fields = attrs.fields(cls)
    line.keys(data, where, frozenset({"type", *(field.name for field in fields)}))
    values = [
        _event_field(line, field.name, data.get(field.name), f"{where}.{field.name}")
        for field in fields
    ]
    return cls(*values)


def _event_field(line: _Line, name: str, value: Any, where: str) -> Any:
    if name == "index":
        return line.count(value, where)
    if name in ("id", "model"):
        return None if value is None else line.text(value, where)
    if name == "block":
        return line.read(where, _block, line.obj(value, where))
    if name == "reply":
        return _reply(line, value, where)
    return line.text(value, where)


def _reply(line: _Line, value: Any, where: str) -> Reply:
    reply: Reply = line.read(where, Reply.from_wire, line.obj(value, where))
    return reply


def _block(data: dict[str, Any]) -> Block:
    block: Block = converter.structure(data, Block)  # type: ignore[arg-type]
    return block


_FAILURE_KEYS: Final = frozenset({"type", "module", "message", "fields", "partial", "cause"})


def _failure(line: _Line, value: Any, where: str, depth: int) -> Failure:
    data = line.obj(value, where)
    line.keys(data, where, _FAILURE_KEYS)
    name = line.text(data.get("type"), f"{where}.type")
    module = line.text(data.get("module"), f"{where}.module")
    message = line.text(data.get("message"), f"{where}.message")
    fields = line.obj(data.get("fields", {}), f"{where}.fields")
    cls = find_class(module, name)
    if cls is None:
        raise line.error(
            where,
            f"the recorded error class {module}.{name} is not known here: it must be a "
            "built-in exception or a ConversationError subclass of a loaded package "
            "(import the module that defines it first)",
        )
    reserved = sorted(key for key in fields if key.startswith("_") or key in RESERVED)
    if reserved:
        raise line.error(f"{where}.fields", f"{quote(reserved[0])} cannot be a recorded field")
    carries = "partial" in data
    if issubclass(cls, StreamInterruptedError) and not carries:
        raise line.error(where, f"a recorded {name} needs its partial reply (or null)")
    partial = data.get("partial")
    reply = None if partial is None else _reply(line, partial, f"{where}.partial")
    cause = None
    if "cause" in data:
        if depth >= _MAX_CAUSES:
            raise line.error(f"{where}.cause", f"causes nest deeper than {_MAX_CAUSES}")
        cause = _failure(line, data["cause"], f"{where}.cause", depth + 1)
    return Failure(cls, message, fields, carries, reply, cause)
