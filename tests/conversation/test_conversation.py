"""Tests for Conversation: the public contract, value semantics and the sequence protocol."""

from __future__ import annotations

import base64
import copy
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import (
    Conversation,
    ConversationError,
    FrozenDict,
    FrozenList,
    Image,
    MalformedInputError,
    Provenance,
    Text,
    ToolResult,
    ToolUse,
    Turn,
)
from tests.bodies import message_body
from tests.images import wire_image

MODEL = "claude-3-5-sonnet-20241022"

# The start of a 16 x 16 JPEG file: its header up to the frame size (the library sniffs
# the magic bytes and reads the size, refusing an image whose size cannot be read).
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\xff\xc0\x00\x11\x08\x00\x10\x00\x10\x03"
    + bytes(9)
    + bytes(range(64))
)
JPEG_B64 = base64.b64encode(JPEG).decode("ascii")


def reply(text: str | None, **fields: object) -> dict[str, object]:
    """A Messages API response holding one text block (or no content for None)."""
    blocks = [] if text is None else [{"type": "text", "text": text}]
    return message_body(*blocks, **{"model": MODEL, **fields})


def provenance_of(turn: Turn | None) -> Provenance:
    """An assistant turn's provenance (only a user turn has none)."""
    assert turn is not None
    assert turn.provenance is not None
    return turn.provenance


def three_turns() -> Conversation:
    """The contract's three-turn conversation."""
    return Conversation().user("Hello, Claude").assistant("Hello!").user("Describe LLMs?")


class TestContract:
    def test_design_example_exact_payload(self) -> None:
        """The design.md example produces exactly the documented request body."""
        c0 = Conversation()
        c1 = c0.user("Hello, Claude")
        c2 = c1.assistant("Hello!")
        c3 = c2.user("Can you describe LLMs to me?")
        assert c3.to_payload(model="claude-3-5-sonnet-20241022", max_tokens=1024) == {
            "model": "claude-3-5-sonnet-20241022",
            "max_tokens": 1024,
            "messages": [
                {"role": "user", "content": "Hello, Claude"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Can you describe LLMs to me?"},
            ],
        }

    def test_to_json_is_compact_json_of_payload(self) -> None:
        """to_json returns the same body as to_payload, as compact JSON bytes."""
        c = three_turns()
        body = c.to_json(model=MODEL, max_tokens=1024, temperature=0.5)
        assert isinstance(body, bytes)
        assert body == orjson.dumps(c.to_payload(model=MODEL, max_tokens=1024, temperature=0.5))
        assert b" " not in body.replace(b"Hello, Claude", b"").replace(b"Describe LLMs?", b"")

    def test_system_prompt_goes_in_top_level_field(self) -> None:
        """Conversation(system=...) puts the prompt in the top-level system field."""
        c = Conversation(system="Be brief.").user("Hi")
        assert c.to_payload(model=MODEL, max_tokens=5) == {
            "model": MODEL,
            "max_tokens": 5,
            "system": "Be brief.",
            "messages": [{"role": "user", "content": "Hi"}],
        }

    def test_system_as_blocks_goes_out_as_list(self) -> None:
        """A system prompt of text blocks goes out as a list of text block dicts."""
        c = Conversation(system=[Text("A", cache_control={"type": "ephemeral"}), "B"]).user("Hi")
        assert c.to_payload()["system"] == [
            {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "B"},
        ]

    def test_system_is_not_an_option(self) -> None:
        """Passing system= or messages= to to_payload raises instead of being silently used."""
        c = three_turns()
        with pytest.raises(ConversationError, match="system"):
            c.to_payload(system="x")
        with pytest.raises(ConversationError, match="messages"):
            c.to_payload(messages=[])

    def test_request_options_pass_through(self) -> None:
        """Any request field given as a keyword appears in the body unchanged."""
        tools = [{"name": "t", "description": "d", "input_schema": {"type": "object"}}]
        body = three_turns().to_payload(
            model=MODEL,
            max_tokens=10,
            stop_sequences=["\n\nHuman:"],
            tools=tools,
            tool_choice={"type": "auto"},
            metadata={"user_id": "u-1"},
        )
        assert body["stop_sequences"] == ["\n\nHuman:"]
        assert body["tools"] == tools
        assert body["tool_choice"] == {"type": "auto"}
        assert body["metadata"] == {"user_id": "u-1"}
        assert list(body)[-1] == "messages"

    def test_multi_block_turn_serializes_as_list(self) -> None:
        """A turn of more than one plain text block serializes as a list of blocks."""
        c = Conversation().user(["one", "two"])
        assert c.to_payload()["messages"] == [
            {
                "role": "user",
                "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
            }
        ]


class TestImmutability:
    def test_user_leaves_original_unchanged(self) -> None:
        """user() returns a new conversation; the one it was called on is unchanged."""
        c0 = Conversation()
        c1 = c0.user("Hello")
        assert len(c0) == 0
        assert c0.last is None
        assert len(c1) == 1
        assert c0 is not c1
        assert c0 == Conversation()

    def test_every_builder_returns_new_value(self) -> None:
        """assistant, with_system and with_metadata leave the original conversation unchanged."""
        c = three_turns()
        before = c.to_json()
        c.assistant("x")
        c.with_system("sys")
        c.with_metadata(title="t")
        c.fold(reply("ok"))
        assert c.to_json() == before
        assert c.system is None
        assert c.metadata == {}
        assert len(c) == 3

    def test_setting_attributes_raises(self) -> None:
        """Assigning or deleting any attribute of a Conversation raises AttributeError."""
        c = three_turns()
        with pytest.raises(AttributeError):
            c.system = "x"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            c._at = None  # type: ignore[assignment]
        with pytest.raises(AttributeError):
            c.anything = 1
        with pytest.raises(AttributeError):
            del c._at
        assert len(c) == 3

    def test_turns_are_frozen(self) -> None:
        """A Turn's attributes cannot be assigned."""
        turn = three_turns()[0]
        with pytest.raises(AttributeError):
            turn.role = "assistant"  # type: ignore[misc]
        with pytest.raises(AttributeError):
            turn.content = "x"  # type: ignore[misc]

    def test_copy_returns_same_value(self) -> None:
        """copy and deepcopy of an immutable conversation return an equal value."""
        c = three_turns()
        assert copy.copy(c) == c
        assert copy.deepcopy(c) == c


class TestSequence:
    def test_len_and_indexing(self) -> None:
        """len counts turns and c[i] returns the i-th turn, negative indexes from the end."""
        c = three_turns()
        assert len(c) == 3
        assert [c[i].content for i in range(3)] == ["Hello, Claude", "Hello!", "Describe LLMs?"]
        assert c[-1].content == "Describe LLMs?"
        assert c[-3].content == "Hello, Claude"
        assert c[1].role == "assistant"
        assert isinstance(c[0], Turn)

    @pytest.mark.parametrize("index", [3, 4, -4, 100])
    def test_index_out_of_range(self, index: int) -> None:
        """An index past either end raises IndexError."""
        with pytest.raises(IndexError):
            three_turns()[index]

    def test_empty_index_raises(self) -> None:
        """Indexing an empty conversation raises IndexError."""
        with pytest.raises(IndexError):
            Conversation()[0]
        with pytest.raises(IndexError):
            Conversation()[-1]

    def test_non_integer_index_raises_type_error(self) -> None:
        """Indexing with something other than an int or slice raises TypeError."""
        with pytest.raises(TypeError):
            three_turns()["0"]  # type: ignore[call-overload]

    def test_prefix_slices(self) -> None:
        """c[:k], c[:-1], c[:0] and c[:] return the prefix conversations."""
        c = three_turns()
        one = Conversation().user("Hello, Claude")
        two = one.assistant("Hello!")
        assert c[:1] == one
        assert c[:2] == two
        assert c[:-1] == two
        assert c[:-2] == one
        assert c[:0] == Conversation()
        assert c[:] == c
        assert c[:3] == c
        assert c[:100] == c
        assert c[0:2] == two
        assert isinstance(c[:2], Conversation)
        assert len(c[:2]) == 2

    def test_prefix_keeps_system_and_metadata(self) -> None:
        """A prefix keeps the conversation's system prompt and metadata."""
        c = Conversation(system="S", metadata={"k": 1}).user("a").assistant("b")
        assert c[:1] == Conversation(system="S", metadata={"k": 1}).user("a")
        assert c[:0] == Conversation(system="S", metadata={"k": 1})

    @pytest.mark.parametrize(
        "index",
        [slice(1, None), slice(1, 2), slice(None, None, 2), slice(None, None, -1), slice(2, 3)],
    )
    def test_non_prefix_slices_raise(self, index: slice) -> None:
        """A slice that is not a prefix (start > 0 or step != 1) raises a ConversationError."""
        with pytest.raises(ConversationError):
            three_turns()[index]

    def test_iteration_order(self) -> None:
        """Iteration yields the turns oldest first, matching .turns and indexing."""
        c = three_turns()
        turns = list(c)
        assert [t.content for t in turns] == ["Hello, Claude", "Hello!", "Describe LLMs?"]
        assert c.turns == tuple(turns)
        assert turns == [c[0], c[1], c[2]]
        assert list(Conversation()) == []

    def test_last(self) -> None:
        """c.last is the final turn, or None for an empty conversation."""
        assert three_turns().last == three_turns()[-1]
        assert Conversation().last is None

    def test_turn_content_and_blocks(self) -> None:
        """Turn.content is the wire form (bare str for one plain text) and .blocks a tuple."""
        c = Conversation().user("hi").user(["a", {"type": "text", "text": "b"}])
        assert c[0].content == "hi"
        assert c[0].blocks == (Text("hi"),)
        assert c[1].content == (Text("a"), Text("b"))
        assert c[1].blocks == (Text("a"), Text("b"))
        assert c[0].provenance is None
        assert provenance_of(c.assistant("x")[-1]).synthetic


class TestEquality:
    def test_equal_across_build_paths(self) -> None:
        """Conversations with the same content are equal however they were built."""
        built = Conversation(system="S").user("Hello").assistant("Hi").user("Bye")
        payload = built.to_payload(model=MODEL, max_tokens=10)
        from_payload = Conversation.from_payload(payload)
        from_json = Conversation.from_payload(built.to_json(model=MODEL))
        from_text = Conversation.from_payload(built.to_json().decode())
        loaded = Conversation.loads(built.dumps())
        via_text = (
            Conversation(system="S")
            .user(Text("Hello"))
            .assistant({"type": "text", "text": "Hi"})
            .user([{"type": "text", "text": "Bye"}])
        )
        via_turns = Conversation(system="S", turns=list(built))
        for other in (from_payload, from_json, from_text, loaded, via_text, via_turns):
            assert other == built
            assert hash(other) == hash(built)

    def test_user_str_text_and_dict_are_equal(self) -> None:
        """user(str), user(Text) and user(dict) of the same plain text build equal turns."""
        a = Conversation().user("x")
        b = Conversation().user(Text("x"))
        c = Conversation().user({"type": "text", "text": "x"})
        d = Conversation().user(["x"])
        assert a == b == c == d
        assert len({a, b, c, d}) == 1

    def test_tool_turns_equal_from_objects_and_dicts(self) -> None:
        """Blocks given as objects and as wire dicts build equal conversations."""
        a = (
            Conversation()
            .user("go")
            .assistant([ToolUse("t1", "f", {"x": [1, 2]})])
            .user([ToolResult("t1", "done")])
        )
        b = (
            Conversation()
            .user("go")
            .assistant([{"type": "tool_use", "id": "t1", "name": "f", "input": {"x": [1, 2]}}])
            .user({"type": "tool_result", "tool_use_id": "t1", "content": "done"})
        )
        assert a == b
        assert hash(a) == hash(b)

    def test_loads_keeps_provenance_equal(self) -> None:
        """A folded conversation reloaded from its save format is equal to it."""
        c = Conversation(metadata={"title": "t"}).user("Hi").fold(reply("Hello!"))
        assert Conversation.loads(c.dumps()) == c
        assert hash(Conversation.loads(c.dumps())) == hash(c)

    def test_different_system_unequal(self) -> None:
        """Conversations differing only in system prompt are unequal."""
        c = three_turns()
        assert c.with_system("a") != c
        assert c.with_system("a") != c.with_system("b")
        assert c.with_system("a") == c.with_system("a")

    def test_different_metadata_unequal(self) -> None:
        """Conversations differing only in metadata are unequal."""
        c = three_turns()
        assert c.with_metadata(a=1) != c
        assert c.with_metadata(a=1) != c.with_metadata(a=2)
        assert c.with_metadata(a=1) == c.with_metadata({"a": 1})

    @pytest.mark.parametrize("position", [0, 1, 2])
    def test_any_turn_differs_unequal(self, position: int) -> None:
        """Changing any one turn's text makes the conversations unequal."""
        texts = ["Hello, Claude", "Hello!", "Describe LLMs?"]
        changed = list(texts)
        changed[position] += "!"

        def build(items: list[str]) -> Conversation:
            return Conversation().user(items[0]).assistant(items[1]).user(items[2])

        assert build(changed) != build(texts)
        assert build(changed) == build(changed)

    def test_role_and_length_matter(self) -> None:
        """Conversations with the same texts but other roles or lengths are unequal."""
        assert Conversation().user("a") != Conversation().assistant("a")
        assert Conversation().user("a") != Conversation().user("a").user("a")
        assert Conversation() != Conversation().user("a")
        assert three_turns() != "not a conversation"

    def test_hash_is_stable(self) -> None:
        """A conversation's hash is the same each time and usable as a dict key."""
        c = three_turns()
        first = hash(c)
        assert hash(c) == first
        assert hash(three_turns()) == first
        table = {c: "v"}
        assert table[three_turns()] == "v"

    def test_with_system_shares_turns(self) -> None:
        """with_system keeps the very same turns (the same run and length), under the
        new system prompt."""
        c = three_turns()
        s = c.with_system("Be nice.")
        assert s.system == "Be nice."
        assert len(s) == len(c)
        assert s._at[:2] == c._at[:2]
        assert s[:2]._at[:2] == c[:2]._at[:2]
        for a, b in zip(s, c, strict=True):
            assert a == b
        assert s.with_system(None) == c
        assert s.to_payload()["system"] == "Be nice."


# JSON values from a tiny domain, so that equal-looking pairs (1, 1.0, True) come up often.
_LEAVES = st.sampled_from([0, 1, 0.0, 1.0, 1.5, True, False, None, "", "1", "a"])
JSON_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)
    ),
    max_leaves=6,
)


def _canonical_json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@settings(max_examples=150, deadline=None)
@given(JSON_VALUES, JSON_VALUES)
def test_equality_is_json_equality(a: object, b: object) -> None:
    """Two conversations are equal exactly when their JSON is (up to key order); equal hash."""

    def with_input(value: object) -> Conversation:
        tool = {"type": "tool_use", "id": "t", "name": "f", "input": {"v": value}}
        return Conversation(metadata={"m": value}).user("q").assistant([tool])

    same = _canonical_json(a) == _canonical_json(b)
    ca, cb = with_input(a), with_input(b)
    assert (ca == cb) is same
    assert (ca.metadata == cb.metadata) is same
    if same:
        assert hash(ca) == hash(cb)
    assert (orjson.loads(ca.to_json()) == orjson.loads(cb.to_json())) is (a == b)


class TestMetadata:
    def test_metadata_frozen(self) -> None:
        """Metadata and the JSON inside it cannot be changed."""
        c = Conversation(metadata={"tags": ["a"], "info": {"n": 1}})
        assert isinstance(c.metadata, FrozenDict)
        assert isinstance(c.metadata["tags"], FrozenList)
        with pytest.raises(TypeError):
            c.metadata["x"] = 1
        with pytest.raises(TypeError):
            c.metadata["tags"].append("b")
        with pytest.raises(TypeError):
            c.metadata["info"]["n"] = 2
        assert c.metadata == {"tags": ["a"], "info": {"n": 1}}

    def test_metadata_copied_from_caller_dict(self) -> None:
        """Mutating the dict given as metadata later does not change the conversation."""
        given: dict[str, Any] = {"tags": ["a"]}
        c = Conversation(metadata=given)
        given["tags"].append("b")
        given["new"] = 1
        assert c.metadata == {"tags": ["a"]}

    def test_with_metadata_merges(self) -> None:
        """with_metadata adds and replaces entries, keeping the others."""
        c = Conversation(metadata={"a": 1, "b": 2}).with_metadata({"b": 3}, c=4)
        assert c.metadata == {"a": 1, "b": 3, "c": 4}

    def test_metadata_never_on_wire(self) -> None:
        """Conversation metadata never appears in to_payload or to_json."""
        c = three_turns().with_metadata(secret_marker="xyzzy-42")
        assert b"xyzzy-42" not in c.to_json(model=MODEL, max_tokens=1)
        assert "metadata" not in c.to_payload(model=MODEL)
        api = c.to_payload(metadata={"user_id": "u"})
        assert api["metadata"] == {"user_id": "u"}

    def test_metadata_kept_by_save_format(self) -> None:
        """Metadata survives dumps/loads."""
        c = three_turns().with_metadata(title="t", n=[1, 2])
        assert Conversation.loads(c.dumps()).metadata == {"title": "t", "n": [1, 2]}

    def test_metadata_must_be_mapping(self) -> None:
        """A non-mapping metadata argument raises a ConversationError."""
        with pytest.raises(ConversationError):
            Conversation(metadata=["a"])  # type: ignore[arg-type]


class TestReprAndScale:
    def test_repr_is_short(self) -> None:
        """repr stays short for a huge system prompt, huge turns and huge metadata."""
        big = "x" * 1_000_000
        c = Conversation(system=big, metadata={"k": big}).user(big)
        for _ in range(200):
            c = c.assistant(big).user(big)
        text = repr(c)
        assert len(text) < 400
        assert "401" in text
        assert len(repr(Conversation())) < 100
        assert len(repr(c[-1])) > 0

    def test_ten_thousand_turns_compare_and_hash(self) -> None:
        """A 10,000-turn conversation compares and hashes iteratively (no RecursionError)."""

        def build(last: str) -> Conversation:
            c = Conversation()
            for i in range(5_000):
                c = c.user(f"q{i}").assistant(f"a{i}")
            return c.user(last)

        a, b, other = build("end"), build("end"), build("other")
        assert len(a) == 10_001
        assert a == b
        assert hash(a) == hash(b)
        assert a != other
        assert hash(a) != hash(other)
        # Differ at the very first turn: equality must walk the whole chain.
        first_differs = Conversation().user("Q0")
        for turn in list(a)[1:]:
            first_differs = first_differs.append(turn)
        assert first_differs != a
        assert len(first_differs) == len(a)
        assert Conversation.loads(a.dumps()) == a
        assert a[:5000] == b[:5000]

    def test_ten_thousand_turns_payload(self) -> None:
        """A 10,000-turn conversation serializes every turn in order."""
        c = Conversation()
        for i in range(5_000):
            c = c.user(f"q{i}").assistant(f"a{i}")
        messages = c.to_payload()["messages"]
        assert len(messages) == 10_000
        assert messages[0] == {"role": "user", "content": "q0"}
        assert messages[-1] == {"role": "assistant", "content": "a4999"}


class TestGuideExamples:
    def test_basic_reply_folds(self) -> None:
        """The guide's basic response folds into a model-written assistant turn "Hello!"."""
        c = Conversation().user("Hello, Claude").fold(reply("Hello!"))
        assert c.to_payload()["messages"][-1] == {"role": "assistant", "content": "Hello!"}
        assert provenance_of(c.last).id == "msg_01XFDUDYJgAACzvnptvVoYEL"
        assert not provenance_of(c.last).synthetic

    def test_prefill_example(self) -> None:
        """A prefill "The best answer is (" plus a reply "B)" is ONE assistant turn on the wire."""
        question = "Greek name for the Sun? (A) Sol (B) Helios (C) Sun"
        c = Conversation().user(question).assistant("The best answer is (")
        assert c.to_payload(model=MODEL, max_tokens=1) == {
            "model": MODEL,
            "max_tokens": 1,
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": "The best answer is ("},
            ],
        }
        done = c.fold(reply("B)", stop_reason="max_tokens"))
        assert len(done) == 2
        assert done[-1].role == "assistant"
        assert done[-1].content == "The best answer is (B)"
        assert done.to_payload(model=MODEL, max_tokens=1)["messages"] == [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "The best answer is (B)"},
        ]
        assert provenance_of(done[-1]).prefill == (Text("The best answer is ("),)
        follow = done.user("Why?")
        assert follow.to_payload()["messages"][1] == {
            "role": "assistant",
            "content": "The best answer is (B)",
        }

    def test_guide_latin_prefill_example(self) -> None:
        """The guide's one-token prefill example folds "C" into "The answer is (C"."""
        question = "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae"
        c = Conversation().user(question).assistant("The answer is (")
        done = c.fold(reply("C", id="msg_01Q8Faay6S7QPTvEUUQARt7h", stop_reason="max_tokens"))
        assert done.to_payload()["messages"] == [
            {"role": "user", "content": question},
            {"role": "assistant", "content": "The answer is (C"},
        ]
        assert provenance_of(done.last).stop_reason == "max_tokens"

    def test_vision_example(self) -> None:
        """A base64 image followed by text produces the guide's vision request exactly."""
        expected = {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        wire_image(JPEG_B64, "image/jpeg"),
                        {"type": "text", "text": "What is in this image?"},
                    ],
                }
            ],
        }
        from_objects = Conversation().user([Image.from_bytes(JPEG), "What is in this image?"])
        from_dicts = Conversation().user(expected["messages"][0]["content"])  # type: ignore[index]
        assert from_objects.to_payload(model=MODEL, max_tokens=1024) == expected
        assert from_dicts.to_payload(model=MODEL, max_tokens=1024) == expected
        assert from_objects == from_dicts
        answer = "This image shows an ant, specifically a close-up view of an ant."
        done = from_objects.fold(reply(answer, id="msg_01EcyWo6m4hyW8KHs2y2pei5"))
        assert done.to_payload()["messages"][-1] == {"role": "assistant", "content": answer}

    def test_from_payload_round_trip_of_guide_request(self) -> None:
        """The guide's request body read with from_payload writes back identically."""
        body = {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": [
                {"role": "user", "content": "Hello, Claude"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Can you describe LLMs to me?"},
            ],
        }
        c = Conversation.from_payload(body)
        assert c.to_payload(model=MODEL, max_tokens=1024) == body
        assert c == three_turns()[:1].assistant("Hello!").user("Can you describe LLMs to me?")


def test_turns_argument_requires_turn_objects() -> None:
    """Conversation(turns=...) rejects things that are not Turn objects."""
    with pytest.raises(MalformedInputError):
        Conversation(turns=[{"role": "user", "content": "x"}])  # type: ignore[list-item]
