"""The streams of the offline adapters: a finished reply, handed over event by event.

:class:`ScriptedStream` and :class:`AsyncScriptedStream` implement the
:class:`~adapters.MessageStream` protocols over a reply that already exists,
so a streaming chatbot can be tested without a network. Like a real stream,
they take their reply (and the adapter records the request) only when entered
or first iterated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import Self

from conversation import Conversation, Reply

from ._base import StreamNotConsumedError
from ._events import MessageStop, StreamEvent, TextDelta, events_from_reply

__all__ = ["AsyncScriptedStream", "ScriptedStream"]


class _StreamState:
    """What the sync and async streams share: the reply, its events, the folded result."""

    def __init__(self, conversation: Conversation) -> None:
        self._before = conversation
        self._started = False
        self._closed = False
        self._reply: Reply | None = None
        self._folded: Conversation | None = None

    @property
    def conversation(self) -> Conversation:
        """The conversation with the reply folded in, once the last event was yielded.

        Raises :class:`~adapters.StreamNotConsumedError` before that.
        """
        if self._folded is None:
            raise StreamNotConsumedError(
                "the stream was closed before its end, so no reply was folded"
                if self._closed
                else "the stream has not been read to its end yet; iterate over it "
                "(or over its text_stream) first"
            )
        return self._folded

    def _events(self, reply: Reply) -> Iterator[StreamEvent]:
        for event in events_from_reply(reply):
            if isinstance(event, MessageStop):
                self._folded = self._before.fold(reply)
            yield event

    def __repr__(self) -> str:
        if self._folded is not None:
            state = "read to its end"
        elif self._closed:
            state = "closed"
        else:
            state = "reading" if self._started else "not started"
        return f"<{type(self).__name__} {state}>"


class ScriptedStream(_StreamState):
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
        self._iterator: Generator[StreamEvent, None, None] | None = None

    def _begin(self) -> Reply | None:
        if not self._started:
            self._started = True
            self._reply = self._start()
        return self._reply

    def _run(self) -> Generator[StreamEvent, None, None]:
        reply = self._begin()
        if reply is not None:
            yield from self._events(reply)

    def __iter__(self) -> Iterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    @property
    def text_stream(self) -> Iterator[str]:
        """The text of each :class:`~adapters.TextDelta`, read from the same events."""
        return self._texts()

    def _texts(self) -> Iterator[str]:
        for event in self:
            if isinstance(event, TextDelta):
                yield event.text

    def close(self) -> None:
        """Stop the stream; if it had not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            self._iterator.close()

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncScriptedStream(_StreamState):
    """The async twin of :class:`ScriptedStream` (an :class:`~adapters.AsyncMessageStream`)."""

    def __init__(self, conversation: Conversation, start: Callable[[], Awaitable[Reply]]) -> None:
        super().__init__(conversation)
        self._start = start
        self._iterator: AsyncGenerator[StreamEvent, None] | None = None

    async def _begin(self) -> Reply | None:
        if not self._started:
            self._started = True
            self._reply = await self._start()
        return self._reply

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        reply = await self._begin()
        if reply is not None:
            for event in self._events(reply):
                yield event

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text of each :class:`~adapters.TextDelta`, read from the same events."""
        return self._texts()

    async def _texts(self) -> AsyncIterator[str]:
        async for event in self:
            if isinstance(event, TextDelta):
                yield event.text

    async def aclose(self) -> None:
        """Stop the stream; if it had not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            await self._iterator.aclose()

    async def __aenter__(self) -> Self:
        await self._begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
