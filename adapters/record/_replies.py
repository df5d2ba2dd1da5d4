"""The reply a cassette keeps for a send: rebuilt from the turn it was folded into.

An adapter's ``send`` returns the conversation with the reply folded in, not
the reply itself, so a recording rebuilds the Messages API response from the
new last turn: its blocks, less the prefill the program wrote (the fold joins
a prefill and the reply's first text into one block), and the metadata of
the turn's last reply. Folding the rebuilt reply into the conversation that
was sent must give back exactly the conversation the adapter returned; that
is checked before anything is recorded.
"""

from __future__ import annotations

from conversation import AdapterError, Block, Conversation, FrozenDict, Reply, Text

__all__ = ["reply_of"]


def reply_of(before: Conversation, after: Conversation, *, interrupted: bool = False) -> Reply:
    """The reply that, folded into ``before`` (``interrupted`` as given), gives ``after``.

    Raises :class:`~conversation.AdapterError` when ``after`` is not ``before``
    with one reply folded in.
    """
    turn = after.last
    provenance = turn.provenance if turn is not None else None
    if turn is None or turn.role != "assistant" or provenance is None or not provenance.replies:
        raise _unrecordable(before, after, "its last turn is not a reply of a model")
    content = _continued(_prefill(before), turn.blocks)
    reply = Reply.from_info(content, provenance.replies[-1]) if content is not None else None
    if reply is None or before.fold(reply, interrupted=interrupted) != after:
        raise _unrecordable(before, after, "it is not the conversation sent with a reply folded in")
    return reply


def _prefill(before: Conversation) -> tuple[Block, ...]:
    """What a reply folded into ``before`` continues: its last turn if it is an assistant's.

    Folding an empty reply shows it exactly as the fold sees it (an interrupted
    turn less what its cut reply left unfinished).
    """
    last = before.last
    if last is None or last.role != "assistant":
        return ()
    folded = before.fold(Reply(())).last
    return folded.blocks if folded is not None else ()


def _continued(prefill: tuple[Block, ...], blocks: tuple[Block, ...]) -> tuple[Block, ...] | None:
    """``blocks`` less ``prefill``, the join of its last text undone; None if no continuation."""
    count = len(prefill)
    if count == 0:
        return blocks
    if len(blocks) < count or blocks[: count - 1] != prefill[:-1]:
        return None
    tail, joined = prefill[-1], blocks[count - 1]
    if joined == tail:
        return blocks[count:]
    if type(tail) is not Text or type(joined) is not Text or not joined.text.startswith(tail.text):
        return None
    earlier = len(tail.citations or ())
    extra = {k: v for k, v in joined.extra.items() if k not in tail.extra or tail.extra[k] != v}
    head = Text(
        joined.text[len(tail.text) :],
        citations=list(joined.citations[earlier:]) if joined.citations else None,
        extra=FrozenDict(extra),
    )
    return (head, *blocks[count:])


def _unrecordable(before: Conversation, after: Conversation, why: str) -> AdapterError:
    return AdapterError(
        f"cannot record this exchange: the adapter returned a conversation of {len(after)} "
        f"turns for one of {len(before)}, and {why}. An adapter's send() must return the "
        "conversation it was given with the model's reply folded in (conversation.fold)."
    )
