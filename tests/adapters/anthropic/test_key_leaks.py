"""No error of the Anthropic adapter lets the API key out, however deep one looks.

Every kind of failure (an error status, retried or not; a refused or reset
connection; a timeout before the answer and in the middle of a stream; a
stream cut short or broken by an error event) is produced over the loopback
fake, sync and async, for each call. Then everything reachable from the
error is walked: the ``__cause__`` / ``__context__`` chain, every attribute of
every object on it (an httpx request's headers and body, a response and its
request, a stream error's conversation), and the texts ``str``, ``repr`` and
``traceback.format_exception`` print. The key appears in none of it.

Not walked: the frames of the tracebacks (their local variables hold the
adapter, and so its key, as with any client; see ``adapters.anthropic._errors``).
"""

from __future__ import annotations

import socket
import traceback
import types
from collections.abc import Awaitable, Callable, Iterator, Mapping
from functools import partial
from typing import Any

import httpx
import pytest

from adapters.anthropic import AnthropicAdapter, RetryPolicy
from adapters.anthropic._errors import scrub_request
from conversation import Conversation, ConversationError
from tests.adapters.fake_api import (
    UNTIL_STOPPED,
    Error,
    FakeMessagesAPI,
    Malformed,
    Reply,
    Reset,
    Stream,
)

KEY = "sk-ant-api03-LEAK-CANARY-k3y-0123456789abcdef"
FRAGMENTS = (KEY, KEY[12:40])  # the key, and a stretch of it (a clipped text would hold one)
OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64}
CHAT = Conversation().user("Hello")

_LEAVES = (str, bytes, bytearray, int, float, bool, type(None))
_OPAQUE = (
    types.TracebackType,
    types.FrameType,
    types.CodeType,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
)


def _safely(get: Callable[[], Any]) -> list[Any]:
    """``[get()]``, or nothing for an attribute that is not there (an unread body...)."""
    try:
        return [get()]
    except (httpx.RequestNotRead, RuntimeError, AttributeError):
        return []


def _children(obj: Any) -> Iterator[Any]:
    """What one object leads to: its chain, its attributes, its items."""
    if isinstance(obj, BaseException):
        yield obj.__cause__
        yield obj.__context__
        yield from obj.args
    if isinstance(obj, httpx.Request):
        yield from obj.headers.raw
        yield str(obj.url)
        yield from _safely(lambda: obj.content)
    if isinstance(obj, httpx.Response):
        yield from obj.headers.raw
        yield from _safely(lambda: obj.request)
    if isinstance(obj, Mapping):
        yield from obj.keys()
        yield from obj.values()
    elif isinstance(obj, list | tuple | set | frozenset):
        yield from obj
    yield from getattr(obj, "__dict__", {}).values()
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            yield from _safely(partial(getattr, obj, name))


def reachable_text(error: BaseException) -> Iterator[str]:
    """Every text reachable from ``error`` (bounded walk, tracebacks' frames excluded)."""
    yield "".join(traceback.format_exception(error))
    seen: set[int] = set()
    stack: list[Any] = [error]
    while stack and len(seen) < 200_000:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _OPAQUE):
            continue
        seen.add(id(obj))
        if isinstance(obj, str):
            yield obj
        elif isinstance(obj, bytes | bytearray):
            yield bytes(obj).decode("latin-1")
        if isinstance(obj, _LEAVES):
            continue
        try:
            yield repr(obj)
            yield str(obj)
        except Exception:  # a repr that fails is not a leak
            pass
        stack.extend(_children(obj))


def assert_no_key(error: BaseException, chained: bool | None = None) -> None:
    """No fragment of the key in any text reachable from ``error``; ``chained`` says
    whether an httpx error with its request must be on the chain (the walk reaches it)."""
    assert isinstance(error, ConversationError)
    if chained is not None:
        assert _request_error_in_chain(error) == chained
    for text in reachable_text(error):
        for fragment in FRAGMENTS:
            assert fragment not in text, f"the key is reachable: {text[:200]!r}"


def _request_error_in_chain(error: BaseException) -> bool:
    """Whether the chain holds an httpx error with a request (what the walk must reach)."""
    current: BaseException | None = error
    while current is not None:
        if isinstance(current, httpx.RequestError):
            try:
                return "x-api-key" in current.request.headers
            except RuntimeError:
                return False
        current = current.__cause__ or current.__context__
    return False


# --- the failures ---------------------------------------------------------------------


def _refused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


Answers = list[Any]

# (answers queued, adapter options, whether an httpx request error is in the chain)
PRE_ANSWER: dict[str, tuple[Answers, dict[str, Any], bool]] = {
    "400": ([Error(400, "invalid_request_error")], {}, False),
    "401": ([Error(401, "authentication_error")], {}, False),
    "529 retried": ([Error(529, "overloaded_error", retry_after=0)] * 2, {"max_retries": 1}, False),
    "reset": ([Reset()], {}, True),
    "reset retried": ([Reset(), Reset()], {"max_retries": 1}, True),
    "timeout": ([Reply(delay=UNTIL_STOPPED)], {"timeout": 0.05}, True),
    "malformed 200": ([Malformed(status=200)], {}, False),
}

MID_STREAM: dict[str, tuple[Answers, dict[str, Any], bool]] = {
    "cut short": ([Stream(text="a long enough reply", text_chunk=2, cut_after=5)], {}, True),
    "error event": (
        [Stream(error_event={"type": "overloaded_error", "message": "Overloaded"}, cut_after=4)],
        {},
        False,
    ),
    "read timeout": ([Stream(text="slow reply", pause=UNTIL_STOPPED)], {"timeout": 0.05}, True),
}

SyncCall = Callable[[AnthropicAdapter], object]
AsyncCall = Callable[[AnthropicAdapter], Awaitable[object]]


def _stream(adapter: AnthropicAdapter) -> object:
    with adapter.stream(CHAT, **OPTIONS) as stream:
        return list(stream)


async def _astream(adapter: AnthropicAdapter) -> object:
    async with adapter.astream(CHAT, **OPTIONS) as stream:
        return [event async for event in stream]


async def _asend(adapter: AnthropicAdapter) -> object:
    return await adapter.asend(CHAT, **OPTIONS)


async def _acount(adapter: AnthropicAdapter) -> object:
    return await adapter.acount_tokens(CHAT, **OPTIONS)


SYNC: dict[str, SyncCall] = {
    "send": lambda adapter: adapter.send(CHAT, **OPTIONS),
    "count_tokens": lambda adapter: adapter.count_tokens(CHAT, **OPTIONS),
    "stream": _stream,
}
ASYNC: dict[str, AsyncCall] = {"asend": _asend, "acount_tokens": _acount, "astream": _astream}


def _adapter(base_url: str, options: dict[str, Any]) -> AnthropicAdapter:
    return AnthropicAdapter(
        api_key=KEY,
        base_url=base_url,
        max_retries=options.get("max_retries", 0),
        timeout=options.get("timeout", 10.0),
        retry=RetryPolicy(sleep=lambda _: None, async_sleep=_no_wait),
    )


async def _no_wait(_: float) -> None:
    return None


def _cases(calls: Mapping[str, Callable[..., object]], stream: str) -> list[Any]:
    """Each call against each failure before the answer; the stream also against each mid-stream."""
    cases = [
        pytest.param(call, *case, id=f"{name}-{label}")
        for name, call in calls.items()
        for label, case in PRE_ANSWER.items()
    ]
    cases += [
        pytest.param(calls[stream], *case, id=f"{stream}-{label}")
        for label, case in MID_STREAM.items()
    ]
    return cases


_FIELDS = ("call", "answers", "options", "chained")


@pytest.mark.parametrize(_FIELDS, _cases(SYNC, "stream"))
def test_errors_hold_no_key(
    fake_api: FakeMessagesAPI,
    call: SyncCall,
    answers: Answers,
    options: dict[str, Any],
    chained: bool,
) -> None:
    fake_api.queue(*answers)
    with _adapter(fake_api.base_url, options) as adapter, pytest.raises(ConversationError) as c:
        call(adapter)
    assert_no_key(c.value, chained)


@pytest.mark.anyio
@pytest.mark.parametrize(_FIELDS, _cases(ASYNC, "astream"))
async def test_async_errors_hold_no_key(
    fake_api: FakeMessagesAPI,
    call: AsyncCall,
    answers: Answers,
    options: dict[str, Any],
    chained: bool,
) -> None:
    fake_api.queue(*answers)
    async with _adapter(fake_api.base_url, options) as adapter:
        with pytest.raises(ConversationError) as caught:
            await call(adapter)
    assert_no_key(caught.value, chained)


@pytest.mark.parametrize("call", SYNC.values(), ids=SYNC.keys())
def test_a_refused_connection_holds_no_key(call: SyncCall) -> None:
    adapter = _adapter(f"http://127.0.0.1:{_refused_port()}", {})
    with adapter, pytest.raises(ConversationError) as caught:
        call(adapter)
    assert_no_key(caught.value, chained=True)


def test_the_walk_reaches_the_chained_request(fake_api: FakeMessagesAPI) -> None:
    """The walk is not vacuous: the chained httpx error and its request are reached, their
    headers still say which headers were sent, and the key's header is masked."""
    fake_api.queue(Reset())
    with _adapter(fake_api.base_url, {}) as adapter, pytest.raises(ConversationError) as c:
        adapter.send(CHAT, **OPTIONS)
    assert _request_error_in_chain(c.value)
    cause = c.value.__cause__
    assert isinstance(cause, httpx.RequestError)
    assert cause.request.headers["x-api-key"] == "[secure]"
    assert cause.request.headers["anthropic-version"]
    assert b'"Hello"' in cause.request.content
    texts = list(reachable_text(c.value))
    assert any("[secure]" in text for text in texts)


def test_the_walk_finds_a_key_left_in_a_request() -> None:
    """The check itself: a chained request holding the key is caught."""
    request = httpx.Request("POST", "http://127.0.0.1/v1/messages", headers={"x-api-key": KEY})
    error = ConversationError("boom")
    error.__cause__ = httpx.ConnectError("refused", request=request)
    with pytest.raises(AssertionError, match="the key is reachable"):
        assert_no_key(error)
    error.__cause__ = httpx.ConnectError("refused", request=scrub_request(request, (KEY,)))
    assert_no_key(error)
