"""``show`` draws the tree of branches: as lines, and on a real terminal (tmux) in colour."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.cli._style import Style
from conversation.cli._tree import draw_tree
from conversation.store import SQLiteStore
from tests.conversation.cli.running import Tree


def test_the_tree_has_a_line_per_run_of_turns_and_marks_the_path(tree: Tree) -> None:
    with SQLiteStore(tree.path) as store:
        lines = draw_tree(store, tree.trip, Style(False))
    assert lines == [
        f"* turns 1-2 {tree.trip[:2].id[:12]} assistant: Three days?",
        f"├── * turn 3 {tree.trip[:3].id[:12]} user: Yes, three",
        f"│   ├── * turn 4 {tree.trip.id[:12]} assistant: Day 1: Alfama [trip]",
        f"│   └──   turn 4 {tree.belem.id[:12]} assistant: Day 1: Belém",
        f"└──   turn 3 {tree.week.id[:12]} user: No, a week",
    ]


def test_a_name_on_a_prefix_splits_its_run(tmp_path: Path) -> None:
    """A named id inside a run of turns ends a line, so the name shows."""
    c = Conversation().user("a").assistant("b").user("c").assistant("d")
    with SQLiteStore(tmp_path / "s.db") as store:
        store.save(c)
        store.save(c[:2], name="start")
        lines = draw_tree(store, c, Style(False))
    assert lines == [
        f"* turns 1-2 {c[:2].id[:12]} assistant: b [start]",
        f"└── * turns 3-4 {c.id[:12]} assistant: d",
    ]


def _screen(socket: str, session: str, until: str) -> str:
    """The pane's text with its colour codes (-e), once ``until`` shows (or 30 s passed)."""
    screen = ""
    for _ in range(300):
        screen = subprocess.run(
            ["tmux", "-L", socket, "capture-pane", "-p", "-e", "-t", session],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if until in screen:
            break
        time.sleep(0.1)
    return screen


def test_show_in_a_real_terminal_draws_the_tree_in_colour(tree: Tree, tmp_path: Path) -> None:
    """In tmux (a real terminal) ``show`` colours its output; with NO_COLOR=1 it does not."""
    if shutil.which("tmux") is None:
        missing = "tmux is not installed (.ci/run installs it)"
        if os.environ.get("CONVERSATION_REQUIRE_TMUX"):  # CI: never skipped in silence
            pytest.fail(f"CONVERSATION_REQUIRE_TMUX is set, but {missing}")
        pytest.skip(missing)
    socket = f"conversation-cli-{tmp_path.name}"  # a tmux server of this test's own
    command = [sys.executable, "-m", "conversation", "--db", str(tree.path), "show", "trip"]
    try:
        for name, env in (("colour", "-u NO_COLOR"), ("plain", "NO_COLOR=1")):
            shell = f"env {env} {shlex.join(command)}; echo END-OF-{name}; sleep 60"
            subprocess.run(
                [
                    "tmux",
                    "-L",
                    socket,
                    "-f",
                    "/dev/null",
                    "new-session",
                    "-d",
                    "-s",
                    name,
                    "-x",
                    "120",
                    "-y",
                    "40",
                    shell,
                ],
                check=True,
            )
            screen = _screen(socket, name, f"END-OF-{name}")
            assert f"END-OF-{name}" in screen, screen
            assert "├── " in screen
            assert "│   └── " in screen
            assert "Day 1: Belém" in screen
            if name == "colour":
                assert "\x1b[" in screen  # tmux re-encodes colours; any code means colour
                assert "\x1b[" in screen.split("tree (")[1]  # the tree is coloured too
            else:
                assert "\x1b[" not in screen
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)
