"""SQLiteStore: the embedded conversation store, one file (or memory), stdlib ``sqlite3``.

Writers serialize on SQLite's own lock: every save or delete is one
``BEGIN IMMEDIATE`` transaction, so a process killed mid-save leaves the store
as it was before that save, and threads or processes saving at once wait their
turn (up to ``timeout`` seconds) instead of failing. A file store runs in WAL
mode, so readers never wait for a writer.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from .._closing import Closing
from .._conversation import Conversation
from ..errors import (
    CorruptStoreError,
    MalformedInputError,
    NotAStoreError,
    StoreBusyError,
    StoreError,
    StoreVersionError,
    type_name,
)
from ._checks import check_name, id_list, schema_version, stored_id, stored_name
from ._outline import Outline, outline
from ._rows import (
    metadata_matches,
    metadata_row,
    not_found,
    rebuild,
    rows_to_save,
    stored_prefix,
)
from ._schema import CREATE, FORMAT, MIGRATIONS, SCHEMA_VERSION
from ._sqlite_tree import (
    _CHILDREN,
    _LEAVES,
    _LEAVES_UNDER,
    _OUTLINE,
    _PATH,
    _SEGMENT_ROWS,
    _after,
    _drop_unused_metadata,
    _insert,
    _is_place,
    _is_stored,
    _key,
    _metadata_id,
    _node,
    _place,
    _prune,
    _resolve,
)

__all__ = ["SQLiteStore"]


PAGE_SIZE = 8192
"""Bytes per page of a new store file."""


class SQLiteStore(Closing):
    """A conversation store in one SQLite file (``":memory:"`` for one in memory).

    Content-addressed: a turn is stored once however many saved conversations
    share it, and saving a conversation one turn longer than a stored one
    writes one turn. Use it as a context manager, or call :meth:`close`.

    >>> from conversation import Conversation
    >>> from conversation.store import SQLiteStore
    >>> with SQLiteStore(":memory:") as store:
    ...     c = Conversation(system="Be brief.").user("Hi").assistant("Hello!")
    ...     saved = store.save(c, name="main")
    ...     store.load("main") == c, store.load(c[:1].id) == c[:1]
    (True, True)
    """

    def __init__(self, path: str | os.PathLike[str] = ":memory:", *, timeout: float = 30.0) -> None:
        if not isinstance(path, str | os.PathLike):
            raise MalformedInputError(
                f"SQLiteStore takes a file path or ':memory:', got {type_name(path)}", "path"
            )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise MalformedInputError(
                f"timeout must be a number of seconds (>= 0), got {timeout!r}", "timeout"
            )
        self._path = os.fspath(path)
        self._timeout = float(timeout)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        with self._errors("open"):
            self._db = sqlite3.connect(
                self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            try:
                self._prepare(self._db)
            except BaseException:
                self._db.close()
                self._db = None
                raise

    # -- the Store protocol -----------------------------------------------------------

    def save(self, conversation: Conversation, name: str | None = None) -> str:
        """Store ``conversation`` and return its id; with ``name``, point the name at it.

        Writes only the turns the store does not hold yet, in one transaction.
        Saving the same conversation again updates the metadata kept with it.
        The rows are hashed and encoded before the write lock is taken, so other
        writers wait only for the inserts.
        """
        if not isinstance(conversation, Conversation):
            raise MalformedInputError(
                f"save takes a Conversation, got {type_name(conversation)}", "conversation"
            )
        if name is not None:
            check_name(name)
        meta_digest, meta_data = metadata_row(conversation.metadata)
        with self._read("save a conversation") as db:
            seen = stored_prefix(conversation, lambda digest: _is_stored(db, digest))
        rows = rows_to_save(conversation, seen)
        with self._write("save a conversation") as db:
            meta = _metadata_id(db, meta_digest, meta_data)
            # Again, under the lock: another writer may have stored more, or deleted some.
            stored = stored_prefix(conversation, lambda digest: _is_stored(db, digest))
            if stored < len(conversation):
                if stored < seen:
                    rows = rows_to_save(conversation, stored)
                else:  # the rows of turns stored meanwhile are dropped
                    rows = _after(rows, max(stored, 0) - max(seen, 0))
                _insert(db, conversation, stored, rows, meta)
            head = bytes.fromhex(conversation.id)  # known by now: hashed on the way
            old = db.execute("SELECT meta FROM heads WHERE id = ?", (head,)).fetchone()
            db.execute("INSERT OR REPLACE INTO heads (id, meta) VALUES (?, ?)", (head, meta))
            if old is not None and old[0] is not None and old[0] != meta:
                _drop_unused_metadata(db, old[0])
            if name is not None:
                db.execute("INSERT OR REPLACE INTO names (name, id) VALUES (?, ?)", (name, head))
        return head.hex()

    def load(self, id_or_name: str) -> Conversation:
        """The conversation stored under this id (or name), equal to the one saved.

        Any prefix of a saved conversation loads by its id too. Its metadata is
        the one saved with it, or, for a prefix never saved itself, the metadata
        of the save that stored its last turn first.
        """
        with self._read("load a conversation") as db:
            digest = _resolve(db, id_or_name)
            row = _node(db, digest)
            if row is None:
                raise not_found(id_or_name)
            seg, pos, depth, meta = row
            found = db.execute("SELECT meta FROM heads WHERE id = ?", (digest,)).fetchone()
            if found is not None:
                meta = found[0]
            rows: list[tuple[bytes, bytes]] = []
            for part, upto in db.execute(_PATH, (seg, pos)).fetchall():
                if type(part) is not int or type(upto) is not int:
                    raise CorruptStoreError(
                        f"a segment on the path of conversation {digest.hex()} is damaged "
                        f"(its parent is {part!r:.40}, {upto!r:.40}); restore the store from "
                        "a backup"
                    )
                rows += db.execute(_SEGMENT_ROWS, (_key(part, 0), _key(part, upto)))
            meta_data = None
            if meta is not None:
                got = db.execute(
                    "SELECT digest, data FROM metadata WHERE meta = ?", (meta,)
                ).fetchone()
                if got is None or not metadata_matches(*got):
                    raise CorruptStoreError(
                        f"the metadata of conversation {digest.hex()} is missing from the store "
                        "or was changed outside this library; restore the store from a backup"
                    )
                meta_data = got[1]
        if len(rows) != depth + 1:
            raise CorruptStoreError(
                f"conversation {digest.hex()} has {depth} turns, but {len(rows) - 1} are "
                "stored on its path; restore the store from a backup"
            )
        return rebuild(digest, rows[0], rows[1:], meta_data)

    def children(self, id: str) -> list[str]:
        """Ids of the stored conversations one turn longer than ``id``, oldest first."""
        with self._read("list children") as db:
            seg, pos = _place(db, id)
            found = db.execute(_CHILDREN, (_key(seg, pos + 1), seg, pos)).fetchall()
        return [stored_id(digest).hex() for (digest,) in found]

    def leaves(self, id: str | None = None) -> list[str]:
        """Ids of the stored conversations nothing extends, under ``id`` or in the whole store.

        In the order their branches were first stored; a conversation nothing
        extends is its own only leaf.
        """
        with self._read("list leaves") as db:
            if id is None:
                found = db.execute(_LEAVES + " ORDER BY s.seg").fetchall()
            else:
                found = db.execute(_LEAVES_UNDER, _place(db, id)).fetchall()
        return [stored_id(digest).hex() for (digest,) in found]

    def names(self) -> dict[str, str]:
        """Every name and the id it points at, by name."""
        with self._read("list names") as db:
            found = db.execute("SELECT name, id FROM names ORDER BY name").fetchall()
        return {stored_name(name): stored_id(digest).hex() for name, digest in found}

    def outlines(self, ids: Iterable[str]) -> list[Outline]:
        """The :class:`Outline` of each id (or name): length, last turn and metadata.

        Reads a few rows per conversation, whatever its length, in one read
        transaction; what a listing needs without loading every conversation.
        """
        found = []
        with self._read("outline conversations") as db:
            for id_or_name in id_list(ids):
                digest = _resolve(db, id_or_name)
                row = db.execute(_OUTLINE, (digest,)).fetchone()
                if row is None:
                    raise not_found(id_or_name)
                key, depth, data, meta = row
                if not _is_place((key, depth, meta)):
                    raise CorruptStoreError(
                        f"the row of conversation {digest.hex()} is damaged (its place in the "
                        f"tree is {row[:2]!r:.80}); restore the store from a backup"
                    )
                got = (None, None)
                if meta is not None:
                    got = db.execute(
                        "SELECT digest, data FROM metadata WHERE meta = ?", (meta,)
                    ).fetchone() or (None, None)
                depth += key & 0xFFFFFFFF
                found.append(outline(digest, depth, data, *got, meta))
        return found

    def delete(self, id_or_name: str) -> None:
        """Remove a stored conversation, and the turns only it holds.

        Names pointing at it go too. Turns that another stored conversation
        holds stay: a conversation that others extend keeps all its turns, and
        only stops being a saved head. Every other stored conversation still
        loads, equal to what was saved.
        """
        with self._write("delete a conversation") as db:
            digest = _resolve(db, id_or_name)
            row = _node(db, digest)
            if row is None:
                raise not_found(id_or_name)
            metas = {
                meta for (meta,) in db.execute("SELECT meta FROM heads WHERE id = ?", (digest,))
            }
            db.execute("DELETE FROM heads WHERE id = ?", (digest,))
            db.execute("DELETE FROM names WHERE id = ?", (digest,))
            metas |= _prune(db, row[0], row[1])
            for meta in metas - {None}:
                _drop_unused_metadata(db, meta)

    def __contains__(self, id_or_name: object) -> bool:
        """Whether :meth:`load` finds one conversation by this id, id prefix or name.

        An id prefix that several stored conversations share is not in the
        store (``load`` refuses it); neither is anything but a str.
        """
        if not isinstance(id_or_name, str):
            return False
        with self._read("look up a conversation") as db:
            try:
                digest = _resolve(db, id_or_name)
            except (StoreError, MalformedInputError):
                return False
            return _node(db, digest) is not None

    def close(self) -> None:
        """Close the database connection; later calls raise :class:`StoreError`."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __repr__(self) -> str:
        state = "" if self._db is not None else ", closed"
        return f"<SQLiteStore {self._path!r}{state}>"

    # -- connection and transactions ----------------------------------------------------

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Make the database a store of this schema, or check that it is one."""
        db.execute("PRAGMA foreign_keys = OFF")
        if self._path != ":memory:" and not self._path.startswith("file::memory:"):
            # The page size of a new file (an existing file keeps its own): rows of a few
            # hundred bytes and the id index fit larger pages better.
            db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        with self._transaction(db, "DEFERRED"):
            version = self._version(db)  # first: a database of something else stays untouched
        if version != SCHEMA_VERSION:  # so no write lock (no wait) in the common case
            with self._transaction(db, "IMMEDIATE"):  # again: another process may be first
                version = self._version(db)
                if version is None:
                    for statement in CREATE:
                        db.execute(statement)
                    db.executemany(
                        "INSERT INTO store_info (key, value) VALUES (?, ?)",
                        [("format", FORMAT), ("schema", str(SCHEMA_VERSION))],
                    )
                    version = SCHEMA_VERSION
                while version < SCHEMA_VERSION:
                    for statement in MIGRATIONS[version]:
                        db.execute(statement)
                    version += 1
                    db.execute(
                        "UPDATE store_info SET value = ? WHERE key = 'schema'", (str(version),)
                    )
        if self._path != ":memory:" and not self._path.startswith("file::memory:"):
            # After the checks, so a database of something else stays as it was, and
            # after the tables exist: SQLite deletes a WAL it finds beside an empty file.
            _use_wal(db, self._timeout)
            db.execute("PRAGMA synchronous = NORMAL")

    def _version(self, db: sqlite3.Connection) -> int | None:
        """The schema version of the store in ``db``, None for an empty database."""
        tables = {
            name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "store_info" not in tables:
            if tables:
                shown = ", ".join(sorted(tables)[:5])
                raise NotAStoreError(
                    f"{self._path!r} is a SQLite database of something else (tables: "
                    f"{shown}), not a conversation store; give SQLiteStore a new file"
                )
            if db.execute("PRAGMA page_count").fetchone()[0] == 0 and _has_bytes(self._path):
                # SQLite reads a file too short for a header as an empty database.
                raise _not_sqlite(self._path)
            return None
        columns = {
            name for (name,) in db.execute("SELECT name FROM pragma_table_info('store_info')")
        }
        info = (
            dict(db.execute("SELECT key, value FROM store_info").fetchall())
            if {"key", "value"} <= columns
            else {}
        )
        if info.get("format") != FORMAT:
            raise NotAStoreError(
                f"{self._path!r} has a store_info table but is not a conversation store "
                f"(format {info.get('format')!r}); give SQLiteStore a new file"
            )
        version = schema_version(info.get("schema"), self._path)
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self._path!r} was written with store schema {version}, newer than this "
                f"library reads (up to {SCHEMA_VERSION}); upgrade conversation-state"
            )
        return version

    @contextmanager
    def _transaction(self, db: sqlite3.Connection, kind: str) -> Iterator[sqlite3.Connection]:
        """One transaction: committed, or rolled back whatever failed (a COMMIT too), so that
        the connection is left outside any transaction, ready for the next."""
        db.execute(f"BEGIN {kind}")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One write transaction: it waits for other writers, and is all or nothing."""
        with self._lock, self._errors(action):
            db = self._open()
            with self._transaction(db, "IMMEDIATE"):
                yield db

    @contextmanager
    def _read(self, action: str) -> Iterator[sqlite3.Connection]:
        """One read transaction: its queries see one state of the store."""
        with self._lock, self._errors(action):
            db = self._open()
            with self._transaction(db, "DEFERRED"):
                yield db

    def _open(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError(f"the store {self._path!r} is closed; open a new SQLiteStore")
        return self._db

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """SQLite's errors as the library's, naming the file and what was being done."""
        try:
            yield
        except sqlite3.Error as exc:
            raise _store_error(exc, action, self._path, self._timeout) from None
        except UnicodeDecodeError:  # a text column (a name, store_info) damaged on disk
            raise CorruptStoreError(
                f"the SQLite file {self._path!r} holds text that is not UTF-8 while trying to "
                f"{action}: it is damaged; restore it from a backup"
            ) from None


# -- names, versions, errors ------------------------------------------------------------------


def _use_wal(db: sqlite3.Connection, timeout: float) -> None:
    """Put the database in WAL mode (the file keeps it: later opens find it there).

    Two connections switching a new store at once may find each other's lock
    (SQLite then fails at once, without waiting): retried for up to ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    for attempt in itertools.count(1):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(min(0.001 * attempt, 0.05))


def _has_bytes(path: str) -> bool:
    """Whether the file at ``path`` exists and is not empty (by stat: SQLite forbids
    opening and closing a database file beside it, which drops its locks)."""
    try:
        return path != ":memory:" and os.stat(path).st_size > 0
    except OSError:
        return False


def _not_sqlite(path: str) -> NotAStoreError:
    return NotAStoreError(
        f"{path!r} is not a SQLite database, so not a conversation store; give "
        "SQLiteStore a new file or an existing store"
    )


def _store_error(exc: sqlite3.Error, action: str, path: str, timeout: float) -> StoreError:
    message = str(exc)
    lowered = message.lower()
    if "not a database" in lowered or "file is encrypted" in lowered:
        return _not_sqlite(path)
    if "malformed" in lowered or "corrupt" in lowered:
        return CorruptStoreError(
            f"the SQLite file {path!r} is damaged ({message}) while trying to {action}; "
            "restore it from a backup"
        )
    if "locked" in lowered or "busy" in lowered:
        return StoreBusyError(
            f"could not {action}: {path!r} stayed locked by other writers for {timeout:g} s; "
            "retry, or open the store with a longer timeout"
        )
    if "full" in lowered or "disk i/o" in lowered:
        return StoreError(
            f"could not {action} in {path!r}: the disk is full or failing (SQLite said "
            f"{message!r}); nothing of this call was kept: free some space and retry"
        )
    return StoreError(f"could not {action} in {path!r}: SQLite said {message!r}")
