"""Importing into a store: each branch once, the active one named, a newer export adds only news."""

from __future__ import annotations

import io
import sqlite3
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conversation import Conversation, ImportFormatError, MalformedInputError
from conversation.imports import Dialogues, import_into, read_chatgpt, read_claude
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


def chatgpt_broken(c: Conversation, ident: str) -> tuple[dict[str, Any], str]:
    """A ChatGPT conversation whose first prompt has no author role, and that node's id."""
    bad = chatgpt_conversation([c], ident, f"Title {ident}")
    bad["mapping"][f"{ident}-n0"]["message"]["author"] = {}
    return bad, f"{ident}-n0"


def claude_broken(c: Conversation, ident: str) -> tuple[dict[str, Any], str]:
    """A Claude.ai conversation whose second message has a sender of neither side."""
    bad = claude_conversation(c, ident, f"Title {ident}")
    bad["chat_messages"][1]["sender"] = "robot"
    return bad, f"{ident}-m1"


def claude_branches(branches: list[Conversation], ident: str, title: str) -> dict[str, Any]:
    """A Claude.ai conversation of the last of ``branches`` (its format keeps one)."""
    return claude_conversation(branches[-1], ident, title)


Write = Callable[[list[Conversation], str, str], dict[str, Any]]
Broken = Callable[[Conversation, str], tuple[dict[str, Any], str]]
EXPORTS: dict[str, tuple[Callable[[Any], Dialogues], Write, Broken]] = {
    "chatgpt": (read_chatgpt, chatgpt_conversation, chatgpt_broken),
    "claude": (read_claude, claude_branches, claude_broken),
}


@pytest.mark.parametrize("app", EXPORTS)
def test_an_error_keeps_the_dialogues_before_it_and_says_what_was_saved(
    store: SQLiteStore, path: Path, app: str
) -> None:
    """Each dialogue is saved (committed) before the next is read: the malformed one stops
    the rest, names the conversation (id and title) and the message, and reports what was
    saved; the export fixed, a second import adds only what is new."""
    read, write, broken = EXPORTS[app]
    bad, node = broken(PORTO, "bad")
    first, second = write([LISBON], "one", "Title one"), write([LISBON, PORTO], "two", "Title two")
    export = [first, second, bad, write([BASE], "late", "Title late")]
    with pytest.raises(ImportFormatError) as caught:
        import_into(store, read(export))
    error = caught.value
    assert (error.app, error.conversation, error.title, error.node) == (
        app,
        "'bad'",
        "Title bad",
        node,
    )
    assert f"conversation 'bad' ('Title bad'), message '{node}'" in str(error)
    assert error.report is not None
    assert error.report.dialogues == 2
    assert error.report.names == (f"{app}/one", f"{app}/two")
    with SQLiteStore(path) as other:  # another connection sees it: committed
        assert set(other.names()) == {f"{app}/one", f"{app}/two"}
        assert set(other.leaves()) == set(error.report.added) & set(other.leaves())
    rows = turn_rows(path)
    export[2] = write([PORTO], "bad", "Title bad")
    again = import_into(store, read(export))
    assert again.names == (f"{app}/bad", f"{app}/late")
    assert set(again.skipped) == set(error.report.added)
    assert set(store.names()) == {f"{app}/{i}" for i in ("one", "two", "bad", "late")}
    assert turn_rows(path) > rows
    assert import_into(store, read(export)).added == ()


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
