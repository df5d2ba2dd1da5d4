"""What the helpers that talk to a model need of an adapter: ``send``, or ``asend``.

:func:`~conversation.tools.run_tools`, :func:`~conversation.structured.extract`
and their async twins take any object with the one method they call, and
``adapters.Adapter`` is both protocols at once: one declaration of each
method, for the core and the adapters alike.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ._conversation import Conversation

__all__ = ["AsyncSender", "Sender"]


@runtime_checkable
class Sender(Protocol):
    """Has ``send``: returns the conversation with the model's reply folded in."""

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Send ``conversation`` and return it with the reply appended."""
        ...


@runtime_checkable
class AsyncSender(Protocol):
    """Has ``asend``: the async twin of :class:`Sender`."""

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Like ``send``, without blocking the event loop."""
        ...
