"""Fixtures of the command-line tests: a real SQLite store file with a forked dialogue,
and a fake Anthropic API on a real socket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.fake_api import FakeMessagesAPI
from tests.conversation.cli.running import Tree, make_tree


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    """A fresh store file, ``chats.db`` in the test's directory, holding :class:`Tree`."""
    return make_tree(tmp_path / "chats.db")


@pytest.fixture
def fake_anthropic() -> Iterator[FakeMessagesAPI]:
    """A fake Anthropic Messages API on 127.0.0.1 (``tests/adapters/fake_api.py``), for
    the program's children to reach through ANTHROPIC_BASE_URL."""
    with FakeMessagesAPI() as server:
        yield server
    if server.errors:
        raise AssertionError(f"the fake API raised: {server.errors!r}")
