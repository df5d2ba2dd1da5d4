"""Fixtures shared by the adapter tests."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio (the adapters use no trio-specific code)."""
    return "asyncio"
