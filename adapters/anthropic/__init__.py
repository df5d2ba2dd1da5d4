"""The Anthropic Messages API adapter.

A sketch (it needs the network and ``ANTHROPIC_API_KEY``, so it is not run
as a doctest; the README's examples run against a loopback fake)::

    from conversation import Conversation
    from adapters.anthropic import AnthropicAdapter

    options = {"model": "claude-sonnet-4-5", "max_tokens": 1024}
    adapter = AnthropicAdapter(default_options=options)
    c = adapter.send(Conversation().user("Hello, Claude"))
    c.last.text  # 'Hello! How can I help you today?'

``AnthropicAdapter`` sends (``send``/``asend``), streams (``stream``/
``astream``), counts tokens (``count_tokens``/``acount_tokens``) and sends
Message Batches (``send_batch``/``asend_batch``, :mod:`._batches`), retrying
as the official SDK does, by its :class:`RetryPolicy` (``retry=``). Every
error it raises is an :class:`AnthropicError` (a
:class:`conversation.AdapterError`); the whole tree is drawn in
:mod:`conversation.errors`. ``continue_reply`` and ``ContinuationError``
moved to :mod:`conversation.continuation` (they work with any adapter); the
names here are kept for old code, and ``continue_reply`` warns.
"""

from adapters._http import RetryPolicy
from conversation import ContinuationError

from ._batches import Batch, BatchLimits, BatchPart, BatchResult
from ._client import AnthropicAdapter
from ._continue import acontinue_reply, continue_reply
from ._errors import (
    AnthropicError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DeadlineExceededError,
    InternalServerError,
    MissingAPIKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    PrefillNotSupportedError,
    RateLimitError,
    RequestTooLargeError,
    ServiceUnavailableError,
    UnprocessableEntityError,
    error_from_event,
    error_from_response,
    error_from_result,
)

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AnthropicAdapter",
    "AnthropicError",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchLimits",
    "BatchPart",
    "BatchResult",
    "ConflictError",
    "ContinuationError",
    "DeadlineExceededError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "PrefillNotSupportedError",
    "RateLimitError",
    "RequestTooLargeError",
    "RetryPolicy",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "acontinue_reply",
    "continue_reply",
    "error_from_event",
    "error_from_response",
    "error_from_result",
]
