"""Content ids: a conversation's identity is the SHA-256 of its canonical content.

The algorithm is part of the library's contract, so that ids stay equal in any
process, on any machine and in any later version, and other tools can compute
them (the tests pin it with golden ids)::

    input(c) = J(["conversation-state/1", system, *turn_1, ..., *turn_n]) without its final "]"
    c.id     = the lowercase hex SHA-256 of input(c)

- ``system`` is the system prompt as the request body writes it (a string, or
  a list of text block objects), or ``null`` when there is none;
- each turn adds two or three items: its ``role`` (``"user"`` or
  ``"assistant"``), its ``content`` exactly as on the wire (a string, or a list
  of block objects), and, for an assistant turn a model wrote, its provenance
  object as the save format writes it (user turns and synthetic assistant
  turns have none). A role is a string and a provenance an object, so the
  items read back unambiguously;
- ``J`` is canonical JSON: UTF-8, no whitespace between tokens, object keys
  sorted by code point, strings escaping only ``"``, ``\\`` and U+0000-U+001F
  (``\\b \\t \\n \\f \\r`` by name, the rest as lowercase ``\\u00XX``),
  integers in decimal, floats as the shortest decimal that reads back the
  same (``0.1``, ``1e+16``, ``1.5e-7``).

A conversation's input is its parent's input followed by ``,`` and the items
of its last turn, so the hash is chained through the parent turn: every prefix
``c[:k]`` has its own id, and the id of a conversation one turn longer than
one already hashed costs that one turn (the hash state is kept on the chain).

``metadata`` takes no part: it is the program's annotation (a title, tags),
and annotating a history does not make it another history. Equality of
conversations is Python's, so ``1`` and ``1.0`` in a tool's input compare
equal, while their ids differ as their JSON does.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Final

import orjson

from ._blocks import Text
from ._chain import CHUNK, Content, Run, known, memo, pieces, prefix_run
from ._provenance import SYNTHETIC, Provenance
from ._save import provenance_record, turn_record
from ._wire import encode_default, system_to_wire
from .errors import MalformedInputError

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "PREFIX",
    "canonical_json",
    "conversation_id",
    "root_state",
    "turn_rows",
]

PREFIX: Final = b'["conversation-state/1",'
"""What every hashed input starts with: the array's opening and its version tag."""

System = str | tuple[Text, ...] | None

_SORT: Final = orjson.OPT_SORT_KEYS


def canonical_json(value: Any) -> bytes:
    """``J`` above: ``value`` as canonical JSON bytes."""
    return orjson.dumps(value, option=_SORT)


def root_state(system: System) -> _Hash:
    """The hash state of a conversation with no turns under ``system``."""
    wire = None if system is None else system_to_wire(system)
    return hashlib.sha256(PREFIX + canonical_json(wire))


def conversation_id(system: System, run: Run | None, length: int) -> str:
    """The id of the first ``length`` turns of ``run``'s chain (None: no turns)."""
    if run is None:
        return root_state(system).hexdigest()
    cached = _ident(run, length)
    if cached is not None and _same(cached[0], system):
        return cached[1]  # type: ignore[no-any-return]
    return _hash(system, run, length).hexdigest()


def _hash(system: System, run: Run, length: int) -> _Hash:
    """The hash state after ``length`` turns, computed from the nearest kept one and kept there."""
    start, state = _resume(system, run, length)
    # Feed the turns a run at a time, leaving the state at each multiple of
    # CHUNK met, so that later ids of nearby branches start close by.
    for each, low, high in pieces(run, length, start):
        data = _encode(each.contents(low, high), each.provenances(low, high), low)
        state.update(b",")
        state.update(memoryview(data)[1:-1])
        if high != length and not high % CHUNK:
            _keep(each, high, (system, state.hexdigest(), state.copy()))
    _keep(run, length, (system, state.hexdigest(), state))
    if length > 2 and (length - 2) % CHUNK:
        # A state is kept at checkpoints and on the newest two turns of a chain only:
        # the state two turns back lives on in this one, so memory stays
        # O(turns / CHUNK), while the turn before keeps its own, so that other one-turn
        # branches off it (several answers to one question) cost one turn each too.
        before = prefix_run(run, length - 2)
        assert before is not None
        kept = _ident(before, length - 2)
        if kept is not None and kept[2] is not None:
            _keep(before, length - 2, (kept[0], kept[1], None))
    return state


def turn_rows(system: System, run: Run, length: int, count: int) -> tuple[list[bytes], list[bytes]]:
    """The digests and ``J(items)`` of the last ``count`` of the first ``length`` turns of
    ``run``'s chain, oldest first.

    For a store, which keys each turn by the digest of the conversation it ends
    and keeps its items (``[role, content]`` or ``[role, content, provenance]``)
    as JSON: the hashed input grows by ``,`` and that JSON without its brackets.
    Costs those ``count`` turns, however long the chain before them.
    """
    start = length - count
    if start == 0:
        state = root_state(system)
    else:
        before = prefix_run(run, start)
        assert before is not None
        state = _state_after(system, before, start)
    digests: list[bytes] = []
    datas: list[bytes] = []
    update, digest, keep = state.update, state.digest, digests.append
    # A run at a time; the state at each multiple of CHUNK is kept there:
    # later ids of branches and prefixes start close by.
    for each, low, high in pieces(run, length, start):
        rows = _encode_each(each.contents(low, high), each.provenances(low, high), low)
        for data in rows:
            update(b"," + data[1:-1])
            keep(digest())
        datas += rows
        if high != length and not high % CHUNK:
            _keep(each, high, (system, digests[-1].hex(), state.copy()))
    if digests:
        _keep(run, length, (system, digests[-1].hex(), state))
    return digests, datas


# -- helpers -----------------------------------------------------------------------------


def _ident(run: Run, length: int) -> Any:
    """The id cache kept for the first ``length`` turns, ``run`` holding the last of them
    (system, hex id, hash state or None), or None."""
    learnt = known(run)
    return None if learnt is None else learnt.idents.get(length - run.base - 1)


def _keep(run: Run, length: int, value: Any) -> None:
    """Keep ``value`` as the id cache for the first ``length`` turns (``run`` holds the last)."""
    with run.ledger.lock:
        memo(run).idents[length - run.base - 1] = value


def _same(cached: System, system: System) -> bool:
    return cached is system or cached == system


def _usable(cached: Any, system: System) -> bool:
    return cached is not None and cached[2] is not None and _same(cached[0], system)


def _state_after(system: System, run: Run, length: int) -> _Hash:
    """A copy of the hash state after the first ``length`` turns (``run`` holds the last)."""
    cached = _ident(run, length)
    if _usable(cached, system):
        return cached[2].copy()  # type: ignore[no-any-return]
    return _hash(system, run, length).copy()


def _resume(system: System, run: Run, length: int) -> tuple[int, _Hash]:
    """The nearest turn count at or before ``length`` with a kept hash state, and a copy
    of that state.

    A state is kept on the newest turns an id was computed for, and at each
    multiple of :data:`CHUNK`: the nearest :data:`CHUNK` turns are looked at,
    then those multiples only. The walk stops at the first state found, so it
    costs the turns that have to be hashed anyway.
    """
    floor = length - CHUNK
    node: Run | None = run
    high = length
    while node is not None:
        if high > floor:
            counts: range | tuple[int, ...] = range(high, max(node.base, floor), -1)
        else:
            counts = () if high % CHUNK else (high,)
        for n in counts:
            cached = _ident(node, n)
            if _usable(cached, system):
                return n, cached[2].copy()
        high = node.base
        node = node.parent
    return 0, root_state(system)


def _encode(contents: list[Content], provenances: list[Provenance | None], start: int) -> bytes:
    """``J`` of the items of some turns (the first is turn ``start``): within its brackets,
    the input they add."""
    items: list[Any]
    if any(p is not None and p is not SYNTHETIC for p in provenances):
        items = [
            item
            for content, provenance in zip(contents, provenances, strict=True)
            for item in _items(content, provenance)
        ]
    else:
        # The common case, in bulk: no turn here was written by a model.
        items = [None] * (2 * len(contents))
        items[0::2] = ["user" if p is None else "assistant" for p in provenances]
        items[1::2] = contents
    return _dumps(contents, provenances, start, items)


_OPEN: Final = {True: b'["user",', False: b'["assistant",'}
"""The start of ``J([role, content])``, by whether the turn has no provenance (a user's)."""


def _encode_each(
    contents: list[Content], provenances: list[Provenance | None], start: int
) -> list[bytes]:
    """``J`` of the items of each of some turns (the first is turn ``start``), one array a turn.

    A turn without provenance is written around ``J(content)``: no list is made
    for it, so that saving a long history does not wake the cyclic GC.
    """
    dumps = orjson.dumps
    try:
        return [
            _OPEN[provenance is None] + dumps(content, default=encode_default, option=_SORT) + b"]"
            if provenance is None or provenance is SYNTHETIC
            else dumps(_items(content, provenance), default=encode_default, option=_SORT)
            for content, provenance in zip(contents, provenances, strict=True)
        ]
    except TypeError:
        # raises, naming the turn
        return [
            _dumps([content], [provenance], start + i, _items(content, provenance))
            for i, (content, provenance) in enumerate(zip(contents, provenances, strict=True))
        ]


def _items(content: Content, provenance: Provenance | None) -> list[Any]:
    """A turn's items in the hashed input, from its content and provenance."""
    items: list[Any] = ["user" if provenance is None else "assistant", content]
    record = provenance_record(provenance)
    if record is not None:
        items.append(record)
    return items


def _dumps(
    contents: list[Content], provenances: list[Provenance | None], start: int, items: list[Any]
) -> bytes:
    """``J(items)``, the items of some turns from turn ``start``; a turn JSON cannot hold is
    named in the error."""
    try:
        return orjson.dumps(items, default=encode_default, option=_SORT)
    except TypeError:
        for i, (content, provenance) in enumerate(zip(contents, provenances, strict=True)):
            try:
                orjson.dumps(turn_record(content, provenance))
            except TypeError as exc:
                raise MalformedInputError(
                    f"turn {start + i} cannot be written as JSON ({exc}): text must be "
                    "valid Unicode (no lone surrogates) and integers must fit in 64 bits",
                    f"$.messages[{start + i}]",
                ) from None
        raise
