"""A streamed Chat Completions reply: events as they arrive, the folded Conversation at the end.

:class:`OpenAIStream` and :class:`AsyncOpenAIStream` are the shared HTTP
streams of :mod:`adapters._http._stream` (the same behaviour as the Anthropic
adapter's, a cut stream's :class:`~adapters.StreamInterruptedError` carrying
what arrived included) with the OpenAI adapter's errors, reading the chunks
through :class:`._chunks.ChunkReader`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextlib import aclosing, closing

from adapters._http import AsyncHTTPStream, HTTPStream
from adapters._http._stream import Event

from ._chunks import ChunkReader
from ._errors import KINDS

__all__ = ["AsyncOpenAIStream", "OpenAIStream"]


class OpenAIStream(HTTPStream):
    """One streamed Chat Completions reply (a :class:`~adapters.MessageStream`)."""

    errors = KINDS

    def translate(self, events: Generator[Event, None, None]) -> Generator[Event, None, None]:
        """The chunks of the answer as Messages API events."""
        reader = ChunkReader()
        with closing(events):
            for name, data in events:
                yield from reader.feed(name, data)


class AsyncOpenAIStream(AsyncHTTPStream):
    """The async twin of :class:`OpenAIStream` (an :class:`~adapters.AsyncMessageStream`)."""

    errors = KINDS

    async def atranslate(self, events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
        """The chunks of the answer as Messages API events."""
        reader = ChunkReader()
        async with aclosing(events):
            async for name, data in events:
                for event in reader.feed(name, data):
                    yield event
