"""A stored conversation's tree drawn with box characters, one line per run of turns.

A run of turns with no fork in it is one line (``turns 3-6``); a line ends
where the tree forks, where a branch ends (a leaf), or at a named id. The
lines on the path of the conversation shown are marked ``*``.
"""

from __future__ import annotations

import attrs

from .._conversation import Conversation
from .._titles import short, summary
from ..store import Store
from ._style import Style

__all__ = ["draw_tree"]


@attrs.frozen
class _Run:
    """Turns ``first``..``last`` (1-based) of one branch, ending at id ``end``."""

    first: int
    last: int
    end: str
    forks: tuple[str, ...]


def _run(store: Store, start: str, depth: int, named: dict[str, list[str]]) -> _Run:
    """Follow single children from ``start`` (turn ``depth``) to a fork, leaf or name."""
    ident, last = start, depth
    while True:
        kids = store.children(ident)
        if len(kids) != 1 or ident in named:
            return _Run(depth, last, ident, tuple(kids))
        ident, last = kids[0], last + 1


def draw_tree(store: Store, c: Conversation, style: Style) -> list[str]:
    """The tree under ``c``'s first turn, as lines; ``c``'s own path marked ``*``."""
    if not len(c):
        return []
    named: dict[str, list[str]] = {}
    for name, ident in sorted(store.names().items()):
        named.setdefault(ident, []).append(name)
    path = {c[:k].id for k in range(1, len(c) + 1)}
    lines: list[str] = []
    # (start id, its turn number, the prefix of the lines under it, its connector)
    pending: list[tuple[str, int, str, str]] = [(c[:1].id, 1, "", "")]
    while pending:
        start, depth, prefix, connector = pending.pop()
        run = _run(store, start, depth, named)
        turn = store.load(run.end).last
        span = f"turn {run.first}" if run.first == run.last else f"turns {run.first}-{run.last}"
        mine = run.end in path
        label = [
            style("bold", "*") if mine else " ",
            span,
            style("id", short(run.end)),
            style(turn.role, turn.role) + ":" if turn else "",
            summary(turn, 50) if turn else "",
        ]
        if run.end in named:
            label.append(style("name", "[" + ", ".join(named[run.end]) + "]"))
        lines.append(prefix + connector + " ".join(part for part in label if part))
        under = prefix + {"": "", "├── ": "│   ", "└── ": "    "}[connector]
        kids = list(run.forks)
        for index in reversed(range(len(kids))):  # popped in order: oldest first
            connector = "└── " if index == len(kids) - 1 else "├── "
            pending.append((kids[index], run.last + 1, under, connector))
    return lines
