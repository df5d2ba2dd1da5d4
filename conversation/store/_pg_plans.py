"""What the PostgreSQL store does, as plans: every decision written once, the I/O twice.

Each operation is a generator (see :mod:`conversation._steps`) that yields a
:class:`Query` and is sent its result: the rows, or for a statement that
returns none the number of rows it changed. :class:`~._postgres.PostgresStore`
runs a plan on a blocking connection and :class:`~._postgres.AsyncPostgresStore`
on an async one, each inside one transaction.

Writers on many machines at once: every save holds the store's advisory lock
shared (a delete holds it alone), and adds children to a node only while it
holds that node's advisory lock, after checking again that no other writer
added the same turns while it waited. Two writers saving the same new turns
thus write them once; locks are taken in order of depth, so never in a cycle.
Every insert keyed by content is ``ON CONFLICT DO NOTHING`` and checked: a row
a racing writer got to first sends the save round again (:class:`Again`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final

import attrs

from .._conversation import Conversation
from ..errors import (
    CorruptStoreError,
    MalformedInputError,
    NotAStoreError,
    StoreNotFoundError,
    StoreVersionError,
    type_name,
)
from ._checks import check_name, is_unicode, schema_version, stored_id, stored_name
from ._outline import outline
from ._pg_sql import MIN_SERVER, Statements
from ._rows import (
    digest_of,
    metadata_matches,
    not_found,
    prefix_search,
    rebuild,
    rows_to_save,
)
from ._schema import FORMAT, SCHEMA_VERSION

__all__ = [
    "Again",
    "Plan",
    "Query",
    "check_server",
    "children",
    "contains",
    "create",
    "delete",
    "leaves",
    "load",
    "names",
    "outlines",
    "save",
    "version",
]

_RECENT: Final = 16
"""How many of a conversation's last prefixes a save looks up at once (see ``_stored``)."""

_META_TRIES: Final = 20
"""Rounds of insert-or-share for a metadata row that racing saves keep dropping."""


@attrs.frozen
class Query:
    """One statement to run, with its parameters."""

    sql: str
    params: tuple[Any, ...] = ()


Plan = Generator[Query, Any, Any]
"""A plan: yields queries, is sent their rows (a list of tuples) or row counts."""


class Again(Exception):
    """A racing writer changed what this transaction read: roll back and run it again."""


# -- opening ----------------------------------------------------------------------------------


def check_server(version: int, where: str) -> None:
    """Refuse a server older than the store runs on (``version``: ``server_version_num``)."""
    if version < MIN_SERVER:
        shown = f"{version // 10000}.{version % 10000}"
        raise StoreVersionError(
            f"{where} runs PostgreSQL {shown}; the store needs PostgreSQL "
            f"{MIN_SERVER // 10000} or newer: upgrade the server, or use another database"
        )


def version(q: Statements, where: str) -> Plan:
    """The schema version of the store in ``q.schema``, None when the schema is empty or new."""
    tables = [name for (name,) in (yield Query(q["tables"], (q.schema,)))]
    if "store_info" not in tables:
        if tables:
            raise NotAStoreError(
                f"{where} holds tables of something else ({', '.join(tables[:5])}), not a "
                "conversation store; give the store another schema"
            )
        return None
    columns = {name for (name,) in (yield Query(q["info_columns"], (f"{q.quoted}.store_info",)))}
    info = dict((yield Query(q["info"]))) if {"key", "value"} <= columns else {}
    if info.get("format") != FORMAT:
        raise NotAStoreError(
            f"{where} has a store_info table but is not a conversation store (format "
            f"{info.get('format')!r}); give the store another schema"
        )
    found = schema_version(info.get("schema"), where)
    if found > SCHEMA_VERSION:
        raise StoreVersionError(
            f"{where} was written with store schema {found}, newer than this library reads "
            f"(up to {SCHEMA_VERSION}); upgrade conversation-state"
        )
    return found


def create(q: Statements, where: str) -> Plan:
    """Make the schema a store, or migrate it, under the lock that keeps first users apart."""
    yield Query(q["lock"], (q.create_key,))
    found = yield from version(q, where)  # again: another process may have been first
    if found is None:
        for statement in q.create:
            yield Query(statement)
        yield Query(q["info_insert"], ("format", FORMAT))
        yield Query(q["info_insert"], ("schema", str(SCHEMA_VERSION)))
        found = SCHEMA_VERSION
    while found < SCHEMA_VERSION:
        for statement in q.migrations[found]:
            yield Query(statement)
        found += 1
        yield Query(q["info_schema"], (str(found),))
    return found


# -- reading ----------------------------------------------------------------------------------


def load(q: Statements, id_or_name: str) -> Plan:
    """The stored conversation with this id or name (see ``SQLiteStore.load``)."""
    digest = yield from _resolve(q, id_or_name)
    found = yield Query(q["load_node"], (digest,))
    if not found:
        raise not_found(id_or_name)
    seg, pos, depth, meta, meta_digest, meta_data = found[0]
    _check_place((seg, pos, depth, meta), digest)
    if meta is not None and not metadata_matches(meta_digest, meta_data):
        raise CorruptStoreError(
            f"the metadata of conversation {digest.hex()} is missing from the store or was "
            "changed outside this library; restore the store from a backup"
        )
    rows = yield Query(q["path_rows"], (seg, pos))
    if len(rows) != depth + 1:
        raise CorruptStoreError(
            f"conversation {digest.hex()} has {depth} turns, but {len(rows) - 1} are stored on "
            "its path; restore the store from a backup"
        )
    rows.sort()  # by (-level, pos): unique, so the ids and rows are never compared
    pairs = [(row[2], row[3]) for row in rows]  # bytes (rebuild refuses anything else)
    return rebuild(digest, pairs[0], pairs[1:], None if meta is None else meta_data)


def outlines(q: Statements, wanted: list[str]) -> Plan:
    """The outline of each id or name (see ``SQLiteStore.outlines``), read in one query."""
    digests = []
    for id_or_name in wanted:
        digests.append((yield from _resolve(q, id_or_name)))
    rows = yield Query(q["outline_nodes"], (list(set(digests)),))
    found = {bytes(row[0]): row for row in rows}
    result = []
    for id_or_name, digest in zip(wanted, digests, strict=True):
        row = found.get(digest)
        if row is None:
            raise not_found(id_or_name)
        _, depth, data, meta, meta_digest, meta_data = row
        if type(depth) is not int or not (meta is None or type(meta) is int):
            raise CorruptStoreError(
                f"the row of conversation {digest.hex()} is damaged (its depth is "
                f"{depth!r:.40}); restore the store from a backup"
            )
        result.append(outline(digest, depth, data, meta_digest, meta_data, meta))
    return result


def children(q: Statements, id: str) -> Plan:
    seg, pos = yield from _place(q, id)
    found = yield Query(q["children"], (seg, pos + 1, seg, pos))
    return [stored_id(bytes(digest)).hex() for (digest,) in found]


def leaves(q: Statements, id: str | None) -> Plan:
    if id is None:
        found = yield Query(q["leaves"])
    else:
        found = yield Query(q["leaves_under"], (yield from _place(q, id)))
    return [stored_id(bytes(digest)).hex() for (digest,) in found]


def names(q: Statements) -> Plan:
    found = yield Query(q["names"])
    return {stored_name(name): stored_id(bytes(digest)).hex() for name, digest in found}


def contains(q: Statements, id_or_name: object) -> Plan:
    """Whether ``load`` finds one conversation: an unknown or ambiguous id is not in the store."""
    if not isinstance(id_or_name, str):
        return False
    try:
        digest = yield from _resolve(q, id_or_name)
    except (StoreNotFoundError, MalformedInputError):
        return False
    return bool((yield Query(q["exists"], (digest,))))


# -- writing ----------------------------------------------------------------------------------


def check_save(conversation: object, name: object) -> None:
    """Refuse a save's arguments before any I/O."""
    if not isinstance(conversation, Conversation):
        raise MalformedInputError(
            f"save takes a Conversation, got {type_name(conversation)}", "conversation"
        )
    if name is not None:
        check_name(name)
        assert isinstance(name, str)
        if "\x00" in name:
            raise MalformedInputError(
                f"the name {name!r} holds a NUL character, which PostgreSQL text cannot; "
                "choose another",
                "name",
            )


def save(
    q: Statements, conversation: Conversation, name: str | None, meta: tuple[bytes, bytes]
) -> Plan:
    """Store ``conversation`` (only the turns not held yet), set its metadata and ``name``."""
    yield Query(q["lock_shared"], (q.store_key,))
    meta_id = yield from _metadata_id(q, *meta)
    stored = yield from _stored(q, conversation)
    while stored < len(conversation):
        # Hold the node the new turns hang from, then look again: a writer that held it
        # first may have stored them (or more) meanwhile.
        parent = bytes.fromhex(conversation[: max(stored, 0)].id)
        yield Query(q["lock"], (q.node_key(parent),))
        following = bytes.fromhex(conversation[: stored + 1].id)
        if not (yield Query(q["exists"], (following,))):
            yield from _insert(q, conversation, stored, meta_id)
            break
        stored = yield from _stored(q, conversation)
    head = bytes.fromhex(conversation.id)
    while True:
        old = yield Query(q["head_lock"], (head,))
        if old:
            yield Query(q["head_update"], (meta_id, head))
            break
        if (yield Query(q["head_insert"], (head, meta_id))):
            break  # else a racing save inserted it first: lock that row
    if old and old[0][0] is not None and old[0][0] != meta_id:
        yield from _drop_unused_metadata(q, old[0][0])
    if name is not None:
        yield Query(q["name_set"], (name, head))
    return head.hex()


def delete(q: Statements, id_or_name: str) -> Plan:
    """Remove a stored conversation and what only it holds (see ``SQLiteStore.delete``)."""
    yield Query(q["lock"], (q.store_key,))  # alone: no save runs beside it
    digest = yield from _resolve(q, id_or_name)
    row = yield from _node(q, digest)
    if row is None:
        raise not_found(id_or_name)
    metas = {meta for (meta,) in (yield Query(q["head_metas"], (digest,)))}
    yield Query(q["head_delete"], (digest,))
    yield Query(q["names_delete"], (digest,))
    metas |= yield from _prune(q, row[0], row[1])
    for meta in metas - {None}:
        yield Query(q["meta_drop"], (meta, meta, meta))


# -- helpers ----------------------------------------------------------------------------------


def _stored(q: Statements, conversation: Conversation) -> Plan:
    """How many turns of ``conversation`` the store holds (-1: not even its root).

    One query for the common cases (a save repeated, or a few turns longer than
    the last): the deepest stored of its last :data:`_RECENT` prefixes. Then,
    when none is, a search by :func:`prefix_search`, a query per step.
    """
    size = len(conversation)
    first = max(0, size - _RECENT)
    recent = [bytes.fromhex(conversation[:k].id) for k in range(first, size + 1)]
    deepest = (yield Query(q["deepest"], (recent,)))[0][0]
    if deepest is not None:
        return deepest  # a stored prefix's depth is its number of turns
    if first == 0:
        return -1  # not even the root
    search = prefix_search(conversation)
    try:
        digest = next(search)
        while True:
            digest = search.send(bool((yield Query(q["exists"], (digest,)))))
    except StopIteration as finished:
        return finished.value


def _insert(q: Statements, conversation: Conversation, stored: int, meta: int | None) -> Plan:
    """Write the turns of ``conversation`` after its first ``stored`` (-1: the root too)."""
    root, root_data, digests, datas = rows_to_save(conversation, stored)
    if stored < 0:
        seg = (yield Query(q["new_segment"], (None, None)))[0][0]
        if (yield Query(q["insert_root"], (root, seg, root_data, meta))) != 1:
            raise Again
        pos = 0
    else:
        parent = yield from _node(q, bytes.fromhex(conversation[:stored].id))
        if parent is None:
            raise Again  # not reachable: no delete runs beside a save
        seg, pos = parent[0], parent[1]
        # Only a first child continues its parent's segment (children list it first).
        if (yield Query(q["has_children"], (seg, pos + 1, seg, pos)))[0][0]:
            seg, pos = (yield Query(q["new_segment"], (seg, pos)))[0][0], -1
    if digests:
        depth = max(stored, 0)
        query = Query(q["insert_turns"], (seg, pos, depth, meta, digests, datas))
        if (yield query) != len(digests):
            raise Again
    yield Query(q["segment_last"], (pos + len(datas), seg))


def _metadata_id(q: Statements, digest: bytes, data: bytes) -> Plan:
    """The row of this metadata (added when new), held shared until commit; None when empty.

    Held so that a save dropping it as unused waits, then sees this save's use.
    """
    if data == b"{}":
        return None
    for _ in range(_META_TRIES):
        found = yield Query(q["meta_insert"], (digest, data))
        if found:
            return found[0][0]
        found = yield Query(q["meta_share"], (digest,))
        if found:  # else dropped by a racing save since the insert looked
            return found[0][0]
    raise Again


def _drop_unused_metadata(q: Statements, meta: int) -> Plan:
    """Delete a metadata row nothing refers to, once no running save holds it."""
    if (yield Query(q["meta_lock"], (meta,))):
        yield Query(q["meta_drop"], (meta, meta, meta))


def _prune(q: Statements, seg: int, pos: int) -> Plan:
    """Delete the node at (seg, pos) and the ancestors no other stored conversation holds.

    Returns the metadata rows the deleted nodes referred to (see ``SQLiteStore``).
    """
    metas: set[int | None] = set()
    while True:
        busy = (yield Query(q["has_children"], (seg, pos + 1, seg, pos)))[0][0]
        if busy or (yield Query(q["is_head"], (seg, pos)))[0][0]:
            return metas
        pinned = (yield Query(q["pinned"], (seg, pos)))[0][0]
        head_pinned = (yield Query(q["head_pinned"], (seg, pos)))[0][0]
        keep = max(-1 if pinned is None else pinned, -1 if head_pinned is None else head_pinned)
        metas |= {meta for (meta,) in (yield Query(q["range_metas"], (seg, keep, pos)))}
        yield Query(q["range_delete"], (seg, keep, pos))
        if keep >= 0:
            yield Query(q["segment_last"], (keep, seg))
            return metas
        parent = yield Query(q["segment_parent"], (seg,))
        yield Query(q["segment_delete"], (seg,))
        if not parent or parent[0][0] is None:
            return metas
        seg, pos = parent[0]


def _node(q: Statements, digest: bytes) -> Plan:
    """The (segment, position, depth, metadata row) of a stored id, None when not stored."""
    found = yield Query(q["node"], (digest,))
    if not found:
        return None
    _check_place(found[0], digest)
    return found[0]


def _check_place(row: tuple[Any, ...], digest: bytes) -> None:
    seg, pos, depth, meta = row
    if not all(type(n) is int for n in (seg, pos, depth)) or not (
        meta is None or type(meta) is int
    ):
        raise CorruptStoreError(
            f"the row of conversation {digest.hex()} is damaged (its place in the tree is "
            f"{row!r:.80}); restore the store from a backup"
        )


def _place(q: Statements, id: str) -> Plan:
    """The (segment, position) of a stored id or name."""
    row = yield from _node(q, (yield from _resolve(q, id)))
    if row is None:
        raise not_found(id)
    return row[0], row[1]


def _resolve(q: Statements, id_or_name: str) -> Plan:
    """The digest a name points at, or that an id (or a unique 6+ digit prefix of one) spells."""
    if not isinstance(id_or_name, str):
        raise MalformedInputError(
            f"a stored conversation is named by its id or a name (a str), got "
            f"{type_name(id_or_name)}",
            "id_or_name",
        )
    if not is_unicode(id_or_name) or "\x00" in id_or_name:
        raise not_found(id_or_name)  # no name or id holds these
    digest = digest_of(id_or_name)
    if digest is not None:
        return digest  # a name never spells an id: no name to look up
    found = yield Query(q["name"], (id_or_name,))
    if found:
        return stored_id(bytes(found[0][0]))
    text = id_or_name.lower()
    if 6 <= len(text) < 64 and all(c in "0123456789abcdef" for c in text):
        low, high = bytes.fromhex(text.ljust(64, "0")), bytes.fromhex(text.ljust(64, "f"))
        matches = yield Query(q["prefix"], (low, high))
        if len(matches) == 1:
            return stored_id(bytes(matches[0][0]))
        if matches:
            raise MalformedInputError(
                f"the id prefix {id_or_name!r} matches several stored conversations; give "
                "more of the id",
                "id_or_name",
            )
    raise not_found(id_or_name)
