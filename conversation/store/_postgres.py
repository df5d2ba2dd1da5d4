"""PostgresStore and AsyncPostgresStore: the conversation store on a PostgreSQL server.

psycopg 3 and its pool are an optional extra (``pip install
'conversation-state[postgres]'``), imported when a store is made, so that
``import conversation`` stays light. The two classes differ only in I/O: what
each call does is a plan of :mod:`._pg_plans`, run in one transaction on a
pooled connection by :func:`_run` (blocking) or :func:`_arun` (async).

A call that finds its pooled connection dead before it did anything (the
server restarted) runs again on another; one whose connection drops later
raises :class:`StoreConnectionError` with nothing half done (a transaction is
all or nothing), and the next call reconnects. What each psycopg error means
to the store is decided in ``_pg_failures.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final, Self

from .._closing import AsyncClosing, Closing
from .._conversation import Conversation
from .._steps import adrive, drive
from ..errors import (
    MalformedInputError,
    StoreError,
    type_name,
)
from . import _pg_plans as plans
from ._checks import id_list
from ._outline import Outline
from ._pg_failures import Retry, Target, failure, psycopg_modules, retry_or_raise
from ._pg_sql import Statements
from ._rows import metadata_row
from ._schema import SCHEMA_VERSION

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["AsyncPostgresStore", "PostgresStore"]

DEFAULT_SCHEMA: Final = "conversation_store"
"""The PostgreSQL schema a store keeps its tables in unless told another."""

_BEGIN: Final = {
    "read": "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",  # one snapshot for every query
    "write": "BEGIN ISOLATION LEVEL READ COMMITTED",  # each statement sees the latest commits
}


def _check_options(timeout: object, max_connections: object) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
        raise MalformedInputError(
            f"timeout must be a number of seconds (> 0), got {timeout!r}", "timeout"
        )
    if type(max_connections) is not int or max_connections < 1:
        raise MalformedInputError(
            f"max_connections must be a whole number from 1, got {max_connections!r}",
            "max_connections",
        )
    return float(timeout)


class _Base:
    """What the two stores share: arguments, their check, messages, repr."""

    _kind = "PostgresStore"

    def __init__(
        self, conninfo: object, schema: str, timeout: float, max_connections: int, pool_class: str
    ) -> None:
        self._psycopg, self._pool_module = psycopg_modules()
        self._q = Statements(schema)
        self._timeout = _check_options(timeout, max_connections)
        self._max = max_connections
        self._tries = max_connections + 5
        given_pool = getattr(self._pool_module, pool_class)
        if isinstance(conninfo, str):
            self._conninfo: str = conninfo
            self._given: Any = None
        elif isinstance(conninfo, given_pool):
            self._conninfo = str(conninfo.conninfo)
            self._given = conninfo
        else:
            raise MalformedInputError(
                f"{self._kind} takes a PostgreSQL URL or connection string, or a psycopg_pool."
                f"{pool_class}, got {type_name(conninfo)}",
                "conninfo",
            )
        self._target = Target(self._conninfo, schema)
        self._closed = False

    def __repr__(self) -> str:
        state = ", closed" if self._closed else ""
        return f"<{self._kind} {self._target.where}{state}>"

    def _closed_error(self) -> StoreError:
        return StoreError(f"the store on {self._target.where} is closed; open a new {self._kind}")

    def _pool_options(self) -> dict[str, Any]:
        return {
            "min_size": 1,
            "max_size": self._max,
            "kwargs": {"autocommit": True},
            "timeout": self._timeout,
            "name": f"conversation-store {self._q.schema}",
            "num_workers": 1,
        }

    def _connect_options(self) -> dict[str, Any]:
        return {"autocommit": True, "connect_timeout": max(2, round(self._timeout))}

    def _check_server(self, version: int) -> None:
        plans.check_server(version, self._target.where)

    def _version(self) -> plans.Plan:
        return plans.version(self._q, self._target.where)

    def _create(self) -> plans.Plan:
        return plans.create(self._q, self._target.where)

    def _prepare(self) -> plans.Plan:
        """A plan that makes or migrates the store (under its lock), unless it is current."""
        found = yield from plans.version(self._q, self._target.where)
        if found != SCHEMA_VERSION:
            yield from plans.create(self._q, self._target.where)


# -- the blocking store ---------------------------------------------------------------------


class PostgresStore(_Base, Closing):
    """A conversation store in a PostgreSQL database, shared by every process that opens it.

    ``conninfo`` is a URL (``postgresql://user:password@host:5432/dbname``) or
    key=value string, or a ``psycopg_pool.ConnectionPool`` of yours (the store
    then never closes it). The tables live in ``schema``, made on first use.
    ``timeout`` bounds the wait for a connection. Use it as a context manager,
    or call :meth:`close`.
    """

    def __init__(
        self,
        conninfo: str | psycopg_pool.ConnectionPool[Any],
        *,
        schema: str = DEFAULT_SCHEMA,
        timeout: float = 30.0,
        max_connections: int = 10,
    ) -> None:
        super().__init__(conninfo, schema, timeout, max_connections, "ConnectionPool")
        self._lock = threading.Lock()
        if self._given is not None:
            self._pool: Any = self._given
            self._transaction("open the store", "write", self._prepare)
            return
        with self._errors("open the store", "connect"):
            connection = self._psycopg.connect(self._conninfo, **self._connect_options())
        try:
            self._prepare_on(connection)
        finally:
            connection.close()
        self._pool = self._pool_module.ConnectionPool(
            self._conninfo, open=False, **self._pool_options()
        )
        with self._errors("open the store", "connect"):
            # Waits for its first connection: the pool's threads then have nothing to do
            # until the store is used (they draw random jitter, which a caller may not expect).
            self._pool.open(wait=True, timeout=self._timeout)

    # -- the Store protocol -------------------------------------------------------------

    def save(self, conversation: Conversation, name: str | None = None) -> str:
        """Store ``conversation`` and return its id; with ``name``, point the name at it.

        Writes only the turns the store does not hold yet, in one transaction.
        """
        plans.check_save(conversation, name)
        meta = metadata_row(conversation.metadata)
        found: str = self._transaction(
            "save a conversation", "write", lambda: plans.save(self._q, conversation, name, meta)
        )
        return found

    def load(self, id_or_name: str) -> Conversation:
        """The conversation stored under this id (or name), equal to the one saved."""
        found: Conversation = self._transaction(
            "load a conversation", "read", lambda: plans.load(self._q, id_or_name)
        )
        return found

    def children(self, id: str) -> list[str]:
        """Ids of the stored conversations one turn longer than ``id``, oldest first."""
        found: list[str] = self._transaction(
            "list children", "read", lambda: plans.children(self._q, id)
        )
        return found

    def leaves(self, id: str | None = None) -> list[str]:
        """Ids of the stored conversations nothing extends, under ``id`` or in the whole store."""
        found: list[str] = self._transaction(
            "list leaves", "read", lambda: plans.leaves(self._q, id)
        )
        return found

    def names(self) -> dict[str, str]:
        """Every name and the id it points at, by name."""
        found: dict[str, str] = self._transaction(
            "list names", "read", lambda: plans.names(self._q)
        )
        return found

    def outlines(self, ids: Iterable[str]) -> list[Outline]:
        """The :class:`Outline` of each id (or name), without loading them (one query)."""
        wanted = id_list(ids)
        found: list[Outline] = self._transaction(
            "outline conversations", "read", lambda: plans.outlines(self._q, wanted)
        )
        return found

    def delete(self, id_or_name: str) -> None:
        """Remove a stored conversation, and the turns only it holds (shared turns stay)."""
        self._transaction(
            "delete a conversation", "write", lambda: plans.delete(self._q, id_or_name)
        )

    def __contains__(self, id_or_name: object) -> bool:
        """Whether :meth:`load` finds one conversation by this id, id prefix or name.

        An id prefix that several stored conversations share is not in the
        store (``load`` refuses it); neither is anything but a str.
        """
        found: bool = self._transaction(
            "look up a conversation", "read", lambda: plans.contains(self._q, id_or_name)
        )
        return found

    def close(self) -> None:
        """Close the store's connections (not a pool it was given); later calls raise."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._given is None:
            self._pool.close()

    # -- transactions -----------------------------------------------------------------------

    def _prepare_on(self, connection: psycopg.Connection[Any]) -> None:
        self._check_server(connection.info.server_version)
        if self._once(connection, "read", self._version, "open the store") != SCHEMA_VERSION:
            self._once(connection, "write", self._create, "make the store")

    def _transaction(self, action: str, kind: str, make: Callable[[], plans.Plan]) -> Any:
        """Run the plan ``make()`` makes in one transaction, again while that is safe and needed."""
        if self._closed:
            raise self._closed_error()
        attempt = 0
        while True:
            attempt += 1
            try:
                with (
                    self._errors(action, "connect"),
                    self._pool.connection(timeout=self._timeout) as connection,
                ):
                    if self._given is not None:
                        self._check_server(connection.info.server_version)
                    return self._once(connection, kind, make, action)
            except (Retry, plans.Again) as retry:
                retry_or_raise(retry, attempt, self._tries, action, self._target.where)

    @contextmanager
    def _errors(self, action: str, stage: str) -> Iterator[None]:
        """psycopg's errors (but those of a transaction, mapped already) as the store's."""
        try:
            yield
        except self._psycopg.Error as exc:
            if self._closed:
                raise self._closed_error() from None
            raise failure(exc, stage, False, self._target, action) from None

    def _once(
        self,
        connection: psycopg.Connection[Any],
        kind: str,
        make: Callable[[], plans.Plan],
        action: str,
    ) -> Any:
        """One transaction of the plan ``make()`` makes, on a blocking connection."""
        psycopg = self._psycopg
        autocommit = connection.autocommit
        if not autocommit:
            connection.autocommit = True  # a pool of the caller's: its transactions are ours here
        stage = "begin"
        try:
            with connection.cursor(binary=True) as cursor:

                def do(query: plans.Query) -> Any:
                    cursor.execute(query.sql, query.params)
                    return cursor.fetchall() if cursor.description is not None else cursor.rowcount

                cursor.execute(_BEGIN[kind])
                stage = "body"
                try:
                    result = drive(make(), do)
                except BaseException:
                    if not connection.broken:
                        with suppress(psycopg.Error):
                            connection.execute("ROLLBACK")
                    raise
                stage = "commit"
                cursor.execute("COMMIT")
                return result
        except psycopg.Error as exc:
            raise failure(exc, stage, connection.broken, self._target, action) from None
        finally:
            if not autocommit and not connection.closed:
                connection.autocommit = False


# -- the async store --------------------------------------------------------------------------


class AsyncPostgresStore(_Base, AsyncClosing):
    """:class:`PostgresStore` for asyncio: the same store, every method a coroutine.

    Made without I/O; the first call (or ``async with``) connects and makes
    the store on first use. ``conninfo`` may be a
    ``psycopg_pool.AsyncConnectionPool`` of yours, opened. Close it with
    :meth:`aclose`. ``in`` is :meth:`contains`.
    """

    _kind = "AsyncPostgresStore"

    def __init__(
        self,
        conninfo: str | psycopg_pool.AsyncConnectionPool[Any],
        *,
        schema: str = DEFAULT_SCHEMA,
        timeout: float = 30.0,
        max_connections: int = 10,
    ) -> None:
        super().__init__(conninfo, schema, timeout, max_connections, "AsyncConnectionPool")
        self._pool: Any = self._given
        self._ready = False
        self._opening = asyncio.Lock()

    async def save(self, conversation: Conversation, name: str | None = None) -> str:
        """Store ``conversation`` and return its id; with ``name``, point the name at it."""
        plans.check_save(conversation, name)
        meta = metadata_row(conversation.metadata)
        found: str = await self._transaction(
            "save a conversation", "write", lambda: plans.save(self._q, conversation, name, meta)
        )
        return found

    async def load(self, id_or_name: str) -> Conversation:
        """The conversation stored under this id (or name), equal to the one saved."""
        found: Conversation = await self._transaction(
            "load a conversation", "read", lambda: plans.load(self._q, id_or_name)
        )
        return found

    async def children(self, id: str) -> list[str]:
        """Ids of the stored conversations one turn longer than ``id``, oldest first."""
        found: list[str] = await self._transaction(
            "list children", "read", lambda: plans.children(self._q, id)
        )
        return found

    async def leaves(self, id: str | None = None) -> list[str]:
        """Ids of the stored conversations nothing extends, under ``id`` or in the whole store."""
        found: list[str] = await self._transaction(
            "list leaves", "read", lambda: plans.leaves(self._q, id)
        )
        return found

    async def names(self) -> dict[str, str]:
        """Every name and the id it points at, by name."""
        found: dict[str, str] = await self._transaction(
            "list names", "read", lambda: plans.names(self._q)
        )
        return found

    async def outlines(self, ids: Iterable[str]) -> list[Outline]:
        """The :class:`Outline` of each id (or name), without loading them (one query)."""
        wanted = id_list(ids)
        found: list[Outline] = await self._transaction(
            "outline conversations", "read", lambda: plans.outlines(self._q, wanted)
        )
        return found

    async def delete(self, id_or_name: str) -> None:
        """Remove a stored conversation, and the turns only it holds (shared turns stay)."""
        await self._transaction(
            "delete a conversation", "write", lambda: plans.delete(self._q, id_or_name)
        )

    async def contains(self, id_or_name: object) -> bool:
        """True when a conversation with this id, or this name, is stored."""
        found: bool = await self._transaction(
            "look up a conversation", "read", lambda: plans.contains(self._q, id_or_name)
        )
        return found

    async def aclose(self) -> None:
        """Close the store's connections (not a pool it was given); later calls raise."""
        if self._closed:
            return
        self._closed = True
        if self._given is None and self._pool is not None:
            await self._pool.close()

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    # -- transactions -----------------------------------------------------------------------

    async def _open(self) -> None:
        """Connect and make the store on first use (once, however many calls wait for it)."""
        async with self._opening:
            if self._ready:
                return
            if self._closed:
                raise self._closed_error()
            if self._given is None:
                try:
                    connection = await self._psycopg.AsyncConnection.connect(
                        self._conninfo, **self._connect_options()
                    )
                except self._psycopg.Error as exc:
                    raise failure(exc, "connect", False, self._target, "open the store") from None
                try:
                    self._check_server(connection.info.server_version)
                    found = await self._once(connection, "read", self._version, "open the store")
                    if found != SCHEMA_VERSION:
                        await self._once(connection, "write", self._create, "make the store")
                finally:
                    await connection.close()
                pool = self._pool_module.AsyncConnectionPool(
                    self._conninfo, open=False, **self._pool_options()
                )
                await pool.open(wait=True, timeout=self._timeout)
                self._pool = pool
                self._ready = True
                return
            await self._run("open the store", "write", self._prepare)
            self._ready = True

    async def _transaction(self, action: str, kind: str, make: Callable[[], plans.Plan]) -> Any:
        if self._closed:
            raise self._closed_error()
        if not self._ready:
            await self._open()
        return await self._run(action, kind, make)

    async def _run(self, action: str, kind: str, make: Callable[[], plans.Plan]) -> Any:
        """The plan ``make()`` makes in one transaction, again while that is safe and needed."""
        attempt = 0
        while True:
            attempt += 1
            try:
                try:
                    async with self._pool.connection(timeout=self._timeout) as connection:
                        if self._given is not None:
                            self._check_server(connection.info.server_version)
                        return await self._once(connection, kind, make, action)
                except self._psycopg.Error as exc:
                    if self._closed:
                        raise self._closed_error() from None
                    raise failure(exc, "connect", False, self._target, action) from None
            except (Retry, plans.Again) as retry:
                retry_or_raise(retry, attempt, self._tries, action, self._target.where)

    async def _once(
        self,
        connection: psycopg.AsyncConnection[Any],
        kind: str,
        make: Callable[[], plans.Plan],
        action: str,
    ) -> Any:
        """One transaction of the plan ``make()`` makes, on an async connection."""
        psycopg = self._psycopg
        autocommit = connection.autocommit
        if not autocommit:
            await connection.set_autocommit(True)
        stage = "begin"
        try:
            async with connection.cursor(binary=True) as cursor:

                async def do(query: plans.Query) -> Any:
                    await cursor.execute(query.sql, query.params)
                    if cursor.description is not None:
                        return await cursor.fetchall()
                    return cursor.rowcount

                await cursor.execute(_BEGIN[kind])
                stage = "body"
                try:
                    result = await adrive(make(), do)
                except BaseException:
                    if not connection.broken:
                        with suppress(psycopg.Error):
                            await connection.execute("ROLLBACK")
                    raise
                stage = "commit"
                await cursor.execute("COMMIT")
                return result
        except psycopg.Error as exc:
            raise failure(exc, stage, connection.broken, self._target, action) from None
        finally:
            if not autocommit and not connection.closed:
                await connection.set_autocommit(False)
