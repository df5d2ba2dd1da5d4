"""Folding a reply onto a chain: how it continues a prefill, and what of a cut reply
may be sent again.

:meth:`Conversation.fold` joins a synthetic assistant turn (a prefill) and the
model's reply into one turn (:func:`folded`); :meth:`Conversation.resumable`
drops what a cut reply left unfinished (:func:`resumed`). Both work on the
chain (a run and a length), so the Conversation only wraps what they return.
"""

from __future__ import annotations

from typing import Any

import attrs

from ._blocks import Block, Text
from ._chain import Run, append, make_turn_at, prefix_run
from ._json import FrozenDict
from ._provenance import SYNTHETIC, make_provenance
from ._reply import unfinished
from ._turn import canonical
from ._wire import parse_reply

__all__ = ["continue_prefill", "folded", "resumed", "signed_only"]


def folded(run: Run | None, length: int, reply: Any, interrupted: bool) -> tuple[Run, int]:
    """The chain after ``reply`` is folded onto its first ``length`` turns, ending in ``run``
    (see :meth:`Conversation.fold`), as the run and length of the result.

    After an assistant turn the reply continues it, in one turn whose provenance
    keeps every reply; else it is a new turn after the others.
    """
    blocks, info = parse_reply(reply)
    before = None if run is None else make_turn_at(run, length - 1)
    if run is not None and before is not None and before.role == "assistant":
        provenance = before.provenance or SYNTHETIC
        earlier = before.blocks
        if provenance.interrupted:
            earlier = signed_only(earlier)
        if provenance.replies:
            merged = make_provenance((*provenance.replies, info), provenance.prefill, interrupted)
        else:
            merged = make_provenance((info,), earlier, interrupted)
        content = canonical(continue_prefill(earlier, blocks))
        return append(prefix_run(run, length - 1), length - 1, content, merged), length
    provenance = make_provenance((info,), (), interrupted)
    return append(run, length, canonical(blocks), provenance), length + 1


def resumed(run: Run, length: int) -> tuple[Run | None, int]:
    """The last turn of ``length`` in ``run``, an interrupted reply, without what cannot be
    sent again (the turns before it when nothing is left): see :meth:`Conversation.resumable`.
    """
    turn = make_turn_at(run, length - 1)
    blocks = signed_only(turn.blocks)
    if blocks and type(blocks[-1]) is Text:
        last = blocks[-1]
        stripped = last.text.rstrip()
        blocks = blocks[:-1] + ((attrs.evolve(last, text=stripped),) if stripped else ())
    before = prefix_run(run, length - 1)
    if not blocks:
        return before, length - 1
    return append(before, length - 1, canonical(blocks), turn.provenance), length


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
