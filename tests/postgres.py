"""The PostgreSQL server of the tests: one named by the environment, or a throwaway one.

``CONVERSATION_TEST_POSTGRES_URL`` names a server to use (``.ci/run`` starts one
and sets it, with ``CONVERSATION_TEST_POSTGRES_DIR``, the directory it runs in,
so that tests can restart it). Without it, a throwaway server is started in a
temporary directory by ``.ci/postgres`` (the helper CI and the benchmarks use
too) and removed after. When neither can be had, the PostgreSQL tests skip with
the reason, unless ``CONVERSATION_REQUIRE_POSTGRES`` is set (CI): then they fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import attrs

__all__ = ["ENV_DIR", "ENV_REQUIRE", "ENV_URL", "PostgresServer", "find_server"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "postgres"
ENV_URL = "CONVERSATION_TEST_POSTGRES_URL"
ENV_DIR = "CONVERSATION_TEST_POSTGRES_DIR"
ENV_REQUIRE = "CONVERSATION_REQUIRE_POSTGRES"


@attrs.frozen
class PostgresServer:
    """A server the tests may use; ``directory`` is set when they may restart it."""

    url: str
    directory: Path | None
    owned: bool  # started by these tests: stopped and removed after them
    prefix: str = attrs.field(factory=lambda: f"test_{secrets.token_hex(3)}_")

    def schema(self, number: int) -> str:
        """A schema name no other test session uses (a store's place on this server)."""
        return f"{self.prefix}{number}"

    def connect(self) -> Any:
        """A psycopg connection of the test's own (autocommit), to look or to interfere."""
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def restart(self) -> None:
        """Stop the server (ending every session) and start it again, on the same port."""
        assert self.directory is not None, "only a server whose directory is known restarts"
        subprocess.run([str(SCRIPT), "restart", str(self.directory)], check=True)

    def finish(self) -> None:
        """Stop and remove a server these tests started; drop their schemas on another."""
        if self.owned:
            assert self.directory is not None
            subprocess.run([str(SCRIPT), "stop", str(self.directory)], check=False)
            shutil.rmtree(self.directory, ignore_errors=True)
            return
        with self.connect() as connection:
            found = connection.execute(
                "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", (self.prefix,)
            ).fetchall()
            for (name,) in found:
                connection.execute(f'DROP SCHEMA "{name}" CASCADE')


def find_server() -> PostgresServer | str:
    """The server named by the environment, or a throwaway one started; else why not."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return f"psycopg is not installed ({exc.name}): pip install -e '.[test]'"
    url = os.environ.get(ENV_URL)
    if url:
        named = os.environ.get(ENV_DIR)
        return PostgresServer(url, Path(named) if named else None, owned=False)
    directory = Path(tempfile.mkdtemp(prefix="conversation-pg-"))
    done = subprocess.run(
        [str(SCRIPT), "start", str(directory)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        return (
            f"no PostgreSQL server for the tests ({done.stderr.strip() or done.returncode}): "
            f"install PostgreSQL (initdb, pg_ctl) or set {ENV_URL}"
        )
    return PostgresServer(done.stdout.strip(), directory, owned=True)
