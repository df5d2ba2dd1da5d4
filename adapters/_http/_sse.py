"""Server-sent events of a streamed reply, as ``(event name, data dict)`` pairs.

A small SSE reader of our own: the body's bytes decoded as UTF-8 (always, as
the SSE standard says, whatever a ``charset`` claims), split in lines at
``\\r\\n``, ``\\r`` or ``\\n`` wherever the chunks are cut, ``:`` comments
skipped, the ``event`` and ``data`` fields kept (``id``, ``retry`` and unknown
fields ignored: the Messages API does not resume streams), a blank line
dispatching the event. The JSON of each event's data is parsed by ``orjson``
(the stream's hot path: a reply of 10,000 text deltas is 10,000 parses), and
anything that is not an event stream of JSON objects is a
:class:`~conversation.MalformedReplyError`, but for the data ``[DONE]`` with
which Chat Completions streams end: that is the event ``("[DONE]", {})``.
Both adapters read their streams with it.

Why our own: where a body ends cleanly (the HTTP response completed, no
transport error) with an event still pending, that event is dispatched, as the
official SDK does; the SSE standard (and ``httpx-sse``, which has no
end-of-stream flush) drops it, and some of the SDKs' own recorded replies end
``data: {"type":"message_stop"}`` without the blank line. A body cut by a
transport error raises that error, and nothing pending is dispatched.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncGenerator, Generator, Iterator
from typing import Any

import httpx
import orjson

from conversation import MalformedReplyError
from conversation.errors import quote

__all__ = ["DONE", "aiter_sse", "check_event_stream", "iter_sse"]

DONE = "[DONE]"
"""The name of the event whose data is ``[DONE]``: the end of a Chat Completions stream."""

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_Event = tuple[str, dict[str, Any]]


def check_event_stream(response: httpx.Response) -> None:
    """Raise :class:`~conversation.MalformedReplyError` unless ``response`` is an event stream.

    A 200 answer to a streaming request that is not ``text/event-stream`` (a
    proxy that buffered it, an endpoint that ignored ``"stream": true``) cannot
    be read as one; saying so beats a JSON error on its first line.
    """
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type.partition(";")[0]:
        raise MalformedReplyError(
            f"a streamed reply must be text/event-stream, got content-type {quote(content_type)}"
        )


def _parse(name: str, raw: str) -> _Event:
    """One dispatched event's name and parsed data (``name`` empty: the SSE default)."""
    if raw == DONE:
        return DONE, {}
    try:
        data = _loads(raw)
    except _JSONDecodeError as exc:
        raise MalformedReplyError(
            f"the data of a {quote(name or 'message')} event is not JSON ({exc}): {quote(raw, 200)}"
        ) from None
    if type(data) is not dict:
        raise MalformedReplyError(
            f"the data of a {quote(name or 'message')} event must be a JSON object, "
            f"got {quote(raw, 200)}"
        )
    if not name or name == "message":
        # No ``event:`` field (the SSE default name "message"): the JSON ``type`` names it.
        kind = data.get("type")
        name = kind if isinstance(kind, str) else "message"
    return name, data


class _Reader:
    """The SSE framing, fed the body chunk by chunk; one per response (it holds state).

    ``feed`` returns the events a chunk completes; ``end`` (at a clean end of
    the body) the events still pending: a last line without its line end, and
    an event without the blank line after it.
    """

    __slots__ = ("_data", "_decoder", "_name", "_rest", "_skip_lf", "_started")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        # The pieces of a line whose end has not arrived yet (a list: a long line arriving
        # in many small chunks is joined once, not copied at each chunk).
        self._rest: list[str] = []
        # The last chunk ended with "\r": a "\n" starting the next is the rest of its CRLF.
        self._skip_lf = False
        self._started = False  # a leading byte order mark has been looked for
        self._name = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> Iterator[_Event]:
        """The events that ``chunk`` completes, in order (lazily: a bad one raises in its turn)."""
        text = self._decode(chunk, final=False)
        if not text:
            return iter(())
        if not self._started:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._skip_lf and text:
            self._skip_lf = False
            if text[0] == "\n":
                text = text[1:]
        if "\r" in text:
            # A "\r" ending the chunk ends its line now; a "\n" opening the next is its CRLF.
            self._skip_lf = text[-1] == "\r"
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            if text:
                self._rest.append(text)
            return iter(())
        lines = text.split("\n")
        rest = self._rest
        if rest:
            rest.append(lines[0])
            lines[0] = "".join(rest)
            rest.clear()
        last = lines.pop()
        if last:
            rest.append(last)
        return self._lines(lines)

    def end(self) -> Iterator[_Event]:
        """What a clean end of the body completes: the last line, and the event in progress."""
        self._decode(b"", final=True)  # raises if the body ends inside a character
        rest = "".join(self._rest)
        self._rest.clear()
        return self._lines([rest, ""])

    def _decode(self, chunk: bytes, *, final: bool) -> str:
        try:
            return self._decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            raise MalformedReplyError(
                f"the reply is not a readable event stream: it is not UTF-8 ({exc})"
            ) from None

    def _lines(self, lines: list[str]) -> Iterator[_Event]:
        data = self._data
        for line in lines:
            if line[:6] == "data: ":  # the hot path: one data line per event
                data.append(line[6:])
                continue
            if not line:
                # A blank line dispatches the event; one without data is dropped (its name too).
                if data:
                    raw = "\n".join(data)
                    data.clear()
                    if raw:
                        yield _parse(self._name, raw)
                self._name = ""
                continue
            field, colon, value = line.partition(":")
            if not field:
                continue  # a comment
            if colon and value[:1] == " ":
                value = value[1:]
            if field == "data":
                data.append(value)
            elif field == "event":
                self._name = value
            # id, retry and unknown fields: nothing the Messages API uses.


def iter_sse(response: httpx.Response) -> Generator[_Event, None, None]:
    """The events of a streamed reply, in order, as ``(event name, data)``.

    ``response`` is an open streaming ``httpx.Response`` (status already
    checked). Events without data are skipped; data that is not a JSON object,
    or a body that is not UTF-8, raises :class:`~conversation.MalformedReplyError`.
    Transport errors (``httpx.ReadError``, ``httpx.RemoteProtocolError``,
    timeouts...) propagate unchanged, for the stream to turn into an
    interruption, and what was pending is dropped; a body that ends cleanly
    dispatches the event in progress.
    """
    check_event_stream(response)
    reader = _Reader()
    chunks = response.iter_bytes()
    try:
        for chunk in chunks:
            yield from reader.feed(chunk)
    finally:
        chunks.close()  # type: ignore[attr-defined]
    yield from reader.end()


async def aiter_sse(response: httpx.Response) -> AsyncGenerator[_Event, None]:
    """The async twin of :func:`iter_sse`."""
    check_event_stream(response)
    reader = _Reader()
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            for event in reader.feed(chunk):
                yield event
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]
    for event in reader.end():
        yield event
