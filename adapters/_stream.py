"""The streams of the offline adapters: a finished reply, handed over event by event.

:class:`ScriptedStream` and :class:`AsyncScriptedStream` implement the
:class:`~adapters.MessageStream` protocols over a reply that already exists,
so a streaming chatbot can be tested without a network. Like a real stream,
they take their reply (and the adapter records the request) only when entered
or first iterated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterator

from conversation import Conversation, Reply

from ._events import MessageStop, StreamEvent, events_from_reply
from ._stream_base import AsyncStreamBase, StreamBase, StreamState

__all__ = ["AsyncScriptedStream", "ScriptedStream"]


class ScriptedStream(StreamBase):
    """A scripted reply, streamed (a :class:`~adapters.MessageStream`).

    The request is recorded, and a scripted exception raised, when the stream
    is entered or first iterated.

    >>> from conversation import Conversation
    >>> from adapters import ScriptedAdapter
    >>> adapter = ScriptedAdapter(["Hello there, friend."])
    >>> with adapter.stream(Conversation().user("Hi")) as stream:
    ...     print(list(stream.text_stream))
    ['Hello', ' there,', ' friend.']
    >>> stream.conversation.last.text
    'Hello there, friend.'
    """

    def __init__(self, conversation: Conversation, start: Callable[[], Reply]) -> None:
        super().__init__(conversation)
        self._start = start
        self._reply: Reply | None = None

    def _begin(self) -> None:
        if not self._started:
            self._started = True
            self._reply = self._start()

    def _run(self) -> Generator[StreamEvent, None, None]:
        self._begin()
        if self._reply is not None:
            yield from _events(self, self._reply)


class AsyncScriptedStream(AsyncStreamBase):
    """The async twin of :class:`ScriptedStream` (an :class:`~adapters.AsyncMessageStream`)."""

    def __init__(self, conversation: Conversation, start: Callable[[], Awaitable[Reply]]) -> None:
        super().__init__(conversation)
        self._start = start
        self._reply: Reply | None = None

    async def _begin(self) -> None:
        if not self._started:
            self._started = True
            self._reply = await self._start()

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        await self._begin()
        if self._reply is not None:
            for event in _events(self, self._reply):
                yield event


def _events(stream: StreamState, reply: Reply) -> Iterator[StreamEvent]:
    """The reply's events; the reply is folded just before its last event is handed on."""
    for event in events_from_reply(reply):
        if isinstance(event, MessageStop):
            stream._finish(reply)
        yield event
