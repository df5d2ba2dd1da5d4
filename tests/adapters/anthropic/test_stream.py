"""Tests for adapters.anthropic._stream: a streamed reply, over MockTransport and a real socket.

The streams are built directly (no AnthropicAdapter): the opener is an
``httpx.Client.stream`` call against an ``httpx.MockTransport`` or against the
fake Messages API on 127.0.0.1 (``fake_api``), so these tests check the stream
alone: events, the folded conversation, and what a cut-off stream leaves.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import (
    AsyncMessageStream,
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    MessageStream,
    StreamInterruptedError,
    StreamNotConsumedError,
    TextDelta,
    ThinkingDelta,
)
from adapters._http._accumulate import Accumulator
from adapters.anthropic._errors import APIConnectionError, APITimeoutError, OverloadedError
from adapters.anthropic._stream import AnthropicStream, AsyncAnthropicStream
from conversation import MalformedReplyError, Text, Thinking, ToolUse
from tests.adapters.anthropic.streams import (
    BODY,
    CHAT,
    URL,
    Events,
    Mock,
    aover_socket,
    frame,
    frames,
    mock,
    over_socket,
)
from tests.adapters.fake_api import (
    UNTIL_STOPPED,
    FakeMessagesAPI,
    Stream,
    make_message,
    stream_events,
)
from tests.strategies import fake_streamable_replies

TEXT = make_message("Paris is the capital of France, and its largest city.", id="msg_text")
TOOL = {
    **make_message(id="msg_tool"),
    "content": [
        {"type": "text", "text": "Let me check the weather."},
        {
            "type": "tool_use",
            "id": "toolu_01",
            "name": "get_weather",
            "input": {"location": "Paris, France", "unit": "celsius", "days": [1, 2]},
        },
    ],
    "stop_reason": "tool_use",
}
THINKING = {
    **make_message(id="msg_think"),
    "content": [
        {"type": "thinking", "thinking": "The user asks about France. Paris.", "signature": "U2ln"},
        {"type": "text", "text": "Paris."},
    ],
}
CITATION = {
    "type": "char_location",
    "cited_text": "Paris is the capital",
    "document_index": 0,
    "document_title": "Atlas",
    "start_char_index": 0,
    "end_char_index": 20,
}
CITED = {
    **make_message(id="msg_cite"),
    "content": [
        {"type": "text", "text": "According to the atlas, "},
        {"type": "text", "text": "Paris is the capital.", "citations": [CITATION]},
    ],
}
MESSAGES = {"text": TEXT, "tool_use": TOOL, "thinking": THINKING, "citations": CITED}


def text_before(events: Events) -> str:
    """The text the deltas among ``events`` spell."""
    return "".join(
        data["delta"]["text"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "text_delta"
    )


# --- the real socket ------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as http:
        yield http


Opener = Callable[[dict[str, Any]], AnthropicStream]


@pytest.fixture(params=["mock", "socket"])
def streamer(
    request: pytest.FixtureRequest, fake_api: FakeMessagesAPI, client: httpx.Client
) -> Opener:
    """Makes a stream of a message's events, over MockTransport or over the real socket."""
    if request.param == "mock":
        return lambda message: mock(message).stream()

    def make(message: dict[str, Any]) -> AnthropicStream:
        fake_api.queue(Stream(events=stream_events(message, text_chunk=5)))
        return over_socket(fake_api, client)

    return make


# --- whole replies ----------------------------------------------------------------------------


class TestWholeReply:
    @pytest.mark.parametrize("kind", sorted(MESSAGES))
    def test_conversation_is_the_fold_of_the_reply(self, streamer: Opener, kind: str) -> None:
        """Once consumed, stream.conversation equals folding the same reply without a stream."""
        message = MESSAGES[kind]
        with streamer(message) as stream:
            events = list(stream)
        assert stream.conversation == CHAT.fold(message)
        assert isinstance(events[0], MessageStart)
        assert events[0].id == message["id"]
        assert isinstance(events[-1], MessageStop)
        assert events[-1].reply.content == stream.conversation.last.blocks  # type: ignore[union-attr]

    def test_text_stream(self, streamer: Opener) -> None:
        with streamer(TEXT) as stream:
            pieces = list(stream.text_stream)
        assert len(pieces) > 5
        assert "".join(pieces) == TEXT["content"][0]["text"]
        assert stream.conversation.last is not None
        assert stream.conversation.last.text == TEXT["content"][0]["text"]

    def test_tool_use_events(self, streamer: Opener) -> None:
        """A tool call starts with empty input, streams JSON fragments, stops parsed."""
        with streamer(TOOL) as stream:
            events = list(stream)
        starts = [e for e in events if isinstance(e, BlockStart)]
        assert starts[1].block == ToolUse("toolu_01", "get_weather", {})
        fragments = "".join(e.partial_json for e in events if isinstance(e, InputJsonDelta))
        assert json.loads(fragments) == TOOL["content"][1]["input"]
        stops = [e for e in events if isinstance(e, BlockStop)]
        assert stops[1].block == ToolUse("toolu_01", "get_weather", TOOL["content"][1]["input"])
        last = stream.conversation.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.stop_reason == "tool_use"

    def test_thinking_and_signature(self, streamer: Opener) -> None:
        with streamer(THINKING) as stream:
            events = list(stream)
        thought = "".join(e.thinking for e in events if isinstance(e, ThinkingDelta))
        assert thought == THINKING["content"][0]["thinking"]
        stop = next(e for e in events if isinstance(e, BlockStop))
        assert stop.block == Thinking(thought, "U2ln")

    def test_citations(self, streamer: Opener) -> None:
        with streamer(CITED) as stream:
            list(stream)
        last = stream.conversation.last
        assert last is not None
        cited = last.blocks[1]
        assert isinstance(cited, Text)
        assert cited.citations == [CITATION]

    def test_provenance_and_usage(self, streamer: Opener) -> None:
        """The turn records the reply's id, model, stop reason and final usage."""
        with streamer(TEXT) as stream:
            list(stream)
        last = stream.conversation.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.id == "msg_text"
        assert last.provenance.stop_reason == "end_turn"
        assert last.provenance.usage.output_tokens == TEXT["usage"]["output_tokens"]
        assert not last.provenance.interrupted

    def test_prefill_is_continued(self) -> None:
        """A conversation ending in a prefill gets ONE assistant turn, as fold makes it."""
        prefilled = CHAT.assistant("The capital is")
        message = make_message(" Paris.")
        with mock(message).stream(prefilled) as stream:
            list(stream)
        assert stream.conversation == prefilled.fold(message)
        assert stream.conversation.last is not None
        assert stream.conversation.last.text == "The capital is Paris."
        assert len(stream.conversation) == len(prefilled)

    def test_request_id(self, fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
        fake_api.queue(Stream(message=TEXT))
        stream = over_socket(fake_api, client)
        assert stream.request_id is None
        with stream:
            assert stream.request_id == "req_fake_0001"

    def test_a_second_stream_on_the_same_client(
        self, fake_api: FakeMessagesAPI, client: httpx.Client
    ) -> None:
        """The body is read to its end, so the next request can go out on the same client."""
        fake_api.queue(Stream(message=TEXT), Stream(message=TOOL))
        for message in (TEXT, TOOL):
            with over_socket(fake_api, client) as stream:
                list(stream)
            assert stream.conversation == CHAT.fold(message)
        assert len(fake_api.requests) == 2

    def test_read_through_the_protocol_alone(self) -> None:
        """Used only as a MessageStream: text_stream gives the text, conversation the fold,
        and leaving the with block releases the body (tests/test_typed_usage.py checks the
        types)."""
        source = mock(TEXT)
        stream: MessageStream = source.stream()
        with stream:
            text = "".join(stream.text_stream)
        assert text == TEXT["content"][0]["text"]
        assert stream.conversation == CHAT.fold(TEXT)
        assert source.body.closed


# --- cut off ------------------------------------------------------------------------------


def interrupted(stream: AnthropicStream) -> tuple[StreamInterruptedError, list[Any]]:
    """Read ``stream`` until it raises; the error and the events before it."""
    seen: list[Any] = []

    def read() -> None:
        with stream:
            seen.extend(stream)

    with pytest.raises(StreamInterruptedError) as info:
        read()
    return info.value, seen


class TestCutOff:
    @pytest.mark.parametrize("cut", [4, 7, 10])
    def test_connection_dropped_mid_text_over_socket(
        self, fake_api: FakeMessagesAPI, client: httpx.Client, cut: int
    ) -> None:
        """The server closes the connection mid-body: the partial turn carries the text so far."""
        events = stream_events(TEXT, text_chunk=5)
        fake_api.queue(Stream(events=events, cut_after=cut))
        error, seen = interrupted(over_socket(fake_api, client))
        assert isinstance(error.__cause__, APIConnectionError)
        assert isinstance(error.__cause__.__cause__, httpx.RemoteProtocolError)
        assert error.__cause__.request_id == "req_fake_0001"
        last = error.conversation.last
        assert last is not None
        assert last.role == "assistant"
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert last.provenance.stop_reason is None
        assert last.text == text_before(events[:cut])
        assert last.text == "".join(e.text for e in seen if isinstance(e, TextDelta))
        assert error.conversation[:-1] == CHAT
        assert "error.conversation" in str(error)

    def test_connection_dropped_over_mock(self) -> None:
        events = stream_events(TEXT, text_chunk=5)
        source = Mock(frames(events[:7]), fail=httpx.ReadError("connection reset by peer"))
        error, _ = interrupted(source.stream())
        assert type(error.__cause__) is APIConnectionError
        assert error.__cause__.request_id == "req_mock_1"
        assert error.conversation.last is not None
        assert error.conversation.last.text == text_before(events[:7])
        assert source.body.closed

    def test_read_timeout_mid_text(self) -> None:
        events = stream_events(TEXT, text_chunk=5)
        error, _ = interrupted(Mock(frames(events[:6]), fail=httpx.ReadTimeout("slow")).stream())
        assert isinstance(error.__cause__, APITimeoutError)
        assert error.conversation.last is not None
        assert error.conversation.last.text == text_before(events[:6])

    def test_read_timeout_over_socket(self, fake_api: FakeMessagesAPI) -> None:
        """A server that stops sending: the read timeout interrupts the stream."""
        fake_api.queue(Stream(events=stream_events(TEXT), pause=UNTIL_STOPPED))
        with httpx.Client(timeout=httpx.Timeout(5.0, read=0.2)) as slow_client:
            error, seen = interrupted(over_socket(fake_api, slow_client))
        assert isinstance(error.__cause__, APITimeoutError)
        assert isinstance(error.__cause__.__cause__, httpx.ReadTimeout)
        assert seen == [MessageStart("msg_text", TEXT["model"])]
        assert error.conversation == CHAT  # no content had arrived

    def test_error_event(self, fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
        """An overloaded_error mid-stream: the API error is the cause, the partial is kept."""
        events = stream_events(TEXT, text_chunk=5)
        fake_api.queue(
            Stream(
                events=events,
                cut_after=8,
                error_event={"type": "overloaded_error", "message": "Overloaded"},
            )
        )
        error, _ = interrupted(over_socket(fake_api, client))
        cause = error.__cause__
        assert isinstance(cause, OverloadedError)
        assert cause.error_type == "overloaded_error"
        assert cause.api_message == "Overloaded"
        assert cause.request_id == "req_fake_0001"
        assert "Overloaded" in str(error)
        assert error.conversation.last is not None
        assert error.conversation.last.text == text_before(events[:8])
        assert len(fake_api.requests) == 1  # never retried once the stream began

    def test_error_event_before_any_content(self) -> None:
        """Nothing arrived: the error's conversation is the caller's, unchanged."""
        error_data = {"type": "error", "error": {"type": "api_error", "message": "Internal"}}
        error, seen = interrupted(Mock([frame("error", error_data)]).stream())
        assert seen == []
        assert error.conversation is CHAT
        assert error.__cause__ is not None
        assert "no content had arrived" in str(error)

    def test_cut_right_after_message_start(self) -> None:
        """message_start alone is no content: the conversation is unchanged."""
        events = stream_events(TEXT)
        error, seen = interrupted(Mock(frames(events[:1]), fail=httpx.ReadError("x")).stream())
        assert len(seen) == 1
        assert error.conversation is CHAT

    def test_body_ends_without_message_stop(self) -> None:
        """A body that ends cleanly but early is an interruption too."""
        events = stream_events(TOOL, text_chunk=5)
        error, _ = interrupted(Mock(frames(events[:-2])).stream())
        assert type(error.__cause__) is APIConnectionError
        assert "before message_stop" in str(error.__cause__)
        last = error.conversation.last
        assert last is not None
        assert last.blocks == CHAT.fold(TOOL).last.blocks  # type: ignore[union-attr]
        assert last.provenance is not None
        assert last.provenance.interrupted

    def test_malformed_event_mid_stream(self) -> None:
        """Data that is not JSON: the MalformedReplyError is the cause; what came before stays."""
        events = stream_events(TEXT, text_chunk=5)
        chunks = [*frames(events[:5]), b'event: content_block_delta\ndata: {"type": \n\n']
        error, _ = interrupted(Mock(chunks).stream())
        assert isinstance(error.__cause__, MalformedReplyError)
        assert error.conversation.last is not None
        assert error.conversation.last.text == text_before(events[:5])

    def test_not_an_event_stream(self) -> None:
        source = Mock([b'{"type":"message"}'], headers={"content-type": "application/json"})
        error, _ = interrupted(source.stream())
        assert isinstance(error.__cause__, MalformedReplyError)
        assert error.conversation is CHAT

    def test_thinking_cut_before_its_signature(
        self, fake_api: FakeMessagesAPI, client: httpx.Client
    ) -> None:
        """The unsigned thinking is recorded as interrupted; resumable() drops it on purpose."""
        events = stream_events(THINKING, text_chunk=5)
        signature_at = next(
            i
            for i, (_, d) in enumerate(events)
            if d.get("delta", {}).get("type") == "signature_delta"
        )
        fake_api.queue(Stream(events=events, cut_after=signature_at))
        error, _ = interrupted(over_socket(fake_api, client))
        last = error.conversation.last
        assert last is not None
        assert last.blocks == (Thinking(THINKING["content"][0]["thinking"], ""),)
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert error.conversation.resumable() == CHAT

    def test_continuing_from_the_partial(self) -> None:
        """The partial conversation can be resumed: the next reply continues the same turn."""
        events = stream_events(TEXT, text_chunk=5)
        error, _ = interrupted(Mock(frames(events[:6]), fail=httpx.ReadError("x")).stream())
        resumed = error.conversation.resumable()
        so_far = text_before(events[:6]).rstrip()
        assert resumed.last is not None
        assert resumed.last.text == so_far
        rest = TEXT["content"][0]["text"][len(so_far) :]
        with mock(make_message(rest)).stream(resumed) as stream:
            list(stream)
        final = stream.conversation.last
        assert final is not None
        assert final.text == TEXT["content"][0]["text"]
        assert final.provenance is not None
        assert not final.provenance.interrupted
        assert len(final.provenance.replies) == 2

    def test_conversation_after_an_interruption(self) -> None:
        stream = Mock(frames(stream_events(TEXT)[:4])).stream()
        interrupted(stream)
        with pytest.raises(StreamNotConsumedError, match="interrupted"):
            _ = stream.conversation

    def test_secrets_are_scrubbed_from_api_errors(self) -> None:
        """The adapter's key, if the server echoed it, never reaches the error message."""
        secret = "my-very-secret-key"
        error_data = {"type": "error", "error": {"type": "api_error", "message": f"bad {secret}"}}
        source = Mock([frame("error", error_data)])
        client = httpx.Client(transport=httpx.MockTransport(source._handle))
        stream = AnthropicStream(
            CHAT, lambda: client.stream("POST", URL, json=BODY), secrets=(secret,)
        )
        with client:
            error, _ = interrupted(stream)
        assert secret not in str(error)
        assert secret not in str(error.__cause__)


# --- properties: any reply, any cut -----------------------------------------------------------


@given(message=fake_streamable_replies(), chunk=st.integers(1, 400))
def test_any_reply_any_chunking(message: dict[str, Any], chunk: int) -> None:
    """Any reply, its bytes cut into chunks of any size: the fold of the reply comes out."""
    body = b"".join(frames(stream_events(message, text_chunk=3)))
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    with Mock(chunks).stream() as stream:
        list(stream)
    assert stream.conversation == CHAT.fold(message)


@given(message=fake_streamable_replies(min_blocks=1), data=st.data())
def test_any_reply_cut_anywhere(message: dict[str, Any], data: st.DataObject) -> None:
    """Cut at any byte: the error carries exactly what the events before the cut spell."""
    events = stream_events(message, text_chunk=3)
    body = b"".join(frames(events))
    cut = data.draw(st.integers(0, len(body) - 1), label="cut")
    error, _ = interrupted(Mock([body[:cut]], fail=httpx.ReadError("reset")).stream())
    accumulator = Accumulator()
    for name, payload in events[: body[:cut].count(b"\n\n")]:  # the whole events before it
        accumulator.feed(name, payload)
    partial = accumulator.partial()
    if partial is None or not partial["content"]:
        assert error.conversation is CHAT
    else:
        assert error.conversation == CHAT.fold(partial, interrupted=True)


# --- the stream's life ---------------------------------------------------------------------


class TestLifecycle:
    def test_no_request_until_entered_or_iterated(self) -> None:
        source = mock(TEXT)
        stream = source.stream()
        assert source.requests == []
        with stream:
            assert len(source.requests) == 1
        assert source.body.closed

    def test_first_iteration_sends(self) -> None:
        source = mock(TEXT)
        stream = source.stream()
        assert next(iter(stream)) == MessageStart("msg_text", TEXT["model"])
        assert len(source.requests) == 1
        stream.close()
        assert source.body.closed

    def test_closed_before_start_sends_nothing(self) -> None:
        source = mock(TEXT)
        stream = source.stream()
        stream.close()
        assert list(stream) == []
        assert source.requests == []
        with pytest.raises(StreamNotConsumedError, match="closed"):
            _ = stream.conversation

    def test_conversation_before_the_end(self) -> None:
        with mock(TEXT).stream() as stream:
            with pytest.raises(StreamNotConsumedError, match="not been read"):
                _ = stream.conversation
            next(iter(stream))
            with pytest.raises(StreamNotConsumedError):
                _ = stream.conversation
        with pytest.raises(StreamNotConsumedError, match="closed"):
            _ = stream.conversation

    def test_leaving_early_releases_the_response(self) -> None:
        source = mock(TEXT)
        with source.stream() as stream:
            for event in stream:
                if isinstance(event, TextDelta):
                    break
        assert source.body.closed
        assert "closed" in repr(stream)

    def test_iterating_again_continues_the_same_events(self) -> None:
        with mock(TEXT).stream() as stream:
            first = next(iter(stream))
            rest = list(stream)
            assert list(stream) == []
        assert isinstance(first, MessageStart)
        assert isinstance(rest[-1], MessageStop)
        assert "read to its end" in repr(stream)

    def test_errors_before_the_answer_propagate_as_they_are(self) -> None:
        """What open_response raises (a status error after retries) is not an interruption."""

        class Refused(Exception):
            pass

        def refuse() -> AbstractContextManager[httpx.Response]:
            raise Refused("503 after retries")

        stream = AnthropicStream(CHAT, refuse)
        with pytest.raises(Refused):
            stream.__enter__()
        assert list(stream) == []


# --- async ----------------------------------------------------------------------------------


@pytest.fixture
async def aclient() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as http:
        yield http


async def ainterrupted(stream: AsyncAnthropicStream) -> tuple[StreamInterruptedError, list[Any]]:
    seen: list[Any] = []

    async def read() -> None:
        async with stream:
            async for event in stream:
                seen.append(event)

    with pytest.raises(StreamInterruptedError) as info:
        await read()
    return info.value, seen


@pytest.mark.anyio
class TestAsync:
    @pytest.mark.parametrize("kind", sorted(MESSAGES))
    async def test_whole_reply_over_socket(
        self, fake_api: FakeMessagesAPI, aclient: httpx.AsyncClient, kind: str
    ) -> None:
        message = MESSAGES[kind]
        fake_api.queue(Stream(events=stream_events(message, text_chunk=5)))
        async with aover_socket(fake_api, aclient) as stream:
            events = [event async for event in stream]
        assert isinstance(events[-1], MessageStop)
        assert stream.conversation == CHAT.fold(message)

    async def test_whole_reply_over_mock(self) -> None:
        async with mock(TOOL).astream() as stream:
            events = [event async for event in stream]
        assert stream.conversation == CHAT.fold(TOOL)
        assert sum(isinstance(e, InputJsonDelta) for e in events) > 3

    async def test_text_stream(self, fake_api: FakeMessagesAPI, aclient: httpx.AsyncClient) -> None:
        fake_api.queue(Stream(events=stream_events(TEXT, text_chunk=5)))
        stream: AsyncMessageStream = aover_socket(fake_api, aclient)
        async with stream:
            pieces = [piece async for piece in stream.text_stream]
        assert "".join(pieces) == TEXT["content"][0]["text"]
        assert stream.conversation == CHAT.fold(TEXT)

    async def test_cut_after(self, fake_api: FakeMessagesAPI, aclient: httpx.AsyncClient) -> None:
        events = stream_events(TEXT, text_chunk=5)
        fake_api.queue(Stream(events=events, cut_after=7))
        error, _ = await ainterrupted(aover_socket(fake_api, aclient))
        assert isinstance(error.__cause__, APIConnectionError)
        last = error.conversation.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert last.text == text_before(events[:7])

    async def test_error_event(self, fake_api: FakeMessagesAPI, aclient: httpx.AsyncClient) -> None:
        events = stream_events(TOOL, text_chunk=5)
        fake_api.queue(Stream(events=events, cut_after=5, error_event={"type": "overloaded_error"}))
        error, _ = await ainterrupted(aover_socket(fake_api, aclient))
        assert isinstance(error.__cause__, OverloadedError)
        assert error.conversation.last is not None
        assert error.conversation.last.text == text_before(events[:5])

    async def test_dropped_over_mock(self) -> None:
        events = stream_events(THINKING, text_chunk=5)
        source = Mock(frames(events[:4]), fail=httpx.RemoteProtocolError("incomplete"))
        error, _ = await ainterrupted(source.astream())
        assert isinstance(error.__cause__, APIConnectionError)
        last = error.conversation.last
        assert last is not None
        assert last.blocks == (Thinking(text_before_thinking(events[:4]), ""),)
        assert source.body.closed

    async def test_ended_early_and_malformed(self) -> None:
        events = stream_events(TEXT, text_chunk=5)
        error, _ = await ainterrupted(Mock(frames(events[:-1])).astream())
        assert "before message_stop" in str(error.__cause__)
        bad = [*frames(events[:4]), b"event: ping\ndata: nope\n\n"]
        error, _ = await ainterrupted(Mock(bad).astream())
        assert isinstance(error.__cause__, MalformedReplyError)

    async def test_lifecycle(self) -> None:
        source = mock(TEXT)
        stream = source.astream()
        await stream.aclose()
        assert [e async for e in stream] == []
        assert source.requests == []
        source = mock(TEXT)
        async with source.astream() as stream:
            async for event in stream:
                if isinstance(event, TextDelta):
                    break
            with pytest.raises(StreamNotConsumedError):
                _ = stream.conversation
        assert source.body.closed


def text_before_thinking(events: Events) -> str:
    return "".join(
        data["delta"]["thinking"]
        for name, data in events
        if name == "content_block_delta" and data["delta"]["type"] == "thinking_delta"
    )
