"""Continue a reply that stopped at ``max_tokens``, into one assistant turn, over any adapter.

A reply cut off by ``max_tokens`` can be continued by sending the
conversation back with the partial reply as its final assistant turn (a
prefill): the model writes on from where it stopped, and ``fold`` joins the
continuation onto the prefill, so the result holds ONE assistant turn whose
provenance lists every reply (its ``usage`` is their sum).

Limits of the API shape this: a prefill may not end in whitespace (so the
partial reply's trailing whitespace is dropped before it is sent back; the
model sees, and the turn keeps, the stripped text); a prefill is refused while
extended thinking is on, and the model continues text only (so a reply cut in
a tool call, or with thinking on, is refused here, before sending).

>>> from adapters import ScriptedAdapter
>>> from conversation import Conversation
>>> cut = {"content": [{"type": "text", "text": "The story begins"}], "stop_reason": "max_tokens"}
>>> bot = ScriptedAdapter([cut, " and ends."])
>>> chat = bot.send(Conversation().user("Tell a story."), max_tokens=5)
>>> chat = continue_reply(chat, bot, max_tokens=5)
>>> chat.last.text, len(chat), chat.last.provenance.stop_reason
('The story begins and ends.', 2, 'end_turn')

The decisions are one plan (:func:`_plan`); ``continue_reply`` and
``acontinue_reply`` only send, blocking or awaited.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Final

import attrs

from ._blocks import Text
from ._conversation import Conversation
from ._steps import AsyncSender, Plan, Sender, adrive, drive
from ._turn import Turn
from .errors import ContinuationError, MalformedInputError

__all__ = ["AsyncSender", "ContinuationError", "Sender", "acontinue_reply", "continue_reply"]

MAX_TOKENS: Final = "max_tokens"
_THINKING_ON: Final = frozenset({"enabled", "adaptive"})


def _check_bound(max_continuations: int) -> None:
    if type(max_continuations) is not int or max_continuations < 0:
        raise MalformedInputError(
            f"max_continuations must be an int >= 0, got {max_continuations!r}"
        )


def _stopped_at_max_tokens(conversation: Conversation) -> bool:
    """True when the last turn is a model reply that ``max_tokens`` cut off."""
    last = conversation.last
    return (
        last is not None
        and last.role == "assistant"
        and last.provenance is not None
        and last.provenance.stop_reason == MAX_TOKENS
    )


def _check_no_thinking(adapter: object, options: Mapping[str, Any]) -> None:
    """Refuse to continue with thinking on (from the call's options or the adapter's)."""
    defaults = getattr(adapter, "default_options", None)
    merged = {**(defaults if isinstance(defaults, Mapping) else {}), **options}
    thinking = merged.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") in _THINKING_ON:
        raise ContinuationError(
            "cannot continue a reply while extended thinking is on: the API rejects a "
            "final assistant turn (a prefill) with thinking enabled. Raise max_tokens and "
            "send again, or continue with thinking={'type': 'disabled'}"
        )


def _as_prefill(conversation: Conversation) -> Conversation:
    """``conversation`` with its last (assistant) turn's trailing whitespace dropped.

    The API rejects a prefill that ends in whitespace; the turn keeps its
    provenance, so the continuation folds onto it as one more reply.
    """
    last = conversation.last
    assert last is not None  # checked by _stopped_at_max_tokens
    blocks = last.blocks
    final = blocks[-1] if blocks else None
    if type(final) is not Text:
        kind = final.type if final is not None else "no"
        raise ContinuationError(
            f"cannot continue this reply: max_tokens stopped it in a {kind} block, and only "
            "text can be continued from a prefill. Raise max_tokens and send again"
        )
    if final.text == final.text.rstrip():
        return conversation
    stripped = final.text.rstrip()
    kept = (*blocks[:-1], attrs.evolve(final, text=stripped)) if stripped else blocks[:-1]
    if not kept:
        raise ContinuationError(
            "cannot continue this reply: all it wrote before max_tokens stopped it was "
            "whitespace, which the API refuses as a prefill. Raise max_tokens and send again"
        )
    return conversation[:-1].append(Turn("assistant", kept, provenance=last.provenance))


def _plan(
    conversation: Conversation,
    adapter: object,
    max_continuations: int,
    options: Mapping[str, Any],
) -> Plan[Conversation, Conversation, Conversation]:
    """Yield each prefill to send (and be sent the result) until the reply is whole."""
    _check_bound(max_continuations)
    current = conversation
    for _ in range(max_continuations):
        if not _stopped_at_max_tokens(current):
            break
        _check_no_thinking(adapter, options)
        current = yield _as_prefill(current)
    return current


def continue_reply(
    conversation: Conversation,
    adapter: Sender,
    /,
    *,
    max_continuations: int = 5,
    **options: Any,
) -> Conversation:
    """``conversation`` with its last reply continued until it is no longer cut off.

    While the last turn is a reply whose ``stop_reason`` is ``max_tokens``,
    send the conversation again (with ``options``) so the model continues
    it, at most ``max_continuations`` times. The continued reply is ONE
    assistant turn: its text joined, its provenance listing every reply,
    its usage their sum. A conversation whose last reply was not cut off
    comes back as it is, with nothing sent. Any adapter with ``send`` will do.

    Raises :class:`ContinuationError` (before sending) when thinking is on,
    the reply was cut in a block that is not text (a tool call), or all it
    wrote is whitespace; and whatever ``adapter.send``
    raises, the continuations made so far then being lost with the error
    (``conversation`` itself is unchanged).
    """
    plan = _plan(conversation, adapter, max_continuations, options)
    return drive(plan, partial(_send, adapter, options))


async def acontinue_reply(
    conversation: Conversation,
    adapter: AsyncSender,
    /,
    *,
    max_continuations: int = 5,
    **options: Any,
) -> Conversation:
    """Like :func:`continue_reply`, sending with ``await adapter.asend``."""
    plan = _plan(conversation, adapter, max_continuations, options)
    return await adrive(plan, partial(_asend, adapter, options))


def _send(adapter: Sender, options: Mapping[str, Any], prefill: Conversation) -> Conversation:
    return adapter.send(prefill, **options)


async def _asend(
    adapter: AsyncSender, options: Mapping[str, Any], prefill: Conversation
) -> Conversation:
    return await adapter.asend(prefill, **options)
