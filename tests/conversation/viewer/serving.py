"""A real viewer server (``python -m conversation serve``) and Debian's Chromium, for the tests.

``tools/screenshots.py`` uses the same two.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ENV_REQUIRE", "Server", "chromium_missing", "launch"]

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium: the only browser the tests drive (nothing downloads one)."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ENV_REQUIRE = "CONVERSATION_REQUIRE_CHROMIUM"


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"Debian's chromium is not installed at {CHROMIUM} (.ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (the test extra has it)"
    return None


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, with nothing that reaches beyond this machine."""
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


@attrs.define
class Server:
    """``conversation serve --port 0`` over a store file, in a child process."""

    process: subprocess.Popen[str]
    url: str  # ends in "/"
    banner: str  # the line it printed first: "Serving STORE read-only at URL (...)"
    stderr: str = ""  # what it wrote on stderr, once stopped

    @classmethod
    def start(cls, db: Path | str, *args: str) -> Server:
        """Start the command and wait for the line that says where it listens."""
        env = {k: v for k, v in os.environ.items() if k not in ("CONVERSATION_DB", "NO_COLOR")}
        process = subprocess.Popen(
            [sys.executable, "-m", "conversation", "serve", "--db", str(db), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()  # type: ignore[union-attr]
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            process.kill()
            raise RuntimeError("the viewer did not start within 60 s") from None
        if "http://" not in first:
            process.kill()
            _, err = process.communicate()
            raise RuntimeError(f"the viewer did not start: {first!r} {err!r}")
        return cls(process, first.rsplit(" at ", 1)[1].split()[0], first.strip())

    def stop(self) -> int:
        """Interrupt the server as Ctrl+C does; its exit status."""
        self.process.send_signal(signal.SIGINT)
        try:
            _, self.stderr = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()
        return self.process.returncode
