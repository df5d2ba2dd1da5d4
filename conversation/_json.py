"""Immutable JSON values: the form every free-form field of a block is kept in.

Tool inputs, citations, ``cache_control`` and unknown blocks are JSON that the
library does not interpret. They are stored as :class:`FrozenDict` and
:class:`FrozenList`: subclasses of ``dict`` and ``list`` (so they compare equal
to plain JSON, and orjson writes them natively) that refuse mutation and hash
by value, so a block holding them is a true value.
"""

from __future__ import annotations

import math
from typing import Any, NoReturn, TypeAlias

from .errors import MalformedInputError, quote

__all__ = [
    "EMPTY",
    "JSON",
    "MAX_DEPTH",
    "FrozenDict",
    "FrozenList",
    "check_json",
    "freeze",
    "json_equal",
    "plain",
    "thaw",
]

JSON: TypeAlias = Any
"""A JSON value: None, bool, int, float, str, or a list or dict of JSON values."""


def _immutable(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(
        f"{type(self).__name__} is immutable: it belongs to a Conversation value; "
        "copy it (dict(x) / list(x)) to change it"
    )


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it: ``true`` is not ``1`` and ``1`` is not ``1.0``.

    Python's ``==`` says ``True == 1 == 1.0``, but they are different bytes on
    the wire, so two values that ``==`` calls equal could send different
    payloads. Containers compare item by item with this same rule, each item
    once: the time is linear in the size of the values, whatever their depth.
    """
    if isinstance(a, dict):
        if not isinstance(b, dict) or len(a) != len(b):
            return False
        for key, value in a.items():
            other = b.get(key, _ABSENT)
            if other is _ABSENT or not (value is other or json_equal(value, other)):
                return False
        return True
    if isinstance(a, list | tuple):
        if not isinstance(b, list | tuple) or len(a) != len(b):
            return False
        return all(x is y or json_equal(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is float and type(b) is float and a == 0.0 == b:
        return math.copysign(1.0, a) == math.copysign(1.0, b)  # -0.0 is written "-0.0"
    return type(a) is type(b) and a == b


_ABSENT: Any = object()


class FrozenDict(dict[str, Any]):
    """A ``dict`` that cannot change, hashes by value, and compares as JSON does."""

    __slots__ = ("_checked", "_hash")
    _hash: int
    _checked: bool

    __setitem__ = __delitem__ = _immutable
    clear = pop = popitem = setdefault = update = _immutable
    __ior__ = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        try:
            return self._hash
        except AttributeError:
            h = hash(frozenset(self.items()))
            self._hash = h
            return h

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict):
            return NotImplemented
        return self is other or json_equal(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __reduce__(self) -> tuple[type[FrozenDict], tuple[dict[str, Any]]]:
        return (FrozenDict, (dict(self),))

    def __repr__(self) -> str:
        return f"FrozenDict({dict.__repr__(self)})"


class FrozenList(list[Any]):
    """A ``list`` that cannot change, hashes by value, and compares as JSON does."""

    __slots__ = ("_checked",)
    _checked: bool

    __setitem__ = __delitem__ = _immutable
    append = extend = insert = pop = remove = clear = sort = reverse = _immutable
    __iadd__ = __imul__ = _immutable

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list):
            return NotImplemented
        return self is other or json_equal(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __reduce__(self) -> tuple[type[FrozenList], tuple[list[Any]]]:
        return (FrozenList, (list(self),))

    def __repr__(self) -> str:
        return f"FrozenList({list.__repr__(self)})"


EMPTY = FrozenDict()
"""The shared empty FrozenDict, used as the default for ``extra`` fields."""
EMPTY._checked = True


_SCALARS = (str, int, float, bool, type(None))

MAX_DEPTH = 200
"""How deep a JSON value may nest: the encoder refuses about 250 levels in all,
and a value sits a few levels down inside a request body."""


_dict_set = dict.__setitem__


class _NotJSON(Exception):
    """Raised deep inside :func:`freeze`; each level adds its key on the way out."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.keys: list[str] = []


def plain(value: Any) -> Any:
    """A scalar as its plain JSON type: a ``StrEnum`` member as ``str``, an
    ``IntEnum`` as ``int``, a ``float`` subclass as ``float`` (``bool`` stays
    ``bool``). Anything else comes back as it is.

    What is kept must be what is written and read back: a subclass would
    compare unequal to its own round trip (JSON equality checks the type).
    """
    cls = type(value)
    if cls is str or cls is int or cls is float or cls is bool or value is None:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):  # bool cannot be subclassed, so this is not one
        return int.__index__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return value


def freeze(value: Any, path: str = "$") -> Any:
    """Return ``value`` with every dict and list made immutable (deeply).

    Plain scalars come back as they are, subclasses of ``str``, ``int`` and
    ``float`` as their plain type (see :func:`plain`); containers this
    function froze are not copied again. A FrozenDict or FrozenList built by
    hand is checked and copied like a dict or list: it may hold anything.
    Anything that is not JSON (a set, an object, a non-string key, NaN or an
    infinity, nesting deeper than :data:`MAX_DEPTH`) raises
    :class:`MalformedInputError` naming where it was, below ``path``.
    """
    if type(value) is dict:  # a flat object of plain scalars (a tool input): one pass
        for key, item in value.items():
            kind = type(item)
            if type(key) is not str or not (
                kind is str or kind is int or kind is bool or item is None
            ):
                break
        else:
            frozen = FrozenDict(value)
            frozen._checked = True
            return frozen
    try:
        return _freeze(value, 0)
    except _NotJSON as exc:
        keys = exc.keys[::-1]
        if len(keys) > 8:  # a path 200 levels long says less than its length
            keys = [*keys[:4], f"...({len(keys) - 6} levels)...", *keys[-2:]]
        raise MalformedInputError(exc.reason, path + "".join(keys)) from None


def _freeze(value: Any, depth: int) -> Any:
    cls = type(value)
    if cls is str or cls is int or value is None:
        return value
    if (cls is FrozenDict or cls is FrozenList) and getattr(value, "_checked", False):
        return value
    if depth >= MAX_DEPTH:
        raise _NotJSON(f"nested deeper than {MAX_DEPTH} levels; JSON this deep cannot be sent")
    if cls is dict or isinstance(value, dict):
        frozen = FrozenDict(value)  # copied in C; nested containers are swapped below
        rekey = False
        for key, item in value.items():
            if type(key) is not str:
                if not isinstance(key, str):
                    raise _NotJSON(
                        f"JSON object keys must be strings, got {type(key).__name__} {quote(key)}"
                    )
                rekey = True  # a str subclass (a StrEnum): made a plain str below
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            try:
                if kind is float:
                    _finite(item)
                else:
                    _dict_set(frozen, key, _freeze(item, depth + 1))
            except _NotJSON as exc:
                exc.keys.append(f".{key}")
                raise
        if rekey:
            frozen = FrozenDict({str.__str__(k): v for k, v in frozen.items()})
        frozen._checked = True
        return frozen
    if cls is list or isinstance(value, list | tuple):
        items = []
        for index, item in enumerate(value):
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                items.append(item)
                continue
            try:
                items.append(_finite(item) if kind is float else _freeze(item, depth + 1))
            except _NotJSON as exc:
                exc.keys.append(f"[{index}]")
                raise
        frozen_list = FrozenList(items)
        frozen_list._checked = True
        return frozen_list
    if cls is float or isinstance(value, float):
        return _finite(plain(value))
    if isinstance(value, _SCALARS):
        return plain(value) if cls is not float else value
    raise _NotJSON(f"expected a JSON value, got {cls.__name__} {quote(value)}")


def _finite(number: float) -> float:
    if math.isfinite(number):
        return number
    raise _NotJSON(f"{number} is not a JSON number (JSON has no NaN or infinity)")


def check_json(value: Any, path: str = "$", depth: int = 0) -> None:
    """Raise :class:`MalformedInputError` where ``value`` holds NaN, an infinity or too deep a
    nesting; values orjson cannot write at all (objects) are left for it to refuse.
    """
    kind = type(value)
    if kind is float and not math.isfinite(value):
        raise MalformedInputError(
            f"{value} is not a JSON number (JSON has no NaN or infinity)", path
        )
    if kind is dict or kind is FrozenDict or kind is list or kind is FrozenList or kind is tuple:
        if depth >= MAX_DEPTH:
            raise MalformedInputError(f"nested deeper than {MAX_DEPTH} levels", path)
        if isinstance(value, dict):
            for key, item in value.items():
                check_json(item, f"{path}.{key}", depth + 1)
        else:
            for index, item in enumerate(value):
                check_json(item, f"{path}[{index}]", depth + 1)


def thaw(value: Any) -> Any:
    """Return a deep, mutable copy of a (possibly frozen) JSON value."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value
