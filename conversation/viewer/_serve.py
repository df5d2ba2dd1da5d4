"""Running the viewer: a listening socket, then uvicorn serving the app on it until Ctrl+C.

The socket is bound before uvicorn starts, so port 0 (any free port) works
and the address printed is the one listening.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

import uvicorn

from ..store import Store
from ._app import LOCAL_HOSTS, create_app

__all__ = ["listen", "serve"]


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (IPv4 or IPv6; port 0 picks a free one)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


def _hosts(host: str) -> list[str]:
    """The Host header values to answer: any when listening everywhere, else this host's."""
    try:
        if ipaddress.ip_address(host).is_unspecified:
            return ["*"]
    except ValueError:  # a name, like localhost
        pass
    return [*LOCAL_HOSTS, host]


def address(sock: socket.socket) -> str:
    """The http URL a socket listens at."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    store: Store,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    label: str = "a conversation store",
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve the viewer over ``store`` on ``host``:``port`` until interrupted.

    ``ready`` is called with the URL once the socket listens (the command
    prints it). The store is only read; closing it is the caller's.
    """
    sock = listen(host, port)
    with sock:
        app = create_app(store, label=label, hosts=_hosts(host))
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
        if ready is not None:
            ready(address(sock))
        uvicorn.Server(config).run(sockets=[sock])
