"""``import``: exports written in the apps' formats go into a real store file, once."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.store import SQLiteStore
from tests.conversation.cli.running import cli
from tests.conversation.cli.test_tree import _screen
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
    if shutil.which("tmux") is None:
        missing = "tmux is not installed (.ci/run installs it)"
        if os.environ.get("CONVERSATION_REQUIRE_TMUX"):  # CI: never skipped in silence
            pytest.fail(f"CONVERSATION_REQUIRE_TMUX is set, but {missing}")
        pytest.skip(missing)
    export = _write(
        tmp_path / "many.json", [claude_conversation(HELLO, f"c-{i}") for i in range(12)]
    )
    socket = f"conversation-import-{tmp_path.name}"  # a tmux server of this test's own
    try:
        for name, pipe in (("terminal", ""), ("piped", " 2>&1 | cat")):
            command = [sys.executable, "-m", "conversation", "--db", str(tmp_path / f"{name}.db")]
            command += ["import", "claude", str(export)]
            shell = f"{shlex.join(command)}{pipe}; echo END-OF-{name}; sleep 60"
            session = ["new-session", "-d", "-s", name, "-x", "120", "-y", "40", shell]
            subprocess.run(["tmux", "-L", socket, "-f", "/dev/null", *session], check=True)
            screen = _screen(socket, name, f"END-OF-{name}")
            assert "12 dialogues read: 12 branches added" in screen, screen
            assert ("12/12" in screen) == (name == "terminal"), screen
            assert ("dialogue/s" in screen) == (name == "terminal"), screen
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
