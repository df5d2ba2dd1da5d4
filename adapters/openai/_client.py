"""OpenAIAdapter: sends a Conversation to the Chat Completions API, or a server that speaks it.

The shared :class:`adapters._http.HTTPAdapter` does the I/O, retries and
error mapping, as for the Anthropic adapter; this module adds the Chat
Completions request (``Authorization: Bearer``, the body of
:func:`._translate.chat_body`, ``POST {base_url}/chat/completions``) and
reads the answer back as a Messages API reply, so that what is folded is an
ordinary assistant turn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final

import httpx
import orjson

from adapters._base import build_payload, check_defaults, merge_options
from adapters._http import (
    DEFAULT_TIMEOUT,
    USER_AGENT,
    Call,
    HTTPAdapter,
    RetryPolicy,
    checked_body,
    missing_fields,
    retry_policy,
)
from conversation import Conversation, MalformedInputError

from ._errors import KINDS
from ._stream import AsyncOpenAIStream, OpenAIStream
from ._translate import CHAT_FIELDS, chat_body, reply_from_completion

__all__ = ["CHAT_PATH", "DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "OpenAIAdapter"]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
CHAT_PATH: Final = "/chat/completions"
_EXAMPLES: Final = {"model": '"gpt-4o-mini"'}


def _optional_header(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise MalformedInputError(f"{name} must be a str, got {type(value).__name__}")
    return value


class OpenAIAdapter(HTTPAdapter[OpenAIStream, AsyncOpenAIStream]):
    """An adapter for the OpenAI Chat Completions API and the servers that speak it.

    vLLM, llama.cpp's server, Ollama, LM Studio and most hosted open models
    answer the same requests at their own ``base_url``. The Conversation is
    sent unchanged: request options are the Messages API's (``model``,
    ``max_tokens``, ``temperature``, ``stop_sequences``, ``tools``,
    ``tool_choice``), translated as :mod:`adapters.openai._translate` says,
    plus Chat Completions fields (``seed``, ``response_format``...) sent as
    they are. What has no equivalent is refused before sending.

    Args:
        api_key: the API key; ``OPENAI_API_KEY`` when not given. Required for
            api.openai.com (else :class:`MissingAPIKeyError`); a local server
            at another ``base_url`` may need none (no ``Authorization`` then).
            Sent as ``Authorization: Bearer``, never shown.
        base_url: ``OPENAI_BASE_URL`` when not given, else
            ``https://api.openai.com/v1``; e.g. ``http://localhost:11434/v1``
            for Ollama, ``http://localhost:8000/v1`` for vLLM.
        organization, project: the ``OpenAI-Organization`` / ``OpenAI-Project`` headers.
        max_retries, timeout, default_headers, default_options, http_client,
        async_http_client, retry: as for :class:`~adapters.anthropic.AnthropicAdapter`
            (the same :class:`~adapters.openai.RetryPolicy`).

    >>> OpenAIAdapter(api_key="sk-example", base_url="http://127.0.0.1:9/v1")
    <OpenAIAdapter base_url='http://127.0.0.1:9/v1' api_key=<set, from argument> max_retries=2>
    """

    provider = "OpenAI"
    key_env = "OPENAI_API_KEY"
    base_url_env = "OPENAI_BASE_URL"
    default_base_url = DEFAULT_BASE_URL
    errors = KINDS
    logger = logging.getLogger("adapters.openai")
    stream_class = OpenAIStream
    async_stream_class = AsyncOpenAIStream

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        max_retries: int | None = None,
        timeout: httpx.Timeout | float | None = DEFAULT_TIMEOUT,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_options: Mapping[str, Any] | None = None,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            default_headers=default_headers,
            retry=retry_policy(retry, max_retries),
            http_client=http_client,
            async_http_client=async_http_client,
        )
        self._defaults = check_defaults(default_options)
        self._organization = _optional_header(organization, "organization")
        self._project = _optional_header(project, "project")
        self._base_headers = self._make_headers()

    def _key_required(self) -> bool:
        """A key is required by api.openai.com; a server elsewhere may take none."""
        return self._base_url == DEFAULT_BASE_URL

    @property
    def default_options(self) -> dict[str, Any]:
        """The request options every call starts from (a copy)."""
        return dict(self._defaults)

    def _make_headers(self) -> dict[str, str]:
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if self._key is not None:
            headers["authorization"] = f"Bearer {self._key.value}"
        if self._organization:
            headers["openai-organization"] = self._organization
        if self._project:
            headers["openai-project"] = self._project
        headers.update(self._extra_headers)
        return headers

    def _message_call(
        self, conversation: Conversation, options: Mapping[str, Any], *, stream: bool = False
    ) -> Call:
        """The Chat Completions request for a reply to ``conversation``; raises
        RuleViolationError first (also when no ``model`` is set: rule ``missing_model``)."""
        merged = merge_options(self._defaults, options)
        chat = {name: merged.pop(name) for name in CHAT_FIELDS.intersection(merged)}
        if stream:
            chat["stream"] = True
            chat.setdefault("stream_options", {"include_usage": True})
        method = "stream" if stream else "send"
        missing = missing_fields(merged, ("model",), method, "OpenAIAdapter", _EXAMPLES)

        def build() -> bytes:
            return orjson.dumps(chat_body(build_payload(conversation, merged), chat))

        headers = dict(self._base_headers)
        headers["accept"] = "text/event-stream" if stream else "application/json"
        return Call(CHAT_PATH, headers, checked_body(build, missing), stream)

    def _reply(self, content: bytes) -> dict[str, Any]:
        return reply_from_completion(content)
