"""Tests for the rules checked before sending, and for the ledger that caches their scan.

Every named rule of ``conversation._rules`` gets a failing case (rule name, turn index
and block index asserted) next to a valid neighbour that raises nothing. The second
half checks that the incremental, cached encoding along branches always agrees with a
fresh rebuild of the same turns.
"""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversation import (
    Conversation,
    ConversationError,
    Image,
    RedactedThinking,
    RuleViolationError,
    Text,
    Thinking,
    ToolResult,
    Violation,
)
from conversation._chain import CHUNK
from conversation._rules import block_breakpoints, option_breakpoints
from tests.images import wire_image

MODEL = "claude-sonnet-4-20250514"
OPTS = {"model": MODEL, "max_tokens": 1024}
THINKING = {"type": "enabled", "budget_tokens": 2048}
EPHEMERAL = {"type": "ephemeral"}
MB5 = 5 * 1024 * 1024


def where(c: Conversation, **options: Any) -> list[tuple[str, int | None, int | None]]:
    """The (rule, turn, block) of every violation of ``c`` sent with ``options``."""
    return [(v.rule, v.turn, v.block) for v in c.violations(**options)]


def assert_one(
    c: Conversation, rule: str, turn: int | None, block: int | None, **options: Any
) -> Violation:
    """``c`` breaks exactly ``rule`` at (turn, block), and to_payload raises saying so."""
    assert where(c, **options) == [(rule, turn, block)]
    with pytest.raises(RuleViolationError) as info:
        c.to_payload(**options)
    assert info.value.rules == (rule,)
    assert info.value.violations == c.violations(**options)
    violation = info.value.violations[0]
    assert rule in str(info.value)
    if turn is not None:
        assert f"turn {turn}" in str(info.value)
    return violation


def assert_valid(c: Conversation, **options: Any) -> None:
    """``c`` breaks no rule and serializes."""
    assert where(c, **options) == []
    assert c.to_payload(**options)["messages"]


def tool_use(tool_id: str = "toolu_A", name: str = "get_weather") -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {"location": "Paris"}}


def tool_result(tool_id: str = "toolu_A", content: Any = "15C") -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content}


# The header of a 16 x 16 PNG: the rules read an image's size from it.
PNG_16 = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAAA="


def image(media_type: str = "image/png", data: str = PNG_16, **extra: Any) -> dict[str, Any]:
    return {**wire_image(data, media_type), **extra}


def asked() -> Conversation:
    """A user question and an assistant turn asking for tool toolu_A."""
    return Conversation().user("Weather in Paris?").assistant(["Checking.", tool_use()])


class TestEmptyMessages:
    def test_empty_conversation(self) -> None:
        """A conversation with no turns breaks empty_messages (no turn, no block)."""
        assert_one(Conversation(), "empty_messages", None, None, **OPTS)
        assert_one(Conversation(system="s"), "empty_messages", None, None)

    def test_one_turn_is_enough(self) -> None:
        """A single user turn is a valid conversation."""
        assert_valid(Conversation().user("Hi"), **OPTS)


class TestEmptyContent:
    def test_turn_without_blocks(self) -> None:
        """A turn with an empty block list breaks empty_content at its index."""
        assert_one(Conversation().user([]), "empty_content", 0, None)
        assert_one(Conversation().user("a").assistant([]).user("b"), "empty_content", 1, None)

    def test_turn_with_one_block(self) -> None:
        """A turn with one non-empty block is fine."""
        assert_valid(Conversation().user(["a"]).assistant([Text("b")]).user("c"))


class TestEmptyText:
    @pytest.mark.parametrize("text", ["", " ", "\n", " \t\n "])
    def test_empty_or_whitespace_string_turn(self, text: str) -> None:
        """A bare-string turn that is empty or only whitespace breaks empty_text at block 0."""
        assert_one(Conversation().user("hi").assistant("ok").user(text), "empty_text", 2, 0)

    @pytest.mark.parametrize("text", ["", "   "])
    def test_empty_text_block_in_list(self, text: str) -> None:
        """An empty text block among other blocks breaks empty_text at its block index."""
        c = Conversation().user(["fine", {"type": "text", "text": text}, "also fine"])
        assert_one(c, "empty_text", 0, 1)

    def test_empty_text_nested_in_tool_result(self) -> None:
        """An empty text inside a tool_result's content is reported at the tool_result block."""
        c = asked().user([tool_result(content=[{"type": "text", "text": ""}])])
        assert_one(c, "empty_text", 2, 0)

    def test_text_with_content_is_fine(self) -> None:
        """Text blocks with visible characters (even surrounded by spaces) are fine."""
        assert_valid(Conversation().user(" a ").assistant("b").user(["\nc\n", "d"]))


class TestBlockNotAllowed:
    @pytest.mark.parametrize(
        "block",
        [
            image(),
            {
                "type": "document",
                "source": {"type": "text", "media_type": "text/plain", "data": "d"},
            },
            tool_result(),
        ],
        ids=["image", "document", "tool_result"],
    )
    def test_user_block_in_assistant_turn(self, block: dict[str, Any]) -> None:
        """A user-only block in an assistant turn breaks block_not_allowed at its position."""
        c = Conversation().user("q").assistant(["text first", block]).user("next")
        assert_one(c, "block_not_allowed", 1, 1)

    @pytest.mark.parametrize(
        "block",
        [
            tool_use(),
            Thinking("hmm", "sig"),
            RedactedThinking("opaque"),
            {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
        ],
        ids=["tool_use", "thinking", "redacted_thinking", "server_tool_use"],
    )
    def test_assistant_block_in_user_turn(self, block: Any) -> None:
        """An assistant-only block in a user turn breaks block_not_allowed at its position."""
        c = Conversation().user("q").assistant("a").user(["x", "y", block])
        assert_one(c, "block_not_allowed", 2, 2)

    def test_blocks_in_their_roles_are_fine(self) -> None:
        """Images in user turns and tool_use/thinking in assistant turns are fine."""
        c = (
            Conversation()
            .user([image(), "What is this?"])
            .assistant([Thinking("hmm", "sig"), RedactedThinking("x"), tool_use()])
            .user([tool_result(), "thanks"])
        )
        assert_valid(c, **OPTS)


class TestUnsupportedMediaType:
    @pytest.mark.parametrize("media_type", ["image/bmp", "image/tiff", "image/svg+xml", "png"])
    def test_unsupported_image_type(self, media_type: str) -> None:
        """A base64 image whose media type is not jpeg/png/gif/webp is reported at its block."""
        c = Conversation().user(["look:", image(media_type)])
        assert_one(c, "unsupported_media_type", 0, 1)

    @pytest.mark.parametrize("media_type", ["image/jpeg", "image/png", "image/gif", "image/webp"])
    def test_supported_image_types(self, media_type: str) -> None:
        """The four supported image types are fine."""
        assert_valid(Conversation().user(["look:", image(media_type)]))

    def test_url_image_has_no_media_type_to_check(self) -> None:
        """An image given by URL is not checked for a media type."""
        assert_valid(Conversation().user([Image.from_url("https://example.com/a.bmp"), "?"]))

    def test_base64_document_not_pdf(self) -> None:
        """A base64 document that is not application/pdf breaks unsupported_media_type."""
        doc = {
            "type": "document",
            "source": {"type": "base64", "media_type": "text/plain", "data": "aGVsbG8="},
        }
        assert_one(
            Conversation().user("a").assistant("b").user([doc]), "unsupported_media_type", 2, 0
        )

    def test_text_document_not_plain(self) -> None:
        """A text-source document that is not text/plain breaks unsupported_media_type."""
        doc = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/html", "data": "x"},
        }
        assert_one(Conversation().user(["x", doc]), "unsupported_media_type", 0, 1)

    def test_pdf_and_plain_text_documents_are_fine(self) -> None:
        """A base64 PDF and a text/plain document are fine."""
        pdf = {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
        }
        text = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "x"},
        }
        assert_valid(Conversation().user([pdf, text, "Summarize both."]))


class TestImageTooLarge:
    def test_base64_image_over_5mb(self) -> None:
        """A base64 image longer than 5 MB breaks image_too_large at its block."""
        c = Conversation().user("a").assistant("b").user(["x", image(data="A" * (MB5 + 4))])
        assert_one(c, "image_too_large", 2, 1)

    def test_base64_image_of_exactly_5mb(self) -> None:
        """A base64 image of exactly 5 MB is fine."""
        assert_valid(Conversation().user([image(data="A" * MB5), "ok"]))


class TestToolResultUnmatched:
    def test_unknown_tool_use_id(self) -> None:
        """A tool_result whose id matches no tool_use just before breaks tool_result_unmatched."""
        c = asked().user([tool_result("toolu_A"), tool_result("toolu_ZZZ")])
        violation = assert_one(c, "tool_result_unmatched", 2, 1)
        assert "toolu_ZZZ" in violation.message

    def test_tool_result_without_any_tool_use(self) -> None:
        """A tool_result when the assistant asked for no tool breaks tool_result_unmatched."""
        c = Conversation().user("q").assistant("a").user([tool_result()])
        assert_one(c, "tool_result_unmatched", 2, 0)

    def test_tool_result_answering_an_older_turn(self) -> None:
        """A tool_result answering a tool_use two assistant turns back is unmatched."""
        c = asked().user([tool_result()]).assistant("Done.").user([tool_result()])
        assert_one(c, "tool_result_unmatched", 4, 0)

    def test_matching_ids_are_fine(self) -> None:
        """Tool results answering every tool_use of the turn before are fine."""
        c = (
            Conversation()
            .user("Weather in Paris and Rome?")
            .assistant(["Checking both.", tool_use("toolu_A"), tool_use("toolu_B")])
            .user(
                [
                    tool_result("toolu_A", "15C cloudy"),
                    tool_result("toolu_B", [{"type": "text", "text": "22C sunny"}]),
                    {"type": "text", "text": "Answer in one sentence."},
                ]
            )
        )
        assert_valid(c, **OPTS)


class TestToolUseUnanswered:
    def test_user_turn_follows_without_result(self) -> None:
        """A tool_use whose next user turn has no tool_result is reported at that user turn."""
        c = asked().user("never mind").assistant("OK.").user("bye")
        violation = assert_one(c, "tool_use_unanswered", 2, None)
        assert "toolu_A" in violation.message

    def test_conversation_ends_with_that_user_turn(self) -> None:
        """The unanswered tool_use is found when the conversation ends with the user turn."""
        assert_one(asked().user("never mind"), "tool_use_unanswered", 2, None)

    def test_one_of_two_unanswered(self) -> None:
        """Answering only one of two tool_use blocks reports the other one."""
        c = (
            Conversation()
            .user("q")
            .assistant([tool_use("toolu_A"), tool_use("toolu_B")])
            .user([tool_result("toolu_A")])
        )
        violation = assert_one(c, "tool_use_unanswered", 2, None)
        assert "toolu_B" in violation.message
        assert "toolu_A" not in violation.message

    def test_answered_is_fine(self) -> None:
        """A tool_use answered in the next user turn is fine, also as a final turn."""
        assert_valid(asked().user([tool_result()]))
        assert_valid(asked().user([tool_result()]).assistant("15C.").user("thanks"))

    def test_tool_use_in_final_assistant_turn_is_not_unanswered(self) -> None:
        """A tool_use in the last turn has no user turn after it yet, so it is not reported."""
        assert "tool_use_unanswered" not in [v.rule for v in asked().violations()]


class TestToolResultNotFirst:
    def test_tool_result_after_text(self) -> None:
        """A tool_result after text in its user turn breaks tool_result_not_first."""
        c = asked().user(["Here you go:", tool_result()])
        assert_one(c, "tool_result_not_first", 2, 1)

    def test_tool_results_first_then_text(self) -> None:
        """Tool results first, then text, is fine."""
        assert_valid(asked().user([tool_result(), "Anything else?"]))


class TestUnsignedThinking:
    def test_thinking_with_empty_signature(self) -> None:
        """A thinking block with an empty signature breaks unsigned_thinking at its block."""
        c = Conversation().user("q").assistant([Thinking("hmm", ""), "answer"]).user("more")
        assert_one(c, "unsigned_thinking", 1, 0, thinking=THINKING, **OPTS)

    def test_signed_thinking_is_fine(self) -> None:
        """A signed thinking block is fine."""
        c = Conversation().user("q").assistant([Thinking("hmm", "EqQBCkgIARABGAIiQL"), "a"])
        assert_valid(c.user("more"), thinking=THINKING, **OPTS)


class TestPrefillTrailingWhitespace:
    @pytest.mark.parametrize("prefill", ["The answer is ", "The answer is\n", "x\t", "a \n "])
    def test_prefill_ending_in_whitespace(self, prefill: str) -> None:
        """A final assistant turn ending in whitespace breaks prefill_trailing_whitespace."""
        c = Conversation().user("q").assistant(prefill)
        assert_one(c, "prefill_trailing_whitespace", 1, 0)

    def test_last_block_of_block_prefill(self) -> None:
        """The violation points at the last block of a multi-block prefill."""
        c = Conversation().user("q").assistant(["first", "second "])
        assert_one(c, "prefill_trailing_whitespace", 1, 1)

    def test_prefill_without_trailing_whitespace(self) -> None:
        """A prefill without trailing whitespace is fine, even with inner/leading whitespace."""
        assert_valid(Conversation().user("q").assistant("The best answer is ("))
        assert_valid(Conversation().user("q").assistant(" a\nb"))

    def test_whitespace_not_at_end_of_conversation(self) -> None:
        """Trailing whitespace in a non-final assistant turn or in a user turn is fine."""
        assert_valid(Conversation().user("q ").assistant("a \n").user("b\n"))


class TestPrefillWithThinking:
    @pytest.mark.parametrize("thinking", [THINKING, {"type": "adaptive"}])
    def test_prefill_with_thinking_enabled(self, thinking: dict[str, Any]) -> None:
        """A final assistant turn with thinking enabled breaks prefill_with_thinking."""
        c = Conversation().user("q").assistant("The answer is (")
        assert_one(c, "prefill_with_thinking", 1, None, thinking=thinking, **OPTS)

    def test_no_prefill_or_thinking_off_is_fine(self) -> None:
        """Thinking with a final user turn, or a prefill with thinking disabled, is fine."""
        assert_valid(Conversation().user("q"), thinking=THINKING, **OPTS)
        c = Conversation().user("q").assistant("The answer is (")
        assert_valid(c, thinking={"type": "disabled"}, **OPTS)
        assert_valid(c, **OPTS)


class TestInvalidCacheControl:
    @pytest.mark.parametrize(
        "marker",
        [
            {"type": "ephemeral", "ttl": "10m"},
            {"type": "ephemeral", "ttl": "2h"},
            {"type": "persistent"},
            {},
        ],
    )
    def test_invalid_marker_on_message_block(self, marker: dict[str, Any]) -> None:
        """A cache_control that is not ephemeral with ttl 5m/1h breaks invalid_cache_control."""
        c = Conversation().user("q").assistant("a").user(["x", Text("y", cache_control=marker)])
        assert_one(c, "invalid_cache_control", 2, 1)

    @pytest.mark.parametrize(
        "marker",
        [EPHEMERAL, {"type": "ephemeral", "ttl": "5m"}, {"type": "ephemeral", "ttl": "1h"}],
    )
    def test_valid_markers(self, marker: dict[str, Any]) -> None:
        """ephemeral with no ttl, 5m or 1h is fine."""
        assert_valid(Conversation().user(["x", Text("y", cache_control=marker)]))

    def test_invalid_marker_in_system_block(self) -> None:
        """An invalid cache_control on a system text block is reported too."""
        system = [Text("rules", cache_control={"type": "ephemeral", "ttl": "2h"})]
        c = Conversation(system=system).user("q")
        assert [v.rule for v in c.violations()] == ["invalid_cache_control"]
        assert c.violations()[0].turn is None

    def test_invalid_marker_on_tool(self) -> None:
        """An invalid cache_control on a tool definition given as an option is reported."""
        tools = [{"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "x"}}]
        c = Conversation().user("q")
        assert [v.rule for v in c.violations(tools=tools)] == ["invalid_cache_control"]


class TestTooManyCacheBreakpoints:
    @staticmethod
    def build(system_marks: int, message_marks: int) -> Conversation:
        system = [Text(f"s{i}", cache_control=EPHEMERAL) for i in range(system_marks)] + ["end"]
        c = Conversation(system=system)
        blocks: list[Any] = [Text(f"m{i}", cache_control=EPHEMERAL) for i in range(message_marks)]
        return c.user([*blocks, "question"])

    @staticmethod
    def tools(marks: int) -> list[dict[str, Any]]:
        return [
            {"name": f"t{i}", "input_schema": {"type": "object"}, "cache_control": EPHEMERAL}
            for i in range(marks)
        ] + [{"name": "plain", "input_schema": {"type": "object"}}]

    @pytest.mark.parametrize(
        ("system", "tools", "messages"),
        [(0, 0, 5), (5, 0, 0), (0, 5, 0), (2, 2, 1), (1, 1, 3), (3, 1, 1)],
    )
    def test_more_than_four(self, system: int, tools: int, messages: int) -> None:
        """More than four cache_control marks across system, tools and messages is a violation."""
        c = self.build(system, messages)
        assert_one(c, "too_many_cache_breakpoints", None, None, tools=self.tools(tools))

    @pytest.mark.parametrize(
        ("system", "tools", "messages"),
        [(0, 0, 4), (4, 0, 0), (0, 4, 0), (2, 1, 1), (1, 1, 2), (0, 0, 0)],
    )
    def test_four_or_fewer(self, system: int, tools: int, messages: int) -> None:
        """Four or fewer cache_control marks in all are fine."""
        assert_valid(self.build(system, messages), tools=self.tools(tools))

    def test_marks_counted_across_turns_and_nested_blocks(self) -> None:
        """Marks in several turns and inside tool_result content all count."""
        nested = tool_result(content=[{"type": "text", "text": "r", "cache_control": EPHEMERAL}])
        c = (
            Conversation()
            .user([Text("a", cache_control=EPHEMERAL)])
            .assistant([Text("b", cache_control=EPHEMERAL), tool_use()])
            .user([nested])
            .assistant([Text("c", cache_control=EPHEMERAL)])
            .user("d")
        )
        assert_valid(c)
        assert_one(
            c.user([Text("e", cache_control=EPHEMERAL)]), "too_many_cache_breakpoints", None, None
        )


class TestTooManyImages:
    def test_more_than_100_images(self) -> None:
        """101 images across turns break too_many_images once."""
        c = Conversation()
        for _ in range(50):
            c = c.user([image(), image(), "two"]).assistant("ok")
        c = c.user([Image.from_url("https://example.com/x.png"), "one more"])
        assert_one(c, "too_many_images", None, None)

    def test_exactly_100_images(self) -> None:
        """100 images are fine."""
        c = Conversation()
        for _ in range(50):
            c = c.user([image(), image(), "two"]).assistant("ok")
        assert_valid(c.user("done"))

    def test_images_inside_tool_results_count(self) -> None:
        """Images inside tool_result content count toward the limit."""
        c = asked().user([tool_result(content=[image() for _ in range(100)])])
        assert_valid(c)
        assert_one(c.assistant("a").user([image(), "q"]), "too_many_images", None, None)


class TestManyAtOnce:
    def test_every_problem_listed_in_payload_order(self) -> None:
        """One RuleViolationError lists every broken rule, in the order of the payload."""
        c = (
            Conversation(system=[Text(f"s{i}", cache_control=EPHEMERAL) for i in range(5)])
            .user("")  # empty_text 0/0
            .assistant(["fine", image()])  # block_not_allowed 1/1
            .user(["text", tool_result("toolu_X")])  # unmatched 2/1, not_first 2/1
            .assistant([Thinking("t", ""), tool_use("toolu_B")])  # unsigned_thinking 3/0
            .user([image("image/bmp")])  # unsupported_media_type 4/0, unanswered 4
            .assistant("end ")  # prefill_trailing_whitespace 5/0, prefill_with_thinking 5
        )
        with pytest.raises(RuleViolationError) as info:
            c.to_json(thinking=THINKING, **OPTS)
        got = [(v.rule, v.turn, v.block) for v in info.value.violations]
        assert got == [
            ("empty_text", 0, 0),
            ("block_not_allowed", 1, 1),
            ("tool_result_unmatched", 2, 1),
            ("tool_result_not_first", 2, 1),
            ("unsigned_thinking", 3, 0),
            ("unsupported_media_type", 4, 0),
            ("tool_use_unanswered", 4, None),
            ("prefill_trailing_whitespace", 5, 0),
            ("prefill_with_thinking", 5, None),
            ("too_many_cache_breakpoints", None, None),
        ]
        assert info.value.rules == tuple(rule for rule, _, _ in got)
        message = str(info.value)
        assert "10 problems" in message
        for rule, _, _ in got:
            assert rule in message

    def test_unanswered_tool_use_sorted_before_later_turns(self) -> None:
        """A tool_use_unanswered at a turn comes before violations of later turns."""
        c = asked().user("never mind").user("").assistant("ok").user("bye")
        turns = [v.turn for v in c.violations() if v.turn is not None]
        assert turns == sorted(turns)
        assert where(c) == [("tool_use_unanswered", 2, None), ("empty_text", 3, 0)]

    def test_violation_is_a_conversation_error(self) -> None:
        """RuleViolationError is a ConversationError, and violations() does not raise."""
        c = Conversation().user("")
        assert isinstance(c.violations(), tuple)
        with pytest.raises(ConversationError):
            c.to_payload()


class TestMergedRoles:
    def test_result_in_second_of_two_user_turns(self) -> None:
        """Consecutive user turns are one message: results may be split across them."""
        c = (
            Conversation()
            .user("q")
            .assistant([tool_use("toolu_A"), tool_use("toolu_B")])
            .user([tool_result("toolu_A")])
            .user([tool_result("toolu_B")])
        )
        assert_valid(c)
        assert_valid(c.user("and text after"))
        assert_valid(c.assistant("done").user("thanks"))

    def test_tool_uses_in_two_consecutive_assistant_turns(self) -> None:
        """Tool uses split over two consecutive assistant turns are answered by one user turn."""
        c = (
            Conversation()
            .user("q")
            .assistant([tool_use("toolu_A")])
            .assistant([tool_use("toolu_B")])
            .user([tool_result("toolu_A"), tool_result("toolu_B")])
        )
        assert_valid(c)

    def test_result_after_text_in_earlier_user_turn(self) -> None:
        """Text in the first of two user turns puts a result in the second after it."""
        c = asked().user("Here:").user([tool_result()])
        assert_one(c, "tool_result_not_first", 3, 0)

    def test_unanswered_across_merged_user_turns(self) -> None:
        """A tool_use answered by neither of two consecutive user turns is reported once."""
        c = asked().user([tool_result("toolu_A")]).assistant([tool_use("toolu_C")])
        c = c.user("hmm").user("still nothing").assistant("ok")
        assert where(c) == [("tool_use_unanswered", 4, None)]


# --- incremental encoding: the ledger cache ---------------------------------------------


def alternating(count: int, tag: str = "") -> list[tuple[str, Any]]:
    """``count`` alternating user/assistant plain text turns, as (role, wire content)."""
    return [("user" if i % 2 == 0 else "assistant", f"{tag}t{i}") for i in range(count)]


def build(spec: list[tuple[str, Any]], base: Conversation | None = None) -> Conversation:
    """A conversation of ``spec`` turns, appended to ``base`` (a fresh one by default)."""
    c = Conversation() if base is None else base
    for role, content in spec:
        c = c.user(content) if role == "user" else c.assistant(content)
    return c


def expected_body(spec: list[tuple[str, Any]], **options: Any) -> bytes:
    """The request body of ``spec`` written independently of the library."""
    return orjson.dumps({**options, "messages": [{"role": r, "content": c} for r, c in spec]})


class TestIncremental:
    def test_bad_turn_after_cached_encoding(self) -> None:
        """A bad turn appended after a long history was encoded is still found."""
        spec = alternating(301)
        c = build(spec)
        assert c.to_json(**OPTS) == expected_body(spec, **OPTS)
        bad = c.assistant("ends in space ")
        assert where(bad) == [("prefill_trailing_whitespace", 301, 0)]
        worse = c.user("   ")
        assert where(worse) == [("empty_text", 301, 0)]
        assert c.to_json(**OPTS) == expected_body(spec, **OPTS)
        assert where(bad) == [("prefill_trailing_whitespace", 301, 0)]

    def test_branch_violations_reflect_only_that_branch(self) -> None:
        """Violations of one branch never leak into another branch of the same history."""
        spec = alternating(200)
        base = build(spec)
        bad_tip = base.user("")
        assert where(bad_tip) == [("empty_text", 200, 0)]
        early = base[:37].assistant("")  # turn 36 is a user turn
        assert where(early) == [("empty_text", 37, 0)]
        fine = base[:100].user("ok")  # turn 99 is an assistant turn
        assert where(fine) == []
        assert fine.to_json() == expected_body([*spec[:100], ("user", "ok")])
        assert where(bad_tip) == [("empty_text", 200, 0)]
        assert where(base) == []
        assert where(early) == [("empty_text", 37, 0)]
        for k in (0, 1, 63, 64, 65, 128, 199):
            assert where(base[:k]) == ([("empty_messages", None, None)] if k == 0 else [])

    def test_violation_in_shared_prefix_reported_once_per_branch(self) -> None:
        """A violation early in a shared prefix is reported exactly once by every branch."""
        spec = [
            *alternating(10),
            ("user", [tool_result("toolu_Q")]),
            ("assistant", "bridge"),
            *alternating(190, "b"),
        ]
        base = build(spec)
        for k in (12, 64, 65, 130, len(spec)):
            branch = base[:k].assistant("tip") if spec[k - 1][0] == "user" else base[:k].user("tip")
            assert where(branch) == [("tool_result_unmatched", 10, 0)]
        assert where(base) == [("tool_result_unmatched", 10, 0)]

    def test_tool_state_across_chunk_boundary(self) -> None:
        """A tool_use and its result on either side of a 64-turn checkpoint are matched."""
        spec = [*alternating(63), ("assistant", [tool_use("toolu_E")])]
        base = build(spec)
        assert len(base) == 64
        answered = base.user([tool_result("toolu_E")])
        ignored = base.user("no result")
        for _ in range(3):
            assert where(answered) == []
            assert where(ignored) == [("tool_use_unanswered", 64, None)]
            assert where(answered.assistant("a").user("b")) == []
            assert where(ignored.assistant("a").user("b")) == [("tool_use_unanswered", 64, None)]

    def test_alternate_branches_and_prefix(self) -> None:
        """Serializing two branches and a prefix in turn always gives each one's exact body."""
        spec = alternating(300)
        base = build(spec)
        a_spec = spec[:131] + alternating(50, "A")[1:]  # spec[130] is user; continue assistant
        b_spec = spec[:200] + alternating(11, "B")
        a = build(a_spec[131:], base[:131])
        b = build(b_spec[200:], base[:200])
        heads = {
            "a": (a, a_spec),
            "b": (b, b_spec),
            "prefix": (base[:64], spec[:64]),
            "mid": (base[:150], spec[:150]),
            "base": (base, spec),
            "a-prefix": (a[:140], a_spec[:140]),
        }
        rng = random.Random(7)
        names = list(heads) * 8
        rng.shuffle(names)
        for name in names:
            c, s = heads[name]
            assert c.to_json(**OPTS) == expected_body(s, **OPTS), name
            assert c.to_json() == build(s).to_json(), name
            assert where(c) == []

    def test_indexing_follows_the_branch(self) -> None:
        """c[i] and iteration read the turns of c's own branch after others were used."""
        base = build(alternating(150))
        a = build(alternating(20, "A")[1:], base[:71])
        b = build(alternating(20, "B"), base[:130])
        for _ in range(3):
            assert a[71].content == "At1"
            assert b[130].content == "Bt0"
            assert [t.content for t in a][70:72] == ["t70", "At1"]
            assert base[140].content == "t140"
            assert b[-1].content == "Bt19"


# --- hypothesis: random operations compared with a fresh rebuild ------------------------


def _turn_for(kind: str, serial: int, spec: list[tuple[str, Any]]) -> tuple[str, Any]:
    """A new turn of ``kind``, given the spec it is appended to."""
    if kind == "user":
        return ("user", f"u{serial}")
    if kind == "assistant":
        return ("assistant", f"a{serial}")
    if kind == "ask":
        ids = [f"toolu_{serial}_{j}" for j in range(1 + serial % 2)]
        return (
            "assistant",
            [{"type": "text", "text": f"ask{serial}"}] + [tool_use(i) for i in ids],
        )
    if kind == "answer":
        last = spec[-1] if spec else None
        ids = (
            [b["id"] for b in last[1] if b["type"] == "tool_use"]
            if last and last[0] == "assistant" and isinstance(last[1], list)
            else []
        )
        # Answer what was asked (or an unknown id, which is a violation).
        return ("user", [tool_result(i, f"r{serial}") for i in ids or [f"toolu_x{serial}"]])
    if kind == "blank":
        return ("user", " ")
    return ("assistant", f"prefill{serial} ")  # "space": trailing whitespace if last


KINDS = ["user", "assistant", "ask", "answer", "blank", "space"]


def cut_points(size: int) -> st.SearchStrategy[int]:
    """A length in 0..size, often right at or next to a ledger checkpoint."""
    near = [k for m in range(CHUNK, size + 2, CHUNK) for k in (m - 1, m, m + 1) if k <= size]
    anywhere = st.integers(0, size)
    return st.one_of(anywhere, st.sampled_from(near)) if near else anywhere


def _check(c: Conversation, spec: list[tuple[str, Any]], options: dict[str, Any]) -> None:
    fresh = build(spec)
    assert len(c) == len(spec)
    expected = fresh.violations(**options)
    assert c.violations(**options) == expected
    if expected:
        with pytest.raises(RuleViolationError) as info:
            c.to_json(**options)
        assert info.value.violations == expected
    else:
        assert c.to_json(**options) == expected_body(spec, **options)
        assert c.to_json(**options) == fresh.to_json(**options)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_random_branching_matches_fresh_rebuild(data: st.DataObject) -> None:
    """Any sequence of appends, folds, branches and serializations agrees with a fresh rebuild."""
    start = data.draw(cut_points(3 * CHUNK + 2), label="base length")
    base_spec = alternating(start)
    how = data.draw(st.sampled_from(["built", "from_payload", "loads"]), label="base from")
    base = build(base_spec)
    if how == "from_payload":
        base = Conversation.from_payload(expected_body(base_spec))
    elif how == "loads":
        base = Conversation.loads(base.dumps())
    # (conversation, its turns as (role, wire content), whether a model wrote any turn)
    heads: list[tuple[Conversation, list[tuple[str, Any]], bool]] = [(base, base_spec, False)]
    steps = data.draw(st.integers(1, 30), label="steps")
    for serial in range(steps):
        h = data.draw(st.integers(0, len(heads) - 1), label="head")
        c, spec, folded = heads[h]
        op = data.draw(
            st.sampled_from(["append", "append", "fold", "branch", "serialize", "index"])
        )
        if op == "append":
            kind = data.draw(st.sampled_from(KINDS), label="kind")
            role, content = _turn_for(kind, serial, spec)
            c2 = c.user(content) if role == "user" else c.assistant(content)
            heads.append((c2, [*spec, (role, content)], folded))
        elif op == "fold":
            heads.append((c.fold(_reply(f"r{serial}")), _folded(spec, f"r{serial}"), True))
        elif op == "branch":
            k = data.draw(cut_points(len(spec)), label="k")
            heads.append((c[:k], spec[:k], folded))
        elif op == "index" and spec:
            i = data.draw(st.integers(-len(spec), len(spec) - 1), label="i")
            role, content = spec[i]
            assert c[i].role == role
            assert c[i].content == build([spec[i]])[0].content
        else:
            options = data.draw(st.sampled_from([{}, OPTS, {"thinking": THINKING, **OPTS}]))
            _check(c, spec, options)
    # Finally every head, in a random order and back, still serializes as its own branch.
    order = data.draw(st.permutations(range(len(heads))), label="order")
    for h in [*order, *reversed(order)]:
        c, spec, folded = heads[h]
        _check(c, spec, OPTS)
        assert [(t.role, t.content) for t in c] == [(t.role, t.content) for t in build(spec)]
        if not folded:
            assert c == build(spec)


def _reply(text: str) -> dict[str, Any]:
    """A minimal Messages API response holding one text block."""
    return {
        "id": f"msg_{text}",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "model": MODEL,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def _folded(spec: list[tuple[str, Any]], text: str) -> list[tuple[str, Any]]:
    """``spec`` after folding a one-text reply: it continues a final assistant turn."""
    if not spec or spec[-1][0] != "assistant":
        return [*spec, ("assistant", text)]
    content = spec[-1][1]
    if isinstance(content, str):
        merged: Any = content + text
    elif content and content[-1]["type"] == "text":
        merged = [*content[:-1], {"type": "text", "text": content[-1]["text"] + text}]
    else:
        merged = [*content, {"type": "text", "text": text}]
    return [*spec[:-1], ("assistant", merged)]


def test_breakpoints_are_counted_as_the_rule_counts_them() -> None:
    """block_breakpoints counts a block's mark and those nested in it; option_breakpoints
    the tools' and the request's own (what caching.py plans with)."""
    marker = {"type": "ephemeral"}
    nested = ToolResult(
        "toolu_1", [Text("a", cache_control=marker), Text("b")], cache_control=marker
    )
    assert block_breakpoints(nested) == 2
    assert block_breakpoints(Text("plain")) == 0
    tools = [{"name": "a", "cache_control": marker}, {"name": "b"}]
    assert option_breakpoints({"tools": tools, "cache_control": marker}) == 2
    assert option_breakpoints({"model": "m"}) == 0
