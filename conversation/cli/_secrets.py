"""A store's URL as a person may see it: every password in it masked.

A PostgreSQL URL can carry a password in two places, the userinfo
(``postgresql://me:s3cret@host/db``) and the query
(``postgresql://me@host/db?password=s3cret``, or ``sslpassword=`` for a
client key); both are replaced by ``***``. Everything else is kept as it
was typed, so ``postgresql:///db?host=/tmp`` still reads as given.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote

__all__ = ["MASK", "masked_url"]

MASK: Final = "***"
"""What stands where a password was."""

_SECRET_KEYS: Final = frozenset({"password", "sslpassword"})
"""The query parameters (libpq's names) whose values are secrets."""


def masked_url(db: str) -> str:
    """``db`` with its passwords masked; a path (no ``://``) is returned as it is.

    >>> masked_url("postgresql://me:s3cret@db.local/chats?password=s3cret&sslmode=require")
    'postgresql://me:***@db.local/chats?password=***&sslmode=require'
    >>> masked_url("postgresql:///chats?host=/tmp")
    'postgresql:///chats?host=/tmp'
    """
    scheme, sep, rest = db.partition("://")
    if not sep:
        return db
    # As libpq reads a URL: the userinfo is what comes before an "@" met ahead of any "/".
    end = next((i for i, char in enumerate(rest) if char in "@/"), len(rest))
    if rest[end : end + 1] == "@":
        user, colon, _ = rest[:end].partition(":")
        if colon:
            rest = f"{user}:{MASK}{rest[end:]}"
    address, question, query = rest.partition("?")
    if question:
        query = "&".join(_masked_pair(pair) for pair in query.split("&"))
    return f"{scheme}{sep}{address}{question}{query}"


def _masked_pair(pair: str) -> str:
    """One ``key=value`` of a query, its value masked when the key names a secret."""
    key, equals, _ = pair.partition("=")
    if equals and unquote(key).strip().lower() in _SECRET_KEYS:
        return f"{key}={MASK}"
    return pair
