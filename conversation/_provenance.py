"""The provenance an assistant turn keeps: the replies folded into it, and how.

Provenance never goes on the wire; it is kept by the save format so that a
stored dialogue still says which turns a model wrote, which model, why it
stopped and what it cost. A turn the program wrote has :data:`SYNTHETIC`.
"""

from __future__ import annotations

from typing import Any, overload

import attrs

from ._blocks import BLOCK_CLASSES, Block
from ._build import new as _new
from ._reply import ZERO_USAGE, ReplyInfo, Usage, is_tuple_of
from .errors import MalformedInputError, quote, type_name

__all__ = ["SYNTHETIC", "Provenance", "make_provenance"]


def _is_bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if type(value) is not bool:
        raise MalformedInputError(
            f"Provenance.{attribute.name} must be True or False, got {type_name(value)} "
            f"{quote(value)}",
            f"$.{attribute.name}",
        )


class _OfLastReply:
    """A read-only attribute of :class:`Provenance`: a field of its last reply, None if none."""

    def __init__(self, field: str, doc: str) -> None:
        self._field = field
        self.__doc__ = doc

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> _OfLastReply: ...

    @overload
    def __get__(self, instance: Provenance, owner: type[Any]) -> str | None: ...

    def __get__(self, instance: Provenance | None, owner: type[Any]) -> _OfLastReply | str | None:
        if instance is None:
            return self
        replies = instance.replies
        value: str | None = getattr(replies[-1], self._field) if replies else None
        return value


@attrs.frozen
class Provenance:
    """Where an assistant turn came from.

    ``replies`` are the model replies folded into the turn, in order (none for
    a synthetic turn written by the program; several when a cut reply was
    continued). ``prefill`` is the content the program wrote before the model
    continued it, if the turn began as a prefill. ``interrupted`` is true when
    the last reply was cut off (a stream that broke): the turn holds what had
    arrived, which may include a thinking block whose signature never came.
    """

    replies: tuple[ReplyInfo, ...] = attrs.field(
        default=(), validator=is_tuple_of(ReplyInfo, "a tuple of ReplyInfo")
    )
    prefill: tuple[Block, ...] = attrs.field(
        default=(), validator=is_tuple_of(BLOCK_CLASSES, "a tuple of content blocks")
    )
    interrupted: bool = attrs.field(default=False, validator=_is_bool)

    @property
    def synthetic(self) -> bool:
        """True when no model wrote any of this turn."""
        return not self.replies

    @property
    def last(self) -> ReplyInfo | None:
        """The last reply folded into this turn, if any."""
        return self.replies[-1] if self.replies else None

    id = _OfLastReply("id", "The id of the last reply (``msg_...``).")
    model = _OfLastReply("model", "The model that wrote the last reply.")
    stop_reason = _OfLastReply(
        "stop_reason", "Why the model stopped the last reply (``end_turn``, ``max_tokens``, ...)."
    )
    stop_sequence = _OfLastReply(
        "stop_sequence", "The custom stop sequence that ended the last reply, if one did."
    )

    @property
    def usage(self) -> Usage:
        """The usage of every reply in this turn, summed."""
        total = ZERO_USAGE
        for info in self.replies:
            total = total + info.usage
        return total


SYNTHETIC = Provenance()


_p_replies = Provenance.__dict__["replies"].__set__
_p_prefill = Provenance.__dict__["prefill"].__set__
_p_interrupted = Provenance.__dict__["interrupted"].__set__


def make_provenance(
    replies: tuple[ReplyInfo, ...], prefill: tuple[Block, ...] = (), interrupted: bool = False
) -> Provenance:
    """A Provenance from checked parts (hot path)."""
    provenance: Provenance = _new(Provenance)
    _p_replies(provenance, replies)
    _p_prefill(provenance, prefill)
    _p_interrupted(provenance, interrupted)
    return provenance
