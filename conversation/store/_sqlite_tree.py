"""The SQLite store's tree of rows: nodes by place and by id, paths, inserts and pruning.

Queries and writes on the tables of :mod:`._schema`, each on a connection inside
a transaction that :class:`~._sqlite.SQLiteStore` holds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from itertools import count, repeat
from typing import Any

from .._conversation import Conversation
from ..errors import CorruptStoreError, MalformedInputError, type_name
from ._checks import is_unicode, stored_id
from ._rows import digest_of, not_found

SaveRows = tuple[bytes, bytes, list[bytes], list[bytes]]
"""What ``rows_to_save`` gives: the root's digest and data, the new turns' digests and data."""

_PATH = """
WITH RECURSIVE path(seg, upto, level) AS (
    SELECT ?, ?, 0
    UNION ALL
    SELECT s.parent_seg, s.parent_pos, path.level + 1
    FROM segments AS s JOIN path ON s.seg = path.seg
    WHERE s.parent_seg < s.seg
)
SELECT seg, upto FROM path ORDER BY level DESC
"""
"""The segments from the root to the node at (seg, pos), each with the position read up to.

A segment's parent is older (a smaller ``seg``): the walk follows only such links,
so a damaged file ends in a wrong count of rows (CorruptStoreError), never a loop."""

_SEGMENT_ROWS = (
    "SELECT substr(data, 1, 32), substr(data, 33) FROM nodes WHERE key BETWEEN ? AND ? ORDER BY key"
)
"""One range read of a segment's rows as (id, JSON), in the key's order (so no sort)."""

_ID = "substr(data, 1, 32)"
"""A node's id, as the index ``nodes_by_id`` spells it (a query must say it the same way)."""

_NODE = """
SELECT n.key, s.depth, n.meta FROM nodes AS n LEFT JOIN segments AS s ON s.seg = n.key >> 32
WHERE substr(n.data, 1, 32) = ?
"""

_OUTLINE = """
SELECT n.key, s.depth, substr(n.data, 33), CASE WHEN h.id IS NULL THEN n.meta ELSE h.meta END
FROM nodes AS n LEFT JOIN segments AS s ON s.seg = n.key >> 32
LEFT JOIN heads AS h ON h.id = substr(n.data, 1, 32)
WHERE substr(n.data, 1, 32) = ?
"""
"""What an outline reads of a node: its place, its JSON, and the metadata row its load
carries (its own save's, else the first save that stored it)."""

_LEAVES = """
SELECT substr(n.data, 1, 32) FROM segments AS s JOIN nodes AS n ON n.key = (s.seg << 32) + s.last
WHERE NOT EXISTS (SELECT 1 FROM segments AS c WHERE c.parent_seg = s.seg AND c.parent_pos = s.last)
"""

_LEAVES_UNDER = """
WITH RECURSIVE under(seg, start) AS (
    SELECT ?, ?
    UNION ALL
    SELECT s.seg, 0 FROM segments AS s JOIN under
    ON s.parent_seg = under.seg AND s.parent_pos >= under.start AND s.seg > under.seg
)
SELECT substr(n.data, 1, 32) FROM under JOIN segments AS s ON s.seg = under.seg
JOIN nodes AS n ON n.key = (s.seg << 32) + s.last
WHERE NOT EXISTS (SELECT 1 FROM segments AS c WHERE c.parent_seg = s.seg AND c.parent_pos = s.last)
ORDER BY s.seg
"""

_CHILDREN = """
SELECT substr(data, 1, 32) FROM nodes WHERE key = ?
UNION ALL
SELECT substr(n.data, 1, 32) FROM segments AS s JOIN nodes AS n ON n.key = s.seg << 32
WHERE s.parent_seg = ? AND s.parent_pos = ?
"""


def _node(db: sqlite3.Connection, digest: bytes) -> tuple[int, int, int, int | None] | None:
    """The (segment, position, depth, metadata row) of a stored id, None when not stored."""
    found = db.execute(_NODE, (digest,)).fetchone()
    if found is None:
        return None
    if not _is_place(found):
        raise CorruptStoreError(
            f"the row of conversation {digest.hex()} is damaged (its place in the tree is "
            f"{found!r:.80}); restore the store from a backup"
        )
    key, depth, meta = found
    seg, pos = divmod(key, 1 << 32)
    return seg, pos, depth + pos, meta


def _is_stored(db: sqlite3.Connection, digest: bytes) -> bool:
    """Whether the store holds a node of this id (one lookup in the id index)."""
    return db.execute(f"SELECT 1 FROM nodes WHERE {_ID} = ?", (digest,)).fetchone() is not None


def _is_place(row: tuple[object, ...]) -> bool:
    """Whether a node row's (key, segment depth, meta) are whole numbers (meta may be NULL)."""
    key, depth, meta = row
    return (
        type(key) is int and key >= 0 and type(depth) is int and (meta is None or type(meta) is int)
    )


def _key(seg: int, pos: int) -> int:
    """The key of the node at position ``pos`` of segment ``seg``."""
    if not (0 <= seg < 1 << 31 and -1 <= pos <= 1 << 32):
        raise CorruptStoreError(
            f"the store names a place out of range (segment {seg}, position {pos}): it was "
            "changed outside this library; restore it from a backup"
        )
    return (seg << 32) + pos


def _place(db: sqlite3.Connection, id: str) -> tuple[int, int]:
    """The (segment, position) of a stored id or name."""
    row = _node(db, _resolve(db, id))
    if row is None:
        raise not_found(id)
    return row[0], row[1]


def _resolve(db: sqlite3.Connection, id_or_name: str) -> bytes:
    """The digest a name points at, or that an id (or a unique 6+ digit prefix of one) spells."""
    if not isinstance(id_or_name, str):
        raise MalformedInputError(
            f"a stored conversation is named by its id or a name (a str), got "
            f"{type_name(id_or_name)}",
            "id_or_name",
        )
    if not is_unicode(id_or_name):
        raise not_found(id_or_name)  # no name or id holds lone surrogates
    found = db.execute("SELECT id FROM names WHERE name = ?", (id_or_name,)).fetchone()
    if found is not None:
        return stored_id(found[0])
    digest = digest_of(id_or_name)
    if digest is not None:
        return digest
    text = id_or_name.lower()
    if 6 <= len(text) < 64 and all(c in "0123456789abcdef" for c in text):
        low, high = bytes.fromhex(text.ljust(64, "0")), bytes.fromhex(text.ljust(64, "f"))
        matches = db.execute(
            f"SELECT {_ID} FROM nodes WHERE {_ID} BETWEEN ? AND ? LIMIT 2", (low, high)
        ).fetchall()
        if len(matches) == 1:
            return stored_id(matches[0][0])
        if matches:
            raise MalformedInputError(
                f"the id prefix {id_or_name!r} matches several stored conversations; give "
                "more of the id",
                "id_or_name",
            )
    raise not_found(id_or_name)


def _metadata_id(db: sqlite3.Connection, digest: bytes, data: bytes) -> int | None:
    """The row of this metadata (added when new); None for empty metadata."""
    if data == b"{}":
        return None
    db.execute("INSERT OR IGNORE INTO metadata (digest, data) VALUES (?, ?)", (digest, data))
    found = db.execute("SELECT meta FROM metadata WHERE digest = ?", (digest,)).fetchone()
    return found[0]  # type: ignore[no-any-return]


def _after(rows: SaveRows, skip: int) -> SaveRows:
    """``rows`` (of :func:`rows_to_save`) without their first ``skip`` turns."""
    root, root_data, digests, datas = rows
    return root, root_data, digests[skip:], datas[skip:]


def _insert(
    db: sqlite3.Connection,
    conversation: Conversation,
    stored: int,
    rows: SaveRows,
    meta: int | None,
) -> None:
    """Write the turns of ``conversation`` after its first ``stored`` (-1: the root too).

    ``rows`` are what :func:`rows_to_save` gives for ``stored``.
    """
    root, root_data, digests, datas = rows
    if stored < 0:
        seg, pos = _new_segment(db, None, None, 0), -1
        digests, datas = [root, *digests], [root_data, *datas]
    else:
        parent = _node(db, bytes.fromhex(conversation[:stored].id))
        if parent is None:
            raise CorruptStoreError("a stored prefix vanished during a save")  # not reachable
        seg, pos = parent[0], parent[1]
        # Only a first child continues its parent's segment (children list it first).
        if _has_children(db, seg, pos):
            seg, pos = _new_segment(db, seg, pos, stored + 1), -1
    # Rows bind no None (sqlite3 adapts it at a cost) and one blob each: id and JSON.
    keys = count(_key(seg, pos + 1))
    values: Iterable[tuple[Any, ...]]
    if meta is None:
        values = zip(keys, map(bytes.__add__, digests, datas), strict=False)
        db.executemany("INSERT INTO nodes (key, data) VALUES (?, ?)", values)
    else:
        values = zip(keys, map(bytes.__add__, digests, datas), repeat(meta))
        db.executemany("INSERT INTO nodes (key, data, meta) VALUES (?, ?, ?)", values)
    db.execute("UPDATE segments SET last = ? WHERE seg = ?", (pos + len(datas), seg))


def _new_segment(
    db: sqlite3.Connection, parent_seg: int | None, parent_pos: int | None, depth: int
) -> int:
    cursor = db.execute(
        "INSERT INTO segments (parent_seg, parent_pos, depth, last) VALUES (?, ?, ?, -1)",
        (parent_seg, parent_pos, depth),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _prune(db: sqlite3.Connection, seg: int, pos: int) -> set[int | None]:
    """Delete the node at (seg, pos) and the ancestors no other stored conversation holds.

    Stops at a node that another branch continues or that was saved itself.
    Returns the metadata rows the deleted nodes referred to.
    """
    metas: set[int | None] = set()
    while True:
        if _has_children(db, seg, pos) or _is_head(db, seg, pos):
            return metas
        # In this segment, keep up to the nearest node below that is pinned.
        pinned = db.execute(
            "SELECT MAX(parent_pos) FROM segments WHERE parent_seg = ? AND parent_pos < ?",
            (seg, pos),
        ).fetchone()[0]
        head_pinned = db.execute(
            "SELECT MAX(n.key) FROM heads AS h JOIN nodes AS n ON substr(n.data, 1, 32) = h.id "
            "WHERE n.key >= ? AND n.key < ?",
            (_key(seg, 0), _key(seg, pos)),
        ).fetchone()[0]
        if head_pinned is not None:
            head_pinned -= _key(seg, 0)
        keep = max(-1 if pinned is None else pinned, -1 if head_pinned is None else head_pinned)
        metas |= {
            meta
            for (meta,) in db.execute(
                "SELECT DISTINCT meta FROM nodes WHERE key > ? AND key <= ?",
                (_key(seg, keep), _key(seg, pos)),
            )
        }
        db.execute(
            "DELETE FROM nodes WHERE key > ? AND key <= ?", (_key(seg, keep), _key(seg, pos))
        )
        if keep >= 0:
            db.execute("UPDATE segments SET last = ? WHERE seg = ?", (keep, seg))
            return metas
        parent = db.execute(
            "SELECT parent_seg, parent_pos FROM segments WHERE seg = ?", (seg,)
        ).fetchone()
        db.execute("DELETE FROM segments WHERE seg = ?", (seg,))
        if parent is None or parent[0] is None:
            return metas
        if type(parent[0]) is not int or type(parent[1]) is not int:
            raise CorruptStoreError(
                f"segment {seg} of the store is damaged (its parent is {parent!r:.80}); "
                "restore the store from a backup"
            )
        seg, pos = parent


def _has_children(db: sqlite3.Connection, seg: int, pos: int) -> bool:
    found = db.execute(
        "SELECT EXISTS (SELECT 1 FROM nodes WHERE key = ?)"
        " OR EXISTS (SELECT 1 FROM segments WHERE parent_seg = ? AND parent_pos = ?)",
        (_key(seg, pos + 1), seg, pos),
    ).fetchone()
    return bool(found[0])


def _is_head(db: sqlite3.Connection, seg: int, pos: int) -> bool:
    found = db.execute(
        "SELECT EXISTS (SELECT 1 FROM heads"
        " WHERE id = (SELECT substr(data, 1, 32) FROM nodes WHERE key = ?))",
        (_key(seg, pos),),
    ).fetchone()
    return bool(found[0])


def _drop_unused_metadata(db: sqlite3.Connection, meta: int) -> None:
    db.execute(
        "DELETE FROM metadata WHERE meta = ?"
        " AND NOT EXISTS (SELECT 1 FROM nodes WHERE meta = ?)"
        " AND NOT EXISTS (SELECT 1 FROM heads WHERE meta = ?)",
        (meta, meta, meta),
    )
