"""A streamed Messages API reply: typed events as they arrive, the folded Conversation at the end.

:class:`AnthropicStream` and :class:`AsyncAnthropicStream` are the shared
HTTP streams of :mod:`adapters._http._stream` (read the behaviour there: the
request made when the stream is entered or first iterated, the events, the
fold, and a cut stream's :class:`~adapters.StreamInterruptedError` carrying
what arrived) with the Anthropic adapter's errors: an ``error`` event
becomes the error of :func:`._errors.error_from_event` (an
:class:`._errors.OverloadedError`...), a broken connection an
:class:`._errors.APIConnectionError`. The Messages API's events need no
translation.
"""

from __future__ import annotations

from adapters._http import AsyncHTTPStream, HTTPStream

from ._errors import KINDS

__all__ = ["AnthropicStream", "AsyncAnthropicStream"]


class AnthropicStream(HTTPStream):
    """One streamed Messages API reply (a :class:`~adapters.MessageStream`).

    ``open_response`` is called once, when the stream is entered or first
    iterated: a zero-argument callable returning a context manager that
    yields the open ``httpx.Response``; ``request_id_header`` names the
    header holding the request id; ``secrets`` (the API key) are scrubbed
    from API error messages.
    """

    errors = KINDS


class AsyncAnthropicStream(AsyncHTTPStream):
    """The async twin of :class:`AnthropicStream` (an :class:`~adapters.AsyncMessageStream`)."""

    errors = KINDS
