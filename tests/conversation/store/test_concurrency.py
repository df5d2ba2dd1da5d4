"""Writers at once: threads and processes saving branches of one tree lose nothing.

The protocol suite: every test runs over every backend (see conftest.py); the
tests with several store objects or processes run on backends whose data they
can share. Every branch shares prefixes with others, and consecutive branches
go to different writers, so writers race to store the same new turns.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from contextlib import closing
from typing import Any

import pytest

from conversation import Conversation
from conversation.store import Store
from tests.conversation.store.backends import Place, Places, check_consistent, open_store
from tests.conversation.store.model import all_ids, branches, walk
from tests.conversation.store.workers import (
    context,
    open_new_places,
    save_branches,
    save_concurrently,
)

SEED = 9


def assert_all_kept(store: Store, heads: Sequence[Conversation], acked: Sequence[str]) -> None:
    """Every acknowledged save loads equal; the store holds each node of the tree once."""
    assert sorted(acked) == sorted(c.id for c in heads)
    for c in heads:
        assert store.load(c.id) == c
    stored = walk(store, heads[0][:0].id)
    assert len(stored) == len(set(stored)), "a turn is stored twice"
    assert set(stored) == all_ids(heads), "turns were lost"
    extended = {c[:k].id for c in heads for k in range(len(c))}
    assert set(store.leaves()) == {c.id for c in heads} - extended


def test_threads_through_one_store(store: Store) -> None:
    heads = branches(SEED, 200)
    acked = save_concurrently(lambda: store, heads, threads=8)
    assert_all_kept(store, heads, acked)


def test_threads_each_with_a_store_on_one_place(shared: Place) -> None:
    """8 store objects on one place, opened at once (the first creates it), saving at once."""
    heads = branches(SEED, 200)
    opened: list[Store] = []
    lock = threading.Lock()

    def open_one() -> Store:
        store = shared.open()
        with lock:
            opened.append(store)
        return store

    try:
        acked = save_concurrently(open_one, heads, threads=8)
    finally:
        for store in opened:
            store.close()
    with closing(shared.open()) as store:
        assert_all_kept(store, heads, acked)


def run_processes(target: Callable[..., None], *args: object, processes: int) -> list[Any]:
    """Run ``target(*args, part, start, results)`` in ``processes`` child processes at once;
    the results they put, by part (a traceback from a child fails the test)."""
    ctx = context()
    start = ctx.Barrier(processes)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=target, args=(*args, part, start, results)) for part in range(processes)
    ]
    for worker in workers:
        worker.start()
    done = dict(results.get(timeout=100) for _ in workers)
    for worker in workers:
        worker.join()
    failed = {part: found for part, found in done.items() if isinstance(found, str)}
    assert not failed, failed
    return [done[part] for part in range(processes)]


def test_processes_opening_new_places_at_once(places: Places) -> None:
    """8 processes open each of 60 new places at the same moment: one makes the store, the
    others wait for it (none fails), and every save is kept."""
    news = [places.new() for _ in range(60)]
    if not news[0].shared:
        pytest.skip(f"{places.backend.name} keeps its data inside one store object")
    addresses = [place.address for place in news]
    found = run_processes(open_new_places, addresses, processes=8)
    for number, place in enumerate(news):
        with closing(place.open()) as store:
            for part in range(8):
                assert store.load(found[part][number]) == Conversation().user(f"writer {part}")


def test_processes_and_threads_on_one_place(shared: Place) -> None:
    """4 processes x 4 threads, each thread with its own store, all started at once on a
    place none of them made yet."""
    assert shared.address is not None
    count = 240
    found = run_processes(save_branches, shared.address, SEED, count, 4, 4, processes=4)
    check_consistent(shared.address)
    acked = list(itertools.chain.from_iterable(found))
    with closing(open_store(shared.address)) as store:
        assert_all_kept(store, branches(SEED, count), acked)
