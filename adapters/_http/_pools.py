"""The HTTP clients an adapter sends through, and closing every one it opened.

One adapter sends both ways (``send`` and ``asend``), so it may open a sync
client and async clients. An async client's connections belong to the event
loop that opened them and cannot be used from another, so the adapter opens
one async client per event loop. Each is closed:

- by ``aclose()`` / ``async with`` (and by ``close()`` / ``with``: on the
  loop running in this thread, the close is handed to that loop as a task;
  on a loop running in another thread, it is run there and waited for);
- at the latest when its event loop shuts down: a small async generator
  started on that loop closes it when the loop finalizes its async
  generators, as ``asyncio.run``, ``anyio.run`` and ``trio.run`` do. So
  ``with adapter: anyio.run(adapter.asend, c)`` leaves no connection open,
  and the adapter can be used again from a new loop.

A client passed in by the caller (``http_client=``, ``async_http_client=``)
is the caller's: it is used as it is and never closed here.

Why not two adapters, one sync and one async, as httpx has ``Client`` and
``AsyncClient``: an adapter is one object with ``send`` and ``asend`` (the
``Adapter`` protocol, and every helper that takes "an adapter" relies on
it), so the one object owns both kinds of client and closes both.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator
from typing import Final

import anyio.from_thread
import anyio.lowlevel
import anyio.to_thread
import attrs
import httpx

__all__ = ["Pools"]

_LIMITS: Final = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


async def _closed_at_loop_end(client: httpx.AsyncClient) -> AsyncGenerator[None, None]:
    """Suspended until closed: closing it (or its loop's shutdown) closes ``client``."""
    try:
        yield
    finally:
        await client.aclose()


@attrs.define(eq=False)
class _LoopClient:
    """The adapter's async client on one event loop, with the generator that closes it."""

    token: anyio.lowlevel.EventLoopToken
    client: httpx.AsyncClient
    guard: AsyncGenerator[None, None]


def _running_loop() -> object:
    """The running event loop (asyncio's loop, another backend's native token), cheaply."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: ask anyio (slower, and only for other backends)
        return anyio.lowlevel.current_token().native_token


def _running_token() -> anyio.lowlevel.EventLoopToken | None:
    try:
        return anyio.lowlevel.current_token()
    except RuntimeError:  # NoEventLoopError: no loop runs in this thread
        return None


class Pools:
    """The sync client and the per-loop async clients of one adapter (thread-safe)."""

    def __init__(
        self,
        timeout: httpx.Timeout,
        client: httpx.Client | None,
        async_client: httpx.AsyncClient | None,
    ) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()
        self._user_client = client
        self._user_async_client = async_client
        self._own_client: httpx.Client | None = None
        self._loop_clients: list[_LoopClient] = []
        self._closing: set[asyncio.Task[None]] = set()

    def client(self) -> httpx.Client:
        """The sync client: the caller's, or the adapter's own (opened on first use)."""
        if self._user_client is not None:
            return self._user_client
        with self._lock:
            if self._own_client is None:
                self._own_client = httpx.Client(timeout=self._timeout, limits=_LIMITS)
            return self._own_client

    async def async_client(self) -> httpx.AsyncClient:
        """The async client: the caller's, or the adapter's own for the running loop."""
        if self._user_async_client is not None:
            return self._user_async_client
        loop = _running_loop()
        for made in self._loop_clients:  # read without the lock: the list is only replaced
            if made.token.native_token is loop and not made.client.is_closed:
                return made.client
        with self._lock:
            live = [c for c in self._loop_clients if not c.client.is_closed]
            client = httpx.AsyncClient(timeout=self._timeout, limits=_LIMITS)
            guard = _closed_at_loop_end(client)
            self._loop_clients = [*live, _LoopClient(anyio.lowlevel.current_token(), client, guard)]
        await guard.__anext__()  # runs to its yield: the loop now finalizes it at shutdown
        return client

    def _take(self) -> tuple[httpx.Client | None, list[_LoopClient]]:
        with self._lock:
            own, self._own_client = self._own_client, None
            loop_clients, self._loop_clients = self._loop_clients, []
        return own, [c for c in loop_clients if not c.client.is_closed]

    def close(self) -> None:
        """Close every client the adapter opened, from sync code."""
        own, loop_clients = self._take()
        if own is not None:
            own.close()
        running = _running_token()
        for made in loop_clients:
            if running is not None and running.native_token is made.token.native_token:
                self._close_soon(made)
            else:
                self._close_elsewhere(made)

    async def aclose(self) -> None:
        """Close every client the adapter opened; this loop's is awaited."""
        own, loop_clients = self._take()
        if own is not None:
            own.close()
        running = anyio.lowlevel.current_token()
        for made in loop_clients:
            if running.native_token is made.token.native_token:
                await made.guard.aclose()
            else:
                await anyio.to_thread.run_sync(self._close_elsewhere, made)

    def _close_soon(self, made: _LoopClient) -> None:
        """Hand the close of a client of the loop running here to that loop, as a task."""
        loop = made.token.native_token
        if isinstance(loop, asyncio.AbstractEventLoop):
            task = loop.create_task(made.guard.aclose())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        # Another backend (trio) closes it when the loop shuts down (see the module docs).

    @staticmethod
    def _close_elsewhere(made: _LoopClient) -> None:
        """Close a client of a loop that is not running in this thread.

        A loop running in another thread closes it there (waited for); an
        asyncio loop that is stopped but not closed is run to close it; a
        loop that has ended closed it already, when it finalized its async
        generators.
        """
        loop = made.token.native_token
        if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_running():
            if not loop.is_closed() and _running_token() is None:
                loop.run_until_complete(made.guard.aclose())
            return
        with contextlib.suppress(RuntimeError):  # RunFinishedError: that loop ended meanwhile
            anyio.from_thread.run(made.guard.aclose, token=made.token)
