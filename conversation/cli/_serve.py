"""``serve``: the local, read-only web viewer over a store (the ``viewer`` extra)."""

from __future__ import annotations

import argparse
import errno
import ipaddress
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

from ._context import Context, add_db
from ._secrets import masked_url

__all__ = ["add"]

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
        type=_port,
        default=DEFAULT_PORT,
        help=f"the TCP port to listen on; 0 picks a free one (default: {DEFAULT_PORT})",
    )
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help=(
            "the address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 or :: "
            "listens on every interface, so other machines can read the store)"
        ),
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help=(
            "a further name the browser may reach the viewer by (the Host header it sends), "
            "e.g. this machine's name on your network; repeatable"
        ),
    )
    serve.set_defaults(handler=_serve)


def _port(text: str) -> int:
    """``--port``: a TCP port number, 0 to 65535 (0 picks a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a TCP port: give 0 to 65535 (0 picks a free one)"
        )
    return port


def _hint(error: OSError) -> str:
    """What to change when listening failed: the address (--host) or the port (--port)."""
    if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
        return "give an address of this machine with --host (127.0.0.1 is this machine only)"
    return "pick another with --port (0 picks a free one)"


def _beyond_loopback(url: str) -> bool:
    """Whether the viewer at ``url`` (its address as bound) is reachable from other machines."""
    host = urlsplit(url).hostname or ""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _serve(args: argparse.Namespace, context: Context) -> int:
    """Run the viewer over ``--db`` until Ctrl+C; 1 when it cannot start, saying why."""
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
        """Say where the viewer listens (and warn first when the network can reach it)."""
        if _beyond_loopback(url):
            print(
                f"conversation serve: warning: listening on {args.host}, beyond this machine: "
                "anyone who can reach this port can read the whole store",
                file=sys.stderr,
            )
        context.print(f"Serving {label} read-only at {url} (Ctrl+C to stop)")
        context.out.flush()

    label = masked_url(context.db)
    with context.open() as store:
        try:
            serve(
                store,
                host=args.host,
                port=args.port,
                label=label,
                ready=ready,
                allow=args.allow_host,
            )
        except KeyboardInterrupt:  # Ctrl+C: uvicorn has shut down cleanly, then re-raised it
            context.print("Stopped.")
        except OSError as error:
            print(
                f"conversation serve: error: cannot listen on {args.host}:{args.port}: "
                f"{error.strerror or error}; {_hint(error)}",
                file=sys.stderr,
            )
            return 1
    return 0
