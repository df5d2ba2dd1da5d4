"""What a listing shows of a stored conversation, read from a few rows without loading it.

A store's ``outlines`` reads, for each id, the row of its last turn, its
depth and the metadata a load would carry: a handful of rows whatever the
conversation's length, where ``load`` reads (and hashes) every turn on its path.
"""

from __future__ import annotations

from typing import Any

import attrs
import orjson

from .._json import EMPTY, FrozenDict
from .._save import read_turn
from .._turn import Turn
from ..errors import ConversationError, CorruptStoreError
from ._rows import metadata_matches, read_metadata, turn_record

__all__ = ["Outline", "outline"]


@attrs.frozen
class Outline:
    """A stored conversation as a listing shows it: its length, last turn and metadata.

    ``last`` is None for a conversation without turns; :attr:`metadata` is what
    :meth:`load` would carry. Unlike ``load``, the last turn is not checked
    against the id (that takes every turn on the path): load it to be sure.
    """

    id: str
    turns: int
    last: Turn | None
    metadata_row: tuple[bytes, bytes] | None = attrs.field(default=None, repr=False)
    """The stored metadata (its digest and JSON), None when it is empty."""

    @property
    def metadata(self) -> FrozenDict:
        """The metadata, read from its row at each access (a listing that reads one
        field of it keeps none of it), checked against its digest."""
        if self.metadata_row is None:
            return EMPTY
        digest, data = self.metadata_row
        if not metadata_matches(digest, data):
            raise CorruptStoreError(
                f"the metadata of conversation {self.id} was changed outside this library; "
                "restore the store from a backup"
            )
        try:
            return read_metadata(data)
        except (ConversationError, orjson.JSONDecodeError) as exc:
            raise CorruptStoreError(
                f"the metadata of conversation {self.id} cannot be read ({exc}); restore the "
                "store from a backup"
            ) from None


def outline(
    digest: bytes, depth: int, data: Any, meta_digest: Any, meta_data: Any, meta: object
) -> Outline:
    """The outline of the node ``digest``: its depth, its row's JSON ``data`` (a turn, or the
    system prompt of a root) and its metadata row (``meta`` None when it has none)."""
    ident = digest.hex()
    if meta is not None and (type(meta_digest) is not bytes or type(meta_data) is not bytes):
        raise CorruptStoreError(
            f"the metadata of conversation {ident} is missing from the store or was changed "
            "outside this library; restore the store from a backup"
        )
    try:
        last = None if depth == 0 else read_turn(turn_record(orjson.loads(data), depth - 1), "turn")
    except (ConversationError, orjson.JSONDecodeError, TypeError) as exc:
        raise CorruptStoreError(
            f"conversation {ident} is stored, but its last turn cannot be read ({exc}); "
            "restore the store from a backup, or delete that conversation"
        ) from None
    row = None if meta is None else (meta_digest, meta_data)
    return Outline(ident, depth, last, row)
