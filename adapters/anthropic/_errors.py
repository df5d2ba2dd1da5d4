"""The errors of the Anthropic adapter, and how an API error answer becomes one.

Each class here is an :class:`AnthropicError` (a
:class:`conversation.AdapterError`); the whole tree is drawn once, in
:mod:`conversation.errors`. The names and the ``status_code`` attribute are
those the official SDK uses, so code written against it reads the same; ours
add ``error_type``, ``api_message`` and ``request_id``.

Every message names the HTTP status, the API's error type and message, and
the request id (quote it to Anthropic support). An API key never appears in
one: text that came from the server is scrubbed of the adapter's key and of
anything shaped like an Anthropic key before it is kept, and sensitive
response headers are masked. Nor is it reachable through what an error chains
(``__cause__`` / ``__context__``): the ``httpx`` exceptions there carry a copy
of the request whose sensitive headers are masked (:func:`scrub_request`).
The one place the key still lives is the adapter itself, so the local
variables of a traceback's frames (what a debugger or a "show locals" logger
prints) can hold it, as they can for any client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from adapters._http._errors import ErrorKinds, scrub_exception, scrub_request
from adapters._secrets import redact
from adapters.errors import APIError

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AnthropicError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DeadlineExceededError",
    "InternalServerError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "PrefillNotSupportedError",
    "RateLimitError",
    "RequestTooLargeError",
    "ServiceUnavailableError",
    "UnprocessableEntityError",
    "error_from_event",
    "error_from_response",
    "error_from_result",
    "redact",
    "scrub_exception",
    "scrub_request",
]


class AnthropicError(APIError):
    """Base of every error raised by the Anthropic adapter.

    ``status`` is the HTTP status of the answer (``None`` when there was no
    answer, or when the error arrived as an event inside a streamed 200);
    ``error_type`` and ``api_message`` are the API's ``error.type`` and
    ``error.message``; ``request_id`` identifies the request to Anthropic.
    """


class MissingAPIKeyError(AnthropicError):
    """No API key: none was passed and ``ANTHROPIC_API_KEY`` is not set."""


class APIStatusError(AnthropicError):
    """The API answered with an error status (or a streamed ``error`` event).

    ``headers`` are the answer's headers, lower-cased, sensitive ones masked;
    ``body`` is its text (scrubbed of keys). Both are empty for a stream event.
    """


class BadRequestError(APIStatusError):
    """400: the API found the request invalid."""


class PrefillNotSupportedError(BadRequestError):
    """400: this model refuses a conversation that ends with an assistant turn (a prefill)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not use this resource or model."""


class NotFoundError(APIStatusError):
    """404: unknown endpoint or model."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the state of a resource; retried."""


class RequestTooLargeError(APIStatusError):
    """413: the request body is over the API's size limit (32 MB for Messages)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well-formed but could not be processed."""


class RateLimitError(APIStatusError):
    """429: rate limited; retried after ``retry-after`` when it says so."""


class InternalServerError(APIStatusError):
    """>= 500: an error on the API's side; retried."""


class ServiceUnavailableError(InternalServerError):
    """503: the API is unavailable for a moment; retried."""


class DeadlineExceededError(InternalServerError):
    """504: the answer took longer than the API's own deadline; retried."""


class OverloadedError(InternalServerError):
    """529: the API is temporarily overloaded; retried."""


class APIConnectionError(AnthropicError):
    """No answer arrived: the connection failed, was reset, or broke mid-answer."""

    no_answer = True


class APITimeoutError(APIConnectionError):
    """No answer arrived within the timeout."""


_BY_STATUS: Final[Mapping[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    422: UnprocessableEntityError,
    429: RateLimitError,
    503: ServiceUnavailableError,
    504: DeadlineExceededError,
    529: OverloadedError,
}

_BY_TYPE: Final[Mapping[str, type[APIStatusError]]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "request_too_large": RequestTooLargeError,
    "rate_limit_error": RateLimitError,
    "api_error": InternalServerError,
    "timeout_error": InternalServerError,
    "overloaded_error": OverloadedError,
}

_TYPE_OF_STATUS: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_HINTS: Final[Mapping[type[APIError], str]] = {
    PrefillNotSupportedError: (
        "This model refuses a conversation that ends with an assistant turn (a prefill). "
        "Steer the reply with a system prompt, or use structured output (a forced tool "
        "or output_config), instead of a final assistant turn."
    ),
    AuthenticationError: "Check the API key (api_key=... or ANTHROPIC_API_KEY).",
    RequestTooLargeError: (
        "The request body is over the API's size limit (32 MB for Messages): "
        "send fewer or smaller images and documents, or a shorter history."
    ),
    RateLimitError: (
        "Rate limited: retried up to max_retries times as retry-after asked; "
        "wait and send again, or raise max_retries."
    ),
    OverloadedError: "The API is overloaded: retried up to max_retries times; send again later.",
}

_MID_STREAM_HINT: Final = (
    "It came as an event after the reply had begun, so it was not retried: the "
    "StreamInterruptedError holds what arrived; send its conversation.resumable() to go on."
)


def _refine(cls: type[APIError], api_message: str | None) -> type[APIError]:
    """A 400 that says the model refuses a prefill is a PrefillNotSupportedError."""
    if cls is BadRequestError and api_message and "prefill" in api_message.lower():
        return PrefillNotSupportedError
    return cls


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
    refine=_refine,
    id_header="request-id",
)
"""The Anthropic API's error tables (see :class:`adapters._http.ErrorKinds`)."""


def error_from_response(
    status: int, headers: Mapping[str, str], body: bytes, *, secrets: Iterable[str] = ()
) -> APIStatusError:
    """The error for an HTTP answer with a non-success ``status``.

    ``body`` is read as the API's ``{"type": "error", "error": {...}}`` when it
    is that; anything else (an HTML 413 from a proxy, an empty body) keeps its
    text as the message. The request id comes from the ``request-id`` header,
    else the body. ``secrets`` (the adapter's key) are scrubbed from every
    kept string, as is anything shaped like an Anthropic key.
    """
    return _status_error(KINDS.from_response(status, headers, body, secrets))


def error_from_event(
    data: Mapping[str, Any], request_id: str | None, *, secrets: Iterable[str] = ()
) -> APIStatusError:
    """The error for a streamed ``error`` event (inside an answer whose status was 200).

    ``data`` is the event's JSON (``{"type": "error", "error": {"type":
    "overloaded_error", "message": "Overloaded"}}``); the class follows the
    error type (``overloaded_error`` is an :class:`OverloadedError`) and
    ``status`` is ``None``, since no HTTP status was given for it.
    """
    return _status_error(KINDS.from_data(data, request_id, secrets, hint=_MID_STREAM_HINT))


def error_from_result(
    data: Mapping[str, Any], custom_id: str, *, secrets: Iterable[str] = ()
) -> APIStatusError:
    """The error of a Message Batches request whose result came back ``errored``.

    ``data`` is the result's ``error`` (``{"type": "error", "error": {"type":
    "invalid_request_error", "message": ...}}``); the class follows the error
    type, as for :func:`error_from_event`, and ``status`` is ``None``.
    """
    hint = (
        f"It is the batch result of custom_id {custom_id!r}, so it was not retried: fix the "
        "request if it was refused, then submit its conversation (BatchResult.original) again"
    )
    return _status_error(KINDS.from_data(data, None, secrets, hint=hint))


def _status_error(error: APIError) -> APIStatusError:
    assert isinstance(error, APIStatusError)  # KINDS builds only these
    return error
