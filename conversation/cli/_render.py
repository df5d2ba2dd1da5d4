"""Conversations as text for people: a transcript, Markdown, a block as a line.

The one-line forms shared with the web viewer (``short``, ``summary``,
``imported_title``) live in :mod:`conversation._titles`.
"""

from __future__ import annotations

import orjson

from .._blocks import (
    Block,
    RedactedThinking,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
)
from .._conversation import Conversation
from .._json import thaw
from .._titles import imported_title, system_text
from .._turn import Turn
from ._style import Style

__all__ = ["block_text", "heading", "markdown", "transcript"]


def block_text(block: Block) -> str:
    """One block as readable text: text as it is, other blocks as a bracketed line."""
    if isinstance(block, Text):
        return block.text
    if isinstance(block, ToolUse):
        return f"[tool_use {block.name} {orjson.dumps(thaw(block.input)).decode()}]"
    if isinstance(block, ToolResult):
        content = block.content
        if isinstance(content, tuple):
            content = "\n".join(block_text(part) for part in content)
        error = " error" if block.is_error else ""
        return f"[tool_result{error}] {content or ''}".rstrip()
    if isinstance(block, Thinking):
        return f"[thinking] {block.thinking}"
    if isinstance(block, RedactedThinking):
        return "[redacted thinking]"
    return f"[{block.type}]"  # images, documents, server tools: named, not drawn


def heading(turn: Turn, number: int) -> str:
    """Who wrote turn ``number`` (1-based), with the model and a synthetic mark."""
    parts = [turn.role, f"turn {number}"]
    provenance = turn.provenance
    if provenance is not None:
        last = provenance.last
        if last is not None and last.model:
            parts.append(last.model)
        if turn.synthetic:
            parts.append("synthetic")
    return " · ".join(parts)


def transcript(c: Conversation, style: Style) -> list[str]:
    """The conversation as lines for a terminal: a rule with who spoke, then what they said."""
    lines: list[str] = []
    system = system_text(c.system)
    if system is not None:
        lines += [style("bold", "── system ──"), system, ""]
    for number, turn in enumerate(c, 1):
        lines.append(style(turn.role, f"── {heading(turn, number)} ──"))
        lines += [block_text(block) for block in turn.blocks]
        lines.append("")
    return lines


def markdown(c: Conversation) -> str:
    """The conversation as Markdown: a heading per turn, text as it is, other blocks quoted."""
    parts: list[str] = []
    title = imported_title(c)
    if title:
        parts.append(f"# {title}")
    system = system_text(c.system)
    if system is not None:
        parts += ["## system", system]
    for number, turn in enumerate(c, 1):
        parts.append(f"## {heading(turn, number)}")
        for block in turn.blocks:
            text = block_text(block)
            if not isinstance(block, Text):  # quoted, so it reads as not said by anyone
                text = "\n".join("> " + line for line in text.splitlines())
            parts.append(text)
    return "\n\n".join(parts) + "\n"
