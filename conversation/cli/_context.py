"""What every command receives: where the store is, and how to write to the terminal."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, unquote

import attrs

from ..errors import StoreError
from ..store import PostgresStore, SQLiteStore, open_store
from ._style import Style, style_for

__all__ = ["DEFAULT_DB", "Command", "Context", "add_db"]

DEFAULT_DB = "chats.db"


@attrs.frozen
class Context:
    """The store's path or URL, stdout, and the colour style for stdout."""

    db: str
    out: TextIO
    style: Style

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Context:
        db = getattr(args, "db", None) or os.environ.get("CONVERSATION_DB") or DEFAULT_DB
        return cls(db, sys.stdout, style_for(sys.stdout))

    def open(self, *, create: bool = False) -> SQLiteStore | PostgresStore:
        """The store ``db`` names: a URL through ``open_store``, else a SQLite file.

        A SQLite file that does not exist is made only when ``create`` (import);
        reading commands say so instead of leaving an empty file behind.
        """
        url = self.db if "://" in self.db else "sqlite:///" + quote(self.db)
        file = url.startswith("sqlite:///") and url != "sqlite:///:memory:"
        path = unquote(url[len("sqlite:///") :])
        if file and not create and not Path(path).exists():
            raise StoreError(
                f"there is no store at {path!r}: give the right one with --db PATH (or set "
                "CONVERSATION_DB), or import dialogues into it first with 'conversation import'"
            )
        return open_store(url)

    def print(self, text: str = "") -> None:
        print(text, file=self.out)


Command = Callable[[argparse.Namespace, Context], int]


def add_db(parser: argparse.ArgumentParser) -> None:
    """``--db``, on the program and on each command that opens a store."""
    parser.add_argument(
        "--db",
        default=argparse.SUPPRESS,
        metavar="PATH|URL",
        help=(
            f"the store: a SQLite file, sqlite:///PATH or postgresql://... "
            f"(default: $CONVERSATION_DB, else {DEFAULT_DB})"
        ),
    )
