"""The OpenAI Chat Completions adapter: OpenAI, and every server that speaks its wire.

A sketch (it needs a server; the README's examples run against a loopback fake)::

    from conversation import Conversation
    from adapters.openai import OpenAIAdapter

    adapter = OpenAIAdapter(base_url="http://localhost:11434/v1")  # Ollama, no key
    c = adapter.send(Conversation().user("Hello"), model="llama3.2")
    c.last.text

``OpenAIAdapter`` sends (``send``/``asend``) and streams (``stream``/
``astream``), retrying by the same :class:`RetryPolicy` as the Anthropic
adapter (the two share their transport, :mod:`adapters._http`). How a
Conversation is translated, and what is refused, is in
:mod:`adapters.openai._translate`. Every error it raises is an
:class:`OpenAIError` (an :class:`adapters.errors.APIError`); the whole tree
is drawn in :mod:`conversation.errors`.
"""

from adapters._http import RetryPolicy

from ._client import OpenAIAdapter
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    MissingAPIKeyError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._stream import AsyncOpenAIStream, OpenAIStream

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncOpenAIStream",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OpenAIAdapter",
    "OpenAIError",
    "OpenAIStream",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "UnprocessableEntityError",
]
