"""Tests for branches: edit, common_prefix, and the Diff of two conversations."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import (
    Conversation,
    ConversationError,
    Diff,
    Document,
    Image,
    MalformedInputError,
    RedactedThinking,
    Text,
    ToolResult,
    ToolUse,
    TurnIndexError,
)
from conversation._diff import LINE_WIDTH
from tests.checks import shared_prefix
from tests.strategies import stored_conversations, text_cases, tool_loops

PNG_2X2 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARAxg8j8AG/ID/fPnS7EAAAAASUVORK5CYII="
)
REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "A shrine gate.", "signature": "c2ln"},
        {"type": "text", "text": "Kyoto, Fushimi Inari."},
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 10, "output_tokens": 5},
}
TRIP = (
    Conversation(system="You plan trips.")
    .user([Image.from_bytes(PNG_2X2), "Where is this?"])
    .fold(REPLY)
)


def rebuilt(c: Conversation) -> Conversation:
    """An equal conversation that shares no run of its chain with ``c``."""
    copy = Conversation.loads(c.dumps())
    assert copy == c
    return copy


# Turns from a few texts only, so that drawn conversations often begin alike.
_few = st.lists(st.tuples(st.booleans(), st.sampled_from("abc")), max_size=8)


def from_spec(spec: list[tuple[bool, str]], base: Conversation | None = None) -> Conversation:
    c = Conversation() if base is None else base
    for user, text in spec:
        c = c.user(text) if user else c.assistant(text)
    return c


class TestEdit:
    def test_user_turn(self) -> None:
        """edit(i) is c[:i] plus a turn of c[i]'s role: the rest of c is not kept."""
        c = Conversation().user("Plan a trip.").assistant("Where?").user("Kyoto").assistant("OK")
        edited = c.edit(2, "Osaka")
        assert edited == c[:2].user("Osaka")
        assert c[2].text == "Kyoto"  # c is unchanged

    def test_assistant_turn_is_synthetic(self) -> None:
        """A model's turn rewritten is the program's: its provenance says synthetic."""
        edited = TRIP.edit(1, "Somewhere in Japan.")
        assert TRIP[1].provenance is not None
        assert not TRIP[1].synthetic
        assert edited[1].synthetic
        assert edited == TRIP[:1].assistant("Somewhere in Japan.")

    def test_shares_the_prefix(self) -> None:
        """The new branch goes on from c[:i]'s run, copying nothing (nor do the two differ)."""
        c = from_spec([(i % 2 == 0, f"turn {i}") for i in range(300)])
        edited = c.edit(200, "changed")
        assert edited[:200]._at == c[:200]._at
        run = edited._at[0]
        assert run is not None
        assert run.parent is c[:200]._at[0]
        assert run.items == ["changed", None]
        assert c.common_prefix(edited)._at == c[:200]._at

    @given(st.integers(-8, 7))
    def test_negative_index_counts_from_the_end(self, index: int) -> None:
        """Like a list's index: -1 is the last turn."""
        c = from_spec([(i % 2 == 0, f"turn {i}") for i in range(8)])
        at = index % 8
        edited = c.edit(index, "new")
        assert edited == (c[:at].user("new") if at % 2 == 0 else c[:at].assistant("new"))

    @pytest.mark.parametrize(
        "content",
        [
            "text",
            Text("text", cache_control={"type": "ephemeral"}),
            {"type": "text", "text": "text"},
            ["one", {"type": "text", "text": "two"}],
            [Image.from_bytes(PNG_2X2), "What is this?"],
        ],
    )
    def test_content_as_user_takes_it(self, content: Any) -> None:
        """Content is taken as user() and assistant() take it."""
        assert TRIP.edit(0, content) == TRIP[:0].user(content)

    def test_typo_refused(self) -> None:
        """A block type that misspells a known one is refused, as in user()."""
        with pytest.raises(MalformedInputError, match="did you mean 'text'"):
            TRIP.edit(0, {"type": "txt", "text": "Hi"})

    def test_keeps_system_and_metadata(self) -> None:
        c = TRIP.with_metadata(title="trip")
        edited = c.edit(-1, "Elsewhere.")
        assert (edited.system, edited.metadata) == (c.system, c.metadata)

    @pytest.mark.parametrize(("size", "index"), [(0, 0), (0, -1), (2, 2), (2, -3), (5, 99)])
    def test_out_of_range(self, size: int, index: int) -> None:
        """The library's error, an IndexError too, naming the index and the length."""
        c = from_spec([(i % 2 == 0, "x") for i in range(size)])
        with pytest.raises(TurnIndexError) as caught:
            c.edit(index, "new")
        error = caught.value
        assert isinstance(error, IndexError)
        assert isinstance(error, ConversationError)
        assert (error.index, error.length) == (index, size)
        assert f"index {index} " in str(error)
        assert f"{size} turn" in str(error)

    @given(st.one_of(st.text(max_size=3), st.floats(), st.none(), st.just([0])))
    def test_index_not_an_int(self, index: Any) -> None:
        with pytest.raises(MalformedInputError, match="edit takes a turn index"):
            TRIP.edit(index, "new")

    def test_indexing_raises_the_same_error(self) -> None:
        """c[i] out of range raises TurnIndexError too, naming the index as given."""
        with pytest.raises(TurnIndexError, match="turn index -5 is out of range") as caught:
            TRIP[-5]
        assert caught.value.length == 2


class TestCost:
    def test_diff_of_branches_builds_the_turns_after_the_fork(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Two one-turn branches off a 10,000-turn history: diff makes a Turn value of
        each branch's own turn only, not of the history they share."""
        from conversation._turn import turn_of

        history = from_spec([(i % 2 == 0, f"turn {i}") for i in range(10_000)])
        left, right = history.user("left"), history.user("right")
        made: list[Any] = []

        def counting(*args: Any) -> Any:
            made.append(args)
            return turn_of(*args)

        monkeypatch.setattr("conversation._chain.turn_of", counting)
        diff = left.diff(right)
        assert [turn.content for turn in diff.left] == ["left"]
        assert [turn.content for turn in diff.right] == ["right"]
        assert len(diff.common) == 10_000
        assert len(made) == 2


class TestCommonPrefix:
    def test_branches_meet_where_they_parted(self) -> None:
        """Two branches of one history: the history, the very run and length."""
        left, right = TRIP.user("Shorter."), TRIP.user("Longer.").assistant("Sure.")
        common = left.common_prefix(right)
        assert common == TRIP
        assert common._at == TRIP._at

    def test_equal_turns_built_apart(self) -> None:
        """Turns equal by value, in chains that share nothing, are common too."""
        right = rebuilt(TRIP).user("More.")
        left = TRIP.user("Less.")
        common = left.common_prefix(right)
        assert common == TRIP
        assert common._at == left[: len(TRIP)]._at  # a prefix of the left conversation

    def test_shared_then_equal_then_different(self) -> None:
        """A shared start, equal turns appended apart after it, then a difference."""
        base = from_spec([(True, "a"), (False, "b")])
        left = base.user("c").assistant("d").user("e")
        right = base.user("c").assistant("d").user("f")
        assert left.common_prefix(right) == left[:4]

    def test_a_prefix_and_its_extension(self) -> None:
        extended = TRIP.user("More.").assistant("Yes.")
        assert TRIP.common_prefix(extended) is not None
        assert TRIP.common_prefix(extended) == TRIP
        assert extended.common_prefix(TRIP) == TRIP

    def test_provenance_counts(self) -> None:
        """A model's turn and the same text written by the program are different turns."""
        synthetic = TRIP[:1].assistant(list(TRIP[1].blocks))
        assert synthetic[1].content == TRIP[1].content
        assert TRIP.common_prefix(synthetic) == TRIP[:1]

    def test_system_prompts_differ(self) -> None:
        """The common turns, under the left conversation's prompt and metadata."""
        other = TRIP.with_system("You are terse.").user("More.")
        common = TRIP.with_metadata(title="t").common_prefix(other)
        assert common.turns == TRIP.turns
        assert common.system == TRIP.system
        assert common.metadata == {"title": "t"}

    @given(st.one_of(st.integers(), st.text(max_size=3), st.none(), st.just(TRIP.turns)))
    def test_other_must_be_a_conversation(self, other: Any) -> None:
        with pytest.raises(MalformedInputError, match="common_prefix takes a Conversation"):
            TRIP.common_prefix(other)
        with pytest.raises(MalformedInputError, match="takes a Conversation"):
            TRIP.diff(other)

    @given(_few, _few, _few, st.booleans())
    def test_longest_common_run(
        self,
        shared: list[tuple[bool, str]],
        left: list[tuple[bool, str]],
        right: list[tuple[bool, str]],
        apart: bool,
    ) -> None:
        """The longest run of equal turns, whether the chains share nodes or not."""
        base = from_spec(shared)
        a = from_spec(left, base)
        b = from_spec(right, rebuilt(base) if apart else base)
        size = shared_prefix(a, b)
        common = a.common_prefix(b)
        assert common == a[:size]
        assert len(b.common_prefix(a)) == size


class TestDiff:
    def test_fields(self) -> None:
        """The common prefix, then each side's turns after it; the two system prompts."""
        left, right = TRIP.user("Shorter."), TRIP.user("Longer.").assistant("Sure.")
        diff = left.diff(right)
        assert diff.common == TRIP
        assert diff.left == left.turns[2:]
        assert diff.right == right.turns[2:]
        assert diff.left_system == diff.right_system == "You plan trips."
        assert diff

    def test_equal_is_false(self) -> None:
        """No differences: an empty diff, whatever the metadata says."""
        diff = TRIP.diff(rebuilt(TRIP).with_metadata(title="other"))
        assert not diff
        assert (diff.left, diff.right) == ((), ())
        assert str(diff).startswith("no differences: 2 shared turns; the last: [1] assistant")
        assert repr(diff) == "<Diff no differences, 2 shared turns>"

    def test_system_prompt_alone_differs(self) -> None:
        diff = TRIP.diff(TRIP.with_system(None))
        assert diff
        assert str(diff).splitlines()[1:] == [
            "--- left: no more turns",
            "- system: 'You plan trips.'",
            "+++ right: no more turns",
            "+ system: none",
        ]

    def test_reads_well(self) -> None:
        """One line for the shared part, then each side: its system prompt when they
        differ, then one line per turn, blocks by type and key fields, clipped."""
        left = (
            TRIP.user("Weather there?")
            .assistant(
                [
                    RedactedThinking("ZGF0YQ=="),
                    ToolUse("toolu_1", "get_weather", {"city": "Kyoto", "unit": "c"}),
                ]
            )
            .user([ToolResult("toolu_1", "15 degrees, cloudy", is_error=False)])
        )
        plan = Document.from_text("Day 1: temples.\nDay 2: markets.", title="Plan")
        right = TRIP.with_system("You are terse.").user([plan, "Shorten this " + "very " * 30])
        assert str(left.diff(right)) == (
            "2 shared turns; the last: [1] assistant (claude-sonnet-4-5): "
            "thinking 'A shrine gate.', 'Kyoto, Fushimi Inari.'\n"
            "--- left: 3 more turns\n"
            "- system: 'You plan trips.'\n"
            "- [2] user: 'Weather there?'\n"
            "- [3] assistant (synthetic): redacted_thinking, "
            "tool_use get_weather {'city': 'Kyoto', 'unit': 'c'}\n"
            "- [4] user: tool_result toolu_1: '15 degrees, cloudy'\n"
            "+++ right: 1 more turn\n"
            "+ system: 'You are terse.'\n"
            "+ [2] user: document 'Plan' text 'Day 1: temples.\\nDay 2: markets.', "
            "'Shorten this very very very very very very very v…"
        )
        assert repr(left.diff(right)) == (
            "<Diff 2 shared turns, 3 left, 1 right, system prompts differ>"
        )

    def test_nothing_shared(self) -> None:
        assert str(Conversation().user("a").diff(Conversation().user("b"))) == (
            "no shared turns\n--- left: 1 more turn\n- [0] user: 'a'\n"
            "+++ right: 1 more turn\n+ [0] user: 'b'"
        )

    def test_every_block_type_has_a_summary(self) -> None:
        """Error results, nested blocks and media sources are named, never dumped whole."""
        image = Image.from_bytes(PNG_2X2)
        c = Conversation().user([Image.from_url("https://example.com/a.png"), image, "?"])
        c = c.assistant([ToolUse("t1", "shot", {})]).user(
            [ToolResult("t1", [image, Text("seen")], is_error=True)]
        )
        lines = str(Conversation().diff(c)).splitlines()
        assert lines[3] == (
            "+ [0] user: image https://example.com/a.png, image image/png 2x2, "
            f"{len(image.source.data)} base64 chars, '?'"  # type: ignore[union-attr]
        )
        assert lines[5] == (
            "+ [2] user: tool_result t1 (error): [image image/png 2x2, "
            f"{len(image.source.data)} base64 chars, 'seen']"  # type: ignore[union-attr]
        )

    @given(stored_conversations(), stored_conversations(), st.integers(0, 6))
    def test_any_two_conversations(self, a: Conversation, b: Conversation, keep: int) -> None:
        """The common prefix plus each side's turns is that side; the text is lines of
        bounded width, marked by side, with no terminal escapes; bool says if they differ."""
        b = a[:keep].extend(b)  # often sharing a start
        diff = a.diff(b)
        assert diff.common.turns + diff.left == a.turns
        assert diff.common.turns + diff.right == b.turns
        assert bool(diff) == (a.system != b.system or a.turns != b.turns)
        text = str(diff)
        assert text == str(a.diff(b))  # deterministic
        assert "\x1b" not in text
        lines = text.splitlines()
        assert all(len(line) <= LINE_WIDTH for line in lines)
        systems = 2 if a.system != b.system else 0
        assert len(lines) == (1 + 2 + len(diff.left) + len(diff.right) + systems if diff else 1)
        assert sum(line.startswith("- [") for line in lines) == len(diff.left)
        assert sum(line.startswith("+ [") for line in lines) == len(diff.right)

    @given(tool_loops(), st.data())
    def test_diff_of_an_edit(self, c: Conversation, data: st.DataObject) -> None:
        """An edit differs from its source from the turn edited on."""
        index = data.draw(st.integers(0, len(c) - 1), label="index")
        text = data.draw(text_cases(plain=True), label="text").obj.text
        edited = c.edit(index, text)
        diff = c.diff(edited)
        size = shared_prefix(c, edited)
        assert size in (index, len(c)) or c[index].text == text
        assert diff.common == c[:size]
        assert diff.right == edited.turns[size:]

    def test_exported(self) -> None:
        import conversation

        assert "Diff" in conversation.__all__
        assert isinstance(TRIP.diff(TRIP), Diff)
