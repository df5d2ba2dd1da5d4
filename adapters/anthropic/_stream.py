"""A streamed Messages API reply: typed events as they arrive, the folded Conversation at the end.

:class:`AnthropicStream` and :class:`AsyncAnthropicStream` implement the
:class:`~adapters.MessageStream` protocols over an open ``text/event-stream``
answer. They read it with :mod:`._sse`, fold it with :class:`._accumulate.Accumulator`,
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

- an ``error`` event (``overloaded_error`` mid-stream): the API error of
  :func:`._errors.error_from_event` (an :class:`._errors.OverloadedError`...);
- the connection broke or timed out (``httpx`` transport errors), or the
  answer ended before ``message_stop``: an :class:`._errors.APIConnectionError`
  (:class:`._errors.APITimeoutError` for a timeout), itself caused by the
  ``httpx`` exception when there was one;
- an event that breaks the protocol (data that is not JSON, a delta for a
  block that never started): the :class:`~conversation.MalformedReplyError`.

If no content had arrived, the error's ``conversation`` is the caller's,
unchanged. Errors before the answer began (an error status, a refused
connection: what ``open_response`` raises, after its own retries) propagate
as they are.
"""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
)
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from types import TracebackType
from typing import Any, Self

import httpx

from conversation import Conversation, MalformedReplyError

from .._base import StreamInterruptedError, StreamNotConsumedError
from .._events import MessageStop, StreamEvent, TextDelta
from ._accumulate import Accumulator
from ._errors import APIConnectionError, APITimeoutError, error_from_event
from ._sse import aiter_sse, iter_sse

__all__ = ["AnthropicStream", "AsyncAnthropicStream"]

OpenResponse = Callable[[], AbstractContextManager[httpx.Response]]
"""Opens the answer: a context manager yielding a 200 streaming response, closing it on exit."""

AsyncOpenResponse = Callable[[], AbstractAsyncContextManager[httpx.Response]]
"""The async twin of :data:`OpenResponse`."""


class _StreamState:
    """What the sync and async streams share: the conversation, the folded result, the errors."""

    def __init__(
        self,
        conversation: Conversation,
        request_id_header: str,
        secrets: Iterable[str],
    ) -> None:
        self._before = conversation
        self._request_id_header = request_id_header
        self._secrets = tuple(secrets)
        self._started = False
        self._closed = False
        self._interrupted = False
        self._response: httpx.Response | None = None
        self._folded: Conversation | None = None

    @property
    def conversation(self) -> Conversation:
        """The conversation with the reply folded in, once ``message_stop`` was yielded.

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

    @property
    def request_id(self) -> str | None:
        """The answer's ``request-id`` (quote it to Anthropic support); None before it began."""
        response = self._response
        if response is None:
            return None
        value = response.headers.get(self._request_id_header)
        return value if isinstance(value, str) else None

    def _on_stop(self, event: MessageStop) -> None:
        self._folded = self._before.fold(event.reply)

    def _api_error(self, data: dict[str, Any]) -> Exception:
        """The API error an ``error`` event names (an OverloadedError...)."""
        return error_from_event(data, self.request_id, secrets=self._secrets)

    def _connection_error(self, exc: httpx.RequestError) -> Exception:
        """The adapter's error for a connection that broke or timed out mid-stream."""
        kind = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        what = "timed out" if kind is APITimeoutError else "broke"
        error = kind(
            f"the connection {what} mid-stream ({type(exc).__name__}: {exc}) "
            f"(request-id: {self.request_id or 'none'})",
            request_id=self.request_id,
        )
        error.__cause__ = exc
        return error

    def _ended_early(self) -> Exception:
        """The adapter's error for an answer whose body ended before ``message_stop``."""
        return APIConnectionError(
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
        return StreamInterruptedError(
            f"the stream was cut off before the reply ended: {reason}; {kept}",
            conversation=conversation,
        )

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


class AnthropicStream(_StreamState):
    """One streamed reply (a :class:`~adapters.MessageStream`).

    ``open_response`` is called once, when the stream is entered or first
    iterated: a zero-argument callable returning a context manager that
    yields the open ``httpx.Response`` (status already checked: errors and
    retries before the first byte are its business) and closes it on exit.
    ``request_id_header`` names the header holding the request id for error
    messages; ``secrets`` (the API key) are scrubbed from API error messages.

    ``stream.request_id`` is the answer's request id once it began.
    """

    def __init__(
        self,
        conversation: Conversation,
        open_response: OpenResponse,
        request_id_header: str = "request-id",
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(conversation, request_id_header, secrets)
        self._open = open_response
        self._context: AbstractContextManager[httpx.Response] | None = None
        self._iterator: Generator[StreamEvent, None, None] | None = None

    def _begin(self) -> httpx.Response | None:
        if not self._started:
            self._started = True
            context = self._open()
            self._response = context.__enter__()
            self._context = context
        return self._response

    def _release(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            context.__exit__(None, None, None)

    def _run(self) -> Generator[StreamEvent, None, None]:
        try:
            response = self._begin()
            if response is not None and not self._closed:
                yield from self._read(response)
        finally:
            self._release()

    def _read(self, response: httpx.Response) -> Generator[StreamEvent, None, None]:
        accumulator = Accumulator()
        feed = accumulator.feed
        events = iter_sse(response)
        try:
            for name, data in events:
                if name == "error":
                    cause = self._api_error(data)
                    raise self._interruption(accumulator, cause) from cause
                event = feed(name, data)
                if event is not None:
                    if type(event) is MessageStop:
                        self._on_stop(event)
                        yield event
                        break
                    yield event
            else:
                cause = self._ended_early()
                raise self._interruption(accumulator, cause) from cause
            # The reply is whole; read the (empty) rest of the body, so that the
            # connection can be reused. Nothing that goes wrong there changes the reply.
            try:
                for _ in events:
                    pass
            except (httpx.RequestError, MalformedReplyError):
                pass
        except httpx.RequestError as exc:
            cause = self._connection_error(exc)
            raise self._interruption(accumulator, cause) from cause
        except MalformedReplyError as exc:
            raise self._interruption(accumulator, exc) from exc
        finally:
            events.close()

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
        """Stop reading and release the connection; if not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            self._iterator.close()
        self._release()

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


class AsyncAnthropicStream(_StreamState):
    """The async twin of :class:`AnthropicStream` (an :class:`~adapters.AsyncMessageStream`).

    ``open_response`` returns an async context manager; ``async with`` /
    ``async for`` / ``aclose()``.
    """

    def __init__(
        self,
        conversation: Conversation,
        open_response: AsyncOpenResponse,
        request_id_header: str = "request-id",
        *,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(conversation, request_id_header, secrets)
        self._open = open_response
        self._context: AbstractAsyncContextManager[httpx.Response] | None = None
        self._iterator: AsyncGenerator[StreamEvent, None] | None = None

    async def _begin(self) -> httpx.Response | None:
        if not self._started:
            self._started = True
            context = self._open()
            self._response = await context.__aenter__()
            self._context = context
        return self._response

    async def _release(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            await context.__aexit__(None, None, None)

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        try:
            response = await self._begin()
            if response is not None and not self._closed:
                reader = self._read(response)
                try:
                    async for event in reader:
                        yield event
                finally:
                    await reader.aclose()
        finally:
            await self._release()

    async def _read(self, response: httpx.Response) -> AsyncGenerator[StreamEvent, None]:
        accumulator = Accumulator()
        feed = accumulator.feed
        events = aiter_sse(response)
        try:
            try:
                async for name, data in events:
                    if name == "error":
                        cause = self._api_error(data)
                        raise self._interruption(accumulator, cause) from cause
                    event = feed(name, data)
                    if event is not None:
                        if type(event) is MessageStop:
                            self._on_stop(event)
                            yield event
                            break
                        yield event
                else:
                    cause = self._ended_early()
                    raise self._interruption(accumulator, cause) from cause
                # The reply is whole: read the (empty) rest of the body, as the sync stream does.
                try:
                    async for _ in events:
                        pass
                except (httpx.RequestError, MalformedReplyError):
                    pass
            except httpx.RequestError as exc:
                cause = self._connection_error(exc)
                raise self._interruption(accumulator, cause) from cause
            except MalformedReplyError as exc:
                raise self._interruption(accumulator, exc) from exc
        finally:
            await events.aclose()

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
        """Stop reading and release the connection; if not started, no request is made."""
        self._started = self._closed = True
        if self._iterator is not None:
            await self._iterator.aclose()
        await self._release()

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
