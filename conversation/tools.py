"""Client tools: Python functions the model can call, and the loop that runs them.

A :class:`Tool` is a tool definition (name, description, JSON Schema of its
input) together with the function that runs it. Make one from a typed,
documented function::

    @tool
    def get_weather(location: str, unit: Literal["c", "f"] = "c") -> str:
        \"\"\"Current weather for a city.

        Args:
            location: The city, e.g. Paris.
            unit: Celsius or Fahrenheit.
        \"\"\"
        ...

``get_weather`` is now a Tool (still callable as the function); pass it as a
request option (``adapter.send(c, tools=[get_weather])``) or let
:func:`run_tools` drive the tool-use loop::

    chat = run_tools(Conversation().user("Weather in Paris?"), adapter, [get_weather],
                     model="claude-sonnet-4-5", max_tokens=1024)

The loop sends; while the reply's ``stop_reason`` is ``"tool_use"`` it runs
every ``tool_use`` of that turn and appends ONE user turn of their results, in
the same order, then sends again. A tool's failure (an exception, an unknown
name, arguments that do not fit, a timeout) becomes a ``tool_result`` with
``is_error: true`` telling the model what went wrong, not a crash. With
``raise_errors=True`` an exception raised by the program's own tool function
(a bug, not the model's mistake) is raised instead, as :class:`ToolCallError`
with the original exception as its ``__cause__``.

A reply that stops with ``"pause_turn"`` (a server tool such as web search
ran long) is sent back as it is, so the model goes on where it paused; each
such request counts towards ``max_steps``.

Every step is an ordinary Conversation value, so a loop resumes from any of
them: given a conversation whose last turn is an assistant turn asking for
tools (``stop_reason`` ``"tool_use"``, or a synthetic turn holding ``tool_use``
blocks), :func:`run_tools` runs those tools first instead of sending. That is
how to carry on after :class:`ToolLoopError` (``run_tools(err.conversation,
...)``) or from a conversation saved mid-loop.

The loop's decisions (send, run calls, stop, raise) are written once, as a
plan (``_plan``); :func:`run_tools` and :func:`arun_tools` only do its steps,
blocking or awaited (see ``conversation._steps``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeAlias

import anyio
import attrs
import orjson

from ._blocks import BLOCK_CLASSES, Block, ToolResult, ToolUse
from ._conversation import Conversation
from ._json import freeze, thaw
from ._schema import schema_for
from ._steps import AsyncSender, Plan, Sender, adrive, drive
from ._structure import structure, structure_args, to_plain
from ._timeout import TimedOut as _TimedOut
from ._timeout import in_thread as _in_thread
from ._tool import Tool, tool
from ._turn import Turn
from .errors import (
    ArgumentError,
    MalformedInputError,
    SchemaError,
    ToolCallError,
    ToolLoopError,
)

__all__ = [
    "ArgumentError",
    "AsyncSender",
    "SchemaError",
    "Sender",
    "Tool",
    "ToolCallError",
    "ToolLike",
    "ToolLoopError",
    "arun_tools",
    "is_paused",
    "pending_tool_uses",
    "run_tools",
    "schema_for",
    "structure",
    "structure_args",
    "tool",
]


# -- running tool calls -------------------------------------------------------------

ToolLike: TypeAlias = Tool | Callable[..., Any] | Mapping[str, Any]
"""What the ``tools`` of :func:`run_tools` may hold: a Tool, a typed function
(made a Tool), or a wire definition dict (a server or built-in tool: sent, never run)."""


@attrs.frozen
class _Toolbox:
    """The tools of one loop: the request's ``tools`` option and a name -> Tool map."""

    definitions: tuple[dict[str, Any], ...]
    runnable: Mapping[str, Tool]

    @classmethod
    def of(cls, tools: Iterable[ToolLike]) -> _Toolbox:
        if isinstance(tools, Tool | Mapping) or not isinstance(tools, Iterable):
            raise MalformedInputError(
                f"tools must be a list of tools, got {type(tools).__name__}; "
                "for one tool write [tool]"
            )
        definitions: list[dict[str, Any]] = []
        runnable: dict[str, Tool] = {}
        names: set[str] = set()
        for index, item in enumerate(tools):
            if isinstance(item, Tool):
                made: Tool | None = item
                definition = item.to_wire()
            elif isinstance(item, Mapping):
                made, definition = None, dict(thaw(freeze(dict(item), f"$.tools[{index}]")))
            elif callable(item):
                made = Tool.from_function(item)
                definition = made.to_wire()
            else:
                raise MalformedInputError(
                    f"expected a Tool, a function or a tool definition dict, "
                    f"got {type(item).__name__}",
                    f"$.tools[{index}]",
                )
            tool_name = definition.get("name")
            if tool_name in names:
                raise MalformedInputError(
                    f"two tools are named {tool_name!r}; tool names must be unique",
                    f"$.tools[{index}]",
                )
            if isinstance(tool_name, str):
                names.add(tool_name)
            if made is not None:
                runnable[made.name] = made
            definitions.append(definition)
        return cls(tuple(definitions), runnable)

    def options(self, options: dict[str, Any]) -> dict[str, Any]:
        return {**options, "tools": list(self.definitions)} if self.definitions else options


def _error(use: ToolUse, message: str) -> ToolResult:
    return ToolResult(use.id, message, is_error=True)


def _exception_text(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _result_content(value: Any) -> str | tuple[Block, ...] | None:
    """A tool's return value as tool_result content.

    A str is text (an empty one: no content), a block or a list of blocks is
    block content, None is no content, and anything else is written as JSON
    (attrs instances as objects, Enum members as their values).
    """
    if value is None or (isinstance(value, str) and not value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, BLOCK_CLASSES):
        return (value,)  # type: ignore[return-value]
    if (
        isinstance(value, list | tuple)
        and value
        and all(isinstance(item, BLOCK_CLASSES) for item in value)
    ):
        return tuple(value)
    try:
        return orjson.dumps(to_plain(value)).decode("utf-8")
    except TypeError as exc:
        raise TypeError(
            f"the tool returned a {type(value).__name__}, which cannot be written as JSON "
            f"({exc}); return a str, content blocks, or JSON data"
        ) from None


def _prepare(use: ToolUse, toolbox: _Toolbox) -> tuple[Tool, dict[str, Any]] | ToolResult:
    """The tool and its structured arguments, or the error result that answers ``use``."""
    found = toolbox.runnable.get(use.name)
    if found is None:
        known = ", ".join(sorted(toolbox.runnable)) or "none"
        return _error(use, f"unknown tool {use.name!r}; the tools that can be run are: {known}")
    if found.fn is None:
        return _error(use, f"tool {use.name!r} has no function to run here")
    try:
        return found, found.arguments(use.input)
    except ArgumentError as exc:
        return _error(use, f"invalid arguments for {use.name}: {exc}")


class _Failed(Exception):
    """A tool function's exception, carried out of a runner to be raised by the loop."""

    def __init__(self, use: ToolUse, error: Exception) -> None:
        super().__init__(use.name)
        self.use = use
        self.error = error


def _failed(use: ToolUse, exc: Exception, raise_errors: bool) -> ToolResult:
    """The error result answering ``use`` for ``exc``; raises :class:`_Failed` when asked to.

    An :class:`ArgumentError` raised inside the function (a computer action
    the model got wrong, say) is the model's mistake and is always answered.
    """
    if raise_errors and not isinstance(exc, ArgumentError):
        raise _Failed(use, exc) from exc
    return _error(use, _exception_text(exc))


def _finish(use: ToolUse, value: Any, raise_errors: bool) -> ToolResult:
    try:
        return ToolResult(use.id, _result_content(value))
    except Exception as exc:
        return _failed(use, exc, raise_errors)


def _call_error(conversation: Conversation, failed: _Failed) -> ToolCallError:
    use, error = failed.use, failed.error
    return ToolCallError(
        f"tool {use.name!r} (tool_use {use.id}) raised {_exception_text(error)}; "
        "the original exception is __cause__, and error.conversation ends with the "
        "unanswered call: fix the tool and pass it to run_tools again to go on",
        conversation=conversation,
        tool_use=use,
    )


def _timed_out(use: ToolUse, timeout: float) -> ToolResult:
    return _error(use, f"{use.name} timed out after {timeout:g} s")


def _run_one(
    use: ToolUse, toolbox: _Toolbox, timeout: float | None, raise_errors: bool
) -> ToolResult:
    prepared = _prepare(use, toolbox)
    if isinstance(prepared, ToolResult):
        return prepared
    found, kwargs = prepared
    try:
        if timeout is None:
            value = found.invoke(kwargs)
        else:
            value = _in_thread(partial(found.invoke, kwargs), timeout, use.name)
    except _TimedOut:
        return _timed_out(use, timeout or 0.0)
    except Exception as exc:
        return _failed(use, exc, raise_errors)
    return _finish(use, value, raise_errors)


async def _arun_one(
    use: ToolUse, toolbox: _Toolbox, timeout: float | None, raise_errors: bool
) -> ToolResult:
    prepared = _prepare(use, toolbox)
    if isinstance(prepared, ToolResult):
        return prepared
    found, kwargs = prepared
    try:
        with anyio.move_on_after(timeout) as scope:
            value = await found.ainvoke(kwargs)
    except Exception as exc:
        return _failed(use, exc, raise_errors)
    if scope.cancelled_caught:
        return _timed_out(use, timeout or 0.0)
    return _finish(use, value, raise_errors)


def pending_tool_uses(conversation: Conversation) -> tuple[ToolUse, ...]:
    """The tool calls the last turn asks to be run, in order; empty if it asks none.

    That is the ``tool_use`` blocks of a last assistant turn whose reply
    stopped for them (``stop_reason`` ``"tool_use"``) or that the program
    wrote itself (synthetic). A reply cut off at ``max_tokens`` asks nothing:
    its last call may be incomplete.
    """
    return asked_calls(conversation.last)


def asked_calls(turn: Turn | None) -> tuple[ToolUse, ...]:
    """The tool calls ``turn`` asks to be run (see :func:`pending_tool_uses`); empty if none."""
    if turn is None or turn.role != "assistant":
        return ()
    provenance = turn.provenance
    if provenance is not None and provenance.replies and provenance.stop_reason != "tool_use":
        return ()
    return tuple(block for block in turn.blocks if type(block) is ToolUse)


def _check_limits(max_steps: int, tool_timeout: float | None, raise_errors: bool) -> None:
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise MalformedInputError(f"max_steps must be an int of at least 1, got {max_steps!r}")
    if tool_timeout is not None and (
        isinstance(tool_timeout, bool)
        or not isinstance(tool_timeout, int | float)
        or not tool_timeout > 0
    ):
        raise MalformedInputError(f"tool_timeout must be seconds > 0, got {tool_timeout!r}")
    if not isinstance(raise_errors, bool):
        raise MalformedInputError(f"raise_errors must be True or False, got {raise_errors!r}")


def is_paused(conversation: Conversation) -> bool:
    """True when the last turn is a reply that stopped with ``"pause_turn"``.

    A server tool (web search, code execution...) ran long and the API paused
    the turn; sending the conversation again as it is lets the model go on.
    """
    last = conversation.last
    return (
        last is not None
        and last.role == "assistant"
        and last.provenance is not None
        and last.provenance.stop_reason == "pause_turn"
    )


def _loop_error(conversation: Conversation, steps: int) -> ToolLoopError:
    names = ", ".join(u.name for u in pending_tool_uses(conversation))
    doing = f"asked for tools ({names})" if names else "paused its turn (pause_turn)"
    return ToolLoopError(
        f"the model still {doing} after {steps} requests (max_steps); "
        "error.conversation holds the loop so far: pass it to run_tools again to go on",
        conversation=conversation,
        steps=steps,
    )


@attrs.frozen
class _Send:
    """A step of the tool loop: send ``conversation`` (its outcome: the reply folded in)."""

    conversation: Conversation


@attrs.frozen
class _RunCalls:
    """A step of the tool loop: run ``calls`` (its outcome: a result or failure per call).

    A sync run may stop at the first failure, so fewer outcomes than calls come back.
    """

    calls: tuple[ToolUse, ...]


def _setup(
    tools: Iterable[ToolLike],
    max_steps: int,
    tool_timeout: float | None,
    raise_errors: bool,
    options: dict[str, Any],
) -> tuple[_Toolbox, dict[str, Any]]:
    """The loop's tools and the options of each request, once its limits are checked."""
    _check_limits(max_steps, tool_timeout, raise_errors)
    toolbox = _Toolbox.of(tools)
    return toolbox, toolbox.options(options)


def _plan(conversation: Conversation, max_steps: int) -> Plan[Any, Any, Conversation]:
    """The tool loop's decisions: what to send or run next, when to stop, what to raise."""
    current, sent = conversation, 0
    while True:
        calls = pending_tool_uses(current)
        if calls or is_paused(current):
            if sent >= max_steps:
                raise _loop_error(current, sent)
            if calls:
                outcomes: list[ToolResult | _Failed] = yield _RunCalls(calls)
                for outcome in outcomes:
                    if isinstance(outcome, _Failed):
                        raise _call_error(current, outcome) from outcome.error
                current = current.user(outcomes)
        elif sent:
            return current
        current = yield _Send(current)
        sent += 1


def run_tools(
    conversation: Conversation,
    adapter: Sender,
    tools: Iterable[ToolLike],
    *,
    max_steps: int = 8,
    tool_timeout: float | None = None,
    raise_errors: bool = False,
    **options: Any,
) -> Conversation:
    """Send ``conversation`` and run the tools the model asks for until it stops asking.

    Each request carries ``options`` plus ``tools`` (every tool's definition).
    While a reply stops for ``tool_use``, each of its calls is run in order
    and one user turn of their ``tool_result`` blocks (same order) is
    appended and sent. Returns the conversation with the model's final reply.

    A failing call is answered, not raised: an exception becomes
    ``"<ExcType>: <message>"``, an unknown tool, arguments that do not fit the
    schema and a call running over ``tool_timeout`` seconds each an error
    result saying so (an overrunning call is left running in a daemon thread).
    ``raise_errors=True`` raises :class:`ToolCallError` instead when a tool
    function raises (or returns what cannot be sent): the tool's exception is
    its ``__cause__`` and ``.conversation`` ends with the unanswered call, so
    the loop can be resumed; unknown tools, arguments that do not fit and
    timeouts are the model's or the clock's, and stay error results.

    A reply with ``stop_reason`` ``"pause_turn"`` is sent back as it is so the
    server tool goes on; its continuation joins the same assistant turn.
    After ``max_steps`` requests that all asked for tools (or paused), raises
    :class:`ToolLoopError` with ``.conversation``. A conversation whose last
    turn already asks for tools has them run first, and one whose last turn is
    paused is sent as it is (see the module docs). Adapter errors propagate
    unchanged; the caller's conversation is a value and is never changed.
    """
    toolbox, request = _setup(tools, max_steps, tool_timeout, raise_errors, options)

    def do(step: _Send | _RunCalls) -> Any:
        if isinstance(step, _Send):
            return adapter.send(step.conversation, **request)
        return _run_all(step.calls, toolbox, tool_timeout, raise_errors)

    return drive(_plan(conversation, max_steps), do)


async def arun_tools(
    conversation: Conversation,
    adapter: AsyncSender,
    tools: Iterable[ToolLike],
    *,
    max_steps: int = 8,
    tool_timeout: float | None = None,
    raise_errors: bool = False,
    **options: Any,
) -> Conversation:
    """:func:`run_tools` with ``await adapter.asend``, running a turn's calls concurrently.

    Async tools run as tasks of one task group, sync tools in worker threads;
    results are still appended in the order of the calls. ``tool_timeout``
    cancels an async call and stops waiting for a sync one. With
    ``raise_errors=True`` every call of the turn runs to its end, then the
    first failure in call order is raised as :class:`ToolCallError`.
    """
    toolbox, request = _setup(tools, max_steps, tool_timeout, raise_errors, options)

    async def do(step: _Send | _RunCalls) -> Any:
        if isinstance(step, _Send):
            return await adapter.asend(step.conversation, **request)
        return await _arun_all(step.calls, toolbox, tool_timeout, raise_errors)

    return await adrive(_plan(conversation, max_steps), do)


def _run_all(
    calls: Sequence[ToolUse], toolbox: _Toolbox, timeout: float | None, raise_errors: bool
) -> list[ToolResult | _Failed]:
    """Run the calls one after another, stopping at the first failure to raise."""
    outcomes: list[ToolResult | _Failed] = []
    for use in calls:
        try:
            outcomes.append(_run_one(use, toolbox, timeout, raise_errors))
        except _Failed as failed:
            outcomes.append(failed)
            break
    return outcomes


async def _arun_all(
    calls: Sequence[ToolUse], toolbox: _Toolbox, timeout: float | None, raise_errors: bool
) -> list[ToolResult | _Failed]:
    """Run the calls concurrently, each to its end; outcomes in the order of the calls."""
    results: list[ToolResult | _Failed | None] = [None] * len(calls)

    async def run(index: int, use: ToolUse) -> None:
        try:
            results[index] = await _arun_one(use, toolbox, timeout, raise_errors)
        except _Failed as failed:
            results[index] = failed

    async with anyio.create_task_group() as group:
        for index, use in enumerate(calls):
            group.start_soon(run, index, use)
    return [r for r in results if r is not None]
