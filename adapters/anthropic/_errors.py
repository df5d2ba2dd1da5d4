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

import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

import httpx

from adapters._secrets import redact
from conversation import AdapterError
from conversation.errors import clip

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

_SENSITIVE_HEADERS: Final = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)
_CLIP: Final = 500


def scrub_request(request: httpx.Request, secrets: Iterable[str] = ()) -> httpx.Request:
    """A copy of ``request`` with sensitive headers masked and ``secrets`` scrubbed.

    Method, URL, the other headers and the body (when it is in memory) are
    kept, so that an error's request still says what was sent.
    """
    hidden = tuple(secrets)
    headers = [
        (name, "[secure]" if name.lower() in _SENSITIVE_HEADERS else redact(value, hidden))
        for name, value in request.headers.items()
    ]
    try:
        content: bytes | None = request.content
    except httpx.RequestNotRead:
        content = None
    return httpx.Request(
        request.method, redact(str(request.url), hidden), headers=headers, content=content
    )


def scrub_exception(exc: BaseException, secrets: Iterable[str] = ()) -> None:
    """Mask the key in every ``httpx`` request reachable from ``exc`` and its chain.

    Each ``httpx.RequestError`` / ``HTTPStatusError`` in the ``__cause__`` /
    ``__context__`` chain gets a scrubbed copy of its request (and its
    response's request), and its message is scrubbed. The exceptions are
    changed in place, since the adapter chains them as they are.
    """
    hidden = tuple(secrets)
    seen: set[int] = set()
    current: BaseException | None = exc
    pending: list[BaseException] = []
    while current is not None or pending:
        if current is None:
            current = pending.pop()
        if id(current) not in seen:
            seen.add(id(current))
            _scrub_one(current, hidden)
            for linked in (current.__cause__, current.__context__):
                if linked is not None:
                    pending.append(linked)
        current = None


def _scrub_one(exc: BaseException, secrets: tuple[str, ...]) -> None:
    if isinstance(exc, httpx.RequestError | httpx.HTTPStatusError):
        try:
            request = exc.request
        except RuntimeError:  # a RequestError raised without a request
            request = None
        if request is not None:
            exc.request = scrub_request(request, secrets)
        if isinstance(exc, httpx.HTTPStatusError):
            exc.response.request = exc.request
        exc.args = tuple(redact(a, secrets) if isinstance(a, str) else a for a in exc.args)


class AnthropicError(AdapterError):
    """Base of every error raised by the Anthropic adapter.

    ``status`` is the HTTP status of the answer (``None`` when there was no
    answer, or when the error arrived as an event inside a streamed 200);
    ``error_type`` and ``api_message`` are the API's ``error.type`` and
    ``error.message``; ``request_id`` identifies the request to Anthropic.
    """

    status: int | None
    error_type: str | None
    api_message: str | None
    request_id: str | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.api_message = api_message
        self.request_id = request_id

    @property
    def status_code(self) -> int | None:
        """``status``, under the name the official SDK gives it."""
        return self.status


class MissingAPIKeyError(AnthropicError):
    """No API key: none was passed and ``ANTHROPIC_API_KEY`` is not set."""


class APIStatusError(AnthropicError):
    """The API answered with an error status (or a streamed ``error`` event).

    ``headers`` are the answer's headers, lower-cased, sensitive ones masked;
    ``body`` is its text (scrubbed of keys). Both are empty for a stream event.
    """

    status: int | None
    headers: Mapping[str, str]
    body: str

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        error_type: str | None,
        api_message: str | None,
        request_id: str | None,
        headers: Mapping[str, str] | None = None,
        body: str = "",
    ) -> None:
        super().__init__(
            message,
            status=status,
            error_type=error_type,
            api_message=api_message,
            request_id=request_id,
        )
        self.headers = dict(headers or {})
        self.body = body


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

_HINTS: Final[Mapping[type[AnthropicError], str]] = {
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


def _class_for(status: int | None, error_type: str | None) -> type[APIStatusError]:
    if status is not None and status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and status >= 500:
        return InternalServerError
    if status is None and error_type is not None:
        return _BY_TYPE.get(error_type, APIStatusError)
    return APIStatusError


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _describe(
    status: int | None, error_type: str | None, api_message: str | None, request_id: str | None
) -> str:
    head = f"{status} {error_type or 'error'}" if status is not None else error_type or "error"
    text = f"{head}: {api_message}" if api_message else head
    return f"{text} (request-id: {request_id or 'none'})"


def _build(
    status: int | None,
    error_type: str | None,
    api_message: str | None,
    request_id: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    body: str = "",
    hint: str | None = None,
) -> APIStatusError:
    cls = _class_for(status, error_type)
    if cls is BadRequestError and api_message and "prefill" in api_message.lower():
        cls = PrefillNotSupportedError
    message = _describe(status, error_type, api_message, request_id)
    if hint is None:
        hint = next((text for kind, text in _HINTS.items() if issubclass(cls, kind)), None)
    if hint:
        message = f"{message}. {hint}"
    return cls(
        message,
        status=status,
        error_type=error_type,
        api_message=api_message,
        request_id=request_id,
        headers=headers,
        body=body,
    )


def _safe_headers(headers: Mapping[str, str], secrets: tuple[str, ...]) -> dict[str, str]:
    return {
        name.lower(): "[secure]" if name.lower() in _SENSITIVE_HEADERS else redact(value, secrets)
        for name, value in headers.items()
    }


def _error_fields(parsed: Any) -> tuple[str | None, str | None, str | None]:
    """``(type, message, request_id)`` from an error body, as far as it has them."""
    if not isinstance(parsed, Mapping):
        return None, None, None
    error = parsed.get("error")
    request_id = _str_or_none(parsed.get("request_id"))
    if not isinstance(error, Mapping):
        return None, None, request_id
    return _str_or_none(error.get("type")), _str_or_none(error.get("message")), request_id


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
    hidden = tuple(secrets)
    text = redact(body.decode("utf-8", errors="replace"), hidden)
    try:
        parsed: Any = json.loads(text) if text.strip() else None
    except ValueError:
        parsed = None
    error_type, api_message, body_request_id = _error_fields(parsed)
    if error_type is None and api_message is None:
        error_type = _TYPE_OF_STATUS.get(status, _TYPE_OF_STATUS[500] if status >= 500 else None)
        api_message = clip(" ".join(text.split()), _CLIP) or None
    safe = _safe_headers(headers, hidden)
    request_id = _str_or_none(safe.get("request-id")) or body_request_id
    return _build(status, error_type, api_message, request_id, headers=safe, body=text)


def error_from_event(
    data: Mapping[str, Any], request_id: str | None, *, secrets: Iterable[str] = ()
) -> APIStatusError:
    """The error for a streamed ``error`` event (inside an answer whose status was 200).

    ``data`` is the event's JSON (``{"type": "error", "error": {"type":
    "overloaded_error", "message": "Overloaded"}}``); the class follows the
    error type (``overloaded_error`` is an :class:`OverloadedError`) and
    ``status`` is ``None``, since no HTTP status was given for it.
    """
    hidden = tuple(secrets)
    error_type, api_message, body_request_id = _error_fields(data)
    if api_message is not None:
        api_message = redact(api_message, hidden)
    return _build(
        None, error_type, api_message, request_id or body_request_id, hint=_MID_STREAM_HINT
    )


def error_from_result(
    data: Mapping[str, Any], custom_id: str, *, secrets: Iterable[str] = ()
) -> APIStatusError:
    """The error of a Message Batches request whose result came back ``errored``.

    ``data`` is the result's ``error`` (``{"type": "error", "error": {"type":
    "invalid_request_error", "message": ...}}``); the class follows the error
    type, as for :func:`error_from_event`, and ``status`` is ``None``.
    """
    hidden = tuple(secrets)
    error_type, api_message, request_id = _error_fields(data)
    if api_message is not None:
        api_message = redact(api_message, hidden)
    hint = (
        f"It is the batch result of custom_id {custom_id!r}, so it was not retried: fix the "
        "request if it was refused, then submit its conversation (BatchResult.original) again"
    )
    return _build(None, error_type, api_message, request_id, hint=hint)
