"""Figure 18: importing chat-app exports into a SQLite store (``conversation.imports``).

18a. A ChatGPT export of 1,000 generated conversations (a hidden system
     preamble, 10 turns, one regenerated answer: two branches each, texts from
     ``_data``), written as ``conversations.json``: ``import_into(store,
     read_chatgpt(path))`` into a fresh store file, end to end (parse, build
     every branch, save each, name the active one). Floor: ``orjson.loads`` of
     the same file, then ``store.save`` of the equivalent Conversations (the
     same branches, metadata and names, built before the clock starts) into a
     fresh store: the work an import cannot avoid. Target: at most 2x.
18b. The same for a Claude.ai export of 1,000 conversations of 10 messages.
18c. Every public sample in ``../shared/exports`` (when it is there) imported
     into one fresh store: the seconds it takes (information, no floor).

With ``--quick``: 100 conversations, samples included.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _data
import orjson
from _timing import Config, Row, clock, fmt_time, main

from conversation.imports import Dialogue, import_into, read_chatgpt, read_claude
from conversation.store import SQLiteStore

TARGET = 2.0
TURNS = 10
SHARED = Path(__file__).resolve().parents[2] / "shared" / "exports"


def add(
    nodes: dict[str, dict[str, Any]], key: str, parent: str | None, role: str | None, text: str
) -> None:
    """Add a mapping node (a text message, or the empty root) under ``parent``."""
    message = None
    if role is not None:
        hidden = {"is_visually_hidden_from_conversation": True} if role == "system" else {}
        message = {
            "id": key,
            "author": {"role": role, "name": None, "metadata": {}},
            "create_time": 1.76e9 + len(nodes),
            "content": {"content_type": "text", "parts": [text]},
            "status": "finished_successfully",
            "metadata": {"model_slug": "gpt-4o", **hidden},
            "recipient": "all",
        }
    nodes[key] = {"id": key, "message": message, "parent": parent, "children": []}
    if parent is not None:
        nodes[parent]["children"].append(key)


def chatgpt_export(n: int) -> list[dict[str, Any]]:
    """``n`` ChatGPT conversation objects, each a preamble and two branches of TURNS turns."""
    texts = _data.turn_texts(TURNS + 1, seed=16)
    found = []
    for i in range(n):
        ident = f"c{i:05d}"
        nodes: dict[str, dict[str, Any]] = {}
        add(nodes, f"{ident}-root", None, None, "")
        add(nodes, f"{ident}-sys", f"{ident}-root", "system", "")
        parent = f"{ident}-sys"
        for t in range(TURNS):
            role = "user" if t % 2 == 0 else "assistant"
            add(nodes, f"{ident}-{t}", parent, role, f"{i} {texts[t]}")
            parent = f"{ident}-{t}"
        add(nodes, f"{ident}-again", f"{ident}-{TURNS - 2}", "assistant", texts[TURNS])
        found.append(
            {
                "title": f"Conversation {i}",
                "create_time": 1.76e9,
                "update_time": 1.76e9 + 60,
                "mapping": nodes,
                "current_node": parent,
                "conversation_id": ident,
                "id": ident,
            }
        )
    return found


def claude_export(n: int) -> list[dict[str, Any]]:
    """``n`` Claude.ai conversation objects of TURNS messages each (2025 format)."""
    texts = _data.turn_texts(TURNS, seed=17)
    stamp = "2025-02-24T10:00:00.000000Z"
    return [
        {
            "uuid": f"k{i:05d}",
            "name": f"Conversation {i}",
            "created_at": stamp,
            "updated_at": stamp,
            "chat_messages": [
                {
                    "uuid": f"k{i:05d}-{t}",
                    "text": f"{i} {text}",
                    "content": [{"type": "text", "text": f"{i} {text}", "citations": []}],
                    "sender": "human" if t % 2 == 0 else "assistant",
                    "created_at": stamp,
                    "updated_at": stamp,
                    "attachments": [],
                    "files": [],
                }
                for t, text in enumerate(texts)
            ],
        }
        for i in range(n)
    ]


def best(cfg: Config, run: Callable[[int], None]) -> float:
    """The least seconds of ``run(k)`` over the repeats (each call gets a fresh ``k``)."""
    times = []
    for k in range(1 if cfg.quick else 3):
        started = clock()
        run(k)
        times.append(clock() - started)
    return min(times)


def figure(
    cfg: Config,
    label: str,
    export: list[dict[str, Any]],
    reader: Callable[[Path], Any],
    folder: Path,
) -> list[Row]:
    path = folder / f"{label}.json"
    path.write_bytes(orjson.dumps(export))
    dialogues: list[Dialogue] = list(reader(path))

    def ours(k: int) -> None:
        with SQLiteStore(folder / f"{label}-ours-{k}.db") as store:
            import_into(store, reader(path))

    def floor(k: int) -> None:
        orjson.loads(path.read_bytes())
        with SQLiteStore(folder / f"{label}-floor-{k}.db") as store:
            for d in dialogues:
                for c in d.conversations:
                    store.save(c, name=d.name if c is d.active else None)

    n = len(export)
    fig = f"18{'a' if label == 'chatgpt' else 'b'}. import {n:,} {label} conversations"
    floor_s, ours_s = best(cfg, floor), best(cfg, ours)
    branches = sum(len(d.conversations) for d in dialogues)
    what = "orjson.loads(file) + store.save of the same Conversations"
    return [
        Row(fig, "floor", what, fmt_time(floor_s), note=f"{branches:,} branches"),
        Row(
            fig,
            "ours",
            f"import_into(store, read_{label}(path))",
            fmt_time(ours_s),
            ours_s / floor_s,
            TARGET,
        ),
    ]


def samples() -> list[Row]:
    if not SHARED.is_dir():
        return [Row("18c. import the public samples", "ours", "(../shared/exports absent)", "")]
    chatgpt = sorted((SHARED / "chatgpt").glob("*.json"))
    claude = sorted((SHARED / "claude").iterdir())
    with tempfile.TemporaryDirectory() as tmp, SQLiteStore(Path(tmp) / "samples.db") as store:
        started = clock()
        count = sum(import_into(store, read_chatgpt(p)).dialogues for p in chatgpt)
        count += sum(import_into(store, read_claude(p)).dialogues for p in claude)
        seconds = clock() - started
    files = len(chatgpt) + len(claude)
    fig = "18c. import the public samples"
    return [Row(fig, "ours", f"{count} dialogues from {files} exports", fmt_time(seconds))]


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    n = 100 if cfg.quick else 1_000
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows += figure(cfg, "chatgpt", chatgpt_export(n), read_chatgpt, folder)
        rows += figure(cfg, "claude", claude_export(n), read_claude, folder)
    rows += samples()
    return rows, []


if __name__ == "__main__":
    sys.exit(main("bench_import (figure 18)", [run]))
