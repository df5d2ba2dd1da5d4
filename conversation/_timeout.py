"""The thread-timeout runner of sync tools: call a function in a thread, wait
for it at most so long.

It is apart from the tool loop because it is about threads, not tools: the
loop only asks it for a value or a :class:`TimedOut`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["TimedOut", "in_thread"]


class TimedOut(Exception):
    """:func:`in_thread` stopped waiting: the call ran over its time."""


def in_thread(call: Callable[[], Any], timeout: float, name: str) -> Any:
    """``call()`` in a daemon thread; stop waiting for it after ``timeout`` seconds.

    Python cannot stop a thread: a call that overruns keeps running in the
    background (a daemon, so it never holds up the interpreter's exit), and
    what it returns later is dropped.
    """
    outcome: list[Any] = []
    done = threading.Event()

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name=f"tool {name}", daemon=True).start()
    if not done.wait(timeout):
        raise TimedOut
    ok, value = outcome[0]
    if ok:
        return value
    raise value
