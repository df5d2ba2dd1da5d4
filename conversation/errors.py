"""The library's errors: one tree, rooted in :class:`ConversationError`.

Every exception class of the ``conversation`` package is defined here; those
of ``adapters`` are in :mod:`adapters.errors` (generic),
``adapters/anthropic/_errors.py`` (the Anthropic adapter's) and
``adapters/openai/_errors.py`` (the OpenAI adapter's: the same names, as the
two official SDKs have them, each under its own base). The whole tree, both
packages, is drawn here once (README.md shows the same tree; a test holds them
to the classes)::

    ConversationError                         anything this library raises on purpose
    ├── MalformedInputError (ValueError)      input that cannot be read; .path, .reason
    │   ├── MalformedReplyError               a Messages API response fold() cannot read
    │   ├── SaveFormatError                   text Conversation.loads() cannot read
    │   │   └── UnsupportedVersionError       a save format from a newer library
    │   ├── ArgumentError                     tool arguments that do not fit; .problems
    │   │   └── ActionError                   a computer-use call this environment refuses
    │   └── ImportFormatError                 a chat-app export that cannot be read
    │                                          (conversation.imports); .app, .conversation,
    │                                          .title, .node, .report (what import_into saved)
    ├── SchemaError (TypeError)               a type hint with no JSON Schema; .where, .hint
    ├── RuleViolationError                    a payload the API would reject (400), caught
    │                                          before sending; .violations, .rules (the
    │                                          adapter adds missing_model, missing_max_tokens)
    ├── ToolLoopError                         run_tools reached max_steps; .conversation
    ├── ToolCallError                         a tool raised (raise_errors=True); .tool_use
    ├── ExtractionError                       extract() could not read the output; .raw
    ├── ContinuationError                     continue_reply() cannot continue this reply
    ├── TurnIndexError (IndexError)           no turn at that index (c[i], edit); .index, .length
    ├── BudgetError                           trim() found no part that fits; .budget, .smallest
    ├── StoreError                            a store cannot do what was asked
    │   ├── StoreNotFoundError (LookupError)  no stored conversation has this id or name
    │   │                                      (imported as conversation.store.NotFoundError)
    │   ├── NotAStoreError                    the file or database is not a conversation store
    │   ├── StoreVersionError                 a store written by a newer library; upgrade
    │   ├── CorruptStoreError                 a row that cannot be read or does not hash to its id
    │   ├── StoreBusyError                    the database stayed locked past the timeout
    │   └── StoreConnectionError              the server refused or dropped the connection
    └── AdapterError                          raised by a transport (package adapters)
        ├── StreamNotConsumedError            stream.conversation read before the end
        ├── StreamInterruptedError            a stream was cut off; .conversation
        ├── ScriptExhaustedError              a ScriptedAdapter ran out of replies
        ├── CassetteMissError (LookupError)   a request the cassette has no answer for
        │                                      (adapters.record); .differences
        ├── CassetteFormatError (ValueError)  a cassette line that cannot be read; .line
        ├── UnknownAdapterError (LookupError) adapters.load(name): no such adapter; .available
        └── APIError                          an HTTP API failed; .status_code, .request_id
            ├── AnthropicError                adapters.anthropic
            │   ├── MissingAPIKeyError        no api_key and ANTHROPIC_API_KEY unset
            │   ├── APIStatusError            the API answered with an error status
            │   │   ├── BadRequestError       400 invalid_request_error
            │   │   │   └── PrefillNotSupportedError  400: the model refuses a prefill
            │   │   ├── AuthenticationError   401 authentication_error
            │   │   ├── PermissionDeniedError 403 permission_error
            │   │   ├── NotFoundError         404 not_found_error
            │   │   ├── ConflictError         409 (retried)
            │   │   ├── RequestTooLargeError  413 request_too_large
            │   │   ├── UnprocessableEntityError  422
            │   │   ├── RateLimitError        429 rate_limit_error (retried)
            │   │   └── InternalServerError   >= 500 api_error (retried)
            │   │       ├── ServiceUnavailableError  503
            │   │       ├── DeadlineExceededError    504
            │   │       └── OverloadedError          529 overloaded_error
            │   └── APIConnectionError        no answer: refused, reset, DNS...
            │       └── APITimeoutError       no answer in time
            └── OpenAIError                   adapters.openai (Chat Completions)
                ├── MissingAPIKeyError        no api_key for api.openai.com, OPENAI_API_KEY unset
                ├── APIStatusError            the server answered with an error status
                │   ├── BadRequestError       400
                │   ├── AuthenticationError   401
                │   ├── PermissionDeniedError 403
                │   ├── NotFoundError         404
                │   ├── ConflictError         409 (retried)
                │   ├── UnprocessableEntityError  422
                │   ├── RateLimitError        429 (retried)
                │   └── InternalServerError   >= 500 (retried)
                └── APIConnectionError        no answer: refused, reset, DNS...
                    └── APITimeoutError       no answer in time

A name in parentheses is a second base class. Every message names what was
wrong, where (a ``$.messages[3].content[0]``-style path, or turn and block
index), and what to do about it.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from ._blocks import ToolUse
    from ._conversation import Conversation
    from .imports import ImportReport

__all__ = [
    "ActionError",
    "AdapterError",
    "ArgumentError",
    "BudgetError",
    "ContinuationError",
    "ConversationError",
    "CorruptStoreError",
    "ExtractionError",
    "ImportFormatError",
    "MalformedInputError",
    "MalformedReplyError",
    "NotAStoreError",
    "RuleViolationError",
    "SaveFormatError",
    "SchemaError",
    "StoreBusyError",
    "StoreConnectionError",
    "StoreError",
    "StoreNotFoundError",
    "StoreVersionError",
    "ToolCallError",
    "ToolLoopError",
    "TurnIndexError",
    "UnsupportedVersionError",
    "Violation",
    "a_or_an",
    "clip",
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
    return clip(_quote(value, _QUOTE_LEVELS, width), width)


def clip(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters, the last one ``…`` when cut.

    >>> clip("overloaded", 6)
    'overl…'
    >>> clip("ok", 6)
    'ok'
    """
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


class ArgumentError(MalformedInputError):
    """JSON arguments that do not fit the parameters' types.

    ``problems`` lists every ``(path, message)`` found (``("$.unit", "expected
    one of 'c', 'f', got 'k'")``); ``path`` and ``reason`` are the first one's,
    and the message lists them all.
    """

    def __init__(self, problems: Collection[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        path, reason = self.problems[0]
        MalformedInputError.__init__(self, reason, path)
        self.args = ("; ".join(f"{p}: {m}" for p, m in self.problems),)

    def __str__(self) -> str:
        return str(self.args[0])


class ActionError(ArgumentError):
    """A tool call this environment cannot carry out, or whose input does not fit.

    It is the model's call that is wrong (or asks what the environment lacks),
    so it is always answered as an error result, also with ``raise_errors``.
    ``problems`` lists each ``(path, message)``, like :class:`ArgumentError`.
    """

    def __init__(self, problems: str | Iterable[tuple[str, str]], path: str = "$") -> None:
        found = [(path, problems)] if isinstance(problems, str) else list(problems)
        super().__init__(found)
        self.args = ("; ".join(m if p == "$" else f"{p}: {m}" for p, m in self.problems),)


class ImportFormatError(MalformedInputError):
    """A ChatGPT or Claude.ai export that cannot be read, found while importing it.

    ``app`` is ``"chatgpt"`` or ``"claude"``; ``conversation`` names the
    conversation (its id, else its place in the file), ``title`` is its title
    when it was read, and ``node`` names the message in it (``None`` when the
    problem is the conversation or the file itself). Every conversation before
    it was read (and imported) already: when raised by ``import_into``,
    ``report`` is the :class:`~conversation.imports.ImportReport` of those.
    """

    report: ImportReport | None = None

    def __init__(
        self,
        reason: str,
        *,
        app: str,
        conversation: str | None = None,
        node: str | None = None,
        title: str | None = None,
        path: str = "$",
    ) -> None:
        self.app = app
        self.conversation = conversation
        self.title = title
        self.node = node
        where = [f"{'ChatGPT' if app == 'chatgpt' else 'Claude.ai'} export"]
        if conversation is not None:
            titled = f" ({quote(title)})" if title else ""
            where.append(f"conversation {conversation}{titled}")
        if node is not None:
            where.append(f"message {quote(node)}")
        super().__init__(f"{', '.join(where)}: {reason}", path)


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


class SchemaError(ConversationError, TypeError):
    """A type hint that has no JSON Schema here, found when a tool is made.

    ``where`` names the place (``parameter 'tags' of tag_items``), ``hint`` is
    the offending hint, and ``reason`` says why and what to use instead.
    """

    def __init__(self, where: str, hint: Any, reason: str) -> None:
        self.where = where
        self.hint = hint
        self.reason = reason
        super().__init__(f"cannot describe {where} as JSON Schema: {_show_hint(hint)}: {reason}")


def _show_hint(hint: Any) -> str:
    """A hint as a person writes it: ``list[str]``, ``Point``, ``Literal['c', 'f']``."""
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__qualname__
    return repr(hint).replace("typing.", "").replace("collections.abc.", "")


class ToolLoopError(ConversationError):
    """The model still asked for tools (or its turn was still paused) after ``max_steps`` requests.

    ``conversation`` is the loop so far, ending with the assistant turn whose
    tool calls were not run yet (or the paused turn, not yet sent back): pass
    it to :func:`~conversation.tools.run_tools` again to carry on.
    """

    def __init__(self, message: str, *, conversation: Conversation, steps: int) -> None:
        super().__init__(message)
        self.conversation = conversation
        self.steps = steps


class ToolCallError(ConversationError):
    """A tool function raised, and the loop was asked to raise (``raise_errors=True``).

    The tool's own exception is ``__cause__`` (its traceback intact).
    ``tool_use`` is the call that failed; ``conversation`` is the loop so far,
    ending with the assistant turn that asked for it, unanswered: fix the tool
    and pass it to :func:`~conversation.tools.run_tools` again to run that
    turn's calls and go on.
    """

    def __init__(self, message: str, *, conversation: Conversation, tool_use: ToolUse) -> None:
        super().__init__(message)
        self.conversation = conversation
        self.tool_use = tool_use


class ExtractionError(ConversationError):
    """The model's output could not be read as the target.

    It was not valid JSON, did not fit the schema or class, was cut off at
    ``max_tokens``, or the model did not call the forced tool. ``raw`` is what
    the model produced (the JSON text, or the tool input dict; the reply's text
    when there was no tool call); ``conversation`` is the conversation with the
    reply folded in, so nothing is lost and the caller can retry or continue.
    ``problems`` lists each mismatch as ``"$.path: what was expected"``.
    """

    def __init__(
        self,
        message: str,
        *,
        raw: Any,
        conversation: Conversation,
        problems: Iterable[str] = (),
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.conversation = conversation
        self.problems = tuple(problems)


class AdapterError(ConversationError):
    """Base of every error raised by a transport in the ``adapters`` package."""


class ContinuationError(ConversationError):
    """``continue_reply`` cannot send the partial reply back as a prefill (checked before
    sending: thinking on, a reply cut in a block that is not text, or only whitespace)."""


class TurnIndexError(ConversationError, IndexError):
    """A turn index outside the conversation (``c[i]``, ``c.edit(i, ...)``).

    ``index`` is the index as given, ``length`` the number of turns; as an
    ``IndexError`` it is caught where a list's would be.
    """

    def __init__(self, index: int, length: int) -> None:
        self.index = index
        self.length = length
        valid = (
            "the conversation has no turns"
            if length == 0
            else f"valid indexes are {-length} to {length - 1}"
        )
        noun = "turn" if length == 1 else "turns"
        super().__init__(
            f"turn index {index} is out of range for a conversation of {length} {noun}; {valid}"
        )


class BudgetError(ConversationError):
    """``trim(budget)`` found no part of the conversation that fits ``budget`` tokens.

    ``smallest`` is the size (as the count measured it) of the shortest part
    trim may keep, ``turns`` its number of turns: the budget must be at least
    ``smallest``, or those turns shorter.
    """

    def __init__(self, budget: int, smallest: int, turns: int, *, whole: bool) -> None:
        self.budget = budget
        self.smallest = smallest
        self.turns = turns
        noun = "turn" if turns == 1 else "turns"
        part = (
            f"the whole conversation ({turns} {noun}; no later turn is a user turn that is not "
            "a tool_result answer, where a kept part could begin)"
            if whole
            else f"the last {turns} {noun}, from the last user turn that is not a tool_result "
            "answer"
        )
        super().__init__(
            f"nothing fits a budget of {budget:,} tokens: the shortest part trim may keep, "
            f"{part}, counts {smallest:,}; raise the budget or shorten those turns"
        )


class StoreError(ConversationError):
    """A conversation store cannot do what was asked (see :mod:`conversation.store`)."""


class StoreNotFoundError(StoreError, LookupError):
    """No stored conversation has this id or name (``conversation.store.NotFoundError``)."""


class NotAStoreError(StoreError):
    """The file or database opened is not a conversation store (nor an empty one to make one)."""


class StoreVersionError(StoreError):
    """The store was written by a newer release of the library, with a schema this one lacks."""


class CorruptStoreError(StoreError):
    """A stored row cannot be read, or its content does not hash to the id it is kept under."""


class StoreBusyError(StoreError):
    """Other writers kept the database locked for longer than the store's timeout."""


class StoreConnectionError(StoreError):
    """The database server could not be reached, or the connection dropped during a call.

    A save cut short this way stored nothing, or (when the connection dropped
    while it committed) all of it: saving again is safe, saves are idempotent.
    """
