"""Tests for adapters._http._retry: which failures are retried, how long the waits are."""

from __future__ import annotations

import email.utils
import logging

import httpx
import pytest
import tenacity

from adapters._http._retry import RetryPolicy, exponential_backoff, retry_after, should_retry
from adapters.anthropic import (
    AnthropicAdapter,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    error_from_event,
    error_from_response,
)
from conversation import MalformedInputError
from tests.adapters.anthropic.mocks import HELLO, OPTIONS, MakeAdapter, fail, ok, raising

NOW = 1_700_000_000.0


def status_error(status: int, headers: dict[str, str] | None = None) -> APIStatusError:
    return error_from_response(status, headers or {}, b"")


class TestShouldRetry:
    @pytest.mark.parametrize(
        ("status", "retried"),
        [
            (400, False),
            (401, False),
            (402, False),
            (403, False),
            (404, False),
            (408, True),
            (409, True),
            (413, False),
            (422, False),
            (429, True),
            (500, True),
            (502, True),
            (503, True),
            (504, True),
            (529, True),
        ],
    )
    def test_status_table(self, status: int, retried: bool) -> None:
        """408, 409, 429 and >= 500 are retried; every other 4xx is not."""
        assert should_retry(status_error(status)) is retried

    @pytest.mark.parametrize(("status", "header"), [(400, "true"), (529, "false"), (429, "FALSE")])
    def test_should_retry_header_overrides(self, status: int, header: str) -> None:
        """x-should-retry: true/false wins over the status, either way."""
        err = status_error(status, {"x-should-retry": header})
        assert should_retry(err) is (header.lower() == "true")

    def test_no_answer_is_retried(self) -> None:
        """Connection failures and timeouts (no answer) are retried."""
        assert should_retry(APIConnectionError("reset"))
        assert should_retry(APITimeoutError("slow"))

    def test_others_are_not(self) -> None:
        """A mid-stream error event, or any other exception, is never retried."""
        event = error_from_event({"error": {"type": "overloaded_error", "message": "x"}}, None)
        assert not should_retry(event)
        assert not should_retry(ValueError("x"))


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"retry-after-ms": "1500"}, 1.5),
            ({"retry-after": "2"}, 2.0),
            ({"retry-after": "0.25"}, 0.25),
            ({"retry-after": "60"}, 60.0),
            ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
            ({"retry-after-ms": "junk", "retry-after": "3"}, 3.0),
            ({"retry-after": email.utils.formatdate(NOW + 7, usegmt=True)}, 7.0),
        ],
    )
    def test_honoured(self, headers: dict[str, str], expected: float) -> None:
        """retry-after-ms, retry-after seconds and HTTP dates are read (ms first)."""
        assert retry_after(headers, NOW) == pytest.approx(expected)

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"retry-after": "0"},
            {"retry-after": "-1"},
            {"retry-after": "61"},
            {"retry-after-ms": "60001"},
            {"retry-after": "nan"},
            {"retry-after": "soon"},
            {"retry-after": email.utils.formatdate(NOW - 5, usegmt=True)},
            {"retry-after": email.utils.formatdate(NOW + 3600, usegmt=True)},
        ],
    )
    def test_not_honoured(self, headers: dict[str, str]) -> None:
        """Absent, unreadable, zero, negative, past or over-60-second waits fall to backoff."""
        assert retry_after(headers, NOW) is None


class TestBackoff:
    @pytest.mark.parametrize(
        ("retry", "longest"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]
    )
    def test_bounds(self, retry: int, longest: float) -> None:
        """The n-th wait is min(0.5 * 2**n, 8), cut by 0 to 25% of jitter."""
        assert exponential_backoff(retry, 0.0) == longest
        assert exponential_backoff(retry, 0.999999) == pytest.approx(longest * 0.75, rel=1e-5)
        assert longest * 0.75 <= exponential_backoff(retry, 0.5) <= longest


class TestPolicy:
    def test_validates_max_retries(self) -> None:
        """max_retries must be an int >= 0."""
        for bad in (-1, 1.5, True):
            with pytest.raises(MalformedInputError, match="max_retries"):
                RetryPolicy(max_retries=bad)  # type: ignore[arg-type]

    def test_wait_uses_retry_after_then_backoff(self) -> None:
        """The wait after a failure is the answer's retry-after, else jittered backoff."""
        failures = [status_error(429, {"retry-after": "3"}), status_error(500)]

        def attempt() -> str:
            if failures:
                raise failures.pop(0)
            return "done"

        waits: list[float] = []
        policy = RetryPolicy(
            max_retries=2, sleep=waits.append, random=lambda: 0.0, clock=lambda: NOW
        )
        assert policy.call(attempt, "POST /v1/messages") == "done"
        assert waits == [3.0, 1.0]  # retry-after, then the second backoff step

    def test_adapter_takes_a_policy(self) -> None:
        """retry= sets the policy; max_retries= given too wins; anything else is refused."""
        policy = RetryPolicy(max_retries=5)
        assert AnthropicAdapter(api_key="k", retry=policy).max_retries == 5
        assert AnthropicAdapter(api_key="k", retry=policy, max_retries=1).max_retries == 1
        assert AnthropicAdapter(api_key="k").max_retries == 2
        with pytest.raises(MalformedInputError, match="RetryPolicy"):
            AnthropicAdapter(api_key="k", retry=3)  # type: ignore[arg-type]

    def test_backoff_is_the_policy_s(self) -> None:
        """A policy's own backoff sets the waits the answer does not ask for."""
        failures = [status_error(500), status_error(503)]

        def attempt() -> str:
            if failures:
                raise failures.pop(0)
            return "done"

        waits: list[float] = []
        policy = RetryPolicy(backoff=lambda retry, random: 0.25 * (retry + 1), sleep=waits.append)
        assert policy.call(attempt, "x") == "done"
        assert waits == [0.25, 0.5]

    def test_reraises_last_error(self) -> None:
        """When retries run out, the last error itself is raised (not tenacity's RetryError)."""
        errors = [status_error(503), status_error(500)]

        def attempt() -> None:
            raise errors.pop(0)

        with pytest.raises(InternalServerError) as info:
            RetryPolicy(max_retries=1, sleep=lambda s: None).call(attempt, "x")
        assert info.value.status == 500
        assert not isinstance(info.value, tenacity.RetryError)


NOT_RETRIED = [
    (400, "invalid_request_error", BadRequestError),
    (401, "authentication_error", AuthenticationError),
    (403, "permission_error", PermissionDeniedError),
    (404, "not_found_error", NotFoundError),
    (413, "request_too_large", RequestTooLargeError),
]


class TestAdapterRetries:
    @pytest.mark.parametrize(("status", "error_type", "cls"), NOT_RETRIED)
    def test_client_errors_sent_once(
        self, make_adapter: MakeAdapter, status: int, error_type: str, cls: type[Exception]
    ) -> None:
        """400/401/403/404/413 raise their class after exactly one request, no wait."""
        adapter, recorder, sleeps = make_adapter(fail(status, error_type))
        with pytest.raises(cls):
            adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == 1
        assert sleeps == []

    @pytest.mark.parametrize(
        ("status", "error_type"),
        [
            (408, "timeout_error"),
            (409, "conflict_error"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (503, "api_error"),
            (529, "overloaded_error"),
        ],
    )
    def test_retryable_then_success(
        self, make_adapter: MakeAdapter, status: int, error_type: str
    ) -> None:
        """A retryable failure followed by a reply gives the reply after two requests."""
        adapter, recorder, sleeps = make_adapter(fail(status, error_type), ok())
        result = adapter.send(HELLO, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "Hi!"
        assert len(recorder.requests) == 2
        assert sleeps == [0.5]
        first, second = recorder.requests
        assert first.content == second.content  # the very same request, sent again

    @pytest.mark.parametrize("max_retries", [0, 1, 2, 4])
    def test_max_retries_bounds_attempts(self, make_adapter: MakeAdapter, max_retries: int) -> None:
        """A persistent 500 is sent max_retries + 1 times, then InternalServerError is raised."""
        adapter, recorder, sleeps = make_adapter(fail(500), max_retries=max_retries)
        with pytest.raises(InternalServerError):
            adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == max_retries + 1
        assert sleeps == [min(0.5 * 2**n, 8.0) for n in range(max_retries)]

    def test_retry_after_honoured(self, make_adapter: MakeAdapter) -> None:
        """retry-after (and retry-after-ms) set the wait when within 60 s."""
        adapter, _, sleeps = make_adapter(
            fail(429, "rate_limit_error", headers={"retry-after": "7"}),
            fail(529, "overloaded_error", headers={"retry-after-ms": "120"}),
            ok(),
        )
        adapter.send(HELLO, **OPTIONS)
        assert sleeps == [7.0, 0.12]

    def test_retry_after_too_long_falls_back(self, make_adapter: MakeAdapter) -> None:
        """A retry-after over 60 s is not honoured: backoff applies instead."""
        adapter, _, sleeps = make_adapter(
            fail(429, "rate_limit_error", headers={"retry-after": "3600"}), ok()
        )
        adapter.send(HELLO, **OPTIONS)
        assert sleeps == [0.5]

    def test_jitter_applied(self, make_adapter: MakeAdapter) -> None:
        """With random() near 1 the backoff is cut by a quarter."""
        adapter, _, sleeps = make_adapter(fail(500), fail(500), ok(), random=lambda: 0.5)
        adapter.send(HELLO, **OPTIONS)
        assert sleeps == [0.5 * 0.875, 1.0 * 0.875]

    def test_x_should_retry_false(self, make_adapter: MakeAdapter) -> None:
        """x-should-retry: false stops even a 529 from being retried."""
        adapter, recorder, _ = make_adapter(
            fail(529, "overloaded_error", headers={"x-should-retry": "false"}), ok()
        )
        with pytest.raises(OverloadedError):
            adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == 1

    def test_x_should_retry_true(self, make_adapter: MakeAdapter) -> None:
        """x-should-retry: true makes even a 400 retried."""
        adapter, recorder, _ = make_adapter(
            fail(400, "invalid_request_error", headers={"x-should-retry": "true"}), ok()
        )
        adapter.send(HELLO, **OPTIONS)
        assert len(recorder.requests) == 2

    @pytest.mark.parametrize(
        ("exc", "cls"),
        [
            (httpx.ReadTimeout("slow"), APITimeoutError),
            (httpx.ConnectTimeout("slow"), APITimeoutError),
            (httpx.ConnectError("refused"), APIConnectionError),
            (httpx.RemoteProtocolError("reset"), APIConnectionError),
        ],
    )
    def test_no_answer(
        self, make_adapter: MakeAdapter, exc: Exception, cls: type[Exception]
    ) -> None:
        """Transport failures are retried, then raised as APIConnectionError/APITimeoutError."""
        adapter, recorder, _ = make_adapter(raising(exc))
        with pytest.raises(cls, match="POST /v1/messages") as info:
            adapter.send(HELLO, **OPTIONS)
        assert type(info.value) is cls
        assert info.value.__cause__ is exc
        assert len(recorder.requests) == 3

    def test_reset_then_success(self, make_adapter: MakeAdapter) -> None:
        """A connection failure followed by a reply gives the reply."""
        adapter, recorder, _ = make_adapter(raising(httpx.ReadError("reset")), ok())
        assert adapter.send(HELLO, **OPTIONS).last is not None
        assert len(recorder.requests) == 2

    def test_count_tokens_retried(self, make_adapter: MakeAdapter) -> None:
        """count_tokens follows the same policy."""

        def count(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json={"input_tokens": 5})

        adapter, recorder, _ = make_adapter(fail(529, "overloaded_error"), count)
        assert adapter.count_tokens(HELLO, **OPTIONS) == 5
        assert len(recorder.requests) == 2

    def test_retries_logged(
        self, make_adapter: MakeAdapter, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Each retry logs one line on "adapters.anthropic" naming the error and the wait."""
        adapter, _, _ = make_adapter(fail(529, "overloaded_error"), fail(500), ok())
        with caplog.at_level(logging.INFO, logger="adapters.anthropic"):
            adapter.send(HELLO, **OPTIONS)
        lines = [r.getMessage() for r in caplog.records if r.name == "adapters.anthropic"]
        assert len(lines) == 2
        assert "POST /v1/messages failed (529 overloaded_error" in lines[0]
        assert "retry 1 of 2 in 0.50 s" in lines[0]
        assert "retry 2 of 2 in 1.00 s" in lines[1]

    @pytest.mark.anyio
    async def test_async_policy(self, make_adapter: MakeAdapter) -> None:
        """asend retries the same way, waiting with the async sleep."""
        adapter, recorder, sleeps = make_adapter(
            fail(429, "rate_limit_error", headers={"retry-after": "2"}), fail(500), ok()
        )
        result = await adapter.asend(HELLO, **OPTIONS)
        assert result.last is not None
        assert len(recorder.requests) == 3
        assert sleeps == [2.0, 1.0]

    @pytest.mark.anyio
    @pytest.mark.parametrize(("status", "error_type", "cls"), NOT_RETRIED)
    async def test_async_client_errors_sent_once(
        self, make_adapter: MakeAdapter, status: int, error_type: str, cls: type[Exception]
    ) -> None:
        """asend never re-sends a 400/401/403/404/413 either."""
        adapter, recorder, _ = make_adapter(fail(status, error_type))
        with pytest.raises(cls):
            await adapter.asend(HELLO, **OPTIONS)
        assert len(recorder.requests) == 1

    @pytest.mark.anyio
    async def test_async_exhausted(self, make_adapter: MakeAdapter) -> None:
        """asend gives up after max_retries + 1 attempts with the last error."""
        adapter, recorder, _ = make_adapter(raising(httpx.ReadTimeout("slow")), max_retries=1)
        with pytest.raises(APITimeoutError):
            await adapter.asend(HELLO, **OPTIONS)
        assert len(recorder.requests) == 2

    def test_rate_limit_class(self, make_adapter: MakeAdapter) -> None:
        """A persistent 429 ends in RateLimitError."""
        adapter, _, _ = make_adapter(fail(429, "rate_limit_error"), max_retries=0)
        with pytest.raises(RateLimitError):
            adapter.send(HELLO, **OPTIONS)
