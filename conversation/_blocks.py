"""Content blocks: every kind of block the Messages API knows, as frozen values.

Each class mirrors one wire ``type``. Fields the API defines are attributes;
fields it adds later arrive in ``extra`` and go back out unchanged, and a block
type this library has never heard of becomes an :class:`UnknownBlock` that keeps
its dict exactly.

Each field is declared once: here, or in ``_echoed.py`` for the blocks the
model writes that go back as they came (their converters and validators are in
``_fields.py``, the sources that hold no blocks in ``_sources.py``, Image's and
Document's alternative constructors in ``_media_constructors.py``):
:data:`READER` reads and writes the wire dicts of these classes from their
attrs fields (see ``_read.py``), and the
block constructors use it to read the dicts they are given. The registry of
block classes (the :data:`Block` union, and :data:`SOURCE_CLASSES`) is what
every other module reads. ``_wire.py`` (turns, replies, the cattrs converter)
sits above this module; nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, TypeAlias

import attrs

from ._build import new as _new
from ._echoed import (
    SERVER_TOOL_RESULT_TYPES,
    RedactedThinking,
    ServerToolResult,
    ServerToolUse,
    Thinking,
)
from ._fields import as_cache_control
from ._fields import as_citations_config as _citations_config
from ._fields import as_citations_list as _citations_list
from ._fields import as_extra as _extra
from ._fields import as_input as _input
from ._fields import as_opt_text as _opt_text
from ._fields import as_raw as _raw
from ._fields import as_text as _text
from ._fields import must_be as _is
from ._fields import no_known_keys as _no_known_keys
from ._json import EMPTY, FrozenDict, FrozenList, freeze, plain
from ._media_constructors import DocumentConstructors, ImageConstructors
from ._read import WIRE_REQUIRED, BlockReader
from ._sources import (
    Base64Source,
    FileSource,
    TextSource,
    URLSource,
)
from .errors import MalformedInputError, quote, type_name

__all__ = [
    "ASSISTANT_ONLY",
    "BLOCK_CLASSES",
    "CACHE_HOLDERS",
    "DOCUMENTED_BLOCK_TYPES",
    "KNOWN_BLOCK_CLASSES",
    "MAX_BLOCK_DEPTH",
    "READER",
    "SERVER_TOOL_RESULT_TYPES",
    "SOURCE_CLASSES",
    "USER_ONLY",
    "Base64Source",
    "Block",
    "ContentSource",
    "Document",
    "FileSource",
    "Image",
    "RedactedThinking",
    "SearchResult",
    "ServerToolResult",
    "ServerToolUse",
    "Source",
    "Text",
    "TextSource",
    "Thinking",
    "ToolResult",
    "ToolUse",
    "URLSource",
    "UnknownBlock",
    "UnknownSource",
]

DOCUMENTED_BLOCK_TYPES: Final = (
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "compaction",
)
"""Block types the API documents that have no class here (they stay UnknownBlock)."""


# What a field of blocks takes: a str, a block, a wire dict, or a sequence of those.
_BlockItem: TypeAlias = "Block | Mapping[str, Any] | str"
_BlocksInput: TypeAlias = "str | Block | Mapping[str, Any] | Sequence[_BlockItem]"


def _blocks(value: _BlocksInput) -> tuple[Block, ...]:
    """Coerce a sequence of blocks or wire dicts to a tuple of blocks.

    These are the content of a block, so they may nest at most one level less
    than :data:`MAX_BLOCK_DEPTH`.
    """
    if isinstance(value, Sequence) and not isinstance(value, str | list | tuple):
        value = tuple(value)
    blocks: tuple[Block, ...] = READER.coerce(value, "$.content")
    check_nesting(blocks, "$.content")
    return blocks


def _opt_blocks_or_str(value: _BlocksInput | None) -> str | tuple[Block, ...] | None:
    if value is None or isinstance(value, str):
        return plain(value)  # type: ignore[no-any-return]
    return _blocks(value)


def _blocks_or_str(value: _BlocksInput) -> str | tuple[Block, ...]:
    if isinstance(value, str):
        return plain(value)  # type: ignore[no-any-return]
    return _blocks(value)


MAX_BLOCK_DEPTH = 64
"""How deep content blocks may nest (a tool_result holding a tool_result ...).

The API's own blocks nest two or three levels; each level is two levels of
JSON, so this leaves the JSON encoder (about 250 levels in all) room for the
values inside. The readers and the block constructors apply the same limit.
"""


def _inner(block: Any) -> Any:
    """The blocks directly inside ``block`` (its content, or its content source's)."""
    cls = type(block)
    if cls is ToolResult or cls is SearchResult:
        content = block.content
    elif cls is Document and type(block.source) is ContentSource:
        content = block.source.content
    else:
        return ()
    return content if type(content) is tuple else ()


def check_nesting(blocks: tuple[Block, ...], path: str) -> None:
    """Raise :class:`MalformedInputError` if ``blocks``, as the content of a block,
    would nest deeper than :data:`MAX_BLOCK_DEPTH` (walks at most that many levels)."""
    level = [b for b in blocks if _inner(b)]
    depth = 1
    while level:
        depth += 1
        if depth >= MAX_BLOCK_DEPTH:
            raise MalformedInputError(
                f"content blocks nest deeper than {MAX_BLOCK_DEPTH} levels (a block inside "
                "a block inside ...); the API's blocks nest a few levels, so flatten it",
                path,
            )
        level = [inner for b in level for inner in _inner(b) if _inner(inner)]


# --- sources -------------------------------------------------------------------


@attrs.frozen
class ContentSource:
    """A document given as content blocks (each text block a citable unit)."""

    type: ClassVar[str] = "content"
    content: str | tuple[Block, ...] = attrs.field(converter=_blocks_or_str)
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


SOURCE_CLASSES: Final = (Base64Source, URLSource, FileSource, TextSource, ContentSource)
"""Every source class with a wire ``type`` of its own; UnknownSource may not claim one."""


def _unknown_source(instance: Any, attribute: attrs.Attribute[Any], value: FrozenDict) -> None:
    """An unknown source is written as its dict: the readers must read it back as one."""
    kind = value.get("type")
    if not isinstance(kind, str):
        raise MalformedInputError(
            f"a source needs a string 'type', got {type_name(kind)}; the API reads a source "
            "by its type (base64, url, file, text, content)",
            "$.type",
        )
    if kind in READER.sources_by_type:
        raise MalformedInputError(
            f"{kind!r} is a source type this library knows; build it with its own class "
            "(Base64Source, URLSource, FileSource, TextSource, ContentSource)",
            "$.type",
        )


@attrs.frozen
class UnknownSource:
    """A source type this library does not know yet, kept exactly as it came."""

    raw: FrozenDict = attrs.field(converter=_raw, validator=_unknown_source)

    @property
    def type(self) -> str:
        return str(self.raw["type"])


Source: TypeAlias = (
    Base64Source | URLSource | FileSource | TextSource | ContentSource | UnknownSource
)


# --- blocks --------------------------------------------------------------------


@attrs.frozen(init=False)
class Text:
    """Text, in any turn; ``citations`` point into documents of the request."""

    type: ClassVar[str] = "text"
    text: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    citations: FrozenList | None = attrs.field(
        default=None, converter=_citations_list, kw_only=True
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )

    def __init__(
        self,
        text: str,
        *,
        citations: Sequence[Mapping[str, Any]] | None = None,
        cache_control: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] = EMPTY,
    ) -> None:
        # Plain text, the commonest block, is stored as given; anything else goes
        # through the fields' converters and validators.
        if type(text) is str and citations is None and cache_control is None and extra is EMPTY:
            _plain_text_fields(self, text)
        else:
            self.__attrs_init__(text, citations=citations, cache_control=cache_control, extra=extra)


@attrs.frozen
class Image(ImageConstructors):
    """An image in a user turn: inline base64, a URL, or an uploaded file."""

    type: ClassVar[str] = "image"
    source: Source = attrs.field(validator=_is(Source.__args__, "an image source"))
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` in pixels of an inline image, read from its header.

        None for an image given by URL or file id (its bytes are not here) and
        for bytes whose header cannot be read. Computed once and kept.
        """
        source = self.source
        return source.image_size if type(source) is Base64Source else None


@attrs.frozen
class Document(DocumentConstructors):
    """A document in a user turn: a PDF, plain text, content blocks, a URL or a file."""

    type: ClassVar[str] = "document"
    source: Source = attrs.field(validator=_is(Source.__args__, "a document source"))
    title: str | None = attrs.field(
        default=None,
        kw_only=True,
        converter=_opt_text,
        validator=attrs.validators.optional(_is(str, "a string")),
    )
    context: str | None = attrs.field(
        default=None,
        kw_only=True,
        converter=_opt_text,
        validator=attrs.validators.optional(_is(str, "a string")),
    )
    citations: FrozenDict | None = attrs.field(
        default=None, converter=_citations_config, kw_only=True
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )

    @classmethod
    def from_blocks(cls, content: str | Sequence[Any], **kw: Any) -> Document:
        """A document made of content blocks, each one citable on its own (at least one)."""
        if isinstance(content, str | list | tuple) and not (
            content.strip() if isinstance(content, str) else content
        ):
            raise MalformedInputError(
                f"Document.from_blocks needs some content, got {content!r:.40}: the API refuses "
                "an empty document; give it at least one text block"
            )
        return cls(ContentSource(content), **kw)


@attrs.frozen
class SearchResult:
    """A search result with its source, for citations (user turns, tool results)."""

    type: ClassVar[str] = "search_result"
    source: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    title: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    content: tuple[Block, ...] = attrs.field(converter=_blocks)
    citations: FrozenDict | None = attrs.field(
        default=None, converter=_citations_config, kw_only=True
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


@attrs.frozen(init=False)
class ToolUse:
    """The model asks to call a tool; answer it with a :class:`ToolResult`."""

    type: ClassVar[str] = "tool_use"
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

    def __init__(
        self,
        id: str,
        name: str,
        input: Mapping[str, Any] = EMPTY,
        *,
        cache_control: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] = EMPTY,
    ) -> None:
        # An agent's tool call (plain strings, a dict input) is checked in one step,
        # freezing its input; anything else goes through the fields' converters.
        if (
            type(id) is str
            and type(name) is str
            and isinstance(input, dict)
            and cache_control is None
            and extra is EMPTY
        ):
            _set_use_id(self, id)  # stored slot by slot: the class refuses plain stores
            _set_use_name(self, name)
            _set_use_input(self, freeze(input, "$.input"))
            _set_use_cache(self, None)
            _set_use_extra(self, EMPTY)
        else:
            self.__attrs_init__(id, name, input, cache_control=cache_control, extra=extra)


@attrs.frozen(init=False)
class ToolResult:
    """The answer to a :class:`ToolUse`: text or blocks, possibly an error."""

    type: ClassVar[str] = "tool_result"
    tool_use_id: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    content: str | tuple[Block, ...] | None = attrs.field(
        default=None, converter=_opt_blocks_or_str
    )
    is_error: bool | None = attrs.field(
        default=None,
        kw_only=True,
        validator=attrs.validators.optional(_is(bool, "a bool")),
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )

    def __init__(
        self,
        tool_use_id: str,
        content: _BlocksInput | None = None,
        *,
        is_error: bool | None = None,
        cache_control: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] = EMPTY,
    ) -> None:
        # A tool's answer as text (plain strings) is stored as given; anything else
        # goes through the fields' converters and validators.
        if (
            type(tool_use_id) is str
            and type(content) is str
            and (is_error is None or type(is_error) is bool)
            and cache_control is None
            and extra is EMPTY
        ):
            _set_result_id(self, tool_use_id)  # stored slot by slot, as ToolUse's are
            _set_result_content(self, content)
            _set_result_error(self, is_error)
            _set_result_cache(self, None)
            _set_result_extra(self, EMPTY)
        else:
            self.__attrs_init__(
                tool_use_id,
                content,
                is_error=is_error,
                cache_control=cache_control,
                extra=extra,
            )


def _unknown_raw(instance: Any, attribute: attrs.Attribute[Any], value: FrozenDict) -> None:
    kind = value.get("type")
    if not isinstance(kind, str):
        raise MalformedInputError("a content block needs a string 'type'", "$.type")
    if kind in READER.by_type:
        raise MalformedInputError(
            f"{quote(kind)} is a block type this library knows; build it with its own class "
            "(or pass the dict as content) so it is checked and read back the same",
            "$.type",
        )


@attrs.frozen
class UnknownBlock:
    """A block type this library does not know yet, kept exactly as it came."""

    raw: FrozenDict = attrs.field(converter=_raw, validator=_unknown_raw)

    @property
    def type(self) -> str:
        """The block's wire ``type``."""
        return str(self.raw["type"])


Block: TypeAlias = (
    Text
    | Image
    | Document
    | SearchResult
    | ToolUse
    | ToolResult
    | Thinking
    | RedactedThinking
    | ServerToolUse
    | ServerToolResult
    | UnknownBlock
)

KNOWN_BLOCK_CLASSES: Final[tuple[type, ...]] = tuple(
    c for c in Block.__args__ if c is not UnknownBlock
)
"""Every block class with a wire type of its own (the :data:`Block` union, which
is the registry every module reads); their order is the order typos are checked in."""

BLOCK_CLASSES: tuple[type, ...] = (*KNOWN_BLOCK_CLASSES, UnknownBlock)
USER_ONLY: Final = (Image, Document, SearchResult, ToolResult)
"""Blocks only a user turn may hold."""
ASSISTANT_ONLY: Final = (ToolUse, Thinking, RedactedThinking, ServerToolUse, ServerToolResult)
"""Blocks only an assistant turn may hold."""
CACHE_HOLDERS: Final = tuple(
    c for c in KNOWN_BLOCK_CLASSES if "cache_control" in attrs.fields_dict(c)
)
"""Blocks that may carry ``cache_control`` (not thinking blocks, not unknown ones)."""

_set_text, _set_citations, _set_cache, _set_extra = (
    Text.__dict__[name].__set__ for name in ("text", "citations", "cache_control", "extra")
)
_set_use_id, _set_use_name, _set_use_input, _set_use_cache, _set_use_extra = (
    ToolUse.__dict__[name].__set__ for name in ("id", "name", "input", "cache_control", "extra")
)
_set_result_id, _set_result_content, _set_result_error, _set_result_cache, _set_result_extra = (
    ToolResult.__dict__[name].__set__
    for name in ("tool_use_id", "content", "is_error", "cache_control", "extra")
)


# The plain shapes of the commonest blocks, their fields already checked, are set
# slot by slot (the frozen classes refuse plain attribute stores): by the
# constructors' quick paths and by :func:`quick_block`, each with its stores
# written out (a helper's call would cost a tool call's append a tenth more).
def _plain_text_fields(block: Text, text: str) -> None:
    _set_text(block, text)
    _set_citations(block, None)
    _set_cache(block, None)
    _set_extra(block, EMPTY)


def plain_text(text: str) -> Text:
    """A :class:`Text` of a plain ``str``, built without the constructor (hot path)."""
    block = _new(Text)
    _plain_text_fields(block, text)
    return block


def quick_block(data: dict[str, Any]) -> Block | None:
    """The block of a wire dict in one of its commonest plain shapes, built without
    the general reader (hot path), or None for any other dict.

    The shapes: a text block (``"citations": null`` allowed, as replies send
    it), a tool_use with a JSON object input, a tool_result holding text.
    Errors name their place below the block (``.input``).
    """
    kind = data.get("type")
    if kind == "text":
        if len(data) == 2 or (len(data) == 3 and data.get("citations", 0) is None):
            text = data.get("text")
            if type(text) is str:
                return plain_text(text)
    elif kind == "tool_use" and len(data) == 4:
        tool_id, name, tool_input = data.get("id"), data.get("name"), data.get("input")
        if type(tool_id) is str and type(name) is str and type(tool_input) is dict:
            use = _new(ToolUse)
            _set_use_id(use, tool_id)
            _set_use_name(use, name)
            _set_use_input(use, freeze(tool_input, ".input"))
            _set_use_cache(use, None)
            _set_use_extra(use, EMPTY)
            return use
    elif kind == "tool_result" and len(data) == 3:
        tool_use_id, content = data.get("tool_use_id"), data.get("content")
        if type(tool_use_id) is str and type(content) is str:
            result = _new(ToolResult)
            _set_result_id(result, tool_use_id)
            _set_result_content(result, content)
            _set_result_error(result, None)
            _set_result_cache(result, None)
            _set_result_extra(result, EMPTY)
            return result
    return None


def block_reader(blocks: tuple[type, ...]) -> BlockReader:
    """The reader of ``blocks`` (known block classes) with this module's sources and hooks."""
    return BlockReader.of(
        blocks,
        SOURCE_CLASSES,
        unknown_block=UnknownBlock,
        unknown_source=UnknownSource,
        documented_types=DOCUMENTED_BLOCK_TYPES,
        plain_text=plain_text,
        quick_block=quick_block,
        check_nesting=check_nesting,
    )


READER: Final = block_reader(KNOWN_BLOCK_CLASSES)
"""Reads and writes these classes as wire dicts; block constructors read dicts with it."""
