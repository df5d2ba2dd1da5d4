"""Adapters that answer without a network, for testing chatbots offline.

:class:`ScriptedAdapter` serves replies written in advance, in order;
:class:`FunctionAdapter` asks a function of yours for each reply. Both behave
like a real adapter where it matters to the code under test: options are
merged the same way, every payload goes through ``Conversation.to_payload``
(so a :class:`~conversation.RuleViolationError` surfaces before "sending"),
replies are folded the same way, and both stream. Both record every request
they were sent in ``adapter.requests``, so a test can assert on the exact
payloads.

>>> from conversation import Conversation
>>> adapter = ScriptedAdapter(["Hello! How can I help?"], default_options={"max_tokens": 256})
>>> c = adapter.send(Conversation().user("Hi"))
>>> c.last.text
'Hello! How can I help?'
>>> adapter.requests
[{'max_tokens': 256, 'messages': [{'role': 'user', 'content': 'Hi'}]}]

There is no ``reset()``: an adapter is cheap, so make a new one per test (a
pytest fixture does it).
"""

from __future__ import annotations

import inspect
import json
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import Any, ClassVar, NamedTuple, TypeAlias

import attrs

from conversation import (
    AdapterError,
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    Reply,
    Text,
    Thinking,
    ToolUse,
    Usage,
    converter,
)
from conversation.errors import quote

from ._base import build_payload, check_defaults, merge_options
from ._stream import AsyncScriptedStream, ScriptedStream
from .errors import ScriptExhaustedError

__all__ = [
    "AsyncScriptedStream",
    "FunctionAdapter",
    "ReplyFunction",
    "ReplyLike",
    "ScriptExhaustedError",
    "ScriptItem",
    "ScriptedAdapter",
    "ScriptedStream",
]

ReplyLike: TypeAlias = str | Mapping[str, Any] | Reply
"""A reply as a test writes it: text, a Messages API response dict, or a Reply."""

ScriptItem: TypeAlias = ReplyLike | BaseException | type[BaseException]
"""One entry of a script: a reply, or an exception to raise in its place."""

ReplyFunction: TypeAlias = Callable[
    [Conversation, dict[str, Any]], ReplyLike | Awaitable[ReplyLike]
]
"""What :class:`FunctionAdapter` calls: ``fn(conversation, options) -> reply``, sync or async."""

_CHARS_PER_TOKEN = 4
_PROMPT_FIELDS = ("system", "tools", "messages")
_FILLABLE = frozenset({"id", "model", "stop_reason", "usage"})


# -- replies ---------------------------------------------------------------------------


@attrs.frozen
class _Template:
    """A reply as scripted, and which of its metadata fields to fill in when served."""

    reply: Reply
    missing: frozenset[str]


def _template(item: object, what: str) -> _Template:
    """Read a scripted reply now, so a malformed one fails when scripted, not when served."""
    if isinstance(item, str):
        return _Template(Reply((Text(item),) if item else ()), _FILLABLE)
    if isinstance(item, Reply):
        missing = {name for name in ("id", "model", "stop_reason") if getattr(item, name) is None}
        if item.usage == Usage():
            missing.add("usage")
        return _Template(item, frozenset(missing))
    if isinstance(item, Mapping):
        try:
            reply = converter.structure(dict(item), Reply)
        except MalformedReplyError as exc:
            raise MalformedReplyError(f"{what}: {exc.reason}", exc.path) from None
        return _Template(reply, frozenset(n for n in _FILLABLE if item.get(n) is None))
    raise MalformedReplyError(
        f"{what} is a {type(item).__name__}; a reply is a str, a Messages API response "
        "dict or a conversation.Reply"
    )


def _tokens(chars: int) -> int:
    """A plausible token count for ``chars`` characters (about four to a token)."""
    return max(1, -(-chars // _CHARS_PER_TOKEN))


def _content_chars(reply: Reply) -> int:
    total = 0
    for block in reply.content:
        if type(block) is Text:
            total += len(block.text)
        elif type(block) is Thinking:
            total += len(block.thinking)
        else:
            total += len(json.dumps(converter.unstructure(block)))
    return total


def _fill(
    template: _Template, *, prefix: str, number: int, model: str, payload: dict[str, Any]
) -> Reply:
    """The reply to serve: the template with its missing metadata made up, deterministically.

    The id is ``msg_<prefix>_<request number>``; the model is the request's
    ``model`` (else the adapter's); usage counts about one token per four
    characters of the prompt's JSON (system, tools, messages: so a streamed
    request costs what a sent one does) and of the reply's content.
    """
    reply, missing = template.reply, template.missing
    if not missing:
        return reply
    changes: dict[str, Any] = {}
    if "id" in missing:
        changes["id"] = f"msg_{prefix}_{number:04d}"
    if "model" in missing:
        requested = payload.get("model")
        changes["model"] = requested if isinstance(requested, str) else model
    if "stop_reason" in missing:
        calls_tool = any(type(block) is ToolUse for block in reply.content)
        changes["stop_reason"] = "tool_use" if calls_tool else "end_turn"
    if "usage" in missing:
        prompt = {key: payload[key] for key in _PROMPT_FIELDS if key in payload}
        sent = json.dumps(prompt, ensure_ascii=False, separators=(",", ":"))
        changes["usage"] = Usage(_tokens(len(sent)), _tokens(_content_chars(reply)))
    return attrs.evolve(reply, **changes)


def _last_user_message(conversation: Conversation) -> str:
    """The last user turn's text, clipped, for an error message."""
    for turn in reversed(conversation.turns):
        if turn.role == "user":
            return (
                quote(turn.text, 60) if turn.text else f"[{', '.join(b.type for b in turn.blocks)}]"
            )
    return "none"


# -- adapters --------------------------------------------------------------------------


class _Request(NamedTuple):
    """One checked request: the conversation, its merged options, the payload they make."""

    conversation: Conversation
    options: dict[str, Any]
    payload: dict[str, Any]


class _OfflineAdapter:
    """send/asend/stream/astream over two hooks that produce the reply to one request."""

    _prefix: ClassVar[str]

    def __init__(self, *, model: str, default_options: Mapping[str, Any] | None) -> None:
        if not isinstance(model, str):
            raise MalformedInputError(f"model must be a str, got {type(model).__name__}")
        self._model = model
        self._defaults = check_defaults(default_options)
        self._requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        """The model named in replies when a request names none."""
        return self._model

    @property
    def default_options(self) -> dict[str, Any]:
        """The options every request starts from (a copy)."""
        return dict(self._defaults)

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every payload sent so far, oldest first, exactly as ``to_payload`` made it.

        A request counts as sent once it passed the checks before sending, even
        if the script raised or ran out for it. A fresh list on each access.
        """
        with self._lock:
            return list(self._requests)

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Record the request and return ``conversation`` with the next reply folded in.

        Raises :class:`~conversation.RuleViolationError` (nothing recorded) if
        the API would reject the payload.
        """
        self._check_sync()
        request = self._prepare(conversation, options, stream=False)
        return conversation.fold(self._answer(request))

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Like :meth:`send`, for ``await``."""
        request = self._prepare(conversation, options, stream=False)
        return conversation.fold(await self._aanswer(request))

    def stream(self, conversation: Conversation, /, **options: Any) -> ScriptedStream:
        """The next reply as a stream of events; the payload gets ``"stream": true``.

        The payload is checked now; it is recorded when the stream starts.
        """
        self._check_sync()
        request = self._prepare(conversation, options, stream=True)
        return ScriptedStream(conversation, partial(self._answer, request))

    def astream(self, conversation: Conversation, /, **options: Any) -> AsyncScriptedStream:
        """Like :meth:`stream`, for ``async with`` / ``async for`` (not awaited itself)."""
        request = self._prepare(conversation, options, stream=True)
        return AsyncScriptedStream(conversation, partial(self._aanswer, request))

    def _prepare(
        self, conversation: Conversation, options: dict[str, Any], *, stream: bool
    ) -> _Request:
        merged = merge_options(self._defaults, options, stream=stream)
        return _Request(conversation, merged, build_payload(conversation, merged))

    def _record(self, payload: dict[str, Any]) -> int:
        """Log a payload as sent; its request number (from 1)."""
        with self._lock:
            self._requests.append(payload)
            return len(self._requests)

    def _fill(self, template: _Template, number: int, payload: dict[str, Any]) -> Reply:
        return _fill(
            template, prefix=self._prefix, number=number, model=self._model, payload=payload
        )

    def _check_sync(self) -> None:
        """Refuse a sync call this adapter cannot serve (before anything is recorded)."""

    def _answer(self, request: _Request) -> Reply:
        raise NotImplementedError

    async def _aanswer(self, request: _Request) -> Reply:
        raise NotImplementedError


_Entry: TypeAlias = "_Template | BaseException | type[BaseException]"


def _script_item(item: object, what: str) -> _Entry:
    """A script entry: an exception as it is, a reply as its template."""
    if isinstance(item, BaseException) or (
        isinstance(item, type) and issubclass(item, BaseException)
    ):
        return item
    return _template(item, what)


class ScriptedAdapter(_OfflineAdapter):
    """Serves scripted replies in order, and records every request.

    Each entry of ``replies`` is one of:

    - a ``str``: a reply of one text block (``""``: a reply with no content,
      as the API gives when a prefill was already complete);
    - a Messages API response ``dict``, used as it is;
    - a :class:`~conversation.Reply`;
    - an exception (instance or class): raised, in place of a reply, by the
      request that reaches it, to script failures.

    What a reply leaves out is made up, deterministically: the id
    (``msg_scripted_0001`` for request 1), the model (the request's, else
    ``model``), the stop reason (``tool_use`` if it calls a tool, else
    ``end_turn``) and plausible usage (about four characters to a token). A
    malformed reply dict raises :class:`~conversation.MalformedReplyError`
    here, when scripted. When the script runs out, the next request raises
    :class:`ScriptExhaustedError`.

    >>> from conversation import Conversation
    >>> adapter = ScriptedAdapter(["Paris.", TimeoutError("scripted outage")])
    >>> c = adapter.send(Conversation().user("Capital of France?"), max_tokens=64)
    >>> c.last.text, c.last.provenance.id, c.last.provenance.stop_reason
    ('Paris.', 'msg_scripted_0001', 'end_turn')
    >>> adapter.send(c.user("And of Spain?"), max_tokens=64)
    Traceback (most recent call last):
    TimeoutError: scripted outage
    >>> len(adapter.requests), adapter.remaining
    (2, 0)
    """

    _prefix = "scripted"

    def __init__(
        self,
        replies: Iterable[ScriptItem],
        *,
        model: str = "scripted",
        default_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, default_options=default_options)
        if isinstance(replies, str | bytes | Mapping | Reply) or not isinstance(replies, Iterable):
            raise MalformedInputError(
                f"replies must be a list of replies, got a {type(replies).__name__}; "
                "for one reply write ScriptedAdapter([reply])"
            )
        self._script: deque[_Entry] = deque(
            _script_item(item, f"scripted reply {index}") for index, item in enumerate(replies)
        )
        script = self._script
        self._scripted = len(script)

    def extend(self, replies: Iterable[ScriptItem]) -> None:
        """Script more entries (replies or exceptions), after those not reached yet.

        >>> from conversation import Conversation
        >>> adapter = ScriptedAdapter([])
        >>> adapter.extend(["Later."])
        >>> adapter.send(Conversation().user("Hi")).last.text
        'Later.'
        """
        if isinstance(replies, str | bytes | Mapping | Reply) or not isinstance(replies, Iterable):
            raise MalformedInputError(
                f"extend takes a list of replies, got a {type(replies).__name__}; "
                "for one reply write adapter.extend([reply])"
            )
        items = [
            _script_item(item, f"scripted reply {index}") for index, item in enumerate(replies)
        ]
        with self._lock:
            self._script.extend(items)
            self._scripted += len(items)

    @property
    def remaining(self) -> int:
        """How many scripted entries (replies or exceptions) have not been reached yet."""
        with self._lock:
            return len(self._script)

    def _answer(self, request: _Request) -> Reply:
        with self._lock:  # one step, so concurrent requests pair with entries in order
            self._requests.append(request.payload)
            number = len(self._requests)
            entry = self._script.popleft() if self._script else None
        if entry is None:
            raise ScriptExhaustedError(
                self._scripted, number, request.payload, _last_user_message(request.conversation)
            )
        if isinstance(entry, _Template):
            return self._fill(entry, number, request.payload)
        raise entry

    async def _aanswer(self, request: _Request) -> Reply:
        return self._answer(request)

    def __repr__(self) -> str:
        with self._lock:
            left, sent = len(self._script), len(self._requests)
        return (
            f"<ScriptedAdapter model={self._model!r}: {left} of {self._scripted} replies left, "
            f"{sent} request{'' if sent == 1 else 's'}>"
        )


class FunctionAdapter(_OfflineAdapter):
    """Asks ``fn(conversation, options)`` for each reply, and records every request.

    ``fn`` gets the conversation as sent and the request options (merged,
    ``None`` values left out, ``"stream": True`` when streaming; a fresh dict)
    and returns a reply as :class:`ScriptedAdapter` takes one (str, response
    dict or Reply), missing metadata made up the same way (id
    ``msg_function_0001``). An exception it raises propagates unchanged.
    ``fn`` may be ``async``: ``asend`` and ``astream`` await it, while ``send``
    and ``stream`` refuse it with an :class:`~conversation.AdapterError`.

    >>> from conversation import Conversation
    >>> echo = FunctionAdapter(lambda c, options: f"You said: {c.last.text}")
    >>> echo.send(Conversation().user("ping")).last.text
    'You said: ping'
    """

    _prefix = "function"

    def __init__(
        self,
        fn: ReplyFunction,
        *,
        model: str = "function",
        default_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(model=model, default_options=default_options)
        if not callable(fn):
            raise MalformedInputError(f"fn must be callable, got {type(fn).__name__}")
        self._fn = fn

    @property
    def fn(self) -> ReplyFunction:
        """The function that writes the replies."""
        return self._fn

    def _name(self) -> str:
        return getattr(self._fn, "__qualname__", None) or repr(self._fn)

    def _reply(self, result: object, number: int, request: _Request) -> Reply:
        template = _template(result, f"the reply of {self._name()}()")
        return self._fill(template, number, request.payload)

    def _check_sync(self) -> None:
        if inspect.iscoroutinefunction(self._fn):
            raise AdapterError(
                f"{self._name()}() is async: call `await adapter.asend(...)` (or astream), "
                "not send()/stream()"
            )

    def _answer(self, request: _Request) -> Reply:
        number = self._record(request.payload)
        result = self._fn(request.conversation, dict(request.options))
        if inspect.isawaitable(result):
            close = getattr(result, "close", None)
            if callable(close):
                close()  # the coroutine will never run; say so without a warning
            raise AdapterError(
                f"{self._name()}() returned an awaitable: call `await adapter.asend(...)` "
                "(or astream), not send()/stream()"
            )
        return self._reply(result, number, request)

    async def _aanswer(self, request: _Request) -> Reply:
        number = self._record(request.payload)
        result = self._fn(request.conversation, dict(request.options))
        if inspect.isawaitable(result):
            result = await result
        return self._reply(result, number, request)

    def __repr__(self) -> str:
        kind = "async " if inspect.iscoroutinefunction(self._fn) else ""
        sent = len(self.requests)
        return (
            f"<FunctionAdapter {kind}fn={self._name()} model={self._model!r}: "
            f"{sent} request{'' if sent == 1 else 's'}>"
        )
