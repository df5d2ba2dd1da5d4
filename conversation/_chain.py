"""The persistent chain of turns, and the ledger that remembers work done on it.

A conversation's turns are a linked list that grows at the head: each
:class:`Node` holds one turn and points at the node before it, so appending is
O(1) and every branch shares the prefix it grew from.

Walking a linked list backwards is slow for indexing and for writing JSON, so
all nodes that grew from one root share a :class:`Ledger`: the materialized
path (a list of nodes from the root) of the head used last, the JSON of its
messages, and the rule-scan state at checkpoints along it. Asking for the same
head again, or a head one turn further, reuses all of that; a head on another
branch reuses the common part up to the nearest checkpoint. The ledger holds
one path, so its memory stays O(N) for N turns however many branches exist.
A lock makes it safe to share conversations across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import NamedTuple

from ._blocks import Block
from ._reply import Provenance
from ._rules import INITIAL, ScanState, scan
from ._turn import Turn, make_turn
from ._wire import encode_messages
from .errors import Violation

__all__ = ["CHUNK", "Ledger", "Node", "chain_equal", "chain_hash", "make_node", "node_of"]

CHUNK = 64
"""Turns encoded per orjson call, and the spacing of ledger checkpoints."""


class Node:
    """One turn in the chain: its role, content and provenance, and where it stands.

    The turn's fields live on the node itself (one object per appended turn,
    built with plain slot stores: appending is the library's hottest path);
    :attr:`turn` makes the public, frozen :class:`Turn` value when one is read.
    ``length`` is the number of turns up to and including this one.
    """

    __slots__ = ("content", "hash", "ledger", "length", "parent", "provenance", "role")

    role: str
    content: str | tuple[Block, ...]
    provenance: Provenance | None
    parent: Node | None
    length: int
    ledger: Ledger
    hash: int  # set lazily by chain_hash; unset until then

    @property
    def turn(self) -> Turn:
        """This node's turn as a Turn value."""
        return make_turn(self.role, self.content, self.provenance)


_new = object.__new__


def make_node(
    role: str,
    content: str | tuple[Block, ...],
    provenance: Provenance | None,
    parent: Node | None,
) -> Node:
    """Append a turn after ``parent`` (None starts a new chain with its own ledger).

    ``content`` must be canonical (see ``_turn.canonical``), as a Turn's is.
    """
    node: Node = _new(Node)
    node.role = role
    node.content = content
    node.provenance = provenance
    node.parent = parent
    if parent is None:
        node.length = 1
        node.ledger = Ledger()
    else:
        node.length = parent.length + 1
        node.ledger = parent.ledger
    return node


def node_of(turn: Turn, parent: Node | None) -> Node:
    """Append the Turn ``turn`` after ``parent``."""
    return make_node(turn.role, turn.content, turn.provenance, parent)


class Mark(NamedTuple):
    """A checkpoint: after ``turns`` turns, the JSON ends at ``end``, the rules are ``state``."""

    turns: int
    end: int
    state: ScanState


class Encoded(NamedTuple):
    """A body holding the messages of one head, and what the rules found in them."""

    body: bytes
    state: ScanState
    violations: list[Violation]


class Ledger:
    """Work done along the most recently used path of one chain (see the module doc)."""

    __slots__ = ("data", "lock", "marks", "nodes", "violations")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nodes: list[Node] = []
        self.data = bytearray()
        self.marks: list[Mark] = [Mark(0, 0, INITIAL)]
        # (index of the turn whose scan found it, violation), in scan order.
        self.violations: list[tuple[int, Violation]] = []

    # -- the path ---------------------------------------------------------------------

    def _align(self, head: Node) -> None:
        """Make ``nodes[:head.length]`` the path to ``head`` (call with the lock held).

        Invariant: a node at its own index (``length - 1``) has its ancestors
        before it. Only this method (under the lock) and :meth:`adopt` (on a
        chain nobody else holds yet) change the path; appends never touch it.
        """
        nodes = self.nodes
        size = len(nodes)
        fresh: list[Node] = []
        node: Node | None = head
        while node is not None:
            k = node.length
            if k <= size and nodes[k - 1] is node:
                break
            fresh.append(node)
            node = node.parent
        if not fresh:
            return
        keep = 0 if node is None else node.length
        del nodes[keep:]
        fresh.reverse()
        nodes.extend(fresh)
        self._forget_after(keep)

    def _forget_after(self, keep: int) -> None:
        """Drop encoded work for turns past the first ``keep`` (their path changed)."""
        marks = self.marks
        if marks[-1].turns <= keep:
            return
        while marks[-1].turns > keep:
            marks.pop()
        del self.data[marks[-1].end :]
        last = marks[-1].turns
        self.violations = [(i, v) for i, v in self.violations if i < last]

    def adopt(self, nodes: list[Node]) -> None:
        """Take a freshly built path (the chain was read in order, e.g. by ``loads``)."""
        with self.lock:
            self.nodes = nodes

    def turn_at(self, head: Node, index: int) -> Turn:
        with self.lock:
            self._align(head)
            return self.nodes[index].turn

    def node_at(self, head: Node, index: int) -> Node:
        with self.lock:
            self._align(head)
            return self.nodes[index]

    def path(self, head: Node) -> list[Node]:
        """The nodes from the root to ``head``, as a new list."""
        with self.lock:
            self._align(head)
            return self.nodes[: head.length]

    # -- encoding and rules -------------------------------------------------------------

    def encode(self, head: Node, front: bytes, back: bytes) -> Encoded:
        """``front`` + the JSON of the messages up to ``head`` + ``back``, and their scan.

        The messages are written comma-separated without brackets, so the caller
        frames them; the whole body is joined once, here.
        """
        with self.lock:
            self._align(head)
            target = head.length
            marks = self.marks
            if marks[-1].turns < target:
                self._extend(target)
            if marks[-1].turns == target:
                last = marks[-1]
                body = b"".join((front, self.data, back))
                return Encoded(body, last.state, [v for _, v in self.violations])
            # ``head`` is behind the encoded tip: reuse up to the checkpoint before it.
            mark = marks[_last_mark_at_or_before(marks, target)]
            found = [v for i, v in self.violations if i < mark.turns]
            state = mark.state
            tail = b""
            if mark.turns < target:
                encoded, state, more = _encode_turns(
                    self.nodes[mark.turns : target], mark.turns, state
                )
                tail = (b"," if mark.end else b"") + encoded[1:-1]
                found += more
            with memoryview(self.data) as data:
                body = b"".join((front, data[: mark.end], tail, back))
        return Encoded(body, state, found)

    def _extend(self, target: int) -> None:
        """Encode and scan nodes up to ``target`` (lock held), checkpointing each chunk."""
        marks = self.marks
        last = marks[-1]
        if last.turns % CHUNK:
            # A checkpoint off the chunk grid is temporary: restart its chunk so
            # the grid stays O(N / CHUNK) checkpoints long.
            marks.pop()
            del self.data[marks[-1].end :]
            self.violations = [(i, v) for i, v in self.violations if i < marks[-1].turns]
            last = marks[-1]
        data = self.data
        count, state = last.turns, last.state
        nodes = self.nodes
        while count < target:
            stop = min(target, (count // CHUNK + 1) * CHUNK)
            chunk, state, found = _encode_turns(nodes[count:stop], count, state)
            if found:
                # Keyed by the chunk's first turn: truncation happens at checkpoints.
                self.violations.extend((count, v) for v in found)
            if data:
                data += b","
            data += memoryview(chunk)[1:-1]
            count = stop
            marks.append(Mark(count, len(data), state))

    def iter_turns(self, head: Node) -> Iterator[Turn]:
        for node in self.path(head):
            yield node.turn


def _encode_turns(
    turns: list[Node], start: int, state: ScanState
) -> tuple[bytes, ScanState, list[Violation]]:
    """The JSON array of ``turns`` and their rule scan."""
    state, found = scan(turns, start, state)
    return encode_messages(turns, start), state, found


def _last_mark_at_or_before(marks: list[Mark], count: int) -> int:
    lo, hi = 0, len(marks) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if marks[mid].turns <= count:
            lo = mid
        else:
            hi = mid - 1
    return lo


def chain_equal(a: Node | None, b: Node | None) -> bool:
    """True when two chains hold equal turns; stops early at a shared node."""
    if a is None or b is None:
        return a is b
    if a.length != b.length:
        return False
    while a is not None and b is not None:
        if a is b:
            return True
        hash_a, hash_b = getattr(a, "hash", None), getattr(b, "hash", None)
        if hash_a is not None and hash_b is not None and hash_a != hash_b:
            return False
        if a.role != b.role or a.content != b.content or a.provenance != b.provenance:
            return False
        a, b = a.parent, b.parent
    return a is b


def chain_hash(head: Node | None) -> int:
    """A hash of the turns of a chain, cached on each node (computed iteratively)."""
    if head is None:
        return 0
    todo: list[Node] = []
    node: Node | None = head
    while node is not None and getattr(node, "hash", None) is None:
        todo.append(node)
        node = node.parent
    value = 0 if node is None else node.hash
    for node in reversed(todo):
        value = hash((value, node.role, node.content, node.provenance))
        node.hash = value
    return value
