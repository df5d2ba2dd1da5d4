"""Helpers of the command-line tests: run the real program, and a store to run it over."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import attrs

from conversation import Conversation
from conversation.store import SQLiteStore

__all__ = ["Tree", "cli", "make_tree"]


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m conversation ARGS`` in a child process; stdout and stderr are pipes.

    The child's environment is this one without NO_COLOR and CONVERSATION_DB,
    plus ``env``.
    """
    child = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "CONVERSATION_DB")}
    child.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "conversation", *args],
        capture_output=True,
        text=True,
        check=False,
        env=child,
        timeout=60,
    )


@attrs.frozen
class Tree:
    """A store file holding a conversation that forks twice, and the conversations in it."""

    path: Path
    trip: Conversation  # named "trip"
    belem: Conversation  # trip's sibling: the other last reply
    week: Conversation  # forks at turn 3


def make_tree(path: Path) -> Tree:
    """Save three branches of one dialogue in a new SQLite file at ``path``."""
    start = Conversation(system="Be brief").user("Plan a trip to Lisbon").assistant("Three days?")
    trip = start.user("Yes, three").assistant("Day 1: Alfama")
    belem = start.user("Yes, three").assistant("Day 1: Belém")
    week = start.user("No, a week")
    with SQLiteStore(path) as store:
        store.save(trip, name="trip")
        store.save(belem)
        store.save(week)
    return Tree(path, trip, belem, week)
