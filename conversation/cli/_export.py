"""``export``: one stored conversation as its save format, a request body, or Markdown."""

from __future__ import annotations

import argparse
from typing import Any

from ._context import Context, add_db
from ._render import markdown

__all__ = ["add"]

_FORMATS = ("json", "markdown", "payload")


def add(commands: Any) -> None:
    """Register ``export`` on the program's subcommands."""
    export = commands.add_parser(
        "export",
        help="print a conversation as JSON, Markdown or a request body",
        description=(
            "Print a stored conversation: json is the library's save format "
            "(Conversation.loads reads it back, everything kept), payload the Messages API "
            "request body (Conversation.to_json), markdown a transcript to read or share."
        ),
    )
    add_db(export)
    export.add_argument("id", metavar="ID", help="a name, an id, or a unique id prefix")
    export.add_argument(
        "--format", choices=_FORMATS, default="json", help="what to print (default: json)"
    )
    export.set_defaults(handler=_export)


def _export(args: argparse.Namespace, context: Context) -> int:
    with context.open() as store:
        c = store.load(args.id)
    if args.format == "json":
        context.print(c.dumps())
    elif args.format == "payload":
        context.print(c.to_json().decode("utf-8"))
    else:
        context.out.write(markdown(c))
    return 0
