"""Fixtures of the command-line tests: a real SQLite store file with a forked dialogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conversation.cli.running import Tree, make_tree


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """A fresh store file, ``chats.db`` in the test's directory, holding :class:`Tree`."""
    return make_tree(tmp_path / "chats.db")
