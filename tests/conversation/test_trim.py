"""Tests for trim (the latest turns that fit a token budget) and the offline estimate."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import (
    BudgetError,
    Conversation,
    ConversationError,
    Document,
    Image,
    MalformedInputError,
    RedactedThinking,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    Turn,
    estimate_tokens,
)
from conversation._trim import BYTES_PER_TOKEN, IMAGE_TOKENS, PDF_PAGE_TOKENS, cut_points
from tests.strategies import conversations, tool_loops

PNG_2X2 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARAxg8j8AG/ID/fPnS7EAAAAASUVORK5CYII="
)


def words(conversation: Conversation) -> int:
    """A count that is not the estimate: 10 a turn, plus a token per character of text."""
    return sum(10 + len(turn.text) for turn in conversation)


def suffix(conversation: Conversation, start: int) -> Conversation:
    """The turns of ``conversation`` from ``start`` on, under its system prompt and metadata."""
    return conversation[:0].extend(conversation.turns[start:])


def plain_user(turn: Turn) -> bool:
    """A user turn that answers no tool call."""
    return turn.role == "user" and not any(isinstance(b, ToolResult) for b in turn.blocks)


def starts(conversation: Conversation) -> list[int]:
    """Where a kept part may begin, found the slow way: the whole, or a user turn no
    user turn of its run (up to the next assistant turn) answers a tool call in."""
    turns = conversation.turns
    found = [0]
    for k in range(1, len(turns)):
        run = []
        for turn in turns[k:]:
            if turn.role != "user":
                break
            run.append(turn)
        if run and all(plain_user(turn) for turn in run):
            found.append(k)
    return found


def loop(question: str, steps: int, calls: int = 0) -> Conversation:
    """A question, ``steps`` tool calls each with thinking before it, and a signed answer."""
    c = Conversation().user(question)
    for step in range(steps):
        tool_id = f"toolu_{calls + step}"
        c = c.assistant(
            [Thinking(f"step {step}", "c2ln"), ToolUse(tool_id, "lookup", {"step": step})]
        )
        c = c.user([ToolResult(tool_id, f"result {step}")])
    return c.assistant([Thinking("done", "c2ln"), RedactedThinking("ZGF0YQ=="), Text("Answer.")])


def history(exchanges: int) -> Conversation:
    """``exchanges`` question-and-answer exchanges, every other one a tool loop of 2 calls."""
    c = Conversation(system="You look things up.", metadata={"title": "long"})
    for i in range(exchanges):
        c = c.extend(loop(f"question {i}", 2 if i % 2 else 0, calls=3 * i))
    return c


class CountingCalls:
    """A count that records the size of every conversation it is asked about."""

    def __init__(self, count: Callable[[Conversation], int] = words) -> None:
        self.count = count
        self.sizes: list[int] = []

    def __call__(self, conversation: Conversation) -> int:
        self.sizes.append(len(conversation))
        return self.count(conversation)


class TestTrim:
    def test_whole_conversation_that_fits_comes_back_as_it_is(self) -> None:
        """The same object: nothing to drop, nothing rebuilt."""
        c = history(4)
        assert c.trim(words(c), count=words) is c
        assert c.trim(estimate_tokens(c)) is c

    def test_keeps_system_and_metadata_and_drops_whole_exchanges(self) -> None:
        """The latest exchanges that fit, under the same system prompt and metadata."""
        c = history(6)
        last_two = suffix(c, len(c) - 8)  # a plain exchange of 2 turns, then a tool loop of 6
        assert plain_user(last_two[0])
        trimmed = c.trim(words(last_two), count=words)
        assert trimmed == last_two
        assert trimmed.system == c.system
        assert trimmed.metadata == c.metadata

    def test_a_tool_loop_is_kept_whole(self) -> None:
        """A budget that would fit part of a tool loop keeps the whole loop or none of it."""
        c = loop("first", 0).extend(loop("second", 3, calls=10))
        assert starts(c) == [0, 2]
        for budget in range(words(suffix(c, 2)), words(c)):
            assert c.trim(budget, count=words).turns == c.turns[2:]

    def test_the_last_answer_alone_fits_only_with_its_question(self) -> None:
        """A kept part begins at a user turn: never at the answer, never at a tool_result."""
        c = history(3)
        with pytest.raises(BudgetError) as caught:
            c.trim(words(suffix(c, len(c) - 2)) - 1, count=words)
        error = caught.value
        assert (error.budget, error.smallest, error.turns) == (
            words(suffix(c, len(c) - 2)) - 1,
            words(suffix(c, len(c) - 2)),
            2,
        )
        assert f"{error.budget:,}" in str(error)
        assert f"{error.smallest:,}" in str(error)

    def test_one_tool_loop_has_nowhere_to_cut(self) -> None:
        """A conversation with no later place to begin fits whole or not at all."""
        c = loop("only", 3)
        assert starts(c) == [0]
        with pytest.raises(BudgetError, match="the whole conversation") as caught:
            c.trim(words(c) - 1, count=words)
        assert caught.value.smallest == words(c)
        assert caught.value.turns == len(c)

    def test_consecutive_user_turns_are_one_message(self) -> None:
        """A user turn followed by another holding a tool_result is not a place to cut."""
        c = Conversation().user("a").assistant([ToolUse("t1", "f", {})]).user("b")
        c = c.user([ToolResult("t1", "r")]).assistant("done")
        assert cut_points(c.turns) == []
        c = Conversation().user("a").assistant("b").user("c").user("d").assistant("e")
        assert cut_points(c.turns) == [2, 3]

    def test_budget_error_is_a_conversation_error(self) -> None:
        """One ``except ConversationError`` catches it."""
        with pytest.raises(ConversationError):
            history(2).trim(1)

    def test_count_is_called_log_n_times_on_10000_turns(self) -> None:
        """count may be a request to the API: about log2(cut points) + 2 calls, not n."""
        c = history(2500)
        assert len(c) == 10_000
        count = CountingCalls()
        kept = c.trim(words(c) // 3, count=count)
        assert len(count.sizes) <= math.ceil(math.log2(len(c))) + 3
        assert count.sizes[0] == len(c)
        assert len(set(count.sizes)) == len(count.sizes)  # no part is counted twice
        assert words(kept) <= words(c) // 3
        assert plain_user(kept[0])

    def test_count_sees_each_part_as_a_conversation(self) -> None:
        """Every part counted is a suffix of the turns under the same system prompt."""
        c = history(20)
        seen: list[Conversation] = []

        def count(part: Conversation) -> int:
            seen.append(part)
            return words(part)

        c.trim(words(c) // 2, count=count)
        assert seen[0] is c
        for part in seen:
            assert part.turns == c.turns[len(c) - len(part) :]
            assert part.system == c.system
            assert part.metadata == c.metadata

    def test_count_raising_passes_its_error_on(self) -> None:
        """A count's own error (a failed request, say) reaches the caller as it is."""

        class Down(ConversationError):
            pass

        def count(part: Conversation) -> int:
            raise Down("no answer")

        with pytest.raises(Down):
            history(2).trim(100, count=count)


class TestTrimProperties:
    @given(tool_loops(), st.integers(1, 5_000))
    def test_default_estimate(self, c: Conversation, budget: int) -> None:
        """Without a count, trim behaves exactly as with count=estimate_tokens."""
        try:
            expected: Conversation | type[BudgetError] = c.trim(budget, count=estimate_tokens)
        except BudgetError:
            expected = BudgetError
        if expected is BudgetError:
            with pytest.raises(BudgetError):
                c.trim(budget)
        else:
            assert c.trim(budget) == expected

    @given(
        st.one_of(tool_loops(), conversations(max_turns=12)),
        st.sampled_from([words, estimate_tokens]),
        st.data(),
    )
    def test_trim_never_yields_what_the_rules_refuse(
        self, c: Conversation, count: Callable[[Conversation], int], data: st.DataObject
    ) -> None:
        """For any budget, trim raises BudgetError or returns the longest part that fits:
        a suffix of the turns, beginning where a part may begin, that breaks no rule."""
        assert c.violations() == ()
        sizes = {k: count(c if k == 0 else suffix(c, k)) for k in starts(c)}
        # Any budget up to past the whole, often one exactly at (or a token off) a part's size.
        near = st.sampled_from(sorted(sizes.values())).flatmap(
            lambda n: st.sampled_from([n - 1, n, n + 1])
        )
        budget = max(1, data.draw(st.integers(1, count(c) + 10) | near, label="budget"))
        fitting = [k for k, size in sizes.items() if size <= budget]
        if not fitting:
            with pytest.raises(BudgetError) as caught:
                c.trim(budget, count=count)
            assert caught.value.smallest == sizes[max(sizes)]
            assert caught.value.smallest > budget
            return
        kept = c.trim(budget, count=count)
        assert len(kept) == len(c) - min(fitting)
        assert kept.turns == c.turns[len(c) - len(kept) :]
        assert (kept.system, kept.metadata) == (c.system, c.metadata)
        assert count(kept) <= budget
        assert kept is c or plain_user(kept[0])
        assert kept.violations() == ()

    @given(
        st.one_of(
            st.integers(max_value=0),
            st.floats(allow_nan=False),
            st.text(max_size=5),
            st.none(),
            st.booleans(),
            st.lists(st.integers(), max_size=2),
        )
    )
    def test_bad_budget(self, budget: Any) -> None:
        """A budget that is not an int > 0 is refused, naming what it got."""
        with pytest.raises(MalformedInputError, match="budget") as caught:
            history(2).trim(budget)
        assert caught.value.path == "budget"

    @given(st.one_of(st.integers(), st.text(max_size=5), st.just({"a": 1})))
    def test_count_not_callable(self, count: Any) -> None:
        """count must be a function."""
        with pytest.raises(MalformedInputError, match="count must be a function"):
            history(2).trim(10, count=count)

    @given(
        st.one_of(
            st.integers(max_value=-1),
            st.floats(),
            st.text(max_size=5),
            st.none(),
            st.booleans(),
            st.just([3]),
        )
    )
    def test_count_returning_no_token_count(self, result: Any) -> None:
        """A count returning anything but an int >= 0 is refused, naming what it returned."""
        with pytest.raises(MalformedInputError, match="count returned") as caught:
            history(2).trim(10, count=lambda c: result)
        assert caught.value.path == "count"


class TestEstimate:
    @given(tool_loops())
    def test_text_is_json_bytes_over_three(self, c: Conversation) -> None:
        """With no images or documents: the body's bytes / 3, rounded up."""
        assert estimate_tokens(c) == math.ceil(len(c.to_json()) / BYTES_PER_TOKEN)

    def test_empty_conversation(self) -> None:
        """The frame alone: '{"messages":[]}'."""
        assert estimate_tokens(Conversation()) == math.ceil(len(b'{"messages":[]}') / 3)

    def test_images_by_size_not_by_their_base64(self) -> None:
        """A 2 x 2 image costs 1 token (4 pixels / 750); its data is not counted as text."""
        image = Image.from_bytes(PNG_2X2)
        c = Conversation().user([image, "What is this?"])
        without = Conversation().user([Image.from_bytes(PNG_2X2), "What is this?"])
        body = len(without.to_json()) - len(image.source.data)  # type: ignore[union-attr]
        assert estimate_tokens(c) == math.ceil(body / 3) + 1

    def test_unmeasured_images_cost_the_most(self) -> None:
        """An image by URL (its size unknown here) costs 1,600 tokens."""
        c = Conversation().user([Image.from_url("https://example.com/cat.png"), "Cat?"])
        text = math.ceil(len(c.to_json()) / 3)
        assert estimate_tokens(c) == text + IMAGE_TOKENS

    def test_images_in_tool_results_count(self) -> None:
        """Images nested in a tool_result are counted by the same rule."""
        inner = ToolResult("t1", [Image.from_url("https://example.com/a.png")])
        c = Conversation().user("go").assistant([ToolUse("t1", "shot", {})]).user([inner])
        assert estimate_tokens(c) == math.ceil(len(c.to_json()) / 3) + IMAGE_TOKENS

    def test_pdf_pages(self) -> None:
        """A base64 PDF costs 3,000 tokens for each page object it holds."""
        pages = b"".join(b"%d 0 obj << /Type /Page /Parent 1 0 R >> endobj\n" % i for i in (3, 4))
        pdf = b"%PDF-1.7\n1 0 obj << /Type /Pages /Count 2 >> endobj\n" + pages + b"%%EOF\n"
        document = Document.from_bytes(pdf)
        c = Conversation().user([document, "Summarise."])
        data = document.source.data  # type: ignore[union-attr]
        text = math.ceil((len(c.to_json()) - len(data)) / 3)
        assert estimate_tokens(c) == text + 2 * PDF_PAGE_TOKENS

    def test_estimate_grows_with_the_turns(self) -> None:
        """Each longer suffix costs more: what trim's binary search relies on."""
        c = history(10)
        sizes = [estimate_tokens(suffix(c, k)) for k in range(len(c))]
        assert sizes == sorted(sizes, reverse=True)
        assert len(set(sizes)) == len(sizes)
