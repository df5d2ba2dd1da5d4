"""Figure 5: the save format, ``Conversation.loads(c.dumps())`` of 10k turns.

The round trip is timed on a freshly built conversation each call (the library
may cache its serialized form; the building is not timed). The dumps and the
loads are also timed apart, as information.

- floor: ``orjson.loads(orjson.dumps(payload))`` of the equivalent payload dict;
- SDK idioms: ``json.loads(json.dumps(messages))``, and the same followed by
  the SDK's own validation of the result as ``list[MessageParam]``
  (``anthropic._models.validate_type``, a cached pydantic TypeAdapter).

Target: the round trip at most 5x the floor.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import _data
import orjson
from _timing import Calls, Config, Entry, FreshCalls, Row, fmt_bytes, main, size_label, time_entries
from anthropic._models import validate_type
from anthropic.types import MessageParam

TARGET = 5.0


def sdk_roundtrip(messages: list[dict[str, Any]]) -> Any:
    return json.loads(json.dumps(messages))


def sdk_roundtrip_validated(messages: list[dict[str, Any]]) -> Any:
    return validate_type(type_=list[MessageParam], value=json.loads(json.dumps(messages)))  # type: ignore[arg-type]


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    n = 1_000 if cfg.quick else 10_000
    pairs = _data.text_pairs(n, seed=5)
    max_number = max(3, 100_000 // n)
    fig = f"5. save {size_label(n)} turns"
    notes: list[str] = []

    def fresh_messages() -> list[dict[str, Any]]:
        return _data.message_dicts(pairs)

    def fresh_payload() -> dict[str, Any]:
        return _data.payload(_data.message_dicts(pairs))

    def roundtrip(p: dict[str, Any]) -> Any:
        return orjson.loads(orjson.dumps(p))

    sdk_roundtrip_validated(fresh_messages())  # build the SDK's TypeAdapter before timing
    wire = orjson.dumps(fresh_payload())
    entries = [
        Entry(
            fig,
            "floor",
            "orjson.loads(orjson.dumps(payload))",
            FreshCalls(fresh_payload, roundtrip, max_number),
        ),
    ]
    halves: list[Entry] = []
    if conversation_cls is None:
        notes.append(f"save: {why}")
        entries.append(Entry(fig, "ours", "Conversation.loads(c.dumps())", None, TARGET))
    else:

        def fresh_conversation() -> Any:
            return _data.build_conversation(conversation_cls, pairs)

        def ours_roundtrip(c: Any) -> Any:
            return conversation_cls.loads(c.dumps())

        c = fresh_conversation()
        text = c.dumps()
        if conversation_cls.loads(text) != c:
            notes.append("save: Conversation.loads(c.dumps()) != c")
        del c
        notes.append(
            f"save: the saved text of {size_label(n)} turns is {fmt_bytes(len(text.encode()))}, "
            f"the wire payload {fmt_bytes(len(wire))}"
        )
        entries.append(
            Entry(
                fig,
                "ours",
                "Conversation.loads(c.dumps())",
                FreshCalls(fresh_conversation, ours_roundtrip, max_number),
                TARGET,
            )
        )
        # the two halves apart, each against its own orjson floor (information)
        fig_dumps, fig_loads = f"{fig}: dumps alone", f"{fig}: loads alone"
        halves = [
            Entry(
                fig_dumps,
                "floor",
                "orjson.dumps(payload)",
                FreshCalls(fresh_payload, orjson.dumps, max_number),
            ),
            Entry(
                fig_dumps,
                "ours",
                "c.dumps()",
                FreshCalls(fresh_conversation, lambda c: c.dumps(), max_number),
            ),
            Entry(
                fig_loads,
                "floor",
                "orjson.loads(wire bytes)",
                Calls(lambda: orjson.loads(wire), True, max_number),
            ),
            Entry(
                fig_loads,
                "ours",
                "Conversation.loads(text)",
                Calls(lambda: conversation_cls.loads(text), True, max_number),
            ),
        ]
    entries += [
        Entry(
            fig,
            "sdk",
            "json.loads(json.dumps(messages))",
            FreshCalls(fresh_messages, sdk_roundtrip, max_number),
        ),
        Entry(
            fig,
            "sdk",
            "... + validate_type(list[MessageParam])",
            FreshCalls(fresh_messages, sdk_roundtrip_validated, max_number),
        ),
        *halves,
    ]
    rows, _ = time_entries(entries, cfg)
    return rows, notes


if __name__ == "__main__":
    sys.exit(main("bench_save (figure 5)", [run]))
