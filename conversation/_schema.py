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
:class:`ArgumentError` listing every problem with a ``$.field`` path.
"""

from __future__ import annotations

import collections.abc
import enum
import inspect
import re
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Literal, Union

import attrs
import cattrs
from cattrs import cols
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError

from . import _pydantic
from ._docstrings import class_docs, parse_docstring
from ._json import thaw
from ._records import NO_DEFAULT, Record, RecordError, record_of
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

_NONE = type(None)
_SCALARS: dict[Any, str] = {str: "string", int: "integer", float: "number", bool: "boolean"}
_SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)
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


def json_type(value: Any) -> str | None:
    """The JSON Schema type of a value (``"integer"``, ``"array"``...); None if it is not JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


_SCALAR_TYPES = frozenset({"null", "boolean", "integer", "number", "string"})


def _scalar_type(value: Any) -> str | None:
    """The JSON type of a scalar (a string, number, boolean or null); None for anything else."""
    kind = json_type(value)
    return kind if kind in _SCALAR_TYPES else None


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


def _origin(tp: Any) -> Any:
    """``typing.get_origin``, typed loosely enough to compare with special forms."""
    return typing.get_origin(tp)


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


# -- structuring --------------------------------------------------------------------


class _Mismatch(ValueError):
    """Raised by the strict hooks; its message is the whole explanation."""


def _got(value: Any) -> str:
    kind = json_type(value)
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:39] + "…"
    return f"{kind} {shown}" if kind else f"{type(value).__name__} {shown}"


def _expected(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _expected(typing.get_args(tp)[0])
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    if tp in names:
        return names[tp]
    if tp is None or tp is _NONE:
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if origin is Union or origin is types.UnionType:
        return " or ".join(_expected(a) for a in typing.get_args(tp))
    if tp in _SEQUENCES or origin in _SEQUENCES or tp is tuple or origin is tuple:
        return "an array"
    return "an object"


def _strict_str(value: Any, tp: Any) -> str:
    if isinstance(value, str):
        return value
    raise _Mismatch(f"expected a string, got {_got(value)}")


def _strict_int(value: Any, tp: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise _Mismatch(f"expected an integer, got {_got(value)}")


def _strict_float(value: Any, tp: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise _Mismatch(f"expected a number, got {_got(value)}")


def _strict_bool(value: Any, tp: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise _Mismatch(f"expected true or false, got {_got(value)}")


def _strict_none(value: Any, tp: Any) -> None:
    if value is None:
        return
    raise _Mismatch(f"expected null, got {_got(value)}")


def _same_json(a: Any, b: Any) -> bool:
    return _scalar_type(a) == _scalar_type(b) and a == b


def _literal(value: Any, tp: Any) -> Any:
    for option in typing.get_args(tp):
        plain = option.value if isinstance(option, enum.Enum) else option
        if _same_json(plain, value):
            return option
    raise _Mismatch(f"expected {_expected(tp)}, got {_got(value)}")


def _enum(value: Any, tp: Any) -> Any:
    for member in tp:
        if _same_json(member.value, value):
            return member
    raise _Mismatch(f"expected {_expected(tp)}, got {_got(value)}")


def _or_enum(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook``, except for Enum classes that subclass its type (``class C(str, Enum)``).

    cattrs dispatches classes by their MRO, where ``str`` comes before ``Enum``.
    """

    def structure_scalar(value: Any, tp: Any) -> Any:
        if _is_enum(tp):
            return _enum(value, tp)
        return hook(value, tp)

    return structure_scalar


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType)


def _is_sequence(tp: Any) -> bool:
    return tp in _SEQUENCES or typing.get_origin(tp) in _SEQUENCES


def _is_tuple(tp: Any) -> bool:
    return tp is tuple or typing.get_origin(tp) is tuple


def _is_mapping(tp: Any) -> bool:
    return tp in _MAPPINGS or typing.get_origin(tp) in _MAPPINGS


def _checked(kind: type, hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook`` behind a check that the JSON value is a ``kind`` (list or dict) at all."""
    what = "an array" if kind is list else "an object"

    def structure_checked(value: Any, tp: Any) -> Any:
        if not isinstance(value, kind):
            raise _Mismatch(f"expected {what}, got {_got(value)}")
        return hook(value, tp)

    return structure_checked


def _is_plain_record(tp: Any) -> bool:
    """A record class cattrs does not read exactly as the schema says (all but attrs)."""
    return isinstance(tp, type) and not attrs.has(tp) and _safe_record(tp) is not None


def _is_namedtuple_record(tp: Any) -> bool:
    record = _safe_record(tp)
    return record is not None and record.kind == "NamedTuple"


def _safe_record(tp: Any) -> Record | None:
    try:
        return record_of(tp)
    except RecordError:
        return None


def _make_converter() -> cattrs.Converter:
    """A cattrs converter that structures JSON exactly as :func:`schema_for` describes it."""
    conv = cattrs.Converter(forbid_extra_keys=True)
    exact: dict[Any, Callable[[Any, Any], Any]] = {
        str: _strict_str,
        int: _strict_int,
        float: _strict_float,
        bool: _strict_bool,
        _NONE: _strict_none,
    }
    for cls, hook in exact.items():
        conv.register_structure_hook(cls, _or_enum(hook))
    conv.register_structure_hook(enum.Enum, _enum)
    conv.register_structure_hook_func(lambda t: t is None, _strict_none)
    conv.register_structure_hook_func(lambda t: t is Any, lambda v, _: v)
    conv.register_structure_hook_func(lambda t: _origin(t) is Literal, _literal)
    conv.register_structure_hook_func(_is_enum, _enum)
    conv.register_structure_hook_func(
        lambda t: _origin(t) is Annotated,
        lambda v, t: conv.structure(v, typing.get_args(t)[0]),
    )

    def union(value: Any, tp: Any) -> Any:
        members = [a for a in typing.get_args(tp) if a is not _NONE]
        if value is None and len(members) < len(typing.get_args(tp)):
            return None
        if len(members) == 1:  # Optional[X]: X's own (detailed) errors are the clearest
            return conv.structure(value, members[0])
        for member in members:
            try:
                return conv.structure(value, member)
            except Exception:  # the next member may fit; all failing is reported below
                continue
        raise _Mismatch(f"expected {_expected(tp)}, got {_got(value)}")

    def tuple_hook(value: Any, tp: Any) -> tuple[Any, ...]:
        args = typing.get_args(tp)
        if not args:
            return tuple(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(conv.structure(value, list[args[0]]))  # type: ignore[valid-type]
        if args == ((),):
            args = ()
        if len(value) != len(args):
            raise _Mismatch(f"expected an array of {len(args)} items, got {len(value)}")
        items, errors = [], []
        for index, (item, hint) in enumerate(zip(value, args, strict=True)):
            try:
                items.append(conv.structure(item, hint))
            except Exception as exc:
                exc.__notes__ = [
                    *getattr(exc, "__notes__", []),
                    cattrs.IterableValidationNote(f"index {index}", index, hint),
                ]
                errors.append(exc)
        if errors:
            raise cattrs.IterableValidationError("tuple items", errors, tp)
        return tuple(items)

    def record(value: Any, tp: Any) -> Any:
        """A dataclass, TypedDict or NamedTuple from a JSON object, every bad field named."""
        found = record_of(tp)
        assert found is not None  # the predicate below picked tp for being a record
        if not isinstance(value, dict):
            raise _Mismatch(f"expected an object, got {_got(value)}")
        kwargs: dict[str, Any] = {}
        errors: list[Exception] = []
        for field in found.fields:
            note = AttributeValidationNote(f"field {field.name}", field.name, field.hint)
            if field.name not in value:
                if field.required:
                    missing = KeyError(field.name)
                    missing.__notes__ = [note]
                    errors.append(missing)
                continue
            try:
                kwargs[field.name] = conv.structure(value[field.name], field.hint)
            except Exception as exc:
                exc.__notes__ = [*getattr(exc, "__notes__", []), note]
                errors.append(exc)
        names = {field.name for field in found.fields}
        extra = {key for key in value if key not in names}
        if extra:
            errors.append(ForbiddenExtraKeysError(None, tp, extra))
        if errors:
            raise cattrs.ClassValidationError(f"While structuring {tp.__name__}", errors, tp)
        return found.build(kwargs)

    def model(value: Any, tp: Any) -> Any:
        return _pydantic.validate(tp, value)

    conv.register_structure_hook_func(_is_plain_record, record)
    conv.register_structure_hook_func(_pydantic.is_model, model)
    conv.register_unstructure_hook_func(_pydantic.is_model, _pydantic.model_dump)
    conv.register_unstructure_hook_func(
        _is_namedtuple_record,
        lambda v: {name: conv.unstructure(getattr(v, name)) for name in type(v)._fields},
    )
    conv.register_structure_hook_func(_is_union, union)
    conv.register_structure_hook_func(_is_tuple, _checked(list, tuple_hook))
    conv.register_structure_hook_factory(
        _is_sequence, lambda t: _checked(list, cols.list_structure_factory(t, conv))
    )
    conv.register_structure_hook_factory(
        _is_mapping, lambda t: _checked(dict, cols.mapping_structure_factory(t, conv))
    )
    return conv


_converter = _make_converter()  # configured once here; read-only afterwards


def _format(exc: BaseException, tp: Any) -> str:
    if isinstance(exc, _Mismatch):
        return str(exc)
    if isinstance(exc, _pydantic.ModelMismatch):  # several problems below this path
        return _NESTED.join(f"{path}{_REL}{message}" for path, message in exc.problems)
    if isinstance(exc, ForbiddenExtraKeysError):
        fields = ", ".join(repr(k) for k in sorted(exc.extra_fields))
        return f"unexpected field(s) {fields}"
    if isinstance(exc, KeyError):
        return "required field missing"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_NESTED, _REL = "\x00", "\x01"  # how _format packs a model's own (path, message) list


def _problems(exc: Exception, path: str) -> list[tuple[str, str]]:
    found = []
    for line in cattrs.transform_error(exc, path=path, format_exception=_format):
        message, _, where = line.rpartition(" @ ")
        if _REL in message:
            for part in message.split(_NESTED):
                below, _, text = part.partition(_REL)
                found.append((where + below, text))
        else:
            found.append((where, message))
    return found


def structure(tp: Any, data: Any, *, path: str = "$") -> Any:
    """The JSON value ``data`` as a ``tp`` (attrs instances, Enum members, tuples...).

    Raises :class:`ArgumentError` listing every mismatch below ``path``.
    """
    try:
        return _converter.structure(thaw(data), tp)
    except Exception as exc:
        raise ArgumentError(_problems(exc, path)) from None


def structure_args(
    schema_types: Mapping[str, Any], data: Any, *, required: Collection[str] | None = None
) -> dict[str, Any]:
    """Keyword arguments from a model's JSON arguments, each structured to its hint.

    ``schema_types`` maps parameter names to hints; ``required`` names those
    that must be present (all of them when not given); others, when absent,
    are left out so the function's defaults apply. Raises
    :class:`ArgumentError` naming every missing, unexpected or mistyped field.
    """
    if not isinstance(data, dict):
        raise ArgumentError([("$", f"expected a JSON object of arguments, got {_got(data)}")])
    must = set(schema_types) if required is None else set(required)
    problems: list[tuple[str, str]] = []
    kwargs: dict[str, Any] = {}
    for name, hint in schema_types.items():
        if name not in data:
            if name in must:
                problems.append((f"$.{name}", f"required field missing ({_expected(hint)})"))
            continue
        try:
            kwargs[name] = _converter.structure(thaw(data[name]), hint)
        except Exception as exc:
            problems.extend(_problems(exc, f"$.{name}"))
    unknown = [key for key in data if key not in schema_types]
    if unknown:
        takes = ", ".join(schema_types) or "no arguments"
        problems.append(
            ("$", f"unexpected field(s) {', '.join(map(repr, unknown))}; it takes: {takes}")
        )
    if problems:
        raise ArgumentError(problems)
    return kwargs


def to_plain(value: Any) -> Any:
    """``value`` as plain JSON data: attrs instances to dicts, Enum members to values."""
    return _converter.unstructure(value)
