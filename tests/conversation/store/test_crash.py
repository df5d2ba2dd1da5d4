"""A writer killed with SIGKILL mid-save leaves the store consistent, every earlier save kept.

The protocol suite, on backends whose data outlives a process (see conftest.py).
A child process saves growing and branching conversations one after another,
sending each index once its save returned; the test kills it after a varying
number of acknowledgements (it is then inside a later save, or between two),
checks the store, and starts the next writer where the last one left off.
"""

from __future__ import annotations

import os
import signal
from contextlib import closing
from multiprocessing.connection import Connection

from tests.conversation.store.backends import Place, check_consistent
from tests.conversation.store.model import all_ids, branches, walk
from tests.conversation.store.workers import context, write_until_killed

SEED, COUNT, KILLS = 3, 200, 20


def test_a_killed_writer_loses_no_acknowledged_save(shared: Place) -> None:
    assert shared.address is not None
    heads = branches(SEED, COUNT, longest=40)
    ctx = context()
    acked: list[int] = []
    for kill in range(KILLS):
        wanted = 1 + kill * 5 % 7  # acknowledgements to wait for: 1 to 7, varied
        receive, send = ctx.Pipe(duplex=False)
        writer = ctx.Process(
            target=write_until_killed,
            args=(shared.address, SEED, acked[-1] + 1 if acked else 0, COUNT, send),
        )
        writer.start()
        send.close()
        for _ in range(wanted):
            index = receive.recv()
            assert index is not None, "the writer ran out of work before it was killed"
            acked.append(index)
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        assert writer.exitcode == -signal.SIGKILL
        acked.extend(late_acknowledgements(receive))
        receive.close()

        check_consistent(shared.address)
        with closing(shared.open()) as store:
            for index in acked:
                assert store.load(heads[index].id) == heads[index]
            # All or nothing: what is stored is exactly the heads saved whole.
            saved = {c.id: c for c in heads if c.id in store}
            assert set(walk(store, heads[0][:0].id)) == all_ids(saved.values())
            for leaf in store.leaves():
                assert leaf in saved, "a leaf that no whole save made: a save was cut short"
                assert store.load(leaf) == saved[leaf]
            assert store.load("latest").id in saved
    assert len(acked) >= KILLS


def late_acknowledgements(receive: Connection) -> list[int]:
    """The indexes a killed writer sent before the kill landed (and after it was wanted)."""
    found: list[int] = []
    while True:
        try:
            index = receive.recv()
        except EOFError:
            return found
        assert index is not None, "the writer ran out of work before it was killed"
        found.append(index)
