"""Tests for adapters.testing: the kit passes an adapter that keeps the contract, fails one
that does not.

The passing side is run on the three adapters of this library (``test_contract.py``
beside each); here the kit is run, in a pytest of its own, on adapters broken on
purpose, and must fail them on the check each one breaks, and on no other.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

BROKEN = '''
from typing import Any

import pytest

from adapters import AdapterError
from adapters.scripted import ScriptedAdapter
from adapters.testing import AdapterContract, Fault, ScriptedFake
from conversation import Conversation


class LeakyFake(ScriptedFake):
    """Its failures show the key, as a careless adapter's errors would."""

    api_key = "sk-test-LEAKED-0123456789"

    def fail(self, fault: Fault) -> None:
        self._adapter.extend([AdapterError(f"401 from the server for key {self.api_key}")])


class Forgetful(ScriptedAdapter):
    """Answers, but hands back the conversation without the reply."""

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        super().send(conversation, **options)
        return conversation


class TestLeaky(AdapterContract):
    retries = False
    interrupts = False

    @pytest.fixture
    def adapter(self) -> ScriptedAdapter:
        return ScriptedAdapter([])

    @pytest.fixture
    def fake(self, adapter: ScriptedAdapter) -> LeakyFake:
        return LeakyFake(adapter)


class TestForgetful(AdapterContract):
    retries = False
    interrupts = False

    @pytest.fixture
    def adapter(self) -> Forgetful:
        return Forgetful([])

    @pytest.fixture
    def fake(self, adapter: Forgetful) -> ScriptedFake:
        return ScriptedFake(adapter)
'''


@pytest.fixture(scope="module")
def failures(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The checks the kit failed, run on the broken adapters in a pytest of its own."""
    folder = tmp_path_factory.mktemp("kit")
    (folder / "test_broken.py").write_text(textwrap.dedent(BROKEN), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", str(folder)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(ROOT), "PATH": ""},
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return set(re.findall(r"^FAILED \S+::(Test\w+::test_\w+(?:\[\w+\])?)", done.stdout, re.M))


def test_a_leaked_key_fails_the_error_checks(failures: set[str]) -> None:
    leaky = {name for name in failures if name.startswith("TestLeaky::")}
    assert leaky == {
        "TestLeaky::test_failure_is_a_conversation_error_without_the_key[auth]",
        "TestLeaky::test_failure_is_a_conversation_error_without_the_key[server_error]",
        "TestLeaky::test_failed_stream_is_a_conversation_error",
    }


def test_a_lost_reply_fails_the_send_checks(failures: set[str]) -> None:
    forgetful = {name for name in failures if name.startswith("TestForgetful::")}
    assert "TestForgetful::test_send" in forgetful
    assert "TestForgetful::test_tool_round_trip" in forgetful
    assert "TestForgetful::test_multi_image_turn" in forgetful
    assert "TestForgetful::test_stream_equals_send" in forgetful  # its send, not its stream
    assert "TestForgetful::test_astream" not in forgetful  # its streams are whole
