"""Helpers of the command-line tests: run the real program (piped, or in a real terminal),
and a store to run it over."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import attrs
import pytest

from conversation import Conversation
from conversation._closing import Closing
from conversation.store import SQLiteStore

__all__ = ["Terminal", "Tree", "cli", "make_tree", "need_tmux"]

UNSET = (
    "NO_COLOR",
    "CONVERSATION_DB",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)
"""What the program's children never inherit from the test's environment: each test gives
what it means to."""


def cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m conversation ARGS`` in a child process; stdin, stdout and stderr are pipes.

    The child's environment is this one without :data:`UNSET`, plus ``env``.
    """
    child = {k: v for k, v in os.environ.items() if k not in UNSET}
    child.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "conversation", *args],
        capture_output=True,
        text=True,
        check=False,
        env=child,
        input=input,
        timeout=60,
    )


def need_tmux() -> None:
    """Skip the test when tmux is missing, or fail it when CONVERSATION_REQUIRE_TMUX is set
    (CI: a terminal test is never skipped in silence)."""
    if shutil.which("tmux") is None:
        missing = "tmux is not installed (.ci/run installs it)"
        if os.environ.get("CONVERSATION_REQUIRE_TMUX"):
            pytest.fail(f"CONVERSATION_REQUIRE_TMUX is set, but {missing}")
        pytest.skip(missing)


class Terminal(Closing):
    """``python -m conversation ARGS`` in a real terminal: a tmux server of its own.

    ``type`` sends keys as a person types them, ``wait`` reads the screen
    (``capture-pane``, the scrollback included) until a text shows, and
    ``status`` is the program's exit status once it has ended (the pane stays,
    ``remain-on-exit``, so its last screen can still be read). The program's
    environment is the test's without :data:`UNSET`, plus ``env``.
    """

    def __init__(
        self, folder: Path, *args: str, env: dict[str, str] | None = None, width: int = 200
    ) -> None:
        self._socket = f"conversation-cli-{folder.name}-{os.getpid()}"
        config = folder / "tmux.conf"
        config.write_text("set -g remain-on-exit on\nset -g history-limit 10000\n")
        settings = [f"{name}={value}" for name, value in (env or {}).items()]
        unset = [part for name in UNSET for part in ("-u", name)]
        command = ["env", *unset, *settings, sys.executable, "-m", "conversation", *args]
        self._seen = 0
        self._status = folder / "exit-status"
        # The shell stays to write the status; its trap (reset to the default in the
        # program) keeps a Ctrl-C for the program from ending the shell too.
        shell = f"trap : INT; {shlex.join(command)}; echo $? > {shlex.quote(str(self._status))}"
        self._tmux("-f", str(config), "new-session", "-d", "-s", "main", "-x", str(width),
                   "-y", "50", "-c", str(folder), shell)  # fmt: skip

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self._socket, *args], capture_output=True, text=True, check=True
        )
        return done.stdout

    def enter(self, text: str, until: str | None = None) -> str:
        """Type ``text`` and press Enter; then, with ``until``, :meth:`wait` for it."""
        self._tmux("send-keys", "-t", "main", "-l", text)
        self._tmux("send-keys", "-t", "main", "Enter")
        return "" if until is None else self.wait(until)

    def keys(self, *keys: str) -> None:
        """Press keys by tmux's names for them: ``C-c``, ``C-d``."""
        self._tmux("send-keys", "-t", "main", *keys)

    def screen(self, *, colour: bool = False) -> str:
        """Everything the terminal showed, lines joined as written (-J), colours kept if asked."""
        flags = ["-e"] if colour else []
        return self._tmux("capture-pane", "-p", "-J", *flags, "-S", "-", "-t", "main")

    def wait(self, text: str, timeout: float = 30.0) -> str:
        """The screen once ``text`` shows after what earlier waits found; the screen from
        that point. Fails with the whole screen if it does not show within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            found = screen.find(text, self._seen)
            if found >= 0:
                shown = screen[self._seen : found + len(text)]
                self._seen = found + len(text)
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not show; the screen:\n{screen}")
            time.sleep(0.05)

    def status(self, timeout: float = 30.0) -> int:
        """The program's exit status, once it has ended."""
        deadline = time.monotonic() + timeout
        while not self._status.exists() or not self._status.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the program did not end; the screen:\n{self.screen()}")
            time.sleep(0.05)
        return int(self._status.read_text())

    def close(self) -> None:
        """Stop the tmux server, and the program with it if it still runs."""
        subprocess.run(["tmux", "-L", self._socket, "kill-server"], capture_output=True)


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
