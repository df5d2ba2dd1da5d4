"""Errors in a cassette: what a failed exchange raised, kept so that replay raises it again.

A recorded error keeps its class (by module and name), its message, and its
attributes that are JSON values (``status``, ``request_id``, ``error_type``,
``body``...; an attribute named ``headers`` is kept empty, and secret-named
ones not at all), so a replayed 429 is a ``RateLimitError`` whose
``status_code`` is 429. An error carrying the partial conversation of a cut
stream (``StreamInterruptedError.conversation``) keeps the part of the reply
that had arrived, and gets the partial conversation back on replay; the error
it was raised from (``__cause__``) is kept the same way.

Only errors a transport raises are recorded: :class:`~conversation.AdapterError`
subclasses, :class:`~conversation.MalformedReplyError` (an answer that is not a
reply) and Python's built-in exceptions. A class is found again among the
loaded subclasses of :class:`~conversation.ConversationError` (or the
built-ins); a cassette never makes Python import a package that is not in use.
"""

from __future__ import annotations

import builtins
import importlib
import sys
from collections.abc import Mapping
from typing import Any

import attrs
import orjson

from adapters._secrets import scrub_fields
from conversation import (
    AdapterError,
    Conversation,
    ConversationError,
    MalformedReplyError,
    Reply,
)

from ._replies import reply_of

__all__ = ["Failure", "capture", "find_class", "restore"]

_EMPTIED = ("headers",)


@attrs.frozen
class Failure:
    """A recorded error: its class, message and attributes; what had arrived; its cause.

    ``partial`` is None when the error carries no conversation (``carries``
    false) or when nothing of the reply had arrived.
    """

    cls: type[BaseException]
    message: str
    fields: Mapping[str, Any] = attrs.field(factory=dict)
    carries: bool = False
    partial: Reply | None = None
    cause: Failure | None = None


_NOT_ERRORS = (StopIteration, StopAsyncIteration)
"""Built-in exceptions that steer iteration rather than report a failure."""

RESERVED = frozenset({"conversation"})
"""Attribute names a recorded error's ``fields`` may not hold (set from ``partial``)."""


def _builtin_error(cls: type[BaseException]) -> bool:
    return (
        cls.__module__ == "builtins"
        and issubclass(cls, Exception)
        and not issubclass(cls, _NOT_ERRORS)
    )


def recordable(exc: BaseException) -> bool:
    """Whether ``exc`` is an outcome of a request (a transport's error), so worth recording."""
    return isinstance(exc, AdapterError | MalformedReplyError) or _builtin_error(type(exc))


def capture(exc: BaseException, before: Conversation) -> Failure | None:
    """``exc`` as a :class:`Failure`, or None if it is not :func:`recordable`.

    ``before`` is the conversation that was sent: a partial conversation the
    error carries is kept as the reply that, folded into it, gives it back.
    """
    if not recordable(exc):
        return None
    fields: dict[str, Any] = {}
    for name, value in vars(exc).items():
        if name.startswith("_") or name in RESERVED:
            continue
        if name in _EMPTIED:
            fields[name] = {}
        elif _is_json(value):
            fields[name] = scrub_fields(orjson.loads(orjson.dumps(value)))
    carried = getattr(exc, "conversation", None)
    carries = isinstance(carried, Conversation)
    partial = None
    if isinstance(carried, Conversation) and carried != before:
        partial = reply_of(before, carried, interrupted=True)
    cause = exc.__cause__
    return Failure(
        type(exc),
        str(exc),
        fields,
        carries,
        partial,
        capture(cause, before) if cause is not None else None,
    )


def _is_json(value: object) -> bool:
    try:
        orjson.dumps(value)
    except TypeError:
        return False
    return True


def restore(failure: Failure, before: Conversation) -> BaseException:
    """The error ``failure`` recorded, made again: same class, message and attributes.

    Its ``conversation`` (if it carried one) is ``before`` with the partial
    reply folded in as an interrupted turn, or ``before`` itself.
    """
    exc: BaseException = failure.cls.__new__(failure.cls)
    exc.args = (failure.message,)
    exc.__dict__.update(orjson.loads(orjson.dumps(dict(failure.fields))))
    if failure.carries:
        partial = failure.partial
        exc.__dict__["conversation"] = (
            before if partial is None else before.fold(partial, interrupted=True)
        )
    if failure.cause is not None:
        exc.__cause__ = restore(failure.cause, before)
    return exc


def find_class(module: str, name: str) -> type[BaseException] | None:
    """The recorded error class ``module.name``, if it is loaded (or loadable) here.

    A built-in exception, or a subclass of ConversationError from a module that
    is loaded; a module whose top-level package is loaded is imported first.
    """
    if module == "builtins":
        found = getattr(builtins, name, None)
        if isinstance(found, type) and issubclass(found, BaseException) and _builtin_error(found):
            return found
        return None
    for attempt in range(2):
        for cls in _subclasses(ConversationError):
            if cls.__module__ == module and cls.__qualname__ == name:
                return cls
        if attempt or module in sys.modules or module.partition(".")[0] not in sys.modules:
            return None
        try:
            importlib.import_module(module)
        except ImportError:
            return None
    return None


def _subclasses(root: type[BaseException]) -> list[type[BaseException]]:
    found: list[type[BaseException]] = [root]
    index = 0
    while index < len(found):
        found.extend(sub for sub in found[index].__subclasses__() if sub not in found)
        index += 1
    return found
