"""Helpers of the replay tests: past dialogues as a model wrote them, and tool call replies."""

from __future__ import annotations

from typing import Any

from conversation import Conversation


def model_reply(text: str, model: str = "old-model") -> dict[str, Any]:
    """A Messages API response of one text block, as an earlier model wrote it."""
    return {
        "id": f"msg_old_{abs(hash(text)) % 10_000}",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
    }


def call_reply(name: str, arguments: dict[str, Any], call_id: str) -> dict[str, Any]:
    """A response asking for one tool call."""
    return {
        "id": f"msg_{call_id}",
        "model": "old-model",
        "content": [{"type": "tool_use", "id": call_id, "name": name, "input": arguments}],
        "stop_reason": "tool_use",
    }


def dialogue(*exchanges: tuple[str, str], system: str | None = "Be brief.") -> Conversation:
    """A past dialogue: each (question, answer) a user turn and a model's reply."""
    chat = Conversation(system=system)
    for question, answer in exchanges:
        chat = chat.user(question).fold(model_reply(answer))
    return chat


def weather_dialogue(city: str = "Paris") -> Conversation:
    """A past dialogue that used a tool: a call, its recorded result, the answer."""
    chat = Conversation().user(f"Weather in {city}?")
    chat = chat.fold(call_reply("get_weather", {"location": city}, "toolu_old"))
    chat = chat.user([{"type": "tool_result", "tool_use_id": "toolu_old", "content": "15 C"}])
    return chat.fold(model_reply(f"15 C in {city}."))
