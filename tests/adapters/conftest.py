"""Fixtures shared by the adapter tests."""

from collections.abc import Iterator

import pytest

from tests.adapters.fake_api import FakeMessagesAPI
from tests.adapters.fake_batches import FakeBatches
from tests.adapters.openai.fake_chat import install


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio (the adapters use no trio-specific code)."""
    return "asyncio"


@pytest.fixture
def fake_api() -> Iterator[FakeMessagesAPI]:
    """A fake Messages API listening on 127.0.0.1 (see ``tests/adapters/fake_api.py``).

    Started before the test and stopped after it, open connections included. A
    test fails at teardown if the server itself raised (a bug in the fake, not
    in the client under test).
    """
    with FakeMessagesAPI() as server:
        yield server
    if server.errors:
        raise AssertionError(f"the fake API raised: {server.errors!r}")


@pytest.fixture
def fake_batches(fake_api: FakeMessagesAPI) -> FakeBatches:
    """The Message Batches endpoints of ``fake_api`` (see ``tests/adapters/fake_batches.py``)."""
    return FakeBatches(fake_api)


@pytest.fixture
def fake_chat() -> Iterator[FakeMessagesAPI]:
    """A fake Chat Completions API on 127.0.0.1 (see ``tests/adapters/openai/fake_chat.py``)."""
    with install(FakeMessagesAPI()) as server:
        yield server
    if server.errors:
        raise AssertionError(f"the fake API raised: {server.errors!r}")
