"""The real exports in ../shared/exports: every message kept, every branch sendable, all stored.

They are personal chat history, so they stay outside the repository; these
tests skip when the folder is not there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from conversation.imports import Dialogue, import_into, read_chatgpt, read_claude
from conversation.store import SQLiteStore

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "exports"
CHATGPT = sorted((SHARED / "chatgpt").glob("*.json"))
CLAUDE = [
    SHARED / "claude" / "export-2025-02",
    SHARED / "claude" / "export-2025-07" / "conversations.json",
    SHARED / "claude" / "legacy-2024-10-artifacts.json",
    SHARED / "claude" / "legacy-2024-10-example.json",
]

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/exports is not here")


def raw(path: Path) -> list[Any]:
    """The file's conversation objects, as a list."""
    found = orjson.loads((path / "conversations.json" if path.is_dir() else path).read_bytes())
    return found if isinstance(found, list) else [found]


def records(dialogue: Dialogue) -> set[str]:
    """The app's ids of every message kept in the metadata of any branch."""
    found: set[str] = set()
    for c in dialogue.conversations:
        info = c.metadata["import"]
        for turn in [*info["turns"], info.get("after", [])]:
            found.update(record["id"] for record in turn)
    return found


def sendable(dialogue: Dialogue) -> Iterator[bool]:
    """Each branch passes the pre-send rules as it is (when not empty) and continued."""
    for c in dialogue.conversations:
        yield not c.user("Go on").violations() and (len(c) == 0 or not c.violations())


@pytest.mark.parametrize("path", CHATGPT, ids=[p.name for p in CHATGPT])
def test_chatgpt_samples(path: Path) -> None:
    """Every leaf a branch, current_node's branch active, every message kept, all sendable."""
    conversations = raw(path)
    dialogues = list(read_chatgpt(path))
    assert len(dialogues) == len(conversations)
    for dialogue, source in zip(dialogues, conversations, strict=True):
        mapping = source["mapping"]
        leaves = {k for k, node in mapping.items() if not node["children"]}
        assert {c.metadata["import"]["leaf"] for c in dialogue.conversations} == leaves
        assert dialogue.active.metadata["import"]["leaf"] == source["current_node"]
        assert records(dialogue) == {k for k, node in mapping.items() if node["message"]}
        assert all(sendable(dialogue))
        assert dialogue.title == source["title"]


@pytest.mark.parametrize("path", CLAUDE, ids=[p.name for p in CLAUDE])
def test_claude_samples(path: Path) -> None:
    """One branch per conversation, every message kept, all sendable."""
    conversations = raw(path)
    dialogues = list(read_claude(path))
    assert len(dialogues) == len(conversations)
    for dialogue, source in zip(dialogues, conversations, strict=True):
        assert records(dialogue) == {m["uuid"] for m in source["chat_messages"]}
        assert all(sendable(dialogue))


def test_all_samples_import_into_a_store_and_again_add_nothing(tmp_path: Path) -> None:
    """Every sample into one SQLite file: a name per dialogue; a second import adds nothing."""
    with SQLiteStore(tmp_path / "chats.db") as store:
        total = 0
        for path in CHATGPT:
            total += import_into(store, read_chatgpt(path)).dialogues
        for path in CLAUDE:
            total += import_into(store, read_claude(path)).dialogues
        assert len(store.names()) == total
        for name in store.names():
            assert store.load(name).metadata["import"]["active"] is True
        again = [import_into(store, read_chatgpt(p)) for p in CHATGPT]
        assert all(report.added == () and report.names == () for report in again)
