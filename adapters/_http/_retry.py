"""When to send a failed request again, and how long to wait first.

The official SDK's policy, as tenacity strategies:

- retry a failure with no answer (an :class:`~adapters.errors.APIError`
  whose class says ``no_answer``: a connection error, timeouts included) and
  an error status of 408, 409, 429 or >= 500 (529 too); the answer's
  ``x-should-retry: true``/``false`` header overrides the status either
  way; never any other 4xx, nor an error that arrived as a stream event;
- wait what the answer asks (``retry-after-ms``, else ``retry-after`` in
  seconds or as an HTTP date) when that is more than 0 and at most 60 s, else
  back off exponentially with jitter: ``min(0.5 * 2**n, 8.0) * (1 - 0.25 *
  random())`` for the ``n``-th retry (from 0);
- stop after ``max_retries + 1`` attempts and raise the last error as it was.

The Anthropic and the OpenAI SDKs share this policy, and so do the two
adapters: :class:`RetryPolicy` is one value for both. Each retry is logged
(INFO) on the logger the adapter names (``adapters.anthropic``,
``adapters.openai``), with the error's message, which never holds a key.
"""

from __future__ import annotations

import email.utils
import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, TypeVar

import anyio
import attrs
import tenacity

from adapters.errors import APIError
from conversation import MalformedInputError

__all__ = ["RetryPolicy", "exponential_backoff", "retry_after", "should_retry"]

_LOGGER: Final = logging.getLogger("adapters")

T = TypeVar("T")

MAX_RETRY_AFTER: Final = 60.0
INITIAL_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 8.0
JITTER: Final = 0.25
_RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})


def should_retry(exc: BaseException) -> bool:
    """True when ``exc`` is a failure worth sending the same request again for."""
    if not isinstance(exc, APIError):
        return False
    if exc.no_answer:
        return True
    if exc.status is None:
        return False
    override = exc.headers.get("x-should-retry", "").strip().lower()
    if override in ("true", "false"):
        return override == "true"
    return exc.status in _RETRYABLE_STATUSES or exc.status >= 500


def _seconds(value: str | None, scale: float = 1.0) -> float | None:
    if value is None:
        return None
    try:
        return float(value) * scale
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the answer asks for, in seconds, if it asks for one within bounds.

    ``retry-after-ms`` wins over ``retry-after``, which may be seconds (floats
    accepted) or an HTTP date (compared with ``now``, a Unix time). A wait of
    0 or less, or over 60 s, is not honoured (``None``): backoff applies.
    """
    wait = _seconds(headers.get("retry-after-ms"), 0.001)
    if wait is None:
        raw = headers.get("retry-after")
        wait = _seconds(raw)
        if wait is None and raw is not None:
            try:
                wait = email.utils.parsedate_to_datetime(raw).timestamp() - now
            except (TypeError, ValueError, IndexError, OverflowError):
                wait = None
    if wait is None or not 0 < wait <= MAX_RETRY_AFTER:  # NaN fails both comparisons
        return None
    return wait


def exponential_backoff(retry: int, random: float) -> float:
    """The jittered exponential wait before retry number ``retry`` (0 for the first).

    ``random`` is a draw from [0, 1): the wait is cut by up to a quarter.
    """
    return max(min(INITIAL_BACKOFF * 2.0**retry, MAX_BACKOFF) * (1 - JITTER * random), 0.0)


def _check_retries(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if type(value) is not int or value < 0:
        raise MalformedInputError(f"max_retries must be an int >= 0, got {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How an adapter retries: a value; a fresh tenacity controller is built per request.

    ``AnthropicAdapter(retry=RetryPolicy(...))`` and ``OpenAIAdapter(retry=...)``
    take one (``max_retries=`` is the shortcut for the common case). ``max_retries`` bounds the
    attempts (``max_retries + 1``); ``backoff(retry, random)`` is the wait
    when the answer asks for none (the SDK's by default); ``sleep`` and
    ``async_sleep`` do the waiting, ``random`` draws the jitter and
    ``clock`` (Unix time) reads HTTP-date ``retry-after`` headers: give your
    own to log or cap the waits, or to run retries in tests without waiting
    and without chance.

    >>> waits = []
    >>> RetryPolicy(max_retries=4, sleep=waits.append, random=lambda: 0.0).max_retries
    4
    """

    max_retries: int = attrs.field(default=2, validator=_check_retries)
    backoff: Callable[[int, float], float] = exponential_backoff
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    random: Callable[[], float] = _random.random
    clock: Callable[[], float] = time.time

    def wait(self, state: tenacity.RetryCallState) -> float:
        """Seconds to wait after the failed attempt of ``state`` (a tenacity wait)."""
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, APIError) and exc.status is not None:
            asked = retry_after(exc.headers, self.clock())
            if asked is not None:
                return asked
        return self.backoff(state.attempt_number - 1, self.random())

    def _options(self, what: str, logger: logging.Logger) -> dict[str, Any]:
        def log(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome is not None else None
            delay = state.next_action.sleep if state.next_action is not None else 0.0
            logger.info(
                "%s failed (%s); retry %d of %d in %.2f s",
                what,
                exc,
                state.attempt_number,
                self.max_retries,
                delay,
            )

        return {
            "retry": tenacity.retry_if_exception(should_retry),
            "stop": tenacity.stop_after_attempt(self.max_retries + 1),
            "wait": self.wait,
            "before_sleep": log,
            "reraise": True,
        }

    def call(self, fn: Callable[[], T], what: str, logger: logging.Logger = _LOGGER) -> T:
        """``fn()``, retried by this policy; ``what`` names the request in ``logger``'s lines."""
        retrying = tenacity.Retrying(sleep=self.sleep, **self._options(what, logger))
        return retrying(fn)

    async def acall(
        self, fn: Callable[[], Awaitable[T]], what: str, logger: logging.Logger = _LOGGER
    ) -> T:
        """``await fn()``, retried by this policy, waiting with ``async_sleep``."""
        retrying = tenacity.AsyncRetrying(sleep=self.async_sleep, **self._options(what, logger))
        return await retrying(fn)
