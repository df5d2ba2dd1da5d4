"""The PostgreSQL contender of ``bench_store.py``: a throwaway server, a store per schema.

The server is the one ``.ci/postgres`` starts for the tests and CI (started
here with ``--durable``: fsync on, commits not waiting for their WAL flush, as
the SQLite store's ``synchronous=NORMAL``), on 127.0.0.1, and stopped when the
benchmark exits; ``CONVERSATION_BENCH_POSTGRES_URL`` names another server
instead. Child processes (figure 14's writers) find the URL in that variable.
A scratch path of ``_stores.Scratch`` names a schema, so the figures can make,
replace and size PostgreSQL stores as they do files.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

URL_VARIABLE = "CONVERSATION_BENCH_POSTGRES_URL"
SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres"


def server() -> tuple[str | None, str]:
    """The server's URL, starting one the first time; or ``(None, why not)``."""
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url, ""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        return None, f"psycopg not installed ({exc.name}): pip install -e '.[bench]'"
    directory = tempfile.mkdtemp(prefix="bench-pg-")
    done = subprocess.run(
        [str(SCRIPT), "start", directory, "--durable"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        return None, f"no PostgreSQL server ({done.stderr.strip() or done.returncode})"

    def stop() -> None:
        subprocess.run([str(SCRIPT), "stop", directory], check=False)
        shutil.rmtree(directory, ignore_errors=True)

    atexit.register(stop)
    url = done.stdout.strip()
    os.environ[URL_VARIABLE] = url
    return url, ""


def schema(path: str) -> str:
    """The schema that stands for the scratch file ``path``."""
    return "bench_" + re.sub(r"[^a-z0-9]+", "_", os.path.basename(path).lower())


def store(path: str) -> Any:
    """A ``PostgresStore`` on the schema of ``path`` (made on first use)."""
    from conversation.store import PostgresStore

    url, why = server()
    assert url is not None, why
    return PostgresStore(url, schema=schema(path), timeout=600)


def drop(path: str) -> None:
    """Drop the schema of ``path`` and everything in it."""
    import psycopg

    url, _ = server()
    assert url is not None
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema(path)}" CASCADE')


def size(path: str) -> int:
    """Bytes on disk of the schema of ``path``: its tables, their TOAST and indexes."""
    import psycopg

    url, _ = server()
    assert url is not None
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")
        found = connection.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c"
            " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r'",
            (schema(path),),
        ).fetchone()
    return int(found[0]) if found else 0
