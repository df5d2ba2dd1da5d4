"""Two branches side by side from their fork, with what differs highlighted.

The shared turns come first (folded away but for the last, the fork point),
then the turns after the fork in two columns, paired by position. Paired
turns that differ are marked, and when both are plain text the words one
has and the other lacks are highlighted (``<del>`` on the left, ``<ins>`` on
the right), the way a word diff reads.
"""

from __future__ import annotations

import difflib
import re

from .._blocks import Text
from .._conversation import Conversation
from .._titles import system_text
from .._turn import Turn
from ._html import Markup, tag
from ._render import render_turn

__all__ = ["compare", "word_diff"]

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


def word_diff(left: str, right: str) -> tuple[Markup, Markup]:
    """The two texts with the words only one side has marked: ``<del>`` left, ``<ins>`` right."""
    a, b = _TOKENS.findall(left), _TOKENS.findall(right)
    old: list[Markup | str] = []
    new: list[Markup | str] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        gone, came = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            old.append(gone)
            new.append(came)
            continue
        if gone:
            old.append(tag("del", gone, class_="diff"))
        if came:
            new.append(tag("ins", came, class_="diff"))
    return tag("div", old, class_="text diffed"), tag("div", new, class_="text diffed")


def _plain(turn: Turn) -> bool:
    """Whether the turn is text only, so a word diff shows all of it."""
    return all(isinstance(block, Text) for block in turn.blocks)


def _row(left: Turn | None, right: Turn | None, number: int) -> Markup:
    """One position after the fork: the two turns there, marked when they differ."""
    if left is not None and right is not None and left == right:
        cells = [render_turn(left, number, extra_class=" same")] * 2
    elif left is not None and right is not None and _plain(left) and _plain(right):
        old, new = word_diff(left.text, right.text)
        cells = [
            render_turn(left, number, extra_class=" differs", body=old),
            render_turn(right, number, extra_class=" differs", body=new),
        ]
    else:
        cells = [
            tag("div", "no turn here", class_="turn missing")
            if turn is None
            else render_turn(turn, number, extra_class=" differs")
            for turn in (left, right)
        ]
    return tag(
        "div",
        tag("div", cells[0], class_="cell left"),
        tag("div", cells[1], class_="cell right"),
        class_="row",
    )


def _turns(count: int) -> str:
    """``count`` turns, in words ("1 turn", "3 turns")."""
    return f"{count} turn" + ("" if count == 1 else "s")


def _system(system: str | tuple[Text, ...] | None) -> str:
    """A system prompt as the text to diff, or a note that there is none."""
    text = system_text(system)
    return "(no system prompt)" if text is None else text


def compare(left: Conversation, right: Conversation) -> Markup:
    """The side-by-side view of ``left`` and ``right`` (its headings are the page's)."""
    diff = left.diff(right)
    shared = diff.common
    size = len(shared)
    parts: list[Markup] = []
    if size:
        earlier = [render_turn(turn, number) for number, turn in enumerate(shared, 1)][:-1]
        if earlier:
            summary = tag("summary", f"{_turns(len(earlier))} shared before the fork")
            parts.append(tag("details", summary, earlier, class_="shared-earlier"))
        fork = shared[size - 1]
        parts.append(tag("h2", f"Fork point: turn {size}, shared by both"))
        parts.append(render_turn(fork, size, extra_class=" fork"))
    else:
        parts.append(tag("p", "The two branches share no turns.", class_="muted"))
    if diff.left_system != diff.right_system:
        old, new = word_diff(_system(diff.left_system), _system(diff.right_system))
        parts.append(tag("h2", "System prompts differ"))
        parts.append(
            tag(
                "div",
                tag("div", old, class_="cell left system"),
                tag("div", new, class_="cell right system"),
                class_="row",
            )
        )
    count = max(len(diff.left), len(diff.right))
    if not diff:
        parts.append(tag("p", "The two are the same conversation.", class_="muted"))
    elif count:
        parts.append(
            tag("h2", f"After the fork: {_turns(len(diff.left))} left, {len(diff.right)} right")
        )
    rows = [
        _row(
            diff.left[i] if i < len(diff.left) else None,
            diff.right[i] if i < len(diff.right) else None,
            size + i + 1,
        )
        for i in range(count)
    ]
    parts.append(tag("div", rows, class_="side-by-side"))
    return Markup("".join(parts))
