"""Tests for the persistent chain: shared prefixes, memory, and concurrent use of one ledger."""

from __future__ import annotations

import gc
import random
import sys
import threading
import tracemalloc
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Self

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversation import Conversation, ToolResult, ToolUse
from conversation._chain import CHUNK, Run
from tests.checks import shared_prefix

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


def run_of(c: Conversation) -> Run:
    """The run holding the last turn of ``c`` (which has turns)."""
    run = c._at[0]
    assert run is not None
    return run


def same_turns(a: Conversation, b: Conversation, count: int) -> bool:
    """True when the first ``count`` turns of ``a`` and ``b`` are the very same objects."""
    (ca, pa), (cb, pb) = a._path(), b._path()
    if min(len(ca), len(cb)) < count:
        return False
    contents = zip(ca[:count], cb[:count], strict=True)
    provenances = zip(pa[:count], pb[:count], strict=True)
    return all(x is y for x, y in contents) and all(x is y for x, y in provenances)


class TestSharing:
    def test_branch_shares_prefix(self) -> None:
        """c2[:k] is c itself again: the same run and length, equal by value."""
        c = build(alternating(300))
        c2 = c.user("one more").assistant("and another")
        prefix = c2[: len(c)]
        assert prefix == c
        assert hash(prefix) == hash(c)
        assert all(a == b for a, b in zip(prefix, c, strict=True))
        assert prefix._at == c._at

    def test_append_does_not_copy(self) -> None:
        """A branch's turns before its last are the parent's: its new run holds one turn."""
        c = build(alternating(130))
        branches = [c.user(f"b{i}") for i in range(5)]
        assert run_of(branches[0]) is run_of(c)  # the first goes on in place
        for b in branches[1:]:
            assert len(b) == 131
            assert run_of(b).parent is run_of(c)
            assert run_of(b).items == [f"b{branches.index(b)}", None]
        for b in branches:
            assert b[:1]._at == c[:1]._at
            assert same_turns(b, c, 130)
            assert b[129] == c[129]
            assert b[:130] == c
            assert b[:130]._at[0] is run_of(c)

    def test_other_header_shares_every_turn(self) -> None:
        """Another system prompt or metadata keeps the very runs, and what was learnt of
        the turns (id, hash); turns appended after it, and prefixes of it, keep the new
        header."""
        c = build(alternating(130))
        ident, value = c.id, hash(c)
        s = c.with_system("Be brief.").with_metadata(title="t")
        assert s._at[0] is c._at[0]
        assert s._at[1] == c._at[1]
        memo = run_of(s).memo
        assert memo.idents
        assert memo.hashes
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

    def test_a_kept_conversation_keeps_at_most_the_rest_of_its_run(self) -> None:
        """A template kept while 50 dialogues of 100 turns grown from it are dropped keeps
        alive the first one's turns up to the end of the template's run (fewer than
        CHUNK), and nothing of the others: the later ones start runs of their own."""
        big = 10_000
        template = Conversation(system="s").user("few-shot question").assistant("answer")
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            for dialogue in range(50):
                c = template
                for turn in range(100):
                    text = f"{dialogue} {turn} " + "x" * big
                    c = c.user(text) if turn % 2 == 0 else c.assistant(text)
                del c
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - start
        finally:
            tracemalloc.stop()
        assert kept < CHUNK * (big + 200)  # a run of turns at most, not 50 dialogues
        assert len(run_of(template).items) == 2 * CHUNK  # the first dialogue's turns
        assert [t.content for t in template] == ["few-shot question", "answer"]

    @pytest.mark.parametrize("size", [2_000, 2_000 + CHUNK - 1, 20_000])
    def test_one_turn_branches_cost_a_few_hundred_bytes_each(self, size: int) -> None:
        """1,000 one-turn branches off a history each cost the same few hundred bytes
        (their own text included), however long the history and wherever in a run it
        ends: no turn of it is copied. Sending them all keeps one encoded path."""
        history = build(alternating(size))
        gc.collect()
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            branches = [history.user(f"branch turn {i:06d}") for i in range(1_000)]
            gc.collect()
            after_branches = tracemalloc.get_traced_memory()[0]
            for branch in branches:
                assert branch.to_json()
            gc.collect()
            after_first = tracemalloc.get_traced_memory()[0]
            for branch in branches:
                assert branch.to_json()
            gc.collect()
            after_again = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        per_branch = (after_branches - start) / 1_000
        assert per_branch < 500
        # The encoded path is the history's (its bytes, kept once) and the tip of one branch.
        assert after_first - after_branches < 2 * len(history.to_json()) + 100_000
        assert after_again - after_first < 10_000
        assert all(same_turns(b, history, size) for b in branches[::100])
        assert branches[-1][:size] == history


class TestClaims:
    """Appending claims the next slots of a run by writing them and reading them back."""

    @pytest.mark.parametrize("how", ["assistant", "append"])
    def test_a_turn_written_first_by_another_makes_a_run_of_its_own(self, how: str) -> None:
        """Another append lands between the check and ours: ours starts a new run,
        and the other's turn (which nobody holds) is in no conversation's path.
        (``assistant`` writes in place itself; ``append`` goes through the chain's.)"""
        c = build(alternating(5))
        mine = Conversation().assistant("mine")[0]
        run = run_of(c)

        class Raced(list):  # type: ignore[type-arg]
            def __iadd__(self, turn: Iterable[Any]) -> Self:  # type: ignore[misc]
                super().__iadd__(("intruder", None))  # another thread, first
                return super().__iadd__(turn)

        run.items = Raced(run.items)
        d = c.assistant("mine") if how == "assistant" else c.append(mine)
        assert run_of(d) is not run
        assert run_of(d).parent is run
        assert run_of(d).base == 5
        assert [t.content for t in d] == [*(text for _, text in alternating(5)), "mine"]
        assert d[5].role == "assistant"
        e = c.user("later")  # the slot past the end is taken: this one goes on its own too
        assert [t.content for t in e][-2:] == ["turn 000004", "later"]
        assert d.to_payload()["messages"][-1] == {"role": "assistant", "content": "mine"}

    def test_the_same_text_in_two_roles_is_never_mixed_up(self) -> None:
        """Two appends of one string object, one as the user's and one as the assistant's,
        interleaved slot by slot: each result keeps the role it asked for."""
        c = build(alternating(4))
        run = run_of(c)
        text = "the same object"
        results: list[Conversation] = []

        class Interleaved(list):  # type: ignore[type-arg]
            def __iadd__(self, turn: Iterable[Any]) -> Self:  # type: ignore[misc]
                content, provenance = turn
                if not results:  # the other thread's append, half done before ours
                    results.append(Conversation())
                    super().append(text)
                    super().append(content)  # our content lands where its provenance goes
                    return super().__iadd__((provenance,))
                return super().__iadd__(turn)

        run.items = Interleaved(run.items)
        as_user = c.user(text)
        as_assistant = c.assistant(text)
        assert as_user[-1].role == "user"
        assert as_assistant[-1].role == "assistant"
        assert as_user[-1].content == as_assistant[-1].content == text

    @pytest.mark.usefixtures("fast_switching")
    def test_threads_appending_to_one_conversation_keep_their_own_turns(self) -> None:
        """Eight threads append to the same conversations at once, often the same string
        object in either role: every result ends with the turn its thread appended."""
        base = build(alternating(CHUNK - 3))
        shared = "shared text"
        barrier = threading.Barrier(THREADS)
        failures: list[str] = []

        def work(tid: int) -> None:
            rng = random.Random(tid)
            barrier.wait()
            for step in range(300):
                start = base[: rng.randrange(len(base) + 1)]
                user = rng.random() < 0.5
                text = shared if rng.random() < 0.5 else f"t{tid} s{step}"
                got = start.user(text) if user else start.assistant(text)
                last = got[-1]
                if last.content != text or (last.role == "user") != user or got[:-1] != start:
                    failures.append(f"thread {tid} step {step}: {last.role} {last.content!r}")

        threads = [threading.Thread(target=work, args=(tid,)) for tid in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []


def test_what_two_threads_learn_of_one_run_is_all_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread making a run's memo (for an id) while another hashes the conversation:
    the second waits for the first, so the memo holds both the id's state and the hashes
    (a memo made by each would drop one of them)."""
    from conversation import _chain

    c = build(alternating(5))
    run = run_of(c)
    in_init, release = threading.Event(), threading.Event()
    made = _chain.Memo.__init__

    def slow_init(self: Any) -> None:
        made(self)
        if threading.current_thread().name == "ids":
            in_init.set()
            release.wait(timeout=10)

    monkeypatch.setattr(_chain.Memo, "__init__", slow_init)
    ids = threading.Thread(target=lambda: c.id, name="ids")
    ids.start()
    assert in_init.wait(timeout=10)
    hashed: list[int] = []
    hasher = threading.Thread(target=lambda: hashed.append(hash(c)))
    hasher.start()
    hasher.join(timeout=0.2)
    release.set()
    ids.join(timeout=10)
    hasher.join(timeout=10)
    assert not ids.is_alive()
    assert not hasher.is_alive()
    learnt = _chain.known(run)
    assert learnt is not None
    assert learnt.idents
    assert learnt.hashes
    assert hashed == [hash(Conversation(turns=list(c)))]
    assert c.id == Conversation(turns=list(c)).id


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
    """A read preempted while it extends the ledger's path still sees its own prefix.

    Forces the interleaving deterministically: if the append reads or extends
    the ledger's path, another thread realigns the ledger to a sibling branch
    of the same length right after the read, or right before the append. (A
    thread that has to wait for the ledger's lock is given up on after a
    moment and joined later.)
    """
    c = Conversation().user("u0")
    p = c.assistant("P")
    q = c.assistant("Q")
    ledger = run_of(p).ledger
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

        def extend(self, runs: Any) -> None:
            if moment == "before_append" and not others:
                other_thread()
            super().extend(runs)

    ledger.runs = Preempted(ledger.runs)
    n = p.user("N")  # (an append never touches the path, so it cannot race at all)
    assert [t.content for t in n] == ["u0", "P", "N"]  # reading aligns the path
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


def count_encoded(c: Conversation) -> list[tuple[int, Any]]:
    """Record every turn the ledger of ``c`` encodes from now on, in order: (index, content)."""
    ledger = run_of(c).ledger
    encoded: list[tuple[int, Any]] = []
    encode = ledger.encoder

    def counting(contents: list[Any], provenances: list[Any], start: int, state: Any) -> Any:
        encoded.extend(enumerate(contents, start))
        return encode(contents, provenances, start, state)

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
        elif len(c):
            check_sent(c, spec)
    order = data.draw(st.permutations(range(len(heads))), label="order")
    for i in [*order, *order]:
        c, spec = heads[i]
        if len(c):
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
            assert encoded[before:] == [(len(c) - 1, spec[-1][1])]
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
            assert encoded[before:] == [(len(x) - 1, x_spec[-1][1])]


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
    ledger = run_of(trunk).ledger
    encode = ledger.encoder
    others: list[threading.Thread] = []
    bodies: dict[str, bytes] = {}

    def send_q() -> None:
        bodies["q"] = q.to_json(model="m")

    def preempted(contents: list[Any], provenances: list[Any], start: int, state: Any) -> Any:
        if not others:
            thread = threading.Thread(target=send_q)
            others.append(thread)
            thread.start()
            thread.join(timeout=0.2)
        return encode(contents, provenances, start, state)

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
    """A loaded chain's runs share one ledger, hold a chunk each, and are sent as appended."""
    spec = alternating(CHUNK + 5, "saved ")
    call = ToolUse("toolu_1", "get_forecast", {"city": "Paris"})
    saved = build(spec).assistant(call).user(ToolResult("toolu_1", "sunny"))
    loaded = Conversation.loads(saved.dumps())
    assert loaded == saved
    head = run_of(loaded)
    ledger = head.ledger
    assert len(loaded) == len(spec) + 2
    runs: list[Run] = []
    node: Run | None = head
    while node is not None:
        runs.append(node)
        node = node.parent
    assert [r.base for r in reversed(runs)] == [0, CHUNK]
    assert all(r.ledger is ledger for r in runs)
    assert [len(r.items) // 2 for r in reversed(runs)] == [CHUNK, 7]
    encoded = count_encoded(loaded)
    grown = loaded.assistant("after the load")
    assert grown.to_payload(model="m") == saved.assistant("after the load").to_payload(model="m")
    assert len(encoded) == len(spec) + 3
    again = grown.user("once more")
    assert again.to_json(model="m") == orjson.dumps(
        saved.assistant("after the load").user("once more").to_payload(model="m")
    )
    assert encoded[len(spec) + 3 :] == [(len(again) - 1, "once more")]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_trees_of_runs_read_as_their_turns(data: st.DataObject) -> None:
    """Trees grown by appends in either role at any prefix (forks inside runs, at their
    ends, at multiples of CHUNK), often appending one string object, and copies rebuilt
    apart: every branch reads, indexes, compares, hashes, ids, saves and parts from the
    others as its own turns."""
    shared = "the same text"
    heads: list[Branch] = [(Conversation(), [])]
    for step in range(data.draw(st.integers(1, 30), label="steps")):
        c, spec = heads[data.draw(st.integers(0, len(heads) - 1), label="head")]
        op = data.draw(st.sampled_from(["append", "append", "grow", "prefix", "rebuild"]))
        if op == "rebuild":  # equal turns in runs of its own: compared by value, not shared
            heads.append((Conversation(turns=list(c)), spec))
        elif op == "append":
            role = data.draw(st.sampled_from(["user", "assistant"]))
            text = shared if data.draw(st.booleans()) else f"s{step}"
            grown = c.user(text) if role == "user" else c.assistant(text)
            heads.append((grown, [*spec, (role, text)]))
        elif op == "grow":
            count = data.draw(st.sampled_from([1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3]))
            heads.append(grow(c, spec, count, f"g{step}"))
        else:
            cuts = {0, len(spec), *(k for k in (CHUNK - 1, CHUNK, CHUNK + 1) if k <= len(spec))}
            k = data.draw(st.sampled_from(sorted(cuts)) | st.integers(0, len(spec)), label="k")
            heads.append((c[:k], spec[:k]))
    for c, spec in heads:
        assert [(t.role, t.content) for t in c] == spec
        assert len(c) == len(spec)
        if spec:
            i = data.draw(st.integers(-len(spec), len(spec) - 1), label="index")
            assert (c[i].role, c[i].content) == spec[i]
        rebuilt = Conversation(turns=list(c))
        assert c == rebuilt
        assert hash(c) == hash(rebuilt)
        assert c.id == rebuilt.id
        assert Conversation.loads(c.dumps()) == c
        other, other_spec = heads[data.draw(st.integers(0, len(heads) - 1), label="other")]
        assert len(c.common_prefix(other)) == shared_prefix(spec, other_spec)
        assert (c == other) == (spec == other_spec)
