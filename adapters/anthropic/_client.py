"""AnthropicAdapter: sends a Conversation to the Anthropic Messages API, sync or async.

What every HTTP adapter shares (the key, the base URL, the pooled clients,
one attempt sync or async, retries by the :class:`~adapters.anthropic.RetryPolicy`,
the mapping of failures to errors) is :class:`adapters._http.HTTPAdapter`;
this module adds what is the Messages API's own: its headers (``x-api-key``,
``anthropic-version``, ``anthropic-beta``), building each request from
``Conversation.to_json`` (so the rules are checked before anything is sent)
for the shared ``send`` and ``asend``, ``stream`` and ``astream``, and
``count_tokens`` and ``acount_tokens`` over the shared I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final

import httpx
import orjson

from adapters._base import check_defaults, merge_options
from adapters._http import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Call,
    HTTPAdapter,
    RetryPolicy,
    checked_body,
    messages_body,
    missing_fields,
    retry_policy,
)
from conversation import (
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    Violation,
)
from conversation.computer import betas_for

from ._batches import BatchMethods
from ._errors import KINDS
from ._stream import AnthropicStream, AsyncAnthropicStream

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "USER_AGENT", "AnthropicAdapter"]

DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
API_VERSION: Final = "2023-06-01"
MESSAGES_PATH: Final = "/v1/messages"
COUNT_TOKENS_PATH: Final = "/v1/messages/count_tokens"

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

_EXAMPLES: Final = {"model": '"claude-sonnet-4-5"', "max_tokens": "1024"}


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


class AnthropicAdapter(HTTPAdapter[AnthropicStream, AsyncAnthropicStream], BatchMethods):
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
            ``retry`` says otherwise; see :mod:`adapters._http._retry`
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
    :mod:`adapters._http._pools`). It opens new ones if used again.

    >>> adapter = AnthropicAdapter(api_key="sk-ant-example", base_url="http://127.0.0.1:9")
    >>> adapter
    <AnthropicAdapter base_url='http://127.0.0.1:9' api_key=<set, from argument> max_retries=2>
    """

    provider = "Anthropic"
    key_env = "ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    default_base_url = DEFAULT_BASE_URL
    errors = KINDS
    stream_class = AnthropicStream
    async_stream_class = AsyncAnthropicStream
    logger = logging.getLogger("adapters.anthropic")

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
        policy = retry_policy(retry, max_retries)
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            default_headers=default_headers,
            retry=policy,
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._betas = _dedupe(_betas(betas, "betas"))
        self._api_version = api_version
        self._defaults = check_defaults(default_options)
        if "betas" in self._defaults:
            _betas(self._defaults["betas"], "default_options.betas")

    @property
    def betas(self) -> tuple[str, ...]:
        """The beta features every request asks for (``anthropic-beta``)."""
        return self._betas

    @property
    def default_options(self) -> dict[str, Any]:
        """The request options every call starts from (a copy)."""
        return dict(self._defaults)

    # -- requests -----------------------------------------------------------------------

    def _headers(self, betas: tuple[str, ...], *, stream: bool) -> dict[str, str]:
        assert self._key is not None  # the key is required here
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

    def _missing(
        self, merged: Mapping[str, Any], required: tuple[str, ...], method: str
    ) -> list[Violation]:
        return missing_fields(merged, required, method, "AnthropicAdapter", _EXAMPLES)

    def _message_call(
        self, conversation: Conversation, options: Mapping[str, Any], *, stream: bool = False
    ) -> Call:
        """The request for a reply to ``conversation``; raises RuleViolationError first,
        also when ``model`` or ``max_tokens`` is set neither by the call nor the defaults."""
        merged = merge_options(self._defaults, options, stream=stream)
        betas = self._split_betas(merged)
        missing = self._missing(merged, ("model", "max_tokens"), "stream" if stream else "send")
        body = checked_body(messages_body(conversation, merged), missing)
        return Call(MESSAGES_PATH, self._headers(betas, stream=stream), body, stream)

    def _count_call(self, conversation: Conversation, options: Mapping[str, Any]) -> Call:
        """The count_tokens request: the send body without the generation-only fields
        (it needs ``model``, not ``max_tokens``)."""
        merged = merge_options(self._defaults, options)
        betas = self._split_betas(merged)
        prompt = {name: value for name, value in merged.items() if name not in GENERATION_ONLY}
        missing = self._missing(prompt, ("model",), "count_tokens")
        body = checked_body(messages_body(conversation, prompt), missing)
        return Call(COUNT_TOKENS_PATH, self._headers(betas, stream=False), body)

    def _batch_call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Call:
        """A Message Batches request (see :mod:`._batches`), with our headers unless
        ``headers`` are given (a create sends those of its messages); a results file
        is streamed."""
        headers = dict(headers) if headers is not None else self._headers((), stream=False)
        stream = path.endswith("/results")
        if stream:
            headers["accept"] = "application/binary"
        return Call(path, headers, body, stream, method)

    # -- the API ------------------------------------------------------------------------

    def count_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """The API's count of input tokens for ``conversation`` sent with ``options``.

        POST /v1/messages/count_tokens with the body :meth:`send` would send,
        minus the fields that only shape the reply (``max_tokens``,
        ``temperature``, ``stop_sequences``, ``metadata``...).
        """
        call = self._count_call(conversation, options)
        response = self._perform(call)
        return _input_tokens(response.content)

    async def acount_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """Like :meth:`count_tokens`, for ``await``."""
        call = self._count_call(conversation, options)
        response = await self._aperform(call)
        return _input_tokens(response.content)
