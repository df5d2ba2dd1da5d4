"""Checks every store makes of what it is given and what it reads back.

Names and ids on the way in, ids, names and the schema version on the way out:
written once here so the SQLite and PostgreSQL stores refuse the same things
with the same messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import CorruptStoreError, MalformedInputError, type_name
from ._rows import digest_of

__all__ = ["check_name", "id_list", "is_unicode", "schema_version", "stored_id", "stored_name"]


def stored_id(value: object) -> bytes:
    """An id read from the store: 32 bytes, or the store was damaged."""
    if type(value) is not bytes or len(value) != 32:
        raise CorruptStoreError(
            f"the store holds an id that is not 32 bytes ({value!r:.80}): it was changed "
            "outside this library; restore it from a backup"
        )
    return value


def stored_name(value: object) -> str:
    """A name read from the store: a str, or the store was damaged."""
    if type(value) is not str:
        raise CorruptStoreError(
            f"the store holds a name that is not text ({value!r:.80}): it was changed outside "
            "this library; restore it from a backup"
        )
    return value


def check_name(name: Any) -> None:
    if not isinstance(name, str) or not name.strip() or not is_unicode(name):
        raise MalformedInputError(
            f"a name must be a non-empty str of valid Unicode, got {name!r}", "name"
        )
    if digest_of(name) is not None:
        raise MalformedInputError(
            f"the name {name!r} would read as a conversation id (64 hex digits); choose another",
            "name",
        )


def id_list(ids: Iterable[str]) -> list[str]:
    """The ids (or names) of an ``outlines`` call as a list, each checked to be a str."""
    if isinstance(ids, str | bytes) or not isinstance(ids, Iterable):
        raise MalformedInputError(
            f"outlines takes a list of ids or names, got {type_name(ids)}; for one, give [id]",
            "ids",
        )
    found = list(ids)
    for index, item in enumerate(found):
        if not isinstance(item, str):
            raise MalformedInputError(
                f"ids must be ids or names (str), got {type_name(item)}", f"ids[{index}]"
            )
    return found


def is_unicode(text: str) -> bool:
    """False for text with lone surrogates, which SQLite cannot store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def schema_version(value: str | None, path: str) -> int:
    """The schema version ``store_info`` records: a whole number from 1, in ASCII digits."""
    digits = value if isinstance(value, str) and value.isascii() and value.isdigit() else ""
    if not 0 < len(digits) < 10 or int(digits) < 1:
        raise CorruptStoreError(
            f"{path!r} is a conversation store without a valid schema version ({value!r}); "
            "restore it from a backup"
        )
    return int(digits)
