"""The SSE path given broken streams: only the library's errors come out, and never a hang.

Streams of real replies (``stream_events``) are broken at random: bytes cut, dropped,
repeated or replaced, junk lines and events put in, JSON data spoiled, the
``content-type`` given another charset. Each is read through the adapter's own stream
(``AnthropicStream``, the same reader and accumulator ``send``/``stream`` use) over
``httpx.MockTransport`` for the many examples, sync and async, and over a real socket
against the loopback fake for a few. Whatever is read to the end must round-trip like any
other conversation (:func:`tests.checks.round_trip`).
"""

from __future__ import annotations

import itertools
from typing import Any

import anyio
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import StreamInterruptedError
from adapters._http._sse import aiter_sse, iter_sse
from conversation import ConversationError
from tests.adapters.anthropic.streams import CHAT, Mock, frames, over_socket
from tests.adapters.fake_api import FakeMessagesAPI, Malformed, make_message, stream_events
from tests.checks import round_trip
from tests.limits import time_limit
from tests.strategies import fake_streamable_replies

pytestmark = pytest.mark.timeout(120)

SSE = "text/event-stream"
CHARSETS = ["utf-8", "UTF-8", "utf-16", "utf-16-le", "latin-1", "ascii", "bogus-x", "rot13", ""]


def _content_type(charset: str) -> str:
    return f"{SSE}; charset={charset}" if charset else SSE


# --- charsets -----------------------------------------------------------------------------------

_BODY = (
    b"event: message_start\n"
    b'data: {"type":"message_start","t":"caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d"}\n\n'
)


def _response(body: bytes, charset: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": _content_type(charset)}, content=body)


class TestCharset:
    # Regression: "text/event-stream; charset=utf-16" (or an unknown charset) made the SSE
    # reader decode with that codec: a bare UnicodeError or LookupError, sync and async.
    # An event stream is always UTF-8 (the SSE standard), whatever the header says.

    @pytest.mark.parametrize("charset", CHARSETS)
    def test_read_as_utf8_whatever_the_charset(self, charset: str) -> None:
        events = list(iter_sse(_response(_BODY, charset)))
        assert events == [("message_start", {"type": "message_start", "t": "café “q”"})]

    @pytest.mark.anyio
    @pytest.mark.parametrize("charset", CHARSETS)
    async def test_async_read_as_utf8_whatever_the_charset(self, charset: str) -> None:
        events = [event async for event in aiter_sse(_response(_BODY, charset))]
        assert events == [("message_start", {"type": "message_start", "t": "café “q”"})]

    @pytest.mark.parametrize("charset", ["utf-16", "bogus-x"])
    def test_a_whole_reply_over_the_socket(self, fake_api: FakeMessagesAPI, charset: str) -> None:
        """A reply streamed under a wrong charset is read whole over a real socket."""
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [{"type": "text", "text": "Paris, “la ville lumière”."}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 5},
        }
        body = b"".join(frames(stream_events(message)))
        fake_api.queue(Malformed(body=body, content_type=_content_type(charset)))
        with httpx.Client(timeout=5.0) as client, over_socket(fake_api, client) as stream:
            list(stream)
        assert stream.conversation == CHAT.fold(message)


_DEEP = b"[" * 1000 + b"]" * 1000
_DEEP_EVENTS = {
    "delta-index": b'{"type":"content_block_delta","index":%s,"delta":{"type":"text_delta"}}',
    "stop-index": b'{"type":"content_block_stop","index":%s}',
    "delta": b'{"type":"content_block_delta","index":0,"delta":%s}',
    "start-message": b'{"type":"message_start","message":%s}',
    "start-block": b'{"type":"content_block_start","index":0,"content_block":%s}',
}


class TestDeepValuesInEvents:
    # Regression (found by this module's fuzzer): the accumulator's messages repr()'d the
    # offending value whole, so an event whose index or delta was a list nested 1,000 deep (JSON
    # the parser reads) raised a bare RecursionError while the message was being built.

    @pytest.mark.parametrize("event", _DEEP_EVENTS.values(), ids=_DEEP_EVENTS.keys())
    def test_a_deep_value_ends_in_our_error(self, event: bytes) -> None:
        message = make_message("hello")
        chunks = frames(stream_events(message))
        name = orjson.loads(event % b"0")["type"]
        chunks.insert(2, b"event: %s\ndata: %s\n\n" % (str(name).encode(), event % _DEEP))
        with pytest.raises(ConversationError) as info, Mock(chunks).stream() as stream:
            list(stream)
        assert len(str(info.value)) < 1000


# --- broken streams -----------------------------------------------------------------------------

_JUNK_LINES = [
    *(b"event: %s\ndata: %s\n\n" % (b"x", event % _DEEP) for event in _DEEP_EVENTS.values()),
    b'event: x\ndata: {"type":%s,"index":0}\n\n' % _DEEP,
    b"event: \n",
    b"data: \n\n",
    b"data: {\n\n",
    b"data: null\n\n",
    b'data: {"type": 5}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":9}\n\n',
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{}}\n\n',
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0}\n\n',
    b'event: message_delta\ndata: {"type":"message_delta","delta":[],"usage":7}\n\n',
    b'event: message_start\ndata: {"type":"message_start","message":{"content":5}}\n\n',
    b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error"}}\n\n',
    b"event: message_stop\ndata: {}\n\n",
    b"\xff\xfe\x00garbage\r\n\r\n",
    b": comment\r",
    b"retry: x\n",
]


@st.composite
def broken_streams(draw: st.DrawFn) -> tuple[list[bytes], str]:
    """The frames of a real reply's stream, broken in a few places, and a content-type."""
    message = draw(fake_streamable_replies())
    chunks = frames(stream_events(message, text_chunk=draw(st.integers(1, 12))))
    for _ in range(draw(st.integers(0, 3))):
        how = draw(
            st.sampled_from(["cut", "drop", "repeat", "junk", "bytes", "spoil", "swap", "end"])
        )
        at = draw(st.integers(0, max(len(chunks) - 1, 0)))
        if not chunks:
            chunks = [draw(st.binary(max_size=20))]
        elif how == "cut":
            chunk = chunks[at]
            chunks[at] = chunk[: draw(st.integers(0, len(chunk)))]
        elif how == "drop":
            del chunks[at]
        elif how == "repeat":
            chunks.insert(at, chunks[at])
        elif how == "junk":
            chunks.insert(at, draw(st.sampled_from(_JUNK_LINES)))
        elif how == "bytes":
            chunks.insert(at, draw(st.binary(max_size=16)))
        elif how == "end":  # the last line ends (or the last event's blank line) missing
            chunks[-1] = chunks[-1][: len(chunks[-1]) - draw(st.integers(1, 2))]
        elif how == "spoil":
            chunk = chunks[at]
            where = draw(st.integers(0, len(chunk)))
            chunks[at] = chunk[:where] + draw(st.binary(min_size=1, max_size=3)) + chunk[where:]
        else:
            other = draw(st.integers(0, len(chunks) - 1))
            chunks[at], chunks[other] = chunks[other], chunks[at]
    charset = draw(st.sampled_from(["utf-8"] * 6 + CHARSETS))
    return chunks, _content_type(charset)


def _expect_only_our_errors(read: Any) -> None:
    """Run ``read`` (which consumes a stream and returns it); only a ConversationError may
    come out, and a stream read to its end must give a conversation that round-trips."""
    with time_limit():
        try:
            stream = read()
        except ConversationError:
            return
        round_trip(stream.conversation)


class TestBrokenStreams:
    @given(broken_streams())
    @settings(max_examples=150)
    def test_sync(self, broken: tuple[list[bytes], str]) -> None:
        chunks, content_type = broken

        def read() -> Any:
            with Mock(chunks, headers={"content-type": content_type}).stream() as stream:
                list(stream)
            return stream

        _expect_only_our_errors(read)

    @given(broken_streams())
    @settings(max_examples=60)
    def test_async(self, broken: tuple[list[bytes], str]) -> None:
        chunks, content_type = broken

        async def consume() -> Any:
            async with Mock(chunks, headers={"content-type": content_type}).astream() as stream:
                async for _ in stream:
                    pass
            return stream

        _expect_only_our_errors(lambda: anyio.run(consume))

    @settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(broken=broken_streams())
    def test_over_the_socket(
        self, fake_api: FakeMessagesAPI, broken: tuple[list[bytes], str]
    ) -> None:
        """A few broken streams sent by the loopback server, read by the adapter's stream."""
        chunks, content_type = broken
        fake_api.queue(Malformed(body=b"".join(chunks), content_type=content_type))

        def read() -> Any:
            with httpx.Client(timeout=5.0) as client, over_socket(fake_api, client) as stream:
                list(stream)
            return stream

        _expect_only_our_errors(read)


# --- a whole reply whose body ends without the blank line after message_stop ---------------------


@st.composite
def unterminated_streams(draw: st.DrawFn) -> tuple[dict[str, Any], list[bytes]]:
    """A real reply's stream, its final blank line (or line end too) dropped, cut anywhere."""
    message = draw(fake_streamable_replies())
    body = b"".join(frames(stream_events(message, text_chunk=draw(st.integers(1, 12)))))
    body = body[: len(body) - draw(st.integers(1, 2))]
    eol = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    body = body.replace(b"\n", eol)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=8)))
    points = [0, *cuts, len(body)]
    return message, [body[a:b] for a, b in itertools.pairwise(points)]


class TestCleanEndWithoutBlankLine:
    # Regression: a body that ended cleanly right after ``data: {"type":"message_stop"}`` (as
    # some of the official SDKs' recorded replies do) raised StreamInterruptedError: the reader
    # never dispatched the last event. A clean end of the body now ends it: the reply is whole.

    @given(unterminated_streams())
    @settings(max_examples=60)
    def test_sync(self, stream: tuple[dict[str, Any], list[bytes]]) -> None:
        message, chunks = stream
        with Mock(chunks).stream() as read:
            list(read)
        assert read.conversation == CHAT.fold(message)

    @given(unterminated_streams())
    @settings(max_examples=30)
    def test_async(self, stream: tuple[dict[str, Any], list[bytes]]) -> None:
        message, chunks = stream

        async def consume() -> Any:
            async with Mock(chunks).astream() as read:
                async for _ in read:
                    pass
            return read

        assert anyio.run(consume).conversation == CHAT.fold(message)

    @given(unterminated_streams(), st.sampled_from([httpx.ReadError, httpx.RemoteProtocolError]))
    @settings(max_examples=30)
    def test_cut_by_the_transport(
        self, stream: tuple[dict[str, Any], list[bytes]], error: type[httpx.TransportError]
    ) -> None:
        """The same body, but the transport fails at its end: the reply is interrupted."""
        message, chunks = stream
        with (
            pytest.raises(StreamInterruptedError) as info,
            Mock(chunks, fail=error("connection lost")).stream() as read,
        ):
            list(read)
        if not message["content"]:  # nothing to keep: the conversation as it was
            assert info.value.conversation == CHAT
            return
        last = info.value.conversation.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert last.provenance.stop_reason == message["stop_reason"]
