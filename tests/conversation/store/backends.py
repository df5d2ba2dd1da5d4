"""The store implementations the protocol suite runs over, and where each keeps its data.

A :class:`Place` is one test's data: a store opened on it, and for a shared
place (a file, a schema on a database server) an address that any process can open
again. Adding an implementation means adding a :class:`Backend` to
:data:`BACKENDS` and a scheme to :func:`open_store` and :func:`check_consistent`;
the tests stay as they are.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import attrs

from conversation.store import PostgresStore, SQLiteStore, Store
from tests.postgres import PostgresServer

__all__ = ["BACKENDS", "Backend", "Place", "Where", "check_consistent", "open_store"]


def open_store(address: str) -> Store:
    """A new store object on the data at ``address`` (``scheme:where``), in any process."""
    scheme, _, where = address.partition(":")
    if scheme == "sqlite":
        return SQLiteStore(where)
    if scheme == "postgres":
        schema, _, url = where.partition(" ")
        return PostgresStore(url, schema=schema, timeout=20, max_connections=4)
    raise ValueError(f"no store implementation for the address {address!r}")


def check_consistent(address: str) -> None:
    """Assert what the implementation itself can check about its data (SQLite: integrity_check)."""
    scheme, _, where = address.partition(":")
    if scheme == "sqlite":
        db = sqlite3.connect(where)
        try:
            found = db.execute("PRAGMA integrity_check").fetchall()
        finally:
            db.close()
        assert found == [("ok",)], found
        return
    if scheme == "postgres":
        schema, _, url = where.partition(" ")
        check_postgres(url, schema)
        return
    raise ValueError(f"no store implementation for the address {address!r}")


_POSTGRES_CHECKS = {
    "a node outside every segment": "SELECT count(*) FROM {s}.nodes AS n"
    " WHERE NOT EXISTS (SELECT 1 FROM {s}.segments AS g WHERE g.seg = n.seg)",
    "a segment whose nodes are not 0..last": "SELECT count(*) FROM {s}.segments AS g WHERE"
    " (SELECT count(*) FROM {s}.nodes AS n WHERE n.seg = g.seg) != g.last + 1"
    " OR (SELECT max(pos) FROM {s}.nodes AS n WHERE n.seg = g.seg) IS DISTINCT FROM g.last",
    "a segment hanging from no node": "SELECT count(*) FROM {s}.segments AS g"
    " WHERE g.parent_seg IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM {s}.nodes AS n WHERE n.seg = g.parent_seg AND n.pos = g.parent_pos)",
    "a head or name of nothing stored": "SELECT count(*) FROM (SELECT id FROM {s}.heads"
    " UNION ALL SELECT id FROM {s}.names) AS h"
    " WHERE NOT EXISTS (SELECT 1 FROM {s}.nodes AS n WHERE n.id = h.id)",
    "metadata referred to but missing": "SELECT count(*) FROM (SELECT meta FROM {s}.heads"
    " UNION ALL SELECT meta FROM {s}.nodes) AS r WHERE r.meta IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM {s}.metadata AS m WHERE m.meta = r.meta)",
}
"""What a PostgreSQL store's tables must never hold, each counted by a query."""


def check_postgres(url: str, schema: str) -> None:
    """Assert the PostgreSQL store's tables hold none of :data:`_POSTGRES_CHECKS`."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for problem, query in _POSTGRES_CHECKS.items():
            found = connection.execute(query.format(s=f'"{schema}"')).fetchone()
            assert found == (0,), f"{problem}: {found}"


@attrs.frozen
class Place:
    """Where one test's store data lives.

    ``address`` is None for data that lives inside one store object (SQLite's
    ``":memory:"``): then each :meth:`open` starts an empty store of its own.
    """

    address: str | None
    _memory: Callable[[], Store] | None = None

    @property
    def shared(self) -> bool:
        """True when every :meth:`open` (in any process) reaches the same data."""
        return self.address is not None

    def open(self) -> Store:
        """A new store object on this place's data."""
        if self.address is not None:
            return open_store(self.address)
        assert self._memory is not None
        return self._memory()


@attrs.frozen
class Where:
    """What a backend makes places in: a directory, and the session's database server."""

    directory: Path
    postgres: PostgresServer | None = None


@attrs.frozen
class Backend:
    """One store implementation, and how to make empty places for it.

    ``server`` names the session fixture whose server its places live on (None: files).
    """

    name: str
    _new_place: Callable[[Where, int], Place]
    server: str | None = None

    def place(self, where: Where, number: int) -> Place:
        """An empty place for a store, made in ``where`` (``number`` keeps places apart)."""
        return self._new_place(where, number)


def _sqlite_file(where: Where, number: int) -> Place:
    return Place(f"sqlite:{where.directory / f'store-{number}.db'}")


def _sqlite_memory(where: Where, number: int) -> Place:
    return Place(None, lambda: SQLiteStore(":memory:"))


def _postgres(where: Where, number: int) -> Place:
    assert where.postgres is not None
    return Place(f"postgres:{where.postgres.schema(number)} {where.postgres.url}")


BACKENDS = (
    Backend("sqlite-file", _sqlite_file),
    Backend("sqlite-memory", _sqlite_memory),
    Backend("postgres", _postgres, server="postgres_server"),
)
"""Every implementation the protocol suite runs over (one fixture parameter each)."""


class Places:
    """Fresh places of one backend for one test (hypothesis examples take one each)."""

    def __init__(self, backend: Backend, where: Where) -> None:
        self.backend = backend
        self._where = where
        self._numbers = itertools.count()

    def new(self) -> Place:
        """An empty place no other call returned."""
        return self.backend.place(self._where, next(self._numbers))

    def store(self) -> Store:
        """A new store on an empty place of its own."""
        return self.new().open()
