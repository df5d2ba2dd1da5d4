"""Tests for AnthropicAdapter over httpx.MockTransport: requests, replies, keys, clients.

The helpers (:class:`Recorder`, :func:`ok`, :func:`fail`, :func:`message`) are in
``tests/adapters/anthropic/mocks.py``.
"""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

import adapters.anthropic as package
from adapters import Adapter, StreamingAdapter
from adapters.anthropic import AnthropicAdapter, MissingAPIKeyError
from adapters.anthropic._client import DEFAULT_TIMEOUT, USER_AGENT
from conversation import (
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    RuleViolationError,
)
from tests.adapters.anthropic.mocks import (
    BASE,
    HELLO,
    KEY,
    MODEL,
    OPTIONS,
    Answer,
    MakeAdapter,
    Recorder,
    message,
    ok,
)


class TestProtocol:
    def test_is_a_streaming_adapter(self, make_adapter: MakeAdapter) -> None:
        """AnthropicAdapter satisfies the Adapter and StreamingAdapter protocols."""
        adapter, _, _ = make_adapter()
        assert isinstance(adapter, Adapter)
        assert isinstance(adapter, StreamingAdapter)


class TestRequest:
    def test_headers_exact(self, make_adapter: MakeAdapter) -> None:
        """A send carries exactly our headers (plus httpx's transport ones), no beta header."""
        adapter, recorder, _ = make_adapter()
        adapter.send(HELLO, **OPTIONS)
        (request,) = recorder.requests
        ours = {k: v for k, v in request.headers.items() if k not in _HTTPX_OWN}
        assert ours == {
            "x-api-key": KEY,
            "anthropic-version": "2023-06-01",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }
        assert USER_AGENT.startswith("conversation-state/")

    def test_url_and_method(self, make_adapter: MakeAdapter) -> None:
        """The request is POST <base_url>/v1/messages; a trailing slash is tolerated."""
        adapter, recorder, _ = make_adapter(base_url=BASE + "/")
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].method == "POST"
        assert str(recorder.requests[0].url) == BASE + "/v1/messages"

    def test_body_is_to_json(self, make_adapter: MakeAdapter) -> None:
        """The body is exactly conversation.to_json(**options), byte for byte."""
        adapter, recorder, _ = make_adapter()
        adapter.send(HELLO, **OPTIONS, temperature=0.2)
        assert recorder.requests[0].content == HELLO.to_json(**OPTIONS, temperature=0.2)

    def test_defaults_merged_under_call_options(self, make_adapter: MakeAdapter) -> None:
        """default_options start every body; call options win; None unsets a default."""
        adapter, recorder, _ = make_adapter(
            default_options={**OPTIONS, "temperature": 0.5, "top_k": 5}
        )
        adapter.send(HELLO, max_tokens=64, top_k=None)
        expected = HELLO.to_json(model=MODEL, max_tokens=64, temperature=0.5)
        assert recorder.requests[0].content == expected
        assert adapter.default_options == {**OPTIONS, "temperature": 0.5, "top_k": 5}

    def test_betas_header_merges_constructor_and_call(self, make_adapter: MakeAdapter) -> None:
        """anthropic-beta joins the adapter's betas and the call's, once each, in order."""
        adapter, recorder, _ = make_adapter(betas=["a-2025-01-01", "b-2025-02-02"])
        adapter.send(HELLO, **OPTIONS, betas=["b-2025-02-02", "c-2025-03-03"])
        adapter.send(HELLO, **OPTIONS, betas="d-2025-04-04")
        first, second = recorder.requests
        assert first.headers["anthropic-beta"] == "a-2025-01-01,b-2025-02-02,c-2025-03-03"
        assert second.headers["anthropic-beta"] == "a-2025-01-01,b-2025-02-02,d-2025-04-04"
        assert all("betas" not in body for body in recorder.bodies)
        assert first.content == HELLO.to_json(**OPTIONS)

    def test_betas_in_default_options(self, make_adapter: MakeAdapter) -> None:
        """betas given in default_options become the header too, never a body field."""
        adapter, recorder, _ = make_adapter(default_options={**OPTIONS, "betas": ["x-1"]})
        adapter.send(HELLO)
        assert recorder.requests[0].headers["anthropic-beta"] == "x-1"
        assert "betas" not in recorder.bodies[0]

    @pytest.mark.parametrize("betas", [[""], ["a,b"], [3], 7])
    def test_bad_betas_refused(self, make_adapter: MakeAdapter, betas: Any) -> None:
        """Beta names that cannot make a clean header are refused before sending."""
        adapter, recorder, _ = make_adapter()
        with pytest.raises(MalformedInputError, match="betas"):
            adapter.send(HELLO, **OPTIONS, betas=betas)
        assert recorder.requests == []

    def test_default_headers_and_api_version(self, make_adapter: MakeAdapter) -> None:
        """default_headers are added to every request; api_version sets anthropic-version."""
        adapter, recorder, _ = make_adapter(
            default_headers={"X-Team": "search"}, api_version="2099-01-01"
        )
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].headers["x-team"] == "search"
        assert recorder.requests[0].headers["anthropic-version"] == "2099-01-01"

    def test_rule_violation_sends_nothing(self, make_adapter: MakeAdapter) -> None:
        """A payload the API would reject raises RuleViolationError, and nothing is sent."""
        adapter, recorder, _ = make_adapter()
        with pytest.raises(RuleViolationError):
            adapter.send(HELLO.assistant("Sure, "), **OPTIONS)
        with pytest.raises(RuleViolationError):
            adapter.send(Conversation(), **OPTIONS)
        assert recorder.requests == []

    def test_stream_option_refused(self, make_adapter: MakeAdapter) -> None:
        """stream=True is not an option of send: stream() is."""
        adapter, recorder, _ = make_adapter()
        with pytest.raises(MalformedInputError, match="stream"):
            adapter.send(HELLO, **OPTIONS, stream=True)
        assert recorder.requests == []

    def test_not_a_conversation(self, make_adapter: MakeAdapter) -> None:
        """Sending something that is not a Conversation is a MalformedInputError."""
        adapter, _, _ = make_adapter()
        with pytest.raises(MalformedInputError, match="Conversation"):
            adapter.send({"messages": []}, **OPTIONS)  # type: ignore[arg-type]

    def test_timeout_applies_per_request(self, make_adapter: MakeAdapter) -> None:
        """The adapter's timeout is set on each request (default 600 s, 5 s to connect)."""
        adapter, recorder, _ = make_adapter()
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].extensions["timeout"] == DEFAULT_TIMEOUT.as_dict()
        adapter2, recorder2, _ = make_adapter(timeout=2.5)
        adapter2.send(HELLO, **OPTIONS)
        assert recorder2.requests[0].extensions["timeout"]["read"] == 2.5


_HTTPX_OWN = {"host", "content-length", "accept-encoding", "connection"}


class TestReply:
    def test_fold_result(self, make_adapter: MakeAdapter) -> None:
        """send returns conversation.fold(reply): the reply as a new assistant turn."""
        reply = message("Hello! How can I help?", input_tokens=12, output_tokens=7)
        adapter, _, _ = make_adapter(ok(reply))
        result = adapter.send(HELLO, **OPTIONS)
        assert result == HELLO.fold(reply)
        assert result.last is not None
        assert result.last.text == "Hello! How can I help?"
        assert result.last.provenance is not None
        assert result.last.provenance.id == "msg_01"
        assert result.last.provenance.usage.output_tokens == 7
        assert len(HELLO) == 1

    def test_prefill_continued(self, make_adapter: MakeAdapter) -> None:
        """A conversation ending in a prefill gets the reply joined onto it (one turn)."""
        adapter, _, _ = make_adapter(ok(message(" blue.")))
        result = adapter.send(HELLO.assistant("The sky is"), **OPTIONS)
        assert len(result) == 2
        assert result.last is not None
        assert result.last.text == "The sky is blue."

    def test_malformed_reply(self, make_adapter: MakeAdapter) -> None:
        """A 200 that is not a reply raises MalformedReplyError, sent once (not retried)."""
        bad: Answer = lambda request: httpx.Response(200, content=b'{"id": "msg_')  # noqa: E731
        adapter, recorder, _ = make_adapter(bad)
        with pytest.raises(MalformedReplyError):
            adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == 1

    @pytest.mark.anyio
    async def test_asend(self, make_adapter: MakeAdapter) -> None:
        """asend sends the same request and folds the same reply as send."""
        adapter, recorder, _ = make_adapter(ok(message("async hi")))
        result = await adapter.asend(HELLO, **OPTIONS)
        assert result == HELLO.fold(message("async hi"))
        assert recorder.requests[0].content == HELLO.to_json(**OPTIONS)
        assert recorder.requests[0].headers["x-api-key"] == KEY
        await adapter.aclose()


class TestCountTokens:
    def test_body_without_generation_fields(self, make_adapter: MakeAdapter) -> None:
        """count_tokens posts the prompt fields only, to /v1/messages/count_tokens."""
        count: Answer = lambda request: httpx.Response(200, json={"input_tokens": 42})  # noqa: E731
        adapter, recorder, _ = make_adapter(count, default_options={**OPTIONS, "top_p": 0.9})
        tools = [{"name": "t", "description": "d", "input_schema": {"type": "object"}}]
        n = adapter.count_tokens(
            HELLO,
            tools=tools,
            temperature=0.3,
            top_k=3,
            stop_sequences=["END"],
            metadata={"user_id": "u"},
            service_tier="auto",
            thinking={"type": "enabled", "budget_tokens": 2048},
            betas=["tc-1"],
        )
        assert n == 42
        (request,) = recorder.requests
        assert str(request.url) == BASE + "/v1/messages/count_tokens"
        assert request.content == HELLO.to_json(
            model=MODEL, tools=tools, thinking={"type": "enabled", "budget_tokens": 2048}
        )
        assert request.headers["anthropic-beta"] == "tc-1"

    @pytest.mark.parametrize("body", [b"nope", b'{"tokens": 3}', b'{"input_tokens": "3"}'])
    def test_malformed_count(self, make_adapter: MakeAdapter, body: bytes) -> None:
        """An answer without an integer input_tokens is a MalformedReplyError."""
        answer: Answer = lambda request: httpx.Response(200, content=body)  # noqa: E731
        adapter, _, _ = make_adapter(answer)
        with pytest.raises(MalformedReplyError):
            adapter.count_tokens(HELLO, **OPTIONS)

    @pytest.mark.anyio
    async def test_acount_tokens(self, make_adapter: MakeAdapter) -> None:
        """acount_tokens sends the same body as count_tokens."""
        count: Answer = lambda request: httpx.Response(200, json={"input_tokens": 7})  # noqa: E731
        adapter, recorder, _ = make_adapter(count)
        assert await adapter.acount_tokens(HELLO, **OPTIONS) == 7
        assert recorder.requests[0].content == HELLO.to_json(model=MODEL)
        await adapter.aclose()


class TestKey:
    def test_key_from_env(self, make_adapter: MakeAdapter, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without api_key, ANTHROPIC_API_KEY is used."""
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-123456")
        adapter, recorder, _ = make_adapter(api_key=None)
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].headers["x-api-key"] == "sk-ant-from-env-123456"
        assert "from ANTHROPIC_API_KEY" in repr(adapter)

    def test_argument_wins_over_env(
        self, make_adapter: MakeAdapter, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An api_key argument is used even when the variable is set."""
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-123456")
        adapter, recorder, _ = make_adapter()
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].headers["x-api-key"] == KEY

    @pytest.mark.parametrize("env", [None, ""])
    def test_missing_key(self, monkeypatch: pytest.MonkeyPatch, env: str | None) -> None:
        """No key at all (or an empty variable) raises MissingAPIKeyError saying what to do."""
        if env is None:
            monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
        else:
            monkeypatch.setenv("ANTHROPIC_API_KEY", env)
        with pytest.raises(MissingAPIKeyError, match=r"api_key=.*ANTHROPIC_API_KEY"):
            AnthropicAdapter()

    def test_bad_key_type(self) -> None:
        """A key that is empty or not a str is refused."""
        with pytest.raises(MissingAPIKeyError, match="api_key was empty"):
            AnthropicAdapter(api_key="")
        with pytest.raises(MissingAPIKeyError, match="bytes"):
            AnthropicAdapter(api_key=b"sk-ant-bytes-key")  # type: ignore[arg-type]

    def test_key_whitespace(
        self, make_adapter: MakeAdapter, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A stray newline around the key is dropped; one inside is refused, key unshown."""
        monkeypatch.setenv("ANTHROPIC_API_KEY", KEY + "\n")
        adapter, recorder, _ = make_adapter(api_key=None)
        adapter.send(HELLO, **OPTIONS)
        assert recorder.requests[0].headers["x-api-key"] == KEY
        broken = "sk-ant-broken\nkey-0123456789"
        with pytest.raises(MissingAPIKeyError, match="stray character") as info:
            AnthropicAdapter(api_key=broken)
        assert broken not in str(info.value)
        assert "sk-ant" not in str(info.value)

    def test_repr_masks_key(self, make_adapter: MakeAdapter) -> None:
        """repr shows the base URL and where the key came from, never the key."""
        adapter, _, _ = make_adapter()
        shown = repr(adapter)
        assert KEY not in shown
        assert BASE in shown
        assert "api_key=<set, from argument>" in shown
        assert KEY not in repr(vars(adapter))
        call = adapter._message_call(HELLO, OPTIONS)
        assert KEY not in repr(call)


class TestBaseURL:
    def test_default(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without base_url or ANTHROPIC_BASE_URL, requests go to api.anthropic.com."""
        monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
        assert AnthropicAdapter(api_key=KEY).base_url == "https://api.anthropic.com"

    def test_from_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """ANTHROPIC_BASE_URL is used when base_url is not given."""
        monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8080/")
        assert AnthropicAdapter(api_key=KEY).base_url == "http://127.0.0.1:8080"
        assert AnthropicAdapter(api_key=KEY, base_url=BASE).base_url == BASE

    def test_bad_scheme(self) -> None:
        """A base URL that is not http(s) is refused when the adapter is made."""
        with pytest.raises(MalformedInputError, match="http"):
            AnthropicAdapter(api_key=KEY, base_url="ftp://example.test")

    def test_bad_defaults(self) -> None:
        """default_options naming stream, and a negative max_retries, are refused."""
        with pytest.raises(MalformedInputError, match="stream"):
            AnthropicAdapter(api_key=KEY, default_options={"stream": True})
        with pytest.raises(MalformedInputError, match="max_retries"):
            AnthropicAdapter(api_key=KEY, max_retries=-1)


class TestClients:
    def test_user_client_not_closed(self) -> None:
        """A client passed in is used for requests and left open by close() and with."""
        recorder = Recorder()
        client = httpx.Client(transport=httpx.MockTransport(recorder))
        with AnthropicAdapter(api_key=KEY, base_url=BASE, http_client=client) as adapter:
            adapter.send(HELLO, **OPTIONS)
        adapter.close()
        assert not client.is_closed
        assert len(recorder.requests) == 1
        client.close()


class TestExports:
    def test_all_is_exact_and_sorted(self) -> None:
        """adapters.anthropic.__all__ is the sorted list of its public names."""
        public = sorted(
            name
            for name, value in vars(package).items()
            if not name.startswith("_") and not inspect.ismodule(value)
        )
        assert package.__all__ == sorted(package.__all__)
        assert package.__all__ == public
