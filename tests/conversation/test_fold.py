"""Tests for Conversation.fold: reading a Messages API reply into an assistant turn."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from conversation import (
    Conversation,
    ConversationError,
    MalformedInputError,
    MalformedReplyError,
    Provenance,
    Reply,
    ReplyInfo,
    Text,
    Thinking,
    ToolUse,
    Turn,
    UnknownBlock,
    Usage,
)
from tests.bodies import message_body

MODEL = "claude-sonnet-4-20250514"


def reply(*content: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Messages API response with ``content`` blocks; ``fields`` override the defaults."""
    return message_body(*content, **{"model": MODEL, **fields})


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(tool_id: str = "toolu_01", name: str = "get_weather") -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {"location": "Paris"}}


FULL_USAGE = {
    "input_tokens": 412,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 1800,
    "output_tokens": 57,
    "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
    "server_tool_use": {"web_search_requests": 1},
    "service_tier": "standard",
}


def provenance_of(turn: Turn) -> Provenance:
    """An assistant turn's provenance (only a user turn has none)."""
    assert turn.provenance is not None
    return turn.provenance


def question() -> Conversation:
    return Conversation().user("Hello, Claude")


class TestInputForms:
    def test_dict_bytes_str_and_reply_fold_equally(self) -> None:
        """A reply as a dict, JSON bytes, JSON str or Reply object folds to the same turn."""
        body = reply(text("Hello!"))
        from_dict = question().fold(body)
        from_bytes = question().fold(orjson.dumps(body))
        from_bytearray = question().fold(bytearray(orjson.dumps(body)))
        from_str = question().fold(orjson.dumps(body).decode())
        from_reply = question().fold(
            Reply(
                (Text("Hello!"),),
                id="msg_01XFDUDYJgAACzvnptvVoYEL",
                model=MODEL,
                stop_reason="end_turn",
                usage=Usage(input_tokens=12, output_tokens=6),
            )
        )
        for other in (from_bytes, from_bytearray, from_str, from_reply):
            assert other == from_dict
        assert len(from_dict) == 2
        assert from_dict[-1].role == "assistant"
        assert from_dict[-1].content == "Hello!"
        assert from_dict.to_payload()["messages"][-1] == {"role": "assistant", "content": "Hello!"}

    def test_fold_returns_new_conversation(self) -> None:
        """fold returns a new conversation and leaves the original as it was."""
        c = question()
        folded = c.fold(reply(text("Hi")))
        assert len(c) == 1
        assert len(folded) == 2
        assert folded[:1] == c

    def test_fold_does_not_mutate_reply_dict(self) -> None:
        """Folding a reply dict leaves the caller's dict unchanged."""
        body = reply(text("a"), tool_use(), usage=dict(FULL_USAGE))
        before = copy.deepcopy(body)
        c = question().fold(body)
        assert body == before
        body["content"][1]["input"]["location"] = "Rome"
        block = c[-1].blocks[1]
        assert isinstance(block, ToolUse)
        assert block.input == {"location": "Paris"}

    def test_multi_block_reply_kept_as_list(self) -> None:
        """A reply with text and tool_use becomes a turn with both blocks in order."""
        c = question().fold(reply(text("I'll look that up."), tool_use(), stop_reason="tool_use"))
        assert c[-1].blocks == (
            Text("I'll look that up."),
            ToolUse("toolu_01", "get_weather", {"location": "Paris"}),
        )
        assert c.to_payload()["messages"][-1] == {
            "role": "assistant",
            "content": [text("I'll look that up."), tool_use()],
        }

    def test_unknown_and_thinking_blocks_kept_exactly(self) -> None:
        """Thinking signatures and unknown block types go back out unchanged."""
        unknown = {"type": "brand_new_block", "payload": {"x": [1, 2]}, "note": None}
        thinking = {"type": "thinking", "thinking": "Let me think.", "signature": "EqQBCkgI+/="}
        c = question().fold(reply(thinking, unknown, text("Done.")))
        assert isinstance(c[-1].blocks[0], Thinking)
        assert isinstance(c[-1].blocks[1], UnknownBlock)
        assert c.to_payload()["messages"][-1]["content"] == [thinking, unknown, text("Done.")]

    def test_reply_text_with_null_citations(self) -> None:
        """A text block with "citations": null (as replies send it) is plain text."""
        c = question().fold(reply({"type": "text", "text": "Hi", "citations": None}))
        assert c[-1].content == "Hi"


class TestProvenance:
    def test_provenance_recorded(self) -> None:
        """The folded turn records id, model, stop_reason, stop_sequence and usage."""
        c = question().fold(
            reply(
                text("Stopped"),
                id="msg_abc",
                model="claude-x",
                stop_reason="stop_sequence",
                stop_sequence="###",
                usage=FULL_USAGE,
            )
        )
        provenance = provenance_of(c[-1])
        assert isinstance(provenance, Provenance)
        assert not provenance.synthetic
        assert not c[-1].synthetic
        assert provenance.id == "msg_abc"
        assert provenance.model == "claude-x"
        assert provenance.stop_reason == "stop_sequence"
        assert provenance.stop_sequence == "###"
        assert provenance.prefill == ()
        assert len(provenance.replies) == 1
        assert isinstance(provenance.last, ReplyInfo)
        usage = provenance.usage
        assert usage.input_tokens == 412
        assert usage.output_tokens == 57
        assert usage.cache_creation_input_tokens == 100
        assert usage.cache_read_input_tokens == 1800
        assert usage.total_input_tokens == 412 + 100 + 1800
        assert usage.extra["cache_creation"] == {
            "ephemeral_5m_input_tokens": 60,
            "ephemeral_1h_input_tokens": 40,
        }
        assert usage.extra["service_tier"] == "standard"
        assert usage.extra["server_tool_use"] == {"web_search_requests": 1}

    def test_extra_reply_fields_kept(self) -> None:
        """Reply fields this library does not model (container...) are kept in extra."""
        c = question().fold(reply(text("x"), container={"id": "c1", "expires_at": "t"}))
        last = provenance_of(c[-1]).last
        assert last is not None
        assert last.extra == {"container": {"id": "c1", "expires_at": "t"}}

    def test_null_usage_counters_are_zero(self) -> None:
        """null cache counters read as zero."""
        usage = {
            "input_tokens": 5,
            "output_tokens": 1,
            "cache_creation_input_tokens": None,
            "cache_read_input_tokens": None,
        }
        c = question().fold(reply(text("x"), usage=usage))
        assert provenance_of(c[-1]).usage == Usage(input_tokens=5, output_tokens=1)

    def test_provenance_never_on_wire_but_saved(self) -> None:
        """Provenance is not in the payload but survives dumps/loads."""
        c = question().fold(reply(text("Hello!"), id="msg_secret_id", usage=FULL_USAGE))
        assert b"msg_secret_id" not in c.to_json(model=MODEL)
        assert b"service_tier" not in c.to_json(model=MODEL)
        loaded = Conversation.loads(c.dumps())
        assert loaded[-1].provenance == c[-1].provenance
        assert loaded == c

    def test_synthetic_turn_has_no_replies(self) -> None:
        """An assistant turn written by the program is synthetic, with zero usage."""
        c = question().assistant("Hi")
        assert provenance_of(c[-1]).synthetic
        assert c[-1].synthetic
        assert provenance_of(c[-1]).replies == ()
        assert provenance_of(c[-1]).usage == Usage()
        assert c.usage == Usage()


class TestPrefill:
    def test_prefill_and_reply_become_one_turn(self) -> None:
        """A reply continuing a prefill is merged into ONE assistant turn, prefill recorded."""
        c = Conversation().user("Greek name for the Sun?").assistant("The best answer is (")
        folded = c.fold(reply(text("B)"), stop_reason="max_tokens"))
        assert len(folded) == len(c) == 2
        assert folded[-1].content == "The best answer is (B)"
        provenance = provenance_of(folded[-1])
        assert provenance.prefill == (Text("The best answer is ("),)
        assert provenance.stop_reason == "max_tokens"
        assert len(provenance.replies) == 1
        assert folded.to_payload()["messages"] == [
            {"role": "user", "content": "Greek name for the Sun?"},
            {"role": "assistant", "content": "The best answer is (B)"},
        ]
        assert folded[:1] == c[:1]

    def test_continuation_joins_last_text_block(self) -> None:
        """The reply's first text joins the prefill's LAST text block; later blocks follow."""
        c = Conversation().user("q").assistant(["Intro.", "Answer: "])
        folded = c.fold(reply(text("42."), text("More.")))
        assert folded[-1].blocks == (Text("Intro."), Text("Answer: 42."), Text("More."))
        assert provenance_of(folded[-1]).prefill == (Text("Intro."), Text("Answer: "))

    def test_empty_reply_onto_prefill(self) -> None:
        """An empty reply folded onto a prefill keeps the prefill text, recording the reply."""
        c = Conversation().user("q").assistant("The answer is (")
        folded = c.fold(
            reply(stop_reason="end_turn", usage={"input_tokens": 9, "output_tokens": 0})
        )
        assert len(folded) == 2
        assert folded[-1].content == "The answer is ("
        assert provenance_of(folded[-1]).prefill == (Text("The answer is ("),)
        assert len(provenance_of(folded[-1]).replies) == 1
        assert folded.usage.input_tokens == 9
        assert folded.to_payload()["messages"][-1] == {
            "role": "assistant",
            "content": "The answer is (",
        }

    def test_tool_use_after_text_prefill(self) -> None:
        """A reply starting with tool_use after a text prefill is appended after the text."""
        c = Conversation().user("Weather?").assistant("Let me check.")
        folded = c.fold(reply(tool_use(), stop_reason="tool_use"))
        assert len(folded) == 2
        assert folded[-1].blocks == (
            Text("Let me check."),
            ToolUse("toolu_01", "get_weather", {"location": "Paris"}),
        )
        assert folded.to_payload()["messages"][-1] == {
            "role": "assistant",
            "content": [text("Let me check."), tool_use()],
        }
        answered = folded.user(
            [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "15C"}]
        )
        assert answered.violations() == ()

    def test_cut_reply_continued_in_same_turn(self) -> None:
        """Folding onto a model-written turn (cut at max_tokens) extends that same turn."""
        first = reply(
            text("The quick brown"),
            id="msg_1",
            stop_reason="max_tokens",
            usage={"input_tokens": 10, "output_tokens": 3, "service_tier": "standard"},
        )
        second = reply(
            text(" fox."),
            id="msg_2",
            stop_reason="end_turn",
            usage={"input_tokens": 14, "output_tokens": 2, "service_tier": "priority"},
        )
        once = question().fold(first)
        twice = once.fold(second)
        assert len(twice) == len(once) == 2
        assert twice[-1].content == "The quick brown fox."
        provenance = provenance_of(twice[-1])
        assert [r.id for r in provenance.replies] == ["msg_1", "msg_2"]
        assert provenance.id == "msg_2"
        assert provenance.stop_reason == "end_turn"
        assert provenance.prefill == ()
        assert provenance.usage.input_tokens == 24
        assert provenance.usage.output_tokens == 5
        assert twice.usage == provenance.usage
        assert twice.to_payload()["messages"][-1] == {
            "role": "assistant",
            "content": "The quick brown fox.",
        }
        assert once[-1].content == "The quick brown"

    def test_prefill_then_two_replies(self) -> None:
        """A prefill continued twice keeps the original prefill and both replies."""
        c = Conversation().user("Count:").assistant("1,")
        folded = c.fold(reply(text(" 2,"), id="a", stop_reason="max_tokens")).fold(
            reply(text(" 3."), id="b")
        )
        assert folded[-1].content == "1, 2, 3."
        assert provenance_of(folded[-1]).prefill == (Text("1,"),)
        assert [r.id for r in provenance_of(folded[-1]).replies] == ["a", "b"]


class TestUsage:
    def test_conversation_usage_totals(self) -> None:
        """conversation.usage sums every folded reply, cache counters and details included."""
        c = question().fold(reply(text("a"), usage=FULL_USAGE)).user("more")
        c = c.assistant("synthetic").user("again")
        c = c.fold(
            reply(
                text("b"),
                usage={
                    "input_tokens": 8,
                    "output_tokens": 2,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 200,
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": 1,
                        "ephemeral_1h_input_tokens": 2,
                    },
                },
            )
        )
        total = c.usage
        assert total.input_tokens == 420
        assert total.output_tokens == 59
        assert total.cache_creation_input_tokens == 100
        assert total.cache_read_input_tokens == 2000
        assert total.extra["cache_creation"] == {
            "ephemeral_5m_input_tokens": 61,
            "ephemeral_1h_input_tokens": 42,
        }
        assert c[:2].usage.input_tokens == 412
        assert c[:1].usage == Usage()
        assert Conversation().usage == Usage()

    def test_usage_add(self) -> None:
        """Usage values add up field by field."""
        total = Usage(1, 2, 3, 4) + Usage(10, 20, 30, 40)
        assert total == Usage(11, 22, 33, 44)
        assert total.total_input_tokens == 11 + 33 + 44


BAD_REPLIES: list[tuple[Any, str]] = [
    ({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "$"),
    (b'{"id": "msg_1", "content": [', "$"),
    ("not json at all", "$"),
    ("[]", "$"),
    (None, "$"),
    (42, "$"),
    ({"type": "message", "role": "assistant"}, "$.content"),
    ({k: v for k, v in reply().items() if k != "content"}, "$.content"),
    ({**reply(), "content": "Hello"}, "$.content"),
    ({**reply(), "role": "user"}, "$.role"),
    ({**reply(), "type": "completion"}, "$.type"),
    ({**reply(), "id": 5}, "$.id"),
    (reply(text("ok"), {"type": "tool_use", "name": "f", "input": {}}), "$.content[1]"),
    (reply({"type": "text", "text": 5}), "$.content[0].text"),
    (reply({"text": "no type"}), "$.content[0]"),
    (reply(text("ok"), {"type": "image", "source": 5}), "$.content[1].source"),
    (reply(usage={"input_tokens": "12", "output_tokens": 6}), "$.usage.input_tokens"),
    (reply(usage=[1, 2]), "$.usage"),
]


class TestMalformed:
    @pytest.mark.parametrize(("bad", "path"), BAD_REPLIES)
    def test_malformed_reply_raises_with_path(self, bad: Any, path: str) -> None:
        """A malformed reply raises MalformedReplyError naming where it is wrong."""
        with pytest.raises(MalformedReplyError) as info:
            question().fold(bad)
        assert info.value.path == path
        assert str(info.value).startswith(f"{path}: ") or path == "$"  # "$" is not shown
        assert isinstance(info.value, MalformedInputError)
        assert isinstance(info.value, ConversationError)

    def test_error_response_message_quoted(self) -> None:
        """An API error response is refused, quoting the API's error message."""
        body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        with pytest.raises(MalformedReplyError, match="Overloaded"):
            question().fold(body)

    @pytest.mark.parametrize(("bad", "path"), BAD_REPLIES)
    def test_conversation_unchanged_after_failed_fold(self, bad: Any, path: str) -> None:
        """After any failed fold, the caller's conversation is as it was, also on the wire."""
        for c in (
            question(),
            question().assistant("Prefill"),
            question().fold(reply(text("cut"), stop_reason="max_tokens")),
        ):
            before_json = c.to_json(model=MODEL)
            before_dump = c.dumps()
            with pytest.raises(MalformedReplyError):
                c.fold(bad)
            assert c.to_json(model=MODEL) == before_json
            assert c.dumps() == before_dump
            assert Conversation.loads(before_dump) == c
