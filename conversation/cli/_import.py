"""``import``: the dialogues of a ChatGPT or Claude.ai data export, into the store."""

from __future__ import annotations

import argparse
from typing import Any

from .._titles import short
from ..errors import ImportFormatError
from ..imports import ImportReport, import_into, read_chatgpt, read_claude
from ._context import Context, add_db

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
            "on a terminal when tqdm is installed (the progress extra). A malformed "
            "conversation stops the import with exit status 1, naming it and the message; "
            "the dialogues before it stay imported: fix the file and import it again."
        ),
    )
    add_db(parser)
    parser.add_argument("app", choices=tuple(_READERS), help="the app the export is from")
    parser.add_argument("file", metavar="FILE", help="the export: .zip, folder or .json")
    parser.set_defaults(handler=_import)


def _import(args: argparse.Namespace, context: Context) -> int:
    """Import, then print the names set and the counts.

    At a malformed conversation, what was saved before it is printed the same
    way (marked as cut short) before the error goes on to the program's
    handler (its sentence on stderr, exit status 1).
    """
    dialogues = _READERS[args.app](args.file)
    with dialogues, context.open(create=True) as store:
        try:
            report = import_into(store, dialogues, progress=True)
        except ImportFormatError as error:
            if error.report is not None:
                _print(context, error.report, store.names(), "before the error")
            raise
        _print(context, report, store.names(), "read")
    return 0


def _print(context: Context, report: ImportReport, names: dict[str, str], read: str) -> None:
    style = context.style
    for name in report.names:
        context.print(f"{style('name', name)}  {style('id', short(names[name]))}")
    context.print(
        f"{report.dialogues} dialogues {read}: {len(report.added)} branches added, "
        f"{len(report.skipped)} already stored, {len(report.names)} names set"
    )
