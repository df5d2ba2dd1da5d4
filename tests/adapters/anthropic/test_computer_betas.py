"""AnthropicAdapter adds the anthropic-beta values computer-use tools need, over MockTransport."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from adapters.anthropic import AnthropicAdapter
from conversation import Conversation
from conversation.computer import (
    BASH_20241022,
    BASH_20250124,
    TEXT_EDITOR_20250728,
    ComputerTool,
    computer_use_tools,
)
from conversation.tools import run_tools

OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 256}
HELLO = Conversation().user("Take a screenshot.")
WEATHER = {"name": "get_weather", "input_schema": {"type": "object"}}


def reply(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": OPTIONS["model"],
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 3},
    }


class Recorder:
    """Answers each request with the next scripted reply; records the requests."""

    def __init__(self, *replies: dict[str, Any]) -> None:
        self.replies = list(replies) or [reply([{"type": "text", "text": "Hi"}])]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = self.replies[min(len(self.requests), len(self.replies)) - 1]
        return httpx.Response(200, json=body)

    def betas(self) -> list[str | None]:
        return [r.headers.get("anthropic-beta") for r in self.requests]


@pytest.fixture
def clients() -> Iterator[list[httpx.Client]]:
    made: list[httpx.Client] = []
    yield made
    for client in made:
        client.close()


def adapter_for(recorder: Recorder, clients: list[httpx.Client], **kwargs: Any) -> AnthropicAdapter:
    client = httpx.Client(transport=httpx.MockTransport(recorder))
    clients.append(client)
    return AnthropicAdapter(
        api_key="sk-ant-test", base_url="https://api.example.test", http_client=client, **kwargs
    )


def test_tool_betas_join_the_header(clients: list[httpx.Client]) -> None:
    recorder = Recorder()
    adapter = adapter_for(recorder, clients, betas=["files-api-2025-04-14"])
    tools = [ComputerTool(1024, 768), BASH_20241022, TEXT_EDITOR_20250728]
    adapter.send(HELLO, **OPTIONS, tools=tools, betas=["computer-use-2025-01-24"])
    assert recorder.betas() == [
        "files-api-2025-04-14,computer-use-2025-01-24,computer-use-2024-10-22"
    ]
    body = json.loads(recorder.requests[0].content)
    assert body["tools"] == [t.to_wire() for t in tools]
    assert "betas" not in body


def test_ga_and_custom_tools_add_nothing(clients: list[httpx.Client]) -> None:
    recorder = Recorder()
    adapter = adapter_for(recorder, clients)
    adapter.send(HELLO, **OPTIONS, tools=[BASH_20250124, TEXT_EDITOR_20250728, WEATHER])
    adapter.send(HELLO, **OPTIONS)
    assert recorder.betas() == [None, None]


def test_tools_in_default_options(clients: list[httpx.Client]) -> None:
    recorder = Recorder()
    adapter = adapter_for(
        recorder,
        clients,
        default_options={**OPTIONS, "tools": [ComputerTool(800, 600, type="computer_20241022")]},
    )
    adapter.send(HELLO)
    assert recorder.betas() == ["computer-use-2024-10-22"]


def test_count_tokens_too(clients: list[httpx.Client]) -> None:
    recorder = Recorder({"input_tokens": 42})
    adapter = adapter_for(recorder, clients)
    assert adapter.count_tokens(HELLO, **OPTIONS, tools=[ComputerTool(800, 600)]) == 42
    assert recorder.betas() == ["computer-use-2025-01-24"]


class ScreenEnv:
    def __init__(self) -> None:
        self.shots = 0

    def screenshot(self) -> bytes:
        self.shots += 1
        return b"GIF89a\x02\x00\x02\x00\x00\x00\x00;"

    def click(self, x: int, y: int, button: str = "left") -> None: ...
    def type(self, text: str) -> None: ...
    def key(self, combo: str) -> None: ...
    def bash(self, command: str) -> str:
        return ""

    def edit(self, command: str, path: str, **kw: Any) -> str:
        return ""


def test_run_tools_over_the_adapter_sends_the_beta(clients: list[httpx.Client]) -> None:
    """run_tools sends definitions as dicts; the adapter still adds their beta."""
    recorder = Recorder(
        reply(
            [
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "computer",
                    "input": {"action": "screenshot"},
                }
            ],
            stop_reason="tool_use",
        ),
        reply([{"type": "text", "text": "A blank screen."}]),
    )
    adapter = adapter_for(recorder, clients)
    env = ScreenEnv()
    tools = computer_use_tools(env, display_width_px=2, display_height_px=2, version="20241022")
    end = run_tools(HELLO, adapter, tools, **OPTIONS)
    assert end.last is not None
    assert end.last.text == "A blank screen."
    assert env.shots == 1
    assert recorder.betas() == ["computer-use-2024-10-22", "computer-use-2024-10-22"]
    sent = json.loads(recorder.requests[1].content)
    result = sent["messages"][-1]["content"][0]
    assert result["content"][0]["source"]["media_type"] == "image/gif"
