"""Running the viewer: a listening socket, then uvicorn serving the app on it until Ctrl+C.

The socket is bound before uvicorn starts, so port 0 (any free port) works
and the address printed is the one listening.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable

import uvicorn

from ..store import Store
from ._app import LOCAL_HOSTS, create_app

__all__ = ["hosts", "listen", "serve"]


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


def _machine(family: int) -> list[str]:
    """This machine's name, its fully qualified name and their addresses (of ``family``)."""
    names = {socket.gethostname(), socket.getfqdn()} - {""}
    found = set(names)
    for name in names:
        try:
            found.update(str(info[4][0]) for info in socket.getaddrinfo(name, None, family=family))
        except OSError:  # a name this machine cannot resolve: answered by name only
            continue
    return sorted(found)


def hosts(host: str, port: int, allow: Iterable[str] = ()) -> list[str]:
    """The Host header values to answer, each bare and with ``port``.

    Always the loopback names; the bound ``host`` itself; for a wildcard bind
    (``0.0.0.0``, ``::``) this machine's names and addresses; and the names
    in ``allow``. Never "any": a Host check is what stops a page elsewhere
    from reading the store through DNS rebinding, on every interface too.
    """
    names = [*LOCAL_HOSTS, host, *allow]
    try:
        bound = ipaddress.ip_address(host)
    except ValueError:  # a name, like localhost
        bound = None
    if bound is not None and bound.is_unspecified:
        names += _machine(socket.AF_INET6 if bound.version == 6 else socket.AF_UNSPEC)
    answered: list[str] = []
    for name in names:
        name = name.lower()
        if ":" in name and not name.startswith("["):  # an IPv6 address goes in brackets
            name = f"[{name}]"
        for value in (name, f"{name}:{port}"):
            if value not in answered:
                answered.append(value)
    return answered


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
    allow: Iterable[str] = (),
) -> None:
    """Serve the viewer over ``store`` on ``host``:``port`` until interrupted.

    ``ready`` is called with the URL once the socket listens (the command
    prints it). ``allow`` are further names a browser may use for this
    machine (see :func:`hosts`). The store is only read; closing it is the
    caller's.
    """
    sock = listen(host, port)
    with sock:
        port = sock.getsockname()[1]
        app = create_app(store, label=label, hosts=hosts(host, port, allow))
        config = uvicorn.Config(app, log_level="warning", access_log=False, server_header=False)
        if ready is not None:
            ready(address(sock))
        uvicorn.Server(config).run(sockets=[sock])
