"""The SQLite store's schema, its version, and the place its migrations live.

Tables (see :mod:`._rows` for what the rows hold):

- ``store_info``: ``format`` (marks a conversation store) and ``schema`` (its version);
- ``segments``: runs of turns a load reads by range. A segment continues the
  node at ``parent_pos`` of segment ``parent_seg`` (both NULL for a tree's
  root segment); ``depth`` is the number of turns of the conversation its
  first node ends (0 for a root), ``last`` the position of its last node;
- ``nodes``: one row per root and per turn, keyed by its place: position
  ``pos`` of segment ``seg`` is the key ``seg << 32 | pos``, so a segment is
  one range of the table and rows go in at its end. ``data`` is the digest of
  the conversation the node ends (32 bytes, indexed: lookups by id) followed
  by the node's JSON; ``meta`` is the metadata of the save that stored it
  first. One blob instead of two columns: a row is cheaper to write;
- ``metadata``: each distinct metadata object once, by digest;
- ``heads``: the conversations saved explicitly, with their metadata, in save order;
- ``names``: names pointing at ids.
"""

from __future__ import annotations

from typing import Final

__all__ = ["CREATE", "FORMAT", "MIGRATIONS", "SCHEMA_VERSION"]

FORMAT: Final = "conversation-state store"
"""The value of ``store_info.format`` that marks a database as a conversation store."""

SCHEMA_VERSION: Final = 1
"""The schema this release writes; a store of a higher version is refused, a lower one migrated."""

CREATE: Final = (
    "CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE segments (seg INTEGER PRIMARY KEY, parent_seg INTEGER, parent_pos INTEGER,"
    " depth INTEGER NOT NULL, last INTEGER NOT NULL)",
    "CREATE INDEX segments_by_parent ON segments (parent_seg, parent_pos)",
    "CREATE TABLE nodes (key INTEGER PRIMARY KEY, data BLOB NOT NULL, meta INTEGER)",
    "CREATE UNIQUE INDEX nodes_by_id ON nodes (substr(data, 1, 32))",
    "CREATE INDEX nodes_by_meta ON nodes (meta) WHERE meta IS NOT NULL",
    "CREATE TABLE metadata (meta INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE,"
    " data BLOB NOT NULL)",
    "CREATE TABLE heads (head INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, meta INTEGER)",
    "CREATE INDEX heads_by_meta ON heads (meta) WHERE meta IS NOT NULL",
    "CREATE TABLE names (name TEXT PRIMARY KEY, id BLOB NOT NULL)",
    "CREATE INDEX names_by_id ON names (id)",
)
"""The statements that make an empty database a store of :data:`SCHEMA_VERSION`."""

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {}
"""For each version ``n`` below :data:`SCHEMA_VERSION`, the statements that take a store
from ``n`` to ``n + 1``; the store runs them in order, in one transaction, when it opens."""
