"""The computer tool's actions, per tool version, and the checking of one call's input.

Each ``computer_*`` version has its own set of actions and, for each action,
the input fields it requires and those it allows (reference: the published
tool definitions). :func:`read_action` checks a ``tool_use`` input against the
version in use and the display size, and gives the values typed; everything
wrong with it is reported at once, each problem at its ``$.field``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from .errors import ActionError

__all__ = ["COMPUTER_ACTIONS", "SCROLL_DIRECTIONS", "Action", "ActionError", "read_action"]

MAX_DURATION: Final = 100.0
"""The longest ``hold_key`` or ``wait``, in seconds (the reference implementation's limit)."""

SCROLL_DIRECTIONS: Final = ("up", "down", "left", "right")


@attrs.frozen
class _Fields:
    """The input fields of one action: those it needs, and those it may have."""

    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()


def _fields(required: Iterable[str] = (), optional: Iterable[str] = ()) -> _Fields:
    return _Fields(frozenset(required), frozenset(optional))


_NONE = _fields()
_TEXT = _fields(["text"])
_AT = _fields(["coordinate"])

_V20241022: Final[Mapping[str, _Fields]] = {
    "key": _TEXT,
    "type": _TEXT,
    "mouse_move": _AT,
    "left_click": _NONE,
    "left_click_drag": _AT,
    "right_click": _NONE,
    "middle_click": _NONE,
    "double_click": _NONE,
    "screenshot": _NONE,
    "cursor_position": _NONE,
}

# Clicks and scrolls may hold modifier keys: ``text`` in the published tool
# definitions, ``key`` in Anthropic's reference implementation; both are read.
_CLICK = _fields(optional=["coordinate", "text", "key"])
_V20250124: Final[Mapping[str, _Fields]] = {
    **_V20241022,
    "hold_key": _fields(["text", "duration"]),
    "left_mouse_down": _NONE,
    "left_mouse_up": _NONE,
    "left_click": _CLICK,
    "left_click_drag": _fields(["start_coordinate", "coordinate"]),
    "right_click": _CLICK,
    "middle_click": _CLICK,
    "double_click": _CLICK,
    "triple_click": _CLICK,
    "scroll": _fields(["scroll_direction", "scroll_amount"], ["coordinate", "text", "key"]),
    "wait": _fields(["duration"]),
}

_V20251124: Final[Mapping[str, _Fields]] = {**_V20250124, "zoom": _fields(["region"])}

_TABLES: Final[Mapping[str, Mapping[str, _Fields]]] = {
    "computer_20241022": _V20241022,
    "computer_20250124": _V20250124,
    "computer_20251124": _V20251124,
}

COMPUTER_ACTIONS: Final[Mapping[str, frozenset[str]]] = {
    version: frozenset(table) for version, table in _TABLES.items()
}
"""Every action of each computer tool version."""


@attrs.frozen
class Action:
    """One checked computer action: its name and the typed values of the fields it has."""

    name: str
    coordinate: tuple[int, int] | None = None
    start_coordinate: tuple[int, int] | None = None
    text: str | None = None
    duration: float | None = None
    scroll_direction: str | None = None
    scroll_amount: int | None = None
    region: tuple[int, int, int, int] | None = None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


class _Reader:
    """Reads the fields of one input, keeping every problem found."""

    def __init__(self, input: Mapping[str, Any], width: int, height: int) -> None:
        self.input = input
        self.width = width
        self.height = height
        self.problems: list[tuple[str, str]] = []

    def fail(self, field: str, message: str) -> None:
        self.problems.append((f"$.{field}", message))

    def point(self, field: str) -> tuple[int, int] | None:
        value = self.input[field]
        if not isinstance(value, list | tuple) or len(value) != 2 or not all(map(_is_int, value)):
            self.fail(field, f"expected [x, y], two integers in pixels, got {_shown(value)}")
            return None
        x, y = value
        if not (0 <= x < self.width and 0 <= y < self.height):
            self.fail(field, f"({x}, {y}) is outside the {self.width}x{self.height} display")
            return None
        return x, y

    def region(self, field: str) -> tuple[int, int, int, int] | None:
        value = self.input[field]
        if not isinstance(value, list | tuple) or len(value) != 4 or not all(map(_is_int, value)):
            self.fail(field, f"expected [x1, y1, x2, y2], four integers, got {_shown(value)}")
            return None
        x1, y1, x2, y2 = value
        inside = 0 <= x1 < x2 <= self.width and 0 <= y1 < y2 <= self.height
        if not inside:
            self.fail(
                field,
                f"{list(value)} is not a region of the {self.width}x{self.height} display "
                "(top-left x1, y1 before bottom-right x2, y2)",
            )
            return None
        return x1, y1, x2, y2

    def text(self, field: str, action: str) -> str | None:
        value = self.input[field]
        if not isinstance(value, str):
            self.fail(field, f"expected a string, got {_shown(value)}")
            return None
        if not value and action != "type":
            self.fail(field, "expected key names (xdotool syntax, e.g. 'ctrl+s'), got ''")
            return None
        return value

    def duration(self, field: str) -> float | None:
        value = self.input[field]
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not 0 <= value <= MAX_DURATION
        ):
            self.fail(field, f"expected seconds from 0 to {MAX_DURATION:g}, got {_shown(value)}")
            return None
        return float(value)

    def direction(self, field: str) -> str | None:
        value = self.input[field]
        if value not in SCROLL_DIRECTIONS:
            wanted = ", ".join(map(repr, SCROLL_DIRECTIONS))
            self.fail(field, f"expected one of {wanted}, got {_shown(value)}")
            return None
        return str(value)

    def amount(self, field: str) -> int | None:
        value = self.input[field]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not _is_int(value) or value < 0:
            self.fail(field, f"expected a whole number of wheel clicks >= 0, got {_shown(value)}")
            return None
        return int(value)


def read_action(version: str, input: Mapping[str, Any], width: int, height: int) -> Action:
    """The action a computer ``tool_use`` input asks for, checked against ``version``.

    Raises :class:`ActionError` naming every problem: an action that is not in
    ``version`` (naming the version and its actions), a field the action does
    not take or lacks, a value of the wrong kind, a point off the display.
    """
    table = _TABLES[version]
    name = input.get("action")
    if not isinstance(name, str) or name not in table:
        known = ", ".join(sorted(table))
        what = f"{name!r} is not an action of {version}" if isinstance(name, str) else None
        raise ActionError(
            f"{what or f'expected an action name, got {_shown(name)}'}; {version} has: {known}",
            "$.action",
        )
    fields = table[name]
    reader = _Reader(input, width, height)
    for field in sorted(set(input) - {"action"} - fields.required - fields.optional):
        allowed = ", ".join(sorted(fields.required | fields.optional)) or "nothing but 'action'"
        reader.fail(field, f"{name} in {version} does not take {field!r} (it takes: {allowed})")
    for field in sorted(fields.required - set(input)):
        reader.fail(field, f"{name} needs {field!r}")
    values: dict[str, Any] = {}
    read = {
        "coordinate": reader.point,
        "start_coordinate": reader.point,
        "region": reader.region,
        "duration": reader.duration,
        "scroll_direction": reader.direction,
        "scroll_amount": reader.amount,
    }
    for field in sorted((fields.required | fields.optional) & set(input)):
        if field in ("text", "key"):
            values[field] = reader.text(field, name)
        else:
            values[field] = read[field](field)
    if "key" in values:
        held = values.pop("key")
        if "text" in input:
            reader.fail("key", "give the keys to hold once, as 'text' (or 'key'), not both")
        values["text"] = held
    if reader.problems:
        raise ActionError(reader.problems)
    return Action(name, **values)
