"""``import``: the dialogues of a ChatGPT or Claude.ai data export, into the store."""

from __future__ import annotations

import argparse
from typing import Any

from ..imports import import_into, read_chatgpt, read_claude
from ._context import Context, add_db
from ._render import short

__all__ = ["add"]

_READERS = {"chatgpt": read_chatgpt, "claude": read_claude}


def add(commands: Any) -> None:
    """Register ``import`` on the program's subcommands."""
    parser = commands.add_parser(
        "import",
        help="import a ChatGPT or Claude.ai data export",
        description=(
            "Save every branch of every dialogue of an export (its .zip, folder or "
            "conversations.json) in the store, the app's active branch named APP/ID. "
            "Importing a newer export later adds only what is new. A progress bar shows "
            "on a terminal when tqdm is installed (the progress extra)."
        ),
    )
    add_db(parser)
    parser.add_argument("app", choices=tuple(_READERS), help="the app the export is from")
    parser.add_argument("file", metavar="FILE", help="the export: .zip, folder or .json")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace, context: Context) -> int:
    dialogues = _READERS[args.app](args.file)
    with dialogues, context.open(create=True) as store:
        report = import_into(store, dialogues, progress=True)
        names = store.names()
    style = context.style
    for name in report.names:
        context.print(f"{style('name', name)}  {style('id', short(names[name]))}")
    context.print(
        f"{report.dialogues} dialogues read: {len(report.added)} branches added, "
        f"{len(report.skipped)} already stored, {len(report.names)} names set"
    )
    return 0
