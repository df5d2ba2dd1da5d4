"""The fake Messages API of the HTTP benchmarks, in a child process or a thread.

The real API runs on another machine, so by default the fake one runs in a
child process: its CPU time then neither counts as the client's nor competes
with it for the GIL. ``where="thread"`` runs it in a thread of this process
instead, as the tests do.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection

import _data

if str(_data._REPO_ROOT) not in sys.path:  # for tests.adapters.fake_api
    sys.path.insert(1, str(_data._REPO_ROOT))

from tests.adapters.fake_api import FakeMessagesAPI, Response

WHERE = ("process", "thread")


def _serve(default: Response, conn: Connection) -> None:
    """The child process: serve until the parent closes its end of the pipe."""
    with FakeMessagesAPI(default=default) as api:
        conn.send(api.base_url)
        with suppress(EOFError):
            conn.recv()


@contextmanager
def serving(default: Response, where: str) -> Iterator[str]:
    """A fake Messages API answering every request with ``default``: its base URL."""
    if where == "thread":
        with FakeMessagesAPI(default=default) as api:
            yield api.base_url
        return
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(default, theirs), daemon=True)
    process.start()
    theirs.close()
    try:
        if not ours.poll(60):
            raise RuntimeError("the fake API process did not start")
        url: str = ours.recv()
        yield url
    finally:
        ours.close()  # the child's recv() ends, and it stops its server
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)
