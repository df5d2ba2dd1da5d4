"""Figure 3: serializing a conversation to the request body (``to_json``).

For conversations of 1k and 10k alternating text turns:

- first time: ``c.to_json(model=..., max_tokens=...)`` on a freshly built
  conversation (the library may cache; each timed call gets one it has never
  serialized; the building is not timed);
- after one append: ``c.to_json(...)`` once, then ``c.user("x").to_json(...)``
  timed, each call appending afresh to the already-serialized ``c``.

- after one append, 16 branches: branches of one root, each with 2k turns of
  its own after a 4k-turn shared prefix, each serialized once; the timed calls
  go round-robin over the branches, ``b.user("x").to_json(...)``, beside the
  one-branch case on a 6k-turn conversation, and the ledger's memory for the
  workload (``tracemalloc``: what the calls leave allocated, the JSON and the
  UTF-8 forms of the texts that encoding caches) beside the memory of the
  turns themselves (their texts included).

- floor: ``orjson.dumps`` of the equivalent prebuilt payload dict;
- SDK idioms: ``json.dumps(payload)`` of the ``MessageParam`` dicts, and the
  SDK's own request encoding, as ``client.messages.create`` runs it before
  sending: ``openapi_dumps(prepare_request_data(body, location="body"))``, the
  body holding every optional field as ``not_given``.

Targets at 10k: first time at most 8x the floor; after one append at most 0.5x.
Round-robin over 16 branches: at most 2x the one-branch time.
"""

from __future__ import annotations

import itertools
import json
import sys
from typing import Any

import _data
import orjson
from _data import MAX_TOKENS, MODEL
from _timing import (
    AllocMeter,
    Calls,
    Config,
    Entry,
    FreshCalls,
    Row,
    fmt_bytes,
    main,
    size_label,
    time_entries,
)

try:  # the SDK's own body encoding (anthropic 2.x internals; absent from older releases)
    from anthropic._utils import prepare_request_data
    from anthropic._utils._json import openapi_dumps
except ImportError:  # pragma: no cover - depends on the installed SDK
    prepare_request_data = openapi_dumps = None

TARGET_FIRST = 8.0
TARGET_AFTER_APPEND = 0.5
TARGET_ROUND_ROBIN = 2.0
BRANCHES = 16


def sdk_encode(body: dict[str, Any]) -> bytes:
    """What ``messages.create`` does to the body before handing it to httpx."""
    return openapi_dumps(prepare_request_data(body, location="body"))


def to_json(c: Any) -> bytes:
    return c.to_json(model=MODEL, max_tokens=MAX_TOKENS)  # type: ignore[no-any-return]


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    sizes = (100, 1_000) if cfg.quick else (1_000, 10_000)
    target_size = sizes[-1]
    rows: list[Row] = []
    notes: list[str] = []
    if conversation_cls is None:
        notes.append(f"to_json: {why}")
    if openapi_dumps is None:
        notes.append(
            "to_json: this SDK has no openapi_dumps/prepare_request_data; its encoding row is left out"
        )

    for n in sizes:
        pairs = _data.text_pairs(n, seed=3)
        max_number = max(3, 100_000 // n)  # bound the fresh inputs built per sample
        last = n == target_size

        def fresh_payload(pairs: list[tuple[str, str]] = pairs) -> dict[str, Any]:
            return _data.payload(_data.message_dicts(pairs))

        def fresh_body(pairs: list[tuple[str, str]] = pairs) -> dict[str, Any]:
            return _data.sdk_body(_data.message_dicts(pairs))

        pairs_plus = [*pairs, ("x", "")]
        messages_plus = _data.message_dicts(pairs_plus)[:-1]  # n + 1 turns, the last one "x"
        payload_plus = _data.payload(messages_plus)
        body_plus = _data.sdk_body(messages_plus)

        ours_first: FreshCalls | None = None
        ours_append: Calls | None = None
        ours_again: Calls | None = None
        if conversation_cls is not None:
            c = _data.build_conversation(conversation_cls, pairs)
            if to_json(c) != orjson.dumps(fresh_payload()):
                notes.append(
                    f"to_json: at {size_label(n)}, c.to_json(...) != orjson.dumps(payload)"
                )
            if to_json(c.user("x")) != orjson.dumps(payload_plus):
                notes.append(
                    f"to_json: at {size_label(n)}, c.user('x').to_json(...) != orjson.dumps(payload)"
                )
            del c
            ours_first = FreshCalls(
                lambda p=pairs: _data.build_conversation(conversation_cls, p), to_json, max_number
            )
            base = _data.build_conversation(conversation_cls, pairs)
            to_json(base)  # serialized once, before the clock
            ours_append = Calls(lambda b=base: to_json(b.user("x")))
            ours_again = Calls(lambda b=base: to_json(b))

        # -- the first time
        fig = f"3. to_json {size_label(n)} first time"
        entries = [
            Entry(
                fig,
                "floor",
                "orjson.dumps(payload)",
                FreshCalls(fresh_payload, orjson.dumps, max_number),
            ),
            Entry(fig, "ours", "fresh c.to_json(...)", ours_first, TARGET_FIRST if last else None),
            Entry(
                fig, "sdk", "json.dumps(payload)", FreshCalls(fresh_payload, json.dumps, max_number)
            ),
        ]
        if openapi_dumps is not None:
            entries.append(
                Entry(
                    fig,
                    "sdk",
                    "SDK request encoding",
                    FreshCalls(fresh_body, sdk_encode, max_number),
                )
            )

        # -- again, after appending one turn to a serialized conversation
        fig = f"3. to_json {size_label(n)} after 1 append"
        target = TARGET_AFTER_APPEND if last else None
        entries += [
            Entry(
                fig,
                "floor",
                "orjson.dumps(payload + 1)",
                Calls(lambda p=payload_plus: orjson.dumps(p)),
            ),
            Entry(fig, "ours", 'c.user("x").to_json(...)', ours_append, target),
            Entry(fig, "ours", "c.to_json(...) again, unchanged c", ours_again),
            Entry(
                fig, "sdk", "json.dumps(payload + 1)", Calls(lambda p=payload_plus: json.dumps(p))
            ),
        ]
        if openapi_dumps is not None:
            entries.append(
                Entry(fig, "sdk", "SDK request encoding", Calls(lambda b=body_plus: sdk_encode(b)))
            )
        rows += time_entries(entries, cfg)[0]
    return rows, notes


def run_branches(cfg: Config) -> tuple[list[Row], list[str]]:
    """After one append, round-robin over branches with long tails of their own."""
    conversation_cls, why = _data.load_conversation()
    shared, own = (400, 200) if cfg.quick else (4_000, 2_000)
    if conversation_cls is None:
        return [], [f"to_json branches: {why}"]

    def text_pairs() -> tuple[list[tuple[str, str]], list[list[tuple[str, str]]]]:
        shared_pairs = _data.text_pairs(shared, seed=5)
        return shared_pairs, [_data.text_pairs(own, seed=100 + i) for i in range(BRANCHES)]

    def grow(base: Any, pairs: list[tuple[str, str]]) -> Any:
        for u, a in pairs:
            base = base.user(u).assistant(a)
        return base

    def build_branches() -> list[Any]:
        shared_pairs, tails = text_pairs()  # the texts are part of the turns measured
        root = grow(conversation_cls(), shared_pairs)
        return [grow(root, pairs) for pairs in tails]

    def send_round(branches: list[Any]) -> None:
        for b in branches:
            to_json(b.user("x"))

    with AllocMeter() as meter:
        turns_bytes, branches = meter.measure(build_branches)
        ledger_bytes, _ = meter.measure(lambda: send_round(branches))
    prefix_pairs, tails = text_pairs()
    one_pairs = [*prefix_pairs, *tails[0]]
    payload_plus = _data.payload(_data.message_dicts([*one_pairs, ("x", "")])[:-1])
    notes = []
    if to_json(branches[0].user("x")) != orjson.dumps(payload_plus):
        notes.append("to_json branches: b.user('x').to_json(...) != orjson.dumps(payload)")
    one = _data.build_conversation(conversation_cls, one_pairs)
    to_json(one.user("x"))
    turn = itertools.cycle(branches).__next__

    label = f"{size_label(shared)} + {BRANCHES} x {size_label(own)}"
    fig = f"3. to_json {label} after 1 append"
    entries = [
        Entry(
            fig,
            "floor",
            "orjson.dumps(payload + 1), one branch",
            Calls(lambda: orjson.dumps(payload_plus)),
        ),
        Entry(
            fig,
            "ours",
            'c.user("x").to_json(...), one branch',
            Calls(lambda: to_json(one.user("x"))),
        ),
        Entry(
            fig,
            "ours",
            f'b.user("x").to_json(...), {BRANCHES} branches in turn',
            Calls(lambda: to_json(turn().user("x"))),
        ),
    ]
    rows, seconds = time_entries(entries, cfg)
    single, round_robin = seconds[1], seconds[2]
    assert single is not None
    assert round_robin is not None
    rows.append(
        Row(
            fig,
            "ours",
            "round-robin / one branch",
            f"{round_robin / single:.3g}x",
            round_robin / single,
            TARGET_ROUND_ROBIN,
        )
    )
    rows.append(
        Row(
            fig,
            "ours",
            "memory: encoded work / the turns",
            f"{fmt_bytes(ledger_bytes)} / {fmt_bytes(turns_bytes)}",
            ledger_bytes / turns_bytes,
        )
    )
    return rows, notes


if __name__ == "__main__":
    sys.exit(main("bench_to_json (figure 3)", [run, run_branches]))
