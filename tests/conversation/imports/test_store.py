"""Importing into a store: each branch once, the active one named, a newer export adds only news."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conversation import Conversation, ImportFormatError, MalformedInputError
from conversation.imports import import_into, read_chatgpt, read_claude
from conversation.store import SQLiteStore
from tests.conversation.imports.exports import (
    chatgpt_conversation,
    claude_conversation,
    text_turns,
)

BASE = Conversation().user("Plan a trip").assistant("Where to?")
LISBON = BASE.user("Lisbon").assistant("Three days.")
PORTO = BASE.user("Porto").assistant("Two days.")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where the test's store file goes."""
    return tmp_path / "chats.db"


@pytest.fixture
def store(path: Path) -> Iterator[SQLiteStore]:
    """A fresh SQLite store file."""
    opened = SQLiteStore(path)
    yield opened
    opened.close()


def turn_rows(path: Path) -> int:
    """How many turns the store file holds (each kept once, shared by branches)."""
    with sqlite3.connect(path) as db:
        count: int = db.execute("SELECT count(*) FROM nodes").fetchone()[0]
    return count


def test_every_branch_is_saved_and_the_active_one_named(store: SQLiteStore, path: Path) -> None:
    """Both branches load back equal; the name points at the active one; turns kept once."""
    export = [chatgpt_conversation([LISBON, PORTO], "t1", active=0)]
    dialogues = list(read_chatgpt(export))
    report = import_into(store, dialogues)
    assert report.dialogues == 1
    assert report.names == ("chatgpt/t1",)
    assert sorted(report.added) == sorted(c.id for c in dialogues[0].conversations)
    assert store.load("chatgpt/t1") == dialogues[0].active
    for c in dialogues[0].conversations:
        assert store.load(c.id) == c
    reference = SQLiteStore(path.with_name("reference.db"))
    reference.save(LISBON)
    reference.save(PORTO)
    reference.close()
    assert turn_rows(path) == turn_rows(path.with_name("reference.db"))  # shared turns once


def test_importing_the_same_export_again_adds_nothing(store: SQLiteStore, path: Path) -> None:
    """Content ids make a second import a no-op: every branch skipped, no row written."""
    export = [chatgpt_conversation([LISBON, PORTO], "t1"), claude_conversation(LISBON, "k")]
    import_into(store, read_chatgpt(export[:1]))
    import_into(store, read_claude(export[1:]))
    rows = turn_rows(path)
    again = import_into(store, read_chatgpt(export[:1]))
    assert (again.added, again.names, len(again.skipped)) == ((), (), 2)
    assert turn_rows(path) == rows


def test_a_newer_export_adds_only_what_is_new(store: SQLiteStore, path: Path) -> None:
    """A branch that grew, a new branch, a new conversation: only their new turns are written."""
    import_into(store, read_chatgpt([chatgpt_conversation([LISBON, PORTO], "t1")]))
    before = turn_rows(path)
    longer = PORTO.user("And food?").assistant("Francesinha.")
    madrid = BASE.user("Madrid").assistant("Four days.")
    newer = [
        chatgpt_conversation([LISBON, longer, madrid], "t1", active=1),
        chatgpt_conversation([BASE], "t2"),
    ]
    report = import_into(store, read_chatgpt(newer))
    # + longer's 2 turns, + madrid's 2, + t2's answer: its prompt's turn is held already, but
    # its answer is another app message (its provenance names it), so another turn.
    assert turn_rows(path) == before + 2 + 2 + 1
    assert report.names == ("chatgpt/t1", "chatgpt/t2")
    assert text_turns(store.load("chatgpt/t1")) == text_turns(longer)
    assert text_turns(store.load("chatgpt/t2")) == text_turns(BASE)
    assert len(report.skipped) == 1  # LISBON, again


def test_an_error_leaves_the_dialogues_before_it_imported(store: SQLiteStore) -> None:
    """Each dialogue is saved before the next is read: the malformed one stops the rest."""
    bad: dict[str, Any] = chatgpt_conversation([PORTO], "bad")
    bad["mapping"]["bad-n1"]["message"]["author"] = {}
    export = [chatgpt_conversation([LISBON], "good"), bad, chatgpt_conversation([BASE], "late")]
    with pytest.raises(ImportFormatError, match="conversation 'bad', message 'bad-n1'"):
        import_into(store, read_chatgpt(export))
    assert set(store.names()) == {"chatgpt/good"}


def test_a_progress_bar_needs_a_terminal(store: SQLiteStore) -> None:
    """progress=True without a terminal (as here) imports quietly; a non-bool is refused."""
    report = import_into(store, read_claude([claude_conversation(LISBON)]), progress=True)
    assert report.dialogues == 1
    with pytest.raises(MalformedInputError, match="progress must be True or False"):
        import_into(store, [], progress="yes")  # type: ignore[arg-type]


class Tty(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_the_progress_bar_counts_dialogues_on_a_terminal(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a terminal, a tqdm bar over the dialogues of the export (its length known ahead)."""
    terminal = Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    export = [claude_conversation(LISBON, f"k{i}") for i in range(3)]
    import_into(store, read_claude(export), progress=True)
    assert "3/3" in terminal.getvalue()
    quiet = Tty()
    monkeypatch.setattr(sys, "stderr", quiet)
    import_into(store, read_claude(export))
    assert quiet.getvalue() == ""
