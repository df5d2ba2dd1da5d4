"""The :class:`Tool` value (a tool definition with the function that runs it) and
its construction from a typed function (:meth:`Tool.from_function`, ``@tool``).

It is apart from the loop that runs tool calls (``tools.py``): a Tool is a
value that knows how to call its function once; the loop decides when.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, overload

import anyio
import anyio.to_thread
import attrs

from ._fields import as_cache_control
from ._json import FrozenDict, freeze, thaw
from ._schema import function_spec, is_tool_name
from ._structure import structure_args
from .errors import ArgumentError, MalformedInputError

__all__ = ["Tool", "tool"]


# -- the Tool value -----------------------------------------------------------------


def _check_name(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not is_tool_name(value):
        raise MalformedInputError(
            f"a tool name must be 1 to 64 letters, digits, '_' or '-', got {value!r}",
            "$.name",
        )


def _check_description(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, str):
        raise MalformedInputError(
            f"a tool description must be a str, got {type(value).__name__}", "$.description"
        )


def _input_schema(value: Any) -> FrozenDict:
    if not isinstance(value, Mapping):
        raise MalformedInputError(
            f"input_schema must be a JSON Schema object, got {type(value).__name__}",
            "$.input_schema",
        )
    frozen: FrozenDict = freeze(dict(value), "$.input_schema")
    if frozen.get("type") != "object":
        raise MalformedInputError(
            f'input_schema must have "type": "object" at its top, got {frozen.get("type")!r}; '
            "wrap a single value in an object with one property",
            "$.input_schema.type",
        )
    return frozen


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an object with an async __call__
    )


@attrs.frozen
class Tool:
    """A client tool: its definition as the API takes it, and the function that runs it.

    ``name`` (``^[a-zA-Z0-9_-]{1,64}$``), ``description`` and ``input_schema``
    (a JSON Schema object, kept frozen) are what the model sees
    (:meth:`to_wire`); ``cache_control`` marks a prompt-cache breakpoint.
    ``fn`` runs a call and ``parameters`` maps its parameter names to type
    hints, so arguments are structured (dataclass, attrs, NamedTuple and
    pydantic instances, TypedDict dicts, Enum members...) before the call;
    both are left out of equality, repr and the wire. A Tool without ``fn``
    is a definition only (for a forced "JSON mode" tool, say).
    Calling the Tool calls ``fn`` directly.
    """

    name: str = attrs.field(validator=_check_name)
    description: str | None = attrs.field(default=None, validator=_check_description)
    input_schema: FrozenDict = attrs.field(
        factory=lambda: FrozenDict({"type": "object", "properties": {}}),
        converter=_input_schema,
        repr=False,
    )
    cache_control: FrozenDict | None = attrs.field(
        default=None, converter=as_cache_control, kw_only=True
    )
    fn: Callable[..., Any] | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)
    parameters: Mapping[str, Any] | None = attrs.field(
        default=None, eq=False, repr=False, kw_only=True
    )
    required: frozenset[str] | None = attrs.field(default=None, eq=False, repr=False, kw_only=True)

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        cache_control: Mapping[str, Any] | None = None,
    ) -> Tool:
        """A Tool from a typed function (sync or async).

        The name is the function's ``__name__`` unless given; the description
        is its docstring's first paragraph unless given; the schema comes from
        its parameters' hints, with ``Args:`` entries of the docstring as
        property descriptions. Raises :class:`SchemaError` naming any
        parameter whose hint cannot be sent as JSON.
        """
        if not callable(fn):
            raise MalformedInputError(f"a tool needs a function, got {type(fn).__name__}")
        spec = function_spec(fn, name=name)
        return cls(
            spec.name,
            description if description is not None else spec.description,
            spec.input_schema,
            cache_control=cache_control,
            fn=fn,
            parameters=spec.types,
            required=spec.required,
        )

    def to_wire(self) -> dict[str, Any]:
        """The tool definition as the request's ``tools`` list takes it (plain JSON)."""
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out["input_schema"] = thaw(self.input_schema)
        if self.cache_control is not None:
            out["cache_control"] = thaw(self.cache_control)
        return out

    def arguments(self, input: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for ``fn`` from a tool_use ``input``.

        Raises :class:`ArgumentError` (naming each field) when they do not fit.
        A Tool made without ``parameters`` passes the input on as plain JSON.
        """
        if self.parameters is None:
            if not isinstance(input, Mapping):
                raise ArgumentError([("$", "expected a JSON object of arguments")])
            return dict(thaw(input))
        return structure_args(self.parameters, input, required=self.required)

    def call(self, input: Mapping[str, Any]) -> Any:
        """Run the tool on a tool_use ``input``: structure the arguments, call ``fn``.

        An async ``fn`` is run to completion on its own event loop (from a
        thread with no running loop; use :meth:`acall` inside one).
        """
        return self.invoke(self.arguments(input))

    async def acall(self, input: Mapping[str, Any]) -> Any:
        """Like :meth:`call`, awaited; a sync ``fn`` runs in a worker thread."""
        return await self.ainvoke(self.arguments(input))

    def invoke(self, kwargs: Mapping[str, Any]) -> Any:
        """Call ``fn`` with already-structured keyword arguments."""
        fn = self._function()
        if _is_async(fn):
            return anyio.run(partial(_await, fn, dict(kwargs)))
        return fn(**kwargs)

    async def ainvoke(self, kwargs: Mapping[str, Any]) -> Any:
        """Await ``fn`` (or run a sync one in a worker thread) with structured arguments.

        A sync function in its thread is abandoned, not stopped, if the caller
        is cancelled (a timeout): Python cannot stop a thread.
        """
        fn = self._function()
        if _is_async(fn):
            return await fn(**kwargs)
        return await anyio.to_thread.run_sync(partial(fn, **kwargs), abandon_on_cancel=True)

    def _function(self) -> Callable[..., Any]:
        if self.fn is None:
            raise MalformedInputError(
                f"tool {self.name!r} is a definition only: it has no function to run"
            )
        return self.fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the function itself, as if it had not been decorated."""
        return self._function()(*args, **kwargs)


async def _await(fn: Callable[..., Awaitable[Any]], kwargs: dict[str, Any]) -> Any:
    return await fn(**kwargs)


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    cache_control: Mapping[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    cache_control: Mapping[str, Any] | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a function a :class:`Tool`: ``@tool`` or ``@tool(name=..., description=...)``."""
    if fn is not None:
        return Tool.from_function(
            fn, name=name, description=description, cache_control=cache_control
        )
    return partial(
        Tool.from_function, name=name, description=description, cache_control=cache_control
    )
