"""How a reply continues a prefill, and what of a cut reply may be sent again.

:meth:`Conversation.fold` joins a synthetic assistant turn (a prefill) and the
model's reply into one turn; these are the two rules it applies to the blocks.
"""

from __future__ import annotations

from ._blocks import Block, Text
from ._json import FrozenDict
from ._reply import unfinished

__all__ = ["continue_prefill", "signed_only"]


def continue_prefill(prefill: tuple[Block, ...], reply: tuple[Block, ...]) -> tuple[Block, ...]:
    """The prefill continued by the reply: the reply's first text joins the prefill's last."""
    if not prefill or not reply:
        return prefill + reply
    tail, head = prefill[-1], reply[0]
    if type(tail) is not Text or type(head) is not Text:
        return prefill + reply
    citations = (tail.citations or []) + (head.citations or [])
    joined = Text(
        tail.text + head.text,
        citations=citations or None,
        cache_control=tail.cache_control,
        extra=FrozenDict({**tail.extra, **head.extra}),
    )
    return (*prefill[:-1], joined, *reply[1:])


def signed_only(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """``blocks`` without what a cut reply left unfinished (see :func:`._reply.unfinished`)."""
    return tuple(b for b in blocks if not unfinished(b))
