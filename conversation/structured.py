"""Structured output: ask the model for JSON of a given shape and get it back typed.

>>> from adapters.scripted import ScriptedAdapter
>>> from conversation import Conversation
>>> bot = ScriptedAdapter([{"content": [{"type": "tool_use", "id": "toolu_1",
...     "name": "record_result", "input": {"city": "Paris"}}]}])
>>> schema = {"type": "object", "properties": {"city": {"type": "string"}}}
>>> extract(Conversation().user("Where is the Louvre?"), bot, schema).value
{'city': 'Paris'}

Two ways to ask, chosen by ``method``:

``"tool"`` (the default; the API's own "JSON mode")
    One tool is defined whose ``input_schema`` is the target's schema, and the
    request forces it with ``tool_choice={"type": "tool", "name": ...}``. The
    model's ``tool_use.input`` is the JSON. The returned conversation ends with
    that assistant ``tool_use`` turn, unanswered: it is the faithful record of
    what the model did, and the caller decides what comes next: branch from
    the conversation given to :func:`extract`, or continue with
    :meth:`Extraction.next_user`, which answers the tool_use first (the API
    rejects a tool_use left unanswered).

``"prefill"`` (where tools are not wanted, or not supported)
    The conversation gets an assistant prefill ``{`` and the model continues
    the JSON object; the folded conversation has ONE assistant turn holding the
    whole object (its ``provenance.prefill`` records the ``{``). The text is
    parsed up to the end of the first JSON value; anything after it is
    ignored. The model only sees the schema if you describe it yourself, or
    pass ``instruct=True``, which appends a short instruction holding the
    schema to the last user turn (kept in the returned conversation: it was
    sent).

The target is a class people write for JSON objects (an attrs class, a
dataclass, a ``NamedTuple``, a ``TypedDict``, or a pydantic model when
pydantic is installed) or another type hint the schema builder knows, such as
``list[Invoice]``, ``dict[str, int]``, an Enum, a Literal or an Optional. It is
structured into an instance by the strict converter of ``conversation._structure``
(written for the schemas ``conversation._schema`` builds); a pydantic model gives its own JSON
schema and is validated by its own ``model_validate``, its errors reported by
``$.path`` like any other. Or the target is a JSON Schema ``dict``, whose
value is the validated JSON itself. A tool's
``input_schema`` must be an object, so a target whose schema is not an object
(``list[Invoice]``) is asked for wrapped in an object with the one property
``"value"`` and unwrapped on the way back; ``method="prefill"`` then prefills
``{"value":``. (``dict[str, int]`` has an object schema and is not wrapped.)

The JSON is checked against the schema before it is structured, so every
target reports a mismatch the same way (``$.items[1].price: expected a
number, got a string "2"``) and a value of the wrong JSON type is reported,
not coerced (a plain cattrs converter would turn ``12`` into ``"12"``). The
checker implements the part of JSON Schema that schemas of Python types use:
``type``, ``properties``, ``required``, ``additionalProperties``, ``items``,
``enum``, ``const``, ``anyOf``/``oneOf`` (both read as "any of"), ``allOf``
and local ``$ref`` (``#/$defs/...``). Other keywords (``minimum``,
``pattern``, ``prefixItems``...) reach the model but are not checked here;
for a type target the strict structuring checks the rest (a tuple's length,
the class's own validators).

Everything that goes wrong with the model's output raises
:class:`ExtractionError` carrying the raw output and the conversation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Final, Generic, Literal, TypeVar, overload

import attrs

from ._blocks import Block, Text, ToolResult, ToolUse
from ._conversation import Conversation
from ._json import thaw
from ._jsonschema import dangling_refs, problems
from ._schema import is_tool_name, schema_for
from ._steps import AsyncSender, Sender
from ._structure import structure
from ._wire import coerce_blocks
from .errors import ArgumentError, ExtractionError, MalformedInputError, quote

__all__ = ["WRAPPER", "Extraction", "ExtractionError", "Method", "aextract", "extract"]

T = TypeVar("T")

Method = Literal["tool", "prefill"]
"""How :func:`extract` asks for the JSON: a forced tool, or an assistant prefill."""

WRAPPER: Final = "value"
"""The one property a non-object target is wrapped in (a tool's input must be an object)."""

_MAX_PROBLEMS = 10


@attrs.frozen
class Extraction(Generic[T]):
    """What :func:`extract` read from the model.

    ``value`` is the structured result (an instance of the target type, or the
    JSON itself for a schema dict); ``raw`` is the output as received (the
    tool's input dict, or the assistant turn's text from the prefill on,
    trailing text included); ``conversation`` is the conversation sent, with
    the reply folded in.
    """

    value: T
    raw: Any
    conversation: Conversation

    def next_user(self, content: str | Block | Mapping[str, Any] | Iterable[Any]) -> Conversation:
        """The conversation continued with a user turn holding ``content``.

        After ``method="tool"`` the last turn is an unanswered ``tool_use``,
        which the API rejects in a history; the new user turn then starts with
        a ``tool_result`` ("Recorded.") for each tool_use, as the API requires,
        followed by ``content``.
        """
        last = self.conversation.last
        calls = () if last is None else tuple(b for b in last.blocks if type(b) is ToolUse)
        answers = [ToolResult(call.id, "Recorded.") for call in calls]
        return self.conversation.user([*answers, *coerce_blocks(content)])


# -- the public calls --------------------------------------------------------------------


@overload
def extract(
    conversation: Conversation,
    adapter: Sender,
    target: type[T],
    *,
    method: Method = ...,
    tool_name: str | None = ...,
    instruct: bool = ...,
    **options: Any,
) -> Extraction[T]: ...
@overload
def extract(
    conversation: Conversation,
    adapter: Sender,
    target: Any,
    *,
    method: Method = ...,
    tool_name: str | None = ...,
    instruct: bool = ...,
    **options: Any,
) -> Extraction[Any]: ...
def extract(
    conversation: Conversation,
    adapter: Sender,
    target: Any,
    *,
    method: Method = "tool",
    tool_name: str | None = None,
    instruct: bool = False,
    **options: Any,
) -> Extraction[Any]:
    """Ask the model, through ``adapter``, for a value of ``target``'s shape.

    ``target`` is an attrs class, a dataclass, a NamedTuple, a TypedDict, a
    pydantic model or another type hint, or a JSON Schema dict (the value is
    the checked JSON). A type's schema and its structuring are written for
    each other (``schema_for`` of ``conversation._schema`` and the strict
    cattrs converter of ``conversation._structure``), so what the schema
    promises is what is accepted.
    ``method`` is ``"tool"`` or ``"prefill"`` (see the module docstring);
    ``tool_name`` names the forced tool (default ``record_<Target>``, or
    ``record_<title>`` for a schema with a ``title``); ``instruct=True``
    (prefill only) adds the schema to the last user turn. ``options`` are
    request fields passed to ``adapter.send`` (``model``, ``max_tokens``...).

    Raises :class:`ExtractionError` when the output cannot be read as the
    target; :class:`MalformedInputError` (or the schema builder's
    ``SchemaError``, for a type it cannot describe) for arguments that cannot
    work, before anything is sent; and whatever the adapter raises.
    """
    request = _prepare(conversation, target, method, tool_name, instruct, options)
    return _read(request, adapter.send(request.conversation, **request.options))


@overload
async def aextract(
    conversation: Conversation,
    adapter: AsyncSender,
    target: type[T],
    *,
    method: Method = ...,
    tool_name: str | None = ...,
    instruct: bool = ...,
    **options: Any,
) -> Extraction[T]: ...
@overload
async def aextract(
    conversation: Conversation,
    adapter: AsyncSender,
    target: Any,
    *,
    method: Method = ...,
    tool_name: str | None = ...,
    instruct: bool = ...,
    **options: Any,
) -> Extraction[Any]: ...
async def aextract(
    conversation: Conversation,
    adapter: AsyncSender,
    target: Any,
    *,
    method: Method = "tool",
    tool_name: str | None = None,
    instruct: bool = False,
    **options: Any,
) -> Extraction[Any]:
    """Like :func:`extract`, through ``await adapter.asend(...)``."""
    request = _prepare(conversation, target, method, tool_name, instruct, options)
    return _read(request, await adapter.asend(request.conversation, **request.options))


# -- the target ----------------------------------------------------------------------------


@attrs.frozen
class _Target:
    """What is asked for, and how its JSON becomes the value.

    ``schema`` is the target's own schema (values are checked against it);
    ``sent`` is the object schema the model is given (``schema`` itself, or
    it wrapped in ``{"value": ...}`` when ``wrapped``). ``name`` goes into the
    default tool name, ``shown`` into error messages.
    """

    schema: dict[str, Any]
    sent: dict[str, Any]
    wrapped: bool
    build: Callable[[Any], Any]
    name: str
    shown: str
    description: str


def _target(target: Any) -> _Target:
    if isinstance(target, Mapping):
        schema = thaw(target)
        _check_schema(schema)
        name = schema.get("title") if isinstance(schema.get("title"), str) else "result"
        shown = "the schema" if name == "result" else f"the schema {name!r}"
        build: Callable[[Any], Any] = _same
    else:
        schema = schema_for(target, where="the extraction target")
        name = target.__name__ if isinstance(target, type) else "result"
        shown = target.__qualname__ if isinstance(target, type) else _show_hint(target)
        build = partial(structure, target)

    description = schema.get("description")  # an attrs class's docstring, via schema_for
    wrapped = schema.get("type") != "object"
    if wrapped:
        inner = {k: v for k, v in schema.items() if k not in ("$defs", "definitions")}
        sent = {"type": "object", "properties": {WRAPPER: inner}, "required": [WRAPPER]}
        sent.update({k: v for k, v in schema.items() if k in ("$defs", "definitions")})
    else:
        sent = schema
    if not isinstance(description, str) or not description:
        description = f"Record the {name} found in the conversation, in this exact shape."
    return _Target(schema, sent, wrapped, build, name, shown, description)


def _same(data: Any) -> Any:
    return data


def _show_hint(hint: Any) -> str:
    """A type hint as a person writes it: ``list[Invoice]``, without module prefixes."""
    return re.sub(r"(?<![\w.'\"])(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])", "", repr(hint))


def _check_schema(schema: Any) -> None:
    """Refuse a schema dict this module cannot check (a bad ``$ref``, a non-dict)."""
    if not isinstance(schema, dict):
        raise MalformedInputError("a JSON schema must be an object", "$.target")
    for ref in dangling_refs(schema)[:1]:
        raise MalformedInputError(
            f"the schema's $ref {ref!r} points nowhere in it (only local '#/...' "
            "references are supported)",
            "$.target",
        )


# -- the request -----------------------------------------------------------------------------


@attrs.frozen
class _Request:
    """One prepared extraction: what to send, and how to read what comes back."""

    conversation: Conversation
    options: dict[str, Any]
    method: Method
    tool_name: str
    target: _Target


def _prepare(
    conversation: Conversation,
    target: Any,
    method: str,
    tool_name: str | None,
    instruct: bool,
    options: dict[str, Any],
) -> _Request:
    if not isinstance(conversation, Conversation):
        raise MalformedInputError(
            f"extract() takes a Conversation, got {type(conversation).__name__}"
        )
    spec = _target(target)
    name = tool_name if tool_name is not None else _default_tool_name(spec.name)
    if not is_tool_name(name):
        raise MalformedInputError(
            f"tool_name must be 1-64 letters, digits, '_' or '-', got {name!r}", "$.tool_name"
        )
    if method == "tool":
        if instruct:
            raise MalformedInputError(
                "instruct=True is for method='prefill'; with method='tool' the schema "
                "already reaches the model as the tool's input_schema",
                "$.instruct",
            )
        for field in ("tools", "tool_choice"):
            if field in options:
                raise MalformedInputError(
                    f"{field!r} cannot be given to extract(method='tool'): it defines the "
                    "request's one tool and forces it",
                    f"$.{field}",
                )
        tool = {"name": name, "description": spec.description, "input_schema": spec.sent}
        sent_options = {
            **options,
            "tools": [tool],
            "tool_choice": {"type": "tool", "name": name},
        }
        return _Request(conversation, sent_options, "tool", name, spec)
    if method == "prefill":
        last = conversation.last
        if last is None or last.role != "user":
            raise MalformedInputError(
                "extract(method='prefill') needs a conversation that ends with a user turn "
                "(it appends the assistant prefill)",
                "$.conversation",
            )
        if instruct:
            conversation = conversation[:-1].user([*last.blocks, Text(_instruction(spec))])
        prefill = '{"' + WRAPPER + '":' if spec.wrapped else "{"
        return _Request(conversation.assistant(prefill), dict(options), "prefill", name, spec)
    raise MalformedInputError(f"method must be 'tool' or 'prefill', got {method!r}", "$.method")


def _default_tool_name(name: str) -> str:
    return ("record_" + re.sub(r"[^a-zA-Z0-9_-]", "_", name))[:64]


def _instruction(spec: _Target) -> str:
    schema = json.dumps(spec.sent, ensure_ascii=False, separators=(",", ":"))
    return (
        "Answer with one JSON object that matches this JSON Schema, and nothing after it:\n"
        + schema
    )


# -- reading the reply -----------------------------------------------------------------------


def _read(request: _Request, folded: Conversation) -> Extraction[Any]:
    last = folded.last
    if last is None or last.role != "assistant" or last.provenance is None:
        raise ExtractionError(
            "the adapter returned a conversation that does not end with the model's reply",
            raw=None,
            conversation=folded,
        )
    stop = last.provenance.stop_reason
    if request.method == "tool":
        calls = [b for b in last.blocks if type(b) is ToolUse and b.name == request.tool_name]
        raw: Any = calls[0].input if calls else last.text
        if stop == "max_tokens":
            # The API may send a truncated tool_use; its input cannot be trusted.
            raise _cut_off(request, raw, folded)
        if not calls:
            _refused(stop, raw, folded)
            raise ExtractionError(
                f"the model did not call the forced tool {request.tool_name!r} "
                f"(stop_reason {stop!r}); it wrote: {_said(last.text) or '(no text)'}",
                raw=raw,
                conversation=folded,
            )
        return _finish(request, raw, thaw(raw), folded)
    text = last.text
    _refused(stop, text, folded)
    try:
        data, _end = _DECODER.raw_decode(text)
    except RecursionError:
        raise ExtractionError(
            "the model's JSON is nested too deeply to read", raw=text, conversation=folded
        ) from None
    except ValueError as exc:
        if stop == "max_tokens":
            raise _cut_off(request, text, folded) from None
        raise ExtractionError(
            f"the model's output is not valid JSON: {_json_error(exc)}; it wrote: {_said(text)}",
            raw=text,
            conversation=folded,
        ) from None
    return _finish(request, text, data, folded)


def _finish(request: _Request, raw: Any, data: Any, folded: Conversation) -> Extraction[Any]:
    spec = request.target
    if spec.wrapped:
        if not isinstance(data, dict) or WRAPPER not in data:
            raise _mismatch(
                spec, raw, folded, [f"$: expected an object with the property {WRAPPER!r}"]
            )
        data = data[WRAPPER]
    found = problems(data, spec.schema)
    if found:
        raise _mismatch(spec, raw, folded, found)
    try:
        value = spec.build(data)
    except ArgumentError as exc:  # the strict structuring of conversation._structure
        raise _mismatch(spec, raw, folded, [f"{p}: {m}" for p, m in exc.problems]) from exc
    return Extraction(value, raw, folded)


def _mismatch(
    spec: _Target, raw: Any, folded: Conversation, problems: list[str]
) -> ExtractionError:
    shown = problems[:_MAX_PROBLEMS]
    more = len(problems) - len(shown)
    listing = "\n".join(f"  - {p}" for p in shown) + (f"\n  ... and {more} more" if more else "")
    return ExtractionError(
        f"the model's output does not fit {spec.shown} "
        f"({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{listing}",
        raw=raw,
        conversation=folded,
        problems=problems,
    )


def _cut_off(request: _Request, raw: Any, folded: Conversation) -> ExtractionError:
    limit = request.options.get("max_tokens")
    at = f"max_tokens={limit}" if isinstance(limit, int) else "max_tokens"
    return ExtractionError(
        f"the model's output was cut off at {at} before the JSON was complete; "
        "raise max_tokens and ask again",
        raw=raw,
        conversation=folded,
    )


def _refused(stop: str | None, raw: Any, folded: Conversation) -> None:
    if stop == "refusal":
        raise ExtractionError(
            f"the model refused to answer (stop_reason 'refusal'); it wrote: {_said(str(raw))}",
            raw=raw,
            conversation=folded,
        )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER: Final = json.JSONDecoder(parse_constant=_reject_constant)


def _json_error(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
    return str(exc)


def _said(text: str) -> str:
    """What the model wrote, quoted short for an error message ("" when it wrote nothing)."""
    text = text.strip()
    return quote(text, 120) if text else ""
