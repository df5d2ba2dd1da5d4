"""Fixtures of the command-line tests: a real SQLite store file with a forked dialogue,
and a fake Anthropic API on a real socket, and a PostgreSQL database of a test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.adapters.fake_api import FakeMessagesAPI
from tests.conversation.cli.running import Tree, make_tree
from tests.postgres import PostgresServer


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


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a new database on the test PostgreSQL server, dropped after the test."""
    database = postgres_server.schema(900 + sum(map(ord, request.node.name)) % 9000)
    url = urlsplit(postgres_server.url)._replace(path=f"/{database}").geturl()
    with postgres_server.connect() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        yield url
    finally:
        with postgres_server.connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
