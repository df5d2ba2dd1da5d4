"""A model's reply and its token usage, as values and on the wire.

An assistant turn keeps the replies folded into it in its provenance
(``_provenance.py``), so that a stored dialogue still says which turns a model
wrote, which model, why it stopped and what it cost.

Two rules of the fold live here, so that a streamed reply and the same reply
sent whole fold alike: a ``fallback`` block (the API handed the reply to
another model) makes the reply's ``model`` the one that answered, its
``to.model``, as the official SDK does; and a reply given as an object of
the official SDK (``anthropic.types.Message``, ``BetaMessage``: pydantic
models) is read through its ``model_dump``, without importing the SDK.

A reply's wire form (the response JSON) is read and written here too, below
the converter of ``_wire.py`` and above the blocks it holds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from ._blocks import (
    BLOCK_CLASSES,
    READER,
    Block,
    ServerToolUse,
    Thinking,
    ToolUse,
    UnknownBlock,
)
from ._build import new as _new
from ._json import EMPTY, FrozenDict, freeze
from ._read import json_text_error, load_json, read_int, read_object, read_str
from .errors import MalformedInputError, MalformedReplyError, quote, type_name

__all__ = ["Reply", "ReplyInfo", "Usage"]


class ReplyModel(Protocol):
    """A reply as a pydantic model: the official SDK's ``Message``, ``BetaMessage``."""

    def model_dump(self) -> dict[str, Any]:
        """The model as a dict (pydantic's method; called with wire options, see sdk_reply_dict)."""
        ...


PARTIAL_JSON = "partial_json"
"""The field of a tool call cut inside its input: the JSON text that had arrived."""


def _add_json(a: Any, b: Any) -> Any:
    """Sum two JSON usage details: numbers add up, objects merge key by key."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        total = a + b
        return total if math.isfinite(total) else b  # counts; never let a sum overflow
    if isinstance(a, dict) and isinstance(b, dict):
        merged = dict(a)
        for key, value in b.items():
            merged[key] = _add_json(merged[key], value) if key in merged else value
        return merged
    return b if b is not None else a


# --- field checks: what a constructor accepts, the save format writes and reads back ----


def _count(value: int) -> int:
    """A token count as a plain ``int`` (an ``IntEnum`` member becomes its value)."""
    return int.__index__(value) if isinstance(value, int) and type(value) is not bool else value


def _is_count(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not int:
        _refuse(instance, attribute, value, "an integer")


def _opt_text(value: str | None) -> str | None:
    """An optional string field as a plain ``str`` (a ``StrEnum`` member becomes its value)."""
    return str.__str__(value) if isinstance(value, str) else value


def _is_opt_text(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and type(value) is not str:
        _refuse(instance, attribute, value, "a string or None")


def _is_usage(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Usage):
        _refuse(instance, attribute, value, "a Usage")


def is_tuple_of(kind: Any, what: str) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if type(value) is not tuple or not all(isinstance(item, kind) for item in value):
            _refuse(instance, attribute, value, what)

    return check


def _details(value: Mapping[str, Any] | None) -> FrozenDict:
    """The ``extra`` details: a JSON object, frozen (None means none)."""
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        raise MalformedInputError(
            f"extra must be a JSON object, got {type_name(value)} {quote(value)}", "$.extra"
        )
    return freeze(dict(value), "$.extra")  # type: ignore[no-any-return]


def _refuse(instance: Any, attribute: attrs.Attribute[Any], value: Any, what: str) -> None:
    raise MalformedInputError(
        f"{type(instance).__name__}.{attribute.name} must be {what}, got {type_name(value)} "
        f"{quote(value)}",
        f"$.{attribute.name}",
    )


@attrs.frozen
class Usage:
    """Token counts of one reply, or the total of several.

    ``extra`` keeps the detail fields (``cache_creation``, ``server_tool_use``,
    ``service_tier``, and any newer ones) as the API sent them.
    """

    input_tokens: int = attrs.field(default=0, converter=_count, validator=_is_count)
    output_tokens: int = attrs.field(default=0, converter=_count, validator=_is_count)
    cache_creation_input_tokens: int = attrs.field(default=0, converter=_count, validator=_is_count)
    cache_read_input_tokens: int = attrs.field(default=0, converter=_count, validator=_is_count)
    extra: FrozenDict = attrs.field(default=EMPTY, converter=_details, repr=False)

    @property
    def total_input_tokens(self) -> int:
        """The whole prompt: uncached input plus cache writes plus cache reads."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_creation_input_tokens + other.cache_creation_input_tokens,
            self.cache_read_input_tokens + other.cache_read_input_tokens,
            _add_json(self.extra, other.extra),
        )


ZERO_USAGE = Usage()


@attrs.frozen
class ReplyInfo:
    """What a reply said about itself, without its content."""

    id: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    model: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    stop_reason: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    stop_sequence: str | None = attrs.field(
        default=None, converter=_opt_text, validator=_is_opt_text
    )
    usage: Usage = attrs.field(default=ZERO_USAGE, validator=_is_usage)
    extra: FrozenDict = attrs.field(default=EMPTY, converter=_details, repr=False)


@attrs.frozen
class Reply:
    """A Messages API response, typed: its content blocks and its metadata."""

    content: tuple[Block, ...] = attrs.field(
        validator=is_tuple_of(BLOCK_CLASSES, "a tuple of content blocks")
    )
    id: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    model: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    stop_reason: str | None = attrs.field(default=None, converter=_opt_text, validator=_is_opt_text)
    stop_sequence: str | None = attrs.field(
        default=None, converter=_opt_text, validator=_is_opt_text
    )
    usage: Usage = attrs.field(default=ZERO_USAGE, validator=_is_usage)
    extra: FrozenDict = attrs.field(default=EMPTY, converter=_details, repr=False)

    @classmethod
    def from_info(cls, content: tuple[Block, ...], info: ReplyInfo) -> Reply:
        """A Reply of ``content`` with the metadata of ``info``."""
        return cls(
            content,
            info.id,
            info.model,
            info.stop_reason,
            info.stop_sequence,
            info.usage,
            extra=info.extra,
        )

    @classmethod
    def from_wire(cls, data: Any) -> Reply:
        """Read a Messages API response (a dict, or JSON bytes or str).

        Raises :class:`MalformedReplyError` for anything that is not a reply.
        """
        return reply_from_wire(data)

    def to_wire(self) -> dict[str, Any]:
        """The response as the API would have sent it (a dict)."""
        return reply_to_wire(self)

    @property
    def info(self) -> ReplyInfo:
        """The reply's metadata, as an assistant turn's provenance keeps it."""
        return ReplyInfo(
            self.id, self.model, self.stop_reason, self.stop_sequence, self.usage, self.extra
        )

    @property
    def text(self) -> str:
        """The text of all text blocks, joined."""
        return "".join(b.text for b in self.content if b.type == "text")  # type: ignore[union-attr]


_set = {
    (cls, f.name): cls.__dict__[f.name].__set__
    for cls in (Usage, ReplyInfo)
    for f in attrs.fields(cls)
}
_u_in, _u_out, _u_write, _u_read, _u_extra = (
    _set[Usage, n]
    for n in (
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
        "extra",
    )
)
_i_id, _i_model, _i_reason, _i_seq, _i_usage, _i_extra = (
    _set[ReplyInfo, n] for n in ("id", "model", "stop_reason", "stop_sequence", "usage", "extra")
)


def make_usage(counts: list[int], extra: FrozenDict) -> Usage:
    """A Usage from checked parts: four token counts and frozen details (hot path)."""
    usage: Usage = _new(Usage)
    _u_in(usage, counts[0])
    _u_out(usage, counts[1])
    _u_write(usage, counts[2])
    _u_read(usage, counts[3])
    _u_extra(usage, extra)
    return usage


def make_info(meta: list[str | None], usage: Usage, extra: FrozenDict) -> ReplyInfo:
    """A ReplyInfo from checked parts (hot path)."""
    info: ReplyInfo = _new(ReplyInfo)
    _i_id(info, meta[0])
    _i_model(info, meta[1])
    _i_reason(info, meta[2])
    _i_seq(info, meta[3])
    _i_usage(info, usage)
    _i_extra(info, extra)
    return info


# -- rules of the fold -----------------------------------------------------------------


def served_model(content: tuple[Block, ...], info: ReplyInfo) -> ReplyInfo:
    """``info`` naming the model that answered: the ``to.model`` of the last ``fallback`` block.

    A reply with no fallback block (or one whose ``to.model`` is not a
    string) keeps its ``model``; the blocks stay in the content either way.
    """
    model = None
    for block in content:
        if type(block) is UnknownBlock and block.raw["type"] == "fallback":
            target = block.raw.get("to")
            named = target.get("model") if isinstance(target, dict) else None
            if type(named) is str:
                model = named
    if model is None or model == info.model:
        return info
    return attrs.evolve(info, model=model)


def unfinished(block: Block) -> bool:
    """True for a block a cut reply left unfinished, which cannot be sent back.

    A thinking block whose signature never arrived, and a tool call cut inside
    its input (the JSON that arrived kept as its ``partial_json`` field).
    """
    kind = type(block)
    if kind is Thinking:
        return not block.signature  # type: ignore[union-attr]
    if kind is ToolUse or kind is ServerToolUse:
        return PARTIAL_JSON in block.extra  # type: ignore[union-attr]
    if kind is UnknownBlock:
        return PARTIAL_JSON in block.raw  # type: ignore[union-attr]
    return False


def sdk_reply_dict(reply: Any) -> Any:
    """The wire dict of a reply given as a pydantic model (the official SDK's ``Message``).

    Anything without a ``model_dump`` method comes back as it is. The dump is
    the one that gives the API's JSON back exactly: JSON mode, wire names
    (``from``, not ``from_``), only the fields that were set (an SDK object
    holds every field the API sent, unknown ones included, and no others),
    and no serializer warnings for blocks newer than the SDK's types.
    Raises ``ValueError`` if the dump fails.
    """
    dump = getattr(type(reply), "model_dump", None)
    if dump is None or not callable(dump):
        return reply
    try:
        return reply.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    except Exception as exc:  # a third-party model's own failure, whatever it is
        raise ValueError(
            f"could not read the {type(reply).__name__} object as a reply: its "
            f"model_dump() failed ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


# --- replies ----------------------------------------------------------------------


# --- on the wire ------------------------------------------------------------------
# Replies are read and written here, beside their values (``_wire.py`` re-exports
# these for the converter), so that ``Reply.from_wire`` needs no import from above.


def usage_from_wire(data: Any, path: str) -> Usage:
    """Read a ``usage`` object; null counters count as zero, details go to ``extra``."""
    if not isinstance(data, dict):
        raise MalformedInputError(f"expected a usage object, got {type_name(data)}", path)
    counts: list[Any] = [
        data.get("input_tokens"),
        data.get("output_tokens"),
        data.get("cache_creation_input_tokens"),
        data.get("cache_read_input_tokens"),
    ]
    a, b, c, d = counts
    if type(a) is int and type(b) is int and type(c) is int and type(d) is int:
        # The common case: four integer counters, maybe a few details besides.
        if len(data) == 4:
            return make_usage(counts, EMPTY)
        details = {k: v for k, v in data.items() if k not in _USAGE_SLOTS}
        return make_usage(counts, freeze(details, path))
    counts = [0, 0, 0, 0]
    extra: dict[str, Any] | None = None
    for key, value in data.items():
        slot = _USAGE_SLOTS.get(key)
        if slot is None:
            if extra is None:
                extra = {}
            extra[key] = value
        elif value is not None:
            counts[slot] = value if type(value) is int else read_int(value, f"{path}.{key}")
    return make_usage(counts, freeze(extra, path) if extra else EMPTY)


_USAGE_SLOTS = {
    "input_tokens": 0,
    "output_tokens": 1,
    "cache_creation_input_tokens": 2,
    "cache_read_input_tokens": 3,
}


def usage_to_wire(usage: Usage) -> dict[str, Any]:
    out = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_creation_input_tokens,
        "cache_read_input_tokens": usage.cache_read_input_tokens,
    }
    out.update(usage.extra)
    return out


_REPLY_META = ("id", "model", "stop_reason", "stop_sequence")
_REPLY_KEYS = frozenset({*_REPLY_META, "usage", "content", "type", "role"})


def _reply_info(data: dict[str, Any], path: str) -> ReplyInfo:
    meta = [data.get("id"), data.get("model"), data.get("stop_reason"), data.get("stop_sequence")]
    for index, (key, value) in enumerate(zip(_REPLY_META, meta, strict=True)):
        if value is not None and type(value) is not str:
            meta[index] = read_str(value, f"{path}.{key}")  # raises, naming the field
    usage_data = data.get("usage")
    usage = usage_from_wire(usage_data, f"{path}.usage") if usage_data is not None else ZERO_USAGE
    extra: Any = EMPTY
    if not _REPLY_KEYS.issuperset(data):
        extra = freeze({k: v for k, v in data.items() if k not in _REPLY_KEYS}, path)
    return make_info(meta, usage, extra)


def parse_reply(data: Any) -> tuple[tuple[Block, ...], ReplyInfo]:
    """Read a Messages API response (dict, JSON bytes or str, or a Reply) into parts."""
    if isinstance(data, Reply):
        return data.content, served_model(data.content, data.info)
    text = isinstance(data, bytes | bytearray | memoryview | str)
    try:
        if text:
            data = load_json(data, "the reply")
        elif not isinstance(data, dict):
            try:
                data = sdk_reply_dict(data)  # the official SDK's Message (a pydantic model)
            except ValueError as exc:
                raise MalformedInputError(str(exc)) from None
        if not isinstance(data, dict):
            raise MalformedInputError(f"a reply must be a JSON object, got {type_name(data)}")
        kind = data.get("type", "message")
        if kind != "message":
            if kind == "error":
                error = data.get("error")
                detail = error.get("message") if isinstance(error, dict) else error
                raise MalformedInputError(
                    f"this is an API error response, not a reply ({quote(detail, 200)}); "
                    "nothing can be folded from it"
                )
            raise MalformedInputError(
                f"expected a reply of type 'message', got {quote(kind)}", "$.type"
            )
        role = data.get("role", "assistant")
        if role != "assistant":
            raise MalformedInputError(
                f"a reply's role must be 'assistant', got {quote(role)}", "$.role"
            )
        content = data.get("content")
        if type(content) is not list:
            raise MalformedInputError(
                "a reply needs 'content'"
                if content is None
                else f"a reply's content must be a list of blocks, got {type_name(content)}",
                "$.content",
            )
        try:
            blocks = tuple([READER.structure_block(item, "") for item in content])
        except MalformedInputError:
            # Find which block failed, to say where (only on the error path).
            for index, item in enumerate(content):
                try:
                    READER.structure_block(item, "")
                except MalformedInputError as exc:
                    raise MalformedInputError(exc.reason, f"$.content[{index}]{exc.path}") from None
            raise
        return blocks, served_model(blocks, _reply_info(data, "$"))
    except MalformedReplyError:
        raise
    except MalformedInputError as exc:
        error = (
            exc
            if isinstance(exc, MalformedReplyError)
            else MalformedReplyError(exc.reason, exc.path)
        )
        if text:
            error = json_text_error(error)
        if error is exc:
            raise
        raise error from None


def reply_from_wire(data: Any) -> Reply:
    """Read a Messages API response (dict, JSON bytes or str, or a Reply) as a Reply."""
    if isinstance(data, Reply):
        return data
    content, info = parse_reply(data)
    return Reply.from_info(content, info)


def reply_to_wire(reply: Reply) -> dict[str, Any]:
    """The response JSON of a Reply (as the API would have sent it)."""
    out: dict[str, Any] = {"id": reply.id, "type": "message", "role": "assistant"}
    out["content"] = [READER.unstructure_block(b) for b in reply.content]
    out["model"] = reply.model
    out["stop_reason"] = reply.stop_reason
    out["stop_sequence"] = reply.stop_sequence
    out["usage"] = usage_to_wire(reply.usage)
    out.update(reply.extra)
    return out


def info_to_wire(info: ReplyInfo) -> dict[str, Any]:
    """A reply's metadata for the save format (nulls omitted)."""
    out: dict[str, Any] = {}
    for key in _REPLY_META:
        value = getattr(info, key)
        if value is not None:
            out[key] = value
    out["usage"] = usage_to_wire(info.usage)
    if info.extra:
        out["extra"] = info.extra
    return out


def info_from_wire(data: Any, path: str) -> ReplyInfo:
    if not isinstance(data, dict):
        raise MalformedInputError(f"expected a reply record, got {type_name(data)}", path)
    info = _reply_info({k: v for k, v in data.items() if k != "extra"}, path)
    extra = data.get("extra")
    if extra is None:
        return info
    return attrs.evolve(info, extra=read_object(extra, f"{path}.extra"))
