"""Fixtures of the store tests: every test of the protocol suite runs over every backend.

``places`` makes fresh places (one per hypothesis example); ``store`` is one
store on an empty place; ``shared`` is a place that several store objects and
processes can open at once (backends without one skip those tests).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("tests.conversation.store.model")

from conversation.store import Store  # noqa: E402
from tests.conversation.store.backends import BACKENDS, Backend, Place, Places, Where  # noqa: E402


@pytest.fixture(scope="session", params=BACKENDS, ids=[backend.name for backend in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    """One store implementation (the parameter of the protocol suite)."""
    found: Backend = request.param
    return found


@pytest.fixture(scope="session")
def places(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Places:
    """Fresh, empty places of the backend under test (session-wide: every call is new)."""
    server = None if backend.server is None else request.getfixturevalue(backend.server)
    return Places(backend, Where(tmp_path_factory.mktemp(backend.name), server))


@pytest.fixture
def store(places: Places) -> Iterator[Store]:
    """A store on an empty place, closed after the test."""
    opened = places.store()
    yield opened
    opened.close()


@pytest.fixture
def shared(places: Places) -> Place:
    """An empty place several store objects and processes can open at once."""
    place = places.new()
    if not place.shared:
        pytest.skip(f"{places.backend.name} keeps its data inside one store object")
    return place
