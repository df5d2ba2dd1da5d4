"""Tests for adapters.anthropic._sse: SSE framing read right however the bytes are chunked."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.anthropic._sse import aiter_sse, iter_sse
from conversation import MalformedReplyError

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

    def test_a_cut_off_last_event_is_not_dispatched(self) -> None:
        """An event without its blank line at the end of the body is dropped, as the spec says."""
        body = b'event: a\ndata: {"n":1}\n\nevent: b\ndata: {"n":2}\n'
        assert read([body]) == [("a", {"n": 1})]
        assert read([body[:-8]]) == [("a", {"n": 1})]

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
    """A random event stream: its bytes cut into chunks, and the events it holds."""
    events = draw(st.lists(st.tuples(_names, _data), max_size=6))
    out = b""
    for name, data in events:
        eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
        if draw(st.booleans()):
            out += b": comment" + eol
        out += b"event: " + name.encode() + eol
        # Pretty-printed JSON spread over several data lines, or compact on one.
        text = json.dumps(data, indent=draw(st.sampled_from([None, 1])), ensure_ascii=False)
        for line in text.split("\n"):
            out += b"data: " + line.encode() + eol
        out += eol
    cuts = draw(st.lists(st.integers(0, len(out)), max_size=6))
    return _split_at(out, *cuts), [(name, data) for name, data in events]


@given(_streams())
def test_any_stream_any_chunking(stream: tuple[list[bytes], list[tuple[str, Any]]]) -> None:
    """Whatever the events, line ends and chunk boundaries, the events come back exactly."""
    chunks, events = stream
    assert read(chunks) == events
