"""Tests for conversation.structured: extract/aextract through a forced tool or a prefill."""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
import pytest

from adapters.scripted import ScriptedAdapter
from conversation import Conversation, ConversationError, MalformedInputError, Text, ToolUse
from conversation._schema import schema_for
from conversation.structured import WRAPPER, Extraction, ExtractionError, aextract, extract


@attrs.frozen
class LineItem:
    """One line of an invoice."""

    name: str
    price: float


@attrs.frozen
class Invoice:
    """An invoice: its number, total and lines."""

    number: str
    total: float
    items: list[LineItem]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.frozen
class Paint:
    colour: Colour
    litres: int


INVOICE_JSON: dict[str, Any] = {
    "number": "A-17",
    "total": 12.5,
    "items": [{"name": "pen", "price": 2.5}, {"name": "pad", "price": 10.0}],
}
INVOICE = Invoice("A-17", 12.5, [LineItem("pen", 2.5), LineItem("pad", 10.0)])
ASK = Conversation(system="You read invoices.").user("Invoice A-17: pen 2.50, pad 10.00.")


def tool_reply(tool_input: Any, name: str = "record_Invoice", **fields: Any) -> dict[str, Any]:
    """A Messages API response calling ``name`` with ``tool_input``."""
    block = {"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}
    return {"content": [block], **fields}


def text_reply(text: str, **fields: Any) -> dict[str, Any]:
    """A Messages API response of one text block."""
    return {"content": [{"type": "text", "text": text}], **fields}


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


# -- method="tool" --------------------------------------------------------------------------


class TestTool:
    def test_structures_the_tool_input_into_the_attrs_class(self) -> None:
        """The forced tool's input comes back as an Invoice instance, nested items included."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON)])
        result = extract(ASK, bot, Invoice, max_tokens=512)
        assert isinstance(result, Extraction)
        assert result.value == INVOICE
        assert result.raw == INVOICE_JSON

    def test_sends_one_tool_and_forces_it(self) -> None:
        """The request carries one tool (the class's schema) and a tool_choice forcing it."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON)])
        extract(ASK, bot, Invoice, model="m", max_tokens=512)
        sent = bot.requests[-1]
        assert sent["tools"] == [
            {
                "name": "record_Invoice",
                "description": "An invoice: its number, total and lines.",
                "input_schema": schema_for(Invoice),
            }
        ]
        assert sent["tool_choice"] == {"type": "tool", "name": "record_Invoice"}
        assert sent["messages"] == ASK.to_payload()["messages"]
        assert (sent["model"], sent["max_tokens"], sent["system"]) == (
            "m",
            512,
            "You read invoices.",
        )

    def test_conversation_ends_with_the_unanswered_tool_use(self) -> None:
        """Extraction.conversation is the sent conversation plus the model's tool_use turn."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON)])
        result = extract(ASK, bot, Invoice)
        assert result.conversation[: len(ASK)] == ASK
        assert len(result.conversation) == len(ASK) + 1
        (block,) = result.conversation.last.blocks  # type: ignore[union-attr]
        assert isinstance(block, ToolUse)
        assert block.input == INVOICE_JSON
        assert result.conversation.last.provenance.stop_reason == "tool_use"  # type: ignore[union-attr]

    def test_next_user_answers_the_tool_use_first(self) -> None:
        """next_user() opens the user turn with the tool_result the API requires, so it sends."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON)])
        follow = extract(ASK, bot, Invoice).next_user("Now the VAT, please.")
        last = follow.to_payload(max_tokens=64)["messages"][-1]
        assert last == {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "Recorded."},
                {"type": "text", "text": "Now the VAT, please."},
            ],
        }

    def test_tool_name_can_be_chosen(self) -> None:
        """tool_name names the tool and the tool_choice, and is the call the reply is read from."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON, name="save_invoice")])
        result = extract(ASK, bot, Invoice, tool_name="save_invoice")
        assert bot.requests[-1]["tool_choice"] == {"type": "tool", "name": "save_invoice"}
        assert result.value == INVOICE

    def test_schema_dict_target_returns_the_checked_json(self) -> None:
        """A JSON schema dict target is sent as the input_schema and its value is plain JSON."""
        schema = {
            "type": "object",
            "title": "person",
            "description": "A person named in the text.",
            "properties": {"name": {"type": "string"}, "age": {"type": ["integer", "null"]}},
            "required": ["name"],
        }
        bot = ScriptedAdapter([tool_reply({"name": "Ada", "age": None}, name="record_person")])
        result = extract(Conversation().user("Ada, age unknown."), bot, schema)
        assert result.value == {"name": "Ada", "age": None}
        assert type(result.value) is dict
        assert bot.requests[-1]["tools"][0] == {
            "name": "record_person",
            "description": "A person named in the text.",
            "input_schema": schema,
        }

    def test_list_target_is_wrapped_in_an_object(self) -> None:
        """list[Invoice] is asked for as {"value": [...]} (tools take objects) and unwrapped."""
        bot = ScriptedAdapter([tool_reply({WRAPPER: [INVOICE_JSON]}, name="record_result")])
        result = extract(ASK, bot, list[Invoice])
        assert result.value == [INVOICE]
        input_schema = bot.requests[-1]["tools"][0]["input_schema"]
        assert input_schema["type"] == "object"
        assert input_schema["required"] == [WRAPPER]
        assert input_schema["properties"][WRAPPER] == schema_for(list[Invoice])

    def test_dict_target_is_an_object_already(self) -> None:
        """dict[str, int] has an object schema, so it is sent unwrapped and its values checked."""
        bot = ScriptedAdapter([tool_reply({"pens": 2, "pads": 1}, name="record_result")])
        assert extract(ASK, bot, dict[str, int]).value == {"pens": 2, "pads": 1}
        assert bot.requests[-1]["tools"][0]["input_schema"] == schema_for(dict[str, int])
        bot = ScriptedAdapter([tool_reply({"pens": "two"}, name="record_result")])
        with pytest.raises(
            ExtractionError, match=r"(?s)fit dict\[str, int\].*\$\.pens: expected an integer"
        ):
            extract(ASK, bot, dict[str, int])

    def test_enum_field_is_structured(self) -> None:
        """An Enum field comes back as the Enum member."""
        bot = ScriptedAdapter([tool_reply({"colour": "red", "litres": 2}, name="record_Paint")])
        assert extract(Conversation().user("2 l of red"), bot, Paint).value == Paint(Colour.RED, 2)

    def test_wrong_type_names_the_field(self) -> None:
        """A string where a number belongs is refused, not coerced, naming $.total."""
        bad = {**INVOICE_JSON, "total": "twelve"}
        bot = ScriptedAdapter([tool_reply(bad)])
        with pytest.raises(ExtractionError, match=r"\$\.total: expected a number") as caught:
            extract(ASK, bot, Invoice)
        assert caught.value.raw == bad
        assert caught.value.problems == ('$.total: expected a number, got a string "twelve"',)

    def test_nested_missing_field_names_its_path(self) -> None:
        """A line item without its price is reported at $.items[1].price."""
        bad = {**INVOICE_JSON, "items": [{"name": "pen", "price": 2.5}, {"name": "pad"}]}
        bot = ScriptedAdapter([tool_reply(bad)])
        with pytest.raises(ExtractionError, match=r"\$\.items\[1\]\.price: required field missing"):
            extract(ASK, bot, Invoice)

    def test_number_where_string_belongs_is_refused(self) -> None:
        """cattrs would turn 17 into "17"; the schema check refuses it first."""
        bot = ScriptedAdapter([tool_reply({**INVOICE_JSON, "number": 17})])
        with pytest.raises(ExtractionError, match=r"\$\.number: expected a string, got an integer"):
            extract(ASK, bot, Invoice)

    def test_wrapped_value_missing_is_refused(self) -> None:
        """A wrapped target whose tool input lacks the "value" property is refused."""
        bot = ScriptedAdapter([tool_reply([INVOICE_JSON][0], name="record_result")])
        with pytest.raises(ExtractionError, match="property 'value'"):
            extract(ASK, bot, list[Invoice])

    def test_cut_off_at_max_tokens(self) -> None:
        """A tool call cut off at max_tokens is refused, saying to raise max_tokens."""
        partial = {"number": "A-17"}
        bot = ScriptedAdapter([tool_reply(partial, stop_reason="max_tokens")])
        with pytest.raises(ExtractionError, match=r"cut off at max_tokens=16.*raise max_tokens"):
            extract(ASK, bot, Invoice, max_tokens=16)

    def test_tool_not_called(self) -> None:
        """A reply with no call to the forced tool raises, quoting what the model wrote."""
        bot = ScriptedAdapter([text_reply("I would rather not.")])
        with pytest.raises(ExtractionError, match="did not call the forced tool") as caught:
            extract(ASK, bot, Invoice)
        assert caught.value.raw == "I would rather not."
        assert caught.value.conversation.last.text == "I would rather not."  # type: ignore[union-attr]

    def test_other_tool_called(self) -> None:
        """A call to some other tool is not the forced one."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON, name="something_else")])
        with pytest.raises(ExtractionError, match="'record_Invoice'"):
            extract(ASK, bot, Invoice)

    def test_refusal(self) -> None:
        """stop_reason refusal is reported as a refusal."""
        bot = ScriptedAdapter([text_reply("No.", stop_reason="refusal")])
        with pytest.raises(ExtractionError, match="refused"):
            extract(ASK, bot, Invoice)

    def test_class_validator_failure_names_the_class_problem(self) -> None:
        """A value the class's own attrs validator rejects becomes an ExtractionError."""

        @attrs.frozen
        class Positive:
            n: int = attrs.field(validator=attrs.validators.gt(0))

        bot = ScriptedAdapter([tool_reply({"n": 0}, name="record_Positive")])
        with pytest.raises(ExtractionError, match="must be > 0"):
            extract(Conversation().user("zero"), bot, Positive)

    @pytest.mark.parametrize("option", ["tools", "tool_choice"])
    def test_tools_options_are_refused(self, option: str) -> None:
        """tools/tool_choice cannot be given: extract defines them (nothing is sent)."""
        bot = ScriptedAdapter([])
        given: dict[str, Any] = {option: []}
        with pytest.raises(MalformedInputError, match=option):
            extract(ASK, bot, Invoice, **given)
        assert bot.requests == []


# -- method="prefill" ------------------------------------------------------------------------


class TestPrefill:
    def test_continues_the_brace_into_one_assistant_turn(self) -> None:
        """The reply continues the `{` prefill; one assistant turn holds the whole JSON."""
        rest = json.dumps(INVOICE_JSON)[1:]
        bot = ScriptedAdapter([rest])
        result = extract(ASK, bot, Invoice, method="prefill", max_tokens=512)
        assert result.value == INVOICE
        assert result.raw == "{" + rest
        last = result.conversation.last
        assert len(result.conversation) == len(ASK) + 1
        assert last is not None
        assert last.role == "assistant"
        assert last.text == "{" + rest
        assert last.provenance is not None
        assert last.provenance.prefill == (Text("{"),)

    def test_sends_the_prefill_and_no_tools(self) -> None:
        """The request ends with the assistant prefill `{` and has no tools."""
        bot = ScriptedAdapter(['"a": 1}'])
        extract(ASK, bot, {"type": "object"}, method="prefill", max_tokens=64)
        sent = bot.requests[-1]
        assert sent["messages"][-1] == {"role": "assistant", "content": "{"}
        assert sent["messages"][:-1] == ASK.to_payload()["messages"]
        assert "tools" not in sent
        assert "tool_choice" not in sent

    def test_trailing_text_is_ignored(self) -> None:
        """Text after the first JSON value is ignored for the value but kept in raw."""
        bot = ScriptedAdapter(['"a": 1}\nHope this helps!'])
        result = extract(ASK, bot, {"type": "object"}, method="prefill")
        assert result.value == {"a": 1}
        assert result.raw == '{"a": 1}\nHope this helps!'

    def test_instruct_adds_the_schema_to_the_last_user_turn(self) -> None:
        """instruct=True appends an instruction holding the schema to the last user turn."""
        schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
        bot = ScriptedAdapter(['"a": 1}'])
        result = extract(ASK, bot, schema, method="prefill", instruct=True)
        user = bot.requests[-1]["messages"][-2]
        assert user["role"] == "user"
        assert user["content"][0] == {"type": "text", "text": ASK.last.text}  # type: ignore[union-attr]
        assert json.dumps(schema, separators=(",", ":")) in user["content"][1]["text"]
        assert result.conversation[-2].blocks[1].text == user["content"][1]["text"]  # type: ignore[union-attr]

    def test_without_instruct_the_user_turn_is_untouched(self) -> None:
        """By default only the prefill is added to what the caller wrote."""
        bot = ScriptedAdapter(['"a": 1}'])
        extract(ASK, bot, {"type": "object"}, method="prefill")
        assert bot.requests[-1]["messages"][-2] == ASK.to_payload()["messages"][-1]

    def test_list_target_prefills_the_wrapper(self) -> None:
        """A list target prefills `{"value":` and the reply continues with the array."""
        bot = ScriptedAdapter([json.dumps([INVOICE_JSON]) + "}"])
        result = extract(ASK, bot, list[Invoice], method="prefill")
        assert bot.requests[-1]["messages"][-1] == {"role": "assistant", "content": '{"value":'}
        assert result.value == [INVOICE]
        assert result.conversation.last.text.startswith('{"value":[')  # type: ignore[union-attr]

    def test_invalid_json_raises_with_the_raw_text(self) -> None:
        """Text that is not JSON raises ExtractionError carrying the raw text and conversation."""
        bot = ScriptedAdapter(['"total": 12.5,, }'])
        with pytest.raises(ExtractionError, match="not valid JSON") as caught:
            extract(ASK, bot, Invoice, method="prefill")
        assert caught.value.raw == '{"total": 12.5,, }'
        assert caught.value.conversation.last.text == '{"total": 12.5,, }'  # type: ignore[union-attr]
        assert isinstance(caught.value, ConversationError)

    def test_nan_is_not_json(self) -> None:
        """NaN, which Python's json reader would accept, is refused."""
        bot = ScriptedAdapter(['"x": NaN}'])
        with pytest.raises(ExtractionError, match="NaN is not a JSON number"):
            extract(ASK, bot, {"type": "object"}, method="prefill")

    def test_absurdly_deep_json_is_an_extraction_error(self) -> None:
        """JSON nested too deep for the parser ends in ExtractionError, not RecursionError."""
        depth = 100_000
        bot = ScriptedAdapter(['"a": ' + "[" * depth + "]" * depth + "}"])
        with pytest.raises(ExtractionError, match="nested too deeply"):
            extract(ASK, bot, {"type": "object"}, method="prefill")

    def test_cut_off_at_max_tokens(self) -> None:
        """JSON cut short at max_tokens raises, telling the caller to raise max_tokens."""
        bot = ScriptedAdapter([text_reply('"number": "A-17", "tot', stop_reason="max_tokens")])
        with pytest.raises(
            ExtractionError, match=r"cut off at max_tokens=8.*raise max_tokens"
        ) as caught:
            extract(ASK, bot, Invoice, method="prefill", max_tokens=8)
        assert caught.value.raw == '{"number": "A-17", "tot'

    def test_complete_json_before_max_tokens_is_kept(self) -> None:
        """A complete object followed by text cut at max_tokens is still a complete value."""
        bot = ScriptedAdapter([text_reply('"a": 1} and then some', stop_reason="max_tokens")])
        assert extract(ASK, bot, {"type": "object"}, method="prefill").value == {"a": 1}

    def test_schema_mismatch_names_the_field(self) -> None:
        """A missing field in prefilled JSON is reported by its path."""
        bot = ScriptedAdapter(['"number": "A-17", "items": []}'])
        with pytest.raises(ExtractionError, match=r"\$\.total: required field missing"):
            extract(ASK, bot, Invoice, method="prefill")

    def test_needs_a_user_turn_last(self) -> None:
        """A conversation already ending in an assistant turn cannot take the prefill."""
        with pytest.raises(MalformedInputError, match="ends with a user turn"):
            extract(ASK.assistant("Sure"), ScriptedAdapter([]), Invoice, method="prefill")


# -- schema dict checks ----------------------------------------------------------------------


class TestSchemaChecks:
    @staticmethod
    def run(schema: dict[str, Any], data: Any) -> Extraction[Any]:
        bot = ScriptedAdapter([tool_reply(data, name="record_result")])
        return extract(Conversation().user("go"), bot, schema)

    def test_additional_properties_false(self) -> None:
        """An unexpected field is refused when additionalProperties is false."""
        schema = {
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "additionalProperties": False,
        }
        with pytest.raises(ExtractionError, match=r"\$\.b: unexpected field \(allowed: a\)"):
            self.run(schema, {"a": 1, "b": 2})

    def test_enum(self) -> None:
        """A value outside an enum is refused, listing the allowed values."""
        schema = {"type": "object", "properties": {"c": {"enum": ["red", "blue"]}}}
        with pytest.raises(ExtractionError, match=r'\$\.c: expected one of "red", "blue"'):
            self.run(schema, {"c": "green"})

    def test_items_of_arrays(self) -> None:
        """Each array item is checked against items, at its index."""
        schema = {
            "type": "object",
            "properties": {"xs": {"type": "array", "items": {"type": "integer"}}},
        }
        with pytest.raises(ExtractionError, match=r"\$\.xs\[2\]: expected an integer"):
            self.run(schema, {"xs": [1, 2, 3.5]})

    def test_boolean_is_not_a_number(self) -> None:
        """true is not accepted where a number is expected."""
        schema = {"type": "object", "properties": {"n": {"type": "number"}}}
        with pytest.raises(ExtractionError, match=r"\$\.n: expected a number, got a boolean"):
            self.run(schema, {"n": True})

    def test_refs_and_any_of(self) -> None:
        """Local $ref and anyOf are followed; the closest option's problem is reported."""
        schema = {
            "type": "object",
            "properties": {"p": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]}},
            "$defs": {
                "Point": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}},
                    "required": ["x"],
                }
            },
        }
        assert self.run(schema, {"p": None}).value == {"p": None}
        assert self.run(schema, {"p": {"x": 1}}).value == {"p": {"x": 1}}
        with pytest.raises(ExtractionError, match=r"\$\.p\.x: expected a number"):
            self.run(schema, {"p": {"x": "1"}})
        with pytest.raises(ExtractionError, match=r"\$\.p: expected an object or null"):
            self.run(schema, {"p": 3})

    def test_every_problem_is_listed(self) -> None:
        """All mismatches are collected, not just the first."""
        schema = {
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "required": ["a", "b", "c"],
        }
        with pytest.raises(ExtractionError) as caught:
            self.run(schema, {"a": 1, "b": 2})
        assert len(caught.value.problems) == 3

    def test_ref_cycle_is_reported_not_crashed(self) -> None:
        """A schema whose $ref loops on itself ends in ExtractionError, not RecursionError."""
        schema = {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"$ref": "#/$defs/A"}},
        }
        with pytest.raises(ExtractionError, match="nested too deeply"):
            self.run(schema, {"a": 1})

    def test_dangling_ref_is_refused_before_sending(self) -> None:
        """A $ref that points nowhere is a caller error, raised before any request."""
        bot = ScriptedAdapter([])
        schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}}
        with pytest.raises(MalformedInputError, match="points nowhere"):
            extract(Conversation().user("go"), bot, schema)
        assert bot.requests == []


# -- arguments ------------------------------------------------------------------------------


class TestArguments:
    def test_type_without_a_schema_is_refused_before_sending(self) -> None:
        """A target type the schema builder cannot describe raises before any request."""
        bot = ScriptedAdapter([])
        with pytest.raises(ConversationError, match="JSON has no sets"):
            extract(ASK, bot, set[int])
        assert bot.requests == []

    def test_unknown_method(self) -> None:
        """Only "tool" and "prefill" are methods."""
        with pytest.raises(MalformedInputError, match="method"):
            extract(ASK, ScriptedAdapter([]), Invoice, method="json")  # type: ignore[call-overload]

    def test_bad_tool_name(self) -> None:
        """A tool name the API would refuse is refused before sending."""
        with pytest.raises(MalformedInputError, match="tool_name"):
            extract(ASK, ScriptedAdapter([]), Invoice, tool_name="has space")

    @pytest.mark.parametrize("name", ["save\n", "", "x" * 65, "sa.ve"])
    def test_tool_name_is_the_whole_string(self, name: str) -> None:
        """The name rule holds for the whole string: not even a trailing newline gets by."""
        with pytest.raises(MalformedInputError, match="tool_name"):
            extract(ASK, ScriptedAdapter([]), Invoice, tool_name=name)

    def test_instruct_is_for_prefill(self) -> None:
        """instruct=True with method="tool" is refused: the tool already carries the schema."""
        with pytest.raises(MalformedInputError, match="instruct"):
            extract(ASK, ScriptedAdapter([]), Invoice, instruct=True)


# -- async ----------------------------------------------------------------------------------


class TestAsync:
    @pytest.mark.anyio
    async def test_tool(self) -> None:
        """aextract sends through asend and reads the forced tool's input."""
        bot = ScriptedAdapter([tool_reply(INVOICE_JSON)])
        result = await aextract(ASK, bot, Invoice, max_tokens=512)
        assert result.value == INVOICE
        assert bot.requests[-1]["tool_choice"] == {"type": "tool", "name": "record_Invoice"}

    @pytest.mark.anyio
    async def test_prefill(self) -> None:
        """aextract with method="prefill" continues the brace like the sync call."""
        bot = ScriptedAdapter([json.dumps(INVOICE_JSON)[1:]])
        result = await aextract(ASK, bot, Invoice, method="prefill")
        assert result.value == INVOICE
        assert result.conversation.last.text.startswith("{")  # type: ignore[union-attr]

    @pytest.mark.anyio
    async def test_errors_the_same_way(self) -> None:
        """aextract raises ExtractionError as extract does."""
        bot = ScriptedAdapter([text_reply("no tool")])
        with pytest.raises(ExtractionError, match="did not call"):
            await aextract(ASK, bot, Invoice)
