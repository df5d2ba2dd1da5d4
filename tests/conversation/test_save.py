"""Tests of the save format (dumps/loads), provenance kept through it, and pickling."""

from __future__ import annotations

import json
import pickle
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import (
    Conversation,
    ConversationError,
    MalformedInputError,
    Provenance,
    ReplyInfo,
    SaveFormatError,
    Text,
    ToolResult,
    ToolUse,
    Turn,
    UnsupportedVersionError,
    Usage,
)
from tests.strategies import (
    block_objects,
    conversation_cases,
    json_objects,
    reply_dicts,
    stored_conversations,
    usage_dicts,
)

COUNTERS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
REPLY_FIELDS = {"id", "type", "role", "content", "model", "stop_reason", "stop_sequence", "usage"}


def expected_usage(usage: dict[str, Any]) -> Usage:
    """The Usage a reply's usage dict means: null or absent counters are 0, the rest extra."""
    inputs, outputs, cache_writes, cache_reads = [usage.get(k) or 0 for k in COUNTERS]
    extra = {k: v for k, v in usage.items() if k not in COUNTERS}
    return Usage(inputs, outputs, cache_writes, cache_reads, extra=extra)


def check_info(info: ReplyInfo, reply: dict[str, Any]) -> None:
    """Assert that ``info`` holds everything the reply said about itself."""
    assert info.id == reply["id"]
    assert info.model == reply["model"]
    assert info.stop_reason == reply["stop_reason"]
    assert info.stop_sequence == reply["stop_sequence"]
    assert info.usage == expected_usage(reply["usage"])
    assert dict(info.usage.extra) == {k: v for k, v in reply["usage"].items() if k not in COUNTERS}
    assert dict(info.extra) == {k: v for k, v in reply.items() if k not in REPLY_FIELDS}


class TestRoundTrip:
    @given(stored_conversations())
    def test_loads_of_dumps_is_equal(self, c: Conversation) -> None:
        """Conversation.loads(c.dumps()) == c for any conversation, with an equal hash."""
        back = Conversation.loads(c.dumps())
        assert back == c
        assert hash(back) == hash(c)
        assert back.system == c.system
        assert back.metadata == c.metadata
        assert [t.provenance for t in back] == [t.provenance for t in c]

    @given(stored_conversations())
    @settings(max_examples=30)
    def test_dumps_is_stable(self, c: Conversation) -> None:
        """Saving a loaded conversation gives the same text again."""
        text = c.dumps()
        assert Conversation.loads(text).dumps() == text

    @given(stored_conversations())
    @settings(max_examples=30)
    def test_loads_takes_bytes_and_str(self, c: Conversation) -> None:
        """loads() reads the saved text as str or as UTF-8 bytes."""
        text = c.dumps()
        assert isinstance(text, str)
        assert Conversation.loads(text.encode("utf-8")) == c

    @given(stored_conversations())
    @settings(max_examples=30)
    def test_dumps_is_versioned_json(self, c: Conversation) -> None:
        """dumps() is valid JSON naming its format and version 1, holding one record per turn."""
        doc = json.loads(c.dumps())
        assert doc["format"] == "conversation-state"
        assert doc["version"] == 1
        assert len(doc["turns"]) == len(c)
        assert [t["role"] for t in doc["turns"]] == [t.role for t in c]
        assert orjson.loads(c.dumps()) == doc

    @given(conversation_cases())
    @settings(max_examples=50)
    def test_saved_content_is_the_wire_content(self, case: Any) -> None:
        """Each saved turn's content is exactly its message content in the request payload."""
        c = case.conversation
        doc = json.loads(c.dumps())
        messages = c.to_payload()["messages"]
        assert [t["content"] for t in doc["turns"]] == [m["content"] for m in messages]
        assert all("provenance" not in t for t in doc["turns"])  # all synthetic or user

    @given(conversation_cases(), json_objects())
    @settings(max_examples=50)
    def test_metadata_is_saved(self, case: Any, metadata: dict[str, Any]) -> None:
        """The program's metadata goes into the save format and comes back, never on the wire."""
        c = case.conversation.with_metadata(metadata)
        back = Conversation.loads(c.dumps())
        assert back == c
        assert back.metadata == metadata
        assert back.to_payload() == case.conversation.to_payload()

    @pytest.mark.parametrize(
        "system",
        [
            None,
            "You are terse.",
            "",
            [Text("You are a contracts lawyer.")],
            [
                {"type": "text", "text": "A"},
                {"type": "text", "text": "<long>", "cache_control": {"type": "ephemeral"}},
            ],
            [Text("cited", citations=[{"type": "char_location"}], extra={"x_new": None})],
        ],
        ids=["none", "str", "empty-str", "one-block", "blocks-cache", "block-extra"],
    )
    def test_system_prompt_is_saved(self, system: Any) -> None:
        """A system prompt as a string or as text blocks comes back as it was."""
        c = Conversation(system=system).user("Hi")
        back = Conversation.loads(c.dumps())
        assert back == c
        assert back.system == c.system
        assert back.to_payload() == c.to_payload()

    def test_empty_conversation_round_trips(self) -> None:
        """An empty conversation saves and loads back equal."""
        assert Conversation.loads(Conversation().dumps()) == Conversation()


class TestProvenance:
    @given(conversation_cases(prefill=False), reply_dicts())
    @settings(max_examples=50)
    def test_folded_reply_provenance_is_kept(self, case: Any, reply: dict[str, Any]) -> None:
        """A folded reply's id, model, stop fields, usage (cache fields, extras) and unknown
        fields survive a save and load."""
        c = case.conversation.fold(reply)
        back = Conversation.loads(c.dumps())
        assert back == c
        turn = back[-1]
        assert turn.role == "assistant"
        assert turn.provenance is not None
        assert not turn.synthetic
        assert len(turn.provenance.replies) == 1
        check_info(turn.provenance.replies[0], reply)
        assert turn.provenance.prefill == ()

    @given(usage_dicts())
    def test_usage_cache_fields_are_kept(self, usage: dict[str, Any]) -> None:
        """Usage counters, cache counters and usage details are kept exactly in the save."""
        reply = {"id": "msg_1", "model": "m", "content": [], "stop_reason": "end_turn"}
        c = Conversation().user("Hi").fold({**reply, "usage": usage})
        back = Conversation.loads(c.dumps())
        provenance = back[-1].provenance
        assert provenance is not None
        assert provenance.usage == expected_usage(usage)
        assert back.usage == expected_usage(usage)

    def test_prefill_is_kept(self) -> None:
        """A prefill continued by a reply is one turn whose provenance keeps the prefill."""
        c = (
            Conversation()
            .user("Greek name for the Sun? (A) Sol (B) Helios")
            .assistant("The best answer is (")
        )
        reply = {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": [{"type": "text", "text": "B)", "citations": None}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2},
        }
        folded = c.fold(reply)
        back = Conversation.loads(folded.dumps())
        assert back == folded
        assert len(back) == 2
        turn = back[1]
        assert turn.content == "The best answer is (B)"
        assert turn.provenance is not None
        assert turn.provenance.prefill == (Text("The best answer is ("),)
        assert turn.provenance.id == "msg_01"
        assert turn.provenance.usage == Usage(10, 2)

    @given(reply_dicts(), reply_dicts())
    @settings(max_examples=50)
    def test_continued_replies_are_all_kept(
        self, first: dict[str, Any], second: dict[str, Any]
    ) -> None:
        """A reply continued by another keeps both replies' provenance, in order, when saved."""
        c = Conversation().user("Write a long essay").assistant("Title:").fold(first).fold(second)
        back = Conversation.loads(c.dumps())
        assert back == c
        provenance = back[-1].provenance
        assert provenance is not None
        assert [r.id for r in provenance.replies] == [first["id"], second["id"]]
        check_info(provenance.replies[0], first)
        check_info(provenance.replies[1], second)
        assert provenance.prefill == (Text("Title:"),)
        assert provenance.usage == expected_usage(first["usage"]) + expected_usage(second["usage"])

    def test_hand_built_provenance_is_kept(self) -> None:
        """A Turn built with an explicit Provenance keeps it through a save and load."""
        info = ReplyInfo(
            "msg_9",
            "claude-x",
            "stop_sequence",
            "###",
            Usage(1, 2, 3, 4, extra={"service_tier": "batch"}),
            extra={"container": {"id": "c1"}},
        )
        turn = Turn("assistant", [ToolUse("toolu_1", "f", {"a": 1})], Provenance((info,)))
        c = Conversation("sys", [Turn("user", "Hi"), turn]).user([ToolResult("toolu_1", "ok")])
        back = Conversation.loads(c.dumps())
        assert back == c
        assert back[1].provenance == Provenance((info,))

    def test_synthetic_turns_stay_synthetic(self) -> None:
        """A synthetic assistant turn has no provenance record in the save and loads synthetic."""
        c = Conversation().user("Hi").assistant("Hello!")
        doc = json.loads(c.dumps())
        assert "provenance" not in doc["turns"][1]
        back = Conversation.loads(c.dumps())
        assert back[1].synthetic
        assert back[1].provenance == Provenance()

    def test_provenance_never_goes_on_the_wire(self) -> None:
        """A folded conversation's payload holds only role and content per message."""
        c = (
            Conversation()
            .user("Hi")
            .fold({"id": "msg_1", "model": "m", "content": [{"type": "text", "text": "Yo"}]})
        )
        assert c.to_payload()["messages"][1] == {"role": "assistant", "content": "Yo"}


class TestVersions:
    def _doc(self, **fields: Any) -> str:
        base = {"format": "conversation-state", "version": 1, "turns": []}
        return json.dumps({**base, **fields})

    def test_version_2_asks_to_upgrade(self) -> None:
        """A version 2 document raises UnsupportedVersionError whose message says to upgrade."""
        saved = self._doc(version=2, turns=[{"role": "user", "content": "hi"}])
        with pytest.raises(UnsupportedVersionError, match="upgrade") as info:
            Conversation.loads(saved)
        assert isinstance(info.value, SaveFormatError)
        assert isinstance(info.value, ConversationError)
        assert info.value.path == "$.version"
        assert "2" in str(info.value)

    @given(st.integers(min_value=2, max_value=2**62))
    @settings(max_examples=20)
    def test_any_newer_version_is_refused(self, version: int) -> None:
        """Every version above 1 is refused with UnsupportedVersionError, whatever it holds."""
        with pytest.raises(UnsupportedVersionError):
            Conversation.loads(self._doc(version=version, turns="anything", extra={"new": 1}))

    @pytest.mark.parametrize("version", [0, -1, "1", 1.0, None, True, [1]], ids=lambda v: repr(v))
    def test_bad_version_is_a_save_format_error(self, version: Any) -> None:
        """A version that is not a positive integer raises SaveFormatError, not an upgrade hint."""
        with pytest.raises(SaveFormatError) as info:
            Conversation.loads(self._doc(version=version))
        assert not isinstance(info.value, UnsupportedVersionError)

    def test_version_1_with_no_turns_loads(self) -> None:
        """A minimal version 1 document is an empty conversation."""
        assert Conversation.loads(self._doc()) == Conversation()

    def test_request_body_is_not_a_save(self) -> None:
        """loads() of a request body raises SaveFormatError pointing at from_payload."""
        body = Conversation().user("Hi").to_json(model="m", max_tokens=1)
        with pytest.raises(SaveFormatError, match="from_payload"):
            Conversation.loads(body)

    def test_save_format_error_is_malformed_input(self) -> None:
        """SaveFormatError is a MalformedInputError (and so a ValueError)."""
        assert issubclass(SaveFormatError, MalformedInputError)
        assert issubclass(UnsupportedVersionError, ValueError)


class TestPickle:
    @given(stored_conversations(), st.integers(0, pickle.HIGHEST_PROTOCOL))
    @settings(max_examples=50)
    def test_conversation_pickles(self, c: Conversation, protocol: int) -> None:
        """A conversation pickles and unpickles to an equal conversation, provenance and all."""
        back = pickle.loads(pickle.dumps(c, protocol=protocol))
        assert back == c
        assert hash(back) == hash(c)
        assert [t.provenance for t in back] == [t.provenance for t in c]
        assert back.metadata == c.metadata

    @given(block_objects(), st.integers(0, pickle.HIGHEST_PROTOCOL))
    def test_blocks_pickle(self, block: Any, protocol: int) -> None:
        """A block object pickles and unpickles to an equal block."""
        assert pickle.loads(pickle.dumps(block, protocol=protocol)) == block

    def test_turns_and_frozen_json_pickle(self) -> None:
        """Turns, Provenance and frozen JSON values pickle to equal, still-frozen values."""
        info = ReplyInfo("msg_1", "m", "end_turn", None, Usage(1, 2, extra={"a": [1]}))
        turn = Turn("assistant", [ToolUse("t", "f", {"a": [1, {"b": 2}]})], Provenance((info,)))
        back = pickle.loads(pickle.dumps(turn))
        assert back == turn
        tool_input = back.blocks[0].input
        with pytest.raises(TypeError):
            tool_input["a"] = 1
        with pytest.raises(TypeError):
            tool_input["a"].append(2)
