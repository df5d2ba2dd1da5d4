"""``serve``: the local, read-only web viewer over a store (the ``viewer`` extra)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._context import Context, add_db

__all__ = ["add", "shown"]

DEFAULT_PORT = 8765
INSTALL = "pip install 'conversation-state[viewer]'"


def add(commands: Any) -> None:
    """Register ``serve`` on the program's subcommands."""
    serve = commands.add_parser(
        "serve",
        help="browse the store in a web browser (read-only)",
        description=(
            "Serve a local web page over the store: the dialogues with a search by title and "
            "text, each dialogue's tree of branches, a branch as a transcript, two branches "
            "side by side. It only reads the store. Needs the viewer extra: " + INSTALL + "."
        ),
    )
    add_db(serve)
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the TCP port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to listen on (default: 127.0.0.1, this machine only)",
    )
    serve.set_defaults(handler=_serve)


def shown(db: str) -> str:
    """The store as pages and messages name it: a URL's password blanked out.

    >>> shown("postgresql://me:s3cret@db:5432/chats?sslmode=require&password=s3cret")
    'postgresql://me:***@db:5432/chats?sslmode=require&password=***'
    """
    if "://" not in db:
        return db
    parts = urlsplit(db)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = f"{userinfo.partition(':')[0]}:***@{hostport}"
    query = re.sub(r"(?i)(^|&)(password=)[^&]*", r"\1\2***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _serve(args: argparse.Namespace, context: Context) -> int:
    try:
        from ..viewer import serve
    except ImportError as error:
        if error.name not in ("starlette", "uvicorn") and "starlette" not in str(error):
            raise
        print(
            f"conversation serve: error: the web viewer needs Starlette and uvicorn, which are "
            f"not installed; install them with: {INSTALL}",
            file=sys.stderr,
        )
        return 1

    def ready(url: str) -> None:
        context.print(f"Serving {label} read-only at {url} (Ctrl+C to stop)")
        context.out.flush()

    label = shown(context.db)
    with context.open() as store:
        try:
            serve(store, host=args.host, port=args.port, label=label, ready=ready)
        except KeyboardInterrupt:  # Ctrl+C: uvicorn has shut down cleanly, then re-raised it
            context.print("Stopped.")
        except OSError as error:
            print(
                f"conversation serve: error: cannot listen on {args.host}:{args.port}: "
                f"{error.strerror or error}; pick another with --port (0 picks a free one)",
                file=sys.stderr,
            )
            return 1
    return 0
