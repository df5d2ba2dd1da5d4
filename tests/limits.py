"""A per-input time limit for fuzz tests: a hang fails the example that caused it.

Hypothesis runs without a deadline (a slow shared machine must not flake), so a
reader that loops forever on one input would otherwise hang the whole run until
pytest-timeout ends it without saying which input. :func:`time_limit` raises
:class:`Hang` inside the code under test, so hypothesis reports and shrinks the
input. The limit is generous: it catches hangs, it does not measure speed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = ["INPUT_SECONDS", "Hang", "time_limit"]

INPUT_SECONDS = 10.0
"""How long one fuzz input may run: hundreds of times what any input takes."""


class Hang(BaseException):
    """Raised where a fuzzed call was running when its time limit passed.

    A BaseException, so that no ``except Exception`` in the code under test hides it.
    """


@contextmanager
def time_limit(seconds: float = INPUT_SECONDS) -> Iterator[None]:
    """Raise :class:`Hang` in the block if it runs longer than ``seconds``.

    Uses ``SIGALRM`` (the main thread, on POSIX); elsewhere the block just runs.
    An alarm set before (pytest-timeout's) is put back, less the time spent here.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"one input ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    if outer and outer < seconds:  # the outer alarm comes first: let it fire as set
        signal.signal(signal.SIGALRM, previous)
        signal.setitimer(signal.ITIMER_REAL, outer)
        yield
        return
    try:
        yield
    finally:
        left, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (seconds - left), 0.001))
