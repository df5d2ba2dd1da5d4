"""Blocks the model writes that go back exactly as they came.

Thinking (visible or redacted) carries a signature the API checks, and a
server tool's call and result (web search, code execution) are echoed to the
API, never answered by the program: these blocks are kept field for field and
written back unchanged. Their fields are declared here, as ``_blocks.py``
declares the others; :data:`~conversation._blocks.READER` reads them all.
"""

from __future__ import annotations

from typing import Any, ClassVar

import attrs

from ._fields import as_cache_control
from ._fields import as_content_json as _content_json
from ._fields import as_extra as _extra
from ._fields import as_input as _input
from ._fields import as_text as _text
from ._fields import must_be as _is
from ._fields import no_known_keys as _no_known_keys
from ._json import EMPTY, FrozenDict
from ._read import WIRE_REQUIRED
from .errors import MalformedInputError, quote

__all__ = [
    "SERVER_TOOL_RESULT_TYPES",
    "RedactedThinking",
    "ServerToolResult",
    "ServerToolUse",
    "Thinking",
]

# The response block types of Anthropic-run tools: echoed back, never answered.
SERVER_TOOL_RESULT_TYPES = frozenset(
    {
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
    }
)


@attrs.frozen
class Thinking:
    """The model's visible reasoning; ``signature`` must go back byte for byte."""

    type: ClassVar[str] = "thinking"
    thinking: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    signature: str = attrs.field(
        converter=_text, validator=_is(str, "a string"), repr=lambda s: f"<{len(s)} chars>"
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


@attrs.frozen
class RedactedThinking:
    """Reasoning the API keeps encrypted; ``data`` must go back byte for byte."""

    type: ClassVar[str] = "redacted_thinking"
    data: str = attrs.field(
        converter=_text, validator=_is(str, "a string"), repr=lambda s: f"<{len(s)} chars>"
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


@attrs.frozen
class ServerToolUse:
    """A call of a tool that runs on Anthropic's side (web search, code execution)."""

    type: ClassVar[str] = "server_tool_use"
    id: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    name: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    input: FrozenDict = attrs.field(
        factory=FrozenDict, converter=_input, metadata={WIRE_REQUIRED: True}
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


def _server_result_type(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or value not in SERVER_TOOL_RESULT_TYPES:
        raise MalformedInputError(
            f"ServerToolResult.type must be one of {sorted(SERVER_TOOL_RESULT_TYPES)}, "
            f"got {quote(value)}; keep other types as UnknownBlock",
            "$.type",
        )


@attrs.frozen
class ServerToolResult:
    """The result of a server tool (``web_search_tool_result`` and its kin), kept as sent."""

    wire_types: ClassVar[frozenset[str]] = SERVER_TOOL_RESULT_TYPES
    type: str = attrs.field(converter=_text, validator=_server_result_type)
    tool_use_id: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    content: Any = attrs.field(default=None, converter=_content_json)
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )
