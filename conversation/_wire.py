"""The one converter: blocks, turns and replies to and from wire dicts.

Everything that reads or writes the Messages API's JSON shapes lives here, in
hooks registered on a single ``cattrs.Converter``. Wire decisions:

- A block is read by its ``type``; an unknown type becomes :class:`UnknownBlock`
  holding the dict as it came, and goes back out unchanged.
- Except in block dicts the program wrote (``written=True``: content given to
  ``user()``, ``assistant()``, ``Turn``, and block constructors such as
  ``ToolResult(content=...)`` / ``Document.from_blocks``), where a type a
  letter or two from one the API defines is refused as a typo with a
  suggestion (the rule of :mod:`._suggest`). What the API sent (``fold``),
  what was saved (``loads``) and request bodies (``from_payload``, which must
  read back whatever ``to_payload`` wrote) are read as they are, as is what the
  public ``converter`` structures; an :class:`UnknownBlock` built on purpose is
  never refused.
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

Blocks are read and written by ``_blocks.READER``, which derives each
block's wire fields from its attrs fields (``_read.py``): a block type or field
is declared once, in its class. This module sits above the block, turn and
reply values (none of them imports it) and adds turns, requests, replies and
the cattrs converter. The hot paths (plain text turns, the commonest blocks,
the payload encoder) are hand-written functions; the converter dispatches to
the same functions, so there is one definition of each shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import cattrs
import orjson

from ._blocks import (
    BLOCK_CLASSES,
    DOCUMENTED_BLOCK_TYPES,
    READER,
    Block,
    Text,
    ToolResult,
    ToolUse,
    plain_text,
)
from ._json import plain
from ._provenance import SYNTHETIC, Provenance
from ._read import json_text_error, load_json
from ._reply import (
    Reply,
    ReplyInfo,
    Usage,
    info_from_wire,
    info_to_wire,
    parse_reply,
    reply_from_wire,
    reply_to_wire,
    usage_from_wire,
    usage_to_wire,
)
from ._turn import ROLES, Turn, TurnData, canonical, make_turn
from .errors import MalformedInputError, a_or_an, quote, type_name

__all__ = [
    "BLOCK_TYPE_NAMES",
    "DOCUMENTED_BLOCK_TYPES",
    "block_type_typo",
    "coerce_blocks",
    "converter",
    "encode_default",
    "encode_messages",
    "info_from_wire",
    "info_to_wire",
    "json_text_error",
    "load_json",
    "message_to_wire",
    "parse_reply",
    "reply_from_wire",
    "reply_to_wire",
    "structure_block",
    "turn_from_wire",
    "turn_to_wire",
    "unstructure_block",
]

_MISSING: Final = object()


# --- readers and blocks -----------------------------------------------------------


_type_name = type_name  # "None": a JSON text reader says "null" (see json_text_error)


BLOCK_TYPE_NAMES: Final = READER.type_names
"""Every block type a typo is checked against, in a fixed order (it breaks ties)."""

block_type_typo = READER.typo
"""The known block type a type misspells, or None (the rule of :mod:`._suggest`)."""

coerce_blocks: Callable[..., tuple[Block, ...]] = READER.coerce
"""Content as users give it (a str, a block, a wire dict, or a sequence) as a tuple."""


def structure_block(data: Any, path: str = "$", *, written: bool = False) -> Block:
    """Read one content block from its wire dict.

    ``written=True`` for a dict the program wrote: a type that misspells a
    known one is refused (see the module docstring); else it is kept as an
    :class:`UnknownBlock`.
    """
    return READER.structure_block(data, path, written=written)  # type: ignore[no-any-return]


def unstructure_block(block: Block) -> dict[str, Any]:
    """The wire dict of one content block."""
    cls = type(block)
    if cls is Text:
        if block.citations is None and block.cache_control is None and not block.extra:  # type: ignore[union-attr]
            return {"type": "text", "text": block.text}  # type: ignore[union-attr]
    elif cls is ToolUse:
        if block.cache_control is None and not block.extra:  # type: ignore[union-attr]
            return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}  # type: ignore[union-attr]
    elif cls is ToolResult:
        content = block.content  # type: ignore[union-attr]
        if (
            type(content) is str
            and block.is_error is None  # type: ignore[union-attr]
            and block.cache_control is None  # type: ignore[union-attr]
            and not block.extra  # type: ignore[union-attr]
        ):
            return {"type": "tool_result", "tool_use_id": block.tool_use_id, "content": content}  # type: ignore[union-attr]
    return READER.unstructure_block(block)


# --- turns ------------------------------------------------------------------------


def turn_to_wire(turn: TurnData) -> dict[str, Any]:
    """The wire message of a turn; one plain text block is a bare string."""
    return message_to_wire(turn.role, turn.content)


def message_to_wire(role: str, content: str | tuple[Block, ...]) -> dict[str, Any]:
    """The wire message of a turn's role and stored content."""
    if isinstance(content, str):
        return {"role": role, "content": content}
    return {"role": role, "content": [unstructure_block(b) for b in content]}


def encode_default(value: Any) -> Any:
    """orjson's hook for what it cannot write itself: the blocks of a turn."""
    if isinstance(value, BLOCK_CLASSES):
        return unstructure_block(value)  # type: ignore[arg-type]
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_messages(
    contents: Sequence[str | tuple[Block, ...]],
    provenances: Sequence[Provenance | None],
    start: int = 0,
) -> bytes:
    """The JSON array of the wire messages of some turns (the first is turn ``start``),
    given as their contents and provenances (a user turn has none).

    A bare-string content is written as it is; a tuple of blocks becomes a
    JSON array whose blocks orjson hands to :func:`unstructure_block`. Text
    that JSON cannot hold (a lone surrogate) raises :class:`MalformedInputError`
    naming the turn.
    """
    # The role read from provenance (a user turn has none): a chain stores no role.
    messages = [
        {"role": "user" if provenance is None else "assistant", "content": content}
        for content, provenance in zip(contents, provenances, strict=True)
    ]
    try:
        return orjson.dumps(messages, default=encode_default)
    except TypeError:
        for index, message in enumerate(messages):
            try:
                orjson.dumps(message, default=encode_default)
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
