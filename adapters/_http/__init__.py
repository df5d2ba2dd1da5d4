"""What the HTTP API adapters share, written once: transport, retries, errors, streams.

Private: the Anthropic and the OpenAI adapters build on it, and so can a
third party's adapter for another HTTP API (at its own risk: the names here
may change). :class:`HTTPAdapter` is the base of an adapter (key, base URL,
pooled clients, one attempt sync or async, retries, error mapping);
:class:`RetryPolicy` the retry policy (public as
``adapters.anthropic.RetryPolicy`` and ``adapters.openai.RetryPolicy``);
:class:`ErrorKinds` a provider's error tables; :func:`iter_sse` the event
stream reader; :class:`Accumulator` folds Messages API stream events into a
reply; :class:`HTTPStream` / :class:`AsyncHTTPStream` are the streams over it.
"""

from ._accumulate import Accumulator
from ._client import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    APIKey,
    Call,
    HTTPAdapter,
    checked_body,
    header_map,
    messages_body,
    missing_fields,
    retry_policy,
)
from ._errors import ErrorKinds, safe_headers, scrub_exception, scrub_request
from ._retry import RetryPolicy, exponential_backoff, retry_after, should_retry
from ._sse import DONE, aiter_sse, check_event_stream, iter_sse
from ._stream import AsyncHTTPStream, HTTPStream

__all__ = [
    "DEFAULT_TIMEOUT",
    "DONE",
    "USER_AGENT",
    "APIKey",
    "Accumulator",
    "AsyncHTTPStream",
    "Call",
    "ErrorKinds",
    "HTTPAdapter",
    "HTTPStream",
    "RetryPolicy",
    "aiter_sse",
    "check_event_stream",
    "checked_body",
    "exponential_backoff",
    "header_map",
    "iter_sse",
    "messages_body",
    "missing_fields",
    "retry_after",
    "retry_policy",
    "safe_headers",
    "scrub_exception",
    "scrub_request",
    "should_retry",
]
