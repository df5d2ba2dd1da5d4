"""``shown``: a store as messages and pages name it, its password masked.

Shared by ``serve`` (the banner and every page's footer) and ``chat`` (its
first line), so a password given in ``--db`` never reaches a screen.
"""

from __future__ import annotations

import re

__all__ = ["shown"]

_PASSWORD_PARAMETER = re.compile(r"(?i)(^|&)(password=)[^&]*")


def shown(db: str) -> str:
    """The store as pages and messages name it: a URL's password blanked out.

    Only the password changes; the rest of ``db`` is kept as written (an empty
    host, as in ``postgresql:///db?host=/tmp``, stays ``///``).

    >>> shown("postgresql://me:s3cret@db:5432/chats?sslmode=require&password=s3cret")
    'postgresql://me:***@db:5432/chats?sslmode=require&password=***'
    >>> shown("postgresql:///chats?host=/tmp&password=s3cret")
    'postgresql:///chats?host=/tmp&password=***'
    >>> shown("chats.db")
    'chats.db'
    """
    if "://" not in db:
        return db
    scheme, _, rest = db.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    after = rest[len(netloc) :]  # the path, query and fragment as written
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    path, mark, query = after.partition("?")
    if mark:
        query, hash_, fragment = query.partition("#")
        query = _PASSWORD_PARAMETER.sub(r"\1\2***", query) + hash_ + fragment
    return f"{scheme}://{netloc}{path}{mark}{query}"
