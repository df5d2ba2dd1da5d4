"""Colour: on a terminal only, and never when NO_COLOR is set (no-color.org)."""

from __future__ import annotations

import io
import os
import pty

import pytest

from conversation.cli._style import Style, style_for


def test_colour_wraps_text_and_plain_leaves_it() -> None:
    assert Style(True)("id", "abc") == "\x1b[33mabc\x1b[0m"
    assert Style(False)("id", "abc") == "abc"
    assert Style(True)("id", "") == ""


@pytest.mark.parametrize(("no_color", "colour"), [(None, True), ("", True), ("1", False)])
def test_a_terminal_gets_colour_unless_no_color_is_set(
    no_color: str | None, colour: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    leader, follower = pty.openpty()  # a real terminal device
    try:
        with os.fdopen(follower, "w", closefd=False) as terminal:
            assert terminal.isatty()
            assert style_for(terminal).colour is colour
    finally:
        os.close(leader)
        os.close(follower)
    assert style_for(io.StringIO()).colour is False
