"""Outlines: a stored conversation's length, last turn and metadata, without loading it.

Runs over every backend (see conftest.py): a real SQLite file, SQLite in
memory, and a real PostgreSQL server (plus the async PostgreSQL twin below).
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings

from conversation import Conversation, CorruptStoreError, MalformedInputError
from conversation.store import (
    AsyncPostgresStore,
    NotFoundError,
    Outline,
    PostgresStore,
    SQLiteStore,
    Store,
)
from tests.conversation.store.backends import Places
from tests.postgres import PostgresServer
from tests.strategies import stored_conversations

TRIP = Conversation(system="Be brief").user("Plan a trip").assistant("Where to?")


def outlines(store: Store, ids: list[str]) -> list[Outline]:
    """``store.outlines(ids)``: every store of this library has it (not the protocol)."""
    assert isinstance(store, SQLiteStore | PostgresStore)
    return store.outlines(ids)


def same(outline: Outline, store: Store) -> None:
    """The outline says what loading its id gives: length, last turn, metadata."""
    c = store.load(outline.id)
    assert (outline.turns, outline.last) == (len(c), c.last)
    if c.last is not None:
        assert outline.last is not None
        assert outline.last.provenance == c.last.provenance
    assert outline.metadata == c.metadata


@given(stored_conversations())
@settings(max_examples=50)
def test_an_outline_says_what_load_would(places: Places, c: Conversation) -> None:
    """For the saved conversation and every prefix: its length, last turn and metadata."""
    with closing(places.store()) as store:
        store.save(c)
        prefixes = [c[:k] for k in range(len(c) + 1)]
        found = outlines(store, [p.id for p in prefixes])
        assert [o.id for o in found] == [p.id for p in prefixes]
        for outline in found:
            same(outline, store)
            assert outline == outlines(store, [outline.id])[0]


def test_names_and_prefixes_outline_in_the_order_asked(store: Store) -> None:
    """Names and unique id prefixes work as in load; the order (repeats too) is the caller's."""
    lisbon = TRIP.user("Lisbon").assistant("Three days.").with_metadata(title="Lisbon")
    porto = TRIP.user("Porto")
    store.save(lisbon, name="trip")
    store.save(porto)
    found = outlines(store, [porto.id, "trip", lisbon.id[:10], TRIP[:0].id, porto.id])
    assert [o.id for o in found] == [porto.id, lisbon.id, lisbon.id, TRIP[:0].id, porto.id]
    for outline in found:
        same(outline, store)
    assert (found[3].last, found[3].turns) == (None, 0)  # no turns: no last turn
    assert (found[1].turns, found[1].metadata["title"]) == (4, "Lisbon")
    assert found[3].metadata["title"] == "Lisbon"  # the metadata of the save that stored it
    assert outlines(store, []) == []


def test_an_unknown_id_or_a_bad_argument_is_refused(store: Store) -> None:
    """Not found names the id asked for; a bare str or a non-str id is a caller's mistake."""
    store.save(TRIP, name="trip")
    with pytest.raises(NotFoundError, match="'nowhere'"):
        outlines(store, ["trip", "nowhere"])
    with pytest.raises(MalformedInputError, match=r"give \[id\]"):
        outlines(store, "trip")  # type: ignore[arg-type]
    with pytest.raises(MalformedInputError, match=r"ids\[1\]"):
        outlines(store, ["trip", 7])  # type: ignore[list-item]


def test_a_damaged_sqlite_file_is_reported(tmp_path: Path) -> None:
    """A last turn or a metadata row changed on disk: CorruptStoreError, not garbage."""
    path = tmp_path / "chats.db"
    c = TRIP.with_metadata(title="x")
    with SQLiteStore(path) as store:
        store.save(c, name="trip")
    with sqlite3.connect(path) as db:
        db.execute('UPDATE metadata SET data = CAST(\'{"title":"y"}\' AS BLOB)')
    with SQLiteStore(path) as store:
        (found,) = store.outlines(["trip"])
        with pytest.raises(CorruptStoreError, match="metadata of conversation"):
            found.metadata  # noqa: B018
    with sqlite3.connect(path) as db:
        digest = bytes.fromhex(c.id)
        db.execute(
            "UPDATE nodes SET data = ? WHERE substr(data, 1, 32) = ?", (digest + b"[1]", digest)
        )
    with SQLiteStore(path) as store, pytest.raises(CorruptStoreError, match="last turn"):
        store.outlines(["trip"])


def test_the_async_postgres_twin_outlines_the_same(postgres_server: PostgresServer) -> None:
    """AsyncPostgresStore gives the outlines PostgresStore gives, on a real server."""
    schema = postgres_server.schema(9100)
    lisbon = TRIP.user("Lisbon").with_metadata(title="Lisbon")

    async def run() -> list[Outline]:
        async with AsyncPostgresStore(postgres_server.url, schema=schema) as store:
            await store.save(lisbon, name="trip")
            return await store.outlines(["trip", TRIP.id])

    found = asyncio.run(run())
    with PostgresStore(postgres_server.url, schema=schema) as store:
        assert store.outlines(["trip", TRIP.id]) == found
        same(found[0], store)
        same(found[1], store)
    assert (found[0].id, found[1].id) == (lisbon.id, TRIP.id)
