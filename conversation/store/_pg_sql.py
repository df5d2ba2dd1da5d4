"""The PostgreSQL store's schema and statements, written once for its sync and async twins.

The tables are the SQLite store's (see :mod:`._schema`), in a PostgreSQL
schema of their own (``conversation_store`` unless the store is told another),
so several stores can share one database. Every statement names its tables
through ``{s}``, filled in once per store with the quoted schema name; values
are always parameters (``%s``), never text.
"""

from __future__ import annotations

import hashlib
from typing import Final

from ..errors import MalformedInputError, quote

__all__ = ["CREATE", "MIN_SERVER", "Statements", "lock_key"]

MIN_SERVER: Final = 120000
"""The oldest PostgreSQL server the store runs on (``server_version_num``): 12."""

CREATE: Final = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    "CREATE TABLE {s}.store_info (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE {s}.segments (seg bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " parent_seg bigint, parent_pos integer, last integer NOT NULL)",
    "CREATE INDEX segments_by_parent ON {s}.segments (parent_seg, parent_pos)",
    "CREATE TABLE {s}.nodes (seg bigint NOT NULL, pos integer NOT NULL, id bytea NOT NULL UNIQUE,"
    " depth integer NOT NULL, data bytea NOT NULL, meta bigint, PRIMARY KEY (seg, pos))",
    "CREATE INDEX nodes_by_meta ON {s}.nodes (meta) WHERE meta IS NOT NULL",
    "CREATE TABLE {s}.metadata (meta bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " digest bytea NOT NULL UNIQUE, data bytea NOT NULL)",
    "CREATE TABLE {s}.heads (head bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " id bytea NOT NULL UNIQUE, meta bigint)",
    "CREATE INDEX heads_by_meta ON {s}.heads (meta)",
    "CREATE TABLE {s}.names (name text PRIMARY KEY, id bytea NOT NULL)",
    "CREATE INDEX names_by_id ON {s}.names (id)",
)
"""The statements that make an empty schema a store of :data:`._schema.SCHEMA_VERSION`."""

MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {}
"""For each version ``n`` below the current one, the statements from ``n`` to ``n + 1``."""

_STATEMENTS: Final = {
    # -- opening --------------------------------------------------------------------------
    "tables": "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY c.relname",
    "info_columns": "SELECT a.attname FROM pg_attribute AS a"
    " WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
    "info": "SELECT key::text, value::text FROM {s}.store_info",
    "info_insert": "INSERT INTO {s}.store_info (key, value) VALUES (%s, %s)",
    "info_schema": "UPDATE {s}.store_info SET value = %s WHERE key = 'schema'",
    # -- locks: transaction-scoped advisory locks (see lock_key) ------------------------------
    "lock": "SELECT pg_advisory_xact_lock(%s)",
    "lock_shared": "SELECT pg_advisory_xact_lock_shared(%s)",
    # -- reading --------------------------------------------------------------------------
    "node": "SELECT seg, pos, depth, meta FROM {s}.nodes WHERE id = %s",
    "exists": "SELECT 1 FROM {s}.nodes WHERE id = %s",
    "deepest": "SELECT max(depth) FROM {s}.nodes WHERE id = ANY(%s::bytea[])",
    "name": "SELECT id FROM {s}.names WHERE name = %s",
    "prefix": "SELECT id FROM {s}.nodes WHERE id BETWEEN %s AND %s LIMIT 2",
    # The node, the metadata its load carries (its own save's, else the first save
    # that stored it) and that metadata's row.
    "load_node": "SELECT n.seg, n.pos, n.depth, x.meta, m.digest, m.data FROM {s}.nodes AS n"
    " LEFT JOIN {s}.heads AS h ON h.id = n.id"
    " CROSS JOIN LATERAL (SELECT CASE WHEN h.id IS NULL THEN n.meta ELSE h.meta END AS meta) AS x"
    " LEFT JOIN {s}.metadata AS m ON m.meta = x.meta WHERE n.id = %s",
    # What outlines read of many nodes at once: each one's row, depth and the metadata
    # row its load carries (as load_node).
    "outline_nodes": "SELECT n.id, n.depth, n.data, x.meta, m.digest, m.data FROM {s}.nodes AS n"
    " LEFT JOIN {s}.heads AS h ON h.id = n.id"
    " CROSS JOIN LATERAL (SELECT CASE WHEN h.id IS NULL THEN n.meta ELSE h.meta END AS meta) AS x"
    " LEFT JOIN {s}.metadata AS m ON m.meta = x.meta WHERE n.id = ANY(%s::bytea[])",
    # Every row from the root to the node at (seg, pos), in one query: the segments of
    # its path (a parent is older: a smaller seg, so a damaged table ends, never loops),
    # each read as one range of the primary key (a lateral subquery, kept apart by its
    # OFFSET 0, so never a scan of the whole table), root first as a rule; the caller
    # sorts by (-level, pos), a single pass when they come in order.
    "path_rows": "WITH RECURSIVE path(seg, upto, level) AS ("
    " SELECT %s::bigint, %s::integer, 0"
    " UNION ALL SELECT s.parent_seg, s.parent_pos, path.level + 1"
    " FROM {s}.segments AS s JOIN path ON s.seg = path.seg WHERE s.parent_seg < s.seg)"
    " SELECT -p.level, n.pos, n.id, n.data FROM (SELECT * FROM path ORDER BY level DESC) AS p"
    " CROSS JOIN LATERAL"
    " (SELECT pos, id, data FROM {s}.nodes WHERE seg = p.seg AND pos <= p.upto"
    " OFFSET 0) AS n",
    "children": "SELECT id FROM ("
    " SELECT 0 AS k, 0::bigint AS o, id FROM {s}.nodes WHERE seg = %s AND pos = %s"
    " UNION ALL SELECT 1, s.seg, n.id FROM {s}.segments AS s"
    " JOIN {s}.nodes AS n ON n.seg = s.seg AND n.pos = 0"
    " WHERE s.parent_seg = %s AND s.parent_pos = %s) AS c ORDER BY k, o",
    "leaves": "SELECT n.id FROM {s}.segments AS s"
    " JOIN {s}.nodes AS n ON n.seg = s.seg AND n.pos = s.last WHERE NOT EXISTS"
    " (SELECT 1 FROM {s}.segments AS c WHERE c.parent_seg = s.seg AND c.parent_pos = s.last)"
    " ORDER BY s.seg",
    "leaves_under": "WITH RECURSIVE under(seg, start) AS ("
    " SELECT %s::bigint, %s::integer"
    " UNION ALL SELECT s.seg, 0 FROM {s}.segments AS s JOIN under"
    " ON s.parent_seg = under.seg AND s.parent_pos >= under.start AND s.seg > under.seg)"
    " SELECT n.id FROM under JOIN {s}.segments AS s ON s.seg = under.seg"
    " JOIN {s}.nodes AS n ON n.seg = s.seg AND n.pos = s.last WHERE NOT EXISTS"
    " (SELECT 1 FROM {s}.segments AS c WHERE c.parent_seg = s.seg AND c.parent_pos = s.last)"
    " ORDER BY s.seg",
    "names": 'SELECT name, id FROM {s}.names ORDER BY name COLLATE "C"',
    "has_children": "SELECT EXISTS (SELECT 1 FROM {s}.nodes WHERE seg = %s AND pos = %s)"
    " OR EXISTS (SELECT 1 FROM {s}.segments WHERE parent_seg = %s AND parent_pos = %s)",
    "is_head": "SELECT EXISTS (SELECT 1 FROM {s}.heads AS h JOIN {s}.nodes AS n ON n.id = h.id"
    " WHERE n.seg = %s AND n.pos = %s)",
    # -- saving ---------------------------------------------------------------------------
    "meta_insert": "INSERT INTO {s}.metadata (digest, data) VALUES (%s, %s)"
    " ON CONFLICT (digest) DO NOTHING RETURNING meta",
    "meta_share": "SELECT meta FROM {s}.metadata WHERE digest = %s FOR SHARE",
    "new_segment": "INSERT INTO {s}.segments (parent_seg, parent_pos, last)"
    " VALUES (%s, %s, -1) RETURNING seg",
    "insert_root": "INSERT INTO {s}.nodes (id, seg, pos, depth, data, meta)"
    " VALUES (%s, %s, 0, 0, %s, %s) ON CONFLICT DO NOTHING",
    # All the new turns in one statement, whatever their number: the arrays of their
    # ids and rows, each at the next position and depth.
    "insert_turns": "INSERT INTO {s}.nodes (id, seg, pos, depth, data, meta)"
    " SELECT t.id, %s, %s + t.o, %s + t.o, t.data, %s"
    " FROM unnest(%s::bytea[], %s::bytea[]) WITH ORDINALITY AS t(id, data, o)"
    " ON CONFLICT DO NOTHING",
    "segment_last": "UPDATE {s}.segments SET last = %s WHERE seg = %s",
    "head_lock": "SELECT meta FROM {s}.heads WHERE id = %s FOR UPDATE",
    "head_update": "UPDATE {s}.heads SET meta = %s WHERE id = %s",
    "head_insert": "INSERT INTO {s}.heads (id, meta) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING",
    "name_set": "INSERT INTO {s}.names (name, id) VALUES (%s, %s)"
    " ON CONFLICT (name) DO UPDATE SET id = EXCLUDED.id",
    "meta_lock": "SELECT 1 FROM {s}.metadata WHERE meta = %s FOR UPDATE",
    "meta_drop": "DELETE FROM {s}.metadata WHERE meta = %s"
    " AND NOT EXISTS (SELECT 1 FROM {s}.nodes WHERE meta = %s)"
    " AND NOT EXISTS (SELECT 1 FROM {s}.heads WHERE meta = %s)",
    # -- deleting -------------------------------------------------------------------------
    "head_metas": "SELECT meta FROM {s}.heads WHERE id = %s",
    "head_delete": "DELETE FROM {s}.heads WHERE id = %s",
    "names_delete": "DELETE FROM {s}.names WHERE id = %s",
    "pinned": "SELECT MAX(parent_pos) FROM {s}.segments WHERE parent_seg = %s AND parent_pos < %s",
    "head_pinned": "SELECT MAX(n.pos) FROM {s}.heads AS h JOIN {s}.nodes AS n ON n.id = h.id"
    " WHERE n.seg = %s AND n.pos < %s",
    "range_metas": "SELECT DISTINCT meta FROM {s}.nodes WHERE seg = %s AND pos > %s AND pos <= %s",
    "range_delete": "DELETE FROM {s}.nodes WHERE seg = %s AND pos > %s AND pos <= %s",
    "segment_parent": "SELECT parent_seg, parent_pos FROM {s}.segments WHERE seg = %s",
    "segment_delete": "DELETE FROM {s}.segments WHERE seg = %s",
}


class Statements:
    """The statements of one store's schema, and the keys of its advisory locks.

    ``store_key`` is the lock every save takes shared and every delete
    exclusive (a delete never runs beside a save); ``create_key`` guards the
    first use of a schema, so that concurrent first users make it once.
    """

    def __init__(self, schema: str) -> None:
        if not isinstance(schema, str) or not schema or "\x00" in schema:
            raise MalformedInputError(
                f"schema must be a PostgreSQL schema name (a non-empty str), got {quote(schema)}",
                "schema",
            )
        if len(schema.encode("utf-8", "surrogatepass")) > 63 or not schema.isprintable():
            raise MalformedInputError(
                f"the schema name {quote(schema)} is not one PostgreSQL keeps as given (at most 63 "
                "bytes of printable text); choose a shorter one",
                "schema",
            )
        self.schema = schema
        quoted = '"' + schema.replace('"', '""') + '"'
        self.quoted = quoted
        self._sql = {key: text.format(s=quoted) for key, text in _STATEMENTS.items()}
        self.create = tuple(text.format(s=quoted) for text in CREATE)
        self.migrations = {
            version: tuple(text.format(s=quoted) for text in statements)
            for version, statements in MIGRATIONS.items()
        }
        self.store_key = lock_key(schema, b"store")
        self.create_key = lock_key(schema, b"create")

    def __getitem__(self, key: str) -> str:
        return self._sql[key]

    def node_key(self, digest: bytes) -> int:
        """The advisory lock a save holds while it adds children to the node ``digest``."""
        return lock_key(self.schema, b"node:" + digest)


def lock_key(schema: str, what: bytes) -> int:
    """A 64-bit advisory lock key for ``what`` in ``schema`` (stores in other schemas differ)."""
    digest = hashlib.sha256(schema.encode("utf-8") + b"\x00" + what).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
