"""The ``conversation`` command line: chat, browse, export, import, replay and serve a store.

``conversation`` (the console script) and ``python -m conversation`` run the
same commands: ``demo`` (offline, no store), and ``ls``, ``show``,
``export``, ``import``, ``chat``, ``replay`` and ``serve`` over a store named
by ``--db`` (a SQLite path or a store URL, see
:func:`conversation.store.open_store`). ``chat`` and ``replay`` are the one
place the core package uses ``adapters`` (imported when they run, never by
``import conversation``), to pick a model by name. Exit status 0 on success,
1 when the library refused (one sentence on stderr saying what to do), 2 for
a usage error.
"""

from __future__ import annotations

from ._app import main, run

__all__ = ["main", "run"]
