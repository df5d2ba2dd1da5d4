"""``ls`` and ``show``: what a store holds, and one conversation with its tree."""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from .._titles import imported_title, short, summary
from ..store import PostgresStore, SQLiteStore
from ._context import Context, add_db
from ._render import transcript
from ._tree import draw_tree

__all__ = ["add"]


def add(commands: Any) -> None:
    """Register ``ls`` and ``show`` on the program's subcommands."""
    ls = commands.add_parser(
        "ls",
        help="list the stored names and branches",
        description=(
            "List every named conversation and every leaf (a branch nothing extends): "
            "its names, id, number of turns and last turn."
        ),
    )
    add_db(ls)
    ls.add_argument("--json", action="store_true", help="print a JSON array, for scripts")
    ls.set_defaults(handler=_ls)
    show = commands.add_parser(
        "show",
        help="print a conversation and the tree of its branches",
        description=(
            "Print a stored conversation (by name, id, or a 6+ digit id prefix) as a "
            "transcript, then the tree of branches under its first turn."
        ),
    )
    add_db(show)
    show.add_argument("id", metavar="ID", help="a name, an id, or a unique id prefix")
    show.add_argument("--json", action="store_true", help="print its saved form (JSON)")
    show.set_defaults(handler=_show)


def _rows(store: SQLiteStore | PostgresStore) -> list[dict[str, Any]]:
    """One row per named id and per leaf: named first (by name), then leaves oldest first.

    Read from outlines (a few rows each), not by loading every conversation.
    """
    named: dict[str, list[str]] = {}
    for name, ident in sorted(store.names().items()):
        named.setdefault(ident, []).append(name)
    leaves = store.leaves()
    order = list(named) + [ident for ident in leaves if ident not in named]
    leaf = set(leaves)
    rows = []
    for outline in store.outlines(order):
        last = outline.last
        rows.append(
            {
                "id": outline.id,
                "names": named.get(outline.id, []),
                "title": imported_title(outline),
                "turns": outline.turns,
                "leaf": outline.id in leaf,
                "last": None if last is None else {"role": last.role, "text": summary(last)},
            }
        )
    return rows


def _ls(args: argparse.Namespace, context: Context) -> int:
    with context.open() as store:
        rows = _rows(store)
    if args.json:
        context.print(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return 0
    style = context.style
    for row in rows:
        names = ", ".join(row["names"]) or "-"
        last = row["last"]
        said = f"{style(last['role'], last['role'])}: {last['text']}" if last else ""
        title = f"{row['title']!r} " if row["title"] else ""
        context.print(
            f"{style('name', names)}  {style('id', short(row['id']))}  "
            f"{row['turns']} turns  {title}{said}".rstrip()
        )
    return 0


def _show(args: argparse.Namespace, context: Context) -> int:
    with context.open() as store:
        c = store.load(args.id)
        if args.json:
            context.print(c.dumps())
            return 0
        tree = draw_tree(store, c, context.style)
    style = context.style
    title = imported_title(c)
    context.print(style("bold", f"{title or 'conversation'} {c.id}"))
    context.print()
    for line in transcript(c, style):
        context.print(line)
    if tree:
        context.print(style("bold", "tree (* = this conversation)"))
        for line in tree:
            context.print(line)
    return 0
