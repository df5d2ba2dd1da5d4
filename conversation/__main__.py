"""``python -m conversation``: the command line (see :mod:`conversation.cli`)."""

from __future__ import annotations

import sys

from .cli import run

__all__ = ["run"]

if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
