"""Tests for the persistent chain: shared prefixes, memory, and concurrent use of one ledger."""

from __future__ import annotations

import gc
import random
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversation import Conversation, ToolResult, ToolUse
from conversation._chain import CHUNK, Node

THREADS = 8


def alternating(count: int, tag: str = "") -> list[tuple[str, str]]:
    """``count`` alternating user/assistant text turns as (role, text), user first."""
    return [("user" if i % 2 == 0 else "assistant", f"{tag}turn {i:06d}") for i in range(count)]


def build(spec: list[tuple[str, str]], base: Conversation | None = None) -> Conversation:
    """``spec`` appended to ``base`` (a fresh Conversation by default)."""
    c = Conversation() if base is None else base
    for role, content in spec:
        c = c.user(content) if role == "user" else c.assistant(content)
    return c


def body_of(spec: list[tuple[str, str]], **options: Any) -> bytes:
    """The request body of ``spec``, written without the library."""
    return orjson.dumps({**options, "messages": [{"role": r, "content": c} for r, c in spec]})


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Make the interpreter switch threads as often as it can, to expose races."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


class TestSharing:
    def test_branch_shares_prefix(self) -> None:
        """c2[:k] is c itself again: the same chain nodes, equal by value."""
        c = build(alternating(300))
        c2 = c.user("one more").assistant("and another")
        prefix = c2[: len(c)]
        assert prefix == c
        assert hash(prefix) == hash(c)
        assert all(a == b for a, b in zip(prefix, c, strict=True))
        assert prefix._head is c._head

    def test_append_does_not_copy(self) -> None:
        """Every turn of a branch before its last is the very node of the parent."""
        c = build(alternating(130))
        branches = [c.user(f"b{i}") for i in range(5)]
        for b in branches:
            assert len(b) == 131
            assert b._head.parent is c._head  # type: ignore[union-attr]
            assert b[:1]._head is c[:1]._head
            assert b[129] == c[129]
            assert b[:130] == c

    def test_other_header_shares_all_but_the_last_node(self) -> None:
        """Another system prompt or metadata makes a twin of the last node only: it keeps
        what was learnt of the turns (id, hash), and turns appended after it, and
        prefixes of it, keep the new header."""
        c = build(alternating(130))
        ident, value = c.id, hash(c)
        s = c.with_system("Be brief.").with_metadata(title="t")
        assert s._head is not c._head
        assert s._head.parent is c._head.parent  # type: ignore[union-attr]
        assert s._head.memo is c._head.memo  # type: ignore[union-attr]
        memo = s._head.memo  # type: ignore[union-attr]
        assert memo.ident is not None
        assert memo.hash is not None
        assert s.with_system(None).id == ident  # metadata takes no part in the id
        assert hash(s.with_system(None)) != value  # but in the hash, as in ==
        longer = s.user("one more")
        assert longer.system == "Be brief."
        assert longer.metadata == {"title": "t"}
        for prefix in (longer[:1], longer[:129], longer[:130]):
            assert prefix.system == "Be brief."
            assert prefix.metadata == {"title": "t"}
        assert longer[:130] == s
        assert c[:129] != s[:129]
        assert c[:129].id == s.with_system(None)[:129].id != s[:129].id

    def test_prefix_of_prefix(self) -> None:
        """Prefixes nest: c[:k][:j] == c[:j], and extending a prefix forks a new branch."""
        c = build(alternating(200))
        assert c[:150][:70] == c[:70]
        fork = c[:70].user("fork")
        assert fork[:70] == c[:70]
        assert fork[70].content == "fork"
        assert c[70].content == "turn 000070"
        assert len(c) == 200

    def test_thousand_branches_cost_less_than_history(self) -> None:
        """1,000 one-turn branches off a 2,000-turn history cost < 1.5x that history."""
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            history = build(alternating(2_000))
            gc.collect()
            after_history = tracemalloc.get_traced_memory()[0]
            branches = [history.user(f"branch turn {i:06d}") for i in range(1_000)]
            gc.collect()
            after_branches = tracemalloc.get_traced_memory()[0]
            for branch in branches:
                assert branch.to_json()
            gc.collect()
            after_sending = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        history_cost = after_history - start
        branches_cost = after_branches - after_history
        assert branches_cost < 1.5 * history_cost
        # Sending every branch keeps one encoded path, not a thousand.
        assert after_sending - after_branches < 0.5 * history_cost
        assert len(branches) == 1_000
        assert branches[-1][:2_000] == history


Record = list[tuple[Conversation, list[tuple[str, str]], bytes]]


def run_threads(worker: Callable[..., None], *shared: Any) -> list[Record]:
    """Run ``worker(tid, *shared, barrier, record)`` on THREADS threads; their records.

    The first error of any thread aborts the barrier and fails the test.
    """
    barrier = threading.Barrier(THREADS)
    records: list[Record] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def run(tid: int) -> None:
        try:
            worker(tid, *shared, barrier, records[tid])
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=run, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return records


def _worker(
    tid: int,
    base: Conversation,
    base_spec: list[tuple[str, str]],
    barrier: threading.Barrier,
    record: Record,
) -> None:
    """Extend, branch and serialize one thread's own branches of ``base``."""
    rng = random.Random(tid)
    k = rng.choice([CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, rng.randrange(len(base_spec))])
    c, spec = base[:k], base_spec[:k]
    barrier.wait()
    for step in range(80):
        role = "assistant" if spec and spec[-1][0] == "user" else "user"
        content = f"thread {tid} step {step}"
        c = c.user(content) if role == "user" else c.assistant(content)
        spec = [*spec, (role, content)]
        action = rng.random()
        if action < 0.35:
            record.append((c, spec, c.to_json(model="m")))
        elif action < 0.5:
            j = rng.choice([CHUNK, 2 * CHUNK, rng.randrange(len(base_spec) + 1)])
            prefix = base[:j]
            record.append((prefix, base_spec[:j], prefix.to_json(model="m")))
        elif action < 0.6:
            j = rng.randrange(len(spec))
            c, spec = c[: j + 1], spec[: j + 1]
        elif action < 0.7:
            i = rng.randrange(len(spec))
            if c[i].content != spec[i][1]:
                raise AssertionError(f"thread {tid}: c[{i}] is {c[i].content!r}")
    record.append((c, spec, c.to_json(model="m")))


@pytest.mark.usefixtures("fast_switching")
def test_threads_extend_and_serialize_shared_conversation() -> None:
    """Threads extending and serializing branches of one conversation get exact bodies."""
    for round_ in range(8):
        base_spec = alternating(3 * CHUNK + 10, f"r{round_} ")
        base = build(base_spec)
        base.to_json(model="m")
        records = run_threads(_worker, base, base_spec)
        assert all(records)
        for record in records:
            for c, spec, got in record:
                assert got == body_of(spec, model="m")
                assert got == build(spec).to_json(model="m")
                assert c == build(spec)
                # The conversation itself still serializes as its own branch afterwards.
                assert c.to_json(model="m") == got


@pytest.mark.parametrize("moment", ["after_check", "before_append"])
def test_append_racing_an_alignment_keeps_its_own_path(moment: str) -> None:
    """An append preempted while it extends the ledger's path still sees its own prefix.

    Forces the interleaving deterministically: if the append reads or extends
    the ledger's path, another thread realigns the ledger to a sibling branch
    of the same length right after the read, or right before the append. (A
    thread that has to wait for the ledger's lock is given up on after a
    moment and joined later.)
    """
    c = Conversation().user("u0")
    p = c.assistant("P")
    q = c.assistant("Q")
    ledger = p._head.lineage.ledger  # type: ignore[union-attr]
    others: list[threading.Thread] = []

    def other_thread() -> None:
        thread = threading.Thread(target=q.to_json, kwargs={"model": "m"})
        others.append(thread)
        thread.start()
        thread.join(timeout=0.2)

    class Preempted(list):  # type: ignore[type-arg]
        def __getitem__(self, index: Any) -> Any:
            value = super().__getitem__(index)
            if moment == "after_check" and index == -1 and not others:
                other_thread()
            return value

        def append(self, node: Any) -> None:
            if moment == "before_append" and not others:
                other_thread()
            super().append(node)

    ledger.nodes = Preempted(ledger.nodes)
    n = p.user("N")  # (an append that never touches the path cannot race at all)
    for thread in others:
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert [t.content for t in n] == ["u0", "P", "N"]
    assert n.to_payload(model="m")["messages"][1] == {"role": "assistant", "content": "P"}
    assert q.to_payload(model="m")["messages"][1] == {"role": "assistant", "content": "Q"}
    assert [t.content for t in n] == ["u0", "P", "N"]


# --- switching between branches: the segment tree --------------------------------------


Branch = tuple[Conversation, list[tuple[str, str]]]


def next_turn(spec: list[tuple[str, str]], text: str) -> tuple[str, str]:
    """The turn after ``spec`` that keeps the roles alternating."""
    return ("assistant" if spec and spec[-1][0] == "user" else "user", text)


def grow(c: Conversation, spec: list[tuple[str, str]], count: int, tag: str) -> Branch:
    """``c`` (whose turns are ``spec``) with ``count`` more alternating turns."""
    for i in range(count):
        role, text = next_turn(spec, f"{tag} {i}")
        c = c.user(text) if role == "user" else c.assistant(text)
        spec = [*spec, (role, text)]
    return c, spec


def count_encoded(c: Conversation) -> list[Any]:
    """Record every node the ledger of ``c`` encodes from now on, in order."""
    ledger = c._head.lineage.ledger  # type: ignore[union-attr]
    encoded: list[Any] = []
    encode = ledger.encoder

    def counting(nodes: list[Any], start: int, state: Any) -> Any:
        encoded.extend(nodes)
        return encode(nodes, start, state)

    ledger.encoder = counting
    return encoded


def check_sent(c: Conversation, spec: list[tuple[str, str]]) -> None:
    """``c`` writes the body and finds the violations that a fresh rebuild of it does."""
    fresh = build(spec)
    found = fresh.violations(model="m")
    assert c.violations(model="m") == found
    if not found:
        assert c.to_json(model="m") == body_of(spec, model="m")
        assert c.to_json(model="m") == orjson.dumps(fresh.to_payload(model="m"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_branch_trees_match_fresh_rebuilds(data: st.DataObject) -> None:
    """Trees of long and short branches, sent in any order, give each branch's own body.

    Each turn may break a rule (a blank user turn, or a prefill ending in a space
    when it is last), so violations found through shared segments are checked too.
    """
    root = data.draw(st.integers(0, 3 * CHUNK + 2), label="root length")
    heads: list[Branch] = [grow(Conversation(), [], root, "root")]
    for step in range(data.draw(st.integers(1, 25), label="steps")):
        c, spec = heads[data.draw(st.integers(0, len(heads) - 1), label="head")]
        op = data.draw(st.sampled_from(["grow", "grow", "odd", "fork", "send", "send"]))
        if op == "grow":
            count = data.draw(st.sampled_from([1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3]))
            heads.append(grow(c, spec, count, f"s{step}"))
        elif op == "odd":
            role, _ = next_turn(spec, "")
            text = " " if role == "user" else f"s{step} "
            odd = c.user(text) if role == "user" else c.assistant(text)
            heads.append((odd, [*spec, (role, text)]))
        elif op == "fork":
            k = data.draw(st.integers(0, len(spec)), label="k")
            heads.append((c[:k], spec[:k]))
        elif c._head is not None:
            check_sent(c, spec)
    order = data.draw(st.permutations(range(len(heads))), label="order")
    for i in [*order, *order]:
        c, spec = heads[i]
        if c._head is not None:
            check_sent(c, spec)


def test_round_robin_encodes_only_new_turns() -> None:
    """Branches with long tails sent in turn, one more turn each, encode just that turn."""
    trunk = grow(Conversation(), [], 2 * CHUNK + 3, "trunk")
    branches = [grow(*trunk, 3 * CHUNK + 5 + b, f"b{b}") for b in range(8)]
    for c, spec in branches:
        check_sent(c, spec)
    encoded = count_encoded(trunk[0])
    for round_ in range(CHUNK + 2):  # every branch crosses a checkpoint on the way
        for b, (c, spec) in enumerate(branches):
            c, spec = grow(c, spec, 1, f"r{round_}")
            before = len(encoded)
            assert c.to_json(model="m") == body_of(spec, model="m")
            assert encoded[before:] == [c._head]
            branches[b] = c, spec
    assert len(encoded) == 8 * (CHUNK + 2)


def test_sibling_appends_encode_one_turn_each() -> None:
    """``b.user(x).to_json()`` after ``b`` was sent encodes x alone, for every branch in turn."""
    trunk = grow(Conversation(), [], CHUNK + 1, "trunk")
    branches = [grow(*trunk, 2 * CHUNK + 7 * b, f"b{b}") for b in range(5)]
    for c, spec in branches:
        check_sent(c, spec)
    encoded = count_encoded(trunk[0])
    for round_ in range(3):
        for c, spec in branches:
            x, x_spec = grow(c, spec, 1, f"x{round_}")
            before = len(encoded)
            assert x.to_json(model="m") == body_of(x_spec, model="m")
            assert encoded[before:] == [x._head]


def test_sending_branches_keeps_memory_of_distinct_turns() -> None:
    """Encoded work for many branches costs about their distinct turns, and stays put."""
    trunk = grow(Conversation(), [], 6 * CHUNK, "trunk")
    branches = [grow(*trunk, 4 * CHUNK + b, f"branch {b}")[0] for b in range(16)]
    distinct = len(trunk[0]) + sum(len(c) - len(trunk[0]) for c in branches)
    turn_bytes = len(body_of(alternating(distinct, "branch 00 ")))
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        for c in branches:
            c.to_json()
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            for c in branches:
                c.to_json()
        gc.collect()
        again = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert first - start < 2.5 * turn_bytes
    assert again - first < 0.02 * turn_bytes


def test_send_waits_for_a_sibling_growing_the_shared_tip() -> None:
    """A send preempted inside the encoder holds the ledger: a sibling sent meanwhile waits.

    Forces the interleaving: while one branch's new turns are being encoded
    (its tip half grown), another thread sends a sibling that shares the same
    segment and tip; it must wait and then get its own body.
    """
    trunk, trunk_spec = grow(Conversation(), [], CHUNK + 5, "trunk")
    p, p_spec = grow(trunk, trunk_spec, 10, "p")
    q, q_spec = grow(trunk, trunk_spec, 12, "q")
    ledger = trunk._head.lineage.ledger  # type: ignore[union-attr]
    encode = ledger.encoder
    others: list[threading.Thread] = []
    bodies: dict[str, bytes] = {}

    def send_q() -> None:
        bodies["q"] = q.to_json(model="m")

    def preempted(nodes: list[Any], start: int, state: Any) -> Any:
        if not others:
            thread = threading.Thread(target=send_q)
            others.append(thread)
            thread.start()
            thread.join(timeout=0.2)
        return encode(nodes, start, state)

    ledger.encoder = preempted
    bodies["p"] = p.to_json(model="m")
    others[0].join(timeout=10)
    assert not others[0].is_alive()
    assert bodies == {"p": body_of(p_spec, model="m"), "q": body_of(q_spec, model="m")}
    check_sent(p, p_spec)
    check_sent(q, q_spec)


def _round_robin_worker(
    tid: int,
    trunk: Branch,
    barrier: threading.Barrier,
    record: Record,
) -> None:
    """Grow three long branches of ``trunk`` and send them in turn."""
    rng = random.Random(tid)
    k = rng.choice([CHUNK - 1, CHUNK, CHUNK + 1, len(trunk[1])])
    mine = [
        grow(trunk[0][:k], trunk[1][:k], rng.randrange(2 * CHUNK), f"t{tid}.{b}") for b in range(3)
    ]
    barrier.wait()
    for step in range(60):
        b = step % 3
        c, spec = grow(*mine[b], rng.choice([1, 1, 2, CHUNK]), f"t{tid} s{step}")
        mine[b] = c, spec
        record.append((c, spec, c.to_json(model="m")))


@pytest.mark.usefixtures("fast_switching")
def test_threads_send_long_branches_in_turn() -> None:
    """Threads growing and sending long branches of one trunk in turn get exact bodies."""
    trunk = grow(Conversation(), [], 2 * CHUNK + 9, "trunk")
    trunk[0].to_json(model="m")
    for record in run_threads(_round_robin_worker, trunk):
        assert len(record) == 60
        for c, spec, got in record:
            assert got == body_of(spec, model="m")
            assert c.to_json(model="m") == got


def test_loaded_chain_is_built_like_an_appended_one() -> None:
    """A loaded chain's nodes share one ledger, count their turns, and are sent as appended."""
    spec = alternating(CHUNK + 5, "saved ")
    call = ToolUse("toolu_1", "get_forecast", {"city": "Paris"})
    saved = build(spec).assistant(call).user(ToolResult("toolu_1", "sunny"))
    loaded = Conversation.loads(saved.dumps())
    assert loaded == saved
    head = loaded._head
    assert head is not None
    ledger, length = head.lineage.ledger, head.length
    node: Node | None = head
    assert length == len(spec) + 2
    while node is not None:
        assert node.lineage.ledger is ledger
        assert node.length == length
        node, length = node.parent, length - 1
    assert length == 0
    encoded = count_encoded(loaded)
    grown = loaded.assistant("after the load")
    assert grown.to_payload(model="m") == saved.assistant("after the load").to_payload(model="m")
    assert len(encoded) == len(spec) + 3
    again = grown.user("once more")
    assert again.to_json(model="m") == orjson.dumps(
        saved.assistant("after the load").user("once more").to_payload(model="m")
    )
    assert encoded[len(spec) + 3 :] == [again._head]
