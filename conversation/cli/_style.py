"""Colour for the command line's output: only on a terminal, and never with NO_COLOR set."""

from __future__ import annotations

import os
from typing import TextIO

import attrs

__all__ = ["Style", "style_for"]

_CODES = {"bold": "1", "dim": "2", "user": "36", "assistant": "32", "id": "33", "name": "35"}


@attrs.frozen
class Style:
    """Wraps text in ANSI colour codes when ``colour`` is on; else returns it unchanged."""

    colour: bool

    def __call__(self, kind: str, text: str) -> str:
        if not self.colour or not text:
            return text
        return f"\x1b[{_CODES[kind]}m{text}\x1b[0m"


def style_for(stream: TextIO) -> Style:
    """Colour when ``stream`` is a terminal and NO_COLOR is unset or empty (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    terminal = bool(isatty and isatty())
    return Style(terminal and not os.environ.get("NO_COLOR"))
