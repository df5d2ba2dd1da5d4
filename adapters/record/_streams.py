"""The streams of the cassette adapters: a recorded stream replayed, or a live one recorded.

Either way the stream behaves as every :class:`~adapters.MessageStream` does:
the request is looked up (or sent) when the stream is entered or first read,
events are yielded one by one, and ``conversation`` is the folded result
once ``MessageStop`` has been yielded. A replayed stream yields the recorded
events and then raises the recorded error, if the recorded stream broke
(a :class:`~adapters.StreamInterruptedError` carrying its partial
conversation); an error recorded before the answer began is raised on entry.
A live stream passes each event of the adapter behind on, and is recorded
at its ``MessageStop`` or when it breaks; a stream closed early is not.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Iterator

from adapters._base import AsyncMessageStream, MessageStream
from adapters._events import MessageStop, StreamEvent
from adapters._stream_base import AsyncStreamBase, StreamBase, StreamState
from adapters.errors import StreamInterruptedError

from ._engine import Call, Engine
from ._format import Exchange

__all__ = ["AsyncCassetteStream", "CassetteStream"]


class _CassetteStreamState(StreamState):
    """What both twins share: the lookup, the replayed events, and recording passed events."""

    def __init__(self, engine: Engine, call: Call) -> None:
        super().__init__(call.conversation)
        self._engine = engine
        self._call = call
        self._exchange: Exchange | None = None
        self._passed: list[StreamEvent] = []
        self._kept = False

    def _found(self) -> bool:
        """Look the request up: True when it is replayed (an error before its answer: raised)."""
        exchange = self._engine.lookup(self._call)
        if exchange is None:
            return False
        self._exchange = exchange
        if exchange.events is None and exchange.error is not None:
            raise self._engine.restored(self._call, exchange.error)
        return True

    def _replayed(self) -> Iterator[StreamEvent]:
        """The recorded events, folded at ``MessageStop``; then the recorded error, if any."""
        exchange = self._exchange
        if exchange is None:
            return
        for event in exchange.events or ():
            if type(event) is MessageStop:
                self._finish(event.reply)
            yield event
        if exchange.error is not None:
            error = self._engine.restored(self._call, exchange.error)
            self._interrupted = isinstance(error, StreamInterruptedError)
            raise error

    def _pass(self, event: StreamEvent) -> StreamEvent:
        """An event of the live stream, kept; at ``MessageStop``, fold and record the stream."""
        self._passed.append(event)
        if type(event) is MessageStop:
            self._finish(event.reply)
            self._engine.keep_stream(self._call, tuple(self._passed))
            self._kept = True
        return event

    def _broke(self, exc: BaseException) -> None:
        """The live stream raised ``exc`` while being read: record it after the events so far."""
        self._interrupted = isinstance(exc, StreamInterruptedError)
        if not self._kept:
            self._engine.failed(self._call, exc, tuple(self._passed))


class CassetteStream(_CassetteStreamState, StreamBase):
    """A stream of a cassette adapter (a :class:`~adapters.MessageStream`)."""

    def __init__(self, engine: Engine, call: Call) -> None:
        super().__init__(engine, call)
        self._inner: MessageStream | None = None

    def _begin(self) -> None:
        if self._started:
            return
        self._started = True
        if self._found():
            return
        stream = self._engine.method(self._call, sync=True)
        inner: MessageStream = stream(self._call.conversation, **self._call.options)
        try:
            inner.__enter__()
        except Exception as exc:
            self._engine.failed(self._call, exc)
            raise
        self._inner = inner

    def _release(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            inner.close()

    def _run(self) -> Generator[StreamEvent, None, None]:
        try:
            self._begin()
            inner = self._inner
            if self._closed:
                return
            if inner is None:
                yield from self._replayed()
                return
            try:
                for event in inner:
                    yield self._pass(event)
            except Exception as exc:
                self._broke(exc)
                raise
        finally:
            self._release()


class AsyncCassetteStream(_CassetteStreamState, AsyncStreamBase):
    """The async twin of :class:`CassetteStream` (an :class:`~adapters.AsyncMessageStream`)."""

    def __init__(self, engine: Engine, call: Call) -> None:
        super().__init__(engine, call)
        self._inner: AsyncMessageStream | None = None

    async def _begin(self) -> None:
        if self._started:
            return
        self._started = True
        if self._found():
            return
        astream = self._engine.method(self._call, sync=False)
        inner: AsyncMessageStream = astream(self._call.conversation, **self._call.options)
        try:
            await inner.__aenter__()
        except Exception as exc:
            self._engine.failed(self._call, exc)
            raise
        self._inner = inner

    async def _release(self) -> None:
        inner, self._inner = self._inner, None
        if inner is not None:
            await inner.aclose()

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        try:
            await self._begin()
            inner = self._inner
            if self._closed:
                return
            if inner is None:
                for event in self._replayed():
                    yield event
                return
            try:
                async for event in inner:
                    yield self._pass(event)
            except Exception as exc:
                self._broke(exc)
                raise
        finally:
            await self._release()
