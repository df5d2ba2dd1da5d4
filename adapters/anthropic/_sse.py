"""Server-sent events of a streamed Messages API reply, as ``(event name, data dict)`` pairs.

The framing (lines, ``event:``/``data:`` fields, comments, ``\\r\\n``/``\\r``/``\\n``
line ends, a blank line ending each event) is read by ``httpx-sse``, the
field's standard SSE reader; this module adds only what the Messages API
needs on top: the JSON of each event's data parsed by ``orjson`` (the
stream's hot path: a reply of 10,000 text deltas is 10,000 parses), and a
:class:`~conversation.MalformedReplyError` for anything that is not an
event stream of JSON objects.

Why not a reader of our own: the framing is a solved problem, the JSON parse
and the accumulator are where a stream spends its time, and a reader of our
own would be a parser to maintain that the field already maintains.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx
import orjson
from httpx_sse import EventSource, ServerSentEvent, SSEError

from conversation import MalformedReplyError
from conversation.errors import quote

__all__ = ["aiter_sse", "check_event_stream", "iter_sse"]

_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError


def check_event_stream(response: httpx.Response) -> None:
    """Raise :class:`~conversation.MalformedReplyError` unless ``response`` is an event stream.

    A 200 answer to a streaming request that is not ``text/event-stream`` (a
    proxy that buffered it, an endpoint that ignored ``"stream": true``) cannot
    be read as one; saying so beats a JSON error on its first line.

    An event stream is always UTF-8 (the SSE standard says so, whatever a
    ``charset`` parameter claims), so the response is decoded as UTF-8: a
    ``charset=utf-16`` or an unknown charset would otherwise fail inside the
    decoder with a bare ``UnicodeError`` or ``LookupError``.
    """
    content_type = response.headers.get("content-type", "")
    if "text/event-stream" not in content_type.partition(";")[0]:
        raise MalformedReplyError(
            f"a streamed reply must be text/event-stream, got content-type {quote(content_type)}"
        )
    response.encoding = "utf-8"


def _not_an_event_stream(exc: Exception) -> MalformedReplyError:
    # What the SSE reader itself may raise besides transport errors: decoding and framing.
    return MalformedReplyError(f"the reply is not a readable event stream ({quote(str(exc))})")


def _parse(sse: ServerSentEvent) -> tuple[str, dict[str, Any]] | None:
    """One event's name and parsed data; None for an event without data (not dispatched)."""
    raw = sse.data
    if not raw:
        # The SSE spec dispatches nothing for an event with an empty data buffer.
        return None
    name = sse.event
    try:
        data = _loads(raw)
    except _JSONDecodeError as exc:
        raise MalformedReplyError(
            f"the data of a {quote(name)} event is not JSON ({exc}): {quote(raw, 200)}"
        ) from None
    if type(data) is not dict:
        raise MalformedReplyError(
            f"the data of a {quote(name)} event must be a JSON object, got {quote(raw, 200)}"
        )
    if name == "message":
        # No ``event:`` field (the SSE default name): the JSON ``type`` names it.
        kind = data.get("type")
        if isinstance(kind, str):
            name = kind
    return name, data


def iter_sse(response: httpx.Response) -> Generator[tuple[str, dict[str, Any]], None, None]:
    """The events of a streamed reply, in order, as ``(event name, data)``.

    ``response`` is an open streaming ``httpx.Response`` (status already
    checked). Events without data are skipped; data that is not a JSON object
    raises :class:`~conversation.MalformedReplyError`. Transport errors
    (``httpx.ReadError``, ``httpx.RemoteProtocolError``, timeouts...) propagate
    unchanged, for the stream to turn into an interruption.
    """
    check_event_stream(response)
    events = EventSource(response).iter_sse()
    while True:
        try:
            sse = next(events)
        except StopIteration:
            return
        except (UnicodeError, LookupError, SSEError) as exc:
            raise _not_an_event_stream(exc) from None
        parsed = _parse(sse)
        if parsed is not None:
            yield parsed


async def aiter_sse(response: httpx.Response) -> AsyncGenerator[tuple[str, dict[str, Any]], None]:
    """The async twin of :func:`iter_sse`."""
    check_event_stream(response)
    events = EventSource(response).aiter_sse()
    try:
        while True:
            try:
                sse = await events.__anext__()
            except StopAsyncIteration:
                return
            except (UnicodeError, LookupError, SSEError) as exc:
                raise _not_an_event_stream(exc) from None
            parsed = _parse(sse)
            if parsed is not None:
                yield parsed
    finally:
        await events.aclose()
