"""The library's errors: one tree, rooted in :class:`ConversationError`.

::

    ConversationError                     anything this library raises on purpose
    ├── MalformedInputError (ValueError)   input that cannot be read: wrong type, missing
    │   │                                   field, unknown role, not JSON
    │   ├── MalformedReplyError            a Messages API response that fold() cannot read
    │   └── SaveFormatError                text that Conversation.loads() cannot read
    │       └── UnsupportedVersionError    a save format from a newer library
    ├── RuleViolationError                 a payload the API would reject (400), caught
    │                                       before sending; lists every violation
    ├── ContinuationError                  continue_reply() cannot continue this reply
    └── AdapterError                       raised by a transport (see the adapters package)

Every message names what was wrong, where (a ``$.messages[3].content[0]``-style
path, or turn and block index), and what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

__all__ = [
    "AdapterError",
    "ContinuationError",
    "ConversationError",
    "MalformedInputError",
    "MalformedReplyError",
    "RuleViolationError",
    "SaveFormatError",
    "UnsupportedVersionError",
    "Violation",
    "a_or_an",
    "quote",
    "type_name",
]

_QUOTE_WIDTH = 80
_QUOTE_ITEMS = 4
_QUOTE_LEVELS = 2


def quote(value: Any, width: int = _QUOTE_WIDTH) -> str:
    """A short, safe ``repr`` of ``value`` for an error message.

    Never longer than about ``width`` characters, never more than two levels
    into a container, and never fails: a message about a value nested 5,000
    deep, or whose own ``__repr__`` raises, must still be built.
    """
    text = _quote(value, _QUOTE_LEVELS, width)
    return text if len(text) <= width else text[: width - 1] + "…"


def _quote(value: Any, levels: int, width: int) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        plain = str.__str__(value)
        return repr(plain if len(plain) <= width else plain[:width])
    if isinstance(value, int):
        plain_int = int.__index__(value)
        if abs(plain_int) >= 10**width:  # repr of a huge int is slow, or refused
            return f"<an int of {plain_int.bit_length()} bits>"
        return repr(plain_int)
    if isinstance(value, float):
        return repr(float.__float__(value))
    if isinstance(value, Mapping | list | tuple):
        return _quote_container(value, levels, width)
    try:
        text = repr(value)
    except Exception:  # a broken or endlessly deep __repr__: name the type instead
        return f"<{type(value).__name__} object>"
    return text if len(text) <= width else text[:width]


def _quote_container(value: Any, levels: int, width: int) -> str:
    is_map = isinstance(value, Mapping)
    opener, closer = (
        ("{", "}") if is_map else (("[", "]") if isinstance(value, list) else ("(", ")"))
    )
    try:
        size = len(value)
    except Exception:
        return f"<{type(value).__name__} object>"
    if levels <= 0:
        return f"{opener}...{closer}" if size else opener + closer
    parts: list[str] = []
    used = 0
    try:
        items = iter(value.items() if is_map else value)
        for index, item in enumerate(items):
            if index == _QUOTE_ITEMS or used > width:
                parts.append("...")
                break
            if is_map:
                key, inner = item
                part = f"{_quote(key, 0, width)}: {_quote(inner, levels - 1, width)}"
            else:
                part = _quote(item, levels - 1, width)
            parts.append(part)
            used += len(part) + 2
    except Exception:
        parts.append("...")
    single = "," if opener == "(" and len(parts) == 1 and parts[0] != "..." else ""
    return opener + ", ".join(parts) + single + closer


def type_name(value: Any) -> str:
    """The name of ``value``'s type for a message: ``None`` for None (it was Python, not JSON)."""
    return "None" if value is None else type(value).__name__


def a_or_an(word: str) -> str:
    """``word`` with its indefinite article: "an assistant turn", "a user turn"."""
    return f"{'an' if word[:1].lower() in 'aeiou' and word[:1] else 'a'} {word}"


class ConversationError(Exception):
    """The root of every error this library raises on purpose."""


class MalformedInputError(ConversationError, ValueError):
    """Input that cannot be read as what it claims to be.

    ``path`` locates the problem in the input (``$`` is the whole input), and
    ``reason`` says what was wrong there.
    """

    def __init__(self, reason: str, path: str = "$") -> None:
        self.reason = reason
        self.path = path
        # A path of just "$" (the argument itself) adds nothing the reason does not say;
        # a path hundreds of levels long is shown by its ends.
        shown = path if len(path) <= 160 else f"{path[:80]}...{path[-60:]}"
        super().__init__(f"{shown}: {reason}" if path and path != "$" else reason)


class MalformedReplyError(MalformedInputError):
    """A Messages API response that cannot be folded into a conversation."""


class SaveFormatError(MalformedInputError):
    """Text that is not a conversation saved by ``Conversation.dumps()``."""


class UnsupportedVersionError(SaveFormatError):
    """A save format version this release of the library does not know."""


@attrs.frozen
class Violation:
    """One reason the API would refuse a payload.

    ``rule`` is a stable name (``"prefill_trailing_whitespace"``); ``turn`` and
    ``block`` are indexes into ``messages`` and that message's content, when the
    problem has a place there.
    """

    rule: str
    message: str
    turn: int | None = None
    block: int | None = None

    def __str__(self) -> str:
        where = []
        if self.turn is not None:
            where.append(f"turn {self.turn}")
        if self.block is not None:
            where.append(f"block {self.block}")
        place = ", ".join(where)
        return f"{place + ': ' if place else ''}{self.message} [{self.rule}]"


class RuleViolationError(ConversationError):
    """The payload breaks rules the API enforces; nothing was sent.

    ``violations`` lists every problem found, in the order of the payload.
    """

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = tuple(violations)
        count = len(self.violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the API would reject this payload ({count} {noun}):\n{lines}")

    @property
    def rules(self) -> tuple[str, ...]:
        """The names of the broken rules, in order, one per violation."""
        return tuple(v.rule for v in self.violations)


class AdapterError(ConversationError):
    """Base of every error raised by a transport in the ``adapters`` package."""


class ContinuationError(ConversationError):
    """``continue_reply`` cannot send the partial reply back as a prefill (checked before
    sending: thinking on, a reply cut in a block that is not text, or only whitespace)."""
