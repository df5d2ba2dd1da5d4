"""The machine the computer-use tools act on, as a protocol the program implements."""

from __future__ import annotations

from typing import Any, Protocol


class Environment(Protocol):
    """The machine the model operates: what the three tools need of it.

    Required: ``screenshot`` returns PNG bytes (any JPEG/PNG/GIF/WebP works);
    ``click``, ``type`` and ``key`` act; ``bash`` and ``edit`` return the text
    the model should see. ``edit`` gets the editor's ``command`` and ``path``
    and every other input field as a keyword (``file_text``, ``old_str``,
    ``new_str``, ``insert_line``, ``view_range``...). A method that raises
    answers the tool call as an error whose text is the exception's message.

    Optional, looked up when the model first asks for the action (an
    environment without one answers that action with an error result naming
    the method to write, and every other action still works)::

        cursor_position() -> tuple[int, int]       cursor_position; also where a
                                                   click or scroll without a
                                                   coordinate acts
        mouse_move(x, y)                           mouse_move
        double_click(x, y) / triple_click(x, y)    double_click / triple_click
        left_click_drag(x1, y1, x2, y2)            left_click_drag
        left_mouse_down() / left_mouse_up()        left_mouse_down / left_mouse_up
        scroll(x, y, direction, amount)            scroll ("up", "down", "left",
                                                   "right"; wheel clicks)
        hold_key(keys, seconds)                    hold_key
        wait(seconds)                              wait (default: time.sleep)
        zoom(x1, y1, x2, y2) -> bytes              zoom (an image of the region
                                                   at full resolution)
        restart_bash()                             bash {"restart": true}

    The click methods (``click`` included) and ``scroll`` get ``keys=`` (the
    modifier keys to hold, e.g. ``"shift"``) only when the model asks for
    some; give them a ``keys: str | None = None`` parameter to support it.
    """

    def screenshot(self) -> bytes: ...

    def click(self, x: int, y: int, button: str = "left") -> None: ...

    def type(self, text: str) -> None: ...

    def key(self, combo: str) -> None: ...

    def bash(self, command: str) -> str: ...

    def edit(self, command: str, path: str, **kw: Any) -> str: ...
