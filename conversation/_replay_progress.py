"""The progress bar of ``replay_many`` and ``import_into``: tqdm, when installed, on a terminal.

tqdm is an optional extra (``pip install 'conversation-state[progress]'``),
imported only when a bar is wanted; without it, or when stderr is not a
terminal (a log file, CI), there is no bar and no error.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

__all__ = ["Progress"]


class Progress:
    """A bar over ``total`` dialogues, or nothing; :meth:`advance` after each one."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._bar: Any = None
        stream = sys.stderr
        if not enabled or stream is None or not stream.isatty():
            return
        try:
            tqdm = importlib.import_module("tqdm")
        except ImportError:
            return
        self._bar = tqdm.tqdm(total=total, unit="dialogue", file=stream)

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
