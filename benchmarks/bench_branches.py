"""Figure 2: the memory of many branches off one long history.

A 2,000-turn history ``h``, then 1,000 one-turn branches off it,
``[h.user(f"branch {i}") for i in range(1000)]``, measured with ``tracemalloc``:
the bytes of the history alone, and the extra bytes of the 1,000 branches.
The figure is extra / history: a persistent chain pays one turn per branch, so
about 1,000 turns against 2,000; a copy per branch pays 1,000 histories.

- SDK idiom: the history is a list of ``MessageParam`` dicts and each branch is
  ``[*history, {"role": "user", "content": f"branch {i}"}]`` (a list copy).

The turn texts of the history are prebuilt before measuring (they are the
caller's data, shared by both idioms); the branch texts are made inside the
measured step, as the idiom writes them.

Target: extra / history at most 1.5x. Not met since turns are kept in runs
of 64 rather than one object each: the history costs about 21 B a turn, and a
branch's own text and Conversation object alone come to about 160 B, more than
1.5x its share of the history; the B/turn and B/branch printed beside the ratio
say where the bytes go.
"""

from __future__ import annotations

import sys
from typing import Any

import _data
from _timing import AllocMeter, Config, Row, fmt_bytes, main, settle

TARGET = 1.5


def sdk_history(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for u, a in pairs:
        messages.append({"role": "user", "content": u})
        messages.append({"role": "assistant", "content": a})
    return messages


def sdk_branches(history: list[dict[str, Any]], k: int) -> list[list[dict[str, Any]]]:
    return [[*history, {"role": "user", "content": f"branch {i}"}] for i in range(k)]


def ours_branches(history: Any, k: int) -> list[Any]:
    return [history.user(f"branch {i}") for i in range(k)]


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    n_turns, n_branches = (200, 100) if cfg.quick else (2_000, 1_000)
    pairs = _data.text_pairs(n_turns, seed=2)
    fig = f"2. branches {n_branches} off {n_turns} turns"
    rows: list[Row] = []
    notes: list[str] = []
    settle()

    with AllocMeter() as meter:
        sdk_hist_bytes, history = meter.measure(lambda: sdk_history(pairs))
        sdk_extra, branches = meter.measure(
            lambda history=history: sdk_branches(history, n_branches)
        )
        del history, branches

        if conversation_cls is None:
            notes.append(f"branches: {why}")
        else:
            ours_hist_bytes, h = meter.measure(
                lambda: _data.build_conversation(conversation_cls, pairs)
            )
            ours_extra, obranches = meter.measure(lambda h=h: ours_branches(h, n_branches))
            if len(obranches[-1]) != n_turns + 1:
                notes.append(
                    f"branches: a branch has {len(obranches[-1])} turns, expected {n_turns + 1}"
                )
            del h, obranches

    def describe(hist: int, extra: int) -> str:
        return f"history {fmt_bytes(hist)} ({hist / n_turns:.0f} B/turn), +{fmt_bytes(extra)} ({extra / n_branches:.0f} B/branch)"

    if conversation_cls is None:
        rows.append(
            Row(fig, "ours", "h.user(...) per branch", "n/a", None, TARGET, "core not importable")
        )
    else:
        rows.append(
            Row(
                fig,
                "ours",
                "h.user(...) per branch",
                describe(ours_hist_bytes, ours_extra),
                ours_extra / ours_hist_bytes,
                TARGET,
            )
        )
    rows.append(
        Row(
            fig,
            "sdk",
            "[*history, new dict] per branch",
            describe(sdk_hist_bytes, sdk_extra),
            sdk_extra / sdk_hist_bytes,
        )
    )
    if conversation_cls is not None:
        rows.append(
            Row(
                fig,
                "ours",
                "(memory vs the SDK's, history | extra)",
                f"{ours_hist_bytes / sdk_hist_bytes:.3g}x | {ours_extra / sdk_extra:.3g}x",
                None,
            )
        )
    return rows, notes


if __name__ == "__main__":
    sys.exit(main("bench_branches (figure 2)", [run]))
