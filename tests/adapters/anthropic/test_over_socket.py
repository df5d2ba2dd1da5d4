"""AnthropicAdapter over a real socket: the fake Messages API on 127.0.0.1, faults injected.

Each failure case also checks that the caller's conversation is as it was and
still serializes (it is immutable; this guards against the adapter ever
handing back a half-updated one).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from adapters import StreamInterruptedError
from adapters.anthropic import (
    AnthropicAdapter,
    AnthropicError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeadlineExceededError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    RetryPolicy,
    ServiceUnavailableError,
)
from conversation import Conversation, ConversationError, MalformedReplyError
from conversation.continuation import continue_reply
from tests.adapters.anthropic.mocks import Sleeps, loopback_adapter
from tests.adapters.fake_api import (
    UNTIL_STOPPED,
    CountTokens,
    Error,
    FakeMessagesAPI,
    Malformed,
    Reply,
    Reset,
    Stream,
    make_message,
)

KEY = "sk-ant-api03-SOCKET-TEST-KEY-0123456789"
MODEL = "claude-sonnet-4-5"
OPTIONS: dict[str, Any] = {"model": MODEL, "max_tokens": 128}
CHAT = Conversation(system="Be brief.").user("Hello").assistant("Hi!").user("How are you?")
SAVED = CHAT.dumps()
BODY = CHAT.to_json(**OPTIONS)

FAILURES = [
    (Error(400, "invalid_request_error"), BadRequestError),
    (Error(401, "authentication_error"), AuthenticationError),
    (Error(403, "permission_error"), PermissionDeniedError),
    (Error(404, "not_found_error"), NotFoundError),
    (Error(413, "request_too_large", raw_body=b"<html>413 Too Large</html>"), RequestTooLargeError),
]
StatusClass = type[APIStatusError]
RETRIED_OUT: list[tuple[Error, StatusClass]] = [
    (Error(500, "api_error"), InternalServerError),
    (Error(409, "conflict_error"), ConflictError),
    (Error(503, "api_error"), ServiceUnavailableError),
    (Error(504, "timeout_error"), DeadlineExceededError),
]
"""Retried statuses, each with the class (named as the official SDK names it) it ends in."""


def unchanged(conversation: Conversation) -> None:
    """The caller's conversation is what it was, and still serializes."""
    assert conversation == Conversation.loads(SAVED)
    assert conversation.to_json(**OPTIONS) == BODY


@pytest.fixture
def waits() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(fake_api: FakeMessagesAPI, waits: Sleeps) -> Iterator[AnthropicAdapter]:
    """An adapter on the fake API with its own pooled clients; waits recorded, not slept."""
    with loopback_adapter(fake_api.base_url, waits, api_key=KEY) as made:
        yield made


class TestSend:
    def test_round_trip(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """Headers and body arrive exactly; the reply is folded in."""
        fake_api.queue(Reply(text="Fine, thanks."))
        result = adapter.send(CHAT, **OPTIONS, betas=["b-1"])
        (request,) = fake_api.requests
        assert (request.method, request.path) == ("POST", "/v1/messages")
        assert request.body == BODY
        assert request.headers["x-api-key"] == KEY
        assert request.headers["anthropic-version"] == "2023-06-01"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["anthropic-beta"] == "b-1"
        assert request.headers["user-agent"].startswith("conversation-state/")
        assert result.last is not None
        assert result.last.text == "Fine, thanks."
        assert result.last.provenance is not None
        assert result.last.provenance.id == "msg_fake_0001"
        assert result[:3] == CHAT

    def test_connection_reused(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """Many sends go over one kept-alive connection of the pooled client."""
        for _ in range(5):
            adapter.send(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 5
        assert fake_api.connections == 1

    @pytest.mark.anyio
    async def test_async_connection_reused(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """Many asends go over one kept-alive connection too."""
        for _ in range(5):
            await adapter.asend(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 5
        assert fake_api.connections == 1

    def test_429_retry_after_honoured(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, waits: Sleeps
    ) -> None:
        """A 429 with retry-after 0.05 s is retried after that wait (not the 0.375 s backoff)."""
        fake_api.queue(Error(429, "rate_limit_error", retry_after=0.05), Reply())
        adapter.send(CHAT, **OPTIONS)
        first, second = fake_api.requests
        assert waits == [0.05]  # backoff would be >= 0.375
        assert first.body == second.body == BODY

    def test_529_then_success(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, waits: Sleeps
    ) -> None:
        """An overloaded answer is retried after backoff, then the reply folds."""
        fake_api.queue(Error(529, "overloaded_error"), Reply(text="back"))
        result = adapter.send(CHAT, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "back"
        assert len(fake_api.requests) == 2
        assert len(waits) == 1
        assert 0.375 <= waits[0] <= 0.5

    def test_500_exhausts_retries(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """Three 500s with max_retries=2: InternalServerError after exactly 3 attempts."""
        fake_api.queue(*[Error(500, "api_error")] * 3, Reply())
        with pytest.raises(InternalServerError) as info:
            adapter.send(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 3
        assert info.value.request_id == "req_fake_0003"
        assert "req_fake_0003" in str(info.value)
        assert fake_api.pending == 1
        unchanged(CHAT)

    @pytest.mark.parametrize(("answer", "cls"), RETRIED_OUT)
    def test_status_class_after_retries(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, answer: Error, cls: StatusClass
    ) -> None:
        """A retried status ends, after 3 attempts, in its class, with the SDK's status_code."""
        fake_api.queue(answer, answer, answer, Reply())
        with pytest.raises(cls) as info:
            adapter.send(CHAT, **OPTIONS)
        assert type(info.value) is cls
        assert info.value.status_code == info.value.status == answer.status
        assert info.value.error_type == answer.type
        assert len(fake_api.requests) == 3
        unchanged(CHAT)

    def test_reset_then_success(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """A connection reset (no answer) is retried."""
        fake_api.queue(Reset(), Reply(text="after reset"))
        result = adapter.send(CHAT, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "after reset"
        assert len(fake_api.requests) == 2

    def test_resets_exhaust_retries(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """Resets on every attempt end in APIConnectionError."""
        fake_api.queue(Reset(), Reset(), Reset())
        with pytest.raises(APIConnectionError):
            adapter.send(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 3
        unchanged(CHAT)

    def test_malformed_not_retried(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A 200 that is not JSON raises MalformedReplyError (a ConversationError), once."""
        fake_api.queue(Malformed(), Reply())
        with pytest.raises(MalformedReplyError) as info:
            adapter.send(CHAT, **OPTIONS)
        assert isinstance(info.value, ConversationError)
        assert len(fake_api.requests) == 1
        unchanged(CHAT)

    def test_slow_reply_times_out(self, fake_api: FakeMessagesAPI, waits: Sleeps) -> None:
        """No answer within the timeout: retried, then APITimeoutError."""
        fake_api.queue(*[Reply(delay=UNTIL_STOPPED)] * 3)
        with (
            AnthropicAdapter(
                api_key=KEY,
                base_url=fake_api.base_url,
                timeout=0.1,
                retry=RetryPolicy(sleep=waits.sleep),
            ) as adapter,
            pytest.raises(APITimeoutError, match="no answer in time"),
        ):
            adapter.send(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 3
        unchanged(CHAT)

    @pytest.mark.parametrize(("answer", "cls"), FAILURES)
    def test_client_errors_sent_once(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        answer: Error,
        cls: type[AnthropicError],
    ) -> None:
        """400/401/403/404/413 are raised after exactly one request."""
        fake_api.queue(answer, Reply())
        with pytest.raises(cls) as info:
            adapter.send(CHAT, **OPTIONS)
        assert type(info.value) is cls
        assert info.value.status == answer.status
        assert info.value.request_id == "req_fake_0001"
        assert len(fake_api.requests) == 1
        unchanged(CHAT)

    def test_should_retry_false(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """x-should-retry: false from the server stops a retry of a 429."""
        fake_api.queue(Error(429, "rate_limit_error", should_retry=False), Reply())
        with pytest.raises(RateLimitError):
            adapter.send(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 1

    def test_key_never_logged(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A server echoing the key in its error and headers: no message or log line shows it.

        (httpcore's own DEBUG trace prints raw response headers, so a server that
        echoes the key in a header shows it there; that logger is not ours.)
        """
        echo = Error(529, "overloaded_error", message=f"bad key {KEY}", headers={"x-echo": KEY})
        fake_api.queue(echo, echo, echo)
        caplog.set_level(logging.DEBUG)
        with pytest.raises(OverloadedError) as info:
            adapter.send(CHAT, **OPTIONS)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)
        assert KEY not in repr(vars(info.value))
        ours = [r.getMessage() for r in caplog.records if r.name in ("adapters.anthropic", "httpx")]
        assert len([line for line in ours if "retry" in line]) == 2
        assert not [line for line in ours if KEY in line]

    def test_key_in_no_log_line_at_all(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """With every logger at DEBUG (httpx, httpcore included), the sent key shows nowhere."""
        fake_api.queue(Error(529, "overloaded_error"), Reply())
        caplog.set_level(logging.DEBUG)
        adapter.send(CHAT, **OPTIONS)
        assert "retry 1 of 2" in caplog.text
        assert KEY not in caplog.text


class TestAsyncSend:
    @pytest.mark.anyio
    async def test_round_trip(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """asend sends the same bytes and folds the reply."""
        fake_api.queue(Reply(text="async fine"))
        async with adapter:
            result = await adapter.asend(CHAT, **OPTIONS)
        assert fake_api.requests[0].body == BODY
        assert result.last is not None
        assert result.last.text == "async fine"

    @pytest.mark.anyio
    async def test_429_retry_after_honoured(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, waits: Sleeps
    ) -> None:
        """asend waits what retry-after asks, then succeeds."""
        fake_api.queue(Error(429, "rate_limit_error", retry_after=0.05), Reply())
        async with adapter:
            await adapter.asend(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 2
        assert waits == [0.05]  # backoff would be >= 0.375

    @pytest.mark.anyio
    async def test_529_then_success(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """An overloaded answer is retried by asend."""
        fake_api.queue(Error(529, "overloaded_error"), Reply(text="back"))
        async with adapter:
            result = await adapter.asend(CHAT, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "back"
        assert len(fake_api.requests) == 2

    @pytest.mark.anyio
    @pytest.mark.parametrize(("answer", "cls"), RETRIED_OUT)
    async def test_500_exhausts_retries(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, answer: Error, cls: StatusClass
    ) -> None:
        """Three 500s (409s, 503s, 504s): their class after exactly 3 attempts."""
        fake_api.queue(answer, answer, answer)
        async with adapter:
            with pytest.raises(cls) as info:
                await adapter.asend(CHAT, **OPTIONS)
        assert info.value.status_code == answer.status
        assert len(fake_api.requests) == 3
        unchanged(CHAT)

    @pytest.mark.anyio
    async def test_reset_then_success(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A reset is retried by asend."""
        fake_api.queue(Reset(), Reply(text="after reset"))
        async with adapter:
            result = await adapter.asend(CHAT, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "after reset"

    @pytest.mark.anyio
    async def test_malformed_not_retried(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A malformed 200 raises MalformedReplyError after one request."""
        fake_api.queue(Malformed(body=b"<html>"), Reply())
        async with adapter:
            with pytest.raises(MalformedReplyError):
                await adapter.asend(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 1
        unchanged(CHAT)

    @pytest.mark.anyio
    async def test_slow_reply_times_out(self, fake_api: FakeMessagesAPI, waits: Sleeps) -> None:
        """asend gives up with APITimeoutError after max_retries + 1 slow attempts."""
        fake_api.queue(*[Reply(delay=UNTIL_STOPPED)] * 2)
        async with AnthropicAdapter(
            api_key=KEY,
            base_url=fake_api.base_url,
            timeout=0.1,
            max_retries=1,
            retry=RetryPolicy(async_sleep=waits.asleep),
        ) as adapter:
            with pytest.raises(APITimeoutError):
                await adapter.asend(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 2
        unchanged(CHAT)

    @pytest.mark.anyio
    @pytest.mark.parametrize(("answer", "cls"), FAILURES)
    async def test_client_errors_sent_once(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        answer: Error,
        cls: type[AnthropicError],
    ) -> None:
        """asend raises 400/401/403/404/413 after exactly one request."""
        fake_api.queue(answer, Reply())
        async with adapter:
            with pytest.raises(cls):
                await adapter.asend(CHAT, **OPTIONS)
        assert len(fake_api.requests) == 1
        unchanged(CHAT)


class TestCountTokens:
    def test_count(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """count_tokens posts the prompt-only body and returns the count."""
        fake_api.queue(CountTokens(321))
        assert adapter.count_tokens(CHAT, **OPTIONS, temperature=0.1) == 321
        (request,) = fake_api.requests
        assert request.path == "/v1/messages/count_tokens"
        assert request.body == CHAT.to_json(model=MODEL)

    @pytest.mark.anyio
    async def test_acount_after_overload(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """acount_tokens retries an overloaded answer."""
        fake_api.queue(Error(529, "overloaded_error"), CountTokens(9))
        async with adapter:
            assert await adapter.acount_tokens(CHAT, **OPTIONS) == 9
        assert len(fake_api.requests) == 2

    def test_trim_by_the_apis_count(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """trim asks the API to count, about log2(n) times, and keeps the longest part
        that fits by the API's count (the fake answers a body's bytes // 4)."""
        c = Conversation(system="Be brief.")
        for i in range(200):
            c = c.user(f"question {i}").assistant(f"answer {i}")
        kept = c.trim(1000, count=partial(adapter.count_tokens, model=MODEL))
        requests = fake_api.requests
        assert len(requests) <= math.ceil(math.log2(len(c))) + 3
        assert {r.path for r in requests} == {"/v1/messages/count_tokens"}
        assert requests[0].body == c.to_json(model=MODEL)
        assert len(kept.to_json(model=MODEL)) // 4 <= 1000
        assert kept.turns == c.turns[len(c) - len(kept) :]
        longer = c[:0].extend(c.turns[len(c) - len(kept) - 2 :])
        assert len(longer.to_json(model=MODEL)) // 4 > 1000


class TestContinue:
    def test_continue_over_socket(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A max_tokens reply is continued into one turn with summed usage."""
        fake_api.queue(
            Reply(message=make_message("The answer is", stop_reason="max_tokens")),
            Reply(message=make_message(" forty-two.", input_tokens=20, output_tokens=4)),
        )
        cut = adapter.send(CHAT, **OPTIONS)
        result = continue_reply(cut, adapter, **OPTIONS)
        assert len(result) == 4
        assert result.last is not None
        assert result.last.provenance is not None
        assert result.last.text == "The answer is forty-two."
        assert result.last.provenance.usage.input_tokens == 30
        assert fake_api.requests[1].json["messages"][-1] == {
            "role": "assistant",
            "content": "The answer is",
        }


class TestStream:
    def test_stream_round_trip(self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI) -> None:
        """stream() sends "stream": true and ends with the same fold as send."""
        fake_api.queue(Stream(text="Streamed hello."))
        with adapter.stream(CHAT, **OPTIONS) as stream:
            text = "".join(stream.text_stream)
        assert text == "Streamed hello."
        (request,) = fake_api.requests
        assert request.json["stream"] is True
        assert request.body == CHAT.to_json(**OPTIONS, stream=True)
        assert request.headers["accept"] == "text/event-stream"
        assert stream.conversation.last is not None
        assert stream.conversation.last.text == "Streamed hello."

    def test_error_status_before_stream_retried(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A 529 before the events begin is retried like a send."""
        fake_api.queue(Error(529, "overloaded_error"), Stream(text="ok now"))
        with adapter.stream(CHAT, **OPTIONS) as stream:
            assert "".join(stream.text_stream) == "ok now"
        assert len(fake_api.requests) == 2

    def test_client_error_before_stream(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """A 400 before the events begin is raised at once, after one request."""
        fake_api.queue(Error(400, "invalid_request_error"), Stream())
        stream = adapter.stream(CHAT, **OPTIONS)
        with pytest.raises(BadRequestError):
            stream.__enter__()
        stream.close()
        assert len(fake_api.requests) == 1
        unchanged(CHAT)

    def test_cut_stream_not_retried(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """Once a 200 began, a cut stream raises StreamInterruptedError; nothing re-sent."""
        fake_api.queue(Stream(text="a long reply cut short", cut_after=4), Stream())
        with pytest.raises(StreamInterruptedError), adapter.stream(CHAT, **OPTIONS) as stream:
            for _ in stream:
                pass
        assert len(fake_api.requests) == 1
        unchanged(CHAT)

    @pytest.mark.anyio
    async def test_astream_after_overload(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """astream retries an error status before the events, then streams."""
        fake_api.queue(Error(529, "overloaded_error"), Stream(text="async stream"))
        async with adapter, adapter.astream(CHAT, **OPTIONS) as stream:
            pieces = [piece async for piece in stream.text_stream]
        assert "".join(pieces) == "async stream"
        assert len(fake_api.requests) == 2
        assert stream.conversation.last is not None
        assert stream.conversation.last.text == "async stream"

    @pytest.mark.anyio
    async def test_astream_client_error(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        """astream raises a 401 after one request."""
        fake_api.queue(Error(401, "authentication_error"))
        async with adapter:
            stream = adapter.astream(CHAT, **OPTIONS)
            with pytest.raises(AuthenticationError):
                await stream.__aenter__()
            await stream.aclose()
        assert len(fake_api.requests) == 1
