"""A request without ``model`` or ``max_tokens`` is refused before it leaves the adapter.

The API answers such a request with a 400; the adapter says so first, naming
both places to set each field, and no HTTP request is made (the loopback fake
counts what reaches it). ``count_tokens`` needs ``model`` only. The offline
adapters stay permissive: they send nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from adapters import ScriptedAdapter
from adapters.anthropic import AnthropicAdapter
from conversation import Conversation, RuleViolationError
from conversation.continuation import continue_reply
from tests.adapters.fake_api import FakeMessagesAPI

KEY = "sk-ant-api03-REQUIRED-FIELDS-0123456789"
MODEL = "claude-sonnet-4-5"
CHAT = Conversation().user("Hello")

Call = Callable[[AnthropicAdapter, Conversation, dict[str, Any]], Any]


def _send(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    return adapter.send(c, **options)


def _stream(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    with adapter.stream(c, **options) as stream:
        return list(stream)


def _count(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    return adapter.count_tokens(c, **options)


async def _asend(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    return await adapter.asend(c, **options)


async def _astream(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    async with adapter.astream(c, **options) as stream:
        return [event async for event in stream]


async def _acount(adapter: AnthropicAdapter, c: Conversation, options: dict[str, Any]) -> Any:
    return await adapter.acount_tokens(c, **options)


SYNC: dict[str, Call] = {"send": _send, "stream": _stream}
GENERATING = [
    ({}, ["missing_model", "missing_max_tokens"]),
    ({"model": MODEL}, ["missing_max_tokens"]),
    ({"max_tokens": 64}, ["missing_model"]),
]


def _adapter(api: FakeMessagesAPI, **kw: Any) -> AnthropicAdapter:
    return AnthropicAdapter(api_key=KEY, base_url=api.base_url, max_retries=0, **kw)


@pytest.mark.parametrize("call", SYNC.values(), ids=SYNC.keys())
@pytest.mark.parametrize(("options", "rules"), GENERATING)
def test_send_and_stream_refuse_a_missing_field_before_any_request(
    fake_api: FakeMessagesAPI, call: Call, options: dict[str, Any], rules: list[str]
) -> None:
    with _adapter(fake_api) as adapter, pytest.raises(RuleViolationError) as caught:
        call(adapter, CHAT, options)
    assert list(caught.value.rules) == rules
    message = str(caught.value)
    for rule in rules:
        field = rule.removeprefix("missing_")
        assert f"{field}=" in message  # send(c, model=...) / stream(c, max_tokens=...)
        assert f"default_options={{'{field}'" in message
    assert fake_api.requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("call", [_asend, _astream], ids=["asend", "astream"])
@pytest.mark.parametrize(("options", "rules"), GENERATING)
async def test_asend_and_astream_refuse_a_missing_field_before_any_request(
    fake_api: FakeMessagesAPI, call: Any, options: dict[str, Any], rules: list[str]
) -> None:
    async with _adapter(fake_api) as adapter:
        with pytest.raises(RuleViolationError) as caught:
            await call(adapter, CHAT, options)
    assert list(caught.value.rules) == rules
    assert fake_api.requests == []


def test_count_tokens_needs_a_model_only(fake_api: FakeMessagesAPI) -> None:
    with _adapter(fake_api) as adapter:
        with pytest.raises(RuleViolationError) as caught:
            _count(adapter, CHAT, {"max_tokens": 64})
        assert list(caught.value.rules) == ["missing_model"]
        assert "count_tokens(c, model=" in str(caught.value)
        assert fake_api.requests == []
        assert _count(adapter, CHAT, {"model": MODEL}) > 0
    assert [r.path for r in fake_api.requests] == ["/v1/messages/count_tokens"]


@pytest.mark.anyio
async def test_acount_tokens_needs_a_model(fake_api: FakeMessagesAPI) -> None:
    async with _adapter(fake_api) as adapter:
        with pytest.raises(RuleViolationError, match="missing_model"):
            await _acount(adapter, CHAT, {})
    assert fake_api.requests == []


def test_defaults_count_and_a_call_may_unset_them(fake_api: FakeMessagesAPI) -> None:
    defaults = {"model": MODEL, "max_tokens": 64}
    with _adapter(fake_api, default_options=defaults) as adapter:
        assert adapter.send(CHAT).last is not None
        with pytest.raises(RuleViolationError, match="missing_max_tokens"):
            adapter.send(CHAT, max_tokens=None)  # None unsets a default
    assert len(fake_api.requests) == 1


def test_every_problem_is_listed_at_once(fake_api: FakeMessagesAPI) -> None:
    """The missing fields come first, then what the conversation's rules found."""
    with _adapter(fake_api) as adapter, pytest.raises(RuleViolationError) as caught:
        adapter.send(Conversation(), model=MODEL)
    assert list(caught.value.rules) == ["missing_max_tokens", "empty_messages"]
    assert fake_api.requests == []


def test_the_offline_adapter_stays_permissive() -> None:
    """ScriptedAdapter sends nothing anywhere: a test need not name a model."""
    assert ScriptedAdapter(["Hi!"]).send(CHAT).last is not None


def test_continue_reply_is_refused_before_any_request(fake_api: FakeMessagesAPI) -> None:
    """The helper that sends more than once goes through send: the first send is refused."""
    cut = CHAT.fold(
        {"content": [{"type": "text", "text": "Once upon"}], "stop_reason": "max_tokens"}
    )
    with _adapter(fake_api) as adapter, pytest.raises(RuleViolationError, match="missing_model"):
        continue_reply(cut, adapter, max_tokens=64)
    assert fake_api.requests == []
