"""Tests for adapters.anthropic._errors: the error tree, status mapping, messages, secrets."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from adapters.anthropic import (
    AnthropicError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ContinuationError,
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
)
from conversation import AdapterError, ConversationError
from tests.adapters.anthropic.mocks import HELLO, KEY, OPTIONS, MakeAdapter


def body(error_type: str, message: str, request_id: str | None = None) -> bytes:
    data: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id is not None:
        data["request_id"] = request_id
    return json.dumps(data).encode()


class TestTree:
    @pytest.mark.parametrize(
        ("child", "parent"),
        [
            (AnthropicError, AdapterError),
            (AdapterError, ConversationError),
            (MissingAPIKeyError, AnthropicError),
            (ContinuationError, ConversationError),
            (APIStatusError, AnthropicError),
            (BadRequestError, APIStatusError),
            (PrefillNotSupportedError, BadRequestError),
            (AuthenticationError, APIStatusError),
            (PermissionDeniedError, APIStatusError),
            (NotFoundError, APIStatusError),
            (ConflictError, APIStatusError),
            (RequestTooLargeError, APIStatusError),
            (UnprocessableEntityError, APIStatusError),
            (RateLimitError, APIStatusError),
            (InternalServerError, APIStatusError),
            (ServiceUnavailableError, InternalServerError),
            (DeadlineExceededError, InternalServerError),
            (OverloadedError, InternalServerError),
            (APIConnectionError, AnthropicError),
            (APITimeoutError, APIConnectionError),
        ],
    )
    def test_hierarchy(self, child: type[Exception], parent: type[Exception]) -> None:
        """Each class sits where the module docstring draws it."""
        assert issubclass(child, parent)

    def test_status_code_is_status(self) -> None:
        """``status_code`` (the official SDK's name) is ``status``; None when no answer came."""
        assert error_from_response(409, {}, b"").status_code == 409
        assert APIConnectionError("reset").status_code is None
        event = error_from_event({"error": {"type": "overloaded_error", "message": "x"}}, None)
        assert event.status_code is None

    def test_transport_errors_are_not_status_errors(self) -> None:
        """A failure with no answer is not an APIStatusError (and vice versa)."""
        assert not issubclass(APIConnectionError, APIStatusError)
        assert not issubclass(APIStatusError, APIConnectionError)


class TestFromResponse:
    @pytest.mark.parametrize(
        ("status", "error_type", "cls"),
        [
            (400, "invalid_request_error", BadRequestError),
            (401, "authentication_error", AuthenticationError),
            (402, "billing_error", APIStatusError),
            (403, "permission_error", PermissionDeniedError),
            (404, "not_found_error", NotFoundError),
            (408, "timeout_error", APIStatusError),
            (409, "conflict_error", ConflictError),
            (413, "request_too_large", RequestTooLargeError),
            (422, "invalid_request_error", UnprocessableEntityError),
            (429, "rate_limit_error", RateLimitError),
            (500, "api_error", InternalServerError),
            (503, "api_error", ServiceUnavailableError),
            (504, "timeout_error", DeadlineExceededError),
            (529, "overloaded_error", OverloadedError),
        ],
    )
    def test_status_maps_to_class(
        self, status: int, error_type: str, cls: type[APIStatusError]
    ) -> None:
        """Each status becomes its class (exactly), keeping status, type and message."""
        err = error_from_response(
            status, {"request-id": "req_1"}, body(error_type, "it went wrong")
        )
        assert type(err) is cls
        assert err.status == err.status_code == status
        assert err.error_type == error_type
        assert err.api_message == "it went wrong"
        assert err.request_id == "req_1"

    def test_message_names_everything(self) -> None:
        """The message names status, error type, API message and request id."""
        err = error_from_response(
            529, {"request-id": "req_011CSH"}, body("overloaded_error", "Overloaded")
        )
        text = str(err)
        assert text.startswith("529 overloaded_error: Overloaded (request-id: req_011CSH)")

    def test_request_id_from_body_when_no_header(self) -> None:
        """Without a request-id header, the body's request_id is used."""
        err = error_from_response(500, {}, body("api_error", "boom", request_id="req_body"))
        assert err.request_id == "req_body"
        assert "req_body" in str(err)

    def test_header_request_id_wins(self) -> None:
        """The request-id header wins over the body's request_id."""
        err = error_from_response(
            500, {"Request-Id": "req_head"}, body("api_error", "x", request_id="req_body")
        )
        assert err.request_id == "req_head"

    @pytest.mark.parametrize(
        "text",
        [
            "This model does not support assistant message prefill. "
            "The conversation must end with a user message.",
            "Prefill is not supported with this model",
        ],
    )
    def test_prefill_refused(self, text: str) -> None:
        """A 400 about prefill is a PrefillNotSupportedError that says what to do instead."""
        err = error_from_response(400, {}, body("invalid_request_error", text))
        assert type(err) is PrefillNotSupportedError
        assert "final assistant turn" in str(err)
        assert "system prompt" in str(err)
        assert "structured output" in str(err)

    def test_other_400_is_plain_bad_request(self) -> None:
        """A 400 that does not mention prefill stays a BadRequestError."""
        err = error_from_response(400, {}, body("invalid_request_error", "max_tokens: required"))
        assert type(err) is BadRequestError

    def test_html_413(self) -> None:
        """A 413 from a proxy with an HTML body still maps, its text kept as the message."""
        page = b"<html><body><h1>413 Request Entity Too Large</h1></body></html>"
        err = error_from_response(413, {"content-type": "text/html"}, page)
        assert type(err) is RequestTooLargeError
        assert err.error_type == "request_too_large"
        assert err.api_message is not None
        assert "413 Request Entity Too Large" in err.api_message
        assert "32 MB" in str(err)
        assert err.body == page.decode()

    @pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'{"error": "flat"}'])
    def test_odd_bodies(self, raw: bytes) -> None:
        """Empty, non-JSON or oddly shaped bodies still give a mapped error with a message."""
        err = error_from_response(502, {}, raw)
        assert type(err) is InternalServerError
        assert err.error_type == "api_error"
        assert str(err).startswith("502 api_error")

    def test_unknown_status_without_body(self) -> None:
        """An unmapped 4xx with an empty body is an APIStatusError named by its status."""
        err = error_from_response(418, {}, b"")
        assert type(err) is APIStatusError
        assert str(err) == "418 error (request-id: none)"

    def test_headers_kept_lowercase(self) -> None:
        """The answer's headers are kept with lower-case names, for the retry policy."""
        err = error_from_response(429, {"Retry-After": "3"}, body("rate_limit_error", "slow"))
        assert err.headers["retry-after"] == "3"


class TestFromEvent:
    def test_overloaded_event(self) -> None:
        """A streamed overloaded_error is an OverloadedError with no HTTP status."""
        data = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        err = error_from_event(data, "req_stream")
        assert type(err) is OverloadedError
        assert err.status is None
        assert err.request_id == "req_stream"
        assert str(err).startswith("overloaded_error: Overloaded (request-id: req_stream)")

    @pytest.mark.parametrize(
        ("error_type", "cls"),
        [
            ("api_error", InternalServerError),
            ("rate_limit_error", RateLimitError),
            ("invalid_request_error", BadRequestError),
            ("something_new", APIStatusError),
        ],
    )
    def test_event_types(self, error_type: str, cls: type[APIStatusError]) -> None:
        """The class of an event error follows its error type."""
        err = error_from_event({"type": "error", "error": {"type": error_type}}, None)
        assert type(err) is cls
        assert err.api_message is None

    def test_malformed_event(self) -> None:
        """An event without an error object still gives an APIStatusError."""
        err = error_from_event({"type": "error"}, "req_x")
        assert type(err) is APIStatusError
        assert "req_x" in str(err)


SECRET_HEADERS = {
    "request-id": "req_leak",
    "x-api-key": KEY,
    "x-echo": f"you sent {KEY}",
    "authorization": f"Bearer {KEY}",
}


class TestSecrets:
    def test_key_scrubbed_from_response_error(self) -> None:
        """A key echoed in the body or headers is absent from str, repr and the fields."""
        raw = body("authentication_error", f"invalid x-api-key: {KEY}")
        err = error_from_response(401, SECRET_HEADERS, raw, secrets=[KEY])
        for shown in (str(err), repr(err), err.body, err.api_message, repr(err.headers)):
            assert shown is not None
            assert KEY not in shown
        assert err.headers["x-api-key"] == "[secure]"
        assert "[redacted]" in str(err)

    def test_key_shapes_scrubbed_without_being_told(self) -> None:
        """Anything shaped like an Anthropic key is scrubbed even without secrets=."""
        other = "sk-ant-api03-SOMEONE-elses-key-999"
        err = error_from_response(400, {"x-echo": other}, body("invalid_request_error", other))
        assert other not in str(err)
        assert other not in repr(err.headers)
        event = error_from_event({"error": {"type": "api_error", "message": other}}, None)
        assert other not in str(event)

    def test_adapter_errors_and_logs_never_show_the_key(
        self, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Through the adapter: the key echoed by a failing API is in no message or log line."""
        echo = body("overloaded_error", f"overloaded for key {KEY}")

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(529, content=echo, headers=SECRET_HEADERS)

        adapter, recorder, _ = make_adapter(answer)
        caplog.set_level(logging.DEBUG)
        with pytest.raises(OverloadedError) as info:
            adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == 3
        err = info.value
        assert KEY not in str(err)
        assert KEY not in repr(err)
        assert KEY not in repr(vars(err))
        assert caplog.records, "each retry is logged"
        assert KEY not in caplog.text

    def test_key_not_in_connection_error(self, make_adapter: MakeAdapter) -> None:
        """A transport failure's message does not carry the key either."""

        def answer(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError(f"refused (sent {request.headers['x-api-key']})")

        adapter, _, _ = make_adapter(answer, max_retries=0)
        with pytest.raises(APIConnectionError) as info:
            adapter.send(HELLO, **OPTIONS)
        assert KEY not in str(info.value)
        assert KEY not in repr(info.value)
