"""How an HTTP API's error answer becomes an adapter error, and keeping keys out of it.

Every provider adapter maps its answers the same way and differs only in its
tables: which class a status or an error type gets, the hint appended for a
class, the header holding the request id. :class:`ErrorKinds` holds one
provider's tables and builds its errors. The body is read as the
``{"error": {"type": ..., "message": ...}}`` both the Anthropic and the
OpenAI APIs send (and OpenAI-compatible servers mostly copy); anything else
keeps its text as the message.

An API key never appears in what is built: text that came from the server is
scrubbed of the adapter's key and of anything shaped like a provider key
before it is kept, and sensitive response headers are masked. Nor is it
reachable through what an error chains: the ``httpx`` exceptions there carry
a copy of the request whose sensitive headers are masked (:func:`scrub_request`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Protocol

import attrs
import httpx

from adapters._secrets import redact
from adapters.errors import APIError
from conversation.errors import clip

__all__ = [
    "SENSITIVE_HEADERS",
    "ErrorKinds",
    "StatusErrorClass",
    "error_fields",
    "safe_headers",
    "scrub_exception",
    "scrub_request",
]

SENSITIVE_HEADERS: Final = frozenset(
    {"x-api-key", "api-key", "authorization", "proxy-authorization", "cookie", "set-cookie"}
)
_CLIP: Final = 500


def scrub_request(request: httpx.Request, secrets: Iterable[str] = ()) -> httpx.Request:
    """A copy of ``request`` with sensitive headers masked and ``secrets`` scrubbed.

    Method, URL, the other headers and the body (when it is in memory) are
    kept, so that an error's request still says what was sent.
    """
    hidden = tuple(secrets)
    headers = [
        (name, "[secure]" if name.lower() in SENSITIVE_HEADERS else redact(value, hidden))
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
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        _scrub_one(current, hidden)
        pending.extend(link for link in (current.__cause__, current.__context__) if link)


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


def safe_headers(headers: Mapping[str, str], secrets: Iterable[str] = ()) -> dict[str, str]:
    """``headers`` lower-cased, sensitive ones masked and ``secrets`` scrubbed from the rest."""
    hidden = tuple(secrets)
    return {
        name.lower(): "[secure]" if name.lower() in SENSITIVE_HEADERS else redact(value, hidden)
        for name, value in headers.items()
    }


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_fields(parsed: Any) -> tuple[str | None, str | None, str | None]:
    """``(type, message, request_id)`` from an error body, as far as it has them.

    A string ``error`` (some OpenAI-compatible servers send ``{"error": "..."}``)
    is the message.
    """
    if not isinstance(parsed, Mapping):
        return None, None, None
    error = parsed.get("error")
    request_id = _str_or_none(parsed.get("request_id"))
    if isinstance(error, str):
        return None, _str_or_none(error), request_id
    if not isinstance(error, Mapping):
        return None, None, request_id
    kind = _str_or_none(error.get("type")) or _str_or_none(error.get("code"))
    return kind, _str_or_none(error.get("message")), request_id


class StatusErrorClass(Protocol):
    """What :class:`ErrorKinds` builds: a provider's ``APIStatusError`` or a subclass."""

    def __call__(
        self,
        message: str,
        *,
        status: int | None,
        error_type: str | None,
        api_message: str | None,
        request_id: str | None,
        headers: Mapping[str, str] | None = None,
        body: str = "",
    ) -> APIError: ...


def _describe(
    status: int | None,
    error_type: str | None,
    api_message: str | None,
    request_id: str | None,
    id_header: str,
) -> str:
    head = f"{status} {error_type or 'error'}" if status is not None else error_type or "error"
    text = f"{head}: {api_message}" if api_message else head
    return f"{text} ({id_header}: {request_id or 'none'})"


@attrs.frozen(kw_only=True)
class ErrorKinds:
    """One provider's error classes and tables, and the errors built from them.

    ``missing_key``, ``connection`` and ``timeout`` are the classes the
    shared code raises for no key, no answer, and no answer in time;
    ``base`` is its ``APIStatusError``; ``server`` the class of a 5xx that
    ``by_status`` does not name; ``by_type`` the class of an error with no
    status (a stream event, a batch result) by its error type;
    ``type_of_status`` the error type to report when the body names none;
    ``hints`` the advice appended for a class (the first that matches, in
    order); ``refine`` may swap the class for a subclass by the message
    (Anthropic's prefill refusal); ``id_header`` holds the request id.
    """

    missing_key: type[APIError]
    connection: type[APIError]
    timeout: type[APIError]
    base: type[APIError]
    server: type[APIError]
    by_status: Mapping[int, type[APIError]]
    by_type: Mapping[str, type[APIError]] = attrs.field(factory=dict)
    type_of_status: Mapping[int, str] = attrs.field(factory=dict)
    hints: Mapping[type[APIError], str] = attrs.field(factory=dict)
    refine: Callable[[type[APIError], str | None], type[APIError]] = lambda cls, _: cls
    id_header: str = "request-id"

    def _class_for(self, status: int | None, error_type: str | None) -> type[APIError]:
        if status is not None and status in self.by_status:
            return self.by_status[status]
        if status is not None and status >= 500:
            return self.server
        if status is None and error_type is not None:
            return self.by_type.get(error_type, self.base)
        return self.base

    def build(
        self,
        status: int | None,
        error_type: str | None,
        api_message: str | None,
        request_id: str | None,
        *,
        headers: Mapping[str, str] | None = None,
        body: str = "",
        hint: str | None = None,
    ) -> APIError:
        """The error of these fields: its class from the tables, its message with a hint."""
        cls = self.refine(self._class_for(status, error_type), api_message)
        message = _describe(status, error_type, api_message, request_id, self.id_header)
        if hint is None:
            hint = next((text for kind, text in self.hints.items() if issubclass(cls, kind)), None)
        if hint:
            message = f"{message}. {hint}"
        make: StatusErrorClass = cls  # every class here takes the status error's arguments
        return make(
            message,
            status=status,
            error_type=error_type,
            api_message=api_message,
            request_id=request_id,
            headers=headers,
            body=body,
        )

    def from_response(
        self, status: int, headers: Mapping[str, str], body: bytes, secrets: Iterable[str] = ()
    ) -> APIError:
        """The error for an HTTP answer with a non-success ``status``.

        ``body`` is read as an API error body when it is one; anything else (an
        HTML 413 from a proxy, an empty body) keeps its text as the message.
        The request id comes from the ``id_header`` header, else the body.
        ``secrets`` (the adapter's key) are scrubbed from every kept string.
        """
        hidden = tuple(secrets)
        text = redact(body.decode("utf-8", errors="replace"), hidden)
        try:
            parsed: Any = json.loads(text) if text.strip() else None
        except ValueError:
            parsed = None
        error_type, api_message, body_request_id = error_fields(parsed)
        if error_type is None:
            error_type = self.type_of_status.get(
                status, self.type_of_status.get(500) if status >= 500 else None
            )
            if api_message is None:
                api_message = clip(" ".join(text.split()), _CLIP) or None
        safe = safe_headers(headers, hidden)
        request_id = _str_or_none(safe.get(self.id_header)) or body_request_id
        return self.build(status, error_type, api_message, request_id, headers=safe, body=text)

    def from_data(
        self,
        data: Mapping[str, Any],
        request_id: str | None,
        secrets: Iterable[str] = (),
        *,
        hint: str | None = None,
    ) -> APIError:
        """The error an error object names with no HTTP status (a stream event, a result).

        The class follows the error type; ``status`` is ``None``.
        """
        error_type, api_message, body_request_id = error_fields(data)
        if api_message is not None:
            api_message = redact(api_message, tuple(secrets))
        return self.build(None, error_type, api_message, request_id or body_request_id, hint=hint)
