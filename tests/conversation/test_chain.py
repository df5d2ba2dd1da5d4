"""Tests for the persistent chain: shared prefixes, memory, and concurrent use of one ledger."""

from __future__ import annotations

import gc
import random
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from conversation import Conversation
from conversation._chain import CHUNK

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


def _worker(
    tid: int,
    base: Conversation,
    base_spec: list[tuple[str, str]],
    barrier: threading.Barrier,
    record: list[tuple[Conversation, list[tuple[str, str]], bytes]],
    errors: list[BaseException],
) -> None:
    """Extend, branch and serialize one thread's own branches of ``base``."""
    try:
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
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)
        barrier.abort()


@pytest.mark.usefixtures("fast_switching")
def test_threads_extend_and_serialize_shared_conversation() -> None:
    """Threads extending and serializing branches of one conversation get exact bodies."""
    for round_ in range(8):
        base_spec = alternating(3 * CHUNK + 10, f"r{round_} ")
        base = build(base_spec)
        base.to_json(model="m")
        barrier = threading.Barrier(THREADS)
        records: list[list[tuple[Conversation, list[tuple[str, str]], bytes]]] = [
            [] for _ in range(THREADS)
        ]
        errors: list[BaseException] = []
        threads = [
            threading.Thread(target=_worker, args=(t, base, base_spec, barrier, records[t], errors))
            for t in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
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
    ledger = p._head.ledger  # type: ignore[union-attr]
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
