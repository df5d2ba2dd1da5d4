"""The store implementations the protocol suite runs over, and where each keeps its data.

A :class:`Place` is one test's data: a store opened on it, and for a shared
place (a file, later a database server) an address that any process can open
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

from conversation.store import SQLiteStore, Store

__all__ = ["BACKENDS", "Backend", "Place", "check_consistent", "open_store"]


def open_store(address: str) -> Store:
    """A new store object on the data at ``address`` (``scheme:where``), in any process."""
    scheme, _, where = address.partition(":")
    if scheme == "sqlite":
        return SQLiteStore(where)
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
    raise ValueError(f"no store implementation for the address {address!r}")


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
class Backend:
    """One store implementation, and how to make empty places for it."""

    name: str
    _new_place: Callable[[Path, int], Place]

    def place(self, directory: Path, number: int) -> Place:
        """An empty place for a store, made under ``directory`` (``number`` keeps places apart)."""
        return self._new_place(directory, number)


def _sqlite_file(directory: Path, number: int) -> Place:
    return Place(f"sqlite:{directory / f'store-{number}.db'}")


def _sqlite_memory(directory: Path, number: int) -> Place:
    return Place(None, lambda: SQLiteStore(":memory:"))


BACKENDS = (
    Backend("sqlite-file", _sqlite_file),
    Backend("sqlite-memory", _sqlite_memory),
)
"""Every implementation the protocol suite runs over (one fixture parameter each)."""


class Places:
    """Fresh places of one backend for one test (hypothesis examples take one each)."""

    def __init__(self, backend: Backend, directory: Path) -> None:
        self.backend = backend
        self._directory = directory
        self._numbers = itertools.count()

    def new(self) -> Place:
        """An empty place no other call returned."""
        return self.backend.place(self._directory, next(self._numbers))

    def store(self) -> Store:
        """A new store on an empty place of its own."""
        return self.new().open()
