"""OpenAIAdapter over a real socket: the fake Chat Completions API on 127.0.0.1, faults injected.

Each failure case also checks that the caller's conversation is as it was.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from adapters import InputJsonDelta, MessageStart, StreamInterruptedError, TextDelta
from adapters.openai import (
    APIConnectionError,
    AuthenticationError,
    InternalServerError,
    MissingAPIKeyError,
    OpenAIAdapter,
    OpenAIError,
    RateLimitError,
    RetryPolicy,
)
from conversation import Conversation, MalformedReplyError, RuleViolationError, ToolUse
from conversation.store import SQLiteStore
from conversation.structured import extract
from tests.adapters.anthropic.mocks import Sleeps
from tests.adapters.fake_api import FakeMessagesAPI, Malformed, Reset, Stream
from tests.adapters.openai.fake_chat import completion, error, reply, stream

KEY = "sk-proj-SOCKET-TEST-KEY-0123456789abcdefghij"
CHAT = Conversation(system="Be brief.").user("Hello").assistant("Hi!").user("How are you?")
SAVED = CHAT.dumps()
TOOL_CALL = ("call_7", "get_weather", {"city": "Paris", "unit": "celsius"})


def unchanged(conversation: Conversation) -> None:
    assert conversation.dumps() == SAVED


@pytest.fixture
def waits() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(fake_chat: FakeMessagesAPI, waits: Sleeps) -> Iterator[OpenAIAdapter]:
    policy = RetryPolicy(sleep=waits.sleep, async_sleep=waits.asleep, random=lambda: 0.0)
    with OpenAIAdapter(
        api_key=KEY,
        base_url=fake_chat.base_url + "/v1",
        default_options={"model": "gpt-4o-mini"},
        retry=policy,
    ) as made:
        yield made


class TestSend:
    def test_round_trip(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        """Path, headers and body arrive as Chat Completions wants them; the reply is folded."""
        fake_chat.queue(reply(completion("Fine, thanks.")))
        result = adapter.send(CHAT, max_tokens=64, stop_sequences=["END"])
        (request,) = fake_chat.requests
        assert (request.method, request.path) == ("POST", "/v1/chat/completions")
        assert request.headers["authorization"] == f"Bearer {KEY}"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["accept"] == "application/json"
        assert request.headers["user-agent"].startswith("conversation-state/")
        assert request.json == {
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi!"},
                {"role": "user", "content": "How are you?"},
            ],
            "max_tokens": 64,
            "stop": ["END"],
        }
        assert result[:3] == CHAT
        assert result.last is not None
        assert result.last.text == "Fine, thanks."
        assert result.last.provenance is not None
        assert result.last.provenance.id == "chatcmpl-fake"
        assert result.last.provenance.stop_reason == "end_turn"

    def test_connection_reused(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        for _ in range(5):
            adapter.send(CHAT)
        assert len(fake_chat.requests) == 5
        assert fake_chat.connections == 1

    def test_close_closes_connections(self, fake_chat: FakeMessagesAPI) -> None:
        adapter = OpenAIAdapter(api_key=KEY, base_url=fake_chat.base_url + "/v1")
        with adapter:
            adapter.send(CHAT, model="m")
            anyio.run(lambda: adapter.asend(CHAT, model="m"))
        assert fake_chat.wait_open(0) == 0

    def test_your_own_clients_stay_open(self, fake_chat: FakeMessagesAPI) -> None:
        """Clients passed in are used as they are and never closed by the adapter."""
        base = fake_chat.base_url + "/v1"
        with httpx.Client() as client:
            with OpenAIAdapter(api_key=KEY, base_url=base, http_client=client) as made:
                made.send(CHAT, model="m")
            assert not client.is_closed
            assert client.post(base + "/chat/completions", json={"model": "m"}).status_code == 200

    def test_organization_and_project_headers(self, fake_chat: FakeMessagesAPI) -> None:
        base = fake_chat.base_url + "/v1"
        with OpenAIAdapter(api_key=KEY, base_url=base, organization="org-1", project="p-1") as made:
            made.send(CHAT, model="m")
        headers = fake_chat.requests[0].headers
        assert (headers["openai-organization"], headers["openai-project"]) == ("org-1", "p-1")

    def test_local_server_without_a_key(
        self, fake_chat: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A server at another base_url may take no key: no Authorization header is sent."""
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.setenv("OPENAI_BASE_URL", fake_chat.base_url + "/v1")
        with OpenAIAdapter() as made:
            assert "api_key=<none>" in repr(made)
            made.send(CHAT, model="llama3.2")
        assert "authorization" not in fake_chat.requests[0].headers

    def test_key_and_base_url_from_the_environment(
        self, fake_chat: FakeMessagesAPI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", fake_chat.base_url + "/v1")
        with OpenAIAdapter() as made:
            assert "api_key=<set, from OPENAI_API_KEY>" in repr(made)
            assert KEY not in repr(made)
            made.send(CHAT, model="m")
        assert fake_chat.requests[0].headers["authorization"] == f"Bearer {KEY}"

    def test_openai_needs_a_key(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
            OpenAIAdapter()

    def test_missing_model_is_refused_before_sending(self, fake_chat: FakeMessagesAPI) -> None:
        made = OpenAIAdapter(api_key=KEY, base_url=fake_chat.base_url + "/v1")
        with made, pytest.raises(RuleViolationError) as info:
            made.send(CHAT)
        assert "missing_model" in info.value.rules
        assert "OpenAIAdapter(default_options=" in str(info.value)
        assert fake_chat.requests == []

    def test_asend(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        fake_chat.queue(reply(completion("Async.")))
        result = anyio.run(lambda: adapter.asend(CHAT))
        assert result.last is not None
        assert result.last.text == "Async."


class TestFaults:
    def test_429_waits_as_retry_after_asks(
        self,
        adapter: OpenAIAdapter,
        fake_chat: FakeMessagesAPI,
        waits: Sleeps,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        fake_chat.queue(error(429, "rate_limit_exceeded", retry_after=1.5), reply(completion("ok")))
        with caplog.at_level(logging.INFO, logger="adapters.openai"):
            result = adapter.send(CHAT)
        assert result.last is not None
        assert result.last.text == "ok"
        assert waits == [1.5]
        (line,) = [r.getMessage() for r in caplog.records if r.name == "adapters.openai"]
        assert "retry 1 of 2" in line
        assert KEY not in line

    def test_500_retried_out(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI, waits: Sleeps
    ) -> None:
        fake_chat.queue(*[error(500, "server_error")] * 3)
        with pytest.raises(InternalServerError) as info:
            adapter.send(CHAT)
        assert info.value.status_code == 500
        assert len(fake_chat.requests) == 3
        assert waits == [0.5, 1.0]
        unchanged(CHAT)

    def test_reset_retried(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        fake_chat.queue(Reset(), reply(completion("after reset")))
        result = adapter.send(CHAT)
        assert result.last is not None
        assert result.last.text == "after reset"

    def test_resets_retried_out(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        fake_chat.queue(Reset(), Reset(), Reset())
        with pytest.raises(APIConnectionError) as info:
            adapter.send(CHAT)
        assert isinstance(info.value, OpenAIError)
        assert KEY not in repr(info.value.__cause__)
        unchanged(CHAT)

    def test_401_not_retried_and_key_not_echoed(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        """A server that echoes the key in its error has it scrubbed from what we keep."""
        fake_chat.queue(error(401, "invalid_request_error", f"Incorrect API key: {KEY}"))
        with pytest.raises(AuthenticationError) as info:
            adapter.send(CHAT)
        assert len(fake_chat.requests) == 1
        for shown in (str(info.value), repr(info.value), info.value.body, repr(info.value.headers)):
            assert KEY not in shown
        assert "OPENAI_API_KEY" in str(info.value)

    def test_any_openai_shaped_key_is_redacted(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        """A key that is not the adapter's, but shaped like an OpenAI key, is scrubbed too."""
        other = "sk-proj-SOMEONE-ELSES-KEY-abcdefghijklmnop"
        fake_chat.queue(error(400, "invalid_request_error", f"key {other} is revoked"))
        with pytest.raises(OpenAIError) as info:
            adapter.send(CHAT)
        assert other not in str(info.value)
        assert other not in info.value.body
        assert "[redacted]" in str(info.value)

    def test_malformed_json_not_retried(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        fake_chat.queue(Malformed(b'{"id": "chatcmpl-'))
        with pytest.raises(MalformedReplyError):
            adapter.send(CHAT)
        assert len(fake_chat.requests) == 1
        unchanged(CHAT)


class TestStream:
    def test_text_and_usage(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        """Text deltas as they come; usage from the last chunk; the same turn as send."""
        data = completion("Streaming over a socket works.", prompt_tokens=40, cached_tokens=8)
        fake_chat.queue(stream(data), reply(data))
        with adapter.stream(CHAT) as s:
            events = list(s)
        request = fake_chat.requests[0]
        assert request.json["stream"] is True
        assert request.json["stream_options"] == {"include_usage": True}
        assert request.headers["accept"] == "text/event-stream"
        assert isinstance(events[0], MessageStart)
        texts = [e.text for e in events if isinstance(e, TextDelta)]
        assert "".join(texts) == "Streaming over a socket works."
        assert len(texts) > 1
        sent = adapter.send(CHAT)
        assert s.conversation == sent
        assert s.conversation.last == sent.last
        assert s.conversation.last is not None
        info = s.conversation.last.provenance
        assert info is not None
        assert (info.usage.input_tokens, info.usage.cache_read_input_tokens) == (32, 8)

    def test_tool_call_argument_deltas(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        data = completion(None, tool_calls=[TOOL_CALL])
        fake_chat.queue(stream(data))
        with adapter.stream(CHAT) as s:
            events = list(s)
        pieces = [e.partial_json for e in events if isinstance(e, InputJsonDelta)]
        assert len(pieces) > 1
        assert json.loads("".join(pieces)) == TOOL_CALL[2]
        last = s.conversation.last
        assert last is not None
        assert last.blocks == (ToolUse(*TOOL_CALL),)
        assert last.provenance is not None
        assert last.provenance.stop_reason == "tool_use"

    def test_astream(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        fake_chat.queue(stream(completion("Async stream.")))

        async def main() -> Conversation:
            async with adapter.astream(CHAT) as s:
                async for _ in s:
                    pass
            return s.conversation

        result = anyio.run(main)
        assert result.last is not None
        assert result.last.text == "Async stream."

    def test_error_status_before_the_stream_is_retried(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        fake_chat.queue(error(429, "rate_limit_exceeded"), stream(completion("ok")))
        with adapter.stream(CHAT) as s:
            list(s)
        assert s.conversation.last is not None
        assert s.conversation.last.text == "ok"

    def test_cut_stream_keeps_what_arrived(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        fake_chat.queue(stream(completion("One two three four five six seven."), cut_after=3))
        with pytest.raises(StreamInterruptedError) as info, adapter.stream(CHAT) as s:
            list(s)
        assert isinstance(info.value.__cause__, APIConnectionError)
        partial = info.value.conversation
        assert partial[:3] == CHAT
        assert partial.last is not None
        assert partial.last.text == "One two three fo"
        assert partial.last.provenance is not None
        assert partial.last.provenance.interrupted
        assert not fake_chat.pending
        unchanged(CHAT)

    def test_cut_inside_tool_arguments(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        """A tool call cut inside its arguments is kept with the JSON that arrived."""
        fake_chat.queue(stream(completion(None, tool_calls=[TOOL_CALL]), cut_after=4))
        with pytest.raises(StreamInterruptedError) as info, adapter.stream(CHAT) as s:
            list(s)
        last = info.value.conversation.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert "get_weather" in info.value.conversation.dumps()

    def test_error_chunk_mid_stream(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        """An error object in the stream ends it: the API error is the cause, nothing retried."""
        chunk = {"message": f"Rate limit reached (key {KEY})", "type": "rate_limit_exceeded"}
        fake_chat.queue(stream(completion("Some text before it."), cut_after=2, error_chunk=chunk))
        with pytest.raises(StreamInterruptedError) as info, adapter.stream(CHAT) as s:
            list(s)
        cause = info.value.__cause__
        assert isinstance(cause, RateLimitError)
        assert cause.status_code is None
        assert KEY not in str(cause)
        assert info.value.conversation.last is not None
        assert info.value.conversation.last.text == "Some tex"
        assert len(fake_chat.requests) == 1

    def test_malformed_chunk(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        frames = [
            b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n',
            b"data: {not json\n\n",
        ]
        fake_chat.queue(Stream(frames=frames))
        with pytest.raises(StreamInterruptedError) as info, adapter.stream(CHAT) as s:
            list(s)
        assert isinstance(info.value.__cause__, MalformedReplyError)
        assert info.value.conversation.last is not None
        assert info.value.conversation.last.text == "Hi"

    def test_ended_without_done(self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI) -> None:
        """A body that ends cleanly before [DONE] is a cut stream too."""
        frames = [
            b'data: {"id":"c","model":"m","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n'
        ]
        fake_chat.queue(Stream(frames=frames))
        with (
            pytest.raises(StreamInterruptedError, match="before message_stop"),
            adapter.stream(CHAT) as s,
        ):
            list(s)


class TestUnchangedAbove:
    """What is built on adapters works with this one as with any: the turn is an ordinary one."""

    def test_structured_output_through_a_forced_tool(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI
    ) -> None:
        @dataclasses.dataclass
        class City:
            name: str
            population: int

        answer = {"name": "Paris", "population": 2_100_000}
        fake_chat.queue(reply(completion(None, tool_calls=[("call_1", "record_City", answer)])))
        extraction = extract(Conversation().user("The capital of France?"), adapter, City)
        assert extraction.value == City("Paris", 2_100_000)
        sent = fake_chat.requests[0].json
        assert sent["tool_choice"] == {"type": "function", "function": {"name": "record_City"}}
        assert sent["tools"][0]["function"]["name"] == "record_City"

    def test_saved_and_loaded_with_its_provenance(
        self, adapter: OpenAIAdapter, fake_chat: FakeMessagesAPI, tmp_path: Path
    ) -> None:
        result = adapter.send(CHAT)
        with SQLiteStore(str(tmp_path / "chats.db")) as store:
            store.save(result)
            loaded = store.load(result.id)
        assert loaded == result
        assert loaded.last is not None
        assert loaded.last.provenance == (result.last.provenance if result.last else None)
        assert Conversation.loads(result.dumps()).last == result.last
