"""The checks run before a payload is sent, each one a named rule.

These are the reasons the API answers 400 that can be seen without asking it.
They run in two parts so that a long history is checked once, not on every
send: :func:`scan` walks turns in order and carries a small :class:`ScanState`
from one turn to the next (so the chain can resume it after an append), and
:func:`finish` adds what depends on the last turn and the request options.

Rule names (stable, in ``Violation.rule``):

- ``empty_messages``: no turns at all.
- ``empty_content``: a turn with no blocks.
- ``empty_text``: a text block that is empty or only whitespace.
- ``block_not_allowed``: a block in a role that cannot hold it (an image in an
  assistant turn, a tool_use in a user turn...).
- ``unsupported_media_type``: an image that is not JPEG/PNG/GIF/WebP, a base64
  document that is not a PDF, a text document that is not text/plain.
- ``image_too_large``: a base64 image over 5 MB.
- ``image_too_large_dimensions``: a base64 image whose header says a side is
  over 8000 px.
- ``image_unreadable``: a base64 image whose header gives no size: cut short,
  damaged, not base64, or not a JPEG/PNG/GIF/WebP at all (only checked when the
  whole header was read: a JPEG over 1.5 MB whose frame header lies beyond that
  is given the benefit of the doubt).
- ``image_over_2000px_in_many``: a request with more than 20 images holds a
  base64 image over 2000 px a side (each must then be at most 2000 x 2000).
- ``tool_result_unmatched``: a tool_result whose id matches no tool_use of the
  assistant turn just before.
- ``tool_use_unanswered``: a tool_use with no tool_result in the user turn after.
- ``tool_result_not_first``: a tool_result after other content in its user turn.
- ``unsigned_thinking``: a thinking block with an empty signature.
- ``invalid_cache_control``: a ``cache_control`` that is not ephemeral 5m/1h.
- ``too_many_cache_breakpoints``: more than 4 ``cache_control`` marks.
- ``too_many_images``: more than 100 images.
- ``prefill_trailing_whitespace``: the final assistant turn ends in whitespace.
- ``prefill_with_thinking``: a final assistant turn while thinking is on.

Consecutive turns of one role are one message to the API (it merges them), so
the tool rules look at role groups, not single turns.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from ._blocks import (
    ASSISTANT_ONLY,
    USER_ONLY,
    Base64Source,
    Block,
    ContentSource,
    Document,
    Image,
    SearchResult,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
)
from ._media import IMAGE_MEDIA_TYPES
from ._provenance import Provenance
from ._sources import _MAX_HEAD_CHARS
from ._turn import Turn
from .errors import Violation, a_or_an

__all__ = [
    "INITIAL",
    "MANY_IMAGES",
    "MANY_IMAGES_MAX_SIDE",
    "MAX_BREAKPOINTS",
    "MAX_IMAGES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_SIDE",
    "ScanState",
    "block_breakpoints",
    "finish",
    "in_payload_order",
    "option_breakpoints",
    "scan",
]

MAX_IMAGES = 100
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_SIDE = 8000
MANY_IMAGES = 20
"""Above this many images in one request, each must fit in MANY_IMAGES_MAX_SIDE."""
MANY_IMAGES_MAX_SIDE = 2000
MAX_BREAKPOINTS = 4
_TTLS = (None, "5m", "1h")

_NONE: frozenset[str] = frozenset()
_ONLY_STR = {str}
_USER_ONLY = USER_ONLY
_ASSISTANT_ONLY = ASSISTANT_ONLY


class ScanState(NamedTuple):
    """What the rules remember after some turns, to check the next one."""

    role: str | None = None
    """Role of the last turn scanned."""
    group_start: int = 0
    """Index of the first turn of the current run of same-role turns."""
    asked: frozenset[str] = frozenset()
    """tool_use ids of the latest assistant group."""
    pending: frozenset[str] = frozenset()
    """Of ``asked``, those the following user group has not answered yet."""
    seen_other: bool = False
    """The current user group already has a block that is not a tool_result."""
    images: int = 0
    breakpoints: int = 0
    wide_images: tuple[Violation, ...] = ()
    """Images over MANY_IMAGES_MAX_SIDE px so far: reported by :func:`finish`
    only if the request ends up with more than MANY_IMAGES images."""


INITIAL = ScanState()


def scan(
    contents: Sequence[str | tuple[Block, ...]],
    provenances: Sequence[Provenance | None],
    start: int,
    state: ScanState,
) -> tuple[ScanState, list[Violation]]:
    """Check some turns, given as their contents and provenances (a user turn has none),
    whose first has index ``start``, resuming from ``state``."""
    if (
        set(map(type, contents)) == _ONLY_STR
        and not state.pending
        and not (state.role == "assistant" and state.asked)
    ):
        return _scan_plain(contents, provenances, start, state)  # type: ignore[arg-type]
    found: list[Violation] = []
    wide: list[Violation] = []
    role, group_start, asked, pending, seen_other, images, breakpoints, wide_images = state
    index = start - 1
    for stored, provenance in zip(contents, provenances, strict=True):
        index += 1
        content: Any = stored  # Any: the hot path narrows with type(), not isinstance
        turn_role = "user" if provenance is None else "assistant"  # a chain stores no role
        if turn_role != role:
            if turn_role == "assistant":
                if pending:
                    found.append(_unanswered(pending, group_start))
                asked = pending = _NONE
                seen_other = False
            else:
                pending = asked
                seen_other = False
            role = turn_role
            group_start = index
        if type(content) is str:  # one plain text block: the common case
            if turn_role == "user":
                seen_other = True
            if not content or content.isspace():
                found.append(_empty_text(index, 0))
            continue
        if not content:
            found.append(
                Violation(
                    "empty_content",
                    "the turn has no content blocks; give it text or remove it",
                    index,
                )
            )
            continue
        for b, block in enumerate(content):
            kind = type(block)
            if turn_role == "user":
                if kind in _ASSISTANT_ONLY:
                    found.append(_misplaced(block, turn_role, index, b))
                    continue
                if kind is ToolResult:
                    tool_id = block.tool_use_id
                    if tool_id not in asked:
                        found.append(_unmatched(tool_id, asked, index, b))
                    pending = pending - {tool_id}
                    if seen_other:
                        found.append(
                            Violation(
                                "tool_result_not_first",
                                "a tool_result comes after other content in its user turn; "
                                "put every tool_result block first, then any text",
                                index,
                                b,
                            )
                        )
                else:
                    seen_other = True
            else:
                if kind in _USER_ONLY:
                    found.append(_misplaced(block, turn_role, index, b))
                    continue
                if kind is ToolUse:
                    asked = asked | {block.id}
            counts = _check_block(block, index, b, found, wide)
            images += counts[0]
            breakpoints += counts[1]
    if wide:
        wide_images += tuple(wide)
    return ScanState(
        role, group_start, asked, pending, seen_other, images, breakpoints, wide_images
    ), found


def _scan_plain(
    texts: Sequence[str], provenances: Sequence[Provenance | None], start: int, state: ScanState
) -> tuple[ScanState, list[Violation]]:
    """:func:`scan` for turns that are all one plain text block, with no tool
    use pending: the only rule that can break is ``empty_text``, and the state
    only moves its role group. Checked with C-level passes over the texts.
    """
    found = []
    if "" in texts or any(map(str.isspace, texts)):
        found = [_empty_text(start + i, 0) for i, t in enumerate(texts) if not t or t.isspace()]
    user = provenances[-1] is None
    last = "user" if user else "assistant"
    index = len(provenances) - 1
    while index > 0 and (provenances[index - 1] is None) == user:
        index -= 1
    # When the chunk's last group began before it, its start is the state's.
    group_start = state.group_start if index == 0 and last == state.role else start + index
    assistant = not user or any(p is not None for p in provenances[:index])
    asked = _NONE if assistant else state.asked
    seen_other = last == "user"
    return (
        ScanState(
            last,
            group_start,
            asked,
            _NONE,
            seen_other,
            state.images,
            state.breakpoints,
            state.wide_images,
        ),
        found,
    )


def _check_block(
    block: Block,
    turn: int | None,
    index: int,
    found: list[Violation],
    wide: list[Violation] | None = None,
) -> tuple[int, int]:
    """Check one block (and the blocks inside it); return its (images, breakpoints).

    Images over MANY_IMAGES_MAX_SIDE px go to ``wide``: whether they break a rule
    depends on how many images the whole request has.
    """
    images = 0
    breakpoints = 0
    cache_control = getattr(block, "cache_control", None)
    if cache_control is not None:
        breakpoints += 1
        if not _valid_cache_control(cache_control):
            found.append(_invalid_cache_control(cache_control, turn, index))
    if isinstance(block, Text):
        text = block.text
        if not text or text.isspace():
            found.append(_empty_text(turn, index))
    elif isinstance(block, Image):
        images += 1
        source = block.source
        if type(source) is Base64Source:
            if source.media_type not in IMAGE_MEDIA_TYPES:
                found.append(
                    Violation(
                        "unsupported_media_type",
                        f"image media_type {source.media_type!r} is not supported; use "
                        "image/jpeg, image/png, image/gif or image/webp "
                        "(Image.from_bytes reads it from the bytes)",
                        turn,
                        index,
                    )
                )
            if len(source.data) > MAX_IMAGE_BYTES:
                found.append(
                    Violation(
                        "image_too_large",
                        f"the base64 image is {len(source.data):,} bytes; the API accepts "
                        "at most 5 MB per image: downscale or recompress it",
                        turn,
                        index,
                    )
                )
            size = source.image_size
            if size is not None:
                _check_size(size, turn, index, found, wide)
            elif source.media_type in IMAGE_MEDIA_TYPES and len(source.data) <= _MAX_HEAD_CHARS:
                found.append(
                    Violation(
                        "image_unreadable",
                        f"the base64 image ({len(source.data):,} characters) has no readable "
                        f"{source.media_type} header: it is cut short, damaged or not that kind "
                        "of image, and the API refuses an image it cannot decode; send the "
                        "whole file (Image.from_bytes / from_path check it)",
                        turn,
                        index,
                    )
                )
    elif isinstance(block, Document):
        source = block.source
        if type(source) is Base64Source and source.media_type != "application/pdf":
            found.append(
                Violation(
                    "unsupported_media_type",
                    f"a base64 document must be application/pdf, got {source.media_type!r}; "
                    "send text with Document.from_text",
                    turn,
                    index,
                )
            )
        elif type(source) is TextSource and source.media_type != "text/plain":
            found.append(
                Violation(
                    "unsupported_media_type",
                    f"a text document must be text/plain, got {source.media_type!r}",
                    turn,
                    index,
                )
            )
        elif type(source) is ContentSource and not isinstance(source.content, str):
            images, breakpoints = _nested(
                source.content, turn, index, found, images, breakpoints, wide
            )
    elif isinstance(block, ToolResult):
        content = block.content
        if content is not None and not isinstance(content, str):
            images, breakpoints = _nested(content, turn, index, found, images, breakpoints, wide)
    elif isinstance(block, SearchResult):
        images, breakpoints = _nested(block.content, turn, index, found, images, breakpoints, wide)
    elif isinstance(block, Thinking) and not block.signature:
        found.append(
            Violation(
                "unsigned_thinking",
                "a thinking block has an empty signature (an interrupted stream leaves "
                "these); the API rejects it: drop the block or continue from an earlier turn",
                turn,
                index,
            )
        )
    return images, breakpoints


def _nested(
    blocks: Sequence[Block],
    turn: int | None,
    index: int,
    found: list[Violation],
    images: int,
    breakpoints: int,
    wide: list[Violation] | None,
) -> tuple[int, int]:
    """Check blocks nested in a block; problems are reported at the outer block."""
    for block in blocks:
        counts = _check_block(block, turn, index, found, wide)
        images += counts[0]
        breakpoints += counts[1]
    return images, breakpoints


def _check_size(
    size: tuple[int, int],
    turn: int | None,
    index: int,
    found: list[Violation],
    wide: list[Violation] | None,
) -> None:
    """The dimension rules of one base64 image whose header gave ``size``."""
    width, height = size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        found.append(
            Violation(
                "image_too_large_dimensions",
                f"the image is {width} x {height} px; the API rejects an image with a side "
                f"over {MAX_IMAGE_SIDE} px: downscale it",
                turn,
                index,
            )
        )
    elif wide is not None and (width > MANY_IMAGES_MAX_SIDE or height > MANY_IMAGES_MAX_SIDE):
        wide.append(
            Violation(
                "image_over_2000px_in_many",
                f"the image is {width} x {height} px; in a request with more than "
                f"{MANY_IMAGES} images the API accepts each only up to {MANY_IMAGES_MAX_SIDE} x "
                f"{MANY_IMAGES_MAX_SIDE} px: downscale it or send fewer images",
                turn,
                index,
            )
        )


def _empty_text(turn: int | None, index: int) -> Violation:
    return Violation(
        "empty_text",
        "a text block is empty or only whitespace; the API rejects it: give it text or remove it",
        turn,
        index,
    )


def _misplaced(block: Block, role: str, turn: int, index: int) -> Violation:
    where = "user" if role == "assistant" else "assistant"
    return Violation(
        "block_not_allowed",
        f"{a_or_an(block.type)} block cannot be in {a_or_an(role)} turn; it belongs in "
        f"{a_or_an(where)} turn",
        turn,
        index,
    )


def _unmatched(tool_id: str, asked: frozenset[str], turn: int, index: int) -> Violation:
    known = ", ".join(sorted(asked)) if asked else "no tool_use at all"
    return Violation(
        "tool_result_unmatched",
        f"tool_result for {tool_id!r} answers no tool_use of the assistant turn just before "
        f"it (that turn has {known}); fix the tool_use_id or remove the block",
        turn,
        index,
    )


def _unanswered(pending: frozenset[str], turn: int) -> Violation:
    ids = ", ".join(repr(i) for i in sorted(pending))
    return Violation(
        "tool_use_unanswered",
        f"tool_use {ids} got no tool_result in this user turn; the API needs a tool_result "
        "for every tool_use, in the user turn right after it",
        turn,
    )


def finish(
    state: ScanState,
    count: int,
    last: Turn | None,
    system: str | tuple[Text, ...] | None,
    options: Mapping[str, Any],
) -> list[Violation]:
    """The rules that depend on the system prompt, the end of the conversation and the options."""
    found: list[Violation] = []
    system_breakpoints = 0
    if isinstance(system, tuple):
        for index, block in enumerate(system):
            problems: list[Violation] = []
            system_breakpoints += _check_block(block, None, index, problems)[1]
            found.extend(attrs.evolve(v, message=f"system prompt: {v.message}") for v in problems)
    if count == 0:
        found.append(
            Violation("empty_messages", "the conversation has no turns; add a user turn first")
        )
    if state.role == "user" and state.pending:
        found.append(_unanswered(state.pending, state.group_start))
    if last is not None and last.role == "assistant" and last.content:
        blocks = last.blocks
        final = blocks[-1]
        if type(final) is Text and final.text and final.text != final.text.rstrip():
            found.append(
                Violation(
                    "prefill_trailing_whitespace",
                    "the conversation ends with an assistant turn (a prefill) whose text ends "
                    f"in whitespace ({final.text[-12:]!r}); the API rejects it: strip the "
                    "trailing whitespace",
                    count - 1,
                    len(blocks) - 1,
                )
            )
        thinking = options.get("thinking")
        paused = last.provenance is not None and last.provenance.stop_reason == "pause_turn"
        if (
            isinstance(thinking, Mapping)
            and thinking.get("type") in ("enabled", "adaptive")
            and not paused  # a paused reply sent back to go on is not a prefill
        ):
            found.append(
                Violation(
                    "prefill_with_thinking",
                    "the conversation ends with an assistant turn (a prefill) while thinking "
                    "is on; the API rejects prefill with extended thinking: remove the "
                    "prefill or turn thinking off",
                    count - 1,
                )
            )
    tool_breakpoints = _option_breakpoints(options, found)
    total = state.breakpoints + system_breakpoints + tool_breakpoints
    if total > MAX_BREAKPOINTS:
        found.append(
            Violation(
                "too_many_cache_breakpoints",
                f"{total} cache_control breakpoints (messages {state.breakpoints}, system "
                f"{system_breakpoints}, tools and request {tool_breakpoints}); the API allows "
                f"at most {MAX_BREAKPOINTS}: remove some",
            )
        )
    if state.images > MANY_IMAGES:
        found.extend(state.wide_images)
    if state.images > MAX_IMAGES:
        found.append(
            Violation(
                "too_many_images",
                f"{state.images} images; the API accepts at most {MAX_IMAGES} per request",
            )
        )
    return found


def block_breakpoints(block: Block) -> int:
    """The ``cache_control`` marks of a block and of the blocks inside it, as the
    ``too_many_cache_breakpoints`` rule counts them."""
    return _check_block(block, None, 0, [])[1]


def option_breakpoints(options: Mapping[str, Any]) -> int:
    """The ``cache_control`` marks of a request's options (its tools and the request's own),
    as the ``too_many_cache_breakpoints`` rule counts them."""
    return _option_breakpoints(options, [])


def _option_breakpoints(options: Mapping[str, Any], found: list[Violation]) -> int:
    """Count (and check) the cache_control markers of the tools and the request."""
    markers = [("the request's cache_control", options.get("cache_control"))]
    tools = options.get("tools")
    if isinstance(tools, list | tuple):
        for index, tool in enumerate(tools):
            marker = tool.get("cache_control") if isinstance(tool, Mapping) else None
            if marker is None:
                marker = getattr(tool, "cache_control", None)
            markers.append((f"tools[{index}]", marker))
    count = 0
    for where, marker in markers:
        if marker is None:
            continue
        count += 1
        if not _valid_cache_control(marker):
            found.append(_invalid_cache_control(marker, None, None, f"{where}: "))
    return count


def _valid_cache_control(marker: Any) -> bool:
    return (
        isinstance(marker, Mapping)
        and marker.get("type") == "ephemeral"
        and marker.get("ttl") in _TTLS
    )


def _invalid_cache_control(
    marker: Any, turn: int | None, index: int | None, where: str = ""
) -> Violation:
    shown = dict(marker) if isinstance(marker, Mapping) else marker
    return Violation(
        "invalid_cache_control",
        f"{where}cache_control {shown!r} is not valid; use "
        '{"type": "ephemeral"} with an optional "ttl" of "5m" or "1h"',
        turn,
        index,
    )


def in_payload_order(violations: list[Violation]) -> list[Violation]:
    """The system prompt's problems, then each turn's in order, then the whole request's."""

    def key(v: Violation) -> tuple[int, int, int]:
        if v.turn is not None:
            return (1, v.turn, sys.maxsize if v.block is None else v.block)
        if v.block is not None:
            return (0, 0, v.block)
        return (2, 0, 0)

    return sorted(violations, key=key)
