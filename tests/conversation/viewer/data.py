"""The viewer tests' store: a real SQLite file with every kind of turn the pages show.

``tools/screenshots.py`` builds the same store when there are no export
samples to import.
"""

from __future__ import annotations

import base64
import struct
import zlib
from pathlib import Path

import attrs

from conversation import (
    Base64Source,
    Conversation,
    Image,
    Provenance,
    ReplyInfo,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    Turn,
    URLSource,
    Usage,
)
from conversation.store import SQLiteStore
from tests.images import PNG_SIGNATURE, png_chunk

__all__ = ["HOSTILE", "HOSTILE_TITLE", "Sample", "build", "picture"]

SCRIPT = "<script>window.__pwned = 'script'; console.log('PWNED script')</script>"
IMG = "<img src=x onerror=\"window.__pwned = 'img'; console.log('PWNED img')\">"
HOSTILE = f"Please render this: {SCRIPT} and {IMG}"
"""A prompt made of markup that would run script if the viewer wrote it as HTML."""
HOSTILE_TITLE = "<img src=y onerror=\"window.__pwned = 'title'\"> title"
CODE = 'def greet(name):\n    return f"<b>Hello, {name}</b>"'


def picture(width: int = 64, height: int = 40) -> bytes:
    """A real PNG (a colour gradient) a browser can decode and draw."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 6 % 256, 160)) for x in range(width))
        for y in range(height)
    )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def reply(model: str, content: tuple[object, ...] | str, tokens: tuple[int, int]) -> Turn:
    """An assistant turn as a model wrote it: its model and token usage in the provenance."""
    info = ReplyInfo(
        id="msg_test", model=model, stop_reason="end_turn", usage=Usage(tokens[0], tokens[1])
    )
    return Turn("assistant", content, Provenance((info,)))


@attrs.frozen
class Sample:
    """The store file and the conversations in it, by what each shows."""

    path: Path
    trip: Conversation  # named "trip"; forks at its last reply (belem) and at turn 3 (week)
    belem: Conversation
    week: Conversation
    rich: Conversation  # code, an image, thinking, a tool call and result, a synthetic turn
    hostile: Conversation  # markup everywhere a person or a model writes
    imported: Conversation  # has an app title in its import metadata


def build(path: Path) -> Sample:
    """Write the sample store at ``path`` (a new SQLite file)."""
    start = (
        Conversation(system="Be brief.")
        .user("Plan a trip to Lisbon")
        .append(reply("claude-sonnet-4-5", "Three days?", (120, 5)))
    )
    trip = start.user("Yes, three").append(
        reply("claude-sonnet-4-5", "Day 1: Alfama and the castle.\nDay 2: Sintra.", (140, 45))
    )
    belem = start.user("Yes, three").append(
        reply("claude-opus-4-1", "Day 1: Belém and the tower.\nDay 2: Sintra.", (140, 44))
    )
    week = start.user("No, a week")
    png = base64.b64encode(picture()).decode()
    rich = (
        Conversation()
        .user(
            (
                Text("What is in this picture? And write me a greeting function."),
                Image(Base64Source("image/png", png)),
            )
        )
        .append(
            reply(
                "claude-opus-4-1",
                (
                    Thinking("The picture is a gradient. I should check the weather tool.", "sig"),
                    Text(f"A colour gradient. Here is the function:\n\n```python\n{CODE}\n```"),
                    ToolUse("toolu_1", "get_weather", {"city": "Lisbon"}),
                ),
                (1500, 320),
            )
        )
        .user((ToolResult("toolu_1", "18°C, sunny"),))
        .assistant("Noted by hand: it is sunny in Lisbon.")  # synthetic: no model wrote it
    )
    hostile = (
        Conversation()
        .with_metadata({"import": {"app": "claude", "title": HOSTILE_TITLE}})
        .user(HOSTILE)
        .append(
            reply(
                "<b>model</b>",
                (
                    Text(f"You wrote: {SCRIPT} {IMG}\n```html\n{IMG}\n```"),
                    ToolUse("toolu_x", "<svg onload=alert(1)>", {"html": SCRIPT}),
                ),
                (10, 10),
            )
        )
        .user(
            (
                Text("A link:"),
                Image(URLSource("javascript:window.__pwned='url'")),
                Image(Base64Source("image/svg+xml", base64.b64encode(SCRIPT.encode()).decode())),
            )
        )
    )
    imported = (
        Conversation()
        .with_metadata(
            {
                "import": {
                    "app": "claude",
                    "title": "Sourdough starter",
                    "updated": "2025-02-03T10:00:00+00:00",
                }
            }
        )
        .user("How do I feed a starter?")
        .append(reply("claude-3-5-sonnet", "Equal weights of flour and water, daily.", (30, 12)))
    )
    with SQLiteStore(path) as store:
        store.save(trip, name="trip")
        store.save(belem)
        store.save(week)
        store.save(rich, name="rich")
        store.save(hostile, name="<i>hostile</i>")
        store.save(imported, name="claude/sourdough")
    return Sample(path, trip, belem, week, rich, hostile, imported)
