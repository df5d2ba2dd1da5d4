"""Hypothesis profiles, chosen by the environment.

- "dev" (the default): random examples, no deadline (a loaded machine must not flake).
- "ci" (when the ``CI`` variable is set, as ``.ci/run`` runs): the same, derandomized, so
  a run is reproducible and a red CI is red again on the same commit.
- "thorough": many more examples, for a fuzzing session by hand.

``HYPOTHESIS_PROFILE`` names a profile outright. Hangs are caught per input by
``tests.limits.time_limit`` (a deadline of ``None`` would wait forever) and per test by
pytest-timeout.
"""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import ENV_REQUIRE, PostgresServer, find_server

settings.register_profile("dev", deadline=None, max_examples=100, print_blob=True)
settings.register_profile("ci", deadline=None, max_examples=100, print_blob=True, derandomize=True)
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (see tests/postgres.py): skips without one,
    unless CONVERSATION_REQUIRE_POSTGRES is set (CI), where it fails instead."""
    found = find_server()
    if isinstance(found, str):
        if os.environ.get(ENV_REQUIRE):
            pytest.fail(f"{ENV_REQUIRE} is set, but {found}")
        pytest.skip(found)
    yield found
    found.finish()
