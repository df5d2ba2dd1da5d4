"""The viewer as an ASGI application (Starlette): its routes, headers and error pages.

Every route is GET (HEAD too); anything else is answered 405. Every answer
carries a Content-Security-Policy that allows only this site's own style
sheet and script (no inline script, no other origin) and images from
``data:`` URLs, and a Host header other than the ones the server was bound
for is refused, so a web page elsewhere cannot read the store through DNS
rebinding.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from importlib.resources import files
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..errors import (
    ConversationError,
    CorruptStoreError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
)
from ..store import Store
from ._pages import branch_page, compare_page, dialogue_page, error_page, list_page
from ._queries import Reader, Scope, root_of

__all__ = ["LOCAL_HOSTS", "SECURITY_HEADERS", "create_app"]

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
"""The loopback names a viewer always answers to (the Host header, with or without a port)."""

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
"""Sent with every answer (pages, JSON, static files and errors alike)."""

_STATIC = {"viewer.css": "text/css; charset=utf-8", "viewer.js": "text/javascript; charset=utf-8"}

Scope_ = dict[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGI = Callable[[Scope_, Receive, Send], Awaitable[None]]


class _Headers:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGI) -> None:
        """Wrap ``app``."""
        self.app = app

    async def __call__(self, scope: Scope_, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the headers to the response as it starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            """``send``, with each security header the response does not set itself."""
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [
                    (name.encode(), value.encode())
                    for name, value in SECURITY_HEADERS.items()
                    if name.encode() not in present
                ]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _HostCheck:
    """ASGI middleware refusing (400) a Host header the server was not started for.

    Compared whole, port included when given, so ``[::1]:8765`` is read right
    and a page elsewhere whose name was rebound to this machine is refused.
    """

    def __init__(self, app: ASGI, hosts: Iterable[str]) -> None:
        """Wrap ``app``, answering only ``hosts`` (compared in lower case)."""
        self.app = app
        self.hosts = frozenset(host.lower() for host in hosts)

    async def __call__(self, scope: Scope_, receive: Receive, send: Send) -> None:
        """Pass the request on when its Host is one answered, else refuse it (400)."""
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host", "").lower()
            if host not in self.hosts:
                refused = PlainTextResponse(
                    "This viewer answers only at the addresses it was started for; to reach "
                    "it by this name, start it again with --allow-host NAME.",
                    400,
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


_log = logging.getLogger(__name__)

_STORE_TROUBLE = {
    CorruptStoreError: (
        "Part of the store is damaged, so this page cannot be shown (other pages may still "
        "work). Check the store with the conversation command, or restore it from a backup."
    ),
    StoreBusyError: (
        "The store stayed locked by another program past the timeout. Reload the page in a moment."
    ),
    StoreConnectionError: (
        "The database server refused or dropped the connection. Check that it is running, "
        "then reload the page."
    ),
}


def _json(value: Any, status: int = 200) -> Response:
    """``value`` as a JSON response (orjson: fast, and strict about what it writes)."""
    return Response(orjson.dumps(value), status, media_type="application/json")


def _scope(value: str | None) -> Scope:
    """The ``in=`` parameter as a search scope; anything unknown searches everywhere."""
    return value if value in ("title", "text") else "all"  # type: ignore[return-value]


class _Views:
    """The route handlers over one store (run in the server's thread pool: they block)."""

    def __init__(self, store: Store, label: str) -> None:
        """The store to read, its label for the footers, and the static files read once."""
        self.reader = Reader(store)
        self.label = label
        folder = files(__package__) / "static"
        self.static = {name: (folder / name).read_bytes() for name in _STATIC}

    def home(self, request: Request) -> Response:
        """The list of dialogues (``/``), searched by ``q`` in ``in``, a page of them at a time."""
        query = request.query_params.get("q", "")
        scope = _scope(request.query_params.get("in"))
        hits = self.reader.search(query, scope)
        number = request.query_params.get("page", "1")
        page = int(number) if number.isdigit() and len(number) < 9 else 1
        return HTMLResponse(list_page(hits, query, scope, store=self.label, page=page))

    def dialogue(self, request: Request) -> Response:
        """A dialogue as the tree of its branches (``/d/ID``)."""
        dialogue = self.reader.dialogue(request.path_params["ident"])
        tree = self.reader.tree(dialogue.id)
        main = self.reader.load(dialogue.main.id)
        return HTMLResponse(dialogue_page(dialogue, tree, main, store=self.label))

    def branch(self, request: Request) -> Response:
        """A branch as a transcript (``/c/ID or name``)."""
        c = self.reader.load(request.path_params["ident"])
        dialogue = self.reader.dialogue(root_of(c))
        names = self.reader.named().get(c.id, ())
        return HTMLResponse(branch_page(c, names, dialogue, store=self.label))

    def compare(self, request: Request) -> Response:
        """Two branches side by side (``/compare?a=ID&b=ID``); 400 without both."""
        a, b = request.query_params.get("a"), request.query_params.get("b")
        if not a or not b:
            raise HTTPException(400, "give two branches to compare: /compare?a=ID&b=ID")
        left, right = self.reader.load(a), self.reader.load(b)
        page = compare_page(left, right, self.reader.named(), store=self.label)
        return HTMLResponse(page)

    def api_dialogues(self, request: Request) -> Response:
        """The list (or a search) as JSON, for programs: ``/api/dialogues?q=...``."""
        query = request.query_params.get("q", "")
        hits = self.reader.search(query, _scope(request.query_params.get("in")))
        return _json(
            [
                {
                    "id": hit.dialogue.id,
                    "title": hit.dialogue.title,
                    "names": hit.dialogue.names,
                    "app": hit.dialogue.app,
                    "updated": hit.dialogue.updated,
                    "turns": hit.dialogue.turns,
                    "branches": [
                        {"id": b.id, "names": b.names, "turns": b.turns}
                        for b in hit.dialogue.branches
                    ],
                    "match": None
                    if hit.snippet is None
                    else {"branch": hit.branch, "turn": hit.turn, "text": hit.snippet},
                }
                for hit in hits
            ]
        )

    def api_conversation(self, request: Request) -> Response:
        """A conversation's saved form as JSON, with its dialogue and names."""
        c = self.reader.load(request.path_params["ident"])
        return _json(
            {
                "id": c.id,
                "dialogue": root_of(c),
                "names": self.reader.named().get(c.id, ()),
                "saved": orjson.loads(c.dumps()),
            }
        )

    def static_file(self, request: Request) -> Response:
        """The viewer's own style sheet or script; any other name is a 404."""
        name = request.path_params["name"]
        if name not in _STATIC:
            raise HTTPException(404, f"there is no static file {name!r}")
        return Response(self.static[name], media_type=_STATIC[name])

    def routes(self) -> list[Route]:
        """Every route, each GET only (Starlette answers HEAD too, and 405 to the rest)."""
        get = ["GET"]
        return [
            Route("/", self.home, methods=get),
            Route("/d/{ident:path}", self.dialogue, methods=get),
            Route("/c/{ident:path}", self.branch, methods=get),
            Route("/compare", self.compare, methods=get),
            Route("/api/dialogues", self.api_dialogues, methods=get),
            Route("/api/conversations/{ident:path}", self.api_conversation, methods=get),
            Route("/static/{name}", self.static_file, methods=get),
        ]

    def _wants_json(self, request: Request) -> bool:
        """Whether the error answers a program (``/api/``: JSON) rather than a person (HTML)."""
        return request.url.path.startswith("/api/")

    def _error(self, request: Request, status: int, title: str, detail: str) -> Response:
        """An error as a page (or JSON), with the security headers set here: a 500 is sent
        from outside the headers middleware."""
        if self._wants_json(request):
            response = _json({"error": title, "detail": detail}, status)
        else:
            response = HTMLResponse(error_page(status, title, detail, store=self.label), status)
        if status == 405:
            response.headers["allow"] = "GET, HEAD"
        response.headers.update(SECURITY_HEADERS)
        return response

    async def http_error(self, request: Request, exc: Exception) -> Response:
        """A 400, 404 or 405 as a page (or JSON) saying what was wrong and what to do."""
        assert isinstance(exc, HTTPException)
        titles = {404: "Not found", 405: "Method not allowed", 400: "Bad request"}
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no page at {request.url.path}."
        if exc.status_code == 405:
            detail = f"This viewer is read-only: it answers GET, not {request.method}."
        title = titles.get(exc.status_code, "Error")
        return self._error(request, exc.status_code, title, detail)

    async def library_error(self, request: Request, exc: Exception) -> Response:
        """The library's refusals: no such conversation (404), the store failing (500), else 400."""
        assert isinstance(exc, ConversationError)
        if isinstance(exc, StoreNotFoundError):
            said = str(exc).split(";")[0]  # the rest names the Python API
            detail = f"{said[:1].upper()}{said[1:]}. The list of dialogues links to every one "
            detail += "this store holds."
            return self._error(request, 404, "No such conversation", detail)
        if isinstance(exc, StoreError):  # the store failed: the server's fault, not the URL's
            _log.error("conversation viewer: %s failed: %s", request.url.path, exc)
            detail = next(
                (said for kind, said in _STORE_TROUBLE.items() if isinstance(exc, kind)),
                "The store could not be read. Check it with the conversation command.",
            )
            return self._error(request, 500, "Cannot read the store", detail)
        return self._error(request, 400, "Cannot show this", str(exc))

    async def server_error(self, request: Request, exc: Exception) -> Response:
        """Anything unexpected: a 500 page saying what to do; the traceback goes to the
        server's log (uvicorn prints it), never to the browser."""
        detail = (
            "The viewer failed while making this page. Reload it; if it fails again, the "
            "server's output says why (please report it)."
        )
        return self._error(request, 500, "Something went wrong", detail)


def create_app(
    store: Store, *, label: str = "a conversation store", hosts: Iterable[str] = LOCAL_HOSTS
) -> Starlette:
    """The viewer over ``store``: an ASGI app to run with uvicorn (see :func:`serve`).

    ``label`` names the store in each page's footer; ``hosts`` are the Host
    header values answered, each compared whole (``name`` or ``name:port``;
    :func:`conversation.viewer._serve.hosts` makes the list). The app only
    reads: it never saves, moves a name or deletes.
    """
    views = _Views(store, label)
    return Starlette(
        routes=views.routes(),
        middleware=[
            Middleware(_Headers),
            Middleware(_HostCheck, hosts=hosts),
        ],
        exception_handlers={
            HTTPException: views.http_error,
            ConversationError: views.library_error,
            Exception: views.server_error,
        },
    )
