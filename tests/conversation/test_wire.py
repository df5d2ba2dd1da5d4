"""Tests of the wire format: payloads, blocks, turn shapes, options, equality, immutability."""

from __future__ import annotations

import json
from typing import Any, cast

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import (
    Base64Source,
    Block,
    ContentSource,
    Conversation,
    ConversationError,
    Document,
    FrozenDict,
    FrozenList,
    Image,
    MalformedInputError,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    Turn,
    UnknownBlock,
    URLSource,
    converter,
    split_payload,
)
from tests.strategies import (
    BLOCK_KINDS,
    KNOWN_FIELDS,
    OPTIONAL_FIELDS,
    Case,
    ConversationCase,
    block_cases,
    block_objects,
    conversation_cases,
    json_objects,
    json_values,
    request_options,
    unknown_block_cases,
)

# The union of block classes, as the class cattrs structures a block dict to.
BLOCK = cast("type[Block]", Block)

ASSISTANT_ONLY = (ToolUse, Thinking, RedactedThinking, ServerToolUse, ServerToolResult)


def in_valid_context(block: Block) -> tuple[Conversation, int]:
    """A conversation the API accepts holding ``block`` first in turn ``index``."""
    if isinstance(block, ToolResult):
        asked = ToolUse(block.tool_use_id, "tool", {})
        return Conversation().user("q").assistant([asked]).user([block]), 2
    if isinstance(block, ToolUse):
        return Conversation().user("q").assistant([block]).user([ToolResult(block.id)]), 1
    if isinstance(block, ASSISTANT_ONLY):
        return Conversation().user("q").assistant([block]).user("ok"), 1
    return Conversation().user([block]), 0


def is_plain_text(wire: dict[str, Any]) -> bool:
    """True for a wire block that is text and nothing else (it goes out as a bare string)."""
    return wire.get("type") == "text" and wire.keys() == {"type", "text"}


def safe_options(case: ConversationCase, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` without a thinking setting that would forbid this conversation's prefill."""
    last = case.conversation.last
    if last is not None and last.role == "assistant":
        thinking = options.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") != "disabled":
            return {k: v for k, v in options.items() if k != "thinking"}
    return options


# --- whole conversations ------------------------------------------------------------------


class TestRoundTrip:
    @given(conversation_cases())
    def test_payload_is_the_expected_wire_body(self, case: ConversationCase) -> None:
        """to_payload() of a valid conversation (the rules find nothing) writes the system
        prompt and every block exactly as the API expects."""
        assert case.conversation.violations() == ()
        assert case.conversation.to_payload() == case.payload
        assert case.from_objects.to_payload() == case.payload
        assert case.from_wire.to_payload() == case.payload

    @given(conversation_cases(), request_options())
    def test_payload_round_trips_with_options(
        self, case: ConversationCase, options: dict[str, Any]
    ) -> None:
        """Reading a payload back and writing it with the same options gives the same payload."""
        options = safe_options(case, options)
        payload = case.conversation.to_payload(**options)
        again = Conversation.from_payload(payload).to_payload(**options)
        assert again == payload

    @given(conversation_cases())
    def test_from_payload_equals_the_conversation(self, case: ConversationCase) -> None:
        """A conversation of user and synthetic turns is equal to its payload read back."""
        c = case.conversation
        back = Conversation.from_payload(c.to_payload())
        assert back == c
        assert hash(back) == hash(c)
        assert list(back) == list(c)

    @settings(max_examples=50)
    @given(conversation_cases())
    def test_from_payload_reads_json_bytes_and_text(self, case: ConversationCase) -> None:
        """from_payload reads the body as JSON bytes or str as well as a dict."""
        c = case.conversation
        assert Conversation.from_payload(c.to_json()) == c
        assert Conversation.from_payload(c.to_json().decode("utf-8")) == c

    @settings(max_examples=50)
    @given(conversation_cases(), request_options())
    def test_split_payload_gives_back_conversation_and_options(
        self, case: ConversationCase, options: dict[str, Any]
    ) -> None:
        """split_payload(body) returns the conversation and exactly the other request fields."""
        options = safe_options(case, options)
        c, rest = split_payload(case.conversation.to_payload(**options))
        assert c == case.conversation
        assert rest == options

    @settings(max_examples=50)
    @given(conversation_cases(), request_options())
    def test_to_json_is_orjson_of_payload(
        self, case: ConversationCase, options: dict[str, Any]
    ) -> None:
        """to_json() is byte for byte orjson.dumps(to_payload()) with the same options."""
        options = safe_options(case, options)
        body = case.conversation.to_json(**options)
        assert body == orjson.dumps(case.conversation.to_payload(**options))
        assert json.loads(body) == case.conversation.to_payload(**options)

    @settings(max_examples=50)
    @given(conversation_cases())
    def test_every_way_of_giving_content_is_the_same_value(self, case: ConversationCase) -> None:
        """Turns given as objects, wire dicts, loose dicts or strings make equal conversations."""
        assert case.conversation == case.from_objects == case.from_wire
        assert hash(case.conversation) == hash(case.from_objects) == hash(case.from_wire)

    @given(
        st.lists(
            st.text(min_size=1, max_size=8).filter(lambda s: s == s.strip() and s.strip()),
            min_size=1,
            max_size=150,
        ),
        st.lists(st.tuples(st.integers(0, 150), st.booleans()), min_size=1, max_size=6),
    )
    @settings(max_examples=40)
    def test_payload_of_a_branch_does_not_depend_on_what_was_encoded_before(
        self, texts: list[str], branches: list[tuple[int, bool]]
    ) -> None:
        """Encoding branches of one history in any order gives each its own exact payload."""
        base = Conversation()
        for i, text in enumerate(texts):
            base = base.user(text) if i % 2 == 0 else base.assistant(text)
        made = [base]
        for cut, bad in branches:
            prefix = base[: min(cut, len(base))]
            made.append(prefix.user("" if bad else "branch"))
            made.append(prefix)
        for c in [*made, *reversed(made), *made]:
            fresh = Conversation(c.system, list(c))
            assert c.violations() == fresh.violations()
            if not fresh.violations():
                assert c.to_json() == fresh.to_json()


# --- blocks -------------------------------------------------------------------------------


REFERENCE_EXAMPLES: list[dict[str, Any]] = [
    {
        "type": "text",
        "text": "Refunds within 30 days.",
        "citations": [
            {
                "type": "char_location",
                "cited_text": "30 days",
                "document_index": 0,
                "document_title": "Policy",
                "start_char_index": 0,
                "end_char_index": 7,
            }
        ],
    },
    {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    },
    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
    {"type": "image", "source": {"type": "file", "file_id": "file_011"}},
    {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        "title": "Q3 report",
        "context": "uploaded by finance",
        "citations": {"enabled": True},
        "cache_control": {"type": "ephemeral"},
    },
    {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "raw text"},
    },
    {
        "type": "document",
        "source": {"type": "content", "content": [{"type": "text", "text": "A unit."}]},
    },
    {
        "type": "search_result",
        "source": "https://kb.example/article/7",
        "title": "Refund policy",
        "content": [{"type": "text", "text": "Refunds within 30 days."}],
        "citations": {"enabled": True},
    },
    {
        "type": "tool_use",
        "id": "toolu_01A09q90qw90lq917835lq9",
        "name": "get_weather",
        "input": {"location": "Paris", "days": [1, 2, {"deep": [None, 1.5]}]},
    },
    {
        "type": "tool_result",
        "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
        "content": "15 degrees, cloudy",
        "is_error": False,
    },
    {"type": "thinking", "thinking": "Let me work out...", "signature": "EqQBCgIYAhIM"},
    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"},
    {
        "type": "server_tool_use",
        "id": "srvtoolu_01",
        "name": "web_search",
        "input": {"query": "weather"},
    },
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_01",
        "content": [
            {
                "type": "web_search_result",
                "url": "https://example.com",
                "title": "Weather",
                "encrypted_content": "abc",
                "page_age": "April 30, 2025",
            }
        ],
    },
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_01",
        "content": {"type": "web_search_tool_result_error", "error_code": "unavailable"},
    },
    {"type": "mcp_tool_use", "id": "mcptoolu_1", "name": "x", "server_name": "s"},
]
REFERENCE_IDS = [f"{i}-{w['type']}" for i, w in enumerate(REFERENCE_EXAMPLES)]


class TestBlocks:
    @pytest.mark.parametrize("kind", sorted(BLOCK_KINDS))
    @given(data=st.data())
    @settings(max_examples=30)
    def test_structure_then_unstructure_gives_the_same_dict(
        self, kind: str, data: st.DataObject
    ) -> None:
        """Every block type reads from its wire dict and writes the same dict back."""
        case: Case = data.draw(BLOCK_KINDS[kind]())
        block = converter.structure(case.wire, BLOCK)
        assert block == case.obj
        assert type(block) is type(case.obj)
        assert converter.unstructure(block) == case.wire
        assert converter.structure(case.wire, type(case.obj)) == case.obj

    @pytest.mark.parametrize("kind", sorted(BLOCK_KINDS))
    @given(data=st.data())
    @settings(max_examples=30)
    def test_null_optional_fields_read_as_absent(self, kind: str, data: st.DataObject) -> None:
        """A known optional field given as null means the same as its absence and is not
        written back."""
        case: Case = data.draw(BLOCK_KINDS[kind]())
        loose = dict(case.wire)
        for key in OPTIONAL_FIELDS.get(loose["type"], ()):
            loose.setdefault(key, None)
        block = converter.structure(loose, BLOCK)
        assert block == case.obj
        assert converter.unstructure(block) == case.wire
        assert converter.unstructure(converter.structure(case.loose, BLOCK)) == case.wire

    @pytest.mark.parametrize("kind", sorted(BLOCK_KINDS))
    @given(data=st.data())
    @settings(max_examples=20)
    def test_block_in_a_payload_is_its_wire_dict(self, kind: str, data: st.DataObject) -> None:
        """A block object put in a conversation appears in the payload as its wire dict, and
        reads back as an equal object."""
        case: Case = data.draw(BLOCK_KINDS[kind]())
        c, index = in_valid_context(case.obj)
        payload = c.to_payload()
        content = payload["messages"][index]["content"]
        if is_plain_text(case.wire):
            assert content == case.wire["text"]
        else:
            assert content[0] == case.wire
        assert Conversation.from_payload(payload)[index].blocks[0] == case.obj

    @given(data=st.data())
    @settings(max_examples=20)
    def test_block_given_as_dict_to_user_is_read_like_structure(self, data: st.DataObject) -> None:
        """Conversation().user([d]) stores the same block as converter.structure(d, Block)."""
        case: Case = data.draw(block_cases())
        turn = Conversation().user([case.loose]).last
        assert turn is not None
        assert turn.blocks == (case.obj,)

    @given(unknown_block_cases())
    def test_unknown_block_goes_back_exactly(self, case: Case) -> None:
        """A block of an unknown type is kept as an UnknownBlock and written back unchanged,
        nulls and all."""
        block = converter.structure(case.wire, BLOCK)
        assert isinstance(block, UnknownBlock)
        assert block.raw == case.wire
        assert block.type == case.wire["type"]
        c = Conversation().user([case.wire])
        assert c.to_payload()["messages"][0]["content"] == [case.wire]
        assert orjson.loads(c.to_json())["messages"][0]["content"][0] == case.wire

    @pytest.mark.parametrize("kind", sorted(set(BLOCK_KINDS) - {"unknown"}))
    @given(data=st.data())
    @settings(max_examples=20)
    def test_unknown_fields_of_known_blocks_are_kept(self, kind: str, data: st.DataObject) -> None:
        """Fields a newer API adds to a known block land in .extra and are written back."""
        case: Case = data.draw(BLOCK_KINDS[kind]())
        known = KNOWN_FIELDS[case.wire["type"]] | {"type"}
        extra = data.draw(
            st.dictionaries(
                st.text(min_size=1, max_size=10).filter(lambda k: k not in known),
                json_values(6),
                min_size=1,
                max_size=3,
            )
        )
        wire = {**case.wire, **extra}
        block = converter.structure(wire, BLOCK)
        assert not isinstance(block, UnknownBlock)  # a known type, so it has .extra
        assert dict(block.extra) == {**case.obj.extra, **extra}
        assert converter.unstructure(block) == wire
        assert orjson.loads(orjson.dumps(converter.unstructure(block))) == wire

    @pytest.mark.parametrize("wire", REFERENCE_EXAMPLES, ids=REFERENCE_IDS)
    def test_reference_examples_round_trip(self, wire: dict[str, Any]) -> None:
        """Each block example of the API reference reads and writes back unchanged."""
        assert converter.unstructure(converter.structure(wire, BLOCK)) == wire

    def test_response_text_with_null_citations_is_a_plain_text_block(self) -> None:
        """A reply's {"type": "text", "text": ..., "citations": null} reads as plain text."""
        block = converter.structure({"type": "text", "text": "Hi", "citations": None}, BLOCK)
        assert block == Text("Hi")
        assert converter.unstructure(block) == {"type": "text", "text": "Hi"}

    def test_structure_to_a_specific_class_refuses_another_type(self) -> None:
        """converter.structure(d, Text) of a tool_use dict raises MalformedInputError."""
        with pytest.raises(MalformedInputError, match="Text"):
            converter.structure({"type": "tool_use", "id": "a", "name": "b", "input": {}}, Text)


class TestObjectsStayFaithful:
    """Block objects built by hand must write wire dicts that read back as themselves."""

    def test_document_title_must_be_a_string(self) -> None:
        """Document(title=5) is refused, as the wire reader refuses a non-string title."""
        # Regression: Document.title/context once had no validator, so the payload carried
        # "title": 5, which from_payload then refused.
        with pytest.raises(MalformedInputError):
            Document(URLSource("https://example.com/a.pdf"), title=5)  # type: ignore[arg-type]

    def test_document_context_must_be_a_string(self) -> None:
        """Document(context=[...]) is refused, as the wire reader refuses it."""
        # Regression: as test_document_title_must_be_a_string, for ``context``.
        with pytest.raises(MalformedInputError):
            Document(URLSource("https://example.com/a.pdf"), context=["x"])  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("make", "field", "value"),
        [
            (lambda extra: Text("hi", extra=extra), "text", "bye"),
            (lambda extra: Text("hi", extra=extra), "type", "image"),
            (lambda extra: ToolUse("toolu_1", "f", {}, extra=extra), "id", "toolu_2"),
            (lambda extra: Thinking("t", "sig", extra=extra), "signature", "forged"),
        ],
        ids=["text.text", "text.type", "tool_use.id", "thinking.signature"],
    )
    def test_extra_cannot_overwrite_a_known_field(self, make: Any, field: str, value: str) -> None:
        """An ``extra`` naming a known field is refused rather than overwriting it on the wire."""
        # Regression: constructors once accepted extra={"text": ...} / {"type": ...}, and the
        # wire dict carried the extra's value in place of the block's own field.
        try:
            block = make({field: value})
        except MalformedInputError:
            return
        wire = converter.unstructure(block)
        assert wire[field] != value, f"extra overwrote {field!r}: {wire}"

    @pytest.mark.parametrize(
        "raw",
        [{"type": "text", "text": "x"}, {"type": "tool_use", "id": "a", "name": "b", "input": {}}],
        ids=["text", "tool_use"],
    )
    def test_unknown_block_of_a_known_type_round_trips_or_is_refused(
        self, raw: dict[str, Any]
    ) -> None:
        """An UnknownBlock whose raw ``type`` is a known one cannot make a payload that reads
        back as a different conversation."""
        # Regression: UnknownBlock({"type": "text", ...}) was once accepted; its payload read
        # back as a Text block, so from_payload(c.to_payload()) != c.
        try:
            block = UnknownBlock(raw)
        except MalformedInputError:
            return
        c = Conversation().user("q").assistant([block]).user("ok")
        assert Conversation.from_payload(c.to_payload()) == c

    def test_unknown_block_without_a_type_is_refused(self) -> None:
        """UnknownBlock({}) is refused: its wire dict could never be read back."""
        # Regression: UnknownBlock({}) was once accepted and written as {} in the payload,
        # which from_payload refuses ("a content block needs a string 'type'").
        with pytest.raises(MalformedInputError):
            UnknownBlock({})


# --- turn shapes --------------------------------------------------------------------------


class TestTurnShape:
    @given(conversation_cases())
    @settings(max_examples=50)
    def test_only_single_plain_text_turns_are_bare_strings(self, case: ConversationCase) -> None:
        """A message's content is a bare string exactly when the turn is one plain text block."""
        payload = case.conversation.to_payload()
        for turn, message in zip(case.conversation, payload["messages"], strict=True):
            blocks = turn.blocks
            plain = len(blocks) == 1 and is_plain_text(converter.unstructure(blocks[0]))
            assert isinstance(message["content"], str) == plain
            assert isinstance(turn.content, str) == plain
            assert isinstance(turn.blocks, tuple)

    @pytest.mark.parametrize(
        ("content", "wire"),
        [
            ("Hello", "Hello"),
            (Text("Hello"), "Hello"),
            ([Text("Hello")], "Hello"),
            (["Hello"], "Hello"),
            ({"type": "text", "text": "Hello"}, "Hello"),
            ({"type": "text", "text": "Hello", "citations": None}, "Hello"),
            (
                ["Hello", "again"],
                [{"type": "text", "text": "Hello"}, {"type": "text", "text": "again"}],
            ),
            (
                {"type": "text", "text": "Hi", "citations": []},
                [{"type": "text", "text": "Hi", "citations": []}],
            ),
            (
                Text("Hi", cache_control={"type": "ephemeral"}),
                [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}],
            ),
            (
                {"type": "text", "text": "Hi", "x": None},
                [{"type": "text", "text": "Hi", "x": None}],
            ),
            (
                Image(URLSource("https://example.com/a.png")),
                [{"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}],
            ),
        ],
        ids=[
            "str",
            "Text",
            "[Text]",
            "[str]",
            "dict",
            "dict-null-citations",
            "two-texts",
            "empty-citations",
            "cache_control",
            "extra-null",
            "image",
        ],
    )
    def test_turn_content_shape(self, content: Any, wire: Any) -> None:
        """A turn is a bare string only for one plain text block, else a list of blocks."""
        c = Conversation().user(content)
        assert c.to_payload()["messages"] == [{"role": "user", "content": wire}]
        assert Conversation.from_payload(c.to_payload()) == c

    def test_turn_content_and_blocks(self) -> None:
        """Turn.content is the wire form (bare str or tuple); Turn.blocks is always a tuple."""
        plain = Turn("user", [Text("x")])
        assert plain.content == "x"
        assert plain.blocks == (Text("x"),)
        rich = Turn("user", [Text("x"), Text("y")])
        assert rich.content == (Text("x"), Text("y")) == rich.blocks


# --- options ------------------------------------------------------------------------------

EVERY_FIELD: dict[str, Any] = {
    "model": "claude-sonnet-4-20250514",
    "max_tokens": 1024,
    "metadata": {"user_id": "u-1"},
    "stop_sequences": ["\n\nHuman:", "END"],
    "stream": False,
    "temperature": 0.5,
    "top_p": 0.9,
    "top_k": 40,
    "tools": [
        {
            "name": "get_weather",
            "description": "Current weather for a city.",
            "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
        },
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
    ],
    "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
    "thinking": {"type": "disabled"},
    "service_tier": "auto",
    "container": "container_1",
    "mcp_servers": [{"type": "url", "url": "https://mcp.example/", "name": "m"}],
    "output_config": {"effort": "low"},
    "inference_geo": "us",
    "speed": "fast",
    "diagnostics": {"previous_message_id": "msg_1"},
    "context_management": {"edits": []},
    "a_field_from_2030": {"nested": [1, None, "x", 2.5, True]},
}


class TestOptions:
    def test_every_request_field_passes_through(self) -> None:
        """Every known request field, newer ones and an unknown future one go out unchanged."""
        c = Conversation(system="Be terse.").user("Hello")
        payload = c.to_payload(**EVERY_FIELD)
        assert {k: payload[k] for k in EVERY_FIELD} == EVERY_FIELD
        assert set(payload) == {*EVERY_FIELD, "system", "messages"}
        assert split_payload(payload)[1] == EVERY_FIELD

    @given(conversation_cases(), request_options())
    @settings(max_examples=50)
    def test_options_pass_through_unchanged(
        self, case: ConversationCase, options: dict[str, Any]
    ) -> None:
        """to_payload(**options) holds every option as given, besides system and messages."""
        options = safe_options(case, options)
        payload = case.conversation.to_payload(**options)
        assert {k: v for k, v in payload.items() if k not in ("system", "messages")} == options
        assert payload["messages"] == case.payload["messages"]

    @given(conversation_cases(), request_options())
    @settings(max_examples=30)
    def test_options_are_not_remembered(
        self, case: ConversationCase, options: dict[str, Any]
    ) -> None:
        """Options given to one to_payload call do not appear in the next call's payload."""
        options = safe_options(case, options)
        case.conversation.to_json(**options)
        assert case.conversation.to_payload() == case.payload

    @pytest.mark.parametrize("name", ["system", "messages"])
    def test_system_and_messages_are_not_options(self, name: str) -> None:
        """Giving system or messages as an option raises MalformedInputError naming it."""
        c = Conversation().user("Hello")
        with pytest.raises(MalformedInputError, match=name) as info:
            c.to_payload(**{name: "x"})
        assert info.value.path == f"$.{name}"
        with pytest.raises(MalformedInputError, match=name):
            c.to_json(**{name: []})

    def test_tuples_and_blocks_in_options_are_written_as_json(self) -> None:
        """An option holding a tuple or a block object is written as its JSON form."""
        payload = (
            Conversation().user("Hi").to_payload(stop_sequences=("a", "b"), x_blocks=[Text("t")])
        )
        assert payload["stop_sequences"] == ["a", "b"]
        assert payload["x_blocks"] == [{"type": "text", "text": "t"}]


# --- equality -----------------------------------------------------------------------------


class TestEquality:
    def test_text_given_any_way_is_equal(self) -> None:
        """A text turn given as a str, a Text, or a wire dict makes equal conversations."""
        forms = [
            Conversation().user("x"),
            Conversation().user(Text("x")),
            Conversation().user({"type": "text", "text": "x"}),
            Conversation().user(["x"]),
            Conversation().user([Text("x")]),
            Conversation().user(({"type": "text", "text": "x", "citations": None},)),
        ]
        assert all(f == forms[0] for f in forms)
        assert len({hash(f) for f in forms}) == 1

    def test_blocks_given_as_dicts_or_objects_are_equal(self) -> None:
        """A block given as an object or as its wire dict makes equal, equally hashed turns."""
        image = Image(
            Base64Source("image/png", "iVBORw0KGgo="), cache_control={"type": "ephemeral"}
        )
        wire = converter.unstructure(image)
        a = Conversation().user([image, "What is this?"])
        b = Conversation().user([wire, {"type": "text", "text": "What is this?"}])
        assert a == b
        assert hash(a) == hash(b)

    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (Conversation().user("x"), Conversation().user("y")),
            (Conversation().user("x"), Conversation().assistant("x")),
            (Conversation(system="s").user("x"), Conversation().user("x")),
            (Conversation(system="s").user("x"), Conversation(system=[Text("s")]).user("x")),
            (Conversation(metadata={"a": 1}).user("x"), Conversation().user("x")),
            (Conversation().user("x"), Conversation().user("x").user("x")),
            (Conversation().user("x"), Conversation().user(Text("x", citations=[]))),
            (
                Conversation().user(ToolResult("t", "ok")),
                Conversation().user(ToolResult("t", [Text("ok")])),
            ),
        ],
        ids=[
            "text",
            "role",
            "system",
            "system-shape",
            "metadata",
            "length",
            "citations",
            "tool-result-shape",
        ],
    )
    def test_different_conversations_are_unequal(self, a: Conversation, b: Conversation) -> None:
        """Conversations that differ in any turn, role, system or metadata are unequal."""
        assert a != b

    @pytest.mark.parametrize(("x", "y"), [(True, 1), (False, 0)], ids=["true-1", "false-0"])
    def test_equal_conversations_send_equal_payloads(self, x: Any, y: Any) -> None:
        """Two conversations that compare equal produce the same request body."""
        # Regression: JSON fields were once compared with Python ==, where True == 1, so
        # conversations whose tool inputs differed (true vs 1) were "equal" and hashed alike,
        # yet sent different JSON.
        a = Conversation().user("q").assistant(ToolUse("toolu_1", "f", {"v": x}))
        b = Conversation().user("q").assistant(ToolUse("toolu_1", "f", {"v": y}))
        assert a != b or a.to_json() == b.to_json()

    @given(json_objects().map(lambda x: {**x, "zero": -0.0}) | json_objects(), st.data())
    def test_tool_inputs_equal_exactly_when_their_json_is(
        self, x: dict[str, Any], data: st.DataObject
    ) -> None:
        """Two tool_use blocks are equal exactly when their inputs write the same JSON (true is
        not 1, 1 is not 1.0, -0.0 is not 0.0, key order does not matter); equal ones hash
        alike."""
        y = data.draw(
            st.sampled_from(
                [
                    orjson.loads(orjson.dumps(x)),
                    dict(reversed(list(x.items()))),
                    _retyped(x),
                    {**x, "zero": 0.0},
                ]
            )
            | json_objects()
        )
        a, b = ToolUse("t", "f", x), ToolUse("t", "f", y)
        assert (a == b) == (typed_json(x) == typed_json(y))
        if a == b:
            assert hash(a) == hash(b)


def typed_json(value: Any) -> Any:
    """A JSON value with keys sorted and each scalar replaced by its JSON text: equal exactly
    when two values are written as the same JSON (so True != 1, 1 != 1.0, -0.0 != 0.0)."""
    if isinstance(value, dict):
        return ("object", sorted((k, typed_json(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("array", [typed_json(v) for v in value])
    return orjson.dumps(value)


def _retyped(value: Any) -> Any:
    """``value`` with every bool made an int and every int a float (the same under Python ==)."""
    if isinstance(value, dict):
        return {k: _retyped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_retyped(v) for v in value]
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and abs(value) < 2**53:
        return float(value)
    return value


# --- immutability -------------------------------------------------------------------------

DICT_MUTATIONS = {
    "setitem": lambda d: d.__setitem__("k", 1),
    "delitem": lambda d: d.__delitem__("a"),
    "clear": lambda d: d.clear(),
    "pop": lambda d: d.pop("a"),
    "popitem": lambda d: d.popitem(),
    "setdefault": lambda d: d.setdefault("k", 1),
    "update": lambda d: d.update(k=1),
    "ior": lambda d: d.__ior__({"k": 1}),
}
LIST_MUTATIONS = {
    "setitem": lambda v: v.__setitem__(0, 9),
    "setslice": lambda v: v.__setitem__(slice(0, 1), [9]),
    "delitem": lambda v: v.__delitem__(0),
    "append": lambda v: v.append(9),
    "extend": lambda v: v.extend([9]),
    "insert": lambda v: v.insert(0, 9),
    "pop": lambda v: v.pop(),
    "remove": lambda v: v.remove(1),
    "clear": lambda v: v.clear(),
    "sort": lambda v: v.sort(),
    "reverse": lambda v: v.reverse(),
    "iadd": lambda v: v.__iadd__([9]),
    "imul": lambda v: v.__imul__(2),
}


class TestImmutability:
    @pytest.mark.parametrize("mutate", DICT_MUTATIONS.values(), ids=DICT_MUTATIONS.keys())
    def test_frozen_dict_refuses_mutation(self, mutate: Any) -> None:
        """Every mutating method of a FrozenDict raises TypeError and changes nothing."""
        block = ToolUse("t", "f", {"a": 1, "b": [1, 2]})
        with pytest.raises(TypeError):
            mutate(block.input)
        assert block.input == {"a": 1, "b": [1, 2]}

    @pytest.mark.parametrize("mutate", LIST_MUTATIONS.values(), ids=LIST_MUTATIONS.keys())
    def test_frozen_list_refuses_mutation(self, mutate: Any) -> None:
        """Every mutating method of a FrozenList raises TypeError and changes nothing."""
        block = ToolUse("t", "f", {"a": [1, 2, 3]})
        with pytest.raises(TypeError):
            mutate(block.input["a"])
        assert block.input["a"] == [1, 2, 3]

    def test_augmented_assignment_on_frozen_values_fails(self) -> None:
        """``x["k"] += [...]`` and ``x |= {...}`` on frozen JSON raise TypeError."""
        block = ToolUse("t", "f", {"a": [1]})
        items = block.input
        with pytest.raises(TypeError):
            items |= {"b": 2}
        with pytest.raises(TypeError):
            items["a"] += [2]
        assert block.input == {"a": [1]}

    @given(block_cases())
    def test_json_fields_are_frozen_all_the_way_down(self, case: Case) -> None:
        """Every dict and list inside a block read from the wire is a FrozenDict / FrozenList."""

        def check(value: Any) -> None:
            if isinstance(value, dict):
                assert type(value) is FrozenDict
                for item in value.values():
                    check(item)
            elif isinstance(value, list):
                assert type(value) is FrozenList
                for item in value:
                    check(item)
            elif attrs.has(type(value)):
                for field in attrs.fields(type(value)):
                    check(getattr(value, field.name))
            elif isinstance(value, tuple):
                for item in value:
                    check(item)

        check(converter.structure(case.loose, BLOCK))
        check(case.obj)

    @given(block_objects())
    def test_block_attributes_cannot_be_set(self, block: Block) -> None:
        """Setting any attribute of a block raises AttributeError."""
        for field in attrs.fields(type(block)):
            with pytest.raises(AttributeError):
                setattr(block, field.name, None)
        with pytest.raises(AttributeError):
            block.new_attribute = 1  # type: ignore[union-attr]

    def test_turn_and_conversation_attributes_cannot_be_set(self) -> None:
        """Turns and conversations refuse attribute assignment and deletion."""
        c = Conversation(system="s").user("x").assistant("y")
        turn = c[0]
        for name in ("role", "content", "provenance"):
            with pytest.raises(AttributeError):
                setattr(turn, name, None)
        for name in ("system", "metadata", "_at", "_header", "anything"):
            with pytest.raises(AttributeError):
                setattr(c, name, None)
        with pytest.raises(AttributeError):
            del c._at
        assert c.to_payload()["messages"][0] == {"role": "user", "content": "x"}

    def test_appending_leaves_the_original_unchanged(self) -> None:
        """user(), assistant() and fold() return new conversations; the old one is unchanged."""
        c = Conversation().user("x")
        before = c.to_json()
        c.user("y")
        c.assistant("z")
        c.fold({"content": [{"type": "text", "text": "w"}]})
        assert len(c) == 1
        assert c.to_json() == before

    def test_changing_the_input_dict_afterwards_changes_nothing(self) -> None:
        """A conversation built from dicts copies them: later edits of the dicts don't leak in."""
        tool_input: dict[str, Any] = {"a": [1, {"b": 2}]}
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": "t",
            "name": "f",
            "input": tool_input,
            "x": [1],
        }
        unknown: dict[str, Any] = {"type": "future", "v": {"w": [1]}}
        c = Conversation().user("q").assistant([block, unknown])
        before = c.to_json()
        tool_input["a"].append(3)
        tool_input["a"][1]["b"] = 5
        block["x"].append(2)
        unknown["v"]["w"].append(2)
        assert c.to_json() == before

    def test_changing_a_returned_payload_changes_nothing(self) -> None:
        """Editing a dict returned by to_payload() does not affect the conversation."""
        c = Conversation().user("q").assistant(ToolUse("t", "f", {"a": [1]}))
        payload = c.to_payload()
        payload["messages"][1]["content"][0]["input"]["a"].append(2)
        payload["messages"].append({"role": "user", "content": "z"})
        assert c.to_payload()["messages"][1]["content"][0]["input"] == {"a": [1]}
        assert len(c.to_payload()["messages"]) == 2

    def test_content_source_blocks_are_a_tuple(self) -> None:
        """Nested block sequences are stored as tuples, not lists."""
        doc = Document(ContentSource([Text("a"), {"type": "text", "text": "b"}]))
        assert isinstance(doc.source, ContentSource)
        assert doc.source.content == (Text("a"), Text("b"))
        result = SearchResult("s", "t", [Text("a")])
        assert isinstance(result.content, tuple)


def test_conversation_error_is_the_root() -> None:
    """MalformedInputError is both a ConversationError and a ValueError."""
    assert issubclass(MalformedInputError, ConversationError)
    assert issubclass(MalformedInputError, ValueError)
