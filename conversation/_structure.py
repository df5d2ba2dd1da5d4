"""Structuring a model's JSON into Python values: the strict converter behind
:func:`structure`, :func:`structure_args` and :func:`to_plain`.

It is apart from the schema builder (``_schema.py``, which re-exports these
functions) because it is the other direction: the builder says what JSON a
hint takes, this module checks that the JSON the model sent is that and
builds the value. Both read the JSON type of a value (:func:`json_type`) and
the kinds of hint defined here.
"""

from __future__ import annotations

import collections.abc
import enum
import types
import typing
from collections.abc import Callable, Collection, Mapping
from typing import Annotated, Any, Literal, Union

import attrs
import cattrs
from cattrs import cols
from cattrs.errors import AttributeValidationNote, ForbiddenExtraKeysError

from . import _pydantic
from ._json import thaw
from ._records import Record, RecordError, record_of
from .errors import ArgumentError

__all__ = [
    "MAPPINGS",
    "NONE",
    "SEQUENCES",
    "json_type",
    "scalar_type",
    "structure",
    "structure_args",
    "to_plain",
]

NONE = type(None)
SEQUENCES = (list, collections.abc.Sequence, collections.abc.MutableSequence)
MAPPINGS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


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


def scalar_type(value: Any) -> str | None:
    """The JSON type of a scalar (a string, number, boolean or null); None for anything else."""
    kind = json_type(value)
    return kind if kind in _SCALAR_TYPES else None


def _origin(tp: Any) -> Any:
    """``typing.get_origin``, typed loosely enough to compare with special forms."""
    return typing.get_origin(tp)


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
    if tp is None or tp is NONE:
        return "null"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    if origin is Union or origin is types.UnionType:
        return " or ".join(_expected(a) for a in typing.get_args(tp))
    if tp in SEQUENCES or origin in SEQUENCES or tp is tuple or origin is tuple:
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
    return scalar_type(a) == scalar_type(b) and a == b


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
    return tp in SEQUENCES or typing.get_origin(tp) in SEQUENCES


def _is_tuple(tp: Any) -> bool:
    return tp is tuple or typing.get_origin(tp) is tuple


def _is_mapping(tp: Any) -> bool:
    return tp in MAPPINGS or typing.get_origin(tp) in MAPPINGS


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
        NONE: _strict_none,
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
        members = [a for a in typing.get_args(tp) if a is not NONE]
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
