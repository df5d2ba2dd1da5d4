"""Benchmark data: turn texts, wire payloads, a realistic reply; loading the core.

Everything is deterministic (seeded) so that runs compare like with like. The
texts are prebuilt before any clock starts: the benchmarks measure the
conversation machinery, not string creation.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import orjson

MODEL = "claude-sonnet-4-5"
MAX_TOKENS = 1024

_REPO_ROOT = Path(__file__).resolve().parent.parent

_PHRASES = (
    "the model reads the whole history on every request so the client keeps it "
    "a conversation is a value that can be shared branched stored and replayed "
    "tokens cache prefix latency tool result weather Paris Berlin forecast "
    "naïve café déjà vu — “quoted” résumé"
)
_WORDS = _PHRASES.split()


# --------------------------------------------------------------------------- the core


def load_conversation() -> tuple[type[Any] | None, str]:
    """The library's ``Conversation`` class, or ``(None, why)`` when it cannot be imported.

    Running ``python benchmarks/x.py`` puts ``benchmarks/`` first on ``sys.path``,
    not the repository root, so the root is added when the package is not installed.
    """
    try:
        from conversation import Conversation
    except ImportError:
        if str(_REPO_ROOT) not in sys.path:
            sys.path.insert(1, str(_REPO_ROOT))
        sys.modules.pop("conversation", None)
        try:
            from conversation import Conversation
        except ImportError as exc:
            return None, f"core not importable: {exc}"
    return Conversation, ""


# --------------------------------------------------------------------------- texts


def turn_texts(n: int, seed: int = 1) -> list[str]:
    """``n`` distinct texts of realistic length (20 to about 600 characters).

    Mostly ASCII, with some non-ASCII letters, quotes and newlines so that the
    JSON encoders have escaping to do, as they do on real conversations.
    """
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        words = rng.choices(_WORDS, k=rng.randint(4, 90))
        if rng.random() < 0.1:
            words.append('\n"line two"\n')
        texts.append(f"{i}: " + " ".join(words))
    return texts


def text_pairs(n_turns: int, seed: int = 1) -> list[tuple[str, str]]:
    """``n_turns // 2`` (user text, assistant text) pairs."""
    texts = turn_texts(n_turns, seed)
    return list(zip(texts[0::2], texts[1::2], strict=True))


def message_dicts(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The wire messages (``MessageParam`` dicts) for alternating text turns."""
    messages: list[dict[str, Any]] = []
    for u, a in pairs:
        messages.append({"role": "user", "content": u})
        messages.append({"role": "assistant", "content": a})
    return messages


def dict_pairs(pairs: list[tuple[str, str]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Prebuilt message dicts, two per pair: the input of the ``list.append`` floor."""
    return [({"role": "user", "content": u}, {"role": "assistant", "content": a}) for u, a in pairs]


def payload(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The request body, keys in the order of the contract's ``to_payload``."""
    return {"model": MODEL, "max_tokens": MAX_TOKENS, "messages": messages}


def sdk_body(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The body dict as ``client.messages.create(...)`` hands it to its transport:
    every optional field present, as ``not_given``, for the SDK to drop."""
    from anthropic import NOT_GIVEN

    body: dict[str, Any] = {"max_tokens": MAX_TOKENS, "messages": messages, "model": MODEL}
    for name in (
        "cache_control",
        "container",
        "diagnostics",
        "inference_geo",
        "metadata",
        "output_config",
        "service_tier",
        "speed",
        "stop_sequences",
        "stream",
        "system",
        "thinking",
        "tool_choice",
        "tools",
    ):
        body[name] = NOT_GIVEN
    return body


def build_conversation(conversation_cls: type[Any], pairs: list[tuple[str, str]]) -> Any:
    c = conversation_cls()
    for u, a in pairs:
        c = c.user(u)
        c = c.assistant(a)
    return c


# --------------------------------------------------------------------------- a reply


def reply_dict() -> dict[str, Any]:
    """A Messages API response of about 2 KB: a text block and a tool_use block
    with a nested input, and a ``usage`` with the cache fields filled in."""
    rng = random.Random(7)
    text = " ".join(rng.choices(_WORDS, k=190))
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "text", "text": text},
            {
                "type": "tool_use",
                "id": "toolu_01A09q90qw90lq917835lq9",
                "name": "get_forecast",
                "input": {
                    "locations": [
                        {
                            "city": "Paris",
                            "country": "FR",
                            "coords": {"lat": 48.8566, "lon": 2.3522},
                        },
                        {
                            "city": "Berlin",
                            "country": "DE",
                            "coords": {"lat": 52.52, "lon": 13.405},
                        },
                    ],
                    "days": 3,
                    "units": "metric",
                    "fields": ["temperature", "precipitation", "wind", "humidity"],
                    "options": {"hourly": False, "alerts": True, "language": "en", "tz": None},
                },
            },
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 2095,
            "output_tokens": 503,
            "cache_creation_input_tokens": 1024,
            "cache_read_input_tokens": 16384,
            "cache_creation": {"ephemeral_5m_input_tokens": 1024, "ephemeral_1h_input_tokens": 0},
            "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
            "service_tier": "standard",
        },
    }


def reply_bytes() -> bytes:
    return orjson.dumps(reply_dict())


# --------------------------------------------------------------------------- mixed turns

# A turn of a mixed history: a text, or a tool call / tool answer given as its parts.
MixedItem = str | tuple[str, str, str, dict[str, Any]] | tuple[str, str, str]


def mixed_pairs(n_turns: int, seed: int = 1) -> list[tuple[MixedItem, MixedItem]]:
    """``n_turns // 2`` (user, assistant) exchanges; every 10th is a tool call.

    In a tool exchange the assistant asks for a tool (a ``tool_use``) and the
    next exchange's user turn answers it (a ``tool_result`` holding text), as
    an agent's history reads.
    """
    texts = turn_texts(n_turns, seed)
    pairs: list[tuple[MixedItem, MixedItem]] = []
    answer: MixedItem | None = None
    for i in range(n_turns // 2):
        user: MixedItem = texts[2 * i] if answer is None else answer
        answer = None
        assistant: MixedItem = texts[2 * i + 1]
        if i % 10 == 9 and 2 * i + 2 < n_turns:
            tool_id = f"toolu_{i:020d}"
            city = ("Paris", "Berlin", "Lisbon")[i % 3]
            assistant = ("tool_use", tool_id, "get_forecast", {"city": city, "days": i % 7})
            answer = ("tool_result", tool_id, texts[2 * i + 2])
        pairs.append((user, assistant))
    return pairs


def mixed_wire(item: MixedItem) -> Any:
    """The wire ``content`` of one mixed turn, built afresh (a str, or a list of block dicts)."""
    if isinstance(item, str):
        return item
    if item[0] == "tool_use":
        _, tool_id, name, tool_input = item  # type: ignore[misc]
        return [{"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}]
    _, tool_id, text = item  # type: ignore[misc]
    return [{"type": "tool_result", "tool_use_id": tool_id, "content": text}]


def mixed_message_dicts(pairs: list[tuple[MixedItem, MixedItem]]) -> list[dict[str, Any]]:
    """The wire messages (``MessageParam`` dicts) of a mixed history."""
    messages: list[dict[str, Any]] = []
    for u, a in pairs:
        messages.append({"role": "user", "content": mixed_wire(u)})
        messages.append({"role": "assistant", "content": mixed_wire(a)})
    return messages


def build_mixed(
    conversation_cls: type[Any], pairs: list[tuple[MixedItem, MixedItem]], objects: bool
) -> Any:
    """A conversation of a mixed history, its blocks given as objects or as wire dicts."""
    from conversation import ToolResult, ToolUse

    c = conversation_cls()
    for u, a in pairs:
        if isinstance(u, str):
            c = c.user(u)
        elif objects:
            c = c.user(ToolResult(u[1], u[2]))
        else:
            c = c.user(mixed_wire(u))
        if isinstance(a, str):
            c = c.assistant(a)
        elif objects:
            c = c.assistant(ToolUse(a[1], a[2], a[3]))  # type: ignore[misc]
        else:
            c = c.assistant(mixed_wire(a))
    return c
