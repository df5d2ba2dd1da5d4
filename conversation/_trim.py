"""Trim a conversation to a token budget: the latest turns that fit, cut where the API allows.

A kept part may begin only at a *cut point*: a user turn that answers no tool
call (neither it nor the user turns right after it, which the API reads as
one message, hold a tool_result). So a tool_use always keeps its tool_result,
a tool loop is kept whole or dropped whole, and every turn kept is kept as it
is: a thinking block's signature is never touched, and the last assistant
turn of a tool loop keeps its thinking. The parts that begin at successive cut
points shrink, so the longest that fits is found by binary search: ``count``
is called about ``log2(cut points) + 2`` times, since it may be a request to
the API.

Without a ``count``, :func:`estimate_tokens` counts offline.
"""

from __future__ import annotations

import binascii
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import orjson

from ._blocks import (
    Base64Source,
    Block,
    ContentSource,
    Document,
    Image,
    SearchResult,
    Source,
    Text,
    TextSource,
    ToolResult,
)
from ._chain import Content, Run
from ._chain import build as build_chain
from ._provenance import Provenance
from ._turn import TurnData, turn_of
from ._wire import encode_messages, system_to_wire
from .errors import BudgetError, MalformedInputError, quote, type_name

if TYPE_CHECKING:
    from ._conversation import Conversation

__all__ = [
    "BYTES_PER_TOKEN",
    "IMAGE_TOKENS",
    "PDF_BYTES_PER_PAGE",
    "PDF_PAGE_TOKENS",
    "PIXELS_PER_TOKEN",
    "Count",
    "cut_points",
    "estimate_tokens",
    "trim",
]

Count: TypeAlias = "Callable[[Conversation], int]"
"""A token counter: takes a Conversation, returns its size in tokens."""

BYTES_PER_TOKEN: Final = 3
"""The estimate's rate for text: one token per 3 bytes of request JSON, rounded up.

English prose runs about 4 characters a token and code about 3, and the JSON
around each message is counted too, so this errs on the side of too many."""
IMAGE_TOKENS: Final = 1600
"""An image the estimate cannot measure (a URL, a file id, an unreadable header):
the most an image costs once the API has scaled it to fit."""
PIXELS_PER_TOKEN: Final = 750
"""A measured image costs ``width * height / 750`` tokens, at most :data:`IMAGE_TOKENS`."""
PDF_PAGE_TOKENS: Final = 3000
"""A PDF page: its text and its picture, at the high end of what a page costs."""
PDF_BYTES_PER_PAGE: Final = 50_000
"""When a PDF's page objects are compressed out of sight, one page per 50 KB is assumed."""

_PAGE = re.compile(rb"/Type\s*/Page\b")


def estimate_tokens(conversation: Conversation) -> int:
    """An offline estimate of the input tokens of ``conversation``, for ``trim``'s default.

    Deterministic, and meant to err high: the request body's JSON bytes (as
    ``to_json()`` writes it, without options) over :data:`BYTES_PER_TOKEN`,
    rounded up, with the base64 data of images and PDFs left out and counted
    by these rules instead: an image whose header gives its size costs
    ``width * height / 750`` tokens, at most 1,600 (any other image 1,600); a
    base64 PDF costs 3,000 tokens a page, pages counted from its page objects
    (or one per 50 KB when none are visible); a PDF by URL or file id counts as
    one page. Tool definitions and other options are not counted: leave room
    for them in the budget, or give ``trim`` a real count
    (``partial(adapter.count_tokens, model=..., tools=...)``).

    >>> from conversation import Conversation
    >>> estimate_tokens(Conversation().user("Hello, Claude"))  # 56 bytes of JSON
    19
    """
    return _Sizes(conversation.system, conversation.turns, ()).tokens(0)


class _Sizes:
    """:func:`estimate_tokens` of the turns from each of some starts on, each in O(1).

    The turns between two starts are encoded by one call: only where a part may
    begin does the sum need to be known.
    """

    def __init__(
        self,
        system: str | tuple[Text, ...] | None,
        turns: Sequence[TurnData],
        starts: Sequence[int],
    ) -> None:
        fields: dict[str, Any] = {} if system is None else {"system": system_to_wire(system)}
        # The body with no messages: '{"system":...,"messages":[]}'.
        self.frame = len(orjson.dumps({**fields, "messages": []}))
        self.size = len(turns)
        # From each start on: the JSON bytes of the messages (commas between them
        # included, base64 media data left out), and the tokens of their images and PDFs.
        self.text: dict[int, int] = {}
        self.media: dict[int, int] = {}
        text = media = 0
        end = self.size
        for start in (*reversed(starts), 0):
            if start >= end:
                continue
            run = turns[start:end]
            contents = [turn.content for turn in run]
            provenances = [turn.provenance for turn in run]
            text += len(encode_messages(contents, provenances, start)) - 2
            text += 1 if end < self.size else 0
            for block in _media(run):
                source = block.source
                if isinstance(source, Base64Source):
                    text -= len(source.data)
                media += _image_tokens(source) if isinstance(block, Image) else _pdf_tokens(source)
            self.text[start], self.media[start] = text, media
            end = start

    def tokens(self, start: int) -> int:
        """The estimate for the turns from ``start`` (0 or one of the starts) on."""
        if start >= self.size:
            return -(-self.frame // BYTES_PER_TOKEN)
        return -(-(self.frame + self.text[start]) // BYTES_PER_TOKEN) + self.media[start]


def _media(turns: Sequence[TurnData]) -> list[Image | Document]:
    """The images and documents of ``turns``, and those nested in their blocks."""
    found: list[Image | Document] = []
    todo: list[Block] = []
    for turn in turns:
        content = turn.content
        if isinstance(content, tuple):
            todo.extend(reversed(content))
        while todo:
            block = todo.pop()
            if isinstance(block, Image):
                found.append(block)
            elif isinstance(block, Document):
                found.append(block)
                source = block.source
                if isinstance(source, ContentSource) and not isinstance(source.content, str):
                    todo.extend(reversed(source.content))
            elif isinstance(block, ToolResult):
                if block.content is not None and not isinstance(block.content, str):
                    todo.extend(reversed(block.content))
            elif isinstance(block, SearchResult):
                todo.extend(reversed(block.content))
    return found


def _image_tokens(source: Source) -> int:
    size = source.image_size if isinstance(source, Base64Source) else None
    if size is None:
        return IMAGE_TOKENS
    width, height = size
    return min(IMAGE_TOKENS, -(-width * height // PIXELS_PER_TOKEN))


def _pdf_tokens(source: Source) -> int:
    """A document's media tokens: a base64 PDF by its pages, one by URL or file id as one
    page; a text or content document is all in the JSON already (0 here)."""
    if isinstance(source, TextSource | ContentSource):
        return 0
    if not isinstance(source, Base64Source):
        return PDF_PAGE_TOKENS
    try:
        data = source.raw
    except (binascii.Error, ValueError):
        return PDF_PAGE_TOKENS * max(1, math.ceil(len(source.data) * 3 / 4 / PDF_BYTES_PER_PAGE))
    pages = len(_PAGE.findall(data)) or math.ceil(len(data) / PDF_BYTES_PER_PAGE)
    return PDF_PAGE_TOKENS * max(1, pages)


def cut_points(turns: Sequence[TurnData]) -> list[int]:
    """The indexes after 0 where a kept part may begin, in order.

    Turn ``k`` is a user turn, and no user turn from ``k`` up to the next
    assistant turn (one message to the API) holds a tool_result: a part that
    began there would answer a tool call it does not hold.
    """
    found: list[int] = []
    answered = False  # the run of user turns from the one after k holds a tool_result
    for k in range(len(turns) - 1, 0, -1):
        turn = turns[k]
        if turn.role != "user":
            answered = False
            continue
        content = turn.content
        answered = answered or (
            isinstance(content, tuple) and any(type(b) is ToolResult for b in content)
        )
        if not answered:
            found.append(k)
    found.reverse()
    return found


def trim(
    conversation: Conversation,
    path: tuple[list[Content], list[Provenance | None]],
    build: Callable[[Run | None, int], Conversation],
    budget: int,
    count: Count | None,
) -> Conversation:
    """The longest part of ``conversation`` that ends with its last turn, begins at a cut
    point (or is all of it) and fits ``budget`` by ``count``; see ``Conversation.trim``.

    ``path`` is its turns' contents and provenances, oldest first; ``build``
    makes a Conversation of a new chain (a run and a length) under the same
    system prompt and metadata.
    """
    if isinstance(budget, bool) or not isinstance(budget, int) or budget <= 0:
        raise MalformedInputError(
            f"trim takes a budget in tokens, an int > 0, got {type_name(budget)} {quote(budget)}",
            "budget",
        )
    if count is not None and not callable(count):
        raise MalformedInputError(
            "count must be a function taking a Conversation and returning its tokens, such "
            f"as partial(adapter.count_tokens, model=...), got {type_name(count)} {quote(count)}",
            "count",
        )
    contents, provenances = path
    turns = list(map(turn_of, contents, provenances))
    starts = cut_points(turns)
    sizes = _Sizes(conversation.system, turns, starts) if count is None else None
    built: dict[int, Conversation] = {0: conversation}

    def part(start: int) -> Conversation:
        if start not in built:
            built[start] = build(
                build_chain(contents[start:], provenances[start:]), len(contents) - start
            )
        return built[start]

    def size(start: int) -> int:
        if sizes is not None:
            return sizes.tokens(start)
        assert count is not None
        return _checked(count(part(start)), len(turns) - start)

    whole = size(0)
    if whole <= budget:
        return conversation
    if not starts:
        raise BudgetError(budget, whole, len(turns), whole=True)
    smallest = size(starts[-1])
    if smallest > budget:
        raise BudgetError(budget, smallest, len(turns) - starts[-1], whole=False)
    # Invariant: the part from starts[low] (or the whole, at -1) does not fit; starts[high] does.
    low, high = -1, len(starts) - 1
    while high - low > 1:
        middle = (low + high) // 2
        if size(starts[middle]) <= budget:
            high = middle
        else:
            low = middle
    return part(starts[high])


def _checked(tokens: object, turns: int) -> int:
    """``tokens`` as returned by a count, refused unless it is an int >= 0."""
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:
        raise MalformedInputError(
            f"count returned {type_name(tokens)} {quote(tokens)} for a part of {turns} turns; "
            "it must return the number of tokens, an int >= 0",
            "count",
        )
    return tokens
