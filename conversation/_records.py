"""The fields of the classes people write for JSON objects (attrs, dataclass, TypedDict...).

A tool parameter or an extraction target that is one of these is a JSON object
of its fields. This module reads, for each kind, what the schema builder and
the structuring need to know (each field's name, hint, whether it is required,
its default and description), and builds an instance from structured fields,
so that ``conversation._schema`` treats all four kinds alike.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, NotRequired, Required

import attrs

__all__ = ["NO_DEFAULT", "Field", "Record", "RecordError", "is_record", "record_of"]


class _NoDefault:
    """The type of :data:`NO_DEFAULT`."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Final[Any] = _NoDefault()
"""The default of a field that has none the schema can show (required, or a factory)."""

_WRAPPERS = (Required, NotRequired, getattr(typing, "ReadOnly", Required))


class RecordError(Exception):
    """A class whose fields cannot be read (its hints do not resolve); the message says why."""


@attrs.frozen
class Field:
    """One field: ``hint`` is None when the field has no type hint at all."""

    name: str
    hint: Any
    required: bool
    default: Any = NO_DEFAULT
    description: str | None = None


@attrs.frozen
class Record:
    """A class read as a JSON object: its kind (``"dataclass"``...), fields and builder."""

    cls: type
    kind: str
    fields: tuple[Field, ...]
    build: Callable[[dict[str, Any]], Any] = attrs.field(eq=False)


def _is_typeddict(tp: Any) -> bool:
    return typing.is_typeddict(tp) or (
        isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")
    )


def _is_namedtuple(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and issubclass(tp, tuple)
        and isinstance(getattr(tp, "_fields", None), tuple)
    )


def is_record(tp: Any) -> bool:
    """True for an attrs class, a dataclass, a TypedDict or a NamedTuple class."""
    if not isinstance(tp, type):
        return False
    return attrs.has(tp) or dataclasses.is_dataclass(tp) or _is_typeddict(tp) or _is_namedtuple(tp)


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except Exception as exc:  # NameError and friends from unresolvable annotations
        raise RecordError(f"its type hints cannot be resolved ({exc})") from None


def _unwrap(hint: Any) -> Any:
    """``Required[X]``, ``NotRequired[X]`` (and ``ReadOnly[X]``) as ``X``."""
    while typing.get_origin(hint) in _WRAPPERS:
        hint = typing.get_args(hint)[0]
    return hint


def _note(metadata: Mapping[str, Any]) -> str | None:
    note = metadata.get("description")
    return note if isinstance(note, str) and note else None


def record_of(tp: Any) -> Record | None:
    """The fields of ``tp`` when it is a record class (see :func:`is_record`); else None.

    Raises :class:`RecordError` when its type hints cannot be resolved.
    """
    if not isinstance(tp, type):
        return None
    if attrs.has(tp):
        return _attrs_record(tp)
    if dataclasses.is_dataclass(tp):
        return _dataclass_record(tp)
    if _is_typeddict(tp):
        return _typeddict_record(tp)
    if _is_namedtuple(tp):
        return _namedtuple_record(tp)
    return None


def _attrs_record(cls: type) -> Record:
    hints = _hints(cls)
    fields = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        default = field.default
        if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = NO_DEFAULT
        fields.append(
            Field(
                field.name,
                hints.get(field.name, field.type),
                field.default is attrs.NOTHING,
                default,
                _note(field.metadata),
            )
        )
    return Record(cls, "attrs class", tuple(fields), lambda kwargs: cls(**kwargs))


def _dataclass_record(cls: type) -> Record:
    hints = _hints(cls)
    fields = []
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        missing = field.default is dataclasses.MISSING
        fields.append(
            Field(
                field.name,
                hints.get(field.name),
                missing and field.default_factory is dataclasses.MISSING,
                NO_DEFAULT if missing else field.default,
                _note(field.metadata),
            )
        )
    return Record(cls, "dataclass", tuple(fields), lambda kwargs: cls(**kwargs))


def _typeddict_record(cls: type) -> Record:
    hints = _hints(cls)
    keys = getattr(cls, "__required_keys__", frozenset(hints))
    fields = tuple(
        Field(name, _unwrap(hint), _required(name, hint, keys)) for name, hint in hints.items()
    )
    return Record(cls, "TypedDict", fields, dict)


def _required(name: str, hint: Any, keys: frozenset[str]) -> bool:
    """Whether a TypedDict key is required, ``Required``/``NotRequired`` read from its hint.

    ``__required_keys__`` misses them when the annotations are strings (``from
    __future__ import annotations`` before Python 3.12), so the resolved hint decides.
    """
    while True:
        origin = typing.get_origin(hint)
        if origin is Required:
            return True
        if origin is NotRequired:
            return False
        if origin not in _WRAPPERS:
            return name in keys
        hint = typing.get_args(hint)[0]


def _namedtuple_record(cls: type) -> Record:
    hints = _hints(cls)
    defaults: Mapping[str, Any] = getattr(cls, "_field_defaults", {})
    fields = tuple(
        Field(name, hints.get(name), name not in defaults, defaults.get(name, NO_DEFAULT))
        for name in getattr(cls, "_fields", ())
    )
    return Record(cls, "NamedTuple", fields, lambda kwargs: cls(**kwargs))
