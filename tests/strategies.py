"""Hypothesis strategies for conversation-state: JSON, content blocks, conversations, replies.

Every block strategy draws a :class:`Case`: the same block three ways.

- ``wire``: the canonical wire dict, exactly what ``converter.unstructure(obj)`` returns
  (no ``null`` for absent optional fields).
- ``obj``: the equal block object, built through its public constructor.
- ``loose``: a wire dict as an API reply may send it (some absent optional fields given
  as ``null``); it reads to the same ``obj``.

Block strategies take an optional :class:`Budget` of ``cache_control`` breakpoints so a
whole conversation never carries more than the API's four. Conversation strategies build
conversations the API would accept: user first, turns alternate, every ``tool_use`` is
answered by a ``tool_result`` (first in the next user turn), no empty text, and a final
assistant turn (a prefill) does not end in whitespace.
"""

from __future__ import annotations

import base64
import copy
import enum
import functools
import string
from collections.abc import Callable
from typing import Any, NamedTuple

import attrs
from hypothesis import strategies as st

from conversation import (
    Base64Source,
    Block,
    ContentSource,
    Conversation,
    Document,
    FileSource,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    UnknownBlock,
    UnknownSource,
    URLSource,
)
from conversation._conversation import REQUEST_FIELDS
from conversation._suggest import Vocabulary
from conversation._wire import block_type_typo

__all__ = [
    "ASSISTANT_BLOCK_KINDS",
    "BLOCK_KINDS",
    "KNOWN_FIELDS",
    "OPTIONAL_FIELDS",
    "REQUIRED_FIELDS",
    "SERVER_RESULT_TYPES",
    "USER_BLOCK_KINDS",
    "Budget",
    "Case",
    "ConversationCase",
    "assistant_block_cases",
    "block_cases",
    "block_dicts",
    "block_objects",
    "cache_controls",
    "conversation_cases",
    "conversations",
    "document_cases",
    "fake_streamable_replies",
    "field_names",
    "image_cases",
    "json_objects",
    "json_values",
    "lookalikes",
    "mutations",
    "redacted_thinking_cases",
    "reply_dicts",
    "request_options",
    "search_result_cases",
    "server_tool_result_cases",
    "server_tool_use_cases",
    "stored_conversations",
    "subclassed",
    "text_cases",
    "thinking_cases",
    "tool_loops",
    "tool_result_cases",
    "tool_use_cases",
    "type_names",
    "unknown_block_cases",
    "unsubclassed",
    "usage_dicts",
    "user_block_cases",
]

# --- the wire vocabulary (our own copy of the API reference, not the library's tables) ----

SERVER_RESULT_TYPES = (
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
)
SERVER_TOOL_NAMES = (
    "web_search",
    "web_fetch",
    "code_execution",
    "bash_code_execution",
    "text_editor_code_execution",
    "tool_search_tool_regex",
    "tool_search_tool_bm25",
)
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")

_SERVER_RESULT_FIELDS = frozenset({"tool_use_id", "content", "cache_control"})
KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "citations", "cache_control"}),
    "image": frozenset({"source", "cache_control"}),
    "document": frozenset({"source", "title", "context", "citations", "cache_control"}),
    "search_result": frozenset({"source", "title", "content", "citations", "cache_control"}),
    "tool_use": frozenset({"id", "name", "input", "cache_control"}),
    "tool_result": frozenset({"tool_use_id", "content", "is_error", "cache_control"}),
    "thinking": frozenset({"thinking", "signature"}),
    "redacted_thinking": frozenset({"data"}),
    "server_tool_use": frozenset({"id", "name", "input", "cache_control"}),
    **dict.fromkeys(SERVER_RESULT_TYPES, _SERVER_RESULT_FIELDS),
}
"""Wire fields (besides ``type``) of every known block type."""

_SERVER_RESULT_REQUIRED = frozenset({"tool_use_id"})
REQUIRED_FIELDS: dict[str, frozenset[str]] = {
    "text": frozenset({"text"}),
    "image": frozenset({"source"}),
    "document": frozenset({"source"}),
    "search_result": frozenset({"source", "title", "content"}),
    "tool_use": frozenset({"id", "name", "input"}),
    "tool_result": frozenset({"tool_use_id"}),
    "thinking": frozenset({"thinking", "signature"}),
    "redacted_thinking": frozenset({"data"}),
    "server_tool_use": frozenset({"id", "name", "input"}),
    **dict.fromkeys(SERVER_RESULT_TYPES, _SERVER_RESULT_REQUIRED),
    # sources, keyed "source:<type>"
    "source:base64": frozenset({"media_type", "data"}),
    "source:url": frozenset({"url"}),
    "source:file": frozenset({"file_id"}),
    "source:text": frozenset({"media_type", "data"}),
    "source:content": frozenset({"content"}),
}
"""Wire fields without which a block (or source) cannot be read."""

OPTIONAL_FIELDS: dict[str, frozenset[str]] = {
    kind: KNOWN_FIELDS[kind] - REQUIRED_FIELDS[kind] for kind in KNOWN_FIELDS
}

_ALL_KNOWN_KEYS = frozenset().union(*KNOWN_FIELDS.values()) | {
    "type",
    "media_type",
    "data",
    "url",
    "file_id",
}

# --- JSON -----------------------------------------------------------------------------------

json_keys = st.text(max_size=10)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)


@functools.cache
def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value that can come off the wire (finite floats, 64-bit integers)."""
    return st.recursive(
        json_scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(json_keys, inner, max_size=4),
        max_leaves=max_leaves,
    )


@functools.cache
def json_objects(max_size: int = 4, max_leaves: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object of arbitrary JSON values."""
    return st.dictionaries(json_keys, json_values(max_leaves), max_size=max_size)


_extra_keys = st.text(min_size=1, max_size=12).filter(
    lambda k: k not in _ALL_KNOWN_KEYS and k != "cache_control"
)
_one_in_four = st.integers(0, 3)
_some_extra = st.dictionaries(_extra_keys, json_values(6), min_size=1, max_size=3)


def _extra(draw: st.DrawFn) -> dict[str, Any]:
    """Unknown fields a newer API might add to a known block (often none)."""
    if draw(_one_in_four) != 3:
        return {}
    return draw(_some_extra)


# --- small pieces ---------------------------------------------------------------------------


class Budget:
    """How many more ``cache_control`` breakpoints a conversation may take."""

    def __init__(self, left: int) -> None:
        self.left = left


_CACHE_CONTROL = st.sampled_from(
    [{"type": "ephemeral"}, {"type": "ephemeral", "ttl": "5m"}, {"type": "ephemeral", "ttl": "1h"}]
)


def _cache(draw: st.DrawFn, budget: Budget | None) -> dict[str, Any] | None:
    """Draw a valid ``cache_control`` (or None, usually), spending ``budget`` when one is."""
    if budget is not None and budget.left <= 0:
        return None
    if draw(_one_in_four) != 3:
        return None
    if budget is not None:
        budget.left -= 1
    return dict(draw(_CACHE_CONTROL))


def cache_controls(budget: Budget | None = None) -> st.SearchStrategy[dict[str, Any] | None]:
    """A valid ``cache_control`` (or None, usually), spending ``budget`` when one is drawn."""
    return st.composite(lambda draw: _cache(draw, budget))()


_nonblank_text = st.text(min_size=1, max_size=30).filter(lambda s: not s.isspace())
"""Text the API accepts in a text block: non-empty, not only whitespace."""


_ALNUM = string.ascii_letters + string.digits
_tokens = st.text(alphabet=_ALNUM, min_size=1, max_size=16)
_base64 = st.binary(max_size=24).map(lambda b: base64.b64encode(b).decode("ascii"))


def _image_header(media_type: str, width: int, height: int) -> bytes:
    """The shortest start of an image file of ``media_type`` whose header gives its size."""
    w, h = width.to_bytes(4, "big"), height.to_bytes(4, "big")
    if media_type == "image/png":
        return b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR" + w + h + b"\x08\x02\x00\x00\x00"
    if media_type == "image/gif":
        return b"GIF89a" + width.to_bytes(2, "little") + height.to_bytes(2, "little") + b"\x00"
    if media_type == "image/webp":
        size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunk = b"VP8X" + (10).to_bytes(4, "little") + bytes(4) + size
        return b"RIFF" + (4 + len(chunk)).to_bytes(4, "little") + b"WEBP" + chunk
    return b"\xff\xd8\xff\xc0\x00\x11\x08" + h[2:] + w[2:] + b"\x03" + bytes(9)


@st.composite
def _image_data(draw: st.DrawFn, media_type: str) -> str:
    """Base64 of an image of ``media_type`` whose header is readable (the rules read it)."""
    width, height = draw(st.integers(1, 2000)), draw(st.integers(1, 2000))
    tail = draw(st.binary(max_size=16))
    return base64.b64encode(_image_header(media_type, width, height) + tail).decode("ascii")


_tool_names = st.from_regex(r"[a-zA-Z0-9_-]{1,20}", fullmatch=True)
_urls = _tokens.map(lambda s: f"https://example.com/{s}")


class Case(NamedTuple):
    """One block three ways: canonical wire dict, equal object, and a looser wire dict."""

    wire: dict[str, Any]
    obj: Any
    loose: dict[str, Any]


def _loosen(draw: st.DrawFn, kind: str, wire: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``wire`` with some absent optional fields written as null (same meaning)."""
    loose = dict(wire)
    for key in sorted(OPTIONAL_FIELDS.get(kind, ())):
        if key not in wire and draw(st.booleans()):
            loose[key] = None
    return loose


def _put(wire: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        wire[key] = value


# --- citations ------------------------------------------------------------------------------

_citation = st.one_of(
    st.fixed_dictionaries(
        {
            "type": st.just("char_location"),
            "cited_text": st.text(max_size=20),
            "document_index": st.integers(0, 5),
            "document_title": st.none() | st.text(max_size=10),
            "start_char_index": st.integers(0, 100),
            "end_char_index": st.integers(0, 100),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("page_location"),
            "cited_text": st.text(max_size=20),
            "document_index": st.integers(0, 5),
            "document_title": st.none() | st.text(max_size=10),
            "start_page_number": st.integers(1, 9),
            "end_page_number": st.integers(1, 9),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("content_block_location"),
            "cited_text": st.text(max_size=20),
            "document_index": st.integers(0, 5),
            "document_title": st.none() | st.text(max_size=10),
            "start_block_index": st.integers(0, 9),
            "end_block_index": st.integers(0, 9),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("web_search_result_location"),
            "cited_text": st.text(max_size=20),
            "url": _urls,
            "title": st.text(max_size=10),
            "encrypted_index": _base64,
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("search_result_location"),
            "cited_text": st.text(max_size=20),
            "search_result_index": st.integers(0, 5),
            "source": _urls,
            "title": st.none() | st.text(max_size=10),
            "start_block_index": st.integers(0, 9),
            "end_block_index": st.integers(0, 9),
        }
    ),
    json_objects(max_size=3).map(lambda d: {**d, "type": "future_location"}),
)
_text_citations = st.lists(_citation, max_size=3)
_doc_citations = st.fixed_dictionaries({"enabled": st.booleans()})


# --- blocks ---------------------------------------------------------------------------------


@st.composite
def text_cases(
    draw: st.DrawFn,
    budget: Budget | None = None,
    *,
    plain: bool | None = None,
    trailing_whitespace: bool = True,
) -> Case:
    """A ``text`` block; ``plain=True`` has no citations, cache_control or extra fields."""
    text = draw(_nonblank_text)
    if not trailing_whitespace:
        text = text.rstrip() or "x"
    fancy = draw(st.booleans()) if plain is None else not plain
    citations = draw(st.none() | _text_citations) if fancy else None
    cache_control = _cache(draw, budget) if fancy else None
    extra = _extra(draw) if fancy else {}
    wire: dict[str, Any] = {"type": "text", "text": text}
    _put(wire, "citations", citations)
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = Text(text, citations=citations, cache_control=cache_control, extra=extra)
    return Case(wire, obj, _loosen(draw, "text", wire))


@st.composite
def _unknown_sources(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    kind = draw(
        st.sampled_from(["s3", "future_source"])
        | st.text(min_size=1, max_size=8).filter(
            lambda t: t not in {"base64", "url", "file", "text", "content"}
        )
    )
    raw = {**draw(json_objects(max_size=3)), "type": kind}
    return raw, UnknownSource(raw)


@st.composite
def _image_sources(draw: st.DrawFn, *, unknown: bool = True) -> tuple[dict[str, Any], Any]:
    kind = draw(st.sampled_from(["base64", "url", "file", "unknown"] if unknown else ["base64"]))
    if kind == "unknown":
        return draw(_unknown_sources())
    extra = _extra(draw)
    if kind == "base64":
        media_type = draw(st.sampled_from(IMAGE_MEDIA_TYPES))
        data = draw(_image_data(media_type))
        wire = {"type": "base64", "media_type": media_type, "data": data, **extra}
        return wire, Base64Source(media_type, data, extra=extra)
    if kind == "url":
        url = draw(_urls)
        return {"type": "url", "url": url, **extra}, URLSource(url, extra=extra)
    file_id = "file_" + draw(_tokens)
    return {"type": "file", "file_id": file_id, **extra}, FileSource(file_id, extra=extra)


@st.composite
def image_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """An ``image`` block with a base64 (4 media types), url, file or unknown source."""
    source_wire, source = draw(_image_sources())
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {"type": "image", "source": source_wire}
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = Image(source, cache_control=cache_control, extra=extra)
    return Case(wire, obj, _loosen(draw, "image", wire))


@st.composite
def _document_sources(draw: st.DrawFn, budget: Budget | None) -> tuple[dict[str, Any], Any]:
    kind = draw(st.sampled_from(["base64", "url", "text", "content", "file", "unknown"]))
    if kind == "unknown":
        return draw(_unknown_sources())
    extra = _extra(draw)
    if kind == "url":
        url = draw(_urls)
        return {"type": "url", "url": url, **extra}, URLSource(url, extra=extra)
    if kind == "base64":
        data = draw(_base64)
        wire = {"type": "base64", "media_type": "application/pdf", "data": data, **extra}
        return wire, Base64Source("application/pdf", data, extra=extra)
    if kind == "text":
        data = draw(st.text(max_size=40))
        wire = {"type": "text", "media_type": "text/plain", "data": data, **extra}
        return wire, TextSource(data, "text/plain", extra=extra)
    if kind == "file":
        file_id = "file_" + draw(_tokens)
        return {"type": "file", "file_id": file_id, **extra}, FileSource(file_id, extra=extra)
    # custom content: a string, or text and image blocks (each a citable unit)
    if draw(st.booleans()):
        text = draw(_nonblank_text)
        return {"type": "content", "content": text, **extra}, ContentSource(text, extra=extra)
    parts = draw(
        st.lists(st.one_of(text_cases(budget), image_cases(budget)), min_size=1, max_size=3)
    )
    wire = {"type": "content", "content": [p.wire for p in parts], **extra}
    return wire, ContentSource([p.obj for p in parts], extra=extra)


@st.composite
def document_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A ``document``: base64 PDF, url, plain text, custom content, file or unknown source."""
    source_wire, source = draw(_document_sources(budget))
    title = draw(st.none() | st.text(max_size=12))
    context = draw(st.none() | st.text(max_size=12))
    citations = draw(st.none() | _doc_citations)
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {"type": "document", "source": source_wire}
    _put(wire, "title", title)
    _put(wire, "context", context)
    _put(wire, "citations", citations)
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = Document(
        source,
        title=title,
        context=context,
        citations=citations,
        cache_control=cache_control,
        extra=extra,
    )
    return Case(wire, obj, _loosen(draw, "document", wire))


@st.composite
def search_result_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A ``search_result`` with text content, maybe citations enabled."""
    source, title = draw(_urls), draw(st.text(max_size=12))
    parts = draw(st.lists(text_cases(budget), min_size=1, max_size=3))
    citations = draw(st.none() | _doc_citations)
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {
        "type": "search_result",
        "source": source,
        "title": title,
        "content": [p.wire for p in parts],
    }
    _put(wire, "citations", citations)
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = SearchResult(
        source,
        title,
        [p.obj for p in parts],
        citations=citations,
        cache_control=cache_control,
        extra=extra,
    )
    return Case(wire, obj, _loosen(draw, "search_result", wire))


_tool_use_ids = _tokens.map(lambda s: "toolu_" + s)


@st.composite
def tool_use_cases(
    draw: st.DrawFn, budget: Budget | None = None, *, tool_id: str | None = None
) -> Case:
    """A ``tool_use`` whose ``input`` is a JSON object of nested JSON."""
    tool_id = tool_id if tool_id is not None else draw(_tool_use_ids)
    name = draw(_tool_names)
    tool_input = draw(json_objects(max_size=4, max_leaves=10))
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = ToolUse(tool_id, name, tool_input, cache_control=cache_control, extra=extra)
    return Case(wire, obj, _loosen(draw, "tool_use", wire))


def _tool_result_parts(budget: Budget | None) -> st.SearchStrategy[Case]:
    return st.one_of(
        text_cases(budget), image_cases(budget), search_result_cases(budget), document_cases(budget)
    )


@st.composite
def tool_result_cases(
    draw: st.DrawFn, budget: Budget | None = None, *, tool_use_id: str | None = None
) -> Case:
    """A ``tool_result``: content a string, blocks or absent; maybe ``is_error``."""
    tool_use_id = tool_use_id if tool_use_id is not None else draw(_tool_use_ids)
    shape = draw(st.sampled_from(["none", "str", "blocks"]))
    content_wire: str | list[dict[str, Any]] | None
    content: str | list[Any] | None
    if shape == "none":
        content_wire = content = None
    elif shape == "str":
        content_wire = content = draw(st.text(max_size=30))
    else:
        parts = draw(st.lists(_tool_result_parts(budget), max_size=3))
        content_wire, content = [p.wire for p in parts], [p.obj for p in parts]
    is_error = draw(st.none() | st.booleans())
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id}
    _put(wire, "content", content_wire)
    _put(wire, "is_error", is_error)
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = ToolResult(
        tool_use_id, content, is_error=is_error, cache_control=cache_control, extra=extra
    )
    return Case(wire, obj, _loosen(draw, "tool_result", wire))


@st.composite
def thinking_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A ``thinking`` block with a non-empty signature."""
    thinking = draw(st.text(max_size=40))
    signature = draw(_base64.filter(bool))
    extra = _extra(draw)
    wire = {"type": "thinking", "thinking": thinking, "signature": signature, **extra}
    return Case(wire, Thinking(thinking, signature, extra=extra), dict(wire))


@st.composite
def redacted_thinking_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A ``redacted_thinking`` block with opaque, non-empty data."""
    data = draw(_base64.filter(bool))
    extra = _extra(draw)
    wire = {"type": "redacted_thinking", "data": data, **extra}
    return Case(wire, RedactedThinking(data, extra=extra), dict(wire))


@st.composite
def server_tool_use_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A ``server_tool_use`` of one of the server tools."""
    tool_id = "srvtoolu_" + draw(_tokens)
    name = draw(st.sampled_from(SERVER_TOOL_NAMES))
    tool_input = draw(json_objects(max_size=3))
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {
        "type": "server_tool_use",
        "id": tool_id,
        "name": name,
        "input": tool_input,
    }
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = ServerToolUse(tool_id, name, tool_input, cache_control=cache_control, extra=extra)
    return Case(wire, obj, _loosen(draw, "server_tool_use", wire))


_web_search_result = st.fixed_dictionaries(
    {
        "type": st.just("web_search_result"),
        "url": _urls,
        "title": st.text(max_size=12),
        "encrypted_content": _base64,
        "page_age": st.none() | st.just("April 30, 2025"),
    }
)
_web_search_error = st.fixed_dictionaries(
    {
        "type": st.just("web_search_tool_result_error"),
        "error_code": st.sampled_from(
            [
                "invalid_tool_input",
                "unavailable",
                "max_uses_exceeded",
                "too_many_requests",
                "query_too_long",
            ]
        ),
    }
)


@st.composite
def server_tool_result_cases(
    draw: st.DrawFn, budget: Budget | None = None, *, kind: str | None = None
) -> Case:
    """One of the server tool result blocks, its content kept as sent."""
    kind = kind if kind is not None else draw(st.sampled_from(SERVER_RESULT_TYPES))
    tool_use_id = "srvtoolu_" + draw(_tokens)
    content: Any  # any JSON value: the API's own shapes, or whatever a future one sends
    if kind == "web_search_tool_result":
        content = draw(st.lists(_web_search_result, max_size=3) | _web_search_error)
    else:
        prefix = kind[: -len("_tool_result")]  # e.g. web_fetch_tool_result_error's stem
        content = draw(
            st.none()
            | json_objects(max_size=3).map(lambda d: {**d, "type": prefix})
            | json_values(6)
        )
    cache_control = _cache(draw, budget)
    extra = _extra(draw)
    wire: dict[str, Any] = {"type": kind, "tool_use_id": tool_use_id}
    _put(wire, "content", content)
    _put(wire, "cache_control", cache_control)
    wire.update(extra)
    obj = ServerToolResult(kind, tool_use_id, content, cache_control=cache_control, extra=extra)
    return Case(wire, obj, _loosen(draw, kind, wire))


_unknown_types = st.sampled_from(
    ["mcp_tool_use", "mcp_tool_result", "container_upload", "future_block"]
) | st.text(min_size=1, max_size=12).filter(
    # A type a letter or two from a known one is refused as a typo in input the
    # program writes; a new block type is one that is not close to any.
    lambda t: t not in KNOWN_FIELDS and block_type_typo(t) is None
)


@st.composite
def unknown_block_cases(draw: st.DrawFn, budget: Budget | None = None) -> Case:
    """A block of a type this library does not know, with arbitrary JSON fields (nulls too)."""
    raw = {**draw(json_objects(max_size=5)), "type": draw(_unknown_types)}
    return Case(raw, UnknownBlock(raw), dict(raw))


BLOCK_KINDS: dict[str, Callable[..., st.SearchStrategy[Case]]] = {
    "text": text_cases,
    "image": image_cases,
    "document": document_cases,
    "search_result": search_result_cases,
    "tool_use": tool_use_cases,
    "tool_result": tool_result_cases,
    "thinking": thinking_cases,
    "redacted_thinking": redacted_thinking_cases,
    "server_tool_use": server_tool_use_cases,
    "server_tool_result": server_tool_result_cases,
    "unknown": unknown_block_cases,
}
"""Every block strategy, by the name of what it draws."""

USER_BLOCK_KINDS = ("text", "image", "document", "search_result", "unknown")
"""Blocks a user turn may hold besides tool results (which come first)."""
ASSISTANT_BLOCK_KINDS = (
    "text",
    "thinking",
    "redacted_thinking",
    "tool_use",
    "server_tool_use",
    "server_tool_result",
    "unknown",
)
"""Blocks an assistant turn may hold."""


def block_cases(budget: Budget | None = None) -> st.SearchStrategy[Case]:
    """A block of any type."""
    return st.one_of([make(budget) for make in BLOCK_KINDS.values()])


def user_block_cases(budget: Budget | None = None) -> st.SearchStrategy[Case]:
    """A block that may stand in a user turn (not a tool_result)."""
    return st.one_of([BLOCK_KINDS[k](budget) for k in USER_BLOCK_KINDS])


def assistant_block_cases(budget: Budget | None = None) -> st.SearchStrategy[Case]:
    """A block that may stand in an assistant turn."""
    return st.one_of([BLOCK_KINDS[k](budget) for k in ASSISTANT_BLOCK_KINDS])


def block_dicts(kind: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Blocks in canonical wire-dict form (of one ``kind`` of :data:`BLOCK_KINDS`, or any)."""
    cases = block_cases() if kind is None else BLOCK_KINDS[kind]()
    return cases.map(lambda c: c.wire)


def block_objects(kind: str | None = None) -> st.SearchStrategy[Block]:
    """Blocks as library objects (of one ``kind`` of :data:`BLOCK_KINDS`, or any)."""
    cases = block_cases() if kind is None else BLOCK_KINDS[kind]()
    return cases.map(lambda c: c.obj)


# --- conversations --------------------------------------------------------------------------


class ConversationCase(NamedTuple):
    """A valid conversation, built three ways, and the payload it must produce."""

    conversation: Conversation
    """Built with ``user()``/``assistant()`` from a mix of strings, objects and loose dicts."""
    from_objects: Conversation
    """The same turns given as block objects only."""
    from_wire: Conversation
    """The same turns given as canonical wire dicts only."""
    payload: dict[str, Any]
    """The expected ``to_payload()`` (system and messages)."""


def _wire_content(cases: list[Case]) -> Any:
    if (
        len(cases) == 1
        and cases[0].wire.keys() == {"type", "text"}
        and cases[0].wire["type"] == "text"
    ):
        return cases[0].wire["text"]
    return [c.wire for c in cases]


@st.composite
def _mixed_content(draw: st.DrawFn, cases: list[Case]) -> Any:
    """The turn's content as a caller might give it: objects, dicts, strings, mixed."""
    items = []
    for case in cases:
        form = draw(st.sampled_from(["obj", "loose", "wire"]))
        if (
            case.wire.keys() == {"type", "text"}
            and case.wire["type"] == "text"
            and draw(st.booleans())
        ):
            items.append(case.wire["text"])
        else:
            items.append(getattr(case, form))
    if len(items) == 1 and draw(st.booleans()):
        return items[0]
    return items if draw(st.booleans()) else tuple(items)


@st.composite
def conversation_cases(
    draw: st.DrawFn,
    *,
    min_turns: int = 1,
    max_turns: int = 6,
    system: bool = True,
    prefill: bool = True,
    breakpoints: int = 4,
) -> ConversationCase:
    """A conversation the API would accept (see the module docstring), with its payload.

    ``prefill=False`` always ends with a user turn; ``breakpoints`` caps the
    ``cache_control`` marks (leave room for options that add their own).
    """
    budget = Budget(breakpoints)
    system_cases: list[Case] | None = None
    system_value: Any = None
    if system:
        shape = draw(st.sampled_from(["none", "str", "blocks"]))
        if shape == "str":
            system_value = draw(_nonblank_text)
        elif shape == "blocks":
            system_cases = draw(st.lists(text_cases(budget), min_size=1, max_size=2))
            system_value = [draw(st.sampled_from([c.obj, c.wire, c.loose])) for c in system_cases]
    count = draw(st.integers(min_turns, max_turns))
    if not prefill and count % 2 == 0:
        count = count + 1 if count < max_turns or count == 0 else count - 1
    turns: list[tuple[str, list[Case]]] = []
    pending: list[str] = []
    next_id = 0
    for index in range(count):
        last = index == count - 1
        if index % 2 == 0:
            results = [draw(tool_result_cases(budget, tool_use_id=i)) for i in pending]
            others = draw(
                st.lists(user_block_cases(budget), min_size=0 if results else 1, max_size=3)
            )
            turns.append(("user", results + others))
            pending = []
        elif last:  # a prefill: text only, no trailing whitespace at the end
            blocks = draw(st.lists(text_cases(budget), max_size=1))
            blocks.append(draw(text_cases(budget, trailing_whitespace=False)))
            turns.append(("assistant", blocks))
        else:
            blocks = draw(st.lists(assistant_block_cases(budget), min_size=1, max_size=4))
            fixed = []
            for drawn in blocks:
                case = drawn
                if isinstance(case.obj, ToolUse):  # give every tool_use a unique id
                    tool_id = f"toolu_{next_id:03d}_{case.obj.id}"
                    next_id += 1
                    case = case._replace(
                        wire={**case.wire, "id": tool_id},
                        obj=attrs.evolve(case.obj, id=tool_id),
                        loose={**case.loose, "id": tool_id},
                    )
                    pending.append(tool_id)
                fixed.append(case)
            turns.append(("assistant", fixed))
    payload: dict[str, Any] = {}
    if system_value is not None:
        payload["system"] = system_value if system_cases is None else [c.wire for c in system_cases]
    payload["messages"] = [{"role": r, "content": _wire_content(cs)} for r, cs in turns]

    def build(contents: list[Any]) -> Conversation:
        c = Conversation(system=system_value)
        for (role, _), content in zip(turns, contents, strict=True):
            c = c.user(content) if role == "user" else c.assistant(content)
        return c

    mixed = build([draw(_mixed_content(cs)) for _, cs in turns])
    objects = build([[c.obj for c in cs] for _, cs in turns])
    wires = build([[c.wire for c in cs] for _, cs in turns])
    return ConversationCase(mixed, objects, wires, payload)


def conversations(**kwargs: Any) -> st.SearchStrategy[Conversation]:
    """A conversation the API would accept (arguments as for :func:`conversation_cases`)."""
    return conversation_cases(**kwargs).map(lambda c: c.conversation)


@st.composite
def tool_loops(draw: st.DrawFn, *, max_exchanges: int = 8) -> Conversation:
    """A valid conversation of exchanges, many of them tool loops with thinking.

    Each exchange is a plain user turn (now and then two in a row), then either
    an answer or a loop: assistant turns holding thinking or redacted_thinking
    blocks and tool_use calls, each answered by a user turn of tool_result
    blocks (now and then with text after them), and a final answer. The last
    exchange may stop inside its loop, after a call or after its answer.
    """
    c = Conversation(system=draw(st.none() | _nonblank_text))
    calls = 0
    exchanges = draw(st.integers(1, max_exchanges))
    for exchange in range(exchanges):
        c = c.user(draw(_nonblank_text))
        if draw(_one_in_four) == 0:
            c = c.user([draw(_nonblank_text), draw(_nonblank_text)])
        for _ in range(draw(st.integers(0, 3))):
            signed = draw(
                st.lists(thinking_cases() | redacted_thinking_cases(), max_size=2).map(
                    lambda cases: [case.obj for case in cases]
                )
            )
            ids = [f"toolu_{calls + i:04d}" for i in range(draw(st.integers(1, 2)))]
            calls += len(ids)
            c = c.assistant([*signed, *(ToolUse(i, "lookup", {"n": calls}) for i in ids)])
            if exchange == exchanges - 1 and draw(_one_in_four) == 0:
                return c  # stopped after a call: the tools have not run yet
            results: list[Any] = [ToolResult(i, draw(_nonblank_text)) for i in ids]
            if draw(_one_in_four) == 0:
                results.append(Text(draw(_nonblank_text)))
            c = c.user(results)
        signed = draw(st.lists(thinking_cases(), max_size=1).map(lambda cs: [x.obj for x in cs]))
        c = c.assistant([*signed, Text(draw(_nonblank_text).rstrip() or "ok")])
    return c


# --- request options --------------------------------------------------------------------------

_tool_definitions = st.fixed_dictionaries(
    {
        "name": _tool_names,
        "input_schema": st.just({"type": "object", "properties": {}}),
    },
    optional={"description": st.text(max_size=20), "strict": st.booleans()},
)
_known_options: dict[str, st.SearchStrategy[Any]] = {
    "metadata": st.fixed_dictionaries({"user_id": st.none() | _tokens}),
    "stop_sequences": st.lists(st.text(min_size=1, max_size=5), max_size=3),
    "stream": st.booleans(),
    "temperature": st.floats(0, 1),
    "top_p": st.floats(0, 1),
    "top_k": st.integers(0, 500),
    "tools": st.lists(_tool_definitions, max_size=2),
    "tool_choice": st.sampled_from(
        [{"type": "auto"}, {"type": "any"}, {"type": "none"}, {"type": "tool", "name": "x"}]
    ),
    "thinking": st.sampled_from(
        [{"type": "disabled"}, {"type": "enabled", "budget_tokens": 1024}, {"type": "adaptive"}]
    ),
    "service_tier": st.sampled_from(["auto", "standard_only"]),
    "container": _tokens,
    "mcp_servers": st.lists(
        st.fixed_dictionaries({"type": st.just("url"), "url": _urls, "name": _tokens}),
        max_size=1,
    ),
    "output_config": json_objects(max_size=2),
    "inference_geo": _tokens,
    "speed": st.sampled_from(["standard", "fast"]),
    "diagnostics": st.fixed_dictionaries({"previous_message_id": _tokens}),
    "context_management": json_objects(max_size=2),
}
_RESERVED_OPTIONS = frozenset({"messages", "system", "cache_control", *_known_options})
# A made-up field close to a known one is refused as a typo, as it should be.
_REQUEST_VOCABULARY = Vocabulary(REQUEST_FIELDS)


def _future_option(name: str) -> bool:
    return name not in _RESERVED_OPTIONS and _REQUEST_VOCABULARY.misspelling_of(name) is None


@st.composite
def request_options(draw: st.DrawFn, *, thinking: bool = True) -> dict[str, Any]:
    """Request fields other than system/messages: model, max_tokens, any known field, and
    unknown future fields with arbitrary JSON values. ``thinking=False`` leaves out a
    ``thinking`` that turns thinking on (it forbids a prefill)."""
    options: dict[str, Any] = {
        "model": draw(st.sampled_from(["claude-sonnet-4-20250514", "claude-3-5-haiku-latest"])),
        "max_tokens": draw(st.integers(1, 64000)),
    }
    names = draw(st.lists(st.sampled_from(sorted(_known_options)), unique=True, max_size=6))
    for name in names:
        value = draw(_known_options[name])
        if name == "thinking" and not thinking and value["type"] != "disabled":
            continue
        options[name] = value
    future = draw(
        st.dictionaries(
            st.text(min_size=1, max_size=12).filter(_future_option),
            json_values(6),
            max_size=2,
        )
    )
    options.update(future)
    return options


# --- replies --------------------------------------------------------------------------------

_count = st.integers(0, 2**31)


@st.composite
def usage_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A reply's ``usage``: token counts, cache fields (int, null or absent), details, and
    sometimes fields a newer API adds."""
    usage: dict[str, Any] = {"input_tokens": draw(_count), "output_tokens": draw(_count)}
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        choice = draw(st.sampled_from(["int", "int", "null", "absent"]))
        if choice != "absent":
            usage[key] = draw(_count) if choice == "int" else None
    optional = {
        "cache_creation": st.none()
        | st.fixed_dictionaries(
            {"ephemeral_5m_input_tokens": _count, "ephemeral_1h_input_tokens": _count}
        ),
        "server_tool_use": st.none()
        | st.fixed_dictionaries(
            {"web_search_requests": _count}, optional={"web_fetch_requests": _count}
        ),
        "service_tier": st.none() | st.sampled_from(["standard", "priority", "batch"]),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            usage[key] = draw(strategy)
    usage.update(
        draw(
            st.dictionaries(
                st.text(min_size=1, max_size=10).filter(
                    lambda k: k not in usage and k not in optional and not k.endswith("_tokens")
                ),
                json_values(4),
                max_size=2,
            )
        )
    )
    return usage


_STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
)


@st.composite
def reply_dicts(draw: st.DrawFn, *, min_blocks: int = 0, max_blocks: int = 4) -> dict[str, Any]:
    """A Messages API response body: id, content blocks, model, stop fields, usage,
    sometimes ``container``/``stop_details`` and unknown fields."""
    kinds = draw(
        st.lists(
            st.sampled_from([k for k in ASSISTANT_BLOCK_KINDS if k != "text"] + ["text"] * 3),
            min_size=min_blocks,
            max_size=max_blocks,
        )
    )
    content = []
    for index, kind in enumerate(kinds):
        if kind == "tool_use":
            case = draw(tool_use_cases(tool_id=f"toolu_{index:02d}{draw(_tokens)}"))
        else:
            case = draw(BLOCK_KINDS[kind]())
        content.append(case.loose)
    stop_reason = draw(st.sampled_from(_STOP_REASONS))
    reply: dict[str, Any] = {
        "id": "msg_" + draw(_tokens),
        "type": "message",
        "role": "assistant",
        "model": draw(st.sampled_from(["claude-sonnet-4-20250514", "claude-opus-4-1"])),
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": draw(st.text(min_size=1, max_size=5))
        if stop_reason == "stop_sequence"
        else None,
        "usage": draw(usage_dicts()),
    }
    if draw(st.booleans()):
        reply["container"] = draw(
            st.none()
            | st.fixed_dictionaries({"id": _tokens, "expires_at": st.just("2025-01-01T00:00:00Z")})
        )
    if draw(st.booleans()):
        reply["stop_details"] = draw(st.none() | json_objects(max_size=2))
    reply.update(
        draw(
            st.dictionaries(
                st.text(min_size=1, max_size=10).filter(lambda k: k not in reply),
                json_values(4),
                max_size=2,
            )
        )
    )
    return reply


@st.composite
def stored_conversations(draw: st.DrawFn, *, max_steps: int = 6) -> Conversation:
    """Any conversation a program can hold (not only ones the API accepts): a system
    prompt (str or blocks), metadata, user and synthetic turns, folded replies, prefills
    continued by replies, replies continued by replies."""
    system = draw(
        st.none()
        | st.text(max_size=20)
        | st.lists(text_cases().map(lambda c: c.obj), min_size=1, max_size=2)
    )
    metadata = draw(st.none() | json_objects(max_size=3))
    c = Conversation(system=system, metadata=metadata)
    for step in draw(
        st.lists(st.sampled_from(["user", "assistant", "fold", "fold"]), max_size=max_steps)
    ):
        if step == "fold":
            c = c.fold(draw(reply_dicts()))
            continue
        kinds = (*USER_BLOCK_KINDS, "tool_result") if step == "user" else ASSISTANT_BLOCK_KINDS
        blocks = draw(
            st.lists(st.one_of([BLOCK_KINDS[k]() for k in kinds]), min_size=1, max_size=3)
        )
        content = [b.obj for b in blocks]
        c = c.user(content) if step == "user" else c.assistant(content)
    return c


# --- mutations of valid documents -----------------------------------------------------------


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location in a JSON document, as a tuple of keys and indexes."""
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            found.extend(_paths(value, (*prefix, index)))
    return found


def _type_name(value: Any) -> str:
    return type(value).__name__


_int64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
_finite = st.floats(allow_nan=False, allow_infinity=False)
_other_typed = {
    "str": _int64 | st.none() | st.lists(st.text(max_size=3), max_size=2) | st.booleans(),
    "int": st.text(max_size=5) | st.none() | _finite | st.booleans(),
    "float": st.text(max_size=5) | st.none() | st.booleans() | st.lists(_int64, max_size=1),
    "bool": st.text(max_size=5) | st.none() | _int64 | st.just([True]),
    "NoneType": st.text(max_size=5) | _int64 | st.booleans() | st.just({}),
    "dict": st.text(max_size=5) | _int64 | st.lists(_int64, max_size=2) | st.none(),
    "list": st.text(max_size=5) | _int64 | st.dictionaries(json_keys, _int64, max_size=2),
}
"""Values of another JSON type than the one named (all of them writable by orjson)."""


@st.composite
def mutations(draw: st.DrawFn, doc: Any) -> tuple[Any, str, tuple[Any, ...]]:
    """``doc`` (a JSON document) broken in one place: (the broken copy, what was done, where).

    Mutations: drop a key or item, change a value's type, put arbitrary JSON there, set a
    ``role`` to one the API does not have, add a junk message or block.
    """
    doc = copy.deepcopy(doc)
    where = draw(st.sampled_from(_paths(doc)))
    kind = draw(st.sampled_from(["drop", "retype", "replace", "role", "junk"]))
    if not where:
        return draw(json_values()), "replace", where
    parent = doc
    for key in where[:-1]:
        parent = parent[key]
    last = where[-1]
    value = parent[last]
    if kind == "drop":
        del parent[last]
    elif kind == "retype":
        strategy = _other_typed.get(_type_name(value), json_values(4))
        parent[last] = draw(strategy)
    elif kind == "replace":
        parent[last] = draw(json_values(6))
    elif kind == "role":
        target = parent if isinstance(parent, dict) else value
        if isinstance(target, dict):
            target["role"] = draw(
                st.sampled_from(["system", "tool", "User", "", None, 1, ["user"], {"a": 1}])
            )
        else:
            parent[last] = {"role": "system", "content": "x"}
    else:
        junk: Any = draw(
            st.sampled_from(
                [
                    {},
                    {"type": None},
                    {"type": 1},
                    {"type": "text"},
                    {"type": "tool_use", "id": "x"},
                    {"type": "image", "source": {}},
                    {"type": "document", "source": {"type": 5}},
                    {"role": "user"},
                    {"content": "x"},
                    "a string",
                    None,
                    [[]],
                ]
            )
        )
        if isinstance(value, list):
            value.insert(draw(st.integers(0, len(value))), junk)
        elif isinstance(value, dict):
            value[draw(st.sampled_from(["type", "content", "source", "role", "input", "x"]))] = junk
        else:
            parent[last] = junk
    return doc, kind, where


# --- subclasses of the JSON scalars ---------------------------------------------------------


class Color(enum.StrEnum):
    """A StrEnum, as a program puts in a tool input."""

    RED = "red"
    EMPTY = ""


class Level(enum.IntEnum):
    """An IntEnum, as a program puts in a count."""

    LOW = 1
    ZERO = 0


class Name(str):
    """A plain str subclass."""

    __slots__ = ()


class Count(int):
    """A plain int subclass."""

    __slots__ = ()


class Ratio(float):
    """A plain float subclass."""

    __slots__ = ()


def _as_subclass(value: Any, pick: int) -> Any:
    """``value`` as an instance of a subclass of its type (bool, None: as they are)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return Color(value) if value in ("red", "") and pick % 2 else Name(value)
    if isinstance(value, int):
        return Level(value) if value in (0, 1) and pick % 2 else Count(value)
    if isinstance(value, float):
        return Ratio(value)
    return value


@st.composite
def subclassed(draw: st.DrawFn, doc: Any) -> Any:
    """``doc`` (JSON) with some of its strings, integers, floats and object keys replaced by
    instances of subclasses of their types (a StrEnum, an IntEnum, ...): equal in Python,
    written the same, and so read the same as ``doc`` by every reader."""
    if isinstance(doc, dict):
        return {
            (_as_subclass(k, draw(st.integers(0, 3))) if draw(st.booleans()) else k): draw(
                subclassed(v)
            )
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [draw(subclassed(v)) for v in doc]
    return _as_subclass(doc, draw(st.integers(0, 3))) if draw(st.booleans()) else doc


def unsubclassed(doc: Any) -> Any:
    """``doc`` with every scalar of a subclass type made its plain type again."""
    if isinstance(doc, dict):
        return {str.__str__(k): unsubclassed(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [unsubclassed(v) for v in doc]
    if isinstance(doc, bool) or doc is None:
        return doc
    if isinstance(doc, str):
        return str.__str__(doc)
    if isinstance(doc, int):
        return int.__index__(doc)
    if isinstance(doc, float):
        return float.__float__(doc)
    return doc


# --- junk that looks like the API's JSON ------------------------------------------------------

type_names = st.sampled_from(
    [
        *KNOWN_FIELDS,
        "base64",
        "url",
        "file",
        "content",
        "message",
        "error",
        "ephemeral",
        "future_thing",
    ]
)
field_names = st.sampled_from(
    sorted(
        {
            *{k for fields in KNOWN_FIELDS.values() for k in fields},
            "type",
            "role",
            "content",
            "messages",
            "system",
            "media_type",
            "data",
            "url",
            "file_id",
            "usage",
            "input_tokens",
            "output_tokens",
            "provenance",
            "replies",
            "prefill",
            "format",
            "version",
            "turns",
            "metadata",
            "extra",
        }
    )
)


def _shaped(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        st.lists(inner, max_size=3)
        | st.dictionaries(field_names, inner, max_size=4)
        | st.dictionaries(field_names, inner, max_size=3).flatmap(
            lambda d: type_names.map(lambda t: {**d, "type": t})
        )
    )


lookalikes = st.recursive(json_scalars | type_names, _shaped, max_leaves=16)
"""JSON built from the API's own field names and type names: junk that looks like blocks."""


def _tool_calls_have_input(message: dict[str, Any]) -> bool:
    return all("input" in b for b in message["content"] if b["type"].endswith("tool_use"))


def fake_streamable_replies(min_blocks: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Replies whose ``stream_events`` (the fake API's) spell them back.

    The fake API's builder streams an ``input`` for every tool-call type, even for an
    (unknown-block) ``mcp_tool_use`` drawn without one, which then comes back with ``{}``.
    """
    return reply_dicts(min_blocks=min_blocks).filter(_tool_calls_have_input)
