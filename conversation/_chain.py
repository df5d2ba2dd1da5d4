"""The persistent chain of turns, and the ledger that remembers work done on it.

A conversation's turns are a linked list that grows at the head: each
:class:`Node` holds one turn and points at the node before it, so appending is
O(1) and every branch shares the prefix it grew from.

Walking a linked list backwards is slow for indexing and for writing JSON, so
work done on a chain is kept where branches can share it. Every
:data:`CHUNK`-th node that was serialized holds a :class:`Segment`: the JSON of
the chunk of turns ending at it, the rule-scan state after it, and a link to
the segment before it, so the segments form a tree shaped like the chain and
any head finds its nearest encoded ancestor less than a chunk away. Each
segment also keeps a :class:`Tip`, the turns encoded past it the last time a
head beyond it was sent, so a branch sent again after one more turn encodes
that turn only, however many branches are sent in between. Encoded work lives
on the nodes it describes, so its memory is O(distinct turns) and goes when
they go. All nodes that grew from one root share a :class:`Ledger`: a lock,
the segments of the head sent last (to join a body without walking), and the
materialized path of the head read last, for indexing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from ._blocks import Block, Text
from ._json import EMPTY, FrozenDict
from ._provenance import Provenance
from ._rules import INITIAL, ScanState, scan
from ._turn import Turn, make_turn
from ._wire import encode_messages
from .errors import Violation

__all__ = [
    "CHUNK",
    "NO_HEADER",
    "Header",
    "Ledger",
    "Lineage",
    "Node",
    "chain_equal",
    "chain_hash",
    "make_node",
    "node_of",
    "under",
]

CHUNK = 64
"""Turns encoded per orjson call, and the spacing of ledger checkpoints."""


class Header:
    """What a lineage of conversations shares besides turns: system and metadata."""

    __slots__ = ("metadata", "system")

    def __init__(self, system: str | tuple[Text, ...] | None, metadata: FrozenDict) -> None:
        self.system = system
        self.metadata = metadata

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Header):
            return NotImplemented
        return self is other or (self.system == other.system and self.metadata == other.metadata)

    __hash__ = None  # type: ignore[assignment]


NO_HEADER = Header(None, EMPTY)
"""No system prompt, no metadata: the header of a chain built without one."""


class Lineage:
    """A chain's :class:`Ledger` and the :class:`Header` of the conversations ending on a node.

    Nodes appended one after another share their parent's lineage, so an append
    copies one reference (and the collector visits one slot per node, not two).
    """

    __slots__ = ("header", "ledger")

    def __init__(self, ledger: Ledger, header: Header) -> None:
        self.ledger = ledger
        self.header = header


class Node:
    """One turn in the chain: its role, content and provenance, and where it stands.

    The turn's fields live on the node itself (one object per appended turn,
    built with plain slot stores: appending is the library's hottest path);
    :attr:`turn` makes the public, frozen :class:`Turn` value when one is read.
    The role is not stored: only an assistant turn has a provenance, so the
    node is one slot smaller (it is held for every turn, and the cyclic GC
    visits each slot); readers on hot paths test ``provenance`` themselves.
    ``length`` is the number of turns up to and including this one. ``lineage``
    holds the chain's ledger and the header (system prompt and metadata) of the
    conversations whose last turn this is, so that a Conversation is one
    reference to its head (see :func:`under`).
    """

    __slots__ = ("content", "length", "lineage", "memo", "parent", "provenance")

    content: str | tuple[Block, ...]
    provenance: Provenance | None
    parent: Node | None
    length: int
    lineage: Lineage
    memo: Memo  # what was learnt of the turns up to here; unset until something is (see memo)

    @property
    def role(self) -> str:
        """``"user"`` or ``"assistant"``: only an assistant turn has a provenance."""
        return "user" if self.provenance is None else "assistant"

    @property
    def turn(self) -> Turn:
        """This node's turn as a Turn value."""
        return make_turn(self.role, self.content, self.provenance)


def make_node(
    content: str | tuple[Block, ...],
    provenance: Provenance | None,
    parent: Node | None,
    header: Header | None = None,
) -> Node:
    """Append a turn after ``parent`` (None starts a new chain with its own ledger).

    The turn is the user's when ``provenance`` is None, else the assistant's
    (a Turn's rule: an assistant turn always has one, :data:`SYNTHETIC` at least).
    ``content`` must be canonical (see ``_turn.canonical``), as a Turn's is.
    The node has ``header``, else its parent's (:data:`NO_HEADER` for a root).
    Node has no ``__init__``: calling the class is the cheapest way to make one.
    """
    node = Node()
    node.content = content
    node.provenance = provenance
    node.parent = parent
    if parent is None:
        node.length = 1
        node.lineage = Lineage(Ledger(), NO_HEADER if header is None else header)
    else:
        node.length = parent.length + 1
        lineage = parent.lineage
        if header is None or header is lineage.header:
            node.lineage = lineage
        else:
            node.lineage = Lineage(lineage.ledger, header)
    return node


def node_of(turn: Turn, parent: Node | None, header: Header | None = None) -> Node:
    """Append the Turn ``turn`` after ``parent`` (``header`` as :func:`make_node` takes it)."""
    return make_node(turn.content, turn.provenance, parent, header)


class Memo:
    """What was learnt of the turns up to a node: their hash, content id and encoded segment.

    Kept off the node in one object made on first use, so that the node (one
    per turn, visited by the cyclic collector) has one slot for all three.
    It describes the turns alone, not the header, so a twin under another
    header shares it (see :func:`under`).
    """

    __slots__ = ("hash", "ident", "segment")

    def __init__(self) -> None:
        self.hash: int | None = None  # set by chain_hash
        self.ident: Any = None  # the content id's cache, owned by ``_ids``
        self.segment: Segment | None = None  # on a checkpoint node once its chunk is encoded


def memo(node: Node) -> Memo:
    """``node``'s :class:`Memo`, made on first use."""
    try:
        return node.memo
    except AttributeError:
        made = node.memo = Memo()
        return made


def known(node: Node) -> Memo | None:
    """``node``'s :class:`Memo` if anything was learnt of it yet, else None."""
    return getattr(node, "memo", None)


def under(node: Node, header: Header) -> Node:
    """``node`` if its header is ``header``, else a new twin of it under ``header``.

    The twin holds the same turn after the same parent, and what was learnt of
    the turns up to it (hash, content id, encoded segment: they describe the
    turns alone). Nodes others hold are left as they are.
    """
    if node.lineage.header is header:
        return node
    twin = make_node(node.content, node.provenance, node.parent, header)
    known = getattr(node, "memo", None)
    if known is not None:  # it describes the same turns, so the twin shares it
        twin.memo = known
    return twin


class Tip:
    """Turns encoded past a segment, with a mark after each batch encoded.

    Mark ``i`` says: after ``nodes[i]``, the JSON ends at ``ends[i]`` and the
    rules are ``states[i]``. A head that has one of the marked nodes as an
    ancestor reuses the JSON up to it. ``found`` holds (turn index, violation).
    Read and changed only under the ledger's lock.
    """

    __slots__ = ("data", "ends", "found", "nodes", "states")

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.ends: list[int] = []
        self.states: list[ScanState] = []
        # Shares its segment's bytes once full, until it is cut to grow another way.
        self.data: bytes | bytearray = bytearray()
        self.found: list[tuple[int, Violation]] = []

    def reach(self, todo: list[Node], base: int) -> int:
        """How many marks lie on the path ``todo`` (the nodes after turn ``base``)."""
        nodes = self.nodes
        size = len(todo)
        for i in range(len(nodes) - 1, -1, -1):
            node = nodes[i]
            at = node.length - base - 1
            if at < size and todo[at] is node:
                return i + 1
        return 0

    def cut(self, keep: int) -> None:
        """Keep the first ``keep`` marks (the rest lie on another branch), ready to grow."""
        if keep < len(self.nodes):
            del self.nodes[keep:], self.ends[keep:], self.states[keep:]
            turns = self.nodes[-1].length if keep else 0
            self.found = [(i, v) for i, v in self.found if i < turns]
            self.data = bytearray(self.data[: self.ends[-1] if keep else 0])
        elif type(self.data) is bytes:
            self.data = bytearray(self.data)

    def add(
        self, end: Node, chunk: bytes, start: int, state: ScanState, found: list[Violation]
    ) -> None:
        """Append ``chunk`` (a JSON array of the turns from ``start`` to ``end``) and mark it."""
        data = self.data
        assert type(data) is bytearray  # made so by cut()
        if data:
            data += b","
        data += memoryview(chunk)[1:-1]
        self.found.extend((start, v) for v in found)
        self.nodes.append(end)
        self.ends.append(len(data))
        self.states.append(state)


class Segment:
    """The JSON and rule scan of one chunk of turns ending at a checkpoint node.

    ``data`` holds the chunk's messages, comma-separated; ``flagged`` says
    whether this chunk or any before it found a violation.
    """

    __slots__ = ("data", "flagged", "found", "parent", "state", "tip", "turns")

    flagged: bool

    def __init__(
        self,
        parent: Segment | None,
        turns: int,
        data: bytes,
        state: ScanState,
        found: tuple[Violation, ...],
    ) -> None:
        self.parent = parent
        self.turns = turns
        self.data = data
        self.state = state
        self.found = found
        self.flagged = bool(found) or (parent is not None and parent.flagged)
        self.tip = Tip()

    @classmethod
    def after(cls, parent: Segment, tip: Tip, state: ScanState) -> Segment:
        """The segment following ``parent`` whose chunk is all of ``tip`` (a full chunk).

        The tip keeps its marks for sibling branches, sharing the segment's bytes.
        """
        data = bytes(tip.data)
        tip.data = data
        return cls(parent, parent.turns + CHUNK, data, state, tuple(v for _, v in tip.found))


class Encoded(NamedTuple):
    """A body holding the messages of one head, and what the rules found in them."""

    body: bytes
    state: ScanState
    violations: list[Violation]


Encoder = Callable[[list["Node"], int, ScanState], tuple[bytes, ScanState, list[Violation]]]
"""Encodes and scans a run of nodes: (their JSON array, the scan state after, violations)."""


def _encode_turns(
    turns: list[Node], start: int, state: ScanState
) -> tuple[bytes, ScanState, list[Violation]]:
    """The JSON array of ``turns`` (the first is turn ``start``) and their rule scan."""
    state, found = scan(turns, start, state)
    return encode_messages(turns, start), state, found


class Ledger:
    """What the branches of one chain share: a lock, and work done along them.

    ``encoder`` is the function that encodes new turns; tests replace it to
    count the turns encoded.
    """

    __slots__ = ("chain", "encoder", "lock", "nodes", "pieces", "root")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.nodes: list[Node] = []
        self.root = Segment(None, 0, b"", INITIAL, ())
        # The segments from the root to the one sent last, and their data with commas between.
        self.chain: list[Segment] = []
        self.pieces: list[bytes] = []
        self.encoder: Encoder = _encode_turns

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

    def adopt(self, nodes: list[Node]) -> None:
        """Take a freshly built path (the chain was read in order, e.g. by ``loads``)."""
        with self.lock:
            self.nodes = nodes

    def node_at(self, head: Node, index: int) -> Node:
        with self.lock:
            self._align(head)
            return self.nodes[index]

    def path(self, head: Node) -> list[Node]:
        """The nodes from the root to ``head``, as a new list."""
        with self.lock:
            self._align(head)
            return self.nodes[: head.length]

    def iter_turns(self, head: Node) -> Iterator[Turn]:
        for node in self.path(head):
            yield node.turn

    # -- encoding and rules -------------------------------------------------------------

    def encode(self, head: Node, front: bytes, back: bytes) -> Encoded:
        """``front`` + the JSON of the messages up to ``head`` + ``back``, and their scan.

        The messages are written comma-separated without brackets, so the caller
        frames them; the whole body is joined once, here.
        """
        with self.lock:
            segment, todo = _nearest_segment(head, self.root)
            base = segment.turns
            tip = segment.tip
            mark = tip.reach(todo, base)
            if mark:
                count, state = tip.nodes[mark - 1].length, tip.states[mark - 1]
            else:
                count, state = base, segment.state
            target = head.length
            if count < target:
                tip.cut(mark)
                while count < target:
                    stop = min(target, (count // CHUNK + 1) * CHUNK)
                    chunk, state, found = self.encoder(
                        todo[count - base : stop - base], count, state
                    )
                    end = todo[stop - base - 1]
                    tip.add(end, chunk, count, state, found)
                    count = stop
                    if stop % CHUNK == 0:
                        segment = Segment.after(segment, tip, state)
                        memo(end).segment = segment
                        tip = segment.tip
                mark = len(tip.nodes)
            self._reach(segment)
            k = segment.turns // CHUNK
            parts: list[bytes | bytearray] = [front, *self.pieces[: max(0, 2 * k - 1)]]
            found_all = [v for s in self.chain[:k] for v in s.found] if segment.flagged else []
            if mark:
                if k:
                    parts.append(b",")
                size = tip.ends[mark - 1]
                parts.append(tip.data if size == len(tip.data) else tip.data[:size])
                found_all += [v for i, v in tip.found if i < count]
            parts.append(back)
            body = b"".join(parts)
        return Encoded(body, state, found_all)

    def _reach(self, segment: Segment) -> None:
        """Make ``chain`` start with the segments up to ``segment`` (lock held)."""
        chain = self.chain
        k = segment.turns // CHUNK
        if k == 0 or (k <= len(chain) and chain[k - 1] is segment):
            return
        fresh: list[Segment] = []
        size = len(chain)
        node: Segment | None = segment
        while node is not None and node.turns:
            k = node.turns // CHUNK
            if k <= size and chain[k - 1] is node:
                break
            fresh.append(node)
            node = node.parent
        keep = 0 if node is None else node.turns // CHUNK
        del chain[keep:], self.pieces[max(0, 2 * keep - 1) :]
        fresh.reverse()
        chain.extend(fresh)
        pieces = self.pieces
        for segment in fresh:
            if pieces:
                pieces.append(b",")
            pieces.append(segment.data)


def _nearest_segment(head: Node, root: Segment) -> tuple[Segment, list[Node]]:
    """The segment nearest before or at ``head``, and the nodes after it up to ``head``."""
    todo: list[Node] = []
    node: Node | None = head
    while node is not None:
        if not node.length % CHUNK:
            learnt = known(node)
            segment = None if learnt is None else learnt.segment
            if segment is not None:
                todo.reverse()
                return segment, todo
        todo.append(node)
        node = node.parent
    todo.reverse()
    return root, todo


def chain_equal(a: Node | None, b: Node | None) -> bool:
    """True when two chains hold equal turns; stops early at a shared node."""
    if a is None or b is None:
        return a is b
    if a.length != b.length:
        return False
    while a is not None and b is not None:
        if a is b:
            return True
        memo_a, memo_b = known(a), known(b)
        if (
            memo_a is not None
            and memo_b is not None
            and memo_a.hash is not None
            and memo_b.hash is not None
            and memo_a.hash != memo_b.hash
        ):
            return False
        # the role is the provenance's (None for a user turn), compared with it
        if a.content != b.content or a.provenance != b.provenance:
            return False
        a, b = a.parent, b.parent
    return a is b


def chain_hash(head: Node | None) -> int:
    """A hash of the turns of a chain, cached on each node (computed iteratively)."""
    if head is None:
        return 0
    todo: list[Node] = []
    node: Node | None = head
    value = 0
    while node is not None:
        learnt = known(node)
        if learnt is not None and learnt.hash is not None:
            value = learnt.hash
            break
        todo.append(node)
        node = node.parent
    for node in reversed(todo):
        value = hash((value, node.content, node.provenance))  # the role goes with provenance
        memo(node).hash = value
    return value
