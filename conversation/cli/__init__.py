"""The ``conversation`` command line: browse, export and import a store of conversations.

``conversation`` (the console script) and ``python -m conversation`` run the
same commands: ``ls``, ``show``, ``export``, ``import`` over a store named by
``--db`` (a SQLite path or a store URL, see :func:`conversation.store.open_store`),
and the offline ``demo``. Exit status 0 on success, 1 when the library refused
(one sentence on stderr saying what to do), 2 for a usage error.
"""

from __future__ import annotations

from ._app import main, run

__all__ = ["main", "run"]
