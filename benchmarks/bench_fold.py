"""Figure 4: folding a reply into the conversation.

``c.fold(reply_bytes)`` on a short conversation (one user turn), the reply
being the JSON bytes (about 2 KB) of a Messages API response: a text block, a
tool_use block with a nested input, a ``usage`` with the cache fields.

- floor: ``orjson.loads(reply_bytes)``;
- SDK idiom: ``Message.model_validate_json(reply_bytes).to_param()`` appended
  to a copy of the message list (the SDK's own way to put a reply back into
  the history).

Target: at most 5x the floor.
"""

from __future__ import annotations

import sys
from typing import Any

import _data
import orjson
from _timing import Calls, Config, Entry, Row, main, time_entries
from anthropic.types import Message

TARGET = 5.0
QUESTION = "What is the weather in Paris and Berlin for the next three days?"


def sdk_fold(messages: list[Any], raw: bytes) -> list[Any]:
    history = messages.copy()
    history.append(Message.model_validate_json(raw).to_param())
    return history


def sdk_fold_dump(messages: list[Any], raw: bytes) -> list[Any]:
    """For SDKs without ``Message.to_param()``: dump the content back to dicts."""
    history = messages.copy()
    message = Message.model_validate_json(raw)
    history.append(
        {"role": message.role, "content": message.model_dump(exclude_none=True)["content"]}
    )
    return history


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    raw = _data.reply_bytes()
    fig = f"4. fold {len(raw) / 1024:.1f} KiB reply"
    notes: list[str] = []
    if hasattr(Message, "to_param"):
        sdk_idiom, sdk_what = sdk_fold, "Message.model_validate_json(b).to_param()"
    else:  # older SDKs
        sdk_idiom, sdk_what = sdk_fold_dump, "Message.model_validate_json(b) + model_dump"
        notes.append(
            "fold: this SDK has no Message.to_param(); model_dump(exclude_none=True) is used"
        )
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    reply = orjson.loads(raw)
    entries = [Entry(fig, "floor", "orjson.loads(reply_bytes)", Calls(lambda: orjson.loads(raw)))]
    if conversation_cls is None:
        notes.append(f"fold: {why}")
        entries.append(Entry(fig, "ours", "c.fold(reply_bytes)", None, TARGET))
    else:
        c = conversation_cls().user(QUESTION)
        folded = c.fold(raw)
        if len(folded) != 2:
            notes.append(f"fold: the folded conversation has {len(folded)} turns, expected 2")
        entries += [
            Entry(fig, "ours", "c.fold(reply_bytes)", Calls(lambda: c.fold(raw)), TARGET),
            Entry(fig, "ours", "c.fold(reply_dict) (already parsed)", Calls(lambda: c.fold(reply))),
        ]
    entries.append(Entry(fig, "sdk", sdk_what, Calls(lambda: sdk_idiom(messages, raw))))
    rows, _ = time_entries(entries, cfg)
    return rows, notes


if __name__ == "__main__":
    sys.exit(main("bench_fold (figure 4)", [run]))
