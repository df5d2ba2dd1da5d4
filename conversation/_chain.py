"""The persistent chain of turns, kept in runs, and the ledger that remembers work done on it.

A conversation's turns live in :class:`Run` objects. A run holds consecutive
turns from turn ``base`` on, up to the next multiple of :data:`CHUNK` (its
``end``), and points at the run holding the turn before its first. A
conversation is a run and a length: its turns are the first ones of the run,
after those of its ancestors up to where it begins. Appending at the end of a
run writes two list slots; a turn appended where another branch went on, or at
a run's end, starts a new run of its own after it. So appending is O(1), no
turn is ever copied, every branch shares all turns it grew from, and a turn
costs the cyclic garbage collector nothing of its own: it visits two objects
per run, not one per turn.

A run's list only ever grows: the turns a conversation holds never change
once written. Appending claims the next slots by writing them and reading them
back, so two threads appending to one conversation at once cannot both take
one place with different turns (the one that loses starts a run of its own).
The price: a conversation keeps its whole run alive, so one kept while a
longer one grown from it is dropped (a template, say) keeps the turns written
after it up to its run's end, fewer than :data:`CHUNK`; later branches from it
start runs of their own and go when they go.

Work done on a chain is kept where branches can share it. The run holding the
last turn of each :data:`CHUNK` of turns that was serialized holds a
:class:`Segment`: the JSON of that chunk, the rule-scan state after it, and a
link to the segment before it, so the segments form a tree shaped like the
chain and any head finds its nearest encoded chunk less than a chunk away.
Each segment also keeps a :class:`Tip`, the turns encoded past it the last
time a head beyond it was sent, so a branch sent again after one more turn
encodes that turn only, however many branches are sent in between. Encoded
work lives on the runs it describes, so its memory is O(distinct turns) and
goes when they do. All runs of one chain share a :class:`Ledger`: a lock, the
segments of the head sent last (to join a body without walking), and the runs
on the path read last, for indexing.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from ._blocks import Text
from ._json import EMPTY, FrozenDict
from ._provenance import Provenance
from ._rules import INITIAL, ScanState, scan
from ._turn import Stored as Content
from ._turn import Turn, turn_of
from ._wire import encode_messages
from .errors import Violation

__all__ = [
    "CHUNK",
    "NO_HEADER",
    "Content",
    "Header",
    "Ledger",
    "Run",
    "append",
    "build",
    "chain_equal",
    "chain_hash",
    "known",
    "make_turn_at",
    "memo",
    "pieces",
    "prefix_run",
    "turn_at",
    "turns_after",
]

CHUNK = 64
"""The most turns a run holds, and the spacing of segments and checkpoints."""


class Header:
    """What a conversation holds besides turns: its system prompt and metadata."""

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
"""No system prompt, no metadata: the header of a conversation made without one."""


class Run:
    """Consecutive turns of a chain from turn ``base`` on, up to turn ``end`` (excluded).

    ``items`` holds each turn's content then its provenance: a user turn has
    none, an assistant turn always has one (:data:`SYNTHETIC` at least), so the
    role is not stored; one list, so that the collector has one object to visit
    for all of them. ``end`` is the multiple of :data:`CHUNK` after ``base``:
    no run spans two chunks. ``parent`` holds turn ``base - 1`` (None for a
    chain's first run); ``ledger`` is the chain's; ``memo`` is what was learnt
    of its turns, made on first use (see :func:`memo`).
    """

    __slots__ = ("base", "end", "items", "ledger", "memo", "parent")

    memo: Memo

    def __init__(self, base: int, parent: Run | None, ledger: Ledger, items: list[Any]) -> None:
        self.base = base
        self.end = base - base % CHUNK + CHUNK
        self.parent = parent
        self.ledger = ledger
        self.items = items

    def contents(self, low: int, high: int) -> list[Content]:
        """The contents of turns ``low`` to ``high - 1`` (turn indexes of the chain)."""
        base = self.base
        return self.items[2 * (low - base) : 2 * (high - base) : 2]

    def provenances(self, low: int, high: int) -> list[Provenance | None]:
        """The provenances of turns ``low`` to ``high - 1`` (None for a user turn)."""
        base = self.base
        return self.items[2 * (low - base) + 1 : 2 * (high - base) : 2]


def append(run: Run | None, length: int, content: Content, provenance: Provenance | None) -> Run:
    """The run holding a turn appended after the first ``length`` turns ending in ``run``.

    ``run`` holds turn ``length - 1`` (None starts a new chain with its own
    ledger). The turn is the user's when ``provenance`` is None, else the
    assistant's; ``content`` must be canonical (see ``_turn.canonical``).
    Conversation's ``user`` and ``assistant`` inline this.
    """
    if run is None:
        return Run(0, None, Ledger(), [content, provenance])
    at = 2 * (length - run.base)
    items = run.items
    if len(items) == at and length < run.end:
        items += (content, provenance)  # one call: another thread's turn goes before or after
        if items[at] is content and items[at + 1] is provenance:
            return run
    return Run(length, run, run.ledger, [content, provenance])


def build(contents: Sequence[Content], provenances: Sequence[Provenance | None]) -> Run | None:
    """The runs of a new chain holding these turns in order, their path known to the ledger."""
    if not contents:
        return None
    ledger = Ledger()
    run = None
    for base in range(0, len(contents), CHUNK):
        items: list[Any] = [None] * (2 * len(contents[base : base + CHUNK]))
        items[0::2] = contents[base : base + CHUNK]
        items[1::2] = provenances[base : base + CHUNK]
        run = Run(base, run, ledger, items)
        ledger.runs.append(run)
        ledger.bases.append(base)
    return run


def turn_at(run: Run, index: int) -> tuple[Content, Provenance | None]:
    """The content and provenance of turn ``index`` on the path to ``run``: ``index`` must
    be below the turns of ``run`` on that path (slots past them are another branch's)."""
    if index < run.base:
        run = run.ledger.run_at(run, index)
    at = 2 * (index - run.base)
    return run.items[at], run.items[at + 1]


def make_turn_at(run: Run, index: int) -> Turn:
    """Turn ``index`` on the path to ``run`` as a Turn value."""
    return turn_of(*turn_at(run, index))


def prefix_run(run: Run, length: int) -> Run | None:
    """The run holding the last of the first ``length`` turns on the path to ``run``."""
    if length > run.base:
        return run
    if length <= 0:
        return None
    parent = run.parent
    if parent is not None and length > parent.base:
        return parent
    return run.ledger.run_at(run, length - 1)


def pieces(run: Run, length: int, start: int = 0) -> list[tuple[Run, int, int]]:
    """The runs on the path to ``run`` holding turns ``start`` to ``length - 1``, oldest
    first, each with the turns of it on the path: ``(run, low, high)``."""
    found: list[tuple[Run, int, int]] = []
    node: Run | None = run
    high = length
    while node is not None and high > start:
        low = max(node.base, start)
        found.append((node, low, high))
        high = node.base
        node = node.parent
    found.reverse()
    return found


def turns_after(run: Run | None, length: int, start: int) -> tuple[Turn, ...]:
    """Turns ``start`` to ``length - 1`` of ``run``'s chain as Turn values: costs those turns."""
    if run is None:
        return ()
    return tuple(
        turn_of(content, provenance)
        for each, low, high in pieces(run, length, start)
        for content, provenance in zip(
            each.contents(low, high), each.provenances(low, high), strict=True
        )
    )


class Memo:
    """What was learnt of a run's turns: chain hashes, content-id states, its segment.

    Kept off the run in one object made on first use. ``hashes[i]`` is the
    hash of the turns up to ``base + i``; ``idents`` maps an offset to the
    content id's cache there (owned by ``_ids``); ``segment`` is set once the
    chunk of turns ending at ``end``, this run's last, was encoded.
    """

    __slots__ = ("hashes", "idents", "segment")

    def __init__(self) -> None:
        self.hashes: list[int] = []
        self.idents: dict[int, Any] = {}
        self.segment: Segment | None = None


def memo(run: Run) -> Memo:
    """``run``'s :class:`Memo`, made on first use: call with the ledger's lock held, so
    that two threads never make one each (the second would drop what the first kept)."""
    try:
        return run.memo
    except AttributeError:
        made = run.memo = Memo()
        return made


def known(run: Run) -> Memo | None:
    """``run``'s :class:`Memo` if anything was learnt of it yet, else None."""
    return getattr(run, "memo", None)


class Tip:
    """Turns encoded past a segment, in the chunk after it, with a mark after each batch.

    Mark ``i`` says: after the first ``lengths[i]`` turns of the chain, the
    last of them in ``runs[i]``, the JSON ends at ``ends[i]`` and the rules are
    ``states[i]``. A head whose path goes through that turn of that run reuses
    the JSON up to it. ``found`` holds (turn index, violation). Read and
    changed only under the ledger's lock.
    """

    __slots__ = ("data", "ends", "found", "lengths", "runs", "states")

    def __init__(self) -> None:
        self.runs: list[Run] = []
        self.lengths: list[int] = []
        self.ends: list[int] = []
        self.states: list[ScanState] = []
        # Shares its segment's bytes once full, until it is cut to grow another way.
        self.data: bytes | bytearray = bytearray()
        self.found: list[tuple[int, Violation]] = []

    def reach(self, path: dict[int, int]) -> int:
        """How many marks lie on a path given as ``{id(run): turns of it on the path}``.

        The marks lie on one path, so when one is on the head's, all before it are.
        """
        runs, lengths = self.runs, self.lengths
        for i in range(len(runs) - 1, -1, -1):
            if path.get(id(runs[i]), 0) >= lengths[i]:
                return i + 1
        return 0

    def cut(self, keep: int) -> None:
        """Keep the first ``keep`` marks (the rest lie on another branch), ready to grow."""
        if keep < len(self.lengths):
            del self.runs[keep:], self.lengths[keep:], self.ends[keep:], self.states[keep:]
            turns = self.lengths[-1] if keep else 0
            self.found = [(i, v) for i, v in self.found if i < turns]
            self.data = bytearray(self.data[: self.ends[-1] if keep else 0])
        elif type(self.data) is bytes:
            self.data = bytearray(self.data)

    def add(
        self,
        run: Run,
        length: int,
        chunk: bytes,
        start: int,
        state: ScanState,
        found: list[Violation],
    ) -> None:
        """Append ``chunk`` (a JSON array of turns ``start`` to ``length - 1``) and mark it."""
        data = self.data
        assert type(data) is bytearray  # made so by cut()
        if data:
            data += b","
        data += memoryview(chunk)[1:-1]
        self.found.extend((start, v) for v in found)
        self.runs.append(run)
        self.lengths.append(length)
        self.ends.append(len(data))
        self.states.append(state)


class Segment:
    """The JSON and rule scan of one chunk of turns, the last of those before ``turns``.

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


Encoder = Callable[
    [list[Content], list["Provenance | None"], int, ScanState],
    tuple[bytes, ScanState, list[Violation]],
]
"""Encodes and scans a run of turns given as their contents and provenances:
(their JSON array, the scan state after, violations)."""


def _encode_turns(
    contents: list[Content], provenances: list[Provenance | None], start: int, state: ScanState
) -> tuple[bytes, ScanState, list[Violation]]:
    """The JSON array of some turns (the first is turn ``start``) and their rule scan."""
    state, found = scan(contents, provenances, start, state)
    return encode_messages(contents, provenances, start), state, found


class Ledger:
    """What the branches of one chain share: a lock, and work done along them.

    ``encoder`` is the function that encodes new turns; tests replace it to
    count the turns encoded.
    """

    __slots__ = ("bases", "chain", "encoder", "lock", "pieces", "root", "runs")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # The runs on the path read last, oldest first, and where each begins.
        self.runs: list[Run] = []
        self.bases: list[int] = []
        self.root = Segment(None, 0, b"", INITIAL, ())
        # The segments from the root to the one sent last, and their data with commas between.
        self.chain: list[Segment] = []
        self.pieces: list[bytes] = []
        self.encoder: Encoder = _encode_turns

    # -- the path ---------------------------------------------------------------------

    def _align(self, run: Run) -> int:
        """Make the path hold ``run`` and its ancestors; return its index (lock held).

        Invariant: each run on the path is the parent of the next. Only this
        method (under the lock) and :func:`build` (on a chain nobody else holds
        yet) change the path; appends never touch it.
        """
        runs, bases = self.runs, self.bases
        fresh: list[Run] = []
        node: Run | None = run
        keep = 0
        while node is not None:
            i = bisect_left(bases, node.base)
            if i < len(runs) and runs[i] is node:
                keep = i + 1
                break
            fresh.append(node)
            node = node.parent
        if not fresh:  # ``run`` was on the path already, at ``keep - 1``
            return keep - 1
        del runs[keep:], bases[keep:]
        fresh.reverse()
        runs.extend(fresh)
        bases.extend(each.base for each in fresh)
        return len(runs) - 1

    def run_at(self, run: Run, index: int) -> Run:
        """The run holding turn ``index`` (before ``run``'s first) on the path to ``run``."""
        with self.lock:
            self._align(run)
            return self.runs[bisect_right(self.bases, index) - 1]

    def path(self, run: Run, length: int) -> tuple[list[Content], list[Provenance | None]]:
        """The contents and provenances of the first ``length`` turns of ``run``'s chain."""
        with self.lock:
            at = self._align(run)
            runs = self.runs[: at + 1]
            bases = self.bases[1 : at + 1]
        items: list[Any] = []
        for each, stop in zip(runs, [*bases, length], strict=True):
            items += each.items[: 2 * (stop - each.base)]
        return items[0::2], items[1::2]

    def iter_turns(self, run: Run, length: int) -> Iterator[Turn]:
        """The first ``length`` turns of ``run``'s chain as Turn values, oldest first."""
        contents, provenances = self.path(run, length)
        for content, provenance in zip(contents, provenances, strict=True):
            yield turn_of(content, provenance)

    # -- encoding and rules -------------------------------------------------------------

    def encode(self, run: Run, length: int, front: bytes, back: bytes) -> Encoded:
        """``front`` + the JSON of the first ``length`` messages + ``back``, and their scan.

        The messages are written comma-separated without brackets, so the caller
        frames them; the whole body is joined once, here.
        """
        with self.lock:
            segment, todo = _nearest_segment(run, length, self.root)
            base = segment.turns
            tip = segment.tip
            mark = tip.reach({id(each): high for each, _, high in todo[:CHUNK]})
            if mark:
                count, state = tip.lengths[mark - 1], tip.states[mark - 1]
            else:
                count, state = base, segment.state
            if count < length:
                tip.cut(mark)
                for each, low, high in todo:
                    if high <= count:
                        continue
                    low = max(low, count)
                    chunk, state, found = self.encoder(
                        each.contents(low, high), each.provenances(low, high), low, state
                    )
                    tip.add(each, high, chunk, low, state, found)
                    count = high
                    if high % CHUNK == 0:
                        segment = Segment.after(segment, tip, state)
                        memo(each).segment = segment
                        tip = segment.tip
                mark = len(tip.lengths)
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


def _nearest_segment(
    run: Run, length: int, root: Segment
) -> tuple[Segment, list[tuple[Run, int, int]]]:
    """The segment nearest before or at turn ``length``, and the path's pieces after it
    (as :func:`pieces` gives them)."""
    todo: list[tuple[Run, int, int]] = []
    node: Run | None = run
    high = length
    while node is not None:
        if high == node.end:
            learnt = known(node)
            segment = None if learnt is None else learnt.segment
            if segment is not None:
                todo.reverse()
                return segment, todo
        todo.append((node, node.base, high))
        high = node.base
        node = node.parent
    todo.reverse()
    return root, todo


def chain_equal(a: Run | None, b: Run | None, length: int) -> bool:
    """True when the first ``length`` turns of two chains are equal; stops at a shared run."""
    if a is None or b is None:
        return a is b
    memo_a, memo_b = known(a), known(b)
    at_a, at_b = length - a.base, length - b.base
    if (
        memo_a is not None
        and memo_b is not None
        and len(memo_a.hashes) >= at_a
        and len(memo_b.hashes) >= at_b
        and memo_a.hashes[at_a - 1] != memo_b.hashes[at_b - 1]
    ):
        return False
    high = length  # turns from ``high`` on are equal
    while a is not None and b is not None:
        if a is b:
            return True  # the same run, up to the same turn: all before it is shared
        low = max(a.base, b.base)
        # the role is the provenance's (None for a user turn), compared with it
        if (
            a.items[2 * (low - a.base) : 2 * (high - a.base)]
            != (b.items[2 * (low - b.base) : 2 * (high - b.base)])
        ):
            return False
        high = low
        if a.base == low:
            a = a.parent
        if b.base == low:
            b = b.parent
    return a is b


def chain_hash(run: Run | None, length: int) -> int:
    """A hash of the first ``length`` turns of a chain, cached per run (computed iteratively)."""
    if run is None:
        return 0
    with run.ledger.lock:  # the runs' lists of hashes grow in order
        todo: list[tuple[Run, int]] = []
        node: Run | None = run
        high = length
        value = 0
        while node is not None:
            learnt = known(node)
            if learnt is not None and len(learnt.hashes) >= high - node.base:
                value = learnt.hashes[high - node.base - 1]
                break
            todo.append((node, high))
            high = node.base
            node = node.parent
        for each, high in reversed(todo):
            hashes = memo(each).hashes
            if hashes:
                value = hashes[-1]
            items = each.items
            for i in range(len(hashes), high - each.base):
                value = hash((value, items[2 * i], items[2 * i + 1]))  # role with provenance
                hashes.append(value)
        return value
