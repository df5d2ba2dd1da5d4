"""The errors of the ``adapters`` package that every transport may raise.

:class:`~conversation.AdapterError` (defined with the rest of the core's tree,
so the core can name it without importing a transport) is the base of each;
:class:`APIError` is the base of what an HTTP API's adapter raises (the
Anthropic adapter's own are in ``adapters.anthropic``, the OpenAI adapter's
in ``adapters.openai``). The whole tree, every package, is drawn once, in
:mod:`conversation.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from conversation import AdapterError, Conversation

__all__ = [
    "APIError",
    "AdapterError",
    "CassetteFormatError",
    "CassetteMissError",
    "ScriptExhaustedError",
    "StreamInterruptedError",
    "StreamNotConsumedError",
    "UnknownAdapterError",
]


class APIError(AdapterError):
    """Base of what an HTTP API's adapter raises: a status, a refused request, no answer.

    ``status`` is the HTTP status of the answer (``None`` when there was no
    answer, or when the error arrived as an event inside a streamed 200);
    ``error_type`` and ``api_message`` are the API's error type and message;
    ``request_id`` identifies the request to the provider. ``headers`` are
    the answer's (lower-cased, sensitive ones masked; empty without one).
    ``body`` is the answer's text (scrubbed of keys), empty without one. The
    retry policy reads these, whichever provider raised the error.
    """

    no_answer: ClassVar[bool] = False
    """True for the classes of a failure with no answer at all (a reset, a timeout)."""

    status: int | None
    error_type: str | None
    api_message: str | None
    request_id: str | None
    headers: Mapping[str, str]
    body: str

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_type: str | None = None,
        api_message: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.api_message = api_message
        self.request_id = request_id
        self.headers = dict(headers or {})
        self.body = body

    @property
    def status_code(self) -> int | None:
        """``status``, under the name the official SDKs give it."""
        return self.status


class UnknownAdapterError(AdapterError, LookupError):
    """``adapters.load(name)`` found no adapter of that name.

    ``name`` is the name asked for, ``available`` the names installed (the
    entry points of the ``conversation.adapters`` group).
    """

    def __init__(self, name: str, available: Iterable[str]) -> None:
        self.name = name
        self.available = tuple(available)
        listed = ", ".join(repr(n) for n in self.available) or "none"
        super().__init__(
            f"no adapter named {name!r} is installed (installed: {listed}); install the "
            "package that provides it, or register one under the entry-point group "
            "'conversation.adapters'"
        )


class StreamNotConsumedError(AdapterError):
    """``stream.conversation`` was read before the stream reached its end."""


class StreamInterruptedError(AdapterError):
    """A stream was cut off before its reply ended; nothing already received is lost.

    ``conversation`` is the caller's conversation with what arrived of the
    reply folded in as an interrupted turn (``turn.provenance.interrupted``).
    Keep it, or call ``conversation.resumable()`` and send that to let the
    model continue where it stopped.
    """

    def __init__(self, message: str, *, conversation: Conversation) -> None:
        super().__init__(message)
        self.conversation = conversation


class ScriptExhaustedError(AdapterError):
    """A :class:`~adapters.ScriptedAdapter` was sent more requests than it had replies for.

    ``scripted`` is how many replies (and exceptions) were scripted;
    ``request`` is the payload that found none left (it is also recorded).
    """

    def __init__(self, scripted: int, number: int, request: dict[str, Any], last_user: str):
        self.scripted = scripted
        self.request = request
        had = (
            "no replies were scripted"
            if scripted == 0
            else f"{scripted} {'reply was' if scripted == 1 else 'replies were'} scripted "
            "and all were used"
        )
        super().__init__(
            f"ScriptedAdapter ran out of replies: {had}, but request {number} asked for "
            f"another (its last user message: {last_user}). Script one more reply, or find "
            "why the code under test sends more requests than expected."
        )


class CassetteMissError(AdapterError, LookupError):
    """A request a cassette has no recorded answer for, in a mode that may not record it.

    ``kind`` is the request's kind (``send``, ``stream``, ``count_tokens``),
    ``request`` its body as it would be recorded, ``path`` the cassette, and
    ``differences`` what sets it apart from the closest recorded request
    (``messages[3].content[0].text: 'x' != 'y'``), empty when nothing was
    recorded. The message names that request's line and says how to record.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        request: dict[str, Any],
        path: str,
        differences: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.request = request
        self.path = path
        self.differences = differences


class CassetteFormatError(AdapterError, ValueError):
    """A cassette file (or one line of it) that is not in the cassette format.

    ``path`` is the file and ``line`` the line number (from 1; 0 for the file
    as a whole). The message says what was expected there.
    """

    def __init__(self, reason: str, *, path: str, line: int = 0) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")
