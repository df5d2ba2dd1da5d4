"""A streamed reply over HTTP: typed events as they arrive, the folded Conversation at the end.

:class:`HTTPStream` and :class:`AsyncHTTPStream` implement the
:class:`~adapters.MessageStream` protocols over an open ``text/event-stream``
answer, for every HTTP adapter (a subclass names its provider's errors, and
may translate the provider's events into the Messages API's first: see
``events``). They read it with :mod:`._sse`, fold it with :class:`._accumulate.Accumulator`,
and behave as the offline streams of :mod:`adapters._stream` do: the request
is made when the stream is entered or first iterated, iterating yields
:data:`~adapters.StreamEvent` objects, ``text_stream`` the text deltas, and
once the last event was yielded ``stream.conversation`` is the caller's
conversation with the reply folded in, equal to what ``send`` returns for the
same reply.

A stream cut off after its answer began raises
:class:`~adapters.StreamInterruptedError` (a :class:`~conversation.ConversationError`)
whose ``conversation`` holds what arrived, folded with ``interrupted=True``;
nothing is retried once the answer began (the reply would not be the same).
The reason is the exception's ``__cause__`` (``raise ... from``), so one
``except StreamInterruptedError`` keeps the partial reply whatever broke it,
and the cause says what did:

- an ``error`` event (``overloaded_error`` mid-stream): the provider's API
  error for it (:meth:`._errors.ErrorKinds.from_data`: an ``OverloadedError``...);
- the connection broke or timed out (``httpx`` transport errors), or the
  answer ended before ``message_stop``: the provider's ``APIConnectionError``
  (``APITimeoutError`` for a timeout), itself caused by the
  ``httpx`` exception when there was one;
- an event that breaks the protocol (data that is not JSON, a delta for a
  block that never started, ``message_stop`` while a block is still open):
  the :class:`~conversation.MalformedReplyError`.

What arrived is kept as :meth:`._accumulate.Accumulator.partial` says: the
blocks so far, a tool call cut inside its input with the JSON text received
as its ``partial_json``, and the ``stop_reason`` once ``message_delta`` gave
it, so that a reply cut at ``max_tokens`` mid-arguments says so (and
``continue_reply`` can act on it).

If no content had arrived, the error's ``conversation`` is the caller's,
unchanged. Errors before the answer began (an error status, a refused
connection: what ``open_response`` raises, after its own retries) propagate
as they are.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator, Iterable, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    aclosing,
    closing,
    contextmanager,
)
from typing import Any, ClassVar, Final, Generic, TypeVar

import httpx

from conversation import Conversation, MalformedReplyError

from .._base import StreamInterruptedError
from .._events import MessageStop, StreamEvent
from .._stream_base import AsyncStreamBase, StreamBase, StreamState
from ._accumulate import Accumulator
from ._errors import ErrorKinds
from ._sse import aiter_sse, iter_sse

__all__ = ["AsyncHTTPStream", "Event", "HTTPStream"]

Event = tuple[str, dict[str, Any]]
"""One server-sent event: its name and its JSON data."""

MID_STREAM_HINT: Final = (
    "It came as an event after the reply had begun, so it was not retried: the "
    "StreamInterruptedError holds what arrived; send its conversation.resumable() to go on."
)

_Context = TypeVar("_Context")  # what ``open_response`` returns: a (sync or async) context manager

_READ_ERRORS = (httpx.RequestError, MalformedReplyError)  # what can break a read of the answer


class _HTTPState(StreamState, Generic[_Context]):
    """What both streams share: the answer, its request id, each event's handling.

    The twins differ only in how they enter and leave the answer's context
    and read its events (``with``/``for`` against ``async with``/``async for``).
    A subclass sets ``errors`` (its provider's), and may override
    ``translate`` / ``atranslate`` to turn its provider's events into the
    Messages API's before they are folded.
    """

    errors: ClassVar[ErrorKinds]

    def __init__(
        self,
        conversation: Conversation,
        open_response: Callable[[], _Context],
        request_id_header: str = "request-id",
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(conversation)
        self._open = open_response
        self._context: _Context | None = None
        self._request_id_header = request_id_header
        self._secrets = tuple(secrets)
        self._response: httpx.Response | None = None
        self._accumulator = Accumulator()

    def _opening(self) -> _Context | None:
        """The answer's context, made (not entered) on the first call only; then None."""
        if self._started:
            return None
        self._started = True
        return self._open()

    def _leaving(self) -> _Context | None:
        """The entered answer's context, to leave once (None if none is entered)."""
        context, self._context = self._context, None
        return context

    @contextmanager
    def _reading(self) -> Iterator[None]:
        """Turn what breaks the read (a transport error, a bad event) into the interruption.

        Once the reply is whole, the rest of the body is read only so that the
        connection can be reused: nothing that goes wrong there changes the reply.
        """
        try:
            yield
        except _READ_ERRORS as exc:
            if self._folded is None:
                interruption = self._broken(exc)
                raise interruption from interruption.__cause__

    @property
    def request_id(self) -> str | None:
        """The answer's request id (quote it to the provider's support); None before it began."""
        response = self._response
        if response is None:
            return None
        value = response.headers.get(self._request_id_header)
        return value if isinstance(value, str) else None

    def _step(self, name: str, data: dict[str, Any]) -> StreamEvent | None:
        """The typed event for one SSE event (None for a ping); folds at ``message_stop``.

        An ``error`` event raises the StreamInterruptedError that carries what arrived.
        After ``message_stop`` the (empty) rest of the body is read, not folded.
        """
        if self._folded is not None:
            return None
        if name == "error":
            raise self._broken(self._api_error(data))
        event = self._accumulator.feed(name, data)
        if type(event) is MessageStop:
            self._finish(event.reply)
        return event

    def _broken(self, exc: BaseException) -> StreamInterruptedError:
        """The StreamInterruptedError for what cut the stream, with ``exc`` (mapped) as cause."""
        cause: BaseException = exc
        if isinstance(exc, httpx.RequestError):
            cause = self._connection_error(exc)
        interruption = self._interruption(self._accumulator, cause)
        interruption.__cause__ = cause  # as ``raise ... from cause``
        return interruption

    def _api_error(self, data: dict[str, Any]) -> Exception:
        """The API error an ``error`` event names (an OverloadedError...)."""
        return self.errors.from_data(data, self.request_id, self._secrets, hint=MID_STREAM_HINT)

    def _connection_error(self, exc: httpx.RequestError) -> Exception:
        """The adapter's error for a connection that broke or timed out mid-stream."""
        timed_out = isinstance(exc, httpx.TimeoutException)
        kind = self.errors.timeout if timed_out else self.errors.connection
        what = "timed out" if timed_out else "broke"
        error = kind(
            f"the connection {what} mid-stream ({type(exc).__name__}: {exc}) "
            f"(request-id: {self.request_id or 'none'})",
            request_id=self.request_id,
        )
        error.__cause__ = exc
        return error

    def _ended_early(self) -> Exception:
        """The adapter's error for an answer whose body ended before ``message_stop``."""
        return self.errors.connection(
            f"the answer ended before message_stop (request-id: {self.request_id or 'none'})",
            request_id=self.request_id,
        )

    def _interruption(
        self, accumulator: Accumulator, cause: BaseException
    ) -> StreamInterruptedError:
        """A StreamInterruptedError carrying what arrived, folded as an interrupted turn.

        The caller raises it ``from cause``.
        """
        self._interrupted = True
        partial = accumulator.partial()
        conversation = self._before
        stop_reason = partial.get("stop_reason") if partial is not None else None
        blocks = 0
        if partial is not None and partial["content"]:
            try:
                conversation = self._before.fold(partial, interrupted=True)
                blocks = len(partial["content"])
            except MalformedReplyError:
                pass  # what arrived cannot be read as a reply: keep the caller's conversation
        kept = (
            f"{blocks} content block{'' if blocks == 1 else 's'} of the reply kept in "
            "error.conversation (its last turn marked interrupted; send "
            "error.conversation.resumable() to continue)"
            if blocks
            else "no content had arrived; error.conversation is the conversation as it was"
        )
        reason = str(cause).rstrip(". ") or type(cause).__name__
        if blocks and type(stop_reason) is str:
            kept += f"; the reply had stopped with stop_reason {stop_reason!r}"
        return StreamInterruptedError(
            f"the stream was cut off before the reply ended: {reason}; {kept}",
            conversation=conversation,
        )


class HTTPStream(_HTTPState[AbstractContextManager[httpx.Response]], StreamBase):
    """One streamed reply (a :class:`~adapters.MessageStream`).

    ``open_response`` is called once, when the stream is entered or first
    iterated: a zero-argument callable returning a context manager that
    yields the open ``httpx.Response`` (status already checked: errors and
    retries before the first byte are its business) and closes it on exit.
    ``request_id_header`` names the header holding the request id for error
    messages; ``secrets`` (the API key) are scrubbed from API error messages.

    ``stream.request_id`` is the answer's request id once it began.
    """

    def translate(self, events: Generator[Event, None, None]) -> Generator[Event, None, None]:
        """The Messages API events of the answer's ``events`` (the same, unless overridden).

        Closing what it returns closes ``events``.
        """
        return events

    def _begin(self) -> None:
        context = self._opening()
        if context is not None:
            self._response = context.__enter__()
            self._context = context

    def _release(self) -> None:
        context = self._leaving()
        if context is not None:
            context.__exit__(None, None, None)

    def _run(self) -> Generator[StreamEvent, None, None]:
        try:
            self._begin()
            if self._response is not None and not self._closed:
                yield from self._read(self._response)
        finally:
            self._release()

    def _read(self, response: httpx.Response) -> Generator[StreamEvent, None, None]:
        with closing(self.translate(iter_sse(response))) as events, self._reading():
            for name, data in events:
                if (event := self._step(name, data)) is not None:
                    yield event
            if self._folded is None:
                raise self._broken(self._ended_early())


class AsyncHTTPStream(_HTTPState[AbstractAsyncContextManager[httpx.Response]], AsyncStreamBase):
    """The async twin of :class:`HTTPStream` (an :class:`~adapters.AsyncMessageStream`).

    ``open_response`` returns an async context manager; ``async with`` /
    ``async for`` / ``aclose()``.
    """

    def atranslate(self, events: AsyncGenerator[Event, None]) -> AsyncGenerator[Event, None]:
        """The async twin of :meth:`HTTPStream.translate`."""
        return events

    async def _begin(self) -> None:
        context = self._opening()
        if context is not None:
            self._response = await context.__aenter__()
            self._context = context

    async def _release(self) -> None:
        context = self._leaving()
        if context is not None:
            await context.__aexit__(None, None, None)

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        try:
            await self._begin()
            if self._response is not None and not self._closed:
                async with aclosing(self._read(self._response)) as reader:
                    async for event in reader:
                        yield event
        finally:
            await self._release()

    async def _read(self, response: httpx.Response) -> AsyncGenerator[StreamEvent, None]:
        async with aclosing(self.atranslate(aiter_sse(response))) as events:
            with self._reading():
                async for name, data in events:
                    if (event := self._step(name, data)) is not None:
                        yield event
                if self._folded is None:
                    raise self._broken(self._ended_early())
