"""``python -m conversation``: real help, exit codes, the version."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

import pytest

import conversation
from conversation.__main__ import run


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conversation", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_the_demo_and_exits_0() -> None:
    """--help prints a usage line, what the program is, and its commands; exit status 0."""
    done = _cli("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m conversation")
    assert re.search(r"^\s+demo\s+walk through", done.stdout, re.M)


def test_demo_help_describes_the_demo_without_running_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``demo --help`` explains the demo and exits 0; the demo itself does not run."""
    assert run(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m conversation demo")
    assert "no API key, no network" in out
    assert "conversation-state demo" not in out  # the demo's own first line


@pytest.mark.parametrize("argv", [[], ["nonsense"], ["demo", "--loud"]], ids=repr)
def test_bad_usage_exits_2_with_a_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or unknown command or option: usage and the problem on stderr, status 2."""
    assert run(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "usage: python -m conversation" in captured.err
    assert "error:" in captured.err


def test_version_comes_from_the_installed_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    """conversation.__version__ is the distribution's version; --version prints it."""
    assert conversation.__version__ == metadata.version("conversation-state")
    assert run(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"python -m conversation {conversation.__version__}"
