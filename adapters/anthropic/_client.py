"""AnthropicAdapter: sends a Conversation to the Anthropic Messages API, sync or async.

Everything but the I/O lives in :class:`_Core`, shared by both halves: the
configuration (key, base URL, headers, defaults, retry policy), building each
request from ``Conversation.to_json`` (so the rules are checked before
anything is sent) and reading each answer (an error status becomes an
:class:`~adapters.anthropic.APIStatusError`, a 200 is folded into the
conversation). :class:`AnthropicAdapter` adds the I/O: one attempt each way
(``_attempt`` and ``_aattempt``, the same steps with blocking or awaited
calls), retried by the adapter's :class:`~adapters.anthropic.RetryPolicy`,
under ``send`` and ``asend``, ``stream`` and ``astream``, ``count_tokens``
and ``acount_tokens``.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import attrs
import httpx
import orjson

from adapters._base import build_body, check_defaults, merge_options
from adapters._closing import AsyncClosing, Closing
from conversation import (
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    RuleViolationError,
    Violation,
)
from conversation.computer import betas_for

from ._batches import BatchMethods
from ._errors import (
    APIConnectionError,
    APITimeoutError,
    MissingAPIKeyError,
    error_from_response,
    redact,
    scrub_exception,
    scrub_request,
)
from ._pools import Pools
from ._retry import RetryPolicy

if TYPE_CHECKING:
    from ._stream import AnthropicStream, AsyncAnthropicStream

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "AnthropicAdapter"]

DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
DEFAULT_TIMEOUT: Final = httpx.Timeout(600, connect=5)
API_VERSION: Final = "2023-06-01"
MESSAGES_PATH: Final = "/v1/messages"
COUNT_TOKENS_PATH: Final = "/v1/messages/count_tokens"
REQUEST_ID_HEADER: Final = "request-id"

GENERATION_ONLY: Final = frozenset(
    {
        "max_tokens",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "service_tier",
    }
)
"""Request fields ``count_tokens`` leaves out: they shape the reply, not the prompt."""


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("conversation-state")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        version = "0+unknown"
    return f"conversation-state/{version}"


USER_AGENT: Final = _user_agent()


@attrs.frozen
class _APIKey:
    """The API key and where it came from; its repr shows only where."""

    value: str = attrs.field(repr=False)
    source: str


@attrs.frozen
class _Call:
    """One request, ready to send: its path, headers and JSON body (none for a GET);
    ``stream`` when its answer is read as it arrives (an event stream, a results file)
    rather than at once."""

    path: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes = attrs.field(repr=False)
    stream: bool = False
    method: str = "POST"

    @property
    def what(self) -> str:
        """How log lines name the request."""
        return f"{self.method} {self.path}"


def _resolve_key(api_key: str | None) -> _APIKey:
    """The key to send, from the argument or ANTHROPIC_API_KEY; never echoed in an error."""
    if api_key is not None:
        if not isinstance(api_key, str):
            raise MissingAPIKeyError(f"api_key must be a str, got a {type(api_key).__name__}")
        key, source = api_key.strip(), "argument"
    else:
        key, source = os.environ.get("ANTHROPIC_API_KEY", "").strip(), "ANTHROPIC_API_KEY"
    if not key:
        raise MissingAPIKeyError(
            "no Anthropic API key: pass AnthropicAdapter(api_key=...) or set the "
            "ANTHROPIC_API_KEY environment variable"
            + (" (api_key was empty)" if api_key is not None else "")
        )
    if not all(" " < char < "\x7f" for char in key):
        raise MissingAPIKeyError(
            f"the API key from the {source} holds spaces or characters that cannot go in "
            "an HTTP header; check it for a stray character (it is not shown here)"
        )
    return _APIKey(key, source)


def _resolve_base_url(base_url: str | None) -> str:
    url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise MalformedInputError(f"base_url must be a str, got {type(url).__name__}")
    if not url.startswith(("http://", "https://")):
        raise MalformedInputError(f"base_url must start with http:// or https://, got {url!r}")
    return url.rstrip("/")


def _betas(value: object, where: str) -> tuple[str, ...]:
    """Beta names from a str or a sequence of str; checked, since they become a header."""
    names = (value,) if isinstance(value, str) else value
    checked = tuple(names) if isinstance(names, Iterable) else None
    if checked is None or not all(
        isinstance(name, str) and name and "," not in name for name in checked
    ):
        raise MalformedInputError(
            f"betas must be a list of beta names, got {value!r}", f"$.{where}"
        )
    return checked


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _header_map(headers: Mapping[str, str] | None) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise MalformedInputError("default_headers must be a mapping of str to str")
    return {name.lower(): value for name, value in headers.items()}


def _missing_fields(
    merged: Mapping[str, Any], required: tuple[str, ...], method: str
) -> list[Violation]:
    """A violation for each field of ``required`` that neither the call nor the defaults set.

    The API answers a request without ``model`` or ``max_tokens`` with a 400;
    saying so here costs no request and names both places to set them.
    """
    examples = {"model": '"claude-sonnet-4-5"', "max_tokens": "1024"}
    return [
        Violation(
            f"missing_{name}",
            f"no {name}: the API requires it; pass it to the call "
            f"({method}(c, {name}={examples[name]})) or set it once for every call "
            f"(AnthropicAdapter(default_options={{{name!r}: {examples[name]}}}))",
        )
        for name in required
        if name not in merged
    ]


def _checked_body(
    conversation: Conversation, merged: dict[str, Any], missing: list[Violation]
) -> bytes:
    """The request body, refusing with every violation at once: missing fields first."""
    try:
        body = build_body(conversation, merged)
    except RuleViolationError as exc:
        if missing:
            raise RuleViolationError([*missing, *exc.violations]) from None
        raise
    if missing:
        raise RuleViolationError(missing)
    return body


def _input_tokens(content: bytes) -> int:
    """The count of a count_tokens answer (``{"input_tokens": 2095}``)."""
    try:
        parsed = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedReplyError(f"the count_tokens answer is not JSON: {exc}") from None
    count = parsed.get("input_tokens") if isinstance(parsed, dict) else None
    if type(count) is not int:
        raise MalformedReplyError(
            "the count_tokens answer has no integer input_tokens", "$.input_tokens"
        )
    return count


class _Core:
    """The configuration of an adapter, and all it does besides I/O."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: httpx.Timeout | float | None,
        betas: Iterable[str],
        api_version: str,
        default_headers: Mapping[str, str] | None,
        default_options: Mapping[str, Any] | None,
        retry: RetryPolicy,
    ) -> None:
        self._key = _resolve_key(api_key)
        self._base_url = _resolve_base_url(base_url)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._betas = _dedupe(_betas(betas, "betas"))
        self._api_version = api_version
        self._extra_headers = _header_map(default_headers)
        self._defaults = check_defaults(default_options)
        if "betas" in self._defaults:
            _betas(self._defaults["betas"], "default_options.betas")
        self._retry = retry

    @property
    def base_url(self) -> str:
        """Where requests go (``https://api.anthropic.com`` unless told otherwise)."""
        return self._base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request is sent again (so ``max_retries + 1`` attempts)."""
        return self._retry.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each attempt (also applied through a client you passed in)."""
        return self._timeout

    @property
    def betas(self) -> tuple[str, ...]:
        """The beta features every request asks for (``anthropic-beta``)."""
        return self._betas

    @property
    def default_options(self) -> dict[str, Any]:
        """The request options every call starts from (a copy)."""
        return dict(self._defaults)

    def _headers(self, betas: tuple[str, ...], *, stream: bool) -> dict[str, str]:
        headers = {
            "x-api-key": self._key.value,
            "anthropic-version": self._api_version,
            "content-type": "application/json",
            "accept": "text/event-stream" if stream else "application/json",
            "user-agent": USER_AGENT,
        }
        if betas:
            headers["anthropic-beta"] = ",".join(betas)
        headers.update(self._extra_headers)
        return headers

    def _split_betas(self, merged: dict[str, Any]) -> tuple[str, ...]:
        """Take ``betas`` out of the options (it is a header, not a body field), and add
        those the request's built-in tools need (computer use: ``betas_for``)."""
        call_betas = _betas(merged.pop("betas"), "betas") if "betas" in merged else ()
        return _dedupe((*self._betas, *call_betas, *betas_for(merged.get("tools"))))

    def _message_call(
        self, conversation: Conversation, options: Mapping[str, Any], *, stream: bool = False
    ) -> _Call:
        """The request for a reply to ``conversation``; raises RuleViolationError first,
        also when ``model`` or ``max_tokens`` is set neither by the call nor the defaults."""
        merged = merge_options(self._defaults, options, stream=stream)
        betas = self._split_betas(merged)
        missing = _missing_fields(merged, ("model", "max_tokens"), "stream" if stream else "send")
        body = _checked_body(conversation, merged, missing)
        return _Call(MESSAGES_PATH, self._headers(betas, stream=stream), body, stream)

    def _count_call(self, conversation: Conversation, options: Mapping[str, Any]) -> _Call:
        """The count_tokens request: the send body without the generation-only fields
        (it needs ``model``, not ``max_tokens``)."""
        merged = merge_options(self._defaults, options)
        betas = self._split_betas(merged)
        prompt = {name: value for name, value in merged.items() if name not in GENERATION_ONLY}
        missing = _missing_fields(prompt, ("model",), "count_tokens")
        body = _checked_body(conversation, prompt, missing)
        return _Call(COUNT_TOKENS_PATH, self._headers(betas, stream=False), body)

    def _batch_call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> _Call:
        """A Message Batches request (see :mod:`._batches`), with our headers unless
        ``headers`` are given (a create sends those of its messages); a results file
        is streamed."""
        headers = dict(headers) if headers is not None else self._headers((), stream=False)
        stream = path.endswith("/results")
        if stream:
            headers["accept"] = "application/binary"
        return _Call(path, headers, body, stream, method)

    def _request(self, client: httpx.Client | httpx.AsyncClient, call: _Call) -> httpx.Request:
        return client.build_request(
            call.method,
            self._base_url + call.path,
            headers=call.headers,
            content=call.body if call.method == "POST" else None,
            timeout=self._timeout,
        )

    @contextmanager
    def _transport_errors(self, call: _Call) -> Iterator[None]:
        """Turn an httpx failure with no answer into APIConnectionError / APITimeoutError."""
        secrets = (self._key.value,)
        try:
            yield
        except httpx.TimeoutException as exc:
            # The request the httpx error carries holds the key (x-api-key); chained as
            # it was, the key would be an attribute away (err.__cause__.request.headers).
            scrub_exception(exc, secrets)
            raise APITimeoutError(
                f"{call.what} to {self._base_url}: no answer in time "
                f"({type(exc).__name__}: {redact(str(exc), secrets)})"
            ) from exc
        except httpx.RequestError as exc:
            scrub_exception(exc, secrets)
            raise APIConnectionError(
                f"{call.what} to {self._base_url} failed before an answer arrived "
                f"({type(exc).__name__}: {redact(str(exc), secrets)})"
            ) from exc

    def _check_status(self, response: httpx.Response) -> None:
        """Raise the mapped error for a non-success answer whose body has been read."""
        if not response.is_success:
            raise error_from_response(
                response.status_code,
                response.headers,
                response.content,
                secrets=(self._key.value,),
            )

    @staticmethod
    def _read_now(call: _Call, response: httpx.Response) -> bool:
        """Whether an answer's body is read whole before it is looked at: always, but
        for the events of a stream that succeeded (read as they arrive)."""
        return not (call.stream and response.is_success)

    def _answer(self, call: _Call, response: httpx.Response) -> httpx.Response:
        """The answer, once its status is a success (else the mapped error is raised).

        An error while a stream's events are read carries ``response.request``
        (httpx attaches it): it becomes a copy with the key masked, so that
        the error chains no key.
        """
        if call.stream:
            response.request = scrub_request(response.request, (self._key.value,))
        self._check_status(response)
        return response

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} base_url={self._base_url!r} "
            f"api_key=<set, from {self._key.source}> max_retries={self.max_retries}>"
        )


class AnthropicAdapter(_Core, BatchMethods, Closing, AsyncClosing):
    """An adapter for the Anthropic Messages API (:class:`~adapters.StreamingAdapter`).

    It also sends many conversations as Message Batches (``send_batch`` and the
    methods beside it: see :mod:`adapters.anthropic._batches`).

    Args:
        api_key: the API key; ``ANTHROPIC_API_KEY`` when not given (else
            :class:`MissingAPIKeyError`). It is sent as ``x-api-key`` and
            never shown: not in the repr, a log line or an error message.
        base_url: ``ANTHROPIC_BASE_URL`` when not given, else
            ``https://api.anthropic.com``.
        max_retries: how many times a failed request is sent again (2 unless
            ``retry`` says otherwise; see :mod:`adapters.anthropic._retry`
            for which failures, and the wait). Given with ``retry``, it wins.
        timeout: for each attempt; 600 s, 5 s to connect, by default.
        betas: beta feature names, sent comma-joined as ``anthropic-beta``;
            a call's ``betas=`` option adds to them (and is not sent in the body).
        api_version: the ``anthropic-version`` header.
        default_headers: extra headers on every request (they win over ours).
        default_options: request fields every call starts from (``model``,
            ``max_tokens``...); a call's options override them, ``None`` unsets.
        http_client / async_http_client: your own httpx clients, used as they
            are and never closed by the adapter. Otherwise the adapter opens
            a pooled sync client, and an async one per event loop, when first
            needed.
        retry: a :class:`~adapters.anthropic.RetryPolicy`: how many retries,
            and the sleep, clock and random draws the waits use.

    One adapter sends both ways, so ``close()`` / ``aclose()`` (or ``with``
    / ``async with``) close every client it opened, sync and async alike: no
    connection it opened stays open, whichever way it was used and whichever
    of the four ends it (the async clients' lifetime is explained in
    :mod:`adapters.anthropic._pools`). It opens new ones if used again.

    >>> adapter = AnthropicAdapter(api_key="sk-ant-example", base_url="http://127.0.0.1:9")
    >>> adapter
    <AnthropicAdapter base_url='http://127.0.0.1:9' api_key=<set, from argument> max_retries=2>
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_retries: int | None = None,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        betas: Iterable[str] = (),
        api_version: str = API_VERSION,
        default_headers: Mapping[str, str] | None = None,
        default_options: Mapping[str, Any] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        policy = RetryPolicy() if retry is None else retry
        if not isinstance(policy, RetryPolicy):
            raise MalformedInputError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
        if max_retries is not None:
            policy = attrs.evolve(policy, max_retries=max_retries)
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            betas=betas,
            api_version=api_version,
            default_headers=default_headers,
            default_options=default_options,
            retry=policy,
        )
        self._pools = Pools(self._timeout, http_client, async_http_client)

    # -- clients ------------------------------------------------------------------------

    def close(self) -> None:
        """Close every client the adapter opened, sync and async (see :mod:`._pools`).

        Clients you passed in stay open: they are yours to close.
        """
        self._pools.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, for ``await``: this event loop's client is closed now."""
        await self._pools.aclose()

    # -- one attempt: only the I/O differs between the twins -----------------------------

    def _attempt(self, call: _Call) -> httpx.Response:
        client = self._pools.client()
        with self._transport_errors(call):
            response = client.send(self._request(client, call), stream=True)
            if self._read_now(call, response):
                try:
                    response.read()
                finally:
                    response.close()
        return self._answer(call, response)

    async def _aattempt(self, call: _Call) -> httpx.Response:
        client = await self._pools.async_client()
        with self._transport_errors(call):
            response = await client.send(self._request(client, call), stream=True)
            if self._read_now(call, response):
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        return self._answer(call, response)

    @contextmanager
    def _open_stream(self, call: _Call) -> Iterator[httpx.Response]:
        """The open event-stream answer; retried only until a success status arrives."""
        response = self._retry.call(partial(self._attempt, call), call.what)
        try:
            yield response
        finally:
            response.close()

    @asynccontextmanager
    async def _aopen_stream(self, call: _Call) -> AsyncIterator[httpx.Response]:
        response = await self._retry.acall(partial(self._aattempt, call), call.what)
        try:
            yield response
        finally:
            await response.aclose()

    # -- the API ------------------------------------------------------------------------

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """``conversation`` with the model's reply folded in (POST /v1/messages).

        Raises :class:`~conversation.RuleViolationError` before sending (also
        when ``model`` or ``max_tokens`` is given neither here nor in
        ``default_options``: rules ``missing_model``, ``missing_max_tokens``), an
        :class:`AnthropicError` subclass when the request fails after its
        retries, :class:`~conversation.MalformedReplyError` for a 200 that is
        not a reply (not retried). ``conversation`` is never changed.
        """
        call = self._message_call(conversation, options)
        response = self._retry.call(partial(self._attempt, call), call.what)
        return conversation.fold(response.content)

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Like :meth:`send`, for ``await``."""
        call = self._message_call(conversation, options)
        response = await self._retry.acall(partial(self._aattempt, call), call.what)
        return conversation.fold(response.content)

    def count_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """The API's count of input tokens for ``conversation`` sent with ``options``.

        POST /v1/messages/count_tokens with the body :meth:`send` would send,
        minus the fields that only shape the reply (``max_tokens``,
        ``temperature``, ``stop_sequences``, ``metadata``...).
        """
        call = self._count_call(conversation, options)
        response = self._retry.call(partial(self._attempt, call), call.what)
        return _input_tokens(response.content)

    async def acount_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """Like :meth:`count_tokens`, for ``await``."""
        call = self._count_call(conversation, options)
        response = await self._retry.acall(partial(self._aattempt, call), call.what)
        return _input_tokens(response.content)

    def stream(self, conversation: Conversation, /, **options: Any) -> AnthropicStream:
        """The reply to ``conversation`` as a stream of events (``"stream": true``).

        The body is built (and the rules checked) now; the request is sent
        when the stream is entered or first read. An error status before the
        events begin is retried like :meth:`send`; once they begin, nothing is
        retried.
        """
        from ._stream import AnthropicStream

        call = self._message_call(conversation, options, stream=True)
        return AnthropicStream(
            conversation=conversation,
            open_response=partial(self._open_stream, call),
            request_id_header=REQUEST_ID_HEADER,
            secrets=(self._key.value,),
        )

    def astream(self, conversation: Conversation, /, **options: Any) -> AsyncAnthropicStream:
        """Like :meth:`stream`, for ``async with`` / ``async for`` (not awaited itself)."""
        from ._stream import AsyncAnthropicStream

        call = self._message_call(conversation, options, stream=True)
        return AsyncAnthropicStream(
            conversation=conversation,
            open_response=partial(self._aopen_stream, call),
            request_id_header=REQUEST_ID_HEADER,
            secrets=(self._key.value,),
        )
