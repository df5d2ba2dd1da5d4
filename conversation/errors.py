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

from collections.abc import Iterable

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
]


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
        super().__init__(f"{path}: {reason}" if path else reason)


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
