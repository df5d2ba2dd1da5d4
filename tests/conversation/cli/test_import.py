"""``import``: exports written in the apps' formats go into a real store file, once."""

from __future__ import annotations

import json
from pathlib import Path

from conversation import Conversation
from conversation.store import SQLiteStore
from tests.conversation.cli.running import Terminal, cli, need_tmux
from tests.conversation.imports.exports import chatgpt_conversation, claude_conversation

HELLO = Conversation().user("Hello").assistant("Hi! How can I help?")


def _write(path: Path, conversations: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(conversations), encoding="utf-8")
    return path


def test_import_chatgpt_adds_every_branch_and_names_the_active_one(tmp_path: Path) -> None:
    edited = Conversation().user("Hello there").assistant("Hello! What's up?")
    export = _write(
        tmp_path / "conversations.json",
        [chatgpt_conversation([HELLO, edited], "conv-1", "Greetings")],
    )
    db = tmp_path / "new.db"
    done = cli("--db", str(db), "import", "chatgpt", str(export))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[0] == "chatgpt/conv-1"
    assert lines[-1] == "1 dialogues read: 2 branches added, 0 already stored, 1 names set"
    assert done.stderr == ""  # no progress bar off a terminal
    with SQLiteStore(db) as store:
        active = store.load("chatgpt/conv-1")
        assert [t.text for t in active] == [t.text for t in edited]
        assert lines[0].split()[1] == active.id[:12]
        assert len(store.leaves()) == 2
    rows = json.loads(cli("--db", str(db), "ls", "--json").stdout)
    assert [row["title"] for row in rows if row["names"]] == ["Greetings"]


def test_a_second_import_adds_only_what_is_new(tmp_path: Path) -> None:
    db, first = tmp_path / "c.db", tmp_path / "first.json"
    _write(first, [claude_conversation(HELLO, "c-1", "Hi")])
    assert cli("--db", str(db), "import", "claude", str(first)).returncode == 0
    again = cli("--db", str(db), "import", "claude", str(first))
    assert again.returncode == 0, again.stderr
    assert again.stdout == "1 dialogues read: 0 branches added, 1 already stored, 0 names set\n"
    longer = HELLO.user("Tell me a joke").assistant("Why did the turn fork? It was edited.")
    later = _write(
        tmp_path / "later.json",
        [claude_conversation(longer, "c-1", "Hi"), claude_conversation(HELLO, "c-2", "Two")],
    )
    done = cli("--db", str(db), "import", "claude", str(later))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "2 dialogues read: 2 branches added, 0 already stored, 2 names set"
    )


def test_a_malformed_export_keeps_what_came_before_and_says_where(tmp_path: Path) -> None:
    """The dialogues before the bad one are imported and reported on stdout; stderr names
    the conversation (id and title) and the message in one sentence; exit status 1. The
    file fixed, the same import adds only what is new."""
    broken = chatgpt_conversation([HELLO], "c-2", "Broken")
    broken["mapping"]["c-2-n1"]["message"]["content"] = "not an object"
    fine = [chatgpt_conversation([HELLO], "c-1", "Fine"), chatgpt_conversation([HELLO], "c-3")]
    export = _write(tmp_path / "x.json", [fine[0], broken, fine[1]])
    db = tmp_path / "c.db"
    done = cli("--db", str(db), "import", "chatgpt", str(export))
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].split()[0] == "chatgpt/c-1"
    assert done.stdout.splitlines()[-1] == (
        "1 dialogues before the error: 1 branches added, 0 already stored, 1 names set"
    )
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        "python -m conversation: error: ChatGPT export, conversation 'c-2' ('Broken'), "
        "message 'c-2-n1': content must be an object"
    )
    assert done.stderr.rstrip().endswith(
        "fix the export and import it again (what came before it is kept)"
    )
    with SQLiteStore(db) as store:
        assert set(store.names()) == {"chatgpt/c-1"}
    _write(export, [fine[0], chatgpt_conversation([HELLO.user("Bye")], "c-2", "Broken"), fine[1]])
    again = cli("--db", str(db), "import", "chatgpt", str(export))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == (
        "3 dialogues read: 2 branches added, 1 already stored, 2 names set"
    )


def test_a_file_that_is_not_there_or_not_an_export(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    missing = cli("--db", str(db), "import", "chatgpt", str(tmp_path / "gone.json"))
    assert missing.returncode == 1
    assert "gone.json" in missing.stderr
    assert "Traceback" not in missing.stderr
    text = tmp_path / "notes.txt"
    text.write_text("not json at all")
    wrong = cli("--db", str(db), "import", "chatgpt", str(text))
    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr
    assert wrong.stderr.count("\n") == 1


def test_a_progress_bar_on_a_terminal_and_none_when_piped(tmp_path: Path) -> None:
    """In tmux (a real terminal) import draws tqdm's bar over the dialogues on stderr; with
    its output piped, no bar: the summary alone."""
    need_tmux()
    export = _write(
        tmp_path / "many.json", [claude_conversation(HELLO, f"c-{i}") for i in range(12)]
    )
    args = ("import", "claude", str(export))
    with Terminal(tmp_path, "--db", str(tmp_path / "terminal.db"), *args) as terminal:
        assert terminal.status() == 0
        screen = terminal.screen()
    piped = cli("--db", str(tmp_path / "piped.db"), *args)
    assert piped.returncode == 0, piped.stderr
    for where, shown in (("terminal", screen), ("piped", piped.stdout + piped.stderr)):
        assert "12 dialogues read: 12 branches added" in shown, shown
        assert ("12/12" in shown) == (where == "terminal"), shown
        assert ("dialogue/s" in shown) == (where == "terminal"), shown
