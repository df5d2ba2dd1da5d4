"""The old home of ``continue_reply``: deprecated aliases, with the old argument order.

``continue_reply`` works with any adapter, so it lives in the core now:
``conversation.continuation.continue_reply(conversation, adapter, ...)``, the
argument order of every other helper. These aliases warn and forward.
"""

from __future__ import annotations

import warnings
from typing import Any

from conversation import Conversation
from conversation.continuation import AsyncSender, Sender
from conversation.continuation import acontinue_reply as _acontinue_reply
from conversation.continuation import continue_reply as _continue_reply

__all__ = ["acontinue_reply", "continue_reply"]


def _deprecated(name: str) -> None:
    warnings.warn(
        f"adapters.anthropic.{name}(adapter, conversation) is deprecated: use "
        f"conversation.continuation.{name}(conversation, adapter), which works with any adapter",
        DeprecationWarning,
        stacklevel=3,
    )


def continue_reply(adapter: Sender, conversation: Conversation, /, **options: Any) -> Conversation:
    """Deprecated: :func:`conversation.continuation.continue_reply` with the adapter first."""
    _deprecated("continue_reply")
    return _continue_reply(conversation, adapter, **options)


async def acontinue_reply(
    adapter: AsyncSender, conversation: Conversation, /, **options: Any
) -> Conversation:
    """Deprecated: :func:`conversation.continuation.acontinue_reply` with the adapter first."""
    _deprecated("acontinue_reply")
    return await _acontinue_reply(conversation, adapter, **options)
