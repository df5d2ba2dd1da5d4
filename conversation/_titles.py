"""How people see a conversation in one line: a short id, a turn's summary, its title.

Shared by the command line (``ls``, ``show``, ``tree``) and the web viewer,
so both name the same conversation the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._blocks import Text
    from ._conversation import Conversation
    from ._turn import Turn
    from .store import Outline

__all__ = ["SHORT", "imported_title", "short", "summary", "system_text"]

SHORT = 12  # hex digits of an id shown to people; any 6+ digit prefix loads


def short(ident: str) -> str:
    """An id as people see it: its first 12 hex digits."""
    return ident[:SHORT]


def summary(turn: Turn, width: int = 60) -> str:
    """A turn in one line: its text, or the kinds of its blocks when it has none."""
    text = " ".join(turn.text.split())
    if not text:
        text = "[" + ", ".join(block.type for block in turn.blocks) + "]"
    return text if len(text) <= width else text[: width - 1] + "…"


def imported_title(c: Conversation | Outline) -> str | None:
    """The chat app's title of an imported conversation (metadata ``import.title``)."""
    info = c.metadata.get("import")
    title = info.get("title") if isinstance(info, Mapping) else None
    return title if isinstance(title, str) and title else None


def system_text(system: str | tuple[Text, ...] | None) -> str | None:
    """A system prompt as one text (its blocks joined), None when there is none."""
    if system is None or isinstance(system, str):
        return system
    return "".join(block.text for block in system)
