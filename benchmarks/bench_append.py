"""Figure 1: appending turns.

Builds conversations of 1k / 10k / 100k alternating user/assistant text turns
from prebuilt strings, with ``c = c.user(s)`` / ``c = c.assistant(s)``.

- floor: ``list.append`` of prebuilt message dicts, per turn;
- SDK idiom: a ``MessageParam`` dict built per turn and appended to a list
  (the SDK's message params are TypedDicts, so this is how its users do it).

Targets: at most 60x the floor per turn at 10k; linearity t(100k)/t(10k) at most 12x.

Figure 1b builds a 10k-turn agent history, every 10th exchange a tool call
(a ``tool_use`` answered by a ``tool_result`` holding text), with the GC on,
its blocks given as objects and as wire dicts. Target: at most 2.5x the SDK's
idiom of building the same message dicts, measured in the same run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import _data
from _timing import Calls, Config, Entry, GcMeter, Row, fmt_time, main, size_label, time_entries

TARGET_PER_TURN = 60.0
TARGET_LINEARITY = 12.0


def floor_build(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for du, da in pairs:
        messages.append(du)
        messages.append(da)
    return messages


def sdk_build(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for u, a in pairs:
        messages.append({"role": "user", "content": u})
        messages.append({"role": "assistant", "content": a})
    return messages


def ours_build(conversation_cls: type[Any], pairs: list[tuple[str, str]]) -> Any:
    c = conversation_cls()
    for u, a in pairs:
        c = c.user(u)
        c = c.assistant(a)
    return c


WHAT = {
    "floor": "list.append(prebuilt dict)",
    "ours": "c = c.user(s) / c.assistant(s)",
    "sdk": 'list.append({"role": .., "content": s})',
}


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    sizes = (100, 1_000, 10_000) if cfg.quick else (1_000, 10_000, 100_000)
    target_size = sizes[1]
    all_pairs = _data.text_pairs(sizes[-1])
    notes: list[str] = []
    if conversation_cls is None:
        notes.append(f"append: {why}")

    # every size and every contender in one interleaved measurement
    entries: list[Entry] = []
    for n in sizes:
        pairs = all_pairs[: n // 2]
        dpairs = _data.dict_pairs(pairs)
        max_number = max(1, 200_000 // n)  # bound the turns held alive at once
        fig = f"1. append {size_label(n)} turns"
        ours: Calls | None = None
        if conversation_cls is not None:
            built = ours_build(conversation_cls, pairs)
            if len(built) != n:
                notes.append(f"append: len(c) is {len(built)} after {n} appends")
            del built
            ours = Calls(lambda p=pairs: ours_build(conversation_cls, p), True, max_number)
        target = TARGET_PER_TURN if n == target_size else None
        floor = Calls(lambda d=dpairs: floor_build(d), True, max_number)
        sdk = Calls(lambda p=pairs: sdk_build(p), True, max_number)
        entries += [
            Entry(fig, "floor", WHAT["floor"], floor, per=n, unit="/turn"),
            Entry(fig, "ours", WHAT["ours"], ours, target, per=n, unit="/turn"),
            Entry(fig, "sdk", WHAT["sdk"], sdk, per=n, unit="/turn"),
        ]
    rows, seconds = time_entries(entries, cfg)

    t = {(e.who, e.per): sec for e, sec in zip(entries, seconds, strict=True)}
    small, big = sizes[1], sizes[2]
    fig = f"1. append linearity t({size_label(big)})/t({size_label(small)})"
    for who in ("floor", "ours", "sdk"):
        target = TARGET_LINEARITY if who == "ours" else None
        t_big, t_small = t[who, big], t[who, small]
        if t_big is None or t_small is None:
            rows.append(Row(fig, who, WHAT[who], "n/a", None, target, "core not importable"))
        else:
            ratio = t_big / t_small
            value = f"{ratio:.3g} (ideal {big / small:g})"
            rows.append(Row(fig, who, WHAT[who], value, ratio, target))
    return rows, notes


TARGET_MIXED = 2.5


def sdk_build_mixed(pairs: list[tuple[_data.MixedItem, _data.MixedItem]]) -> list[dict[str, Any]]:
    return _data.mixed_message_dicts(pairs)


def run_mixed(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 1b: a 10k-turn agent history (every 10th exchange a tool call), GC on.

    The floor here is the SDK's idiom itself (a dict per turn, block dicts
    built per turn): the target is a ratio to it, measured in the same run.
    """
    conversation_cls, why = _data.load_conversation()
    n = 10_000
    pairs = _data.mixed_pairs(n)
    notes: list[str] = []
    if conversation_cls is None:
        notes.append(f"append mixed: {why}")
    fig = f"1b. append {size_label(n)} mixed turns, GC on"
    objects: Calls | None = None
    dicts: Calls | None = None
    if conversation_cls is not None:
        for as_objects in (True, False):
            built = _data.build_mixed(conversation_cls, pairs, as_objects)
            if built.to_payload(model="m", max_tokens=1)["messages"] != sdk_build_mixed(pairs):
                notes.append(f"append mixed: the built history differs (objects={as_objects})")
            del built
        objects = Calls(lambda: _data.build_mixed(conversation_cls, pairs, True), True, 20, True)
        dicts = Calls(lambda: _data.build_mixed(conversation_cls, pairs, False), True, 20, True)
    target = TARGET_MIXED
    entries = [
        Entry(
            fig,
            "floor",
            "SDK idiom: list.append({..}), block dicts",
            Calls(lambda: sdk_build_mixed(pairs), True, 20, True),
            per=n,
            unit="/turn",
        ),
        Entry(
            fig,
            "ours",
            "c.user(ToolResult(..)), c.assistant(ToolUse(..))",
            objects,
            target,
            per=n,
            unit="/turn",
        ),
        Entry(
            fig,
            "ours",
            "c.user([{..}]), c.assistant([{..}]) (wire dicts)",
            dicts,
            target,
            per=n,
            unit="/turn",
        ),
    ]
    rows = time_entries(entries, cfg)[0]
    notes += [gc_note(e.what, e.case.fn) for e in entries if isinstance(e.case, Calls)]
    return rows, notes


def gc_note(what: str, build: Callable[[], object], number: int = 20) -> str:
    """What the cyclic GC did during ``number`` builds kept alive, as the figure runs them."""
    meter = GcMeter()
    seconds = meter.run(build, number)
    gen0, gen1, gen2 = meter.counts
    return (
        f"append mixed, GC during {number} builds of {what}: {gen0}/{gen1}/{gen2} collections "
        f"of generation 0/1/2, {fmt_time(meter.seconds)} of {fmt_time(seconds)} "
        f"({meter.seconds / seconds:.0%})"
    )


if __name__ == "__main__":
    sys.exit(main("bench_append (figure 1)", [run, run_mixed]))
