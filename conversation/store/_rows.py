"""A store's rows: conversations into rows and back, every row checked against its id.

Whatever database holds them, a store keeps the same rows (see
:mod:`conversation._ids` for the hashed input they come from):

- the root of each tree: the digest of the conversation with no turns, and its
  system prompt as canonical JSON (``null`` when there is none);
- one row per turn: the digest of the conversation it ends, and the turn's
  items ``[role, content]`` or ``[role, content, provenance]`` as canonical JSON;
- metadata: canonical JSON objects, kept once each, keyed by their SHA-256.

Loading joins a path's rows into the hashed input and checks that it hashes to
the id asked for, so a row changed on disk is found, never handed back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator
from typing import Any

import orjson

from .._chain import Content, Run, build, memo
from .._conversation import Conversation, _Header, _make
from .._ids import PREFIX, canonical_json, turn_rows
from .._json import EMPTY, FrozenDict, freeze
from .._provenance import SYNTHETIC, Provenance
from .._save import read_turn
from .._steps import drive
from .._wire import system_from_wire, system_to_wire
from ..errors import (
    ConversationError,
    CorruptStoreError,
    MalformedInputError,
    StoreNotFoundError,
)

__all__ = [
    "Rows",
    "digest_of",
    "metadata_matches",
    "metadata_row",
    "not_found",
    "prefix_search",
    "read_metadata",
    "rebuild",
    "rows_to_save",
    "stored_prefix",
    "turn_record",
]

Rows = list[tuple[bytes, bytes]]
"""``(digest, data)`` pairs, oldest turn first."""


def digest_of(id_or_name: str) -> bytes | None:
    """The digest an id spells (64 hex digits), or None when it is not one."""
    if len(id_or_name) != 64:
        return None
    try:
        return bytes.fromhex(id_or_name)
    except ValueError:
        return None


def stored_prefix(conversation: Conversation, exists: Callable[[bytes], bool]) -> int:
    """How many turns of ``conversation`` the store already holds, -1 when not even its root.

    ``exists`` is one lookup by digest; see :func:`prefix_search` for the order.
    """
    return drive(prefix_search(conversation), exists)


def prefix_search(conversation: Conversation) -> Generator[bytes, bool, int]:
    """:func:`stored_prefix` as a plan: yields each digest to look up, is sent whether it is stored.

    A store holds every prefix of what it holds, so the answer is found by a
    binary search over prefixes, after trying its root (a new tree), itself
    and its parent: the common cases, a save repeated and a save one turn
    longer than the last.
    """
    size = len(conversation)
    if not (yield _digest(conversation[:0])):
        return -1  # a new tree: no turn needs hashing to find that out
    if (yield _digest(conversation)):
        return size
    if size and (yield _digest(conversation[: size - 1])):
        return size - 1
    low, high = 0, size - 1  # prefix `low` is stored, prefix `high` is not
    while high - low > 1:
        middle = (low + high) // 2
        if (yield _digest(conversation[:middle])):
            low = middle
        else:
            high = middle
    return low


def rows_to_save(
    conversation: Conversation, stored: int
) -> tuple[bytes, bytes, list[bytes], list[bytes]]:
    """The root's digest and data, and the digests and data of the turns after the first ``stored``.

    ``stored`` is what :func:`stored_prefix` found (-1: the root is new too).
    Costs the turns after ``stored``, however many come before them.
    """
    system = conversation.system
    wire = None if system is None else system_to_wire(system)
    root_data = canonical_json(wire)
    root = hashlib.sha256(PREFIX + root_data).digest()
    run, length, _ = conversation._at
    if run is None or stored >= length:
        return root, root_data, [], []
    digests, datas = turn_rows(system, run, length, length - max(stored, 0))
    return root, root_data, digests, datas


def metadata_row(metadata: FrozenDict) -> tuple[bytes, bytes]:
    """``(digest, canonical JSON)`` of a conversation's metadata."""
    try:
        data = canonical_json(metadata)
    except TypeError as exc:  # orjson's JSONEncodeError
        raise MalformedInputError(
            f"the metadata cannot be written as JSON ({exc}): text must be valid Unicode (no "
            "lone surrogates) and integers must fit in 64 bits",
            "metadata",
        ) from None
    return hashlib.sha256(data).digest(), data


def metadata_matches(digest: object, data: object) -> bool:
    """Whether a stored metadata row's data is what its digest says."""
    return type(data) is bytes and hashlib.sha256(data).digest() == digest


def rebuild(
    want: bytes, root: tuple[bytes, bytes], rows: Rows, metadata_data: bytes | None
) -> Conversation:
    """The conversation of ``root`` (its digest and data) and ``rows``, checked to hash to ``want``.

    Raises :class:`CorruptStoreError` naming the first turn whose row does not
    hash to the id it is kept under, or that cannot be read.
    """
    root_digest, root_data = root
    try:
        state = hashlib.sha256(PREFIX + root_data)
        if rows:
            state.update(b",")
            state.update(b",".join([data[1:-1] for _, data in rows]))
    except TypeError:  # a row that is not bytes
        raise CorruptStoreError(
            f"conversation {want.hex()} is stored, but a row of it is not bytes: the store was "
            "changed outside this library; restore it from a backup"
        ) from None
    if state.digest() != want:
        raise CorruptStoreError(
            f"the stored rows of conversation {want.hex()} do not hash to its id: "
            f"{_first_bad(root_digest, root_data, rows)} was changed or damaged outside this "
            "library; "
            "restore the store from a backup, or delete that conversation"
        )
    try:
        system = system_from_wire(orjson.loads(root_data))
        items = orjson.loads(b"[" + b",".join([data for _, data in rows]) + b"]")
        run = _chain_of(items)
        metadata = EMPTY if metadata_data is None else read_metadata(metadata_data)
    except (ConversationError, orjson.JSONDecodeError) as exc:
        raise CorruptStoreError(
            f"conversation {want.hex()} is stored, but a row of it cannot be read ({exc}); "
            "restore the store from a backup, or delete that conversation"
        ) from None
    if run is not None:
        with run.ledger.lock:
            memo(run).idents[len(items) - run.base - 1] = (system, want.hex(), state)
    return _make(run, len(items), _Header(system, metadata))


def not_found(id_or_name: str) -> StoreNotFoundError:
    """The error for an id or name the store does not hold."""
    shown = id_or_name if len(id_or_name) <= 80 else id_or_name[:77] + "..."
    return StoreNotFoundError(
        f"no stored conversation has the id or name {shown!r}; store.names() lists the "
        "names and store.leaves() the latest ids"
    )


# -- helpers ------------------------------------------------------------------------------


def _digest(conversation: Conversation) -> bytes:
    return bytes.fromhex(conversation.id)


def _chain_of(items: list[Any]) -> Run | None:
    """The chain of turns read from their items, its path known to the ledger."""
    contents: list[Content] = []
    provenances: list[Provenance | None] = []
    for index, item in enumerate(items):
        if type(item) is list and len(item) == 2 and type(item[1]) is str:
            role = item[0]
            if role == "user" or role == "assistant":
                contents.append(item[1])
                provenances.append(None if role == "user" else SYNTHETIC)
                continue
        turn = read_turn(turn_record(item, index), f"turn {index}")
        contents.append(turn.content)
        provenances.append(turn.provenance)
    return build(contents, provenances)


def turn_record(item: Any, index: int) -> dict[str, Any]:
    """A stored turn's items ``[role, content, provenance?]`` as the record ``read_turn`` takes."""
    if type(item) is not list or len(item) not in (2, 3):
        raise CorruptStoreError(f"turn {index} is not [role, content, provenance?]")
    record = {"role": item[0], "content": item[1]}
    if len(item) == 3:
        record["provenance"] = item[2]
    return record


def read_metadata(data: bytes) -> FrozenDict:
    """A stored metadata row's JSON as the frozen object a Conversation carries."""
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise CorruptStoreError("stored metadata is not a JSON object")
    return freeze(value, "$.metadata")  # type: ignore[no-any-return]


def _first_bad(root: bytes, root_data: bytes, rows: Rows) -> str:
    """The first row on a path whose content does not hash to its id (for the message)."""
    state = hashlib.sha256(PREFIX + root_data)
    if state.digest() != root:
        return "the root (the system prompt)"
    for index, (digest, data) in enumerate(rows):
        state.update(b"," + data[1:-1])
        if state.digest() != digest:
            shown = digest.hex() if type(digest) is bytes else repr(digest)
            return f"turn {index} (id {shown})"
    return "the link from its last turn to its id"
