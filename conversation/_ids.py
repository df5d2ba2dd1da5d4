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
from ._chain import CHUNK, Node, known, memo
from ._provenance import SYNTHETIC
from ._save import provenance_record, turn_record
from ._turn import TurnData
from ._wire import encode_default, system_to_wire
from .errors import MalformedInputError

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "PREFIX",
    "canonical_json",
    "conversation_id",
    "root_state",
    "turn_items",
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


def conversation_id(system: System, head: Node | None) -> str:
    """The id of the conversation whose last turn is ``head`` (None: no turns)."""
    if head is None:
        return root_state(system).hexdigest()
    cached = _ident(head)
    if cached is not None and _same(cached[0], system):
        return cached[1]  # type: ignore[no-any-return]
    return _hash(system, head).hexdigest()


def _hash(system: System, head: Node) -> _Hash:
    """The hash state after ``head``, computed from the nearest kept one and kept on ``head``."""
    path, state = _resume(system, head)
    count = len(path)
    start = 0
    # Feed the turns a chunk at a time, leaving the state at each checkpoint
    # node met, so that later ids of nearby branches start close by.
    while start < count:
        stop = min(count, start + (-path[start].length) % CHUNK + 1)
        state.update(b",")
        state.update(memoryview(_encode(path[start:stop]))[1:-1])
        start = stop
        end = path[stop - 1]
        if end is not head and not end.length % CHUNK:
            memo(end).ident = (system, state.hexdigest(), state.copy())
    memo(head).ident = (system, state.hexdigest(), state)
    parent = head.parent
    grandparent = None if parent is None else parent.parent
    if grandparent is not None and grandparent.length % CHUNK:
        # A state is kept at checkpoints and on the newest two turns of a chain only:
        # the grandparent's state lives on in this one, so memory stays
        # O(turns / CHUNK), while the parent keeps its own, so that other one-turn
        # branches off it (several answers to one question) cost one turn each too.
        kept = _ident(grandparent)
        if kept is not None and kept[2] is not None:
            memo(grandparent).ident = (kept[0], kept[1], None)
    return state


def turn_rows(system: System, head: Node, count: int) -> tuple[list[bytes], list[bytes]]:
    """The digests and ``J(items)`` of the last ``count`` turns up to ``head``, oldest first.

    For a store, which keys each turn by the digest of the conversation it ends
    and keeps its items (``[role, content]`` or ``[role, content, provenance]``)
    as JSON: the hashed input grows by ``,`` and that JSON without its brackets.
    Costs those ``count`` turns, however long the chain before them.
    """
    nodes: list[Node] = [head] * count
    node: Node | None = head
    for index in range(count - 1, -1, -1):
        assert node is not None
        nodes[index] = node
        node = node.parent
    state = root_state(system) if node is None else _state_after(system, node)
    datas = _encode_each(nodes)
    digests: list[bytes] = []
    update, digest, keep = state.update, state.digest, digests.append
    start = 0
    # In runs ending at checkpoint nodes (every CHUNK-th turn), which keep the state
    # there: later ids of branches and prefixes start close by.
    for stop in [*range((-nodes[0].length) % CHUNK + 1, count, CHUNK), count]:
        for data in datas[start:stop]:
            update(b"," + data[1:-1])
            keep(digest())
        start = stop
        end = nodes[stop - 1]
        if not end.length % CHUNK:
            memo(end).ident = (system, digests[-1].hex(), state.copy())
    if digests:
        memo(head).ident = (system, digests[-1].hex(), state)
    return digests, datas


def turn_items(turn: TurnData) -> list[Any]:
    """A turn's items in the hashed input: its role, its content, its provenance if any."""
    items: list[Any] = [turn.role, turn.content]
    record = provenance_record(turn.provenance)
    if record is not None:
        items.append(record)
    return items


# -- helpers -----------------------------------------------------------------------------


def _ident(node: Node) -> Any:
    """The id cache kept on ``node`` (system, hex id, hash state or None), or None."""
    learnt = known(node)
    return None if learnt is None else learnt.ident


def _same(cached: System, system: System) -> bool:
    return cached is system or cached == system


def _state_after(system: System, node: Node) -> _Hash:
    """A copy of the hash state after ``node``."""
    cached = _ident(node)
    if cached is not None and cached[2] is not None and _same(cached[0], system):
        return cached[2].copy()  # type: ignore[no-any-return]
    return _hash(system, node).copy()


def _resume(system: System, head: Node) -> tuple[list[Node], _Hash]:
    """The nodes after the nearest kept hash state at or before ``head``, and a copy of it.

    A state is kept on the newest turns an id was computed for, and on
    checkpoint nodes (every :data:`CHUNK`-th turn): the nearest :data:`CHUNK`
    nodes are looked at, then checkpoints only. The walk stops at the first
    state found, so it costs the turns that have to be hashed anyway.
    """
    todo: list[Node] = []
    node: Node | None = head
    for _ in range(CHUNK):
        if node is None:
            break
        cached = _ident(node)
        if cached is not None and cached[2] is not None and _same(cached[0], system):
            todo.reverse()
            return todo, cached[2].copy()
        todo.append(node)
        node = node.parent
    while node is not None:
        if not node.length % CHUNK:
            cached = _ident(node)
            if cached is not None and cached[2] is not None and _same(cached[0], system):
                todo.reverse()
                return todo, cached[2].copy()
        todo.append(node)
        node = node.parent
    todo.reverse()
    return todo, root_state(system)


def _encode(nodes: list[Node]) -> bytes:
    """``J`` of the items of each of ``nodes``: within its brackets, the input they add."""
    items: list[Any]
    written = [n for n in nodes if n.provenance is not None and n.provenance is not SYNTHETIC]
    if written:
        items = [item for node in nodes for item in turn_items(node)]
    else:
        # The common case, in bulk: no turn here was written by a model.
        items = [None] * (2 * len(nodes))
        items[0::2] = ["user" if node.provenance is None else "assistant" for node in nodes]
        items[1::2] = [node.content for node in nodes]
    return _dumps(nodes, items)


_OPEN: Final = {True: b'["user",', False: b'["assistant",'}
"""The start of ``J([role, content])``, by whether the turn has no provenance (a user's)."""


def _encode_each(nodes: list[Node]) -> list[bytes]:
    """``J`` of the items of each of ``nodes``, one JSON array a turn.

    A turn without provenance is written around ``J(content)``: no list is made
    for it, so that saving a long history does not wake the cyclic GC.
    """
    dumps = orjson.dumps
    try:
        return [
            _OPEN[node.provenance is None]
            + dumps(node.content, default=encode_default, option=_SORT)
            + b"]"
            if node.provenance is None or node.provenance is SYNTHETIC
            else dumps(turn_items(node), default=encode_default, option=_SORT)
            for node in nodes
        ]
    except TypeError:
        return [_dumps([node], turn_items(node)) for node in nodes]  # raises, naming the turn


def _dumps(nodes: list[Node], items: list[Any]) -> bytes:
    """``J(items)``, the items of ``nodes``; a turn JSON cannot hold is named in the error."""
    try:
        return orjson.dumps(items, default=encode_default, option=_SORT)
    except TypeError:
        for node in nodes:
            try:
                orjson.dumps(turn_record(node))
            except TypeError as exc:
                raise MalformedInputError(
                    f"turn {node.length - 1} cannot be written as JSON ({exc}): text must be "
                    "valid Unicode (no lone surrogates) and integers must fit in 64 bits",
                    f"$.messages[{node.length - 1}]",
                ) from None
        raise
