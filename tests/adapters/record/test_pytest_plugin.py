"""The pytest plugin, used as a user would: a test suite run twice in a pytest subprocess.

The first run records against the fake API; the second runs with no API key
and a base URL where nothing listens, so it passes only if it replays
offline; a third, after the test changed its request, fails naming the
difference.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.record import CassetteFixture
from adapters.record._fixture import MODE_VARIABLE, mode_from
from conversation import MalformedInputError
from tests.adapters.fake_api import FakeMessagesAPI
from tests.adapters.record.conftest import KEY

CONFTEST = 'pytest_plugins = ["adapters.record.pytest_plugin"]\n'

SUITE = """
from adapters.anthropic import AnthropicAdapter
from conversation import Conversation

OPTIONS = {"model": "claude-sonnet-4-5", "max_tokens": 64}


def test_chat(cassette):
    claude = cassette.adapter(AnthropicAdapter, default_options=OPTIONS)
    chat = claude.send(Conversation().user(QUESTION))
    assert chat[-1].text == "ok"
    with claude.stream(chat.user("Go on.")) as stream:
        assert "".join(stream.text_stream) == "ok"


class TestNames:
    def test_chat(self, cassette):
        assert cassette.path.name == "TestNames.test_chat.jsonl"
"""


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_pytest(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", MODE_VARIABLE))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write_suite(folder: Path, question: str) -> None:
    (folder / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (folder / "test_chat.py").write_text(f"QUESTION = {question!r}\n{SUITE}", encoding="utf-8")


def test_a_test_records_once_then_replays_offline(tmp_path: Path) -> None:
    write_suite(tmp_path, "Hello")
    with FakeMessagesAPI() as api:
        env = {"ANTHROPIC_BASE_URL": api.base_url, "ANTHROPIC_API_KEY": KEY}
        first = run_pytest(tmp_path, env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert len(api.requests) == 2  # the send and the stream
    cassette = tmp_path / "cassettes" / "test_chat" / "test_chat.jsonl"
    assert len(cassette.read_text(encoding="utf-8").splitlines()) == 3

    nowhere = {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}"}
    second = run_pytest(tmp_path, nowhere)  # no key: AnthropicAdapter() would raise
    assert second.returncode == 0, second.stdout + second.stderr
    assert "2 passed" in second.stdout

    write_suite(tmp_path, "Hello there")
    third = run_pytest(tmp_path, nowhere, "--record-mode=none")
    assert third.returncode == 1
    assert "CassetteMissError" in third.stdout
    assert "messages[0].content: 'Hello there' != 'Hello'" in third.stdout


def test_the_mode_comes_from_the_option_then_the_environment() -> None:
    assert mode_from(None, {}) == "once"
    assert mode_from(None, {MODE_VARIABLE: "new_episodes"}) == "new_episodes"
    assert mode_from("none", {MODE_VARIABLE: "all"}) == "none"
    assert mode_from("rewrite", {}) == "all"  # pytest-recording's name
    with pytest.raises(MalformedInputError, match="mode must be one of"):
        mode_from(None, {MODE_VARIABLE: "sometimes"})


def test_a_replaying_fixture_never_makes_the_inner_adapter(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"format":"conversation-state-cassette","version":1}\n', encoding="utf-8")

    def never() -> object:
        raise AssertionError("the inner adapter was made while replaying")

    adapter = CassetteFixture(path, "once").adapter(never)  # type: ignore[arg-type]
    assert adapter.mode == "once"
    assert adapter.fallback is None
