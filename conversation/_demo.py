"""The offline demo: the Messages API guide's examples, run through a Conversation.

Every reply below is a canned Messages API response (those of the guide the
project grew from), folded exactly as a live one would be: no API key, no
network. Run it with ``python -m conversation demo``.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

from ._blocks import Image, ToolResult
from ._conversation import Conversation
from ._turn import Turn
from .errors import RuleViolationError

__all__ = ["main"]

MODEL = "claude-sonnet-4-5"


def _reply(
    text: str, *, stop: str = "end_turn", usage: tuple[int, int] = (12, 6)
) -> dict[str, Any]:
    """A Messages API response holding one text block."""
    return {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "model": MODEL,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
    }


def _tiny_png() -> bytes:
    """A valid 2x2 PNG, made here so the demo needs no files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _shorten(value: Any) -> Any:
    """Long strings (base64 images) cut for printing."""
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, str) and len(value) > 60:
        return value[:40] + f"...<{len(value)} chars>"
    return value


def _show(title: str, payload: dict[str, Any], out: Callable[[str], None]) -> None:
    out(f"\n== {title}")
    out(json.dumps(_shorten(payload), indent=2, ensure_ascii=False))


def main(out: Callable[[str], None] = print) -> Conversation:
    """Run every example; return the last conversation (for tests)."""
    out("conversation-state demo: the Messages API guide's examples, offline")

    # 1. Multi-turn: the API is stateless, so every request carries the history;
    #    earlier assistant turns may be synthetic.
    chat = Conversation().user("Hello, Claude").assistant("Hello!")
    chat = chat.user("Can you describe LLMs to me?")
    _show(
        "multi-turn request (the 'Hello!' turn is synthetic)",
        chat.to_payload(model=MODEL, max_tokens=1024),
        out,
    )
    chat = chat.fold(_reply("Sure, I'd be happy to provide...", usage=(30, 309)))
    last = chat[-1]
    reason = last.provenance.stop_reason if last.provenance else None
    out(f"folded reply: {last.text!r} (stop_reason={reason}, {chat.usage.output_tokens} tokens)")

    # 2. Prefill: put words in Claude's mouth; the reply continues them and
    #    becomes ONE assistant turn, exactly as the model saw it.
    quiz = (
        Conversation()
        .user("What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae")
        .assistant("The answer is (")
    )
    _show("prefill request", quiz.to_payload(model=MODEL, max_tokens=1), out)
    quiz = quiz.fold(_reply("C", stop="max_tokens", usage=(42, 1)))
    turn = quiz[-1]
    prefill = turn.provenance.prefill if turn.provenance else ()
    out(f"after fold: {len(quiz)} turns; the last is {turn.text!r}")
    out(f"  prefill kept in provenance: {Turn('assistant', prefill).text!r}")

    # 3. Vision: an image block and a question in one user turn.
    vision = Conversation().user([Image.from_bytes(_tiny_png()), "What is in this image?"])
    _show("vision request", vision.to_payload(model=MODEL, max_tokens=1024), out)
    vision = vision.fold(_reply("This image shows two red and two blue pixels.", usage=(1551, 71)))

    # 4. Tools: the model asks for a tool, the program answers, the model replies.
    tools = [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        }
    ]
    weather = Conversation().user("What's the weather in Paris?")
    weather = weather.fold(
        {
            **_reply("Let me check.", stop="tool_use"),
            "content": [
                {"type": "text", "text": "Let me check."},
                {
                    "type": "tool_use",
                    "id": "toolu_01A",
                    "name": "get_weather",
                    "input": {"location": "Paris"},
                },
            ],
        }
    )
    weather = weather.user([ToolResult("toolu_01A", "15 degrees, cloudy")])
    _show(
        "tool loop request (tool_use answered by tool_result)",
        weather.to_payload(model=MODEL, max_tokens=1024, tools=tools),
        out,
    )
    weather = weather.fold(_reply("It is 15 degrees and cloudy in Paris."))

    # 5. Branching: two futures of one history share every earlier turn.
    left = chat.user("Shorter, please.")
    right = chat.user("Now explain it to a child.")
    shared = left[:4] == right[:4] == chat
    out(f"\n== branches: {len(left)} and {len(right)} turns; shared prefix equal: {shared}")

    # 6. Fail before sending: the API would answer 400; nothing goes out.
    try:
        quiz.user("And bees?").assistant("The answer is ").to_json(model=MODEL, max_tokens=1)
    except RuleViolationError as error:
        out(f"\n== caught before sending:\n{error}")

    # 7. Save and load: everything kept, provenance included.
    saved = weather.dumps()
    restored = Conversation.loads(saved)
    out(f"\n== saved {len(saved)} characters; loads(dumps(c)) == c: {restored == weather}")
    out(f"total usage of the tool conversation: {weather.usage}")
    return weather
