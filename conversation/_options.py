"""The request options: the fields this library knows, the typo rule, and their JSON.

Every request field other than ``messages`` and ``system`` is an option of
``to_json`` / ``to_payload`` (and of an adapter's ``send``). This module checks
them and writes the front of the request body they make.
"""

from __future__ import annotations

from typing import Any, Final

import orjson

from ._blocks import Block, Text
from ._json import check_json
from ._suggest import Vocabulary
from ._wire import system_to_wire, unstructure_block
from .errors import MalformedInputError

__all__ = ["NOT_OPTIONS", "REQUEST_FIELDS", "encode_front"]

NOT_OPTIONS: Final = ("messages", "system")
"""Request fields that come from the conversation itself, never from options."""

REQUEST_FIELDS: Final = (
    "model",
    "max_tokens",
    "messages",
    "system",
    "metadata",
    "stop_sequences",
    "stream",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "cache_control",
    "output_config",
    "output_format",
    "inference_geo",
    "speed",
    "diagnostics",
    "context_management",
    # Not a body field: the Anthropic adapter sends it as the anthropic-beta header.
    "betas",
)
"""The Messages API request fields this library knows.

An option that is none of these still passes (a field newer than the library),
unless it misspells one of them by the rule of :mod:`._suggest` (``sytem``,
``max_token``, ``temprature``): then it is refused before anything is sent.
"""

_REQUEST_FIELD_SET: Final = frozenset(REQUEST_FIELDS)
_REQUEST_VOCABULARY: Final = Vocabulary(REQUEST_FIELDS)


def _refuse_misspelt_option(name: str) -> None:
    """Raise if the option ``name``, which is no known request field, misspells one."""
    meant = _REQUEST_VOCABULARY.misspelling_of(name)
    if meant is None:
        return
    hint = {
        "system": " (the system prompt is set by Conversation(system=...) or with_system())",
        "messages": " (the messages are the conversation's turns)",
    }.get(meant, "")
    raise MalformedInputError(
        f"{name[:80]!r} is not a request field: did you mean {meant!r}{hint}? An option this "
        "close to a field the API defines is taken for a typo; fields it does not resemble "
        "pass through as they are",
        f"$.{name[:80]}",
    )


def _option_default(value: Any) -> Any:
    """Let orjson write library values given as options (blocks, tools with to_wire())."""
    to_wire = getattr(value, "to_wire", None)
    if callable(to_wire):
        return to_wire()
    if isinstance(value, Block.__args__):
        return unstructure_block(value)
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode_front(options: dict[str, Any], system: str | tuple[Text, ...] | None) -> bytes:
    """The request body up to its messages: ``{<options>,"system":..,"messages":[``.

    Refuses ``messages``/``system`` given as options, an option that misspells a
    request field, and options that are not JSON.
    """
    for name in NOT_OPTIONS:
        if name in options:
            where = "Conversation(system=...) or with_system()" if name == "system" else "its turns"
            raise MalformedInputError(
                f"{name!r} is not an option: it comes from the conversation ({where})",
                f"$.{name}",
            )
    for name in options:
        if name not in _REQUEST_FIELD_SET:
            _refuse_misspelt_option(name)
    check_json(options)
    fields = options
    if system is not None:
        fields = {**options, "system": system_to_wire(system)}
    try:
        front = orjson.dumps(fields, default=_option_default)
    except TypeError as exc:
        raise MalformedInputError(f"the request options are not JSON: {exc}") from None
    return b'{"messages":[' if len(front) == 2 else front[:-1] + b',"messages":['
