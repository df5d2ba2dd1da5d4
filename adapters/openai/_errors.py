"""The errors of the OpenAI adapter, and its tables for mapping an error answer to one.

Each class here is an :class:`OpenAIError` (an :class:`adapters.errors.APIError`);
the whole tree is drawn once, in :mod:`conversation.errors`. The names are
those the official ``openai`` SDK uses, so code written against it reads the
same. Answers are mapped, keys scrubbed and headers masked by the shared code
of :mod:`adapters._http._errors`, exactly as for the Anthropic adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from adapters._http._errors import ErrorKinds
from adapters.errors import APIError

__all__ = [
    "KINDS",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
]


class OpenAIError(APIError):
    """Base of every error raised by the OpenAI adapter (``.status_code``, ``.request_id``)."""


class MissingAPIKeyError(OpenAIError):
    """No API key for api.openai.com: none was passed and ``OPENAI_API_KEY`` is not set."""


class APIStatusError(OpenAIError):
    """The server answered with an error status (or an error object mid-stream).

    ``headers`` are the answer's headers, lower-cased, sensitive ones masked;
    ``body`` is its text (scrubbed of keys). Both are empty for a stream event.
    """


class BadRequestError(APIStatusError):
    """400: the server found the request invalid."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not use this resource or model."""


class NotFoundError(APIStatusError):
    """404: unknown endpoint or model."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the state of a resource; retried."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but could not be processed."""


class RateLimitError(APIStatusError):
    """429: rate limited (or out of quota); retried after ``retry-after`` when it says so."""


class InternalServerError(APIStatusError):
    """>= 500: an error on the server's side; retried."""


class APIConnectionError(OpenAIError):
    """No answer arrived: the connection failed, was reset, or broke mid-answer."""

    no_answer = True


class APITimeoutError(APIConnectionError):
    """No answer arrived within the timeout."""


_BY_STATUS: Final[Mapping[int, type[APIError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}

_BY_TYPE: Final[Mapping[str, type[APIError]]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "invalid_api_key": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_exceeded": RateLimitError,
    "insufficient_quota": RateLimitError,
    "server_error": InternalServerError,
}

_TYPE_OF_STATUS: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_exceeded",
    500: "server_error",
}

_HINTS: Final[Mapping[type[APIError], str]] = {
    AuthenticationError: "Check the API key (api_key=... or OPENAI_API_KEY).",
    RateLimitError: (
        "Rate limited: retried up to max_retries times as retry-after asked; "
        "wait and send again, or raise max_retries."
    ),
    InternalServerError: "The server failed: retried up to max_retries times; send again later.",
}

KINDS: Final = ErrorKinds(
    missing_key=MissingAPIKeyError,
    connection=APIConnectionError,
    timeout=APITimeoutError,
    base=APIStatusError,
    server=InternalServerError,
    by_status=_BY_STATUS,
    by_type=_BY_TYPE,
    type_of_status=_TYPE_OF_STATUS,
    hints=_HINTS,
    id_header="x-request-id",
)
"""The OpenAI API's error tables (see :class:`adapters._http.ErrorKinds`)."""
