"""The one converter: blocks, turns and replies to and from wire dicts.

Everything that reads or writes the Messages API's JSON shapes lives here, in
hooks registered on a single ``cattrs.Converter``. Wire decisions:

- A block is read by its ``type``; an unknown type becomes :class:`UnknownBlock`
  holding the dict as it came, and goes back out unchanged.
- Except in block dicts the program wrote (``written=True``: content given to
  ``user()``, ``assistant()``, ``Turn``, block constructors such as
  ``ToolResult(content=...)`` / ``Document.from_blocks``, and request bodies
  read by ``from_payload``), where a type a letter or two from one the API
  defines is refused as a typo with a suggestion (the rule of
  :mod:`._suggest`). What the API sent (``fold``) and what was saved
  (``loads``) are read as they are, as is what the public ``converter``
  structures; an :class:`UnknownBlock` built on purpose is never refused.
- A field the API added after this library was written is kept in the block's
  ``extra`` and written back after the known fields.
- ``null`` for an optional field means the same as its absence (responses send
  ``"citations": null``); it is not written back.
- A turn that is one plain text block is written as a bare string, as in the
  API's examples; every other turn as a list of blocks.
- Free-form JSON (tool inputs, citations, ``cache_control``) is frozen on the way
  in and written as it is on the way out.
- Malformed input raises :class:`MalformedInputError` with a ``$.path`` to the
  bad value; nothing here raises a bare ``KeyError`` or ``TypeError``.

The hot paths (plain text turns, the payload encoder) are hand-written
functions; the converter dispatches to the same functions, so there is one
definition of each shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final, cast

import attrs
import cattrs
import orjson

from ._blocks import (
    BLOCK_CLASSES,
    SERVER_TOOL_RESULT_TYPES,
    Base64Source,
    Block,
    ContentSource,
    Document,
    FileSource,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Source,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    UnknownBlock,
    UnknownSource,
    URLSource,
    check_nesting,
    plain_text,
)
from ._build import new as _new
from ._json import EMPTY, FrozenDict, freeze, plain
from ._reply import (
    SYNTHETIC,
    Provenance,
    Reply,
    ReplyInfo,
    Usage,
    make_info,
    make_usage,
    sdk_reply_dict,
    served_model,
)
from ._suggest import Vocabulary
from ._turn import ROLES, Turn, TurnData, canonical, make_turn
from .errors import MalformedInputError, MalformedReplyError, a_or_an, quote, type_name

__all__ = [
    "BLOCK_TYPE_NAMES",
    "DOCUMENTED_BLOCK_TYPES",
    "block_type_typo",
    "coerce_blocks",
    "converter",
    "encode_messages",
    "load_json",
    "parse_reply",
    "reply_from_wire",
    "structure_block",
    "turn_from_wire",
    "turn_to_wire",
    "unstructure_block",
]

_MISSING: Final = object()


# --- readers: (value, path) -> checked value -------------------------------------


_type_name = type_name  # "None": a JSON text reader says "null" (see json_text_error)


def json_text_error(exc: MalformedInputError) -> MalformedInputError:
    """``exc`` reworded for input that was JSON text: what Python calls None, JSON calls null."""
    reason = exc.reason.replace("got None", "got null")
    if reason == exc.reason:
        return exc
    return type(exc)(reason, exc.path)


def _str(value: Any, path: str) -> str:
    if type(value) is not str:
        if not isinstance(value, str):
            raise MalformedInputError(f"expected a string, got {_type_name(value)}", path)
        return str.__str__(value)  # a StrEnum member is kept as the str it is written as
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise MalformedInputError(f"expected true or false, got {_type_name(value)}", path)
    return value


def _int(value: Any, path: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedInputError(f"expected an integer, got {_type_name(value)}", path)
    return int.__index__(value)  # an IntEnum member is kept as the int it is written as


def _object(value: Any, path: str) -> FrozenDict:
    if not isinstance(value, dict):
        raise MalformedInputError(f"expected a JSON object, got {_type_name(value)}", path)
    return freeze(value, path)  # type: ignore[no-any-return]


def _array(value: Any, path: str) -> Any:
    if not isinstance(value, list | tuple):
        raise MalformedInputError(f"expected a JSON array, got {_type_name(value)}", path)
    return freeze(value, path)


def _any(value: Any, path: str) -> Any:
    return freeze(value, path)


def _block_list(value: Any, path: str, *, written: bool = False) -> tuple[Block, ...]:
    if not isinstance(value, list | tuple):
        raise MalformedInputError(
            f"expected a list of content blocks, got {_type_name(value)}", path
        )
    blocks = tuple(_block_item(item, f"{path}[{i}]", written) for i, item in enumerate(value))
    check_nesting(blocks, path)  # the content of a block: objects in it were not read here
    return blocks


def _str_or_blocks(value: Any, path: str, *, written: bool = False) -> str | tuple[Block, ...]:
    if isinstance(value, str):
        return plain(value)  # type: ignore[no-any-return]
    return _block_list(value, path, written=written)


def _source(value: Any, path: str, *, written: bool = False) -> Source:
    if not isinstance(value, dict):
        if isinstance(value, Source.__args__):
            return value  # type: ignore[no-any-return]
        raise MalformedInputError(f"expected a source object, got {_type_name(value)}", path)
    kind = value.get("type")
    cls = _SOURCE_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        if not isinstance(kind, str):
            raise MalformedInputError("a source needs a string 'type'", path)
        return UnknownSource(freeze(value, path))
    return _structure_fields(cls, value, path, written)  # type: ignore[no-any-return]


# --- writers: value -> wire -------------------------------------------------------


def _same(value: Any) -> Any:
    return value


def _write_blocks(value: tuple[Block, ...]) -> list[dict[str, Any]]:
    return [unstructure_block(b) for b in value]


def _write_str_or_blocks(value: str | tuple[Block, ...]) -> Any:
    return value if isinstance(value, str) else _write_blocks(value)


def _write_source(value: Source) -> dict[str, Any]:
    if type(value) is UnknownSource:
        return dict(value.raw)
    return _unstructure_fields(value)


# --- field tables -----------------------------------------------------------------


@attrs.frozen
class _Field:
    """How one attribute of a class is read from and written to its wire key.

    The attribute and the wire key have the same name for every block the API
    defines today; ``wire`` is kept apart so that a rename stays a table edit.
    """

    attr: str
    read: Callable[[Any, str], Any]
    write: Callable[[Any], Any] = _same
    required: bool = False
    wire: str = attrs.field(default=attrs.Factory(lambda self: self.attr, takes_self=True))


def _req(attr: str, read: Callable[[Any, str], Any], write: Callable[[Any], Any] = _same) -> _Field:
    return _Field(attr, read, write, required=True)


_CACHE = _Field("cache_control", _object)


def _field_table(written: bool) -> dict[type, tuple[_Field, ...]]:
    """The field table; ``written`` picks the readers that refuse typo'd nested block types."""
    if written:
        blocks: Callable[[Any, str], Any] = partial(_block_list, written=True)
        str_or_blocks: Callable[[Any, str], Any] = partial(_str_or_blocks, written=True)
        source: Callable[[Any, str], Any] = partial(_source, written=True)
    else:
        blocks, str_or_blocks, source = _block_list, _str_or_blocks, _source
    return {
        Base64Source: (_req("media_type", _str), _req("data", _str)),
        URLSource: (_req("url", _str),),
        FileSource: (_req("file_id", _str),),
        TextSource: (_req("media_type", _str), _req("data", _str)),
        ContentSource: (_req("content", str_or_blocks, _write_str_or_blocks),),
        Text: (_req("text", _str), _Field("citations", _array), _CACHE),
        Image: (_req("source", source, _write_source), _CACHE),
        Document: (
            _req("source", source, _write_source),
            _Field("title", _str),
            _Field("context", _str),
            _Field("citations", _object),
            _CACHE,
        ),
        SearchResult: (
            _req("source", _str),
            _req("title", _str),
            _req("content", blocks, _write_blocks),
            _Field("citations", _object),
            _CACHE,
        ),
        ToolUse: (_req("id", _str), _req("name", _str), _req("input", _object), _CACHE),
        ToolResult: (
            _req("tool_use_id", _str),
            _Field("content", str_or_blocks, _write_str_or_blocks),
            _Field("is_error", _bool),
            _CACHE,
        ),
        Thinking: (_req("thinking", _str), _req("signature", _str)),
        RedactedThinking: (_req("data", _str),),
        ServerToolUse: (_req("id", _str), _req("name", _str), _req("input", _object), _CACHE),
        ServerToolResult: (_req("tool_use_id", _str), _Field("content", _any), _CACHE),
    }


_FIELDS = _field_table(written=False)
_KNOWN_KEYS = {cls: frozenset({"type", *(f.wire for f in fs)}) for cls, fs in _FIELDS.items()}

_SOURCE_BY_TYPE: dict[str, type] = {
    cls.type: cls for cls in (Base64Source, URLSource, FileSource, TextSource, ContentSource)
}
_BLOCK_BY_TYPE: dict[str, type] = {
    cls.type: cls
    for cls in (
        Text,
        Image,
        Document,
        SearchResult,
        ToolUse,
        ToolResult,
        Thinking,
        RedactedThinking,
        ServerToolUse,
    )
}
_BLOCK_BY_TYPE.update(dict.fromkeys(SERVER_TOOL_RESULT_TYPES, ServerToolResult))

DOCUMENTED_BLOCK_TYPES: Final = (
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "compaction",
)
"""Block types the API documents that have no class here (they stay UnknownBlock)."""

BLOCK_TYPE_NAMES: Final = (
    *(kind for kind in _BLOCK_BY_TYPE if kind not in SERVER_TOOL_RESULT_TYPES),
    *sorted(SERVER_TOOL_RESULT_TYPES),
    *DOCUMENTED_BLOCK_TYPES,
)
"""Every block type a typo is checked against, in a fixed order (it breaks ties)."""

_BLOCK_TYPES: Final = Vocabulary(BLOCK_TYPE_NAMES)


def block_type_typo(kind: str) -> str | None:
    """The known block type ``kind`` misspells, or None (the rule of :mod:`._suggest`)."""
    return _BLOCK_TYPES.misspelling_of(kind)


_Plan = tuple[tuple[str, Callable[[Any, str], Any], bool, Callable[[Any, Any], None], Any], ...]


def _plan(cls: type, fields: tuple[_Field, ...]) -> _Plan:
    """How to build ``cls`` from a wire dict through its slots, field by field.

    One row per attrs field: (wire key or "", reader, required, slot setter,
    default). Fields with no wire key (``extra``, a ServerToolResult's
    ``type``) are filled by :func:`_structure_fields` itself.
    """
    table = {f.attr: f for f in fields}
    rows: list[tuple[str, Callable[[Any, str], Any], bool, Callable[[Any, Any], None], Any]] = []
    for field in attrs.fields(cls):
        default = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        elif default is attrs.NOTHING:
            default = None
        spec = table.get(field.name)
        rows.append(
            (
                spec.wire if spec else "",
                spec.read if spec else _any,
                spec.required if spec else False,
                cls.__dict__[field.name].__set__,
                default,
            )
        )
    return tuple(rows)


_PLANS = {cls: _plan(cls, fields) for cls, fields in _FIELDS.items()}
_WRITTEN_PLANS = {cls: _plan(cls, fields) for cls, fields in _field_table(written=True).items()}


def _structure_fields(cls: type, data: dict[str, Any], path: str, written: bool = False) -> Any:
    """Read ``data`` into ``cls`` by its field table; unknown keys go to ``extra``.

    Every field is checked by its reader, so the object is built through its
    slots rather than its ``__init__`` (which would check everything again).
    ``written`` reads nested blocks as the program's own (typos refused).
    """
    obj: Any = _new(cls)
    for wire, read, required, setter, default in (_WRITTEN_PLANS if written else _PLANS)[cls]:
        value = data.get(wire) if wire else None
        if value is None:
            if required:
                kind = data.get("type", cls.__name__)
                raise MalformedInputError(f"{a_or_an(str(kind))} needs the field {wire!r}", path)
            setter(obj, default)
            continue
        try:
            # Readers get a relative path; the full one is only built on error.
            setter(obj, read(value, ""))
        except MalformedInputError as exc:
            raise MalformedInputError(exc.reason, f"{path}.{wire}{exc.path}") from None
    known = _KNOWN_KEYS[cls]
    if not known.issuperset(data):
        extra = {k: v for k, v in data.items() if k not in known}
        _SET_EXTRA[cls](obj, freeze(extra, path))
    if cls is ServerToolResult:
        _SET_EXTRA_TYPE(obj, data["type"])
    return obj


_SET_EXTRA = {cls: cls.__dict__["extra"].__set__ for cls in _FIELDS}
_TOOL_USE_ID, _TOOL_USE_NAME, _TOOL_USE_INPUT, _TOOL_USE_CACHE, _TOOL_USE_EXTRA = (
    ToolUse.__dict__[name].__set__ for name in ("id", "name", "input", "cache_control", "extra")
)
_SET_EXTRA_TYPE = ServerToolResult.__dict__["type"].__set__


def _unstructure_fields(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": obj.type}
    for field in _FIELDS[type(obj)]:
        value = getattr(obj, field.attr)
        if value is not None:
            out[field.wire] = field.write(value)
    if obj.extra:
        out.update(obj.extra)
    return out


# --- blocks -----------------------------------------------------------------------


def structure_block(data: Any, path: str = "$", *, written: bool = False) -> Block:
    """Read one content block from its wire dict.

    ``written=True`` for a dict the program wrote: a type that misspells a
    known one is refused (see the module docstring); else it is kept as an
    :class:`UnknownBlock`.
    """
    try:
        return _structure_block(data, path, written)
    except RecursionError:
        # Blocks hold blocks (a tool_result's content); absurd nesting must end
        # in our own error, not the interpreter's.
        raise MalformedInputError("content blocks are nested too deeply to read", path) from None


def _structure_block(data: Any, path: str, written: bool) -> Block:
    if not isinstance(data, dict):
        raise MalformedInputError(f"expected a content block object, got {_type_name(data)}", path)
    kind = data.get("type")
    if kind == "text" and (len(data) == 2 or (len(data) == 3 and data.get("citations", 0) is None)):
        # A plain text block, as sent or as a reply has it ("citations": null).
        text = data.get("text")
        if type(text) is str:
            return plain_text(text)
    elif kind == "tool_use" and len(data) == 4:
        # The other block every tool-using reply has, without the field table.
        tool_id, name, tool_input = data.get("id"), data.get("name"), data.get("input")
        if type(tool_id) is str and type(name) is str and type(tool_input) is dict:
            block = _new(ToolUse)
            _TOOL_USE_ID(block, tool_id)
            _TOOL_USE_NAME(block, name)
            try:
                _TOOL_USE_INPUT(block, freeze(tool_input, ""))
            except MalformedInputError as exc:
                raise MalformedInputError(exc.reason, f"{path}.input{exc.path}") from None
            _TOOL_USE_CACHE(block, None)
            _TOOL_USE_EXTRA(block, EMPTY)
            return block
    cls = _BLOCK_BY_TYPE.get(kind) if isinstance(kind, str) else None
    if cls is None:
        if not isinstance(kind, str):
            raise MalformedInputError("a content block needs a string 'type'", path)
        if written:
            _refuse_typo(kind, path)
        return UnknownBlock(freeze(data, path))
    return _structure_fields(cls, data, path, written)  # type: ignore[no-any-return]


def _refuse_typo(kind: str, path: str) -> None:
    """Raise if the block type ``kind``, which has no class, misspells a known one."""
    meant = block_type_typo(kind)
    if meant is not None:
        raise MalformedInputError(
            f"unknown block type {kind[:80]!r}: did you mean {meant!r}? A type this close to "
            "one the API defines is taken for a typo; to send it as it is, pass "
            "UnknownBlock({...}) instead of the dict",
            f"{path}.type",
        )


def _block_item(item: Any, path: str, written: bool = False) -> Block:
    if isinstance(item, BLOCK_CLASSES):
        return cast(Block, item)
    if isinstance(item, str):
        return plain_text(plain(item))
    return structure_block(item, path, written=written)


def coerce_blocks(value: Any, path: str = "$") -> tuple[Block, ...]:
    """Content as users give it (a str, a block, a wire dict, or a sequence) as a tuple.

    Block dicts here are the program's own: a misspelt block type is refused.
    """
    if type(value) is str:
        return (plain_text(value),)
    if type(value) is tuple and all(isinstance(b, BLOCK_CLASSES) for b in value):
        return value
    if isinstance(value, (*BLOCK_CLASSES, dict, str)):
        return (_block_item(value, path, True),)
    if isinstance(value, list | tuple):
        return tuple(_block_item(item, f"{path}[{i}]", True) for i, item in enumerate(value))
    raise MalformedInputError(
        f"content must be a str, a content block, a block dict, or a list of them; "
        f"got {_type_name(value)}",
        path,
    )


def unstructure_block(block: Block) -> dict[str, Any]:
    """The wire dict of one content block."""
    cls = type(block)
    if cls is Text:
        if block.citations is None and block.cache_control is None and not block.extra:  # type: ignore[union-attr]
            return {"type": "text", "text": block.text}  # type: ignore[union-attr]
    elif cls is UnknownBlock:
        return dict(block.raw)  # type: ignore[union-attr]
    return _unstructure_fields(block)


# --- turns ------------------------------------------------------------------------


def turn_to_wire(turn: TurnData) -> dict[str, Any]:
    """The wire message of a turn; one plain text block is a bare string."""
    raw = turn.content
    if isinstance(raw, str):
        return {"role": turn.role, "content": raw}
    return {"role": turn.role, "content": [unstructure_block(b) for b in raw]}


def _encode_default(value: Any) -> Any:
    """orjson's hook for what it cannot write itself: the blocks of a turn."""
    if isinstance(value, BLOCK_CLASSES):
        return unstructure_block(cast(Block, value))
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_messages(turns: Sequence[TurnData], start: int = 0) -> bytes:
    """The JSON array of the wire messages of ``turns`` (the first is turn ``start``).

    A bare-string content is written as it is; a tuple of blocks becomes a
    JSON array whose blocks orjson hands to :func:`unstructure_block`. Text
    that JSON cannot hold (a lone surrogate) raises :class:`MalformedInputError`
    naming the turn.
    """
    messages = [{"role": turn.role, "content": turn.content} for turn in turns]
    try:
        return orjson.dumps(messages, default=_encode_default)
    except TypeError:
        for index, message in enumerate(messages):
            try:
                orjson.dumps(message, default=_encode_default)
            except TypeError as exc:
                raise MalformedInputError(
                    f"turn {start + index} cannot be written as JSON ({exc}): text must be "
                    "valid Unicode (no lone surrogates) and integers must fit in 64 bits",
                    f"$.messages[{start + index}]",
                ) from None
        raise


def content_from_wire(content: Any, path: str, *, written: bool = False) -> tuple[Block, ...]:
    """Read a message's ``content``: a bare string or a list of block dicts.

    ``written=True`` refuses misspelt block types (a request body the program wrote).
    """
    if isinstance(content, str):
        return (plain_text(plain(content)),)
    if isinstance(content, list):
        return tuple(
            structure_block(b, f"{path}[{i}]", written=written) for i, b in enumerate(content)
        )
    raise MalformedInputError(
        f"content must be a string or a list of content blocks, got {_type_name(content)}", path
    )


def turn_from_wire(
    message: Any, path: str, provenance: Provenance | None = None, *, written: bool = False
) -> Turn:
    """Read one wire message into a Turn (assistant turns default to synthetic).

    ``written=True`` refuses misspelt block types (see :func:`structure_block`).
    """
    if not isinstance(message, dict):
        raise MalformedInputError(f"expected a message object, got {_type_name(message)}", path)
    role = message.get("role", _MISSING)
    if role not in ROLES:
        if role is _MISSING:
            raise MalformedInputError("a message needs a 'role'", path)
        raise MalformedInputError(
            f"role must be 'user' or 'assistant', got {quote(role)}; "
            "a system prompt goes in the top-level 'system' field",
            f"{path}.role",
        )
    role = plain(role)
    content = message.get("content", _MISSING)
    if content is _MISSING:
        raise MalformedInputError("a message needs 'content'", path)
    if len(message) > 2:
        allowed = ("role", "content") if provenance is None else ("role", "content", "provenance")
        unknown = sorted(k for k in message if k not in allowed)
        if unknown:
            raise MalformedInputError(f"unknown message field {quote(unknown[0])}", path)
    stored = (
        content
        if type(content) is str
        else canonical(content_from_wire(content, f"{path}.content", written=written))
    )
    if role == "assistant" and provenance is None:
        provenance = SYNTHETIC
    return make_turn(role, stored, provenance)


def system_to_wire(system: str | tuple[Text, ...]) -> Any:
    """The wire ``system`` field: a string, or a list of text blocks."""
    if isinstance(system, str):
        return system
    return [unstructure_block(b) for b in system]


def system_from_wire(value: Any, path: str = "$.system") -> str | tuple[Text, ...] | None:
    """Read a ``system`` prompt: None, a string, or text blocks (dicts or objects)."""
    if value is None or isinstance(value, str):
        return plain(value)  # type: ignore[no-any-return]
    blocks = coerce_blocks(value, path)
    for i, block in enumerate(blocks):
        if type(block) is not Text:
            raise MalformedInputError(
                f"the system prompt takes only text blocks, got {a_or_an(block.type)} block",
                f"{path}[{i}]",
            )
    return blocks  # type: ignore[return-value]


# --- replies ----------------------------------------------------------------------


def load_json(data: bytes | bytearray | memoryview | str, what: str) -> Any:
    """Parse JSON text, turning any failure into :class:`MalformedInputError`."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedInputError(f"{what} is not valid JSON: {exc}") from None


def usage_from_wire(data: Any, path: str) -> Usage:
    """Read a ``usage`` object; null counters count as zero, details go to ``extra``."""
    if not isinstance(data, dict):
        raise MalformedInputError(f"expected a usage object, got {_type_name(data)}", path)
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
            counts[slot] = value if type(value) is int else _int(value, f"{path}.{key}")
    return make_usage(counts, freeze(extra, path) if extra else EMPTY)


_ZERO = Usage()


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
            meta[index] = _str(value, f"{path}.{key}")  # raises, naming the field
    usage_data = data.get("usage")
    usage = usage_from_wire(usage_data, f"{path}.usage") if usage_data is not None else _ZERO
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
            raise MalformedInputError(f"a reply must be a JSON object, got {_type_name(data)}")
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
                else f"a reply's content must be a list of blocks, got {_type_name(content)}",
                "$.content",
            )
        try:
            blocks = tuple([structure_block(item, "") for item in content])
        except MalformedInputError:
            # Find which block failed, to say where (only on the error path).
            for index, item in enumerate(content):
                try:
                    structure_block(item, "")
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
    out["content"] = [unstructure_block(b) for b in reply.content]
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
        raise MalformedInputError(f"expected a reply record, got {_type_name(data)}", path)
    info = _reply_info({k: v for k, v in data.items() if k != "extra"}, path)
    extra = data.get("extra")
    if extra is None:
        return info
    return attrs.evolve(info, extra=_object(extra, f"{path}.extra"))


# --- the converter ----------------------------------------------------------------


def _make_converter() -> cattrs.Converter:
    """A converter whose hooks are the functions above, one per shape."""
    conv = cattrs.Converter()
    for cls in BLOCK_CLASSES:
        conv.register_unstructure_hook(cls, unstructure_block)
        conv.register_structure_hook(cls, lambda d, t: _expect(structure_block(d), t))
    conv.register_structure_hook_func(
        lambda t: t is Block,
        lambda d, _: structure_block(d),
    )
    conv.register_unstructure_hook(Turn, turn_to_wire)
    conv.register_structure_hook(Turn, lambda d, _: turn_from_wire(d, "$"))
    conv.register_unstructure_hook(Reply, reply_to_wire)
    conv.register_structure_hook(Reply, lambda d, _: reply_from_wire(d))
    conv.register_unstructure_hook(Usage, usage_to_wire)
    conv.register_structure_hook(Usage, lambda d, _: usage_from_wire(d, "$"))
    conv.register_unstructure_hook(ReplyInfo, info_to_wire)
    conv.register_structure_hook(ReplyInfo, lambda d, _: info_from_wire(d, "$"))
    return conv


def _expect(block: Block, cls: type) -> Any:
    if not isinstance(block, cls):
        raise MalformedInputError(
            f"expected {a_or_an(cls.__name__)} block, got {a_or_an(block.type)} block"
        )
    return block


converter: Final = _make_converter()
"""The converter: ``converter.unstructure(block)``, ``converter.structure(d, Text)``."""
