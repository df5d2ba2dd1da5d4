"""The program as a whole: help on every command, exit statuses, --db, errors on stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.cli import run
from conversation.store import SQLiteStore, open_store
from tests.conversation.cli.running import Tree, cli

COMMANDS = ["demo", "ls", "show", "export", "import", "chat", "replay", "serve"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_exits_0(command: str) -> None:
    """``COMMAND --help`` describes the command on stdout, runs nothing, and exits 0."""
    done = cli(command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: python -m conversation {command}")
    assert "--db" in done.stdout or command == "demo"
    assert done.stderr == ""


def test_the_program_help_lists_every_command() -> None:
    done = cli("--help")
    assert done.returncode == 0
    listed = done.stdout.split("COMMAND", 1)[1]
    for command in COMMANDS:
        assert f"    {command} " in listed


def test_the_console_script_runs_the_same_program(tree: Tree) -> None:
    """``conversation`` (pyproject's [project.scripts]) is ``python -m conversation``."""
    script = shutil.which("conversation", path=str(Path(sys.executable).parent))
    assert script is not None, "the console script is not installed next to this Python"
    by_script = subprocess.run(
        [script, "--db", str(tree.path), "ls", "--json"], capture_output=True, text=True
    )
    by_module = cli("--db", str(tree.path), "ls", "--json")
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout
    helped = subprocess.run([script, "--help"], capture_output=True, text=True)
    assert helped.stdout.startswith("usage: conversation ")


@pytest.mark.parametrize(
    "argv",
    [
        ["show"],  # no ID
        ["export", "trip", "--format", "yaml"],
        ["import", "gemini", "x.json"],
        ["ls", "--colour"],
        ["chat", "--system", "Be brief", "--resume", "trip"],  # a resumed chat has its own
        ["replay"],  # no ID
        ["replay", "trip", "--max-tokens", "many"],
    ],
    ids=repr,
)
def test_bad_usage_exits_2(argv: list[str], tree: Tree, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse's usage and the problem on stderr, nothing on stdout, status 2."""
    assert run(["--db", str(tree.path), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "error:" in captured.err


def test_a_missing_store_is_an_error_that_says_what_to_do(tmp_path: Path) -> None:
    """A read on a store file that is not there: exit 1, one line, no file left behind."""
    missing = tmp_path / "nowhere.db"
    done = cli("--db", str(missing), "ls")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(missing) in done.stderr
    assert "--db" in done.stderr
    assert not missing.exists()


def test_not_a_store_is_reported_in_one_line(tmp_path: Path) -> None:
    """A file that is no store: the store's own refusal, exit 1, no traceback."""
    other = tmp_path / "notes.db"
    other.write_text("shopping list\n" * 100)
    done = cli("--db", str(other), "ls")
    assert done.returncode == 1
    assert done.stderr.startswith("python -m conversation: error: ")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_store_comes_from_db_the_environment_or_chats_db(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--db (before or after the command) wins over CONVERSATION_DB, which wins over
    ./chats.db; a sqlite:/// URL names the same file as its path."""
    ids = {tree.trip.id[:12]}
    for argv, env in [
        (["--db", str(tree.path), "ls"], {}),
        (["ls", "--db", str(tree.path)], {"CONVERSATION_DB": str(tmp_path / "other.db")}),
        (["ls", "--db", f"sqlite:///{tree.path}"], {}),
        (["ls"], {"CONVERSATION_DB": str(tree.path)}),
    ]:
        done = cli(*argv, env=env)
        assert done.returncode == 0, (argv, done.stderr)
        assert ids <= set(done.stdout.split()), argv
    monkeypatch.chdir(tmp_path)  # the fixture's file is ./chats.db here
    done = subprocess.run(
        [sys.executable, "-m", "conversation", "ls"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert tree.trip.id[:12] in done.stdout


def test_a_url_open_store_cannot_read_is_refused(tmp_path: Path) -> None:
    done = cli("--db", "mysql://localhost/chats", "ls")
    assert done.returncode == 1
    assert "sqlite:///" in done.stderr
    assert "Traceback" not in done.stderr


def test_no_colour_when_stdout_is_not_a_terminal(tree: Tree) -> None:
    """Piped output is plain text: no escape codes, whatever NO_COLOR says."""
    for command in (["ls"], ["show", "trip"]):
        done = cli("--db", str(tree.path), *command)
        assert done.returncode == 0
        assert "\x1b" not in done.stdout


def test_a_postgresql_url_opens_a_postgres_store(postgres_url: str, tree: Tree) -> None:
    """``--db postgresql://...``: ls and show over a real server (a database of this
    test's own, dropped after)."""
    with open_store(postgres_url) as store, SQLiteStore(tree.path) as local:
        store.save(local.load("trip"), name="trip")
    listed = cli("--db", postgres_url, "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["id"] for row in json.loads(listed.stdout)] == [tree.trip.id]
    shown = cli("--db", postgres_url, "show", "trip", "--json")
    assert Conversation.loads(shown.stdout) == tree.trip
