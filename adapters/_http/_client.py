"""What every HTTP API adapter shares: key, base URL, clients, one attempt, retries, errors.

A provider adapter subclasses :class:`HTTPAdapter` and says only what is its
own: the names (environment variables, default URL, logger), its error
classes and tables (an :class:`~._errors.ErrorKinds`), its authentication headers, and
how a Conversation becomes a request body and an answer a reply. The rest is
here, written once: resolving the key (never shown) and the base URL, the
pooled clients (:mod:`._pools`), sending one attempt sync or async (the same
steps with blocking or awaited calls), turning a failure with no answer into
the provider's connection error and an error status into its status error
(:mod:`._errors`), retrying both by the :class:`~._retry.RetryPolicy`, and
opening a streamed answer.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from functools import partial
from typing import Any, ClassVar, Final, Generic, TypeVar

import attrs
import httpx

from adapters._base import build_body
from adapters._secrets import redact
from conversation import Conversation, MalformedInputError, RuleViolationError, Violation
from conversation._closing import AsyncClosing, Closing

from ._errors import ErrorKinds, scrub_exception, scrub_request
from ._pools import Pools
from ._retry import RetryPolicy
from ._stream import AsyncHTTPStream, HTTPStream

__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "APIKey",
    "Call",
    "HTTPAdapter",
    "checked_body",
    "header_map",
    "messages_body",
    "missing_fields",
    "retry_policy",
]


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("conversation-state")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        version = "0+unknown"
    return f"conversation-state/{version}"


USER_AGENT: Final = _user_agent()

DEFAULT_TIMEOUT: Final = httpx.Timeout(600, connect=5)
"""Each attempt's timeout unless told otherwise: 600 s, 5 s to connect (the SDKs' own)."""


@attrs.frozen
class APIKey:
    """The API key and where it came from; its repr shows only where."""

    value: str = attrs.field(repr=False)
    source: str


@attrs.frozen
class Call:
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


def retry_policy(retry: RetryPolicy | None, max_retries: int | None) -> RetryPolicy:
    """The policy of ``retry=`` (the default one if None), ``max_retries`` winning when given."""
    policy = RetryPolicy() if retry is None else retry
    if not isinstance(policy, RetryPolicy):
        raise MalformedInputError(f"retry must be a RetryPolicy, got {type(retry).__name__}")
    if max_retries is not None:
        policy = attrs.evolve(policy, max_retries=max_retries)
    return policy


def header_map(headers: Mapping[str, str] | None) -> dict[str, str]:
    """``default_headers`` checked and lower-cased."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise MalformedInputError("default_headers must be a mapping of str to str")
    return {name.lower(): value for name, value in headers.items()}


def missing_fields(
    merged: Mapping[str, Any],
    required: tuple[str, ...],
    method: str,
    adapter: str,
    examples: Mapping[str, str],
) -> list[Violation]:
    """A violation for each field of ``required`` that neither the call nor the defaults set.

    The API answers a request without ``model`` (or, for Anthropic, ``max_tokens``)
    with a 400; saying so here costs no request and names both places to set them.
    """
    return [
        Violation(
            f"missing_{name}",
            f"no {name}: the API requires it; pass it to the call "
            f"({method}(c, {name}={examples[name]})) or set it once for every call "
            f"({adapter}(default_options={{{name!r}: {examples[name]}}}))",
        )
        for name in required
        if name not in merged
    ]


def checked_body(build: Callable[[], bytes], missing: list[Violation]) -> bytes:
    """The body ``build()`` makes, refusing with every violation at once: missing fields first."""
    try:
        body = build()
    except RuleViolationError as exc:
        if missing:
            raise RuleViolationError([*missing, *exc.violations]) from None
        raise
    if missing:
        raise RuleViolationError(missing)
    return body


def messages_body(conversation: Conversation, merged: dict[str, Any]) -> Callable[[], bytes]:
    """The Messages API body of ``conversation`` (``to_json``), for :func:`checked_body`."""
    return partial(build_body, conversation, merged)


_Stream = TypeVar("_Stream", bound=HTTPStream)
_AsyncStream = TypeVar("_AsyncStream", bound=AsyncHTTPStream)


class HTTPAdapter(Closing, AsyncClosing, Generic[_Stream, _AsyncStream]):
    """The shared half of an HTTP API adapter; a subclass sets the class attributes below.

    ``key_env`` / ``base_url_env`` name the environment variables read when
    ``api_key`` / ``base_url`` are not given; ``default_base_url`` is used
    when neither says; ``errors`` are the provider's; ``logger`` logs the
    retries; ``stream_class`` / ``async_stream_class`` are its streams. A
    subclass gives ``_message_call`` (the request for a reply) and may give
    ``_reply`` (an answer's body as a Messages API reply, when it is not one)
    and ``_key_required`` (whether a missing key is an error).
    """

    provider: ClassVar[str]
    key_env: ClassVar[str]
    base_url_env: ClassVar[str]
    default_base_url: ClassVar[str]
    errors: ClassVar[ErrorKinds]
    logger: ClassVar[logging.Logger]
    stream_class: type[_Stream]  # set on the class, as the others
    async_stream_class: type[_AsyncStream]

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: httpx.Timeout | float | None,
        default_headers: Mapping[str, str] | None,
        retry: RetryPolicy,
        http_client: httpx.Client | None,
        async_http_client: httpx.AsyncClient | None,
    ) -> None:
        self._base_url = self._resolve_base_url(base_url)
        self._key = self._resolve_key(api_key)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._extra_headers = header_map(default_headers)
        self._retry = retry
        self._pools = Pools(self._timeout, http_client, async_http_client)

    # -- configuration ------------------------------------------------------------------

    def _key_required(self) -> bool:
        """Whether a missing key is an error (always, unless a subclass says otherwise)."""
        return True

    def _resolve_key(self, api_key: str | None) -> APIKey | None:
        """The key to send, from the argument or the environment; never echoed in an error."""
        missing = self.errors.missing_key
        if api_key is not None:
            if not isinstance(api_key, str):
                raise missing(f"api_key must be a str, got a {type(api_key).__name__}")
            key, source = api_key.strip(), "argument"
        else:
            key, source = os.environ.get(self.key_env, "").strip(), self.key_env
        if not key:
            if not self._key_required() and api_key is None:
                return None
            raise missing(
                f"no {self.provider} API key: pass {type(self).__name__}(api_key=...) or set "
                f"the {self.key_env} environment variable"
                + (" (api_key was empty)" if api_key is not None else "")
            )
        if not all(" " < char < "\x7f" for char in key):
            raise missing(
                f"the API key from the {source} holds spaces or characters that cannot go in "
                "an HTTP header; check it for a stray character (it is not shown here)"
            )
        return APIKey(key, source)

    def _resolve_base_url(self, base_url: str | None) -> str:
        url = base_url or os.environ.get(self.base_url_env) or self.default_base_url
        if not isinstance(url, str):
            raise MalformedInputError(f"base_url must be a str, got {type(url).__name__}")
        if not url.startswith(("http://", "https://")):
            raise MalformedInputError(f"base_url must start with http:// or https://, got {url!r}")
        return url.rstrip("/")

    @property
    def _secrets(self) -> tuple[str, ...]:
        """What to scrub from errors: the key (a property, so only ``_key`` holds it)."""
        return (self._key.value,) if self._key is not None else ()

    @property
    def base_url(self) -> str:
        """Where requests go."""
        return self._base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request is sent again (so ``max_retries + 1`` attempts)."""
        return self._retry.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each attempt (also applied through a client you passed in)."""
        return self._timeout

    # -- clients ------------------------------------------------------------------------

    def close(self) -> None:
        """Close every client the adapter opened, sync and async (see :mod:`adapters._http._pools`).

        Clients you passed in stay open: they are yours to close.
        """
        self._pools.close()

    async def aclose(self) -> None:
        """Like :meth:`close`, for ``await``: this event loop's client is closed now."""
        await self._pools.aclose()

    # -- one attempt: only the I/O differs between the twins -----------------------------

    def _request(self, client: httpx.Client | httpx.AsyncClient, call: Call) -> httpx.Request:
        return client.build_request(
            call.method,
            self._base_url + call.path,
            headers=call.headers,
            content=call.body if call.method == "POST" else None,
            timeout=self._timeout,
        )

    @contextmanager
    def _transport_errors(self, call: Call) -> Iterator[None]:
        """Turn an httpx failure with no answer into the provider's connection / timeout error."""
        secrets = self._secrets
        try:
            yield
        except httpx.TimeoutException as exc:
            # The request the httpx error carries holds the key (a header); chained as
            # it was, the key would be an attribute away (err.__cause__.request.headers).
            scrub_exception(exc, secrets)
            raise self.errors.timeout(
                f"{call.what} to {self._base_url}: no answer in time "
                f"({type(exc).__name__}: {redact(str(exc), secrets)})"
            ) from exc
        except httpx.RequestError as exc:
            scrub_exception(exc, secrets)
            raise self.errors.connection(
                f"{call.what} to {self._base_url} failed before an answer arrived "
                f"({type(exc).__name__}: {redact(str(exc), secrets)})"
            ) from exc

    @staticmethod
    def _read_now(call: Call, response: httpx.Response) -> bool:
        """Whether an answer's body is read whole before it is looked at: always, but
        for the events of a stream that succeeded (read as they arrive)."""
        return not (call.stream and response.is_success)

    def _answer(self, call: Call, response: httpx.Response) -> httpx.Response:
        """The answer, once its status is a success (else the mapped error is raised).

        An error while a stream's events are read carries ``response.request``
        (httpx attaches it): it becomes a copy with the key masked, so that
        the error chains no key.
        """
        if call.stream:
            response.request = scrub_request(response.request, self._secrets)
        if not response.is_success:
            raise self.errors.from_response(
                response.status_code, response.headers, response.content, self._secrets
            )
        return response

    def _attempt(self, call: Call) -> httpx.Response:
        client = self._pools.client()
        with self._transport_errors(call):
            response = client.send(self._request(client, call), stream=True)
            if self._read_now(call, response):
                try:
                    response.read()
                finally:
                    response.close()
        return self._answer(call, response)

    async def _aattempt(self, call: Call) -> httpx.Response:
        client = await self._pools.async_client()
        with self._transport_errors(call):
            response = await client.send(self._request(client, call), stream=True)
            if self._read_now(call, response):
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        return self._answer(call, response)

    def _perform(self, call: Call) -> httpx.Response:
        """The answer to ``call``, retried by the adapter's policy."""
        return self._retry.call(partial(self._attempt, call), call.what, self.logger)

    async def _aperform(self, call: Call) -> httpx.Response:
        """Like :meth:`_perform`, awaited."""
        return await self._retry.acall(partial(self._aattempt, call), call.what, self.logger)

    @contextmanager
    def _open_stream(self, call: Call) -> Iterator[httpx.Response]:
        """The open event-stream answer; retried only until a success status arrives."""
        response = self._perform(call)
        try:
            yield response
        finally:
            response.close()

    @asynccontextmanager
    async def _aopen_stream(self, call: Call) -> AsyncIterator[httpx.Response]:
        response = await self._aperform(call)
        try:
            yield response
        finally:
            await response.aclose()

    # -- the API ------------------------------------------------------------------------

    def _message_call(
        self, conversation: Conversation, options: Mapping[str, Any], *, stream: bool = False
    ) -> Call:
        """The request for a reply to ``conversation``; raises RuleViolationError first."""
        raise NotImplementedError

    def _reply(self, content: bytes) -> bytes | dict[str, Any]:
        """An answer's body as ``Conversation.fold`` reads it (as it is, unless overridden)."""
        return content

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """``conversation`` with the model's reply folded in.

        Raises :class:`~conversation.RuleViolationError` before sending (also
        when a field the API requires is given neither here nor in
        ``default_options``: rules ``missing_model``...), the provider's
        :class:`~adapters.errors.APIError` subclass when the request fails
        after its retries, :class:`~conversation.MalformedReplyError` for a
        200 that is not a reply (not retried). ``conversation`` is never changed.
        """
        call = self._message_call(conversation, options)
        return conversation.fold(self._reply(self._perform(call).content))

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Like :meth:`send`, for ``await``."""
        call = self._message_call(conversation, options)
        response = await self._aperform(call)
        return conversation.fold(self._reply(response.content))

    def stream(self, conversation: Conversation, /, **options: Any) -> _Stream:
        """The reply to ``conversation`` as a stream of events.

        The body is built (and the rules checked) now; the request is sent
        when the stream is entered or first read. An error status before the
        events begin is retried like :meth:`send`; once they begin, nothing is
        retried.
        """
        call = self._message_call(conversation, options, stream=True)
        return self.stream_class(
            conversation,
            partial(self._open_stream, call),
            self.errors.id_header,
            secrets=self._secrets,
        )

    def astream(self, conversation: Conversation, /, **options: Any) -> _AsyncStream:
        """Like :meth:`stream`, for ``async with`` / ``async for`` (not awaited itself)."""
        call = self._message_call(conversation, options, stream=True)
        return self.async_stream_class(
            conversation,
            partial(self._aopen_stream, call),
            self.errors.id_header,
            secrets=self._secrets,
        )

    def __repr__(self) -> str:
        key = f"<set, from {self._key.source}>" if self._key is not None else "<none>"
        return (
            f"<{type(self).__name__} base_url={self._base_url!r} "
            f"api_key={key} max_retries={self.max_retries}>"
        )
