"""A turn: one message of the dialogue, its role, its content and its provenance."""

from __future__ import annotations

from typing import Any, Literal, Protocol

import attrs

from ._blocks import BLOCK_CLASSES, READER, Block, Text, plain_text, quick_block
from ._build import new as _new
from ._provenance import SYNTHETIC, Provenance
from .errors import MalformedInputError, quote, type_name

__all__ = [
    "ROLES",
    "Role",
    "Stored",
    "Turn",
    "TurnData",
    "canonical",
    "make_turn",
    "stored_content",
    "turn_of",
]

Role = Literal["user", "assistant"]
ROLES = ("user", "assistant")

Stored = str | tuple[Block, ...]
"""A turn's content as kept: one plain text block as its bare string, else the blocks."""


class TurnData(Protocol):
    """What the encoder and the rules read of a turn: a Turn, or a value with its fields."""

    @property
    def role(self) -> str: ...
    @property
    def content(self) -> str | tuple[Block, ...]: ...
    @property
    def provenance(self) -> Provenance | None: ...


def canonical(blocks: tuple[Block, ...]) -> str | tuple[Block, ...]:
    """The stored form of content: one plain text block is kept as its bare string."""
    if len(blocks) == 1:
        block = blocks[0]
        if (
            type(block) is Text
            and block.citations is None
            and block.cache_control is None
            and not block.extra
        ):
            return block.text
    return blocks


# One block of these is stored as it is given: only a text block has another form.
_KEPT_ALONE = frozenset(BLOCK_CLASSES) - {Text}


def stored_content(content: Any, path: str = "$") -> str | tuple[Block, ...]:
    """Content as a caller gives it (a str, a block, a block dict, or a sequence of
    them) in the form a turn keeps it: checked, and canonical (see :func:`canonical`)."""
    cls = type(content)
    if cls is str:
        return content  # type: ignore[no-any-return]
    if cls in _KEPT_ALONE:  # one block object, as agent loops append tool calls and results
        return (content,)
    if cls is list and len(content) == 1 and type(content[0]) is dict:  # one block dict
        try:
            block = quick_block(content[0])
        except MalformedInputError:
            block = None  # read again below, to say where
        if block is not None:
            return (block,) if type(block) is not Text else canonical((block,))
    return canonical(READER.coerce(content, path))


def _role(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in ROLES:
        raise MalformedInputError(
            f"role must be 'user' or 'assistant', got {quote(value)}; "
            "the system prompt goes in Conversation(system=...)",
            "$.role",
        )


def _content(value: Any) -> str | tuple[Block, ...]:
    return stored_content(value, "$.content")


def _provenance(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, Provenance):
        raise MalformedInputError(
            f"provenance must be a Provenance, got {type_name(value)}", "$.provenance"
        )
    if instance.role == "user" and value is not None:
        raise MalformedInputError("a user turn has no provenance", "$.provenance")


@attrs.frozen(repr=False)
class Turn:
    """One message: ``role``, ``content`` as on the wire, and where it came from.

    ``content`` is what the API's ``content`` field holds: a bare string for one
    plain text block, else a tuple of blocks; ``blocks`` is always the tuple.
    A user turn has no provenance; an assistant turn always has one (synthetic
    unless a model wrote it).
    """

    role: Role = attrs.field(validator=_role)
    content: str | tuple[Block, ...] = attrs.field(converter=_content)
    provenance: Provenance | None = attrs.field(default=None, validator=_provenance)

    def __attrs_post_init__(self) -> None:
        if type(self.role) is not str:  # a StrEnum member: kept as the str it is written as
            object.__setattr__(self, "role", str.__str__(self.role))
        if self.role == "assistant" and self.provenance is None:
            object.__setattr__(self, "provenance", SYNTHETIC)

    @property
    def blocks(self) -> tuple[Block, ...]:
        """The content blocks, in order (a bare string content is one Text block)."""
        content = self.content
        return (plain_text(content),) if type(content) is str else content  # type: ignore[return-value]

    @property
    def text(self) -> str:
        """The text of the turn's text blocks, joined (other blocks are skipped)."""
        content = self.content
        if type(content) is str:
            return content
        return "".join(b.text for b in content if type(b) is Text)

    @property
    def synthetic(self) -> bool:
        """True for an assistant turn the program wrote (no model reply in it)."""
        return self.provenance is not None and not self.provenance.replies

    def __repr__(self) -> str:
        content = self.content
        shown = repr(content)
        if len(shown) > 300:  # a repr is for reading: a 1 MB turn gets a summary
            size = f"{len(content)} chars" if isinstance(content, str) else f"{len(content)} blocks"
            shown = f"{shown[:200]}...<{size}>"
        parts = [repr(self.role), shown]
        if self.provenance is not None and self.provenance.replies:
            parts.append(f"provenance={self.provenance!r}")
        return f"Turn({', '.join(parts)})"


_set_role = Turn.__dict__["role"].__set__
_set_content = Turn.__dict__["content"].__set__
_set_provenance = Turn.__dict__["provenance"].__set__


def make_turn(role: str, content: str | tuple[Block, ...], provenance: Provenance | None) -> Turn:
    """Build a Turn from parts already checked (hot path: no validation).

    ``content`` must already be canonical (see :func:`canonical`).
    """
    turn = _new(Turn)
    _set_role(turn, role)
    _set_content(turn, content)
    _set_provenance(turn, provenance)
    return turn


def turn_of(content: Stored, provenance: Provenance | None) -> Turn:
    """A Turn from the parts a chain stores: the role is the provenance's (a user
    turn has none, an assistant turn always has one)."""
    return make_turn("user" if provenance is None else "assistant", content, provenance)
