"""Streamed replies for the stream tests: SSE frames, a MockTransport body, a socket opener.

A stream is built directly (no adapter) from an opener: ``Mock`` serves one
body over ``httpx.MockTransport`` and sees it closed, :func:`over_socket` and
:func:`aover_socket` open it from the loopback fake Messages API.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from functools import partial
from typing import Any

import httpx

from adapters.anthropic._stream import AnthropicStream, AsyncAnthropicStream
from conversation import Conversation
from tests.adapters.fake_api import FakeMessagesAPI, stream_events

__all__ = [
    "BODY",
    "CHAT",
    "SSE_HEADERS",
    "URL",
    "Body",
    "Events",
    "Mock",
    "aover_socket",
    "block_events",
    "frame",
    "frames",
    "mock",
    "over_socket",
]

Events = list[tuple[str, dict[str, Any]]]

CHAT = Conversation(system="Be brief.").user("What is the capital of France?")
URL = "http://api.test/v1/messages"
SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8", "request-id": "req_mock_1"}
BODY = {"model": "claude-sonnet-4-5", "max_tokens": 64, "stream": True}


def block_events(index: int, start: dict[str, Any], deltas: list[Any]) -> Events:
    """The SSE events of content block ``index``: its start, each delta, its stop."""
    return [
        (
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": start},
        ),
        *(
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def frame(name: str, data: dict[str, Any]) -> bytes:
    """One SSE event, as the API frames it."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def frames(events: Events) -> list[bytes]:
    return [frame(name, data) for name, data in events]


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A streamed response body: ``chunks``, then ``fail`` raised (a dropped connection)."""

    def __init__(self, chunks: list[bytes], fail: Exception | None = None) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail is not None:
            raise self.fail

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail is not None:
            raise self.fail

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


class Mock:
    """A MockTransport serving one streamed body; counts requests, sees the body closed."""

    def __init__(
        self,
        chunks: list[bytes],
        fail: Exception | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.body = Body(chunks, fail)
        self.headers = SSE_HEADERS if headers is None else headers
        self.requests: list[httpx.Request] = []

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, headers=self.headers, stream=self.body)

    def stream(self, conversation: Conversation = CHAT) -> AnthropicStream:
        client = httpx.Client(transport=httpx.MockTransport(self._handle))

        def open_response() -> AbstractContextManager[httpx.Response]:
            return _closing_client(client, client.stream("POST", URL, json=BODY))

        return AnthropicStream(conversation, open_response)

    def astream(self, conversation: Conversation = CHAT) -> AsyncAnthropicStream:
        client = httpx.AsyncClient(transport=httpx.MockTransport(self._handle))

        def open_response() -> AbstractAsyncContextManager[httpx.Response]:
            return _aclosing_client(client, client.stream("POST", URL, json=BODY))

        return AsyncAnthropicStream(conversation, open_response)


class _closing_client(AbstractContextManager[httpx.Response]):
    """The response context, and the client closed with it (one client per stream here)."""

    def __init__(self, client: httpx.Client, inner: AbstractContextManager[httpx.Response]) -> None:
        self.client, self.inner = client, inner

    def __enter__(self) -> httpx.Response:
        return self.inner.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self.inner.__exit__(*exc)
        finally:
            self.client.close()


class _aclosing_client(AbstractAsyncContextManager[httpx.Response]):
    def __init__(
        self, client: httpx.AsyncClient, inner: AbstractAsyncContextManager[httpx.Response]
    ) -> None:
        self.client, self.inner = client, inner

    async def __aenter__(self) -> httpx.Response:
        return await self.inner.__aenter__()

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.inner.__aexit__(*exc)
        finally:
            await self.client.aclose()


def mock(message: dict[str, Any], *, text_chunk: int = 5, **kwargs: Any) -> Mock:
    return Mock(frames(stream_events(message, text_chunk=text_chunk)), **kwargs)


def _url(api: FakeMessagesAPI) -> str:
    return api.base_url + "/v1/messages"


def over_socket(
    api: FakeMessagesAPI, client: httpx.Client, conversation: Conversation = CHAT
) -> AnthropicStream:
    return AnthropicStream(conversation, partial(client.stream, "POST", _url(api), json=BODY))


def aover_socket(
    api: FakeMessagesAPI, client: httpx.AsyncClient, conversation: Conversation = CHAT
) -> AsyncAnthropicStream:
    return AsyncAnthropicStream(conversation, partial(client.stream, "POST", _url(api), json=BODY))
