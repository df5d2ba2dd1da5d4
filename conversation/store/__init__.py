"""Conversation stores: trees of conversations kept by content id, shared prefixes once.

A store saves a :class:`~conversation.Conversation` under its content id
(:attr:`Conversation.id`) and loads it back equal: system, turns, provenance
and metadata. Every turn is kept once, however many stored conversations
share it, so branches cost only their own turns; names point at ids and move
like git branches.

:class:`SQLiteStore` is the embedded store (one file, stdlib ``sqlite3``);
:class:`PostgresStore` (and its asyncio twin :class:`AsyncPostgresStore`) keeps
the same trees on a PostgreSQL server shared by many machines (the
``postgres`` extra); :func:`open_store` opens either by URL. Any class with
the methods of :class:`Store` is a store too. The stores here also give
``outlines(ids)``: an :class:`Outline` of each, what a listing shows of
a conversation, read without loading it.

>>> from conversation import Conversation
>>> from conversation.store import SQLiteStore
>>> store = SQLiteStore(":memory:")
>>> c = Conversation().user("Plan a trip to Lisbon").assistant("Three days?")
>>> a = store.save(c.user("Yes, three"), name="trip")
>>> b = store.save(c.user("No, a week"))
>>> store.children(c.id) == [a, b]
True
>>> store.close()
"""

from ..errors import (
    CorruptStoreError,
    NotAStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StoreVersionError,
)
from ..errors import StoreNotFoundError as NotFoundError
from ._outline import Outline
from ._postgres import AsyncPostgresStore, PostgresStore
from ._protocol import Store
from ._sqlite import SQLiteStore
from ._url import open_store

__all__ = [
    "AsyncPostgresStore",
    "CorruptStoreError",
    "NotAStoreError",
    "NotFoundError",
    "Outline",
    "PostgresStore",
    "SQLiteStore",
    "Store",
    "StoreBusyError",
    "StoreConnectionError",
    "StoreError",
    "StoreVersionError",
    "open_store",
]
