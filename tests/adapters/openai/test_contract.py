"""The conformance kit run on OpenAIAdapter, over a real socket to the fake Chat Completions API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.openai import OpenAIAdapter, RetryPolicy
from adapters.testing import AdapterContract, Fault
from tests.adapters.anthropic.mocks import Sleeps
from tests.adapters.fake_api import FakeMessagesAPI, Reset, Response
from tests.adapters.openai import fake_chat

KEY = "sk-proj-CONTRACT-KEY-0123456789abcdefghij"


class ChatFake:
    """The kit's view of the fake Chat Completions API."""

    api_key = KEY

    def __init__(self, api: FakeMessagesAPI) -> None:
        self.api = api

    def reply(self, text: str, *, stream: bool = False) -> None:
        data = fake_chat.completion(text)
        self.api.queue(fake_chat.stream(data) if stream else fake_chat.reply(data))

    def tool_call(
        self, id: str, name: str, arguments: dict[str, Any], *, stream: bool = False
    ) -> None:
        data = fake_chat.completion(None, tool_calls=[(id, name, arguments)])
        self.api.queue(fake_chat.stream(data) if stream else fake_chat.reply(data))

    def fail(self, fault: Fault) -> None:
        answers: dict[str, Response] = {
            "rate_limit": fake_chat.error(429, "rate_limit_exceeded", retry_after=0.25),
            "server_error": fake_chat.error(500, "server_error"),
            "reset": Reset(),
            "auth": fake_chat.error(401, "invalid_request_error", code="invalid_api_key"),
        }
        self.api.queue(answers[fault])

    def cut_stream(self, text: str) -> None:
        # the role chunk, then two text chunks: cut there.
        self.api.queue(fake_chat.stream(fake_chat.completion(text), cut_after=3))

    def requests(self) -> list[bytes]:
        return [request.body for request in self.api.requests]


class TestOpenAIContract(AdapterContract):
    @pytest.fixture
    def adapter(self, fake_chat: FakeMessagesAPI) -> Iterator[OpenAIAdapter]:
        waits = Sleeps()
        with OpenAIAdapter(
            api_key=KEY,
            base_url=fake_chat.base_url + "/v1",
            default_options={"model": "gpt-4o-mini"},
            retry=RetryPolicy(sleep=waits.sleep, async_sleep=waits.asleep),
        ) as made:
            yield made

    @pytest.fixture
    def fake(self, fake_chat: FakeMessagesAPI) -> ChatFake:
        return ChatFake(fake_chat)
