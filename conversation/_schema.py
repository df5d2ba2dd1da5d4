"""JSON Schema from Python type hints, and typed values from a model's JSON arguments.

A tool is described to the model by a JSON Schema of its parameters, and the
model answers with JSON arguments. This module does both directions for one
small, explicit set of hints, so that what the schema promises is exactly what
:func:`structure` accepts:

=================================  ==============================================
hint                               JSON Schema
=================================  ==============================================
``str`` ``int`` ``float`` ``bool``  ``string`` ``integer`` ``number`` ``boolean``
``None``                           ``null``
``list[X]``, ``Sequence[X]``       ``array`` of X
``tuple[X, ...]`` / ``tuple[X, Y]`` ``array`` of X / ``prefixItems`` X, Y
``dict[str, X]``                   ``object`` with ``additionalProperties`` X
``X | None``, ``X | Y``            ``type: [x, "null"]`` or ``anyOf``
``Literal["a", 1]``                ``enum``
an ``Enum`` class                  ``enum`` of its values (structured to members)
an attrs class, a dataclass,       ``object`` of its fields (structured to instances;
a ``NamedTuple``, a ``TypedDict``  a TypedDict to a dict); ``Required``/``NotRequired``
                                   and ``total=False`` decide what is required
a pydantic model                   the model's own ``model_json_schema()`` (``$defs``
                                   inlined), validated by its own ``model_validate``
``Annotated[X, "text"]``           X with ``description`` "text"
``typing.Any``                     ``{}`` (any JSON value)
=================================  ==============================================

Anything else (a set, a plain class, a callable, a dict with non-string keys)
raises :class:`SchemaError` naming the parameter and the hint, when the tool is
made rather than when the model first calls it.

Structuring is strict where JSON is exact: ``"3"`` is not an integer, ``"ab"``
is not a list, ``"false"`` is not a boolean (an integral float such as ``3.0``
is accepted as an integer, and an integer as a float). A mismatch raises
:class:`ArgumentError` listing every problem with a ``$.field`` path. The
structuring lives in ``_structure.py`` (re-exported here); this module builds
the schemas.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, Union

import attrs

from . import _pydantic
from ._docstrings import class_docs, parse_docstring
from ._records import NO_DEFAULT, Record, RecordError, record_of
from ._structure import MAPPINGS as _MAPPINGS
from ._structure import NONE as _NONE
from ._structure import SEQUENCES as _SEQUENCES
from ._structure import json_type, structure, structure_args, to_plain
from ._structure import scalar_type as _scalar_type
from .errors import ArgumentError, SchemaError

__all__ = [
    "ArgumentError",
    "FunctionSpec",
    "SchemaError",
    "function_spec",
    "is_tool_name",
    "json_type",
    "schema_for",
    "structure",
    "structure_args",
    "to_plain",
]

_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_ADVICE: dict[Any, str] = {
    set: "JSON has no sets: use list[X]",
    frozenset: "JSON has no sets: use list[X]",
    collections.abc.Set: "JSON has no sets: use list[X]",
    collections.abc.MutableSet: "JSON has no sets: use list[X]",
    bytes: "JSON has no bytes: use str (base64, say)",
    bytearray: "JSON has no bytes: use str (base64, say)",
    complex: "JSON has no complex numbers: use two floats",
}


# -- schemas ------------------------------------------------------------------------


def schema_for(tp: Any, *, where: str = "the value") -> dict[str, Any]:
    """The JSON Schema of the hint ``tp`` (a fresh, plain dict).

    ``where`` names the hint's place in a :class:`SchemaError`
    (``"parameter 'unit' of get_weather"``). An attrs class gives an object
    schema whose required properties are its fields without defaults.
    """
    return _schema(tp, where, ())


def _schema(tp: Any, where: str, seen: tuple[type, ...]) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return {}
    if tp is None or tp is _NONE:
        return {"type": "null"}
    if origin is Annotated:
        inner = _schema(args[0], where, seen)
        notes = [a for a in args[1:] if isinstance(a, str)]
        if notes:
            inner["description"] = " ".join(notes)
        return inner
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum_schema(tp, where)
    if tp in _SCALARS:
        return {"type": _SCALARS[tp]}
    if origin is Literal:
        return _literal_schema(tp, args, where)
    if origin is Union or origin is types.UnionType:
        return _union_schema(tp, args, where, seen)
    if tp in _SEQUENCES or origin in _SEQUENCES:
        if not args:
            return {"type": "array"}
        return {"type": "array", "items": _schema(args[0], where, seen)}
    if tp is tuple or origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": _schema(args[0], where, seen)}
        if args == ((),):
            return {"type": "array", "maxItems": 0}
        return {
            "type": "array",
            "prefixItems": [_schema(a, where, seen) for a in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if tp in _MAPPINGS or origin in _MAPPINGS:
        if not args:
            return {"type": "object"}
        if args[0] is not str:
            raise SchemaError(
                where, tp, "JSON object keys are strings: use dict[str, X] (or a list of pairs)"
            )
        return {"type": "object", "additionalProperties": _schema(args[1], where, seen)}
    if _pydantic.is_model(tp):
        try:
            return _pydantic.model_schema(tp)
        except _pydantic.PydanticSchemaError as exc:
            raise SchemaError(where, tp, str(exc)) from None
    record = _record(tp, where)
    if record is not None:
        return _record_schema(record, where, seen)
    raise SchemaError(where, tp, _why_not(tp, origin))


def _record(tp: Any, where: str) -> Record | None:
    try:
        return record_of(tp)
    except RecordError as exc:
        raise SchemaError(where, tp, str(exc)) from None


def _why_not(tp: Any, origin: Any) -> str:
    advice = _ADVICE.get(origin if origin is not None else tp)
    if advice is not None:
        return advice
    if (origin is collections.abc.Callable or callable(tp)) and not isinstance(tp, type):
        return "a function cannot be passed as JSON"
    if isinstance(tp, typing.TypeVar):
        return "a type variable has no schema: give the concrete type"
    if isinstance(tp, str | typing.ForwardRef):
        return "an unresolved forward reference: define the type before the tool is made"
    if isinstance(tp, type):
        return (
            "only str, int, float, bool, None, list, tuple, dict[str, X], Literal, "
            "Enum, attrs classes, dataclasses, TypedDict, NamedTuple and pydantic models "
            "are supported: make it a dataclass (or an attrs class) to pass it as a JSON object"
        )
    return "this kind of type hint is not supported"


def _typed_enum(values: list[Any], tp: Any, where: str) -> dict[str, Any]:
    kinds = []
    for value in values:
        kind = _scalar_type(value)
        if kind is None:
            raise SchemaError(
                where, tp, f"the value {value!r} is not a JSON string, number, boolean or null"
            )
        if kind not in kinds:
            kinds.append(kind)
    schema: dict[str, Any] = {"type": kinds[0] if len(kinds) == 1 else kinds}
    schema["enum"] = values
    return schema


def _literal_schema(tp: Any, args: tuple[Any, ...], where: str) -> dict[str, Any]:
    values = [a.value if isinstance(a, enum.Enum) else a for a in args]
    return _typed_enum(values, tp, where)


def _enum_schema(tp: type[enum.Enum], where: str) -> dict[str, Any]:
    values = [member.value for member in tp]
    if not values:
        raise SchemaError(where, tp, "an Enum with no members has no valid value")
    return _typed_enum(values, tp, where)


def _union_schema(
    tp: Any, args: tuple[Any, ...], where: str, seen: tuple[type, ...]
) -> dict[str, Any]:
    members = [_schema(a, where, seen) for a in args]
    # {"type": "string"} | {"type": "null"} reads best as {"type": ["string", "null"]}.
    if all(set(m) == {"type"} and isinstance(m["type"], str) for m in members):
        return {"type": [m["type"] for m in members]}
    return {"anyOf": members}


def _default_value(default: Any) -> tuple[bool, Any]:
    """``(True, json)`` for a default the schema can show; ``(False, None)`` otherwise."""
    if isinstance(default, enum.Enum):
        default = default.value
    if _scalar_type(default) is not None:
        return True, default
    return False, None


def _record_schema(record: Record, where: str, seen: tuple[type, ...]) -> dict[str, Any]:
    cls = record.cls
    if cls in seen:
        raise SchemaError(
            where, cls, "a recursive class has no finite schema here: flatten it or use Any"
        )
    description, documented = class_docs(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for field in record.fields:
        at = f"{where}, field {field.name!r} of {cls.__qualname__}"
        if field.hint is None:
            raise SchemaError(at, cls, "no type hint")
        prop = _schema(field.hint, at, (*seen, cls))
        note = field.description or documented.get(field.name)
        if note:
            prop["description"] = note
        if field.required:
            required.append(field.name)
        elif field.default is not NO_DEFAULT:
            shown, value = _default_value(field.default)
            if shown:
                prop["default"] = value
        properties[field.name] = prop
    schema: dict[str, Any] = {"type": "object"}
    if description:
        schema["description"] = description
    schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema


# -- functions ----------------------------------------------------------------------

_TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def is_tool_name(value: object) -> bool:
    """True for a tool name the Messages API accepts: 1 to 64 letters, digits, ``_``, ``-``."""
    return isinstance(value, str) and _TOOL_NAME.fullmatch(value) is not None


def _read_only(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return types.MappingProxyType(dict(mapping))


@attrs.frozen
class FunctionSpec:
    """What a function says about itself as a tool.

    ``types`` maps each parameter to its hint (in order), ``required`` names
    those without defaults, ``input_schema`` is the object schema the model
    sees, ``description`` the docstring's first paragraph.
    """

    name: str
    description: str | None
    input_schema: dict[str, Any]
    types: Mapping[str, Any] = attrs.field(converter=_read_only)
    required: frozenset[str]


def function_spec(fn: Callable[..., Any], *, name: str | None = None) -> FunctionSpec:
    """Read a function's signature, hints and docstring into a :class:`FunctionSpec`.

    Every parameter needs a supported hint; ``*args``, ``**kwargs`` and
    positional-only parameters cannot be filled from a JSON object and raise
    :class:`SchemaError`.
    """
    label = name or getattr(fn, "__name__", None) or type(fn).__name__
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise SchemaError(
            f"function {label}", fn, f"its signature cannot be read ({exc})"
        ) from None
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # NameError from a hint naming what is not defined
        raise SchemaError(
            f"function {label}", fn, f"its type hints cannot be resolved ({exc})"
        ) from None
    description, documented = parse_docstring(inspect.getdoc(fn))
    properties: dict[str, Any] = {}
    required: list[str] = []
    param_types: dict[str, Any] = {}
    for param in signature.parameters.values():
        where = f"parameter {param.name!r} of {label}"
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            kind = {
                param.VAR_POSITIONAL: "*args",
                param.VAR_KEYWORD: "**kwargs",
                param.POSITIONAL_ONLY: "a positional-only parameter",
            }[param.kind]
            raise SchemaError(
                where, param.annotation, f"{kind} cannot be filled from named JSON arguments"
            )
        if param.name not in hints:
            raise SchemaError(where, param.annotation, "it has no type hint: annotate it")
        hint = hints[param.name]
        prop = schema_for(hint, where=where)
        if param.name in documented:
            prop["description"] = documented[param.name]
        if param.default is param.empty:
            required.append(param.name)
        else:
            shown, value = _default_value(param.default)
            if shown:
                prop["default"] = value
        properties[param.name] = prop
        param_types[param.name] = hint
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return FunctionSpec(label, description, schema, param_types, frozenset(required))
