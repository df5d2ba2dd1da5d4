"""Where two conversations part: their common prefix, and a :class:`Diff` a person reads.

Branches of one history share the runs of its chain, so the common prefix is
found by walking back from the two heads until they meet in a shared run; turns
that are equal by value but not shared (two conversations built apart, or one
read back from a file) are compared as values on the way. Either way the walk
costs the turns after the shared part, not the whole history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeAlias

import attrs

from ._blocks import (
    Base64Source,
    Block,
    ContentSource,
    Document,
    FileSource,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Source,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    URLSource,
)
from ._chain import Run, prefix_run
from ._turn import Turn
from .errors import clip, quote

if TYPE_CHECKING:
    from ._conversation import Conversation

__all__ = ["Diff", "common_length"]

System: TypeAlias = str | tuple[Text, ...] | None

LINE_WIDTH: Final = 120
"""The longest line ``str(diff)`` writes; a longer turn summary is clipped with ``…``."""
_TEXT_WIDTH: Final = 60
_FIELD_WIDTH: Final = 40


def common_length(left: Run | None, left_length: int, right: Run | None, right_length: int) -> int:
    """How many turns two chains begin with alike (each given as a run and a length).

    Both are cut to the shorter length, then walked back a run at a time: a
    run both paths hold ends the walk (all before it is shared), and the first
    pair of turns that differ in a stretch moves the end to before them.
    """
    length = min(left_length, right_length)
    if left is None or right is None or length == 0:
        return 0
    a = prefix_run(left, length)
    b = prefix_run(right, length)
    end = high = length  # the turns from ``high`` on were compared
    while a is not None and b is not None and a is not b:
        low = max(a.base, b.base)
        ca, cb = a.contents(low, high), b.contents(low, high)
        pa, pb = a.provenances(low, high), b.provenances(low, high)
        if ca != cb or pa != pb:  # the role goes with the provenance
            end = low + next(i for i in range(high - low) if ca[i] != cb[i] or pa[i] != pb[i])
        high = low
        if a.base == low:
            a = a.parent
        if b.base == low:
            b = b.parent
    return end


@attrs.frozen(repr=False)
class Diff:
    """How two conversations differ: the turns they share, then each one's own.

    ``common`` is the longest prefix of the left conversation whose turns the
    right one begins with too (under the left's system prompt and metadata,
    sharing its structure); ``left`` and ``right`` are the turns of each after
    it. ``left_system`` and ``right_system`` are the two system prompts: they
    differ when a branch changed the prompt. Metadata (the program's own
    annotations) is not compared.

    ``bool(diff)`` is False when the two hold the same system prompt and
    turns. ``str(diff)`` is for reading: the shared part in one line, then
    each side's system prompt (when they differ) and turns, one line each,
    marked ``-`` (left) and ``+`` (right) as in a unified diff.
    """

    common: Conversation
    left: tuple[Turn, ...]
    right: tuple[Turn, ...]
    left_system: System = attrs.field(kw_only=True)
    right_system: System = attrs.field(kw_only=True)

    def __bool__(self) -> bool:
        return bool(self.left or self.right) or self._systems()

    def __str__(self) -> str:
        shared = self._shared() if self else f"no differences: {self._shared()}"
        lines = [clip(shared, LINE_WIDTH)]
        if self:
            start = len(self.common)
            lines += _side("-", "--- left", self.left_system, self.left, start, self._systems())
            lines += _side("+", "+++ right", self.right_system, self.right, start, self._systems())
        return "\n".join(lines)

    def __repr__(self) -> str:
        parts = [_count(len(self.common), "shared turn")]
        if self:
            parts += [f"{len(self.left)} left", f"{len(self.right)} right"]
            if self._systems():
                parts.append("system prompts differ")
        else:
            parts.insert(0, "no differences")
        return f"<Diff {', '.join(parts)}>"

    def _systems(self) -> bool:
        """True when the two system prompts differ."""
        return self.left_system != self.right_system

    def _shared(self) -> str:
        common = self.common
        size = len(common)
        if size == 0:
            return "no shared turns"
        last = common.last
        assert last is not None
        return f"{_count(size, 'shared turn')}; the last: {turn_line(size - 1, last)}"


def _side(
    mark: str, heading: str, system: System, turns: tuple[Turn, ...], start: int, systems: bool
) -> list[str]:
    """One side of a diff: its heading, its system prompt when the two differ, its turns."""
    lines = [f"{heading}: {_count(len(turns), 'more turn') if turns else 'no more turns'}"]
    if systems:
        lines.append(clip(f"{mark} system: {_system(system)}", LINE_WIDTH))
    lines += [clip(f"{mark} {turn_line(start + i, t)}", LINE_WIDTH) for i, t in enumerate(turns)]
    return lines


def turn_line(index: int, turn: Turn) -> str:
    """A turn in one line: its index, role (and who wrote it), and its blocks summarised."""
    return f"[{index}] {_role(turn)}: {', '.join(block_summary(b) for b in turn.blocks)}"


def _role(turn: Turn) -> str:
    provenance = turn.provenance
    if provenance is None:
        return turn.role
    if not provenance.replies:
        return f"{turn.role} (synthetic)"
    tags = [_bare(provenance.model or "a model")]
    if provenance.interrupted:
        tags.append("interrupted")
    return f"{turn.role} ({', '.join(tags)})"


def _system(system: System) -> str:
    if system is None:
        return "none"
    if isinstance(system, str):
        return quote(system, _TEXT_WIDTH)
    return " ".join(quote(block.text, _TEXT_WIDTH) for block in system)


def block_summary(block: Block) -> str:
    """A block in a few words: text quoted and clipped, other blocks by type and key fields."""
    if isinstance(block, Text):
        return quote(block.text, _TEXT_WIDTH)
    if isinstance(block, ToolUse | ServerToolUse):
        return f"{block.type} {_bare(block.name)} {quote(block.input, _FIELD_WIDTH)}"
    if isinstance(block, ToolResult):
        error = " (error)" if block.is_error else ""
        content = block.content
        if content is None:
            shown = "(empty)"
        elif isinstance(content, str):
            shown = quote(content, _FIELD_WIDTH)
        else:
            shown = "[" + ", ".join(block_summary(inner) for inner in content) + "]"
        return f"tool_result {_bare(block.tool_use_id)}{error}: {shown}"
    if isinstance(block, Thinking):
        return f"thinking {quote(block.thinking, _FIELD_WIDTH)}"
    if isinstance(block, RedactedThinking):
        return "redacted_thinking"
    if isinstance(block, ServerToolResult):
        return f"{block.type} {_bare(block.tool_use_id)}"
    if isinstance(block, Image):
        return f"image {_source(block.source)}"
    if isinstance(block, Document):
        title = f"{quote(block.title, _FIELD_WIDTH)} " if block.title else ""
        return f"document {title}{_source(block.source)}"
    if isinstance(block, SearchResult):
        return f"search_result {quote(block.title, _FIELD_WIDTH)} {_bare(block.source)}"
    return _bare(block.type)


def _source(source: Source) -> str:
    if isinstance(source, Base64Source):
        size = source.image_size if source.media_type.startswith("image/") else None
        pixels = f" {size[0]}x{size[1]}" if size else ""
        return f"{_bare(source.media_type)}{pixels}, {len(source.data):,} base64 chars"
    if isinstance(source, URLSource):
        return _bare(source.url)
    if isinstance(source, FileSource):
        return f"file {_bare(source.file_id)}"
    if isinstance(source, TextSource):
        return f"text {quote(source.data, _FIELD_WIDTH)}"
    if isinstance(source, ContentSource):
        content = source.content
        if isinstance(content, str):
            return f"content {quote(content, _FIELD_WIDTH)}"
        return "content [" + ", ".join(block_summary(inner) for inner in content) + "]"
    return f"{_bare(str(source.raw.get('type')))} source"


def _bare(text: str) -> str:
    """A name, id or URL as it is, unquoted, unless it holds a character that is not
    printable (a newline, a terminal escape): then escaped as ``repr`` would. Clipped."""
    return clip(text if text.isprintable() else repr(text)[1:-1], _FIELD_WIDTH + 20)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
