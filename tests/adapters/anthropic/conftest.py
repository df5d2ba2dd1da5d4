"""Fixtures of the Anthropic adapter tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.anthropic import AnthropicAdapter, RetryPolicy
from tests.adapters.anthropic.mocks import BASE, KEY, Answer, MakeAdapter, Recorder, Sleeps


@pytest.fixture
def make_adapter() -> Iterator[MakeAdapter]:
    """Builds adapters over MockTransport clients (closed at the end of the test)."""
    clients: list[httpx.Client] = []

    def build(*answers: Answer, **kwargs: Any) -> tuple[AnthropicAdapter, Recorder, Sleeps]:
        recorder, sleeps = Recorder(*answers), Sleeps()
        transport = httpx.MockTransport(recorder)
        client = httpx.Client(transport=transport)
        clients.append(client)
        kwargs.setdefault("api_key", KEY)
        kwargs.setdefault("base_url", BASE)
        policy = RetryPolicy(
            sleep=sleeps.sleep, async_sleep=sleeps.asleep, random=kwargs.pop("random", lambda: 0.0)
        )
        adapter = AnthropicAdapter(
            http_client=client,
            async_http_client=httpx.AsyncClient(transport=transport),
            retry=policy,
            **kwargs,
        )
        return adapter, recorder, sleeps

    yield build
    for client in clients:
        client.close()
