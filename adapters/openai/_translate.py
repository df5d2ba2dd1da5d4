"""A Messages API request in Chat Completions terms, and a Chat Completion as a Messages reply.

The OpenAI adapter goes through the public Conversation API like every
adapter: ``Conversation.to_payload`` builds the Messages API body (and checks
its rules), and :func:`chat_body` rewrites that body for ``POST
/chat/completions``. What has an equivalent is translated; what has none is
refused before anything is sent, with a :class:`~conversation.RuleViolationError`
naming the turn and block (rule names start ``openai_``), never dropped. The
rules (README, "OpenAI and compatible servers", says the same):

- ``system`` is the first message, ``{"role": "system"}`` (its text blocks
  as text parts); each turn a message of its role (an assistant turn's text
  blocks joined into its ``content``).
- text is text; an image is an ``image_url`` part (base64 as a ``data:`` URL,
  a URL as it is); an image by Files API id is refused.
- a ``tool_use`` block is one of the assistant message's ``tool_calls`` (its
  input as JSON ``arguments``); each ``tool_result`` is a ``{"role": "tool"}``
  message, in order, before the rest of its user turn. Its content is text
  (images in a tool result are refused); ``is_error: true`` is sent as its
  text after ``"Error: "``, the only way Chat Completions can say it.
- ``tools`` are ``function`` tools (name, description, ``input_schema`` as
  ``parameters``); server tools (``web_search_...``, computer use...) are refused.
- ``tool_choice``: ``auto``, ``none`` as they are, ``any`` as ``required``,
  ``tool`` as the named function; ``disable_parallel_tool_use`` as
  ``parallel_tool_calls: false``.
- ``max_tokens``, ``temperature``, ``top_p`` as they are; ``stop_sequences``
  as ``stop``; ``metadata.user_id`` as ``user``.
- ``cache_control`` marks are left out (OpenAI caches long prompts by itself);
  a text block's ``citations`` are left out (its text is sent).
- refused: a conversation that ends with an assistant turn (a prefill: Chat
  Completions starts a new message, it cannot continue one), thinking and
  redacted thinking blocks, documents, server tool blocks and any block type
  without an equivalent, and request fields without one (``thinking``,
  ``top_k``...). Chat Completions fields (``seed``, ``response_format``,
  ``max_completion_tokens``...) given as options are sent as they are.

A reply is read back the other way (:func:`reply_from_completion`): the
message's text a text block, each tool call a ``tool_use`` block, a refusal a
text block with stop reason ``refusal``; ``finish_reason`` mapped to
``stop_reason`` (:data:`STOP_REASONS`; one it does not know kept as it is);
usage mapped (``prompt_tokens`` less its cached part as ``input_tokens``, the
cached part as ``cache_read_input_tokens``, ``completion_tokens`` as
``output_tokens``); and the provider's own fields (``finish_reason``,
``created``, ``system_fingerprint``, ``service_tier``, the raw ``usage``,
``reasoning_content``) kept under ``chat_completion``, which the reply's
provenance keeps (``turn.provenance.replies[-1].extra``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from conversation import MalformedReplyError, RuleViolationError, Violation
from conversation.errors import quote

__all__ = [
    "CHAT_FIELDS",
    "PROVIDER_FIELDS",
    "STOP_REASONS",
    "chat_body",
    "map_usage",
    "reply_from_completion",
    "stop_reason",
]

CHAT_FIELDS: Final = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "modalities",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "reasoning_effort",
        "response_format",
        "seed",
        "service_tier",
        "store",
        "stream_options",
        "top_logprobs",
        "user",
        "verbosity",
    }
)
"""Chat Completions request fields with no Messages API twin: sent as they are given."""

_TRANSLATED: Final = frozenset(
    {"model", "max_tokens", "temperature", "top_p", "stop_sequences", "tools", "tool_choice"}
)

STOP_REASONS: Final = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
"""``finish_reason`` to ``stop_reason``; another finish reason is kept as it is."""

PROVIDER_FIELDS: Final = "chat_completion"
"""The reply field (kept in provenance) holding the Chat Completions fields of the answer."""

_KEPT: Final = ("created", "system_fingerprint", "service_tier")


class _Refusals:
    """The violations found while translating, raised together at the end."""

    def __init__(self) -> None:
        self.found: list[Violation] = []

    def add(
        self, rule: str, message: str, turn: int | None = None, block: int | None = None
    ) -> None:
        self.found.append(Violation(f"openai_{rule}", message, turn, block))


def _text_of(blocks: Any) -> str:
    return "".join(b["text"] for b in blocks if b.get("type") == "text")


def _image_url(source: Mapping[str, Any]) -> str | None:
    kind = source.get("type")
    if kind == "base64":
        return f"data:{source.get('media_type')};base64,{source.get('data')}"
    if kind == "url":
        url = source.get("url")
        return url if isinstance(url, str) else None
    return None


def _system(system: Any) -> dict[str, Any]:
    if isinstance(system, str):
        return {"role": "system", "content": system}
    parts = [{"type": "text", "text": b["text"]} for b in system if b.get("type") == "text"]
    if len(parts) == 1:
        return {"role": "system", "content": parts[0]["text"]}
    return {"role": "system", "content": parts}


def _tool_message(
    block: Mapping[str, Any], turn: int, index: int, refuse: _Refusals
) -> dict[str, Any]:
    content = block.get("content", "")
    if isinstance(content, list):
        for inner in content:
            if inner.get("type") != "text":
                refuse.add(
                    "tool_result_content",
                    f"a tool result holding {quote(inner.get('type'))} content: Chat "
                    "Completions tool messages carry text only; return text from the tool",
                    turn,
                    index,
                )
        content = _text_of(content)
    if block.get("is_error"):
        content = f"Error: {content}"
    return {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": content}


def _user(content: list[Any], turn: int, refuse: _Refusals) -> list[dict[str, Any]]:
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        kind = block.get("type")
        if kind == "text":
            parts.append({"type": "text", "text": block["text"]})
        elif kind == "image":
            url = _image_url(block.get("source") or {})
            if url is None:
                refuse.add(
                    "image_source",
                    "an image by Files API id: Chat Completions takes images as base64 or "
                    "a URL; build it with Image.from_path / from_bytes / from_url",
                    turn,
                    index,
                )
            else:
                parts.append({"type": "image_url", "image_url": {"url": url}})
        elif kind == "tool_result":
            tools.append(_tool_message(block, turn, index, refuse))
        else:
            refuse.add(
                "unsupported_block",
                f"a {quote(kind)} block in a user turn has no Chat Completions equivalent; "
                "send its text instead (documents: their text as a text block)",
                turn,
                index,
            )
    messages = tools
    if len(parts) == 1 and parts[0]["type"] == "text":
        messages.append({"role": "user", "content": parts[0]["text"]})
    elif parts:
        messages.append({"role": "user", "content": parts})
    return messages


def _assistant(content: list[Any], turn: int, refuse: _Refusals) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for index, block in enumerate(content):
        kind = block.get("type")
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input", {})).decode()
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
        else:
            hint = (
                "thinking is Claude's own and cannot be sent to another model; drop the "
                "thinking blocks (turn.without(...)) or start the conversation anew"
                if kind in ("thinking", "redacted_thinking")
                else "Chat Completions has no equivalent"
            )
            refuse.add(
                "unsupported_block",
                f"a {quote(kind)} block in an assistant turn: {hint}",
                turn,
                index,
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tools(tools: Any, refuse: _Refusals) -> list[dict[str, Any]]:
    out = []
    for index, tool in enumerate(tools):
        kind = tool.get("type", "custom")
        if kind != "custom" or "input_schema" not in tool:
            refuse.add(
                "server_tool",
                f"tools[{index}] is a server tool ({quote(kind)}): Chat Completions runs "
                "only function tools; give a Tool the program runs instead",
            )
            continue
        function: dict[str, Any] = {"name": tool["name"], "parameters": tool["input_schema"]}
        if "description" in tool:
            function["description"] = tool["description"]
        if "strict" in tool:
            function["strict"] = tool["strict"]
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any, body: dict[str, Any], refuse: _Refusals) -> None:
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    if kind in ("auto", "none"):
        body["tool_choice"] = kind
    elif kind == "any":
        body["tool_choice"] = "required"
    elif kind == "tool":
        body["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
    else:
        refuse.add("tool_choice", f"tool_choice {quote(choice)} has no Chat Completions equivalent")
        return
    if choice.get("disable_parallel_tool_use") is True:
        body.setdefault("parallel_tool_calls", False)


def chat_body(payload: Mapping[str, Any], chat: Mapping[str, Any]) -> dict[str, Any]:
    """The Chat Completions body of a Messages API body ``payload``, with ``chat`` fields added.

    Raises :class:`~conversation.RuleViolationError` with every part that has
    no equivalent (see the module docs), before anything is sent.
    """
    refuse = _Refusals()
    messages: list[dict[str, Any]] = []
    if payload.get("system"):
        messages.append(_system(payload["system"]))
    turns = payload.get("messages", [])
    for turn, message in enumerate(turns):
        role, content = message["role"], message["content"]
        if isinstance(content, str):
            messages.append({"role": role, "content": content})
        elif role == "user":
            messages.extend(_user(content, turn, refuse))
        else:
            messages.append(_assistant(content, turn, refuse))
    if turns and turns[-1]["role"] == "assistant":
        refuse.add(
            "prefill",
            "the conversation ends with an assistant turn (a prefill): Chat Completions "
            "starts a new assistant message and cannot continue this one; end with a user "
            "turn, or steer the reply with the system prompt or response_format",
            len(turns) - 1,
        )
    body: dict[str, Any] = {"model": payload.get("model"), "messages": messages}
    for name in ("max_tokens", "temperature", "top_p"):
        if name in payload:
            body[name] = payload[name]
    if "stop_sequences" in payload:
        body["stop"] = payload["stop_sequences"]
    if "tools" in payload:
        body["tools"] = _tools(payload["tools"], refuse)
    if "tool_choice" in payload:
        _tool_choice(payload["tool_choice"], body, refuse)
    metadata = payload.get("metadata")
    if metadata is not None:
        if set(metadata) <= {"user_id"}:
            if "user_id" in metadata:
                body["user"] = metadata["user_id"]
        else:
            refuse.add(
                "no_equivalent",
                f"metadata {quote(metadata)}: only user_id has an equivalent (user)",
            )
    for name in payload:
        if name not in _TRANSLATED and name not in ("system", "messages", "metadata"):
            refuse.add(
                "no_equivalent",
                f"the request field {name!r} has no Chat Completions equivalent; leave it "
                "out (Chat Completions fields such as seed or response_format pass as they are)",
            )
    if refuse.found:
        raise RuleViolationError(refuse.found)
    body.update(chat)
    return body


def stop_reason(finish_reason: Any) -> str | None:
    """The Messages API ``stop_reason`` of a ``finish_reason``."""
    if not isinstance(finish_reason, str):
        return None
    return STOP_REASONS.get(finish_reason, finish_reason)


def map_usage(usage: Any) -> dict[str, int]:
    """A Chat Completions ``usage`` as Messages API usage (cached prompt tokens apart)."""
    if not isinstance(usage, Mapping):
        return {"input_tokens": 0, "output_tokens": 0}
    prompt = usage.get("prompt_tokens") or 0
    details = usage.get("prompt_tokens_details")
    cached = (details.get("cached_tokens") or 0) if isinstance(details, Mapping) else 0
    out = {
        "input_tokens": max(prompt - cached, 0),
        "output_tokens": usage.get("completion_tokens") or 0,
    }
    if cached:
        out["cache_read_input_tokens"] = cached
    return out


def provider_fields(
    data: Mapping[str, Any], finish_reason: Any, extra: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields of the answer kept in provenance: what the Messages reply has no place for."""
    kept = {name: data[name] for name in _KEPT if data.get(name) is not None}
    if finish_reason is not None:
        kept["finish_reason"] = finish_reason
    kept.update(extra)
    return kept


def _arguments(call: Mapping[str, Any], where: str) -> Any:
    function = call.get("function")
    raw = function.get("arguments") if isinstance(function, Mapping) else None
    if raw is None or raw == "":
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise MalformedReplyError(
            f"the arguments of a tool call are not JSON ({exc}): {quote(raw, 200)}", where
        ) from None
    if type(parsed) is not dict:
        raise MalformedReplyError(
            f"the arguments of a tool call must be a JSON object, got {quote(raw, 200)}", where
        )
    return parsed


def reply_from_completion(content: bytes) -> dict[str, Any]:
    """A Chat Completion answer (JSON) as a Messages API reply dict, for ``Conversation.fold``.

    Raises :class:`~conversation.MalformedReplyError` for an answer that is not one.
    """
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedReplyError(
            f"the chat completion is not JSON ({exc}): {quote(content[:200], 200)}"
        ) from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise MalformedReplyError(
            f"a chat completion needs a choice, got {quote(data, 200)}", "$.choices"
        )
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise MalformedReplyError(
            "the chat completion's choice has no message", "$.choices[0].message"
        )
    blocks: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, list):
        text = "".join(p.get("text", "") for p in text if isinstance(p, dict))
    if isinstance(text, str) and text:
        blocks.append({"type": "text", "text": text})
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        blocks.append({"type": "text", "text": refusal})
    for index, call in enumerate(message.get("tool_calls") or ()):
        where = f"$.choices[0].message.tool_calls[{index}]"
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise MalformedReplyError("a tool call without a function", where)
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": _arguments(call, where),
            }
        )
    finish = choice.get("finish_reason")
    extra: dict[str, Any] = {}
    if data.get("usage") is not None:
        extra["usage"] = data["usage"]
    if isinstance(message.get("reasoning_content"), str):
        extra["reasoning_content"] = message["reasoning_content"]
    return {
        "id": data.get("id"),
        "type": "message",
        "role": "assistant",
        "model": data.get("model"),
        "content": blocks,
        "stop_reason": "refusal" if refusal else stop_reason(finish),
        "stop_sequence": None,
        "usage": map_usage(data.get("usage")),
        PROVIDER_FIELDS: provider_fields(data, finish, extra),
    }
