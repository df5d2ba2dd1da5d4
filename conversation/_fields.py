"""The converters and validators of block and source fields.

They are apart from the classes so that the source module and the block module
share one definition of each; each converter's parameter type is what a caller
may pass (mypy's attrs plugin reads it), and each error names the field.
Nothing here knows a block class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from ._json import EMPTY, FrozenDict, FrozenList, freeze, plain
from .errors import MalformedInputError, quote, type_name

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "as_cache_control",
    "as_citations_config",
    "as_citations_list",
    "as_content_json",
    "as_extra",
    "as_input",
    "as_opt_text",
    "as_raw",
    "as_text",
    "json_object_at",
    "must_be",
    "no_known_keys",
]


def must_be(
    kind: type | tuple[type, ...], what: str
) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    """An attrs validator that raises our own error, naming field and value."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, kind):
            raise MalformedInputError(
                f"{type(instance).__name__}.{attribute.name} must be {what}, "
                f"got {type_name(value)} {quote(value)}",
                f"$.{attribute.name}",
            )

    return check


def as_text(value: str) -> str:
    """A string field as a plain ``str`` (a ``StrEnum`` member becomes its value), so
    that what is kept is what is written and read back; the validator refuses non-strings."""
    return plain(value)  # type: ignore[no-any-return]


def as_opt_text(value: str | None) -> str | None:
    """:func:`as_text` for an optional string field."""
    return plain(value)  # type: ignore[no-any-return]


def json_object_at(value: Mapping[str, Any], path: str) -> FrozenDict:
    """Freeze a JSON object (any mapping); errors name ``path``."""
    if value is EMPTY:  # the default of every ``extra``: nothing to check
        return EMPTY
    if type(value) is dict:
        return freeze(value, path)  # type: ignore[no-any-return]
    if not isinstance(value, Mapping):
        raise MalformedInputError(f"expected a JSON object, got {type_name(value)}", path)
    if not isinstance(value, dict):
        value = dict(value)
    return freeze(value, path)  # type: ignore[no-any-return]


# The converters below are named directly in each ``attrs.field(converter=...)``:
# mypy's attrs plugin reads a constructor's parameter types from its converters'
# parameters, so each one states exactly what a caller may pass.
def as_cache_control(value: Mapping[str, Any] | None) -> FrozenDict | None:
    """A ``cache_control`` marker, frozen (None stays None): for blocks, tools and system."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise MalformedInputError(
            f"cache_control must be an object, got {type(value).__name__}", "$.cache_control"
        )
    return freeze(dict(value), "$.cache_control")  # type: ignore[no-any-return]


def as_citations_config(value: Mapping[str, Any] | None) -> FrozenDict | None:
    return None if value is None else json_object_at(value, "$.citations")


def as_citations_list(value: Sequence[Mapping[str, Any]] | None) -> FrozenList | None:
    items: object = value  # checked as the object it is, whatever the annotation says
    if items is None:
        return None
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise MalformedInputError(f"expected a JSON array, got {type_name(items)}", "$.citations")
    if not isinstance(items, list | tuple):
        items = list(items)
    return freeze(items, "$.citations")  # type: ignore[no-any-return]


def as_input(value: Mapping[str, Any]) -> FrozenDict:
    return json_object_at(value, "$.input")


def as_extra(value: Mapping[str, Any]) -> FrozenDict:
    return json_object_at(value, "$.extra")


def as_raw(value: Mapping[str, Any]) -> FrozenDict:
    return json_object_at(value, "$")


def as_content_json(value: Any) -> Any:
    return freeze(value, "$.content")


def no_known_keys(instance: Any, attribute: attrs.Attribute[Any], value: FrozenDict) -> None:
    """``extra`` holds fields the library does not know; it may not shadow one it does."""
    if not value:
        return
    known = {"type", *(f.name for f in attrs.fields(type(instance)) if f.init)} - {"extra"}
    clash = sorted(known.intersection(value))
    if clash:
        raise MalformedInputError(
            f"{type(instance).__name__}.extra may not hold {quote(clash[0])}, a field the class "
            f"has; set the field itself",
            f"$.extra.{clash[0]}",
        )
