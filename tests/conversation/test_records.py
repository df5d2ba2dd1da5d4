"""Dataclasses, TypedDict, NamedTuple and pydantic models as tool parameters and extract targets.

Each kind gets a JSON Schema, is structured strictly (a pydantic model by its
own ``model_validate``), and reports every bad field by its ``$.path``, as an
attrs class does. The module uses ``from __future__ import annotations`` on
purpose: the hints are strings, as in most user code.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Annotated, Any, NamedTuple, NotRequired, Optional, Required, TypedDict

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.scripted import ScriptedAdapter
from conversation import Conversation
from conversation._schema import ArgumentError, SchemaError, schema_for, structure, to_plain
from conversation.structured import ExtractionError, aextract, extract
from conversation.tools import Tool, run_tools, tool

# -- the kinds ----------------------------------------------------------------------------


@dataclasses.dataclass
class Address:
    city: str
    postcode: Optional[str] = None  # noqa: UP045 - the spelling people write


@dataclasses.dataclass(frozen=True)
class Person:
    """Someone to write to.

    Attributes:
        name: Full name.
    """

    name: str
    age: int = 0
    address: Address | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    note: str = dataclasses.field(default="", metadata={"description": "Anything else."})


class Movie(TypedDict, total=False):
    """A film."""

    title: Required[str]
    year: int


class Review(TypedDict):
    movie: Movie
    stars: int
    comment: NotRequired[str]


class Point(NamedTuple):
    x: int
    y: int = 0


class Segment(NamedTuple):
    """Two points."""

    start: Point
    end: Point


class Item(pydantic.BaseModel):
    sku: str
    qty: int = pydantic.Field(gt=0, description="How many.")


class Order(pydantic.BaseModel):
    """An order of items."""

    model_config = pydantic.ConfigDict(extra="forbid")

    items: list[Item]
    ship_to: Address | None = None


class Tree(pydantic.BaseModel):
    children: list[Tree] = []


PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Someone to write to.",
    "properties": {
        "name": {"type": "string", "description": "Full name."},
        "age": {"type": "integer", "default": 0},
        "address": {
            "anyOf": [
                {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string"},
                        "postcode": {"type": ["string", "null"], "default": None},
                    },
                    "required": ["city"],
                    "additionalProperties": False,
                },
                {"type": "null"},
            ],
            "default": None,
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string", "description": "Anything else.", "default": ""},
    },
    "required": ["name"],
    "additionalProperties": False,
}


def refs(node: Any) -> list[str]:
    """Every ``$ref`` in a schema."""
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


# -- schemas ------------------------------------------------------------------------------


def test_dataclass_schema_has_defaults_optional_nested_and_descriptions() -> None:
    """A dataclass reads like an attrs class: defaults, Optional, nesting, docstring, metadata."""
    assert schema_for(Person) == PERSON_SCHEMA


def test_dataclass_without_docstring_has_no_description() -> None:
    """The signature dataclasses write as __doc__ is not a description."""
    assert "description" not in schema_for(Address)
    assert "description" not in schema_for(Point)


def test_typeddict_schema_follows_total_required_and_not_required() -> None:
    """total=False with Required, and total with NotRequired, decide the required keys."""
    assert schema_for(Movie) == {
        "type": "object",
        "description": "A film.",
        "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
        "required": ["title"],
        "additionalProperties": False,
    }
    review = schema_for(Review)
    assert review["required"] == ["movie", "stars"]
    assert review["properties"]["movie"]["required"] == ["title"]


def test_namedtuple_schema_is_an_object_of_its_fields() -> None:
    """A NamedTuple is an object of its named fields, its defaults not required."""
    assert schema_for(Point) == {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer", "default": 0}},
        "required": ["x"],
        "additionalProperties": False,
    }
    assert schema_for(Segment)["properties"]["end"] == schema_for(Point)


def test_pydantic_schema_is_the_models_own_with_defs_inlined() -> None:
    """model_json_schema(), its $defs references replaced by what they name."""
    schema = schema_for(Order)
    own = Order.model_json_schema()
    assert refs(schema) == []
    assert "$defs" not in schema
    assert schema["description"] == own["description"]
    assert schema["properties"]["items"]["items"] == own["$defs"]["Item"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["items"]["items"]["properties"]["qty"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "title": "Qty",
        "description": "How many.",
    }


def test_pydantic_model_inside_a_dataclass_and_a_list() -> None:
    """A model nested in other hints is inlined where it stands."""

    @dataclasses.dataclass
    class Batch:
        orders: list[Order]

    inner = schema_for(Batch)["properties"]["orders"]["items"]
    assert inner == schema_for(Order)


def test_recursive_kinds_are_refused_when_described() -> None:
    """A recursive model or dataclass has no finite inline schema: SchemaError names it."""
    with pytest.raises(SchemaError, match="Tree"):
        schema_for(Tree)

    @dataclasses.dataclass
    class Node:
        next: Node | None = None

    with pytest.raises(SchemaError, match="recursive"):
        schema_for(Node)


def test_unresolvable_hint_in_a_dataclass_is_a_schema_error() -> None:
    """A field hint naming nothing is reported when the schema is made."""

    @dataclasses.dataclass
    class Broken:
        x: NotDefinedAnywhere  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(SchemaError, match="cannot be resolved"):
        schema_for(Broken)


# -- structuring --------------------------------------------------------------------------


def test_each_kind_structures_to_its_instances() -> None:
    """Dataclasses, NamedTuples and models come back as instances; a TypedDict as a dict."""
    assert structure(Person, {"name": "Ann", "address": {"city": "Oslo"}}) == Person(
        "Ann", address=Address("Oslo")
    )
    assert structure(Review, {"movie": {"title": "Heat"}, "stars": 5}) == {
        "movie": {"title": "Heat"},
        "stars": 5,
    }
    assert structure(Segment, {"start": {"x": 1}, "end": {"x": 2, "y": 3}}) == Segment(
        Point(1, 0), Point(2, 3)
    )
    order = structure(Order, {"items": [{"sku": "a", "qty": 2}], "ship_to": {"city": "Rome"}})
    assert order == Order(items=[Item(sku="a", qty=2)], ship_to=Address("Rome"))


BAD: list[tuple[Any, Any, set[tuple[str, str]]]] = [
    (
        Person,
        {"name": 3, "age": "x", "address": {"postcode": 5}, "extra": 1},
        {
            ("$.name", "expected a string, got integer 3"),
            ("$.age", "expected an integer, got string 'x'"),
            ("$.address.city", "required field missing"),
            ("$.address.postcode", "expected a string, got integer 5"),
            ("$", "unexpected field(s) 'extra'"),
        },
    ),
    (
        Review,
        {"movie": {"year": "1995"}, "comment": 4},
        {
            ("$.movie.title", "required field missing"),
            ("$.movie.year", "expected an integer, got string '1995'"),
            ("$.stars", "required field missing"),
            ("$.comment", "expected a string, got integer 4"),
        },
    ),
    (
        Segment,
        {"start": {"x": "1"}, "end": [2, 3]},
        {
            ("$.start.x", "expected an integer, got string '1'"),
            ("$.end", "expected an object, got array [2, 3]"),
        },
    ),
    (
        Order,
        {"items": [{"sku": 1, "qty": 0}, {}], "ship_to": {"city": None}, "note": "x"},
        {
            ("$.items[0].sku", "input should be a valid string, got 1"),
            ("$.items[0].qty", "input should be greater than 0, got 0"),
            ("$.items[1].sku", "required field missing"),
            ("$.items[1].qty", "required field missing"),
            ("$.ship_to.city", "input should be a valid string, got null"),
            ("$.note", "unexpected field"),
        },
    ),
]


@pytest.mark.parametrize(("kind", "data", "problems"), BAD)
def test_every_bad_field_is_named_by_its_path(
    kind: Any, data: Any, problems: set[tuple[str, str]]
) -> None:
    """ArgumentError lists each problem with its $.path, for every kind."""
    with pytest.raises(ArgumentError) as info:
        structure(kind, data, path="$")
    assert set(info.value.problems) == problems


@pytest.mark.parametrize("kind", [Person, Review, Segment, Order])
@given(
    data=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=4),
        lambda c: (
            st.lists(c, max_size=3)
            | st.dictionaries(
                st.sampled_from(["name", "x", "items", "movie", "stars", "start", "end", "title"]),
                c,
                max_size=4,
            )
        ),
        max_leaves=12,
    )
)
def test_any_json_structures_or_raises_argument_error(kind: Any, data: Any) -> None:
    """Arbitrary JSON ends in a value or an ArgumentError with paths, never anything else."""
    problems: tuple[tuple[str, str], ...] = (("$", "none"),)
    try:
        structure(kind, data)
    except ArgumentError as exc:
        problems = exc.problems
    assert problems
    assert all(path.startswith("$") for path, _ in problems)


def test_to_plain_writes_each_kind_as_json_objects() -> None:
    """What a tool returns of these kinds is written as JSON objects."""
    assert to_plain(Segment(Point(1), Point(2, 3))) == {
        "start": {"x": 1, "y": 0},
        "end": {"x": 2, "y": 3},
    }
    assert to_plain(Order(items=[Item(sku="a", qty=1)])) == {
        "items": [{"sku": "a", "qty": 1}],
        "ship_to": None,
    }
    assert to_plain(Person("Ann"))["address"] is None


# -- as tool parameters ---------------------------------------------------------------------


def asking(**input: Any) -> dict[str, Any]:
    """A reply that calls the tool ``ship`` with ``input``."""
    use = {"type": "tool_use", "id": "toolu_1", "name": "ship", "input": input}
    return {"content": [use], "stop_reason": "tool_use"}


received: list[Any] = []


@tool
def ship(
    to: Person, order: Order, route: Segment, review: Review
) -> Annotated[dict[str, Any], "summary"]:
    """Ship an order.

    Args:
        to: Who gets it.
    """
    received.extend([to, order, route, review])
    return {"to": to.name, "items": len(order.items)}


GOOD = {
    "to": {"name": "Ann", "address": {"city": "Oslo"}},
    "order": {"items": [{"sku": "a", "qty": 1}]},
    "route": {"start": {"x": 0}, "end": {"x": 5, "y": 5}},
    "review": {"movie": {"title": "Heat"}, "stars": 5},
}


def test_tool_schema_holds_every_kind() -> None:
    """The tool's input schema describes each parameter by its kind."""
    schema = ship.to_wire()["input_schema"]
    assert schema["properties"]["to"] == {**PERSON_SCHEMA, "description": "Who gets it."}
    assert schema["properties"]["order"] == schema_for(Order)
    assert schema["properties"]["route"] == schema_for(Segment)
    assert schema["required"] == ["to", "order", "route", "review"]
    assert refs(schema) == []


def test_run_tools_structures_each_kind_for_the_function() -> None:
    """The function gets a dataclass, a model, a NamedTuple and a dict; its dict goes back."""
    received.clear()
    adapter = ScriptedAdapter([asking(**GOOD), "Shipped."])
    run_tools(Conversation().user("Ship it"), adapter, [ship])
    assert received == [
        Person("Ann", address=Address("Oslo")),
        Order(items=[Item(sku="a", qty=1)]),
        Segment(Point(0), Point(5, 5)),
        {"movie": {"title": "Heat"}, "stars": 5},
    ]
    result = adapter.requests[1]["messages"][-1]["content"][0]
    assert json.loads(result["content"]) == {"to": "Ann", "items": 1}


def test_bad_arguments_of_every_kind_are_one_error_result_naming_each_path() -> None:
    """Every bad field of every kind is named in the is_error result; the function never runs."""
    received.clear()
    bad = {
        "to": {"name": 1},
        "order": {"items": [{"sku": "a", "qty": -1}]},
        "route": {"start": {}, "end": {"x": 1}},
        "review": {"movie": {}, "stars": 5, "spoiler": True},
    }
    adapter = ScriptedAdapter([asking(**bad), "Sorry."])
    run_tools(Conversation().user("Ship it"), adapter, [ship])
    result = adapter.requests[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True
    for where in (
        "$.to.name: expected a string",
        "$.order.items[0].qty: input should be greater than 0, got -1",
        "$.route.start.x: required field missing",
        "$.review.movie.title: required field missing",
        "$.review: unexpected field(s) 'spoiler'",
    ):
        assert where in result["content"]
    assert received == []


def test_a_tool_may_return_a_model_or_a_namedtuple() -> None:
    """Return values of these kinds are written as JSON."""

    @tool
    def ship() -> Order:
        """Make an order."""
        return Order(items=[Item(sku="b", qty=2)])

    adapter = ScriptedAdapter([asking(), "ok"])
    run_tools(Conversation().user("x"), adapter, [ship])
    content = adapter.requests[1]["messages"][-1]["content"][0]["content"]
    assert json.loads(content) == {"items": [{"sku": "b", "qty": 2}], "ship_to": None}


def test_from_function_refuses_a_recursive_model_parameter() -> None:
    """The SchemaError comes when the tool is made, naming the parameter."""

    def grow(tree: Tree) -> str:
        return ""

    with pytest.raises(SchemaError, match="parameter 'tree' of grow"):
        Tool.from_function(grow)


# -- as extract targets ---------------------------------------------------------------------


def recorded(tool_input: Any, name: str) -> dict[str, Any]:
    """A reply calling the forced tool ``name``."""
    use = {"type": "tool_use", "id": "toolu_9", "name": name, "input": tool_input}
    return {"content": [use], "stop_reason": "tool_use"}


TARGETS: list[tuple[Any, Any, Any]] = [
    (Person, {"name": "Ann", "tags": ["x"]}, Person("Ann", tags=["x"])),
    (Review, {"movie": {"title": "Heat", "year": 1995}, "stars": 4}, None),
    (Segment, {"start": {"x": 1}, "end": {"x": 2}}, Segment(Point(1), Point(2))),
    (Order, {"items": [{"sku": "a", "qty": 3}]}, Order(items=[Item(sku="a", qty=3)])),
]


@pytest.mark.parametrize(("target", "data", "value"), TARGETS)
def test_extract_each_kind(target: Any, data: Any, value: Any) -> None:
    """extract() sends the kind's schema as the forced tool and returns an instance."""
    name = f"record_{target.__name__}"
    bot = ScriptedAdapter([recorded(data, name)])
    got = extract(Conversation().user("Read it."), bot, target)
    assert got.value == (data if value is None else value)
    sent = bot.requests[0]["tools"][0]
    assert sent["input_schema"] == schema_for(target)
    assert bot.requests[0]["tool_choice"] == {"type": "tool", "name": name}


def test_extract_dataclass_reports_every_nested_problem() -> None:
    """A bad dataclass output names each field: the schema check reads nested dataclasses."""
    bad = {"name": "Ann", "age": "old", "address": {"postcode": 1}}
    bot = ScriptedAdapter([recorded(bad, "record_Person")])
    with pytest.raises(ExtractionError) as info:
        extract(Conversation().user("x"), bot, Person)
    assert set(info.value.problems) == {
        '$.age: expected an integer, got a string "old"',
        "$.address.city: required field missing (expected a string)",
        "$.address.postcode: expected a string or null, got an integer 1",
    }


def test_extract_pydantic_uses_the_models_own_validation() -> None:
    """Constraints the schema checker does not read (gt=0) are the model's: named by path."""
    bot = ScriptedAdapter([recorded({"items": [{"sku": "a", "qty": 0}]}, "record_Order")])
    with pytest.raises(ExtractionError) as info:
        extract(Conversation().user("x"), bot, Order)
    assert info.value.problems == ("$.items[0].qty: input should be greater than 0, got 0",)
    assert info.value.raw == {"items": [{"sku": "a", "qty": 0}]}


def test_extract_a_list_of_models_is_wrapped() -> None:
    """A non-object target of models is wrapped in {"value": ...} and unwrapped."""
    data = {"value": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}
    bot = ScriptedAdapter([recorded(data, "record_result")])
    got = extract(Conversation().user("x"), bot, list[Item])
    assert got.value == [Item(sku="a", qty=1), Item(sku="b", qty=2)]


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


@pytest.mark.anyio
async def test_aextract_a_typeddict_by_prefill() -> None:
    """The prefill method reads a TypedDict too, through asend."""
    bot = ScriptedAdapter([{"content": [{"type": "text", "text": '"title": "Heat"}'}]}])
    got = await aextract(Conversation().user("x"), bot, Movie, method="prefill")
    assert got.value == {"title": "Heat"}


# -- pydantic is never imported by the library ---------------------------------------------


def test_the_library_does_not_import_pydantic() -> None:
    """Importing every module of the library leaves pydantic unloaded."""
    code = (
        "import sys, conversation, conversation.tools, conversation.structured, "
        "conversation.computer, conversation._schema, adapters, adapters.scripted\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
        "from conversation._schema import schema_for\n"
        "import dataclasses\n"
        "@dataclasses.dataclass\n"
        "class P:\n    x: int\n"
        "schema_for(P)\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported by schema_for'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
