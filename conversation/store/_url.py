"""open_store: one entry point by URL, so that moving to a shared server is a change of one line."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from ..errors import MalformedInputError, quote, type_name
from ._postgres import PostgresStore
from ._sqlite import SQLiteStore

__all__ = ["open_store"]

_POSTGRES = ("postgresql://", "postgres://")


def open_store(url: str, **options: Any) -> SQLiteStore | PostgresStore:
    """The store a URL names (a context manager, as both store classes are);
    ``options`` go to its class.

    - ``sqlite:///chats.db`` (a path relative to the working directory),
      ``sqlite:////var/db/chats.db`` (absolute), ``sqlite://`` (in memory):
      a :class:`SQLiteStore`;
    - ``postgresql://user:password@host:5432/dbname`` (or ``postgres://``): a
      :class:`PostgresStore` (``schema=`` picks the PostgreSQL schema).

    >>> from conversation.store import open_store
    >>> with open_store("sqlite://") as store:
    ...     store.leaves()
    []
    """
    if not isinstance(url, str):
        raise MalformedInputError(f"open_store takes a URL (a str), got {type_name(url)}", "url")
    scheme = url.partition(":")[0].lower()
    if url.lower().startswith(_POSTGRES):
        return PostgresStore(url, **options)
    if scheme == "sqlite":
        if url in ("sqlite://", "sqlite:///:memory:"):
            return SQLiteStore(":memory:", **options)
        if url.startswith("sqlite:///") and "?" not in url and "#" not in url:
            return SQLiteStore(unquote(url[len("sqlite:///") :]), **options)
    shown = quote(url) if scheme not in ("postgresql", "postgres") else "a PostgreSQL URL"
    raise MalformedInputError(
        f"open_store cannot read {shown}: give sqlite:///path/to/file.db, sqlite:// (in "
        "memory) or postgresql://user:password@host:5432/dbname",
        "url",
    )
