"""What a psycopg failure means to a PostgreSQL store, and where its data is.

Both stores (``_postgres.py``) turn every error of psycopg and its pool into
one of the store's: :func:`failure` says which, and whether the transaction
may run again (:class:`Retry`); :func:`retry_or_raise` ends a call that ran out of
tries. Messages name the server by :class:`Target`, never with the password.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Final

from ..errors import (
    MalformedInputError,
    NotAStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
)

__all__ = ["Retry", "Target", "failure", "psycopg_modules", "retry_or_raise"]

_LOST: Final = ("57P01", "57P02", "57P03")
"""SQLSTATEs of a server that ended the session (terminated, crashed, shutting down)."""


class Retry(Exception):
    """The transaction did nothing that stays and may run again; ``error`` if it may not."""

    def __init__(self, error: StoreError) -> None:
        super().__init__(str(error))
        self.error = error


def psycopg_modules() -> tuple[ModuleType, ModuleType]:
    """psycopg and psycopg_pool, or an error naming the extra that installs them."""
    try:
        return importlib.import_module("psycopg"), importlib.import_module("psycopg_pool")
    except ImportError as exc:
        raise StoreError(
            f"the PostgreSQL store needs psycopg 3 and psycopg-pool ({exc.name} is not "
            "installed): pip install 'conversation-state[postgres]'"
        ) from None


class Target:
    """Where a store's data is, said without the password: for messages and reprs."""

    def __init__(self, conninfo: str, schema: str) -> None:
        psycopg, _ = psycopg_modules()
        try:
            params = psycopg.conninfo.conninfo_to_dict(conninfo)
        except psycopg.Error:
            raise MalformedInputError(
                "the PostgreSQL connection string cannot be read; give a URL such as "
                "postgresql://user:password@host:5432/dbname, or key=value pairs",
                "conninfo",
            ) from None
        host = str(params.get("host") or params.get("hostaddr") or "localhost")
        port = str(params.get("port") or "5432")
        dbname = str(params.get("dbname") or params.get("user") or "")
        self.secret = str(params.get("password") or "")
        self.where = f"PostgreSQL database {dbname!r} at {host}:{port}, schema {schema!r}"

    def clean(self, text: str) -> str:
        """``text`` with the password, should a driver message quote it, blanked out."""
        return text.replace(self.secret, "***") if self.secret else text


def failure(exc: Exception, stage: str, broken: bool, target: Target, action: str) -> Exception:
    """A psycopg error as the store's: a :class:`Retry`, or the StoreError to raise."""
    psycopg, pool = psycopg_modules()
    message = target.clean(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc))
    state = getattr(exc, "sqlstate", None) or ""
    where = target.where
    if isinstance(exc, pool.PoolTimeout):
        return StoreConnectionError(
            f"could not {action}: no connection to {where} within the timeout ({message}); "
            "check that the server is up and reachable, or give the store a longer timeout"
        )
    if isinstance(exc, pool.PoolClosed):
        return StoreError(f"could not {action}: the store's connection pool is closed")
    if broken or state in _LOST or state.startswith("08"):
        if stage == "begin":  # a pooled connection that died idle: nothing was sent
            return Retry(StoreConnectionError(f"could not {action}: {where} is gone ({message})"))
        if stage == "commit":
            return StoreConnectionError(
                f"the connection to {where} dropped while committing (trying to {action}): "
                f"it may or may not be done ({message}); saving again is safe, the store "
                "reconnects"
            )
        if stage == "connect":
            return StoreConnectionError(
                f"could not connect to {where} ({message}); check that the server is up and "
                "that the URL names it"
            )
        return StoreConnectionError(
            f"the connection to {where} dropped while trying to {action} ({message}): nothing "
            "of it was done (a transaction is all or nothing); try again, the store reconnects"
        )
    if state in ("40001", "40P01"):
        return Retry(StoreBusyError(f"could not {action}: {where} stayed in conflict ({message})"))
    if state in ("55P03", "57014"):
        return StoreBusyError(
            f"could not {action}: {where} stayed locked or the statement was cancelled "
            f"({message}); retry"
        )
    if state in ("42P01", "3F000"):
        return NotAStoreError(
            f"could not {action}: the store's tables are gone from {where} ({message}); "
            "they were dropped outside this library"
        )
    if state == "42501":
        return StoreError(
            f"could not {action}: PostgreSQL refused the store's user ({message}); grant it "
            "the rights to create and use the store's schema"
        )
    if isinstance(exc, psycopg.OperationalError) and stage == "connect":
        return StoreConnectionError(f"could not connect to {where} ({message})")
    return StoreError(f"could not {action} in {where}: PostgreSQL said {message!r}")


def retry_or_raise(error: Exception, attempt: int, tries: int, action: str, where: str) -> None:
    """Raise what ends a call after ``tries`` attempts; return when another may run."""
    if attempt < tries:
        return
    if isinstance(error, Retry):
        raise error.error from None
    raise StoreBusyError(
        f"could not {action}: other writers kept changing {where} through {tries} tries; retry"
    ) from None
