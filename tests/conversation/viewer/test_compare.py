"""Two branches side by side: the fork point, paired turns, words that differ marked."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from conversation import Conversation, ToolUse
from conversation.viewer._compare import compare, word_diff
from tests.conversation.viewer.parsing import assert_safe, parse

_words = st.lists(st.sampled_from(["a", "b", "<c>", " ", "\n", "day", "&", "."]), max_size=12)


def _strip(markup: str, drop: str) -> str:
    """The text of ``markup`` without what its ``drop`` elements hold."""
    return "".join(parse(re.sub(rf"<{drop} [^>]*>.*?</{drop}>", "", markup, flags=re.S)).text)


@given(_words.map("".join), _words.map("".join))
def test_each_side_of_a_word_diff_is_its_text_and_the_marks_are_the_difference(
    left: str, right: str
) -> None:
    old, new = word_diff(left, right)
    assert "".join(assert_safe(old).text) == left
    assert "".join(assert_safe(new).text) == right
    assert "<ins" not in old
    assert "<del" not in new
    # what is left unmarked on each side is the same words
    assert _strip(old, "del") == _strip(new, "ins")
    if left == right:
        assert "<del" not in old
        assert "<ins" not in new


def test_a_word_diff_marks_only_the_changed_words() -> None:
    old, new = word_diff("Day 1: Alfama and the castle.", "Day 1: Belém and the tower.")
    assert old == (
        '<div class="text diffed">Day 1: <del class="diff">Alfama</del> and the '
        '<del class="diff">castle</del>.</div>'
    )
    assert '<ins class="diff">Belém</ins>' in new


def test_compare_shows_the_fork_then_the_turns_after_it() -> None:
    start = Conversation(system="s").user("Hi").assistant("Hello").user("Tell me")
    left = start.assistant("A story <b>")
    right = start.assistant(({"type": "tool_use", "id": "t", "name": "tell", "input": {}},))
    markup = compare(left, right)
    assert_safe(markup)
    assert "2 turns shared before the fork" in markup
    assert "Fork point: turn 3, shared by both" in markup
    assert "After the fork: 1 turns left, 1 right" not in markup
    assert "After the fork: 1 turn left, 1 right" in markup
    # a text turn against a tool call: both shown whole, both marked as differing
    assert markup.count("differs") == 2
    assert isinstance(right[3].blocks[0], ToolUse)


def test_compare_of_branches_with_no_turn_in_common_or_no_difference() -> None:
    a = Conversation().user("one")
    b = Conversation(system="Be brief.").user("two")
    markup = compare(a, b)
    assert "The two branches share no turns." in markup
    assert "System prompts differ" in markup
    assert "The two are the same conversation." in compare(a, a)


def test_a_word_diffed_turn_has_the_same_header_and_anchor_as_any_turn() -> None:
    """The diffed turns are drawn by render_turn too: the ``#turn-N`` link and id stay."""
    start = Conversation().user("Plan a day")
    left = start.assistant("Day 1: Alfama.")
    right = start.assistant("Day 1: Belém.")
    markup = compare(left, right)
    assert_safe(markup)
    assert markup.count('id="turn-2"') == 2
    assert markup.count('<a href="#turn-2" class="number">#2</a>') == 2
    assert '<del class="diff">Alfama</del>' in markup
    assert markup.count('class="turn assistant synthetic differs"') == 2


def test_an_empty_system_prompt_is_diffed_as_empty_not_as_none() -> None:
    markup = compare(Conversation(system="").user("a"), Conversation().user("a"))
    assert "System prompts differ" in markup
    assert "(no system prompt)" in markup
