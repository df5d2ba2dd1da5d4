"""The adapter contract, and the few helpers every adapter shares.

An adapter sends a :class:`~conversation.Conversation` and returns it with the
model's reply folded in; the caller's conversation is never changed, so a
failed send leaves it exactly as it was. A streaming adapter can also hand the
reply over event by event.

Every adapter builds its request the same way: :func:`merge_options` (the
adapter's defaults under the call's options), then :func:`build_payload` or
:func:`build_body`, which go through ``Conversation.to_payload`` /
``to_json`` and never around them, so the rules checked before sending hold
for every transport.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from conversation import Conversation, MalformedInputError
from conversation.tools import AsyncSender, Sender

from ._events import StreamEvent
from .errors import StreamInterruptedError, StreamNotConsumedError

__all__ = [
    "Adapter",
    "AsyncMessageStream",
    "MessageStream",
    "StreamInterruptedError",
    "StreamNotConsumedError",
    "StreamingAdapter",
    "build_body",
    "build_payload",
    "check_defaults",
    "merge_options",
]


class MessageStream(Protocol):
    """One reply, streaming: what ``StreamingAdapter.stream()`` returns.

    Iterate it for :data:`StreamEvent` objects, or its ``text_stream`` for the
    text deltas alone (both read the same events: use one). The request is
    sent when the stream is entered (``with``) or first iterated, whichever
    comes first; ``close()`` (or leaving the ``with`` block) releases it, read
    or not. Once the stream has yielded its last event, ``conversation`` is
    the conversation with the reply folded in, equal to what ``send`` returns.
    """

    def __iter__(self) -> Iterator[StreamEvent]: ...

    @property
    def text_stream(self) -> Iterator[str]:
        """The text of each ``TextDelta``, in order."""
        ...

    @property
    def conversation(self) -> Conversation:
        """The folded conversation; raises :class:`StreamNotConsumedError` before the end."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class AsyncMessageStream(Protocol):
    """The async twin of :class:`MessageStream`: ``async for``, ``async with``, ``aclose()``."""

    def __aiter__(self) -> AsyncIterator[StreamEvent]: ...

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """The text of each ``TextDelta``, in order."""
        ...

    @property
    def conversation(self) -> Conversation:
        """The folded conversation; raises :class:`StreamNotConsumedError` before the end."""
        ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


@runtime_checkable
class Adapter(Sender, AsyncSender, Protocol):
    """Sends a conversation to a model and returns it with the reply folded in.

    ``send`` and ``asend`` are declared once, in the core (:mod:`conversation.tools`
    takes either alone). ``options`` are Messages API request fields (``model``,
    ``max_tokens``, ``temperature``, ``tools``...). Both methods raise only
    :class:`~conversation.ConversationError` subclasses on purpose:
    :class:`~conversation.RuleViolationError` before anything is sent, an
    :class:`~conversation.AdapterError` subclass when the transport fails.
    """


@runtime_checkable
class StreamingAdapter(Adapter, Protocol):
    """An adapter that can also hand a reply over as it is written.

    ``stream`` and ``astream`` are plain methods (``astream`` is not awaited):
    ``with adapter.stream(c) as s:`` / ``async with adapter.astream(c) as s:``.
    A :class:`~conversation.RuleViolationError` is raised by the call itself,
    before any request.
    """

    def stream(self, conversation: Conversation, /, **options: Any) -> MessageStream:
        """A stream of the reply to ``conversation``."""
        ...

    def astream(self, conversation: Conversation, /, **options: Any) -> AsyncMessageStream:
        """An async stream of the reply to ``conversation``."""
        ...


# -- shared helpers ---------------------------------------------------------------------

_NOT_OPTIONS = ("stream",)


def check_defaults(defaults: Mapping[str, Any] | None) -> dict[str, Any]:
    """An adapter's default options, copied and checked when the adapter is made.

    Raises :class:`~conversation.MalformedInputError` for anything that is not
    a mapping of option names, or that names ``stream`` (chosen per call by
    ``send`` versus ``stream``).
    """
    if defaults is None:
        return {}
    if not isinstance(defaults, Mapping):
        raise MalformedInputError(
            f"default_options must be a mapping of request fields, got {type(defaults).__name__}"
        )
    copied = dict(defaults)
    for key in copied:
        if not isinstance(key, str):
            raise MalformedInputError(f"option names must be strings, got {key!r}")
    merge_options(copied, {})  # refuses "stream" here, not at the first send
    return copied


def merge_options(
    defaults: Mapping[str, Any], options: Mapping[str, Any], *, stream: bool = False
) -> dict[str, Any]:
    """The request options of one call: ``defaults`` updated by ``options``.

    The call wins. A value of ``None`` leaves the field out of the request,
    so ``send(c, temperature=None)`` unsets a default temperature (the API has
    no request field whose ``null`` means anything else). ``stream=True`` adds
    ``"stream": true``; giving ``stream`` as an option is refused, because
    whether a reply streams is chosen by calling ``stream`` instead of ``send``.
    """
    for name in _NOT_OPTIONS:
        if name in options or name in defaults:
            raise MalformedInputError(
                f"{name!r} is not an option here: call adapter.stream(...) / astream(...) "
                "for a streamed reply, send(...) / asend(...) for a whole one",
                f"$.{name}",
            )
    merged = {key: value for key, value in {**defaults, **options}.items() if value is not None}
    if stream:
        merged["stream"] = True
    return merged


def _check_conversation(conversation: object) -> Conversation:
    if not isinstance(conversation, Conversation):
        raise MalformedInputError(
            f"an adapter sends a Conversation, got {type(conversation).__name__} "
            f"{conversation!r:.60}; build one with Conversation().user(...)"
        )
    return conversation


def build_payload(conversation: Conversation, options: Mapping[str, Any]) -> dict[str, Any]:
    """The request body as a dict: ``conversation.to_payload(**options)``.

    Raises :class:`~conversation.RuleViolationError` before anything is sent,
    and :class:`~conversation.MalformedInputError` if ``conversation`` is not
    a Conversation.
    """
    return _check_conversation(conversation).to_payload(**options)


def build_body(conversation: Conversation, options: Mapping[str, Any]) -> bytes:
    """The request body as JSON bytes: ``conversation.to_json(**options)``.

    Raises as :func:`build_payload` does.
    """
    return _check_conversation(conversation).to_json(**options)
