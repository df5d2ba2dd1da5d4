"""Block fields are declared once (their classes), and the modules import in one direction."""

from __future__ import annotations

import ast
import enum
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import (
    Block,
    Document,
    MalformedInputError,
    Text,
    TextSource,
    ToolResult,
    ToolUse,
)
from conversation._blocks import KNOWN_BLOCK_CLASSES, UnknownBlock, block_reader
from conversation._json import EMPTY, FrozenDict, FrozenList
from conversation._read import WIRE_NAME, BlockReader
from conversation._wire import unstructure_block
from tests.strategies import json_objects

PACKAGE = Path(__file__).resolve().parents[2] / "conversation"


def _reader(*extra: type) -> BlockReader:
    return block_reader((*KNOWN_BLOCK_CLASSES, *extra))


@attrs.frozen
class Forecast:
    """A block type declared once, here: no table anywhere names its fields."""

    type: ClassVar[str] = "forecast"
    city: str
    report: str | tuple[Block, ...]
    unit: str | None = attrs.field(default=None, kw_only=True)
    sources: FrozenDict | None = attrs.field(
        default=None, kw_only=True, metadata={WIRE_NAME: "source_map"}
    )
    extra: FrozenDict = attrs.field(default=EMPTY, kw_only=True)


class TestDerivedFields:
    def test_a_new_block_class_round_trips_without_a_table(self) -> None:
        reader = _reader(Forecast)
        wire = {
            "type": "forecast",
            "city": "Paris",
            "report": [{"type": "text", "text": "sunny"}],
            "unit": "C",
            "source_map": {"a": 1},
            "later_field": [1, 2],
        }
        block = reader.structure_block(wire, written=True)
        assert type(block) is Forecast
        assert block.city == "Paris"
        assert block.report == (Text("sunny"),)
        assert block.sources == {"a": 1}
        assert block.extra == {"later_field": [1, 2]}
        assert reader.unstructure_block(block) == wire
        assert list(reader.unstructure_block(block)) == list(wire)  # the declared order
        # ... and as the content of a known block, read by the same reader
        result = reader.structure_block(
            {"type": "tool_result", "tool_use_id": "t", "content": [wire]}
        )
        assert result.content == (block,)
        assert reader.unstructure_block(result)["content"] == [wire]

    def test_a_new_block_class_keeps_the_rules_of_every_field(self) -> None:
        reader = _reader(Forecast)
        with pytest.raises(MalformedInputError, match="needs the field 'report'") as info:
            reader.structure_block({"type": "forecast", "city": "Paris"}, "$.x")
        assert info.value.path == "$.x"
        with pytest.raises(MalformedInputError, match="expected a string") as info:
            reader.structure_block({"type": "forecast", "city": 3, "report": "r"}, "$.x")
        assert info.value.path == "$.x.city"
        # its type is now known, so a near miss is a typo
        assert reader.typo("forcast") == "forecast"
        assert "forecast" in reader.type_names

    def test_the_library_reader_does_not_know_the_test_class(self) -> None:
        block = _reader().structure_block({"type": "forecast", "city": "P", "report": "r"})
        assert type(block) is UnknownBlock

    def test_a_field_type_without_a_reader_is_refused_when_the_reader_is_built(self) -> None:
        @attrs.frozen
        class Odd:
            type: ClassVar[str] = "odd"
            when: complex
            extra: FrozenDict = EMPTY

        with pytest.raises(TypeError, match=r"Odd\.when: no wire reader"):
            _reader(Odd)

    @pytest.mark.parametrize(
        ("given", "missing"),
        [
            ({"type": "tool_use", "id": "t", "name": "n"}, "input"),
            ({"type": "server_tool_use", "id": "t", "name": "n"}, "input"),
            (
                {"type": "document", "source": {"type": "text", "data": "d"}},
                "media_type",
            ),
        ],
    )
    def test_a_field_the_wire_requires_is_required_despite_its_default(
        self, given: dict[str, Any], missing: str
    ) -> None:
        with pytest.raises(MalformedInputError, match=f"needs the field '{missing}'"):
            _reader().structure_block(given)

    def test_wire_order_metadata_puts_a_field_first(self) -> None:
        # TextSource declares data first (it is required) but writes media_type first.
        wire = unstructure_block(Document(TextSource("hello")))
        assert list(wire["source"]) == ["type", "media_type", "data"]

    def test_tool_result_dict_and_object_are_the_same_block(self) -> None:
        given = {"type": "tool_result", "tool_use_id": "t", "content": "x"}
        assert _reader().structure_block(given) == ToolResult("t", "x")
        assert unstructure_block(ToolResult("t", "x")) == given


class _Word(enum.StrEnum):
    CALM = "calm"


# What a caller may hand a block constructor: plain values (the quick path), and
# values its fields' converters change (a StrEnum member, a FrozenDict) or refuse.
_strings = st.text(max_size=8) | st.just(_Word.CALM) | st.integers() | st.none()
_inputs = (
    json_objects()
    | st.just(FrozenDict({"a": FrozenList([_Word.CALM])}))
    | st.just({"a": {1, 2}})
    | st.just({"x": float("nan")})
    | st.just([1])
)
_contents = (
    st.text(max_size=8)
    | st.none()
    | st.just([{"type": "text", "text": "x"}])
    | st.just(_Word.CALM)
    | st.just(5)
)
_options = st.fixed_dictionaries(
    {},
    optional={
        "cache_control": st.none() | st.just({"type": "ephemeral"}) | st.just(5),
        "extra": st.just(EMPTY) | st.just({"note": 1}) | st.just({"type": "x"}),
    },
)


def _built(cls: type, *args: Any, **kwargs: Any) -> object:
    """The block, or the error (type, reason, path), that constructing ``cls`` gives."""
    try:
        return cls(*args, **kwargs)
    except MalformedInputError as exc:
        return (type(exc), exc.reason, exc.path)


def _by_fields(cls: type, *args: Any, **kwargs: Any) -> object:
    """The same, built by the converters and validators of the attrs fields alone."""
    block: Any = object.__new__(cls)
    try:
        block.__attrs_init__(*args, **kwargs)
    except MalformedInputError as exc:
        return (type(exc), exc.reason, exc.path)
    return block


def _same(a: Any, b: Any) -> None:
    assert a == b
    if attrs.has(type(a)):  # the fields hold the same kinds, not just equal values
        for field in attrs.fields(type(a)):
            assert type(getattr(a, field.name)) is type(getattr(b, field.name)), field.name


class TestQuickConstructors:
    """Text, ToolUse and ToolResult store plain arguments as given; what they build,
    and every error they raise, is what their fields' converters and validators give."""

    @given(text=_strings, citations=st.none() | st.just([{"type": "x"}]), options=_options)
    def test_text(self, text: Any, citations: Any, options: dict[str, Any]) -> None:
        _same(
            _built(Text, text, citations=citations, **options),
            _by_fields(Text, text, citations=citations, **options),
        )

    @given(tool_id=_strings, name=_strings, tool_input=_inputs, options=_options)
    def test_tool_use(
        self, tool_id: Any, name: Any, tool_input: Any, options: dict[str, Any]
    ) -> None:
        _same(
            _built(ToolUse, tool_id, name, tool_input, **options),
            _by_fields(ToolUse, tool_id, name, tool_input, **options),
        )

    @given(
        tool_use_id=_strings,
        content=_contents,
        is_error=st.none() | st.booleans() | st.just("no"),
        options=_options,
    )
    def test_tool_result(
        self, tool_use_id: Any, content: Any, is_error: Any, options: dict[str, Any]
    ) -> None:
        _same(
            _built(ToolResult, tool_use_id, content, is_error=is_error, **options),
            _by_fields(ToolResult, tool_use_id, content, is_error=is_error, **options),
        )

    def test_a_tool_use_without_input_has_an_empty_one(self) -> None:
        assert ToolUse("t", "f").input == {}
        assert unstructure_block(ToolUse("t", "f"))["input"] == {}


# --- imports ------------------------------------------------------------------------


def _private_modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("_*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports, at any depth of its code, outside
    ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


class TestImportOrder:
    def test_the_private_modules_import_in_one_direction(self) -> None:
        graph = {m: _imports(m) for m in [*_private_modules(), "errors"]}
        seen: dict[str, int] = {}  # 1: on the path, 2: done

        def walk(module: str, path: list[str]) -> None:
            if seen.get(module) == 2 or module not in graph:
                return
            if seen.get(module) == 1:
                raise AssertionError(f"import cycle: {' -> '.join([*path, module])}")
            seen[module] = 1
            for imported in sorted(graph[module]):
                walk(imported, [*path, module])
            seen[module] = 2

        for module in graph:
            walk(module, [])

    @pytest.mark.parametrize("module", ["_read", "_blocks", "_turn", "_reply", "_wire"])
    def test_each_module_imports_first_in_a_fresh_interpreter(self, module: str) -> None:
        # The package's __init__ is left out, so its import order hides nothing.
        code = (
            "import importlib, sys, types\n"
            f"package = types.ModuleType('conversation'); package.__path__ = [{str(PACKAGE)!r}]\n"
            "sys.modules['conversation'] = package\n"
            f"importlib.import_module('conversation.{module}')\n"
            "print(sorted(m for m in sys.modules if m.startswith('conversation.')))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
        loaded: Any = eval(done.stdout)
        assert f"conversation.{module}" in loaded
        if module in ("_read", "_blocks", "_turn", "_reply"):
            assert "conversation._wire" not in loaded  # the values never load the converter


FORECAST = '''

@attrs.frozen
class Forecast:
    """A block type added by one declaration (and its entry in the registry below)."""

    type: ClassVar[str] = "forecast"
    city: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    report: str | tuple[Block, ...] = attrs.field(converter=_blocks_or_str)
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


Block: TypeAlias = (
    Forecast
    |'''

ROUND_TRIP = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location(
    "conversation", sys.argv[1], submodule_search_locations=[sys.argv[2]]
)
package = importlib.util.module_from_spec(spec)
sys.modules["conversation"] = package
spec.loader.exec_module(package)
from conversation import Conversation
from conversation._blocks import Forecast

wire = {"type": "forecast", "city": "Paris", "report": [{"type": "text", "text": "sun"}]}
c = Conversation().user([wire, "and tomorrow?"]).assistant(Forecast("Lyon", "rain", extra={"n": 1}))
payload = c.to_payload(model="m", max_tokens=5)
assert payload["messages"][0]["content"][0] == wire, payload
assert payload["messages"][1]["content"] == [
    {"type": "forecast", "city": "Lyon", "report": "rain", "n": 1}
], payload
assert type(c.turns[0].blocks[0]) is Forecast
again = Conversation.from_payload(payload)
assert again.to_payload(model="m", max_tokens=5) == payload
assert Conversation.loads(c.dumps()) == c
assert c.to_json(model="m", max_tokens=5) == __import__("orjson").dumps(payload)
print("ok")
"""


def test_a_block_class_added_to_the_library_once_round_trips(tmp_path: Path) -> None:
    # A copy of the package with one class added to _blocks.py and named in the
    # registry: no table in _wire, _read, _save or the rules is edited.
    copy = tmp_path / "conversation"
    copy.mkdir()
    for source in PACKAGE.glob("*.py"):
        (copy / source.name).write_text(source.read_text())
    blocks = copy / "_blocks.py"
    text = blocks.read_text()
    registry = "\n\nBlock: TypeAlias = ("
    assert text.count(registry) == 1
    blocks.write_text(text.replace(registry, FORECAST))
    done = subprocess.run(
        [sys.executable, "-c", ROUND_TRIP, str(copy / "__init__.py"), str(copy)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
