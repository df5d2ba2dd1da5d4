"""Shared code of ``bench_store.py``: scratch databases, the floor's bare table, LangChain.

Every database is a file in one temporary folder, deleted when its figure ends.
Every contender's database gets the SQLite settings of the store's own
connection (page size, journal mode, synchronous, cache size), read from a
store made for that purpose, so that a figure compares code, not settings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

FLOOR_TABLE = "CREATE TABLE turns (data BLOB NOT NULL)"
FLOOR_INSERT = "INSERT INTO turns (data) VALUES (?)"


# --------------------------------------------------------------------------- the store


def load_store() -> tuple[type[Any] | None, str]:
    """``SQLiteStore``, or ``(None, why)`` when the store cannot be imported."""
    import _data

    conversation_cls, why = _data.load_conversation()
    if conversation_cls is None:
        return None, why
    try:
        from conversation.store import SQLiteStore
    except ImportError as exc:
        return None, f"store not importable: {exc}"
    return SQLiteStore, ""


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class Settings:
    """The SQLite settings every contender's connection gets: the store's own."""

    page_size: int = 4096
    journal_mode: str = "wal"
    synchronous: int = 1
    cache_size: int = -2000

    @classmethod
    def of_store(cls, store_cls: type[Any] | None, folder: str) -> Settings:
        """The settings a new file store runs with (SQLite's defaults without a store)."""
        if store_cls is None:
            return cls()
        path = os.path.join(folder, "settings.db")
        store = store_cls(path)
        try:
            db = store._db  # the store's own connection: its per-connection settings
            found = {
                name: db.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("page_size", "journal_mode", "synchronous", "cache_size")
            }
        finally:
            store.close()
            remove(path)
        return cls(**found)

    def apply(self, db: Any) -> None:
        """Set these on a new connection (``db``: sqlite3's, or a DB-API one like it)."""
        db.execute(f"PRAGMA page_size = {self.page_size}")  # before the file has pages
        db.execute(f"PRAGMA journal_mode = {self.journal_mode}")
        db.execute(f"PRAGMA synchronous = {self.synchronous}")
        db.execute(f"PRAGMA cache_size = {self.cache_size}")

    def describe(self, folder: str) -> str:
        sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(self.synchronous, "?")
        return (
            f"every contender's SQLite file has the store's settings: journal_mode="
            f"{self.journal_mode}, synchronous={sync}, page_size={self.page_size}, "
            f"cache_size={self.cache_size}; files in {tempfile.gettempdir()} "
            f"({_filesystem(folder)}), SQLite {sqlite3.sqlite_version}"
        )


def _filesystem(folder: str) -> str:
    """The type of the file system holding ``folder`` (from /proc/mounts; '?' elsewhere)."""
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            entries = [line.split() for line in mounts]
    except OSError:
        return "?"
    real = os.path.realpath(folder)
    best = ("", "?")
    for entry in entries:
        inside = real == entry[1] or real.startswith(entry[1].rstrip("/") + "/")
        if len(entry) >= 3 and inside and len(entry[1]) > len(best[0]):
            best = (entry[1], entry[2])
    return best[1]


# --------------------------------------------------------------------------- files


def remove(path: str) -> None:
    """Delete a database file and its journals."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path + suffix)


def file_bytes(path: str) -> int:
    """The size of a database once its WAL is checkpointed into it (and emptied)."""
    db = sqlite3.connect(path, timeout=60)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return sum(
        os.path.getsize(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix)
    )


class Scratch:
    """A temporary folder of databases, deleted on exit.

    ``replace(kind, path, close)`` registers a new database of a kind, closing
    and deleting the previous one of that kind first: figures that write into a
    fresh database per timed call keep one of each kind on disk at a time.
    """

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="bench_store_")
        self._count = 0
        self._open: dict[str, tuple[str, Callable[[], object]]] = {}

    def path(self, kind: str) -> str:
        self._count += 1
        return os.path.join(self.folder, f"{kind}-{self._count}.db")

    def replace(self, kind: str, path: str, close: Callable[[], object]) -> None:
        previous = self._open.pop(kind, None)
        if previous is not None:
            previous[1]()
            remove(previous[0])
        self._open[kind] = (path, close)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        for _, close in self._open.values():
            close()
        self._open.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


# --------------------------------------------------------------------------- the floor


def bare_connect(path: str, settings: Settings) -> sqlite3.Connection:
    """An autocommit connection to ``path`` with ``settings``."""
    db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
    settings.apply(db)
    return db


def bare(path: str, settings: Settings) -> sqlite3.Connection:
    """A new database holding one bare table of JSON rows (the floor), autocommit."""
    db = bare_connect(path, settings)
    db.execute(FLOOR_TABLE)
    return db


def floor_rows(messages: list[dict[str, Any]]) -> list[tuple[bytes]]:
    """The turns' JSON rows: each wire message as ``orjson.dumps`` writes it."""
    return [(orjson.dumps(m),) for m in messages]


def floor_save(db: sqlite3.Connection, rows: list[tuple[bytes]]) -> None:
    """One transaction of ``executemany``: the least a save of these rows can cost."""
    db.execute("BEGIN IMMEDIATE")
    db.executemany(FLOOR_INSERT, rows)
    db.execute("COMMIT")


def floor_load(db: sqlite3.Connection, first: int, last: int) -> list[Any]:
    """Rows ``first`` to ``last`` (rowids), each parsed: the least a load of them can cost."""
    loads = orjson.loads
    return [
        loads(data)
        for (data,) in db.execute(
            "SELECT data FROM turns WHERE rowid BETWEEN ? AND ? ORDER BY rowid", (first, last)
        )
    ]


# --------------------------------------------------------------------------- conversations


def grow(c: Any, message: dict[str, Any]) -> Any:
    """``c`` with one more turn: the wire message ``message`` (a str or block dicts)."""
    if message["role"] == "user":
        return c.user(message["content"])
    return c.assistant(message["content"])


# --------------------------------------------------------------------------- LangChain


def langchain_missing() -> str:
    """Why LangChain's SQLChatMessageHistory cannot run here ('' when it can)."""
    try:
        langchain()
    except ImportError as exc:
        return f"langchain-community not importable ({exc}); pip install -e '.[bench]'"
    return ""


def langchain() -> tuple[Any, Any]:
    """``(SQLChatMessageHistory, sqlalchemy)``, imported on first use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the package announces its sunset on import
        import sqlalchemy
        from langchain_community.chat_message_histories import SQLChatMessageHistory
    return SQLChatMessageHistory, sqlalchemy


def langchain_engine(path: str, settings: Settings) -> Any:
    """A SQLAlchemy engine on ``path`` whose connections get ``settings``."""
    _, sqlalchemy = langchain()
    engine = sqlalchemy.create_engine(f"sqlite:///{path}")

    @sqlalchemy.event.listens_for(engine, "connect")
    def _settings(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        settings.apply(cursor)
        cursor.close()

    return engine


def langchain_history(engine: Any, session: str) -> Any:
    """LangChain's history of one session in ``engine``'s database (the table made if new)."""
    history_cls, _ = langchain()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return history_cls(session_id=session, connection=engine)


def langchain_messages(messages: list[dict[str, Any]]) -> list[Any]:
    """The LangChain messages of wire messages (texts, tool calls and their results)."""
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    out: list[Any] = []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            out.append(HumanMessage(content) if m["role"] == "user" else AIMessage(content))
            continue
        (block,) = content
        if block["type"] == "tool_use":
            call = {"name": block["name"], "args": block["input"], "id": block["id"]}
            out.append(AIMessage("", tool_calls=[call]))
        else:
            out.append(ToolMessage(block["content"], tool_call_id=block["tool_use_id"]))
    return out


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """LangChain's and SQLAlchemy's warnings silenced for a block."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
