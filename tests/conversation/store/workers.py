"""Writers for the concurrency and crash tests: threads, and the targets of child processes.

Child processes import this module by name (multiprocessing's spawn and
forkserver contexts), so what they run lives here, not in a test module.
"""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from typing import Any

from conversation import Conversation
from conversation.store import Store
from tests.conversation.store.backends import open_store
from tests.conversation.store.model import branches

__all__ = [
    "context",
    "open_new_places",
    "save_branches",
    "save_concurrently",
    "write_until_killed",
]


def context() -> ForkServerContext:
    """The multiprocessing context of the tests' child processes.

    A fork server, with this module loaded before it forks, so that a child
    starts in milliseconds; never a bare fork of the test process (its threads
    and open databases must not be copied).
    """
    found = multiprocessing.get_context("forkserver")
    found.set_forkserver_preload(["__main__", __name__])
    return found


def save_concurrently(
    open: Callable[[], Store], heads: Sequence[Conversation], threads: int
) -> list[str]:
    """Save ``heads`` from ``threads`` threads at once (thread t saves ``heads[t::threads]``).

    Each thread calls ``open()`` for its store (close it if it is the thread's
    own), after all have started. Returns the ids the saves returned; an error
    in any thread is raised here.
    """
    start = threading.Barrier(threads)

    def run(part: int) -> list[str]:
        start.wait()
        store = open()
        return [store.save(c) for c in heads[part::threads]]

    with ThreadPoolExecutor(threads) as pool:
        done = [pool.submit(run, part) for part in range(threads)]
        return [id for future in done for id in future.result()]


def save_branches(
    address: str,
    seed: int,
    count: int,
    parts: int,
    threads: int,
    part: int,
    start: Any,
    results: Any,
) -> None:
    """A child process's work: save its part of :func:`branches` from several threads.

    Every thread opens its own store at ``address`` once all processes have
    started (``start`` is a multiprocessing Barrier). Puts ``(part, ids)`` on
    ``results``, or ``(part, traceback)`` when anything failed.
    """
    try:
        heads = branches(seed, count)[part::parts]
        opened: list[Store] = []
        lock = threading.Lock()

        def open_one() -> Store:
            store = open_store(address)
            with lock:
                opened.append(store)
            return store

        start.wait()
        try:
            results.put((part, save_concurrently(open_one, heads, threads)))
        finally:
            for store in opened:
                store.close()
    except BaseException:
        start.abort()  # the others stop waiting for this one
        results.put((part, traceback.format_exc()))


def open_new_places(addresses: Sequence[str], part: int, start: Any, results: Any) -> None:
    """A child process's work: open each new place as the other processes do, and save.

    For every address, waits for all processes (``start`` is a multiprocessing
    Barrier), opens a store there, saves one conversation of its own and closes
    it. Puts ``(part, ids)`` on ``results``, or ``(part, traceback)``.
    """
    try:
        ids = []
        for address in addresses:
            start.wait()
            store = open_store(address)
            try:
                ids.append(store.save(Conversation().user(f"writer {part}")))
            finally:
                store.close()
        results.put((part, ids))
    except BaseException:
        start.abort()  # the others stop waiting for this one
        results.put((part, traceback.format_exc()))


def write_until_killed(address: str, seed: int, first: int, count: int, acks: Connection) -> None:
    """Save ``branches(seed, count)[first:]`` one by one, sending each index once saved."""
    heads = branches(seed, count, longest=40)
    store = open_store(address)
    for index in range(first, count):
        store.save(heads[index], name="latest")
        acks.send(index)
    store.close()
    acks.send(None)
