"""The PostgreSQL store's own behaviour, on a real server (the protocol suite runs too).

A server restart in the middle of a run, a connection killed during a save, a
refused connection, a schema of something else or of a newer library, a pool
of the caller's, the async twin, and the password that never shows.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from conversation import Conversation, MalformedInputError
from conversation.store import (
    AsyncPostgresStore,
    NotAStoreError,
    NotFoundError,
    PostgresStore,
    SQLiteStore,
    StoreConnectionError,
    StoreError,
    StoreVersionError,
    open_store,
)
from conversation.store._pg_plans import check_server
from tests.conversation.store.backends import check_consistent
from tests.conversation.store.model import all_ids, branches, walk
from tests.postgres import PostgresServer

BASE = Conversation(system="Plan trips.").user("Lisbon?").assistant("Three days.")


@pytest.fixture
def schema(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> str:
    """A schema of its own for the test (a new store on the session's server)."""
    return postgres_server.schema(hash(request.node.nodeid) % 10**9 + 10**9)


@pytest.fixture
def store(postgres_server: PostgresServer, schema: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(postgres_server.url, schema=schema, timeout=20)
    yield opened
    opened.close()


@pytest.fixture
def anyio_backend() -> str:
    """psycopg's async connections run on asyncio."""
    return "asyncio"


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def with_password(url: str, password: str) -> str:
    """``url`` with a password (the test server trusts local users, so any password works)."""
    return url.replace("postgres@", f"postgres:{password}@", 1)


# -- the server goes away ---------------------------------------------------------------------


def test_a_server_restart_mid_run_loses_no_acknowledged_save(
    postgres_server: PostgresServer, store: PostgresStore, schema: str
) -> None:
    """A writer saves on while the server restarts: each save returned (kept whole) or raised
    StoreConnectionError, and the same store object goes on saving after the restart."""
    if postgres_server.directory is None:
        pytest.skip("the server was named by URL without its directory: it cannot be restarted")
    heads = branches(5, 120, longest=30)
    acked: list[int] = []
    failed: list[int] = []
    restarted = threading.Event()

    def write() -> None:
        for index, head in enumerate(heads):
            if index == 40:
                assert restarted.wait(60)
            try:
                store.save(head, name="latest")
            except StoreConnectionError:
                failed.append(index)
            else:
                acked.append(index)

    writer = threading.Thread(target=write)
    writer.start()
    while len(acked) + len(failed) < 20:
        time.sleep(0.001)
    postgres_server.restart()
    restarted.set()
    writer.join(120)
    assert not writer.is_alive()
    assert [i for i in acked if i >= 40] == list(range(40, len(heads)))  # reconnected
    for index in acked:
        assert store.load(heads[index].id) == heads[index]
    saved = {c.id: c for c in heads if c.id in store}
    assert set(walk(store, heads[0][:0].id)) == all_ids(saved.values())
    assert set(store.leaves()) <= set(saved)  # no leaf that a cut-short save left
    check_consistent(f"postgres:{schema} {postgres_server.url}")


def backend_waiting_on_a_lock(postgres_server: PostgresServer, schema: str) -> int:
    """The pid of the store's session that waits for a row lock (polled, up to 30 s)."""
    with postgres_server.connect() as look:
        for _ in range(3000):
            found = look.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND position(%s in query) > 0",
                (f'"{schema}".names',),
            ).fetchall()
            if found:
                pid: int = found[0][0]
                return pid
            time.sleep(0.01)
    raise AssertionError("the save never waited for the lock")


def test_a_connection_killed_during_a_save_stores_nothing_and_the_store_reconnects(
    postgres_server: PostgresServer, store: PostgresStore, schema: str
) -> None:
    """The save's session is ended by the server (pg_terminate_backend) while it waits to
    move a name, after writing its turns: StoreConnectionError, none of it stored."""
    store.save(BASE, name="main")
    longer = BASE
    for i in range(300):
        longer = longer.user(f"question {i}").assistant(f"answer {i}")
    outcome: list[BaseException | str] = []

    def save() -> None:
        try:
            outcome.append(store.save(longer, name="main"))
        except BaseException as error:
            outcome.append(error)

    with postgres_server.connect() as blocker:
        with blocker.transaction():
            blocker.execute(f'SELECT * FROM "{schema}".names WHERE name = %s FOR UPDATE', ("main",))
            saver = threading.Thread(target=save)
            saver.start()
            pid = backend_waiting_on_a_lock(postgres_server, schema)
            assert blocker.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        saver.join(60)
    [error] = outcome
    assert isinstance(error, StoreConnectionError), error
    assert "nothing of it was done" in str(error)
    assert longer.id not in store
    assert BASE.user("question 0").id not in store  # not one of its turns
    assert store.names() == {"main": BASE.id}
    check_consistent(f"postgres:{schema} {postgres_server.url}")
    assert store.save(longer, name="main") == longer.id  # the next call reconnects
    assert store.load("main") == longer


def test_a_refused_connection_is_a_clear_error_without_the_password() -> None:
    url = f"postgresql://someone:hunter2secret@127.0.0.1:{free_port()}/chats"
    started = time.monotonic()
    with pytest.raises(StoreConnectionError, match="could not connect") as caught:
        PostgresStore(url, timeout=5)
    assert time.monotonic() - started < 5  # refused at once, not waited for
    assert "hunter2secret" not in str(caught.value)
    assert "'chats' at 127.0.0.1" in str(caught.value)
    with pytest.raises(StoreConnectionError) as caught:
        open_store(url, timeout=5)
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.anyio
async def test_a_refused_connection_is_a_clear_error_async_too() -> None:
    store = AsyncPostgresStore(f"postgresql://u:hunter2secret@127.0.0.1:{free_port()}/db")
    with pytest.raises(StoreConnectionError, match="could not connect") as caught:
        await store.load("main")
    assert "hunter2secret" not in str(caught.value) + repr(store)


def test_the_password_shows_in_no_repr_or_message(
    postgres_server: PostgresServer, schema: str
) -> None:
    url = with_password(postgres_server.url, "hunter2secret")
    with PostgresStore(url, schema=schema) as store:
        shown = [repr(store)]
        with pytest.raises(NotFoundError) as missing:
            store.load("nothing")
        shown.append(str(missing.value))
    with pytest.raises(StoreError) as closed:
        store.names()
    shown += [str(closed.value), repr(store)]
    with pytest.raises(StoreConnectionError) as bad_port:
        PostgresStore(url.replace(url.rsplit(":", 1)[1].split("/")[0], "99999"), timeout=5)
    shown.append(str(bad_port.value))
    with pytest.raises(MalformedInputError) as malformed:
        PostgresStore("postgresql://u:hunter2secret@host/db?nonsense=1")
    shown.append(str(malformed.value))
    assert all("hunter2secret" not in text for text in shown), shown
    assert "closed" in shown[2]


# -- what the schema holds -----------------------------------------------------------------


def test_a_schema_of_something_else_is_refused_and_left_alone(
    postgres_server: PostgresServer, schema: str
) -> None:
    with postgres_server.connect() as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(f'CREATE TABLE "{schema}".users (name text)')
        with pytest.raises(NotAStoreError, match="users"):
            PostgresStore(postgres_server.url, schema=schema)
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
    assert tables == [("users",)]


def test_a_store_of_a_newer_schema_is_refused(
    postgres_server: PostgresServer, store: PostgresStore, schema: str
) -> None:
    store.save(BASE)
    with postgres_server.connect() as connection:
        connection.execute(f"UPDATE \"{schema}\".store_info SET value = '99' WHERE key = 'schema'")
    with pytest.raises(StoreVersionError, match="schema 99"):
        PostgresStore(postgres_server.url, schema=schema)


@pytest.mark.parametrize("version", [90600, 110022])
def test_a_server_older_than_12_is_refused(version: int) -> None:
    """The check each store makes of ``server_version_num`` on connecting."""
    with pytest.raises(StoreVersionError, match=r"PostgreSQL \d+\.\d+; the store needs"):
        check_server(version, "the server")
    check_server(120000, "the server")
    check_server(170002, "the server")


def test_stores_in_two_schemas_are_apart(postgres_server: PostgresServer, schema: str) -> None:
    with (
        PostgresStore(postgres_server.url, schema=schema + "a") as one,
        PostgresStore(postgres_server.url, schema=schema + "b") as other,
    ):
        one.save(BASE, name="main")
        assert other.names() == {}
        assert BASE.id not in other


@pytest.mark.parametrize("schema_name", ["", "x" * 64, "a\x00b", "tab\there", 3])
def test_a_schema_name_postgresql_would_change_is_refused(schema_name: object) -> None:
    with pytest.raises(MalformedInputError, match="schema"):
        PostgresStore("postgresql://u@127.0.0.1/db", schema=schema_name)  # type: ignore[arg-type]


def test_a_name_with_nul_is_refused(store: PostgresStore) -> None:
    """PostgreSQL text cannot hold NUL: refused before anything is stored."""
    with pytest.raises(MalformedInputError, match="NUL"):
        store.save(BASE, name="a\x00b")
    assert BASE.id not in store
    assert "a\x00b" not in store


# -- pools, async, open_store ------------------------------------------------------------------


def test_a_pool_of_the_callers_is_used_and_left_open(
    postgres_server: PostgresServer, schema: str
) -> None:
    from psycopg_pool import ConnectionPool

    with ConnectionPool(postgres_server.url, min_size=1, max_size=2, open=True) as pool:
        with PostgresStore(pool, schema=schema) as store:
            store.save(BASE, name="main")
            assert store.load("main") == BASE
        assert not pool.closed
        with pool.connection() as connection:  # not autocommit, as the caller left it
            assert not connection.autocommit
        with PostgresStore(pool, schema=schema) as again:
            assert again.names() == {"main": BASE.id}


@pytest.mark.anyio
async def test_the_async_store_does_what_the_blocking_one_does(
    postgres_server: PostgresServer, schema: str
) -> None:
    """The same plans on async connections: every method, and saves racing in tasks."""
    heads = branches(11, 60)
    async with AsyncPostgresStore(postgres_server.url, schema=schema) as store:
        ids = await asyncio.gather(*(store.save(c) for c in heads))
        assert sorted(ids) == sorted(c.id for c in heads)
        for c in heads[:10]:
            assert await store.load(c.id) == c
        assert await store.save(BASE, name="main") == BASE.id
        assert await store.load("main") == BASE
        assert await store.names() == {"main": BASE.id}
        assert await store.contains("main")
        assert not await store.contains("other")
        assert await store.children(BASE[:1].id) == [BASE.id]
        assert BASE.id in await store.leaves()
        await store.delete("main")
        assert not await store.contains(BASE.id)
        with pytest.raises(NotFoundError):
            await store.load("main")
    with pytest.raises(StoreError, match="closed"):
        await store.names()
    with PostgresStore(postgres_server.url, schema=schema) as blocking:  # one store, two twins
        assert set(walk(blocking, heads[0][:0].id)) == all_ids(heads)
    check_consistent(f"postgres:{schema} {postgres_server.url}")


@pytest.mark.anyio
async def test_the_async_store_takes_an_async_pool(
    postgres_server: PostgresServer, schema: str
) -> None:
    from psycopg_pool import AsyncConnectionPool

    async with AsyncConnectionPool(postgres_server.url, min_size=1, open=False) as pool:
        store = AsyncPostgresStore(pool, schema=schema)
        await store.save(BASE, name="main")
        assert await store.load("main") == BASE
        await store.aclose()
        assert not pool.closed


def test_open_store_reads_each_kind_of_url(
    postgres_server: PostgresServer, schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url, kind in [
        ("sqlite://", SQLiteStore),
        ("sqlite:///:memory:", SQLiteStore),
        ("sqlite:///chats.db", SQLiteStore),
        (f"sqlite:///{tmp_path}/abs.db", SQLiteStore),
        (postgres_server.url, PostgresStore),
        (postgres_server.url.replace("postgresql://", "postgres://"), PostgresStore),
    ]:
        with closing(open_store(url, schema=schema) if kind is PostgresStore else open_store(url)):
            pass
    assert (tmp_path / "chats.db").exists()
    assert (tmp_path / "abs.db").exists()
    for bad in ["chats.db", "sqlite:chats.db", "mysql://u@h/db", "sqlite:///x.db?mode=ro", 3]:
        with pytest.raises(MalformedInputError, match=r"sqlite:///|a str"):
            open_store(bad)  # type: ignore[arg-type]


def test_psycopg_is_imported_only_for_a_postgres_store_and_its_absence_is_explained() -> None:
    """``import conversation.store`` leaves psycopg alone; without it, the error names the extra."""
    code = (
        "import sys\n"
        "import conversation.store\n"
        "assert 'psycopg' not in sys.modules and 'psycopg_pool' not in sys.modules\n"
        "sys.modules['psycopg'] = None  # as if it were not installed\n"
        "try:\n"
        "    conversation.store.PostgresStore('postgresql://u@127.0.0.1/db')\n"
        "except conversation.store.StoreError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert "pip install 'conversation-state[postgres]'" in done.stdout
