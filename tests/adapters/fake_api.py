"""A fake Anthropic Messages API on 127.0.0.1, for the adapter tests and the benchmarks.

A real HTTP/1.1 server (asyncio, in a thread of its own), so that a transport
is tested through its real HTTP stack: connection pooling and keep-alive,
``Content-Length`` request bodies, chunked or close-delimited SSE responses,
resets, half-sent streams. No third-party server code: the few parts of
HTTP/1.1 that a client of the Messages API uses are parsed here, which also
keeps the server fast enough for the benchmarks (hundreds of requests, a
stream of 10,000 deltas).

Use it through the ``fake_api`` fixture (``tests/adapters/conftest.py``), or
directly::

    with FakeMessagesAPI() as api:
        api.queue(Error(529, "overloaded_error", retry_after=0), Reply(text="Hi!"))
        adapter = AnthropicAdapter(api_key="test", base_url=api.base_url)
        ...
        assert [r.path for r in api.requests] == ["/v1/messages"] * 2

The server
    ``FakeMessagesAPI(default=None)``: ``start()`` / ``stop()`` (or ``with``);
    ``base_url`` (``"http://127.0.0.1:<port>"``, a free port picked at start);
    ``queue(*responses)``: answers served in order, one per request, whatever
    its path; ``requests``: a snapshot of every :class:`RecordedRequest` so
    far, in order of arrival; ``clear()``: forget queued answers and recorded
    requests; ``pending``: how many queued answers are left; ``connections``:
    how many TCP connections were accepted (to check keep-alive);
    ``open_connections``: how many are open now, and ``wait_open(n)``: wait
    until that is ``n`` (a client's close reaches the server a moment after it
    is made), to check that a client closed what it opened; ``errors``:
    exceptions the server itself raised (a bug in the fake; the fixture fails
    the test on them).

    When the queue is empty the server answers with ``default`` if one was
    given (to every request, whatever its path); otherwise by the request:
    ``POST .../count_tokens`` gets ``{"input_tokens": len(body) // 4}``, a body
    with ``"stream": true`` gets ``Stream()``, anything else ``Reply()``.
    ``Reply()`` and ``Stream()`` without a ``message`` echo the request's
    ``model``. ``route(prefix, handler)`` sends the requests whose path starts
    with ``prefix`` (and that no queued answer took) to ``handler(method, path,
    body)`` for their answer: the Message Batches endpoints live in
    ``tests/adapters/fake_batches.py`` this way.

Answers (frozen attrs classes; every one takes ``headers=`` to add or override
response headers, and ``delay=`` seconds to wait before the response starts,
which is how a slow server or a timeout is simulated: there is no ``Slow``;
``delay=UNTIL_STOPPED`` holds the answer until the server stops, so a timeout
test does not depend on how long a pause lasts)
    ``Reply(message=None, text="ok", status=200)``: a JSON Message.
    ``Error(status, type, message=None, retry_after=None, retry_after_ms=None,
    should_retry=None, raw_body=None)``: an API error body, or ``raw_body``
    as is (say an HTML 413 from a proxy).
    ``Stream(message=None, text="ok", events=None, cut_after=None,
    error_event=None, pause=0.0, pings=True, text_chunk=8, chunked=True)``:
    a 200 ``text/event-stream``.
    ``Reset()``: the connection is reset (TCP RST) without a response.
    ``Malformed(body=b'{"id": "msg_', status=200, content_type="application/json")``.
    ``Raw(body, status=200, content_type="application/json")``: a well-formed body
    the other answers do not build (a batch object, a results file).
    ``CountTokens(input_tokens)``: the count_tokens answer.

Every response carries a ``request-id: req_fake_NNNN`` header (NNNN counts the
requests this server received, from 0001); error bodies repeat it as
``request_id``, and built Messages are ``msg_fake_NNNN``.

Helpers: :func:`stream_events` (the exact SSE event sequence of a final
Message, per §7 of the API notes), :func:`make_message` (a valid Message
dict), :func:`many_deltas_message` (a Message that streams as exactly ``n``
text deltas).
"""

from __future__ import annotations

import asyncio
import http
import json
import math
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Self, TypeAlias

import attrs

from conversation._closing import Closing

__all__ = [
    "DEFAULT_MODEL",
    "UNTIL_STOPPED",
    "CountTokens",
    "Error",
    "FakeMessagesAPI",
    "Malformed",
    "Raw",
    "RecordedRequest",
    "Reply",
    "Reset",
    "Response",
    "Stream",
    "make_message",
    "many_deltas_message",
    "stream_events",
]

DEFAULT_MODEL = "claude-sonnet-4-5"
"""The model of built Messages when the request names none."""

UNTIL_STOPPED = math.inf
"""A ``delay`` or ``pause`` that lasts until the server stops (at the test's teardown)."""

_READ_LIMIT = 1 << 20  # longest request head (and chunk-size line) accepted, bytes
_TIMEOUT = 10.0  # seconds start() and stop() wait for the server thread


# --------------------------------------------------------------------------- requests


@attrs.frozen
class RecordedRequest:
    """One request as the server received it.

    ``headers`` has lower-cased names (a repeated header's values joined by
    ``", "``); ``body`` is the raw body (chunked bodies de-chunked); ``path``
    is the request target as sent, query string included; ``at`` is
    ``time.monotonic()`` when the whole request had arrived, so the gaps
    between retries can be checked.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


# --------------------------------------------------------------------------- answers


def _headers_field() -> Any:
    return attrs.field(factory=dict, kw_only=True)


def _cache_field() -> Any:
    # Encoded bodies that do not depend on the request, kept per answer: a stream of
    # 10,000 events served again and again in a benchmark is encoded once.
    return attrs.field(factory=dict, init=False, eq=False, repr=False)


@attrs.frozen
class Reply:
    """A JSON Message (``200`` unless ``status`` says otherwise).

    Without ``message``, a valid Message is built: id ``msg_fake_NNNN``, the
    request's model, one text block ``text``, ``end_turn``, and a usage with
    the cache fields.
    """

    message: dict[str, Any] | None = None
    text: str = "ok"
    status: int = 200
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)
    _cache: dict[str, bytes] = _cache_field()


@attrs.frozen
class Error:
    """An API error: ``{"type": "error", "error": {"type", "message"}, "request_id"}``.

    ``retry_after`` (seconds), ``retry_after_ms`` and ``should_retry`` add the
    ``retry-after``, ``retry-after-ms`` and ``x-should-retry`` headers.
    ``message=None`` picks a message fitting ``type``. ``raw_body`` replaces the
    JSON body (sent as ``text/html`` unless ``headers`` names a content-type),
    as an edge proxy's 413 page would be.
    """

    status: int
    type: str
    message: str | None = None
    retry_after: float | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    raw_body: bytes | None = None
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)


@attrs.frozen
class Stream:
    """A ``200 text/event-stream`` response: the SSE events of one reply.

    The events are ``events`` as given, or else :func:`stream_events` of
    ``message`` (or of a built Message with one text block ``text``, as
    :class:`Reply` builds it), text cut in ``text_chunk``-character deltas;
    ``pings=False`` leaves the ping out of the built sequence.

    ``cut_after=N`` sends only the first N events (pings count) and then closes
    the connection without ending the body: with chunked framing the final
    zero-size chunk is missing, so an HTTP client reports an incomplete body.
    ``error_event`` (``{"type": "error", "error": {...}}``, or just the inner
    ``{"type": "overloaded_error", "message": ...}``) is sent as
    ``event: error`` after the first ``cut_after`` events (after all of them
    if ``cut_after`` is None), and the body then ends normally. ``pause``
    seconds pass between events (``UNTIL_STOPPED``: the first event is sent,
    the rest only once the server stops, that is never). ``chunked=False`` sends the body without
    ``Transfer-Encoding: chunked``, delimited by closing the connection.
    ``frames`` replaces the events by SSE frames sent as they are (another
    provider's stream: ``tests/adapters/openai/fake_chat.py``); ``cut_after``
    counts frames then.
    """

    message: dict[str, Any] | None = None
    text: str = "ok"
    events: list[tuple[str, dict[str, Any]]] | None = None
    frames: list[bytes] | None = None
    cut_after: int | None = None
    error_event: dict[str, Any] | None = None
    pause: float = 0.0
    pings: bool = True
    text_chunk: int = 8
    chunked: bool = True
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)
    _cache: dict[str, bytes] = _cache_field()


@attrs.frozen
class Reset:
    """No response: the connection is reset (TCP RST), after ``delay`` seconds."""

    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)


@attrs.frozen
class Malformed:
    """``body`` as is, under ``status`` and ``content_type``: a reply no parser accepts."""

    body: bytes = b'{"id": "msg_'
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)


@attrs.frozen
class Raw:
    """``body`` as is, under ``status`` and ``content_type``: a body built by the test."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)


@attrs.frozen
class CountTokens:
    """The answer of ``POST /v1/messages/count_tokens``: ``{"input_tokens": n}``."""

    input_tokens: int
    headers: Mapping[str, str] = _headers_field()
    delay: float = attrs.field(default=0.0, kw_only=True)


Response: TypeAlias = Reply | Error | Stream | Reset | Malformed | Raw | CountTokens
"""Any answer the server can be told to give."""

Handler: TypeAlias = Callable[[str, str, bytes], Response]
"""What answers a routed request: ``handler(method, path, body)``."""

_ANSWERS = (Reply, Error, Stream, Reset, Malformed, Raw, CountTokens)


# --------------------------------------------------------------------------- messages


def make_message(
    text: str = "ok",
    *,
    model: str = DEFAULT_MODEL,
    id: str = "msg_fake_0000",
    input_tokens: int = 10,
    output_tokens: int | None = None,
    stop_reason: str = "end_turn",
) -> dict[str, Any]:
    """A valid Message: one text block ``text`` and a usage with the cache fields.

    ``output_tokens`` defaults to about a token per four characters (at least 1).
    """
    return {
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": max(1, len(text) // 4) if output_tokens is None else output_tokens,
        },
    }


_FILLER = (
    "The model reads the whole history on every request; the client keeps it. "
    "Naïve café déjà vu — “quoted” résumé. Tokens, cache, prefix, latency. "
)


def many_deltas_message(
    n: int, *, text_chunk: int = 8, model: str = DEFAULT_MODEL
) -> dict[str, Any]:
    """A Message whose one text block streams as exactly ``n`` text deltas.

    Its text is ``n * text_chunk`` characters (some non-ASCII), so
    ``stream_events(m, text_chunk=text_chunk)`` cuts it into ``n`` deltas.
    """
    if n < 1 or text_chunk < 1:
        raise ValueError("n and text_chunk must be at least 1")
    size = n * text_chunk
    text = (_FILLER * (size // len(_FILLER) + 1))[:size]
    return make_message(
        text, model=model, id=f"msg_fake_many_{n}", input_tokens=25, output_tokens=2 * n
    )


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


_TOOL_CALLS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
_DELTA_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "server_tool_use",
)


def _block_events(block: dict[str, Any], size: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A block's ``content_block_start`` payload and its deltas (accumulated, they give it back)."""
    kind = block.get("type")
    if kind == "text":
        start = {**block, "text": ""}
        deltas: list[dict[str, Any]] = []
        citations = block.get("citations")
        if citations:  # the start has none yet; each arrives as a citations_delta
            start["citations"] = []
            deltas += [{"type": "citations_delta", "citation": c} for c in citations]
        deltas += [{"type": "text_delta", "text": t} for t in _pieces(block["text"], size)]
        return start, deltas
    if kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        deltas = [
            {"type": "thinking_delta", "thinking": t} for t in _pieces(block["thinking"], size)
        ]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
        return start, deltas
    if kind in _TOOL_CALLS:
        start = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": ""}]  # the API sends one first
        tool_input = block.get("input")
        if tool_input:  # no arguments: no fragment but the empty one, and the input stays {}
            encoded = json.dumps(tool_input, ensure_ascii=False)
            deltas += [
                {"type": "input_json_delta", "partial_json": p} for p in _pieces(encoded, size)
            ]
        return start, deltas
    # redacted_thinking, server tool results, unknown blocks: they arrive whole.
    return block, []


def stream_events(
    message: dict[str, Any], *, text_chunk: int = 8
) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events (name, data) the API sends for ``message``, in order (§7.1).

    ``message_start`` (the message with ``content: []``, no stop reason, and
    a usage whose ``output_tokens`` is at most 1); then for each block a
    ``content_block_start`` with the block emptied (text ``""``, tool input
    ``{}``, thinking and signature ``""``; blocks that do not stream, such as
    server tool results, whole), its deltas (text and thinking in
    ``text_chunk``-character pieces, tool input as its JSON text in pieces
    after an empty first fragment, a ``citations_delta`` per citation before the
    text, one ``signature_delta`` ending a thinking block) and a
    ``content_block_stop``; a ``ping`` after the first block's start; then
    ``message_delta`` (stop reason and sequence, cumulative usage) and
    ``message_stop``. Accumulated as §7.2 says, the events give ``message`` back.
    """
    if text_chunk < 1:
        raise ValueError("text_chunk must be at least 1")
    usage = dict(message.get("usage") or {})
    output_tokens = usage.get("output_tokens", 0)
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    if "stop_details" in message:
        start["stop_details"] = None
    start["usage"] = {**usage, "output_tokens": min(1, output_tokens)}
    ping = ("ping", {"type": "ping"})
    events: list[tuple[str, dict[str, Any]]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    content = message.get("content") or []
    if not content:
        events.append(ping)
    for index, block in enumerate(content):
        block_start, deltas = _block_events(block, text_chunk)
        events.append(
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": block_start},
            )
        )
        if index == 0:
            events.append(ping)
        events += [
            ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        ]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {
        "stop_reason": message.get("stop_reason"),
        "stop_sequence": message.get("stop_sequence"),
    }
    if "stop_details" in message:
        delta["stop_details"] = message["stop_details"]
    delta_usage = {"output_tokens": output_tokens}
    delta_usage.update((k, usage[k]) for k in _DELTA_USAGE if k in usage)
    events.append(
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": delta_usage})
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# --------------------------------------------------------------------------- encoding


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _sse(name: str, data: Mapping[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (name.encode(), _dumps(data))


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


_REASONS = {529: "Overloaded"}

_ERROR_MESSAGES = {
    "invalid_request_error": "fake invalid request",
    "authentication_error": "invalid x-api-key",
    "billing_error": "fake billing problem",
    "permission_error": "fake permission denied",
    "not_found_error": "fake not found",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out",
    "overloaded_error": "Overloaded",
}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return _REASONS.get(status, "Unknown")


def _head(status: int, base: dict[str, str], extra: Mapping[str, str], *, close: bool) -> bytes:
    """The status line and headers: ``base`` under ``extra`` (names compared lower-cased)."""
    fields = {name.lower(): (name, value) for name, value in base.items()}
    for name, value in extra.items():
        fields[name.lower()] = (name, value)
    if close:
        fields["connection"] = ("connection", "close")
    lines = [f"HTTP/1.1 {status} {_reason(status)}"]
    lines += [f"{name}: {value}" for name, value in fields.values()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# --------------------------------------------------------------------------- server


class _BadRequestError(Exception):
    """The bytes received are not an HTTP/1.1 request this server understands."""


class _Request:
    """A parsed request, with what the server needs of it beyond the record."""

    __slots__ = ("http11", "keep_alive", "number", "record")

    def __init__(
        self, record: RecordedRequest, number: int, keep_alive: bool, http11: bool
    ) -> None:
        self.record = record
        self.number = number
        self.keep_alive = keep_alive
        self.http11 = http11  # False for HTTP/1.0, which has no chunked bodies

    @property
    def request_id(self) -> str:
        return f"req_fake_{self.number:04d}"

    def body_json(self) -> Any:
        try:
            return json.loads(self.record.body)
        except ValueError:
            return None

    def model(self) -> str:
        body = self.body_json()
        model = body.get("model") if isinstance(body, dict) else None
        return model if isinstance(model, str) else DEFAULT_MODEL

    def built_message(self, text: str) -> dict[str, Any]:
        return make_message(
            text,
            model=self.model(),
            id=f"msg_fake_{self.number:04d}",
            input_tokens=max(1, len(self.record.body) // 4),
        )


class FakeMessagesAPI(Closing):
    """A Messages API on ``127.0.0.1``: answers from a queue, records every request.

    Thread-safe: the server runs on an asyncio loop in its own thread, and
    ``queue``, ``clear``, ``requests`` and ``pending`` may be used from any
    thread while it runs. See the module docstring for the answers.
    """

    def __init__(self, *, default: Response | None = None) -> None:
        if default is not None and not isinstance(default, _ANSWERS):
            raise TypeError(f"default must be a Response, got {type(default).__name__}")
        self.default = default
        self.base_url = ""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified as connections open and close
        self._queue: deque[Response] = deque()
        self._requests: list[RecordedRequest] = []
        self._errors: list[BaseException] = []
        self._count = 0
        self._accepted = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._connections: set[tuple[asyncio.Task[None], asyncio.StreamWriter]] = set()
        self._stopping: asyncio.Event | None = None  # set as the server stops: held answers end
        self._routes: list[tuple[str, Handler]] = []

    # -- the caller's side ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order (a snapshot: a new list each time)."""
        with self._lock:
            return list(self._requests)

    @property
    def pending(self) -> int:
        """How many queued answers have not been served yet."""
        with self._lock:
            return len(self._queue)

    @property
    def connections(self) -> int:
        """How many TCP connections the server has accepted since it started."""
        with self._lock:
            return self._accepted

    @property
    def open_connections(self) -> int:
        """How many TCP connections are open now (accepted, not yet closed by either side)."""
        with self._lock:
            return len(self._connections)

    def wait_open(self, count: int, timeout: float = _TIMEOUT) -> int:
        """Wait until exactly ``count`` connections are open; how many are, when done.

        Returns early once the count is reached, else after ``timeout``
        seconds with the count then: the caller asserts on it.
        """
        with self._changed:
            self._changed.wait_for(lambda: len(self._connections) == count, timeout)
            return len(self._connections)

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the server (not by clients): a bug in the fake."""
        with self._lock:
            return list(self._errors)

    def queue(self, *responses: Response) -> None:
        """Add answers, served in order, one per request (whatever its path)."""
        for response in responses:
            if not isinstance(response, _ANSWERS):
                raise TypeError(f"not a Response: {response!r}")
        with self._lock:
            self._queue.extend(responses)

    def route(self, prefix: str, handler: Handler) -> None:
        """Answer the requests whose path starts with ``prefix`` by ``handler(method,
        path, body)``, when no queued answer takes them (see the module docstring)."""
        with self._lock:
            self._routes.append((prefix, handler))

    def clear(self) -> None:
        """Forget the queued answers and the recorded requests (ids keep counting)."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()

    def start(self) -> None:
        """Listen on a free port of 127.0.0.1 and set ``base_url``; returns once ready."""
        if self._thread is not None:
            raise RuntimeError("the fake API is already running")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run, args=(loop,), name="fake-messages-api")
        thread.daemon = True
        thread.start()
        self._loop, self._thread = loop, thread
        port = asyncio.run_coroutine_threadsafe(self._open(), loop).result(_TIMEOUT)
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Close the listener and every open connection (cancelling delayed answers)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(_TIMEOUT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(_TIMEOUT)
            self._loop = self._thread = None

    close = stop  # ``with`` stops the server on leaving (Closing calls close)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __repr__(self) -> str:
        state = self.base_url if self._thread is not None else "stopped"
        return f"<FakeMessagesAPI {state}, {self.pending} queued>"

    # -- the loop's side --------------------------------------------------------------

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _open(self) -> int:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(
            self._connection, "127.0.0.1", 0, limit=_READ_LIMIT, backlog=256
        )
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def _close(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            connections = list(self._connections)
        for task, writer in connections:
            writer.transport.abort()
            task.cancel()
        await asyncio.gather(*(task for task, _ in connections), return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection: requests one after another while it is kept alive."""
        task = asyncio.current_task()
        assert task is not None
        entry = (task, writer)
        with self._changed:
            self._connections.add(entry)
            self._accepted += 1
            self._changed.notify_all()
        try:
            while True:
                request = await self._read_request(reader, writer)
                if request is None:
                    break
                if not await self._answer(request, self._next(request), writer):
                    break
        except _BadRequestError as exc:
            body = _dumps(
                {"type": "error", "error": {"type": "invalid_request_error", "message": str(exc)}}
            )
            head = _head(
                400,
                {"content-type": "application/json", "content-length": str(len(body))},
                {},
                close=True,
            )
            writer.write(head + body)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away (or the server is stopping)
        except Exception as exc:  # a bug in the fake: keep it for the fixture to report
            with self._lock:
                self._errors.append(exc)
        finally:
            writer.close()
            with self._changed:
                self._connections.discard(entry)
                self._changed.notify_all()

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        """The next request on the connection, or None if the client closed it cleanly."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                raise _BadRequestError("incomplete request head") from None
            return None
        except asyncio.LimitOverrunError:
            raise _BadRequestError("request head too large") from None
        lines = head[:-4].decode("latin-1").split("\r\n")
        try:
            method, path, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequestError(f"bad request line {lines[0]!r}") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise _BadRequestError(f"bad header line {line!r}")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await self._read_chunked(reader)
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise _BadRequestError("bad content-length") from None
            body = await reader.readexactly(length) if length > 0 else b""
        connection = headers.get("connection", "").lower()
        if version == "HTTP/1.0":
            keep_alive = "keep-alive" in connection
        else:
            keep_alive = "close" not in connection
        record = RecordedRequest(method, path, headers, body, time.monotonic())
        with self._lock:
            self._requests.append(record)
            self._count += 1
            number = self._count
        return _Request(record, number, keep_alive, version != "HTTP/1.0")

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequestError("bad chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass  # trailers, ignored
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])

    def _next(self, request: _Request) -> Response:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            routes = list(self._routes)
        record = request.record
        path = record.path.split("?", 1)[0]
        for prefix, handler in routes:
            if path.startswith(prefix):
                return handler(record.method, path, record.body)
        if self.default is not None:
            return self.default
        if path.endswith("/count_tokens"):
            return CountTokens(len(record.body) // 4)
        body = request.body_json()
        if isinstance(body, dict) and body.get("stream") is True:
            return Stream()
        return Reply()

    async def _answer(
        self, request: _Request, response: Response, writer: asyncio.StreamWriter
    ) -> bool:
        """Write ``response``; whether the connection stays open for another request."""
        if response.delay > 0:
            await self._wait(response.delay)
        rid = request.request_id
        keep = request.keep_alive
        if isinstance(response, Reset):
            sock = writer.get_extra_info("socket")
            if sock is not None:  # linger 0: close() sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if isinstance(response, Stream):
            return await self._stream(request, response, writer)
        status = response.status if not isinstance(response, CountTokens) else 200
        content_type = "application/json"
        if isinstance(response, Reply):
            if response.message is not None:
                body = response._cache.get("body")
                if body is None:
                    body = response._cache.setdefault("body", _dumps(response.message))
            else:
                body = _dumps(request.built_message(response.text))
        elif isinstance(response, Error):
            if response.raw_body is not None:
                body, content_type = response.raw_body, "text/html; charset=utf-8"
            else:
                message = response.message
                if message is None:
                    message = _ERROR_MESSAGES.get(response.type, f"fake {response.type}")
                error = {"type": response.type, "message": message}
                body = _dumps({"type": "error", "error": error, "request_id": rid})
        elif isinstance(response, Malformed | Raw):
            body, content_type = response.body, response.content_type
        else:
            body = _dumps({"input_tokens": response.input_tokens})
        base = {"content-type": content_type, "request-id": rid, "content-length": str(len(body))}
        if isinstance(response, Error):
            if response.retry_after is not None:
                base["retry-after"] = _seconds(response.retry_after)
            if response.retry_after_ms is not None:
                base["retry-after-ms"] = str(response.retry_after_ms)
            if response.should_retry is not None:
                base["x-should-retry"] = "true" if response.should_retry else "false"
        writer.write(_head(status, base, response.headers, close=not keep) + body)
        await writer.drain()
        return keep

    async def _stream(
        self, request: _Request, response: Stream, writer: asyncio.StreamWriter
    ) -> bool:
        """Write a stream answer; whether the connection stays open for another request."""
        chunked = response.chunked and request.http11
        abrupt = response.cut_after is not None and response.error_event is None
        keep = request.keep_alive and chunked and not abrupt
        base = {
            "content-type": "text/event-stream; charset=utf-8",
            "cache-control": "no-cache",
            "request-id": request.request_id,
        }
        if chunked:
            base["transfer-encoding"] = "chunked"
        head = _head(200, base, response.headers, close=not keep)
        frame = _chunk if chunked else bytes
        end = b"0\r\n\r\n" if chunked and not abrupt else b""
        if response.pause <= 0:  # the whole body in one write
            key = f"sse-{chunked}"
            body = response._cache.get(key)
            if body is None:
                body = b"".join(frame(f) for f in self._frames(request, response))
                if response.message is not None or response.events is not None or response.frames:
                    response._cache[key] = body  # it does not depend on the request
            writer.write(head + body + end)
            await writer.drain()
            return keep
        writer.write(head)
        for i, f in enumerate(self._frames(request, response)):
            if i:
                await self._wait(response.pause)
            writer.write(frame(f))
            await writer.drain()
        writer.write(end)
        await writer.drain()
        return keep

    async def _wait(self, seconds: float) -> None:
        """Sleep ``seconds``; ``UNTIL_STOPPED`` waits for the server to stop instead."""
        if seconds != UNTIL_STOPPED:
            await asyncio.sleep(seconds)
        elif self._stopping is not None:
            await self._stopping.wait()

    @staticmethod
    def _frames(request: _Request, response: Stream) -> list[bytes]:
        """The SSE frames of a stream answer: its events, cut, then the error event."""
        if response.frames is not None:
            return response.frames[: response.cut_after]
        events = response.events
        if events is None:
            message = response.message
            if message is None:
                message = request.built_message(response.text)
            events = stream_events(message, text_chunk=response.text_chunk)
            if not response.pings:
                events = [e for e in events if e[0] != "ping"]
        if response.cut_after is not None:
            events = events[: response.cut_after]
        frames = [_sse(name, data) for name, data in events]
        if response.error_event is not None:
            error = response.error_event
            if "error" not in error:
                error = {"type": "error", "error": error}
            frames.append(_sse("error", error))
        return frames
