"""``show`` draws the tree of branches: as lines, and on a real terminal (tmux) in colour."""

from __future__ import annotations

from pathlib import Path

from conversation import Conversation
from conversation.cli._style import Style
from conversation.cli._tree import draw_tree
from conversation.store import SQLiteStore
from tests.conversation.cli.running import Terminal, Tree, need_tmux


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


def test_show_in_a_real_terminal_draws_the_tree_in_colour(tree: Tree, tmp_path: Path) -> None:
    """In tmux (a real terminal) ``show`` colours its output; with NO_COLOR=1 it does not."""
    need_tmux()
    for name, env in (("colour", {}), ("plain", {"NO_COLOR": "1"})):
        folder = tmp_path / name
        folder.mkdir()
        with Terminal(folder, "--db", str(tree.path), "show", "trip", env=env) as terminal:
            assert terminal.status() == 0
            screen = terminal.screen(colour=True)
        assert "├── " in screen
        assert "│   └── " in screen
        assert "Day 1: Belém" in screen
        if name == "colour":
            assert "\x1b[" in screen  # tmux re-encodes colours; any code means colour
            assert "\x1b[" in screen.split("tree (")[1]  # the tree is coloured too
        else:
            assert "\x1b[" not in screen
