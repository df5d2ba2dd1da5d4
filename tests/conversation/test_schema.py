"""Tests for conversation._schema: JSON Schema from type hints, and strict structuring back."""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, Optional

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import ConversationError, MalformedInputError
from conversation._docstrings import parse_docstring
from conversation._schema import (
    ArgumentError,
    SchemaError,
    function_spec,
    is_tool_name,
    schema_for,
    structure,
    structure_args,
)


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Size(int, enum.Enum):
    SMALL = 1
    LARGE = 2


@attrs.frozen
class Point:
    """A point on the plane.

    Attributes:
        x: Horizontal position.
    """

    x: float
    y: float = 0.0
    """Vertical position."""
    color: Color = attrs.field(default=Color.RED, metadata={"description": "Its colour."})
    tags: list[str] = attrs.Factory(list)


@attrs.frozen
class Shape:
    name: str
    points: list[Point]


@attrs.frozen
class Loop:
    next: Loop | None = None


class Plain:
    pass


@pytest.mark.parametrize(
    ("hint", "schema"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (Any, {}),
        (list, {"type": "array"}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (Sequence[str], {"type": "array", "items": {"type": "string"}}),
        (tuple, {"type": "array"}),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (dict, {"type": "object"}),
        (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
        (Optional[str], {"type": ["string", "null"]}),  # noqa: UP045 - the spelling under test
        (int | None, {"type": ["integer", "null"]}),
        (int | str, {"type": ["integer", "string"]}),
        (
            list[int] | None,
            {"anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]},
        ),
        (Literal["c", "f"], {"type": "string", "enum": ["c", "f"]}),
        (Literal[1, "a"], {"type": ["integer", "string"], "enum": [1, "a"]}),
        (Color, {"type": "string", "enum": ["red", "green"]}),
        (Size, {"type": "integer", "enum": [1, 2]}),
        (Annotated[int, "How many."], {"type": "integer", "description": "How many."}),
    ],
)
def test_schema_for_each_supported_hint(hint: Any, schema: dict[str, Any]) -> None:
    """Every supported hint has exactly the documented JSON Schema."""
    assert schema_for(hint) == schema


def test_schema_for_attrs_class() -> None:
    """An attrs class is an object: fields as properties, defaults optional, docs described."""
    assert schema_for(Point) == {
        "type": "object",
        "description": "A point on the plane.",
        "properties": {
            "x": {"type": "number", "description": "Horizontal position."},
            "y": {"type": "number", "description": "Vertical position.", "default": 0.0},
            "color": {
                "type": "string",
                "enum": ["red", "green"],
                "description": "Its colour.",
                "default": "red",
            },
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["x"],
        "additionalProperties": False,
    }


def test_schema_for_nested_attrs_class() -> None:
    """A field holding attrs instances nests their object schema."""
    schema = schema_for(Shape)
    assert schema["required"] == ["name", "points"]
    assert schema["properties"]["points"]["items"] == schema_for(Point)


@pytest.mark.parametrize(
    ("hint", "says"),
    [
        (set[int], "use list[X]"),
        (frozenset[str], "use list[X]"),
        (dict[int, str], "use dict[str, X]"),
        (Plain, "make it a dataclass"),
        (object, "make it a dataclass"),
        (Callable[[int], int], "a function cannot be passed as JSON"),
        (bytes, "JSON has no bytes"),
        (list[set[int]], "use list[X]"),
        (Loop, "recursive"),
        (Literal[1.5j], "not a JSON string"),
    ],
)
def test_unsupported_hints_raise_schema_error(hint: Any, says: str) -> None:
    """An unsupported hint raises SchemaError naming the place, the hint and what to do."""
    with pytest.raises(SchemaError) as info:
        schema_for(hint, where="parameter 'p' of f")
    message = str(info.value)
    assert "parameter 'p' of f" in message
    assert says in message
    assert isinstance(info.value, ConversationError)


def test_schema_error_names_the_hint() -> None:
    """The message shows the hint as it was written."""
    with pytest.raises(SchemaError, match=r"set\[int\]"):
        schema_for(set[int])


def weather(location: str, unit: Literal["c", "f"] = "c", days: int = 1) -> str:
    """Current weather for a city,
    as reported now.

    Longer notes that are not part of the description.

    Args:
        location: The city, e.g. Paris.
        unit (str): Celsius or
            Fahrenheit.

    Returns:
        A sentence.
    """
    return location


def test_function_spec_reads_signature_and_docstring() -> None:
    """The first paragraph describes the tool; Args entries describe the parameters."""
    spec = function_spec(weather)
    assert spec.name == "weather"
    assert spec.description == "Current weather for a city, as reported now."
    assert spec.input_schema == {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city, e.g. Paris."},
            "unit": {
                "type": "string",
                "enum": ["c", "f"],
                "description": "Celsius or Fahrenheit.",
                "default": "c",
            },
            "days": {"type": "integer", "default": 1},
        },
        "required": ["location"],
        "additionalProperties": False,
    }
    assert spec.required == {"location"}


def test_parse_docstring_without_sections() -> None:
    """A docstring with no Args section still gives its first paragraph; None gives nothing."""
    assert parse_docstring("One line.") == ("One line.", {})
    assert parse_docstring(None) == (None, {})


def _untyped(x):  # type: ignore[no-untyped-def]
    return x


def _star(*names: str) -> None:
    pass


def _kwargs(**extra: int) -> None:
    pass


def _positional(x: int, /) -> None:
    pass


def _bad_set(tags: set[str]) -> None:
    pass


@pytest.mark.parametrize(
    ("fn", "says"),
    [
        (_untyped, "parameter 'x' of _untyped"),
        (_star, "*args"),
        (_kwargs, "**kwargs"),
        (_positional, "positional-only"),
        (_bad_set, "parameter 'tags' of _bad_set"),
    ],
)
def test_function_spec_refuses_unusable_parameters(fn: Callable[..., Any], says: str) -> None:
    """Parameters that cannot come from a JSON object are refused when the tool is made."""
    with pytest.raises(SchemaError, match=re_escape(says)):
        function_spec(fn)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_structure_builds_typed_values() -> None:
    """JSON becomes attrs instances, Enum members and tuples as the hints say."""
    value = structure(Shape, {"name": "tri", "points": [{"x": 1, "color": "green"}, {"x": 2.5}]})
    assert value == Shape("tri", [Point(1.0, color=Color.GREEN), Point(2.5)])
    assert structure(tuple[int, str], [1, "a"]) == (1, "a")
    assert structure(Size, 2) is Size.LARGE
    assert structure(int | None, None) is None
    assert structure(int, 3.0) == 3


@pytest.mark.parametrize(
    ("hint", "data", "path", "says"),
    [
        (str, 3, "$", "expected a string, got integer 3"),
        (int, "3", "$", "expected an integer"),
        (bool, "false", "$", "expected true or false"),
        (float, True, "$", "expected a number"),
        (list[str], "ab", "$", "expected an array"),
        (dict[str, int], {"a": "b"}, "$['a']", "expected an integer"),
        (Literal["c", "f"], "k", "$", "expected one of 'c', 'f'"),
        (Color, "blue", "$", "expected one of 'red', 'green'"),
        (Point, {"x": "1"}, "$.x", "expected a number"),
        (Point, {}, "$.x", "required field missing"),
        (Point, {"x": 1, "z": 2}, "$", "unexpected field(s) 'z'"),
        (list[Point], [{"x": 1}, {"x": None}], "$[1].x", "expected a number"),
        (tuple[int, str], [1, 2], "$[1]", "expected a string"),
        (tuple[int, str], [1], "$", "expected an array of 2 items"),
        (int | list[int], "x", "$", "expected an integer or an array"),
    ],
)
def test_structure_mismatch_names_field_and_expectation(
    hint: Any, data: Any, path: str, says: str
) -> None:
    """A mismatch raises ArgumentError with the field's path and what was expected."""
    with pytest.raises(ArgumentError) as info:
        structure(hint, data)
    assert (info.value.path, says in info.value.reason) == (path, True)
    assert isinstance(info.value, MalformedInputError)


def test_structure_args_reports_every_problem() -> None:
    """Missing, mistyped and unexpected arguments are all listed, each with its path."""
    types = {"location": str, "unit": Literal["c", "f"], "days": int}
    with pytest.raises(ArgumentError) as info:
        structure_args(types, {"unit": "k", "extra": 1}, required={"location"})
    paths = [path for path, _ in info.value.problems]
    assert paths == ["$.location", "$.unit", "$"]
    assert "'extra'" in str(info.value)


def test_structure_args_leaves_absent_optionals_out() -> None:
    """An optional argument the model did not give is left out, so the default applies."""
    kwargs = structure_args({"a": int, "b": int}, {"a": 1}, required={"a"})
    assert kwargs == {"a": 1}


# -- property tests: what the schema promises, structure accepts ------------------------

_leaves: st.SearchStrategy[Any] = st.sampled_from(
    [str, int, float, bool, Literal["x", "y"], Color, Point]
)


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        children.map(lambda t: list[t]),  # type: ignore[valid-type]
        children.map(lambda t: dict[str, t]),  # type: ignore[valid-type]
        children.map(lambda t: t | None),
        children.map(lambda t: tuple[t, ...]),  # type: ignore[valid-type]
    )


hints = st.recursive(_leaves, _nested, max_leaves=4)


def json_for(hint: Any) -> st.SearchStrategy[Any]:
    """JSON values that fit ``hint`` as its schema describes it."""
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=5),
        int: st.integers(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        bool: st.booleans(),
    }
    if hint in simple:
        return simple[hint]
    if hint is Color:
        return st.sampled_from(["red", "green"])
    if hint is Point:
        return st.fixed_dictionaries(
            {"x": st.integers(-5, 5)}, optional={"tags": st.lists(st.text(max_size=3))}
        )
    if origin is Literal:
        return st.sampled_from(args)
    if origin is list or origin is tuple:
        return st.lists(json_for(args[0]), max_size=3)
    if origin is dict:
        return st.dictionaries(st.text(max_size=3), json_for(args[1]), max_size=3)
    return st.one_of(st.none(), json_for(next(a for a in args if a is not type(None))))


@given(st.data(), hints)
def test_values_that_fit_the_schema_structure(data: st.DataObject, hint: Any) -> None:
    """Every JSON value of the shape a hint's schema describes structures without error."""
    schema = schema_for(hint)
    assert isinstance(schema, dict)
    value = data.draw(json_for(hint))
    structure(hint, value)


@given(hints, st.sampled_from([1j, b"bytes", object()]))
def test_wrong_values_raise_argument_error(hint: Any, wrong: Any) -> None:
    """A value no hint accepts ends in ArgumentError at the top, never another exception."""
    with pytest.raises(ArgumentError) as info:
        structure(hint, wrong)
    assert info.value.path == "$"


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("get_weather", True),
        ("a-b_C9", True),
        ("x" * 64, True),
        ("", False),
        ("x" * 65, False),
        ("get weather", False),
        ("get_weather\n", False),
        (None, False),
        (7, False),
    ],
)
def test_is_tool_name(name: object, ok: bool) -> None:
    """One rule for tool names, used by tools and structured output: 1 to 64 of
    ``[a-zA-Z0-9_-]``, the whole string (a trailing newline is not allowed)."""
    assert is_tool_name(name) is ok
