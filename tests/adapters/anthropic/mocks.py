"""Helpers of the adapter unit tests over ``httpx.MockTransport``: answers and a recorder.

:class:`Recorder` answers requests in order and records them, :func:`ok`,
:func:`fail` and :func:`raising` make the answers, :class:`Sleeps` records
the retry policy's waits; the ``make_adapter`` fixture (conftest) builds an
adapter on them. :func:`loopback_adapter` builds one on the loopback fake API
instead, its waits recorded in a :class:`Sleeps`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from adapters.anthropic import AnthropicAdapter, RetryPolicy
from conversation import Conversation
from tests.adapters.fake_api import make_message

__all__ = [
    "BASE",
    "HELLO",
    "KEY",
    "MODEL",
    "OPTIONS",
    "Answer",
    "MakeAdapter",
    "Recorder",
    "Sleeps",
    "fail",
    "loopback_adapter",
    "message",
    "ok",
    "raising",
]

KEY = "sk-ant-api03-TESTKEY-0123456789abcdef"
BASE = "https://api.example.test"
MODEL = "claude-sonnet-4-5"
OPTIONS: dict[str, Any] = {"model": MODEL, "max_tokens": 256}
HELLO = Conversation(system="Be brief.").user("Hello, Claude")

Answer = Callable[[httpx.Request], httpx.Response]


def message(
    text: str = "Hi!",
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 3,
    id: str = "msg_01",
) -> dict[str, Any]:
    """A valid Messages API response with one text block (the fake API's, our defaults)."""
    return make_message(
        text,
        model=MODEL,
        id=id,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        stop_reason=stop_reason,
    )


def ok(body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Answer:
    """An answer: 200 with ``body`` (a reply saying "Hi!" by default)."""
    return lambda request: httpx.Response(
        200, json=message() if body is None else body, headers=headers
    )


def fail(
    status: int,
    error_type: str = "api_error",
    text: str = "something failed",
    headers: dict[str, str] | None = None,
) -> Answer:
    """An answer: an API error body under ``status``."""
    body = {"type": "error", "error": {"type": error_type, "message": text}}
    return lambda request: httpx.Response(
        status, json=body, headers={"request-id": "req_test", **(headers or {})}
    )


def raising(exc: Exception) -> Answer:
    """An "answer" that fails with ``exc`` (a transport error: no response)."""

    def answer(request: httpx.Request) -> httpx.Response:
        raise exc

    return answer


class Recorder:
    """A MockTransport handler: answers in order (the last one repeats), records requests."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [ok()]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        index = min(len(self.requests), len(self.answers)) - 1
        return self.answers[index](request)

    @property
    def bodies(self) -> list[Any]:
        """Each request's body, parsed."""
        return [json.loads(r.content) for r in self.requests]


class Sleeps(list[float]):
    """Records the waits of the retry policy instead of waiting (sync and async)."""

    def sleep(self, seconds: float) -> None:
        self.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.append(seconds)


MakeAdapter = Callable[..., tuple[AnthropicAdapter, Recorder, Sleeps]]
"""The ``make_adapter`` fixture: answers and adapter options in, adapter, recorder and waits out."""


def loopback_adapter(base_url: str, waits: Sleeps, **kwargs: Any) -> AnthropicAdapter:
    """An adapter on the fake API at ``base_url`` with its own pooled clients; its waits
    (retries, and polls of a batch) are recorded in ``waits``, not slept."""
    policy = RetryPolicy(sleep=waits.sleep, async_sleep=waits.asleep)
    return AnthropicAdapter(base_url=base_url, retry=policy, **kwargs)
