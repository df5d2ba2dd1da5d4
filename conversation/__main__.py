"""``python -m conversation demo``: the offline demo (no API key, no network)."""

from __future__ import annotations

import sys


def run(argv: list[str]) -> int:
    """Dispatch the command line; return the exit status."""
    if argv[:1] == ["demo"]:
        from ._demo import main

        main()
        return 0
    print("usage: python -m conversation demo", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
