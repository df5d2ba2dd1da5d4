"""What every stream shares: the mechanics of the MessageStream protocols.

A concrete stream says how it begins (send the request, or take a scripted
reply), how it reads events, and how it releases what it holds; the bases
here do the rest the same way for every adapter: one lazily started event
iterator, ``text_stream`` over the same events, ``close``, the context
manager, and ``conversation`` once the reply was folded.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from typing import Self

from conversation import Conversation, Reply
from conversation._closing import AsyncClosing, Closing

from ._base import StreamNotConsumedError
from ._events import StreamEvent, TextDelta

__all__ = ["AsyncStreamBase", "StreamBase", "StreamState"]


class StreamState:
    """The caller's conversation, the folded result, and where the stream is in its life."""

    def __init__(self, conversation: Conversation) -> None:
        self._before = conversation
        self._started = False
        self._closed = False
        self._interrupted = False
        self._folded: Conversation | None = None

    @property
    def conversation(self) -> Conversation:
        """The conversation with the reply folded in, once the last event was yielded.

        Raises :class:`~adapters.StreamNotConsumedError` before that (and after
        an interruption: the partial conversation is the error's).
        """
        if self._folded is None:
            if self._interrupted:
                reason = (
                    "the stream was interrupted, so no whole reply was folded; the "
                    "StreamInterruptedError it raised holds the partial conversation"
                )
            elif self._closed:
                reason = "the stream was closed before its end, so no reply was folded"
            else:
                reason = (
                    "the stream has not been read to its end yet; iterate over it "
                    "(or over its text_stream) first"
                )
            raise StreamNotConsumedError(reason)
        return self._folded

    def _finish(self, reply: Reply) -> None:
        """Fold the whole reply: called just before the last event is yielded."""
        self._folded = self._before.fold(reply)

    def __repr__(self) -> str:
        if self._folded is not None:
            state = "read to its end"
        elif self._interrupted:
            state = "interrupted"
        elif self._closed:
            state = "closed"
        else:
            state = "reading" if self._started else "not started"
        return f"<{type(self).__name__} {state}>"


class StreamBase(StreamState, Closing):
    """A :class:`~adapters.MessageStream`: subclasses give ``_begin``, ``_run``, ``_release``."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__(conversation)
        self._iterator: Generator[StreamEvent, None, None] | None = None

    def _begin(self) -> None:
        """Start the stream (send the request) once; later calls do nothing."""
        raise NotImplementedError

    def _run(self) -> Generator[StreamEvent, None, None]:
        """The events, from beginning to end; runs once."""
        raise NotImplementedError

    def _release(self) -> None:
        """Let go of what the stream holds (a connection); called by ``close``."""

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
            if type(event) is TextDelta:
                yield event.text

    def close(self) -> None:
        """Stop the stream and release it; if it had not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            self._iterator.close()
        self._release()

    def __enter__(self) -> Self:
        self._begin()
        return self


class AsyncStreamBase(StreamState, AsyncClosing):
    """An :class:`~adapters.AsyncMessageStream`: the async twin of :class:`StreamBase`."""

    def __init__(self, conversation: Conversation) -> None:
        super().__init__(conversation)
        self._iterator: AsyncGenerator[StreamEvent, None] | None = None

    async def _begin(self) -> None:
        """Start the stream (send the request) once; later calls do nothing."""
        raise NotImplementedError

    def _run(self) -> AsyncGenerator[StreamEvent, None]:
        """The events, from beginning to end; runs once."""
        raise NotImplementedError

    async def _release(self) -> None:
        """Let go of what the stream holds (a connection); called by ``aclose``."""

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
            if type(event) is TextDelta:
                yield event.text

    async def aclose(self) -> None:
        """Stop the stream and release it; if it had not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            await self._iterator.aclose()
        await self._release()

    async def __aenter__(self) -> Self:
        await self._begin()
        return self
