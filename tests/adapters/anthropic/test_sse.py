"""Tests for adapters._http._sse: SSE framing read right however the bytes are chunked."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import StreamInterruptedError
from adapters._http._sse import aiter_sse, iter_sse
from adapters.anthropic import APIConnectionError
from adapters.anthropic._stream import AsyncAnthropicStream
from conversation import Conversation, MalformedReplyError
from tests.adapters.anthropic.streams import CHAT, Body, aover_socket, frames, over_socket
from tests.adapters.fake_api import FakeMessagesAPI, Malformed, make_message, stream_events

SSE_HEADERS = {"content-type": "text/event-stream; charset=utf-8"}


class _Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body arriving as the given byte chunks, sync or async."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


def _response(chunks: list[bytes], headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, headers=headers or SSE_HEADERS, stream=_Chunks(chunks))


def read(chunks: list[bytes], headers: dict[str, str] | None = None) -> list[tuple[str, Any]]:
    return list(iter_sse(_response(chunks, headers)))


async def aread(chunks: list[bytes]) -> list[tuple[str, Any]]:
    return [event async for event in aiter_sse(_response(chunks))]


async def _collect(events: AsyncIterator[tuple[str, Any]], into: list[tuple[str, Any]]) -> None:
    async for event in events:
        into.append(event)


def _split_at(body: bytes, *cuts: int) -> list[bytes]:
    points = [0, *sorted(cuts), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(points)]


# A body with every framing feature: CRLF, CR and LF line ends, a comment, a field
# without the optional space, multi-line data, an event without an ``event:`` field,
# an event without data (skipped), an unknown field and ``id``/``retry``, and
# multi-byte UTF-8 (so some cuts fall inside a character).
TRICKY = (
    b": a comment, ignored\r\n"
    b"event: message_start\r\n"
    b'data: {"type":"message_start","text":"caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d"}\r\n'
    b"\r\n"
    b"event:ping\r"
    b'data:{"type":"ping"}\r'
    b"\r"
    b"event: content_block_delta\n"
    b'data: {"type":"content_block_delta",\n'
    b'data: "text":"two\\nlines"}\n'
    b"id: 7\n"
    b"retry: 1000\n"
    b"unknown: field\n"
    b"\n"
    b'data: {"type":"message_stop"}\n'
    b"\n"
    b"event: no_data\n"
    b"\n"
    b": keep-alive\n\n"
)
TRICKY_EVENTS = [
    ("message_start", {"type": "message_start", "text": "café “q”"}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "text": "two\nlines"}),
    ("message_stop", {"type": "message_stop"}),
]


class TestFraming:
    def test_every_feature_in_one_chunk(self) -> None:
        """Comments, CRLF/CR/LF, multi-line data, no event name, no data: all read right."""
        assert read([TRICKY]) == TRICKY_EVENTS

    def test_split_at_every_byte_boundary(self) -> None:
        """However one cut splits the body (inside a CRLF, a character, a field name)."""
        for cut in range(len(TRICKY) + 1):
            assert read(_split_at(TRICKY, cut)) == TRICKY_EVENTS, cut

    def test_split_at_every_pair_of_boundaries(self) -> None:
        """Two cuts anywhere (a CRLF split across three chunks, empty chunks)."""
        for first in range(0, len(TRICKY) + 1, 3):
            for second in range(first, len(TRICKY) + 1, 7):
                assert read(_split_at(TRICKY, first, second)) == TRICKY_EVENTS, (first, second)

    def test_one_byte_chunks(self) -> None:
        """A body that arrives one byte at a time."""
        assert read([TRICKY[i : i + 1] for i in range(len(TRICKY))]) == TRICKY_EVENTS

    @pytest.mark.anyio
    async def test_async_split_at_every_byte_boundary(self) -> None:
        """The async reader agrees with the sync one, cut anywhere."""
        for cut in range(0, len(TRICKY) + 1, 5):
            assert await aread(_split_at(TRICKY, cut)) == TRICKY_EVENTS, cut
        assert await aread([TRICKY[i : i + 1] for i in range(len(TRICKY))]) == TRICKY_EVENTS

    def test_multi_line_data_is_joined_with_newlines(self) -> None:
        """Each ``data:`` line is one line of the event's data."""
        body = b'event: e\ndata: {\ndata:  "a"\ndata: :\ndata: [1,\ndata: 2]}\n\n'
        assert read([body]) == [("e", {"a": [1, 2]})]

    # Regression: a body that ended cleanly with its last event not followed by a blank line
    # (some of the official SDKs' recorded replies end ``data: {"type":"message_stop"}``)
    # lost that event, as the SSE standard says; the SDK reads it, and so do we now.
    @pytest.mark.parametrize("end", [b"\n\n", b"\n", b"\r\n", b"\r", b""])
    def test_a_last_event_without_its_blank_line_ends_with_the_body(self, end: bytes) -> None:
        """A clean end of the body ends the last line and the event in progress."""
        body = b'event: a\ndata: {"n":1}\n\nevent: b\ndata: {"n":2}' + end
        expected = [("a", {"n": 1}), ("b", {"n": 2})]
        assert read([body]) == expected
        for cut in range(len(body) + 1):
            assert read(_split_at(body, cut)) == expected, cut

    @pytest.mark.anyio
    async def test_async_last_event_without_its_blank_line(self) -> None:
        body = b'event: a\ndata: {"n":1}\n\ndata: {"type":"message_stop"}'
        expected = [("a", {"n": 1}), ("message_stop", {"type": "message_stop"})]
        assert await aread([body]) == expected
        assert await aread([body[i : i + 1] for i in range(len(body))]) == expected

    @pytest.mark.parametrize(
        "tail", [b"event: b\n", b"event: b", b": comment", b"id: 1\nretry: 5", b"data:"]
    )
    def test_a_last_event_without_data_dispatches_nothing(self, tail: bytes) -> None:
        assert read([b'event: a\ndata: {"n":1}\n\n' + tail]) == [("a", {"n": 1})]

    def test_a_byte_order_mark_at_the_start_is_skipped(self) -> None:
        """A UTF-8 BOM opening the body is not part of the first field name."""
        body = b"\xef\xbb\xbf" + TRICKY
        for cut in range(5):
            assert read(_split_at(body, cut)) == TRICKY_EVENTS, cut

    def test_a_line_without_a_colon_is_a_field_with_an_empty_value(self) -> None:
        """``data`` alone is an empty data line; ``event`` alone an empty (default) name."""
        body = b'event: x\nevent\ndata: {"type":"ping"}\ndata\n\n'
        assert read([body]) == [("ping", {"type": "ping"})]

    def test_unnamed_event_takes_its_name_from_the_json_type(self) -> None:
        """Without ``event:`` (the SSE default name "message"), the data's ``type`` names it."""
        assert read([b'data: {"type":"ping"}\n\n']) == [("ping", {"type": "ping"})]
        assert read([b'data: {"x":1}\n\n']) == [("message", {"x": 1})]

    def test_field_value_keeps_spaces_after_the_first(self) -> None:
        """Only one space after the colon belongs to the framing."""
        assert read([b'event:  e\ndata:   {"a": " b "}\n\n']) == [(" e", {"a": " b "})]

    def test_empty_body(self) -> None:
        assert read([]) == []
        assert read([b""]) == []


class TestErrors:
    def test_data_that_is_not_json(self) -> None:
        """A clear MalformedReplyError naming the event, not an orjson error."""
        with pytest.raises(MalformedReplyError, match=r"'content_block_delta' event is not JSON"):
            read([b'event: content_block_delta\ndata: {"type": "content_bl\n\n'])

    @pytest.mark.parametrize("data", [b"[1, 2]", b'"text"', b"3", b"null"])
    def test_data_that_is_not_an_object(self, data: bytes) -> None:
        with pytest.raises(MalformedReplyError, match="must be a JSON object"):
            read([b"event: e\ndata: " + data + b"\n\n"])

    def test_events_before_bad_data_are_yielded(self) -> None:
        """The reader is lazy: what came before a bad event has been handed on."""
        events = iter_sse(_response([b"event: a\ndata: {}\n\nevent: b\ndata: {\n\n"]))
        assert next(events) == ("a", {})
        with pytest.raises(MalformedReplyError):
            next(events)

    @pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
    def test_not_an_event_stream(self, content_type: str) -> None:
        """A 200 that is not text/event-stream cannot be read as one."""
        with pytest.raises(MalformedReplyError, match="text/event-stream"):
            read([b'{"type": "message"}'], {"content-type": content_type})

    def test_transport_errors_propagate(self) -> None:
        """A broken connection is not the reader's to interpret: it propagates unchanged."""

        class Broken(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield b'event: a\ndata: {"n": 1}\n\nevent: b\ndata: {"n"'
                raise httpx.RemoteProtocolError("peer closed connection")

        events = iter_sse(httpx.Response(200, headers=SSE_HEADERS, stream=Broken()))
        assert next(events) == ("a", {"n": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            next(events)

    @pytest.mark.parametrize(
        "error",
        [
            httpx.RemoteProtocolError("incomplete chunked read"),
            httpx.ReadError("connection reset by peer"),
            httpx.ReadTimeout("timed out"),
        ],
    )
    def test_a_transport_error_drops_the_event_in_progress(self, error: Exception) -> None:
        """Only a clean end dispatches a pending event: one cut by the transport is not read,
        even when what arrived of it is whole JSON."""
        chunks = [b'event: a\ndata: {"n": 1}\n\nevent: message_stop\n', b'data: {"n": 2}\n']
        response = httpx.Response(200, headers=SSE_HEADERS, stream=Body(chunks, error))
        seen: list[tuple[str, Any]] = []
        with pytest.raises(type(error)):
            seen.extend(iter_sse(response))
        assert seen == [("a", {"n": 1})]

    @pytest.mark.anyio
    async def test_async_transport_error_drops_the_event_in_progress(self) -> None:
        chunks = [b'event: a\ndata: {"n": 1}\n\ndata: {"type":"message_stop"}']
        error = httpx.RemoteProtocolError("incomplete chunked read")
        response = httpx.Response(200, headers=SSE_HEADERS, stream=Body(chunks, error))
        seen: list[tuple[str, Any]] = []
        with pytest.raises(httpx.RemoteProtocolError):
            await _collect(aiter_sse(response), seen)
        assert seen == [("a", {"n": 1})]

    @pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
    def test_a_last_event_that_is_not_json_at_the_end(self, sync: bool) -> None:
        """The event dispatched by the end of the body is checked as any other."""
        chunks = [b'event: a\ndata: {}\n\nevent: message_stop\ndata: {"type":"message_st']
        with pytest.raises(MalformedReplyError, match="'message_stop' event is not JSON"):
            read(chunks) if sync else anyio.run(aread, chunks)

    @pytest.mark.parametrize(
        "body",
        [b'data: {"t": "\xff"}\n\n', b": \xc3\x28\n", b'data: {"t": "\xe2\x80'],
        ids=["invalid-byte", "bad-sequence-in-a-comment", "cut-character-at-the-end"],
    )
    def test_a_body_that_is_not_utf8(self, body: bytes) -> None:
        """An event stream is UTF-8: other bytes are a MalformedReplyError, not a bare
        UnicodeDecodeError (nor a silent U+FFFD in the reply)."""
        with pytest.raises(MalformedReplyError, match="not UTF-8"):
            read([body])
        with pytest.raises(MalformedReplyError, match="not UTF-8"):
            anyio.run(aread, [body])


# --- over a real socket: a clean end, and a body the transport cuts -------------------------


def _reply_body() -> tuple[dict[str, Any], bytes]:
    """A reply and its stream, the final ``message_stop`` without the blank line after it."""
    message = make_message("Paris.")
    body = b"".join(frames(stream_events(message)))
    assert body.endswith(b"\n\n")
    return message, body[:-2]


def _served(body: bytes, *, cut: bool) -> Malformed:
    """``body`` served whole, or under a Content-Length 10 bytes longer (the server closes
    the connection then: httpx reports the incomplete body, as for a dropped connection)."""
    headers = {"content-length": str(len(body) + 10)} if cut else {}
    return Malformed(body=body, content_type=SSE_HEADERS["content-type"], headers=headers)


_CLOSE = {"connection": "close"}  # the fake closes the connection after its answer


class TestEndOfBodyOverTheSocket:
    @pytest.mark.parametrize("cut", [False, True], ids=["clean-end", "cut-by-transport"])
    def test_sync(self, fake_api: FakeMessagesAPI, cut: bool) -> None:
        message, body = _reply_body()
        fake_api.queue(_served(body, cut=cut))
        with httpx.Client(timeout=5.0, headers=_CLOSE) as client:
            stream = over_socket(fake_api, client)
            if not cut:
                with stream:
                    list(stream)
                assert stream.conversation == CHAT.fold(message)
                return
            with pytest.raises(StreamInterruptedError) as info, stream:
                list(stream)
        assert isinstance(info.value.__cause__, APIConnectionError)
        _check_interrupted(info.value.conversation, message)

    @pytest.mark.anyio
    @pytest.mark.parametrize("cut", [False, True], ids=["clean-end", "cut-by-transport"])
    async def test_async(self, fake_api: FakeMessagesAPI, cut: bool) -> None:
        message, body = _reply_body()
        fake_api.queue(_served(body, cut=cut))
        async with httpx.AsyncClient(timeout=5.0, headers=_CLOSE) as client:
            stream = aover_socket(fake_api, client)
            if not cut:
                await _drain(stream)
                assert stream.conversation == CHAT.fold(message)
                return
            with pytest.raises(StreamInterruptedError) as info:
                await _drain(stream)
        assert isinstance(info.value.__cause__, APIConnectionError)
        _check_interrupted(info.value.conversation, message)


async def _drain(stream: AsyncAnthropicStream) -> None:
    async with stream:
        async for _ in stream:
            pass


def _check_interrupted(conversation: Conversation, message: dict[str, Any]) -> None:
    """The reply's text and stop reason arrived, but the turn is marked interrupted."""
    last = conversation.last
    assert last is not None
    assert last.provenance is not None
    assert last.provenance.interrupted
    assert last.provenance.stop_reason == message["stop_reason"]
    assert conversation != CHAT.fold(message)


# --- property: any events, any line ends, any chunking ------------------------------------

_names = st.sampled_from(
    ["message_start", "content_block_delta", "ping", "error", "x-new-event", "a:b"]
)
_json_text = st.text(max_size=12)  # anything, newlines and CRs included
# Integers within 64 bits: orjson reads larger ones as floats (as the core's fold does).
_data = st.dictionaries(
    st.sampled_from(["type", "text", "index"]),
    _json_text | st.integers(min_value=-(2**63), max_value=2**64 - 1),
)


@st.composite
def _streams(draw: st.DrawFn) -> tuple[list[bytes], list[tuple[str, Any]]]:
    """A random event stream: its bytes cut into chunks, and the events it holds.

    Each line ends in ``\n``, ``\r\n`` or ``\r`` at random; comments, ``id``/``retry`` and
    unknown fields, events without data, a byte order mark may come in; the body may end
    with the last event's blank line, with only its line end, or right after its data.
    """
    events = draw(st.lists(st.tuples(_names, _data), max_size=6))
    out = b"\xef\xbb\xbf" if draw(st.booleans()) else b""

    def eol() -> bytes:
        return draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))

    for name, data in events:
        extra = draw(st.sampled_from([b"", b": comment", b"id: 7", b"retry: 10", b"x-new: 1"]))
        if extra:
            out += extra + eol()
        if draw(st.booleans()):
            out += b"event: " + name.encode() + eol()
        else:  # the name on a line without the optional space
            out += b"event:" + name.encode() + eol()
        # Pretty-printed JSON spread over several data lines, or compact on one.
        text = json.dumps(data, indent=draw(st.sampled_from([None, 1])), ensure_ascii=False)
        out += eol().join(b"data: " + line.encode() for line in text.split("\n"))
        end = eol()  # (the same twice: "\r" then "\n" would be one CRLF, not a blank line)
        out += end + end
        if draw(st.booleans()):
            end = eol()
            out += b"event: no_data" + end + end
    if events:
        # A clean end of the body ends the last event, with its blank line or without.
        last_data_end = out.rfind(b"}") + 1
        out = out[: draw(st.sampled_from([len(out), last_data_end, last_data_end + 1]))]
    cuts = draw(st.lists(st.integers(0, len(out)), max_size=6))
    return _split_at(out, *cuts), [(name, data) for name, data in events]


@given(_streams())
def test_any_stream_any_chunking(stream: tuple[list[bytes], list[tuple[str, Any]]]) -> None:
    """Whatever the events, line ends, chunk boundaries and end, the events come back exactly."""
    chunks, events = stream
    assert read(chunks) == events


@given(_streams())
@settings(max_examples=50)
def test_async_any_stream_any_chunking(
    stream: tuple[list[bytes], list[tuple[str, Any]]],
) -> None:
    """The async reader reads the same."""
    chunks, events = stream
    assert anyio.run(aread, chunks) == events


@given(_streams(), st.integers(0, 2**16))
@settings(max_examples=50)
def test_a_transport_error_anywhere_yields_only_whole_events(
    stream: tuple[list[bytes], list[tuple[str, Any]]], at: int
) -> None:
    """A body cut by a transport error gives a prefix of its events, then the error."""
    chunks, events = stream
    body = b"".join(chunks)
    cut = body[: at % (len(body) + 1)]
    error = httpx.ReadError("connection reset by peer")
    response = httpx.Response(200, headers=SSE_HEADERS, stream=Body([cut], error))
    seen: list[tuple[str, Any]] = []
    with pytest.raises(httpx.ReadError):
        seen.extend(iter_sse(response))
    assert seen == events[: len(seen)]
