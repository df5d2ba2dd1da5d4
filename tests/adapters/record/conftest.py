"""Fixtures of the cassette tests: a live adapter over the fake API, and the secrets search.

Every test here writes its cassettes under its own ``tmp_path``; after each
test, every cassette written there is searched for the API key the live
adapter used (a distinctive key, not shaped like an Anthropic one, so that
finding none proves nothing leaked rather than that a pattern was redacted).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.anthropic import AnthropicAdapter
from tests.adapters.fake_api import FakeMessagesAPI

KEY = "cassette-test-key-Zq81vPw3-not-for-cassettes"
OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 128}


@pytest.fixture(autouse=True)
def no_key_in_cassettes(tmp_path: Path) -> Iterator[None]:
    """After the test: no file it wrote under ``tmp_path`` holds the API key, in any form."""
    yield
    for path in tmp_path.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert KEY.encode() not in data, f"the API key is in {path}"
            assert KEY[-20:].encode() not in data, f"part of the API key is in {path}"


@pytest.fixture
def live(fake_api: FakeMessagesAPI) -> Iterator[AnthropicAdapter]:
    """AnthropicAdapter talking to the fake API with the test key, no retries, closed after."""
    with AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url, max_retries=0) as adapter:
        yield adapter


@pytest.fixture
def cassette_path(tmp_path: Path) -> Path:
    """Where a test's cassette goes (not created)."""
    return tmp_path / "cassettes" / "calls.jsonl"
