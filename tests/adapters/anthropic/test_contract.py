"""The conformance kit run on AnthropicAdapter, over a real socket to the fake Messages API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.anthropic import AnthropicAdapter
from adapters.testing import AdapterContract, Fault
from tests.adapters.anthropic.mocks import Sleeps, loopback_adapter
from tests.adapters.fake_api import (
    Error,
    FakeMessagesAPI,
    Reply,
    Reset,
    Response,
    Stream,
    make_message,
)

KEY = "sk-ant-api03-CONTRACT-KEY-0123456789abcdef"


class MessagesFake:
    """The kit's view of the fake Messages API."""

    api_key = KEY

    def __init__(self, api: FakeMessagesAPI) -> None:
        self.api = api

    def _message(self, content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
        message = make_message(stop_reason=stop_reason)
        message["content"] = content
        return message

    def reply(self, text: str, *, stream: bool = False) -> None:
        self.api.queue(Stream(text=text) if stream else Reply(text=text))

    def tool_call(
        self, id: str, name: str, arguments: dict[str, Any], *, stream: bool = False
    ) -> None:
        block = {"type": "tool_use", "id": id, "name": name, "input": arguments}
        message = self._message([block], "tool_use")
        self.api.queue(Stream(message=message) if stream else Reply(message=message))

    def fail(self, fault: Fault) -> None:
        answers: dict[str, Response] = {
            "rate_limit": Error(429, "rate_limit_error", retry_after=0.25),
            "server_error": Error(500, "api_error"),
            "reset": Reset(),
            "auth": Error(401, "authentication_error"),
        }
        self.api.queue(answers[fault])

    def cut_stream(self, text: str) -> None:
        # message_start, content_block_start, ping, then two text deltas: cut there.
        self.api.queue(Stream(text=text, cut_after=5))

    def requests(self) -> list[bytes]:
        return [request.body for request in self.api.requests]


class TestAnthropicContract(AdapterContract):
    @pytest.fixture
    def adapter(self, fake_api: FakeMessagesAPI) -> Iterator[AnthropicAdapter]:
        options = {"model": "claude-sonnet-4-5", "max_tokens": 256}
        with loopback_adapter(
            fake_api.base_url, Sleeps(), api_key=KEY, default_options=options
        ) as made:
            yield made

    @pytest.fixture
    def fake(self, fake_api: FakeMessagesAPI) -> MessagesFake:
        return MessagesFake(fake_api)
