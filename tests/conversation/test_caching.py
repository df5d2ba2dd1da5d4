"""Tests for the prompt-caching helpers: where the marks land, and that they stay within 4."""

from __future__ import annotations

from typing import Any

import attrs
import orjson
import pytest

from adapters.scripted import ScriptedAdapter
from conversation import (
    Conversation,
    Image,
    MalformedInputError,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
)
from conversation.caching import (
    METADATA_KEY,
    cache_tools,
    count_breakpoints,
    with_cache_breakpoints,
)

OPTS = {"model": "claude-sonnet-4-20250514", "max_tokens": 1024}
EPH = {"type": "ephemeral"}
WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"location": {"type": "string"}}},
}
TIME = {
    "name": "get_time",
    "description": "Current time in a timezone.",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}


def marks(c: Conversation) -> list[tuple[int, int]]:
    """(turn, block) of every message block carrying cache_control, in order."""
    return [
        (t, b)
        for t, turn in enumerate(c)
        for b, block in enumerate(turn.blocks)
        if getattr(block, "cache_control", None) is not None
    ]


class TestPlacement:
    def test_exact_payload(self) -> None:
        """A str system becomes one marked text block; the last user turn's block is marked."""
        c = Conversation(system="You are a librarian.").user("Hi").assistant("Hello!")
        c = with_cache_breakpoints(c.user("Summarise the catalogue."))
        assert c.to_json(**OPTS) == orjson.dumps(
            {
                **OPTS,
                "system": [{"type": "text", "text": "You are a librarian.", "cache_control": EPH}],
                "messages": [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello!"},
                    {
                        "role": "user",
                        "content": [
                            {
                                "type": "text",
                                "text": "Summarise the catalogue.",
                                "cache_control": EPH,
                            }
                        ],
                    },
                ],
            }
        )

    def test_ttl(self) -> None:
        c = with_cache_breakpoints(Conversation(system="S").user("U"), ttl="1h")
        payload = c.to_payload(**OPTS)
        assert payload["system"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
        assert payload["messages"][0]["content"][0]["cache_control"] == {
            "type": "ephemeral",
            "ttl": "1h",
        }

    def test_bad_ttl(self) -> None:
        with pytest.raises(MalformedInputError, match="ttl"):
            with_cache_breakpoints(Conversation().user("U"), ttl="2h")  # type: ignore[arg-type]

    def test_system_blocks_mark_the_last(self) -> None:
        c = Conversation(system=[Text("Rules."), Text("A long reference text.")]).user("Q")
        system = with_cache_breakpoints(c).to_payload(**OPTS)["system"]
        assert system == [
            {"type": "text", "text": "Rules."},
            {"type": "text", "text": "A long reference text.", "cache_control": EPH},
        ]

    def test_the_last_block_that_can_hold_it(self) -> None:
        """After the last user turn (a prefill follows), on its last markable block."""
        image = Image.from_url("https://example.com/a.png")
        c = Conversation().user([Text("Look"), image]).assistant("It is")
        c = with_cache_breakpoints(c)
        assert marks(c) == [(0, 1)]
        assert c.to_payload(**OPTS)["messages"][0]["content"][1] == {
            "type": "image",
            "source": {"type": "url", "url": "https://example.com/a.png"},
            "cache_control": EPH,
        }

    def test_a_tool_result_turn(self) -> None:
        c = (
            Conversation()
            .user("Weather?")
            .assistant(
                [Thinking("hm", "sig"), ToolUse("toolu_1", "get_weather", {"location": "P"})]
            )
            .user([ToolResult("toolu_1", "15C")])
        )
        c = with_cache_breakpoints(c, system=False)
        assert marks(c) == [(2, 0)]
        assert c.to_payload(**OPTS)["messages"][2]["content"] == [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": "15C",
                "cache_control": EPH,
            }
        ]

    def test_switches(self) -> None:
        c = Conversation(system="S").user("U")
        assert with_cache_breakpoints(c, system=False, last_turn=False) == c
        assert marks(with_cache_breakpoints(c, system=False)) == [(0, 0)]
        only_system = with_cache_breakpoints(c, last_turn=False)
        assert marks(only_system) == []
        assert count_breakpoints(only_system) == 1

    def test_nothing_to_mark(self) -> None:
        assert with_cache_breakpoints(Conversation()) == Conversation()
        c = Conversation().user("U")
        assert with_cache_breakpoints(c, last_turn=False) == c

    def test_idempotent(self) -> None:
        c = Conversation(system="S").user("A").assistant("B").user("C")
        once = with_cache_breakpoints(c)
        assert with_cache_breakpoints(once) == once
        assert once.to_json(**OPTS) == with_cache_breakpoints(once).to_json(**OPTS)

    def test_the_caller_is_unchanged(self) -> None:
        c = Conversation(system="S").user("U")
        with_cache_breakpoints(c)
        assert c.system == "S"
        assert marks(c) == []


class TestMovingForward:
    def test_marks_follow_the_conversation(self) -> None:
        """Over many rounds: the last two user turns are marked, never more than 4 in all."""
        tools = cache_tools([WEATHER, TIME])
        bot = ScriptedAdapter([f"answer {i}" for i in range(12)], default_options=OPTS)
        c = Conversation(system="You are terse.")
        for i in range(12):
            c = with_cache_breakpoints(c.user(f"question {i}"), tools=tools)
            assert count_breakpoints(c, tools=tools) == min(4, 3 + i)
            last_user = len(c) - 1
            expected = [(last_user - 2, 0), (last_user, 0)] if i else [(last_user, 0)]
            assert marks(c) == expected
            assert c.metadata[METADATA_KEY] == [list(p) for p in expected]
            c = bot.send(c, tools=tools)
        sent = bot.requests[-1]
        assert sent["tools"][-1]["cache_control"] == EPH
        assert sent["system"][0]["cache_control"] == EPH
        marked = [i for i, m in enumerate(sent["messages"]) if isinstance(m["content"], list)]
        assert marked == [20, 22]
        # Unmarked turns went back to the bare-string form they had.
        assert sent["messages"][18] == {"role": "user", "content": "question 9"}

    def test_without_tools_marks_stay_within_4(self) -> None:
        c = Conversation(system="S")
        for i in range(8):
            c = with_cache_breakpoints(c.user(f"q{i}").assistant(f"a{i}").user(f"r{i}"))
            assert count_breakpoints(c) <= 4
            assert c.violations(**OPTS) == ()

    def test_the_programs_own_marks_are_kept_and_counted(self) -> None:
        """A mark the program placed is never removed; the helper fits around it."""
        own = Text("Reference document.", cache_control=EPH)
        tools = cache_tools([WEATHER])
        c = Conversation(system="S").user([own, Text("first")]).assistant("ok")
        for i in range(5):
            c = with_cache_breakpoints(c.user(f"q{i}"), tools=tools).assistant(f"a{i}")
            assert (0, 0) in marks(c)
            assert count_breakpoints(c, tools=tools) <= 4
        # tools + system + own + last turn: no room for the previous turn's mark.
        assert marks(c) == [(0, 0), (len(c) - 2, 0)]

    def test_no_room_no_marks(self) -> None:
        """With 4 marks already in place, the helper adds none."""
        tools = [{**WEATHER, "cache_control": EPH}, {**TIME, "cache_control": EPH}]
        c = Conversation(system="S").user(
            [Text("a", cache_control=EPH), Text("b", cache_control=EPH), Text("c")]
        )
        assert with_cache_breakpoints(c, tools=tools) == c
        assert count_breakpoints(c, tools=tools) == 4

    def test_a_recorded_mark_the_program_removed_is_forgotten(self) -> None:
        c = with_cache_breakpoints(Conversation().user("q0"))
        plain = Conversation(metadata=c.metadata).user("q0").assistant("a").user("q1")
        c2 = with_cache_breakpoints(plain)
        assert marks(c2) == [(2, 0)]

    def test_branches_are_independent(self) -> None:
        base = with_cache_breakpoints(Conversation(system="S").user("q0")).assistant("a0")
        left = with_cache_breakpoints(base.user("left"))
        right = with_cache_breakpoints(base.user("right"))
        assert marks(left) == marks(right) == [(0, 0), (2, 0)]
        assert marks(base) == [(0, 0)]

    def test_save_and_load_keeps_the_note(self) -> None:
        c = with_cache_breakpoints(Conversation(system="S").user("q0")).assistant("a0")
        loaded = Conversation.loads(c.dumps())
        grown = with_cache_breakpoints(loaded.user("q1").assistant("a1").user("q2"))
        # The mark it placed before (the last request's cache write) is kept.
        assert marks(grown) == [(0, 0), (4, 0)]
        again = with_cache_breakpoints(grown.assistant("a2").user("q3"))
        assert marks(again) == [(4, 0), (6, 0)]


class TestCacheTools:
    def test_marks_only_the_last_and_copies(self) -> None:
        tools = [WEATHER, TIME]
        marked = cache_tools(tools)
        assert marked == [WEATHER, {**TIME, "cache_control": EPH}]
        assert "cache_control" not in TIME
        assert cache_tools(tools, ttl="1h")[-1]["cache_control"] == {
            "type": "ephemeral",
            "ttl": "1h",
        }
        assert cache_tools([]) == []

    def test_payload(self) -> None:
        c = Conversation().user("Weather in Paris?")
        payload = c.to_payload(**OPTS, tools=cache_tools([WEATHER]))
        assert payload["tools"] == [{**WEATHER, "cache_control": EPH}]

    def test_tool_values(self) -> None:
        @attrs.frozen
        class Definition:
            name: str
            cache_control: Any = None

            def to_wire(self) -> dict[str, Any]:
                out: dict[str, Any] = {"type": "bash_20250124", "name": self.name}
                if self.cache_control is not None:
                    out["cache_control"] = dict(self.cache_control)
                return out

        class WireOnly:
            def to_wire(self) -> dict[str, Any]:
                return {"type": "bash_20250124", "name": "bash"}

        assert cache_tools([Definition("bash")]) == [Definition("bash", EPH)]
        assert cache_tools([WireOnly()]) == [
            {"type": "bash_20250124", "name": "bash", "cache_control": EPH}
        ]
        with pytest.raises(MalformedInputError, match=r"tools\[0\]"):
            cache_tools([object()])


class TestCount:
    def test_counts_everything(self) -> None:
        c = Conversation(system=[Text("S", cache_control=EPH)]).user(
            [Text("a", cache_control=EPH), "b"]
        )
        c = c.assistant([ToolUse("t", "f", {})]).user(
            [ToolResult("t", [Text("nested", cache_control=EPH)])]
        )
        assert count_breakpoints(c) == 3
        assert count_breakpoints(c, tools=cache_tools([WEATHER])) == 4
        assert count_breakpoints(c, tools=cache_tools([WEATHER]), cache_control=EPH) == 5
        assert [
            v.rule for v in c.violations(**OPTS, tools=cache_tools([WEATHER]), cache_control=EPH)
        ] == ["too_many_cache_breakpoints"]
