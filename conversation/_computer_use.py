"""Carrying out computer, bash and editor tool calls on an :class:`Environment`."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

import attrs

from ._actions import COMPUTER_ACTIONS, Action, ActionError, read_action
from ._blocks import Image, ToolResult, ToolUse
from ._environment import Environment
from ._json import thaw
from ._tool_versions import (
    TOOL_SETS,
    BashTool,
    ComputerTool,
    TextEditorTool,
    ToolDefinition,
    _display,
    _pixels,
)
from .errors import MalformedInputError
from .tools import Tool

_CLICKS: Final = {"left_click": "left", "right_click": "right", "middle_click": "middle"}


def _text(input: Mapping[str, Any], field: str, action: str) -> str:
    value = input.get(field)
    if not isinstance(value, str):
        raise ActionError(f"{action} needs {field!r}, a string", f"$.{field}")
    return value


def _takes_keys(method: Callable[..., Any]) -> bool:
    """Whether an environment method accepts ``keys=`` (or any keyword)."""
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "keys" or p.kind is p.VAR_KEYWORD for p in parameters)


@attrs.frozen
class ComputerUse:
    """The three tools bound to an :class:`Environment`, ready to run.

    ``version`` picks a consistent set of tool types (:data:`TOOL_SETS`);
    ``enable_zoom=True`` (versions with ``computer_20251124``) lets the model
    call ``zoom`` and says so in the tool definition.
    :meth:`tools` gives them for :func:`~conversation.tools.run_tools`;
    :meth:`handle` answers one ``tool_use`` block.
    """

    env: Environment = attrs.field(eq=False)
    display_width_px: int = attrs.field(kw_only=True, validator=_pixels)
    display_height_px: int = attrs.field(kw_only=True, validator=_pixels)
    display_number: int | None = attrs.field(default=None, kw_only=True, validator=_display)
    version: str = attrs.field(default="20250124", kw_only=True)
    enable_zoom: bool = attrs.field(default=False, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.version not in TOOL_SETS:
            raise MalformedInputError(
                f"version must be one of {sorted(TOOL_SETS)}, got {self.version!r}", "$.version"
            )
        if not isinstance(self.enable_zoom, bool):
            raise MalformedInputError(
                f"enable_zoom must be True or False, got {self.enable_zoom!r}", "$.enable_zoom"
            )
        if self.enable_zoom and "zoom" not in COMPUTER_ACTIONS[self.computer_type]:
            raise MalformedInputError(
                f"enable_zoom needs a version whose computer tool has zoom (20251124); "
                f"version {self.version} uses {self.computer_type}",
                "$.enable_zoom",
            )

    @property
    def computer_type(self) -> str:
        """The computer tool ``type`` of this version (``computer_20250124``...)."""
        return TOOL_SETS[self.version][0]

    def definitions(self) -> tuple[ComputerTool, BashTool, TextEditorTool]:
        """The three tool definitions of this version."""
        computer, bash, editor = TOOL_SETS[self.version]
        return (
            ComputerTool(
                self.display_width_px,
                self.display_height_px,
                display_number=self.display_number,
                type=computer,
                enable_zoom=True if self.enable_zoom else None,
            ),
            BashTool(bash),
            TextEditorTool(editor),
        )

    def tools(self) -> list[BuiltinTool]:
        """The three tools, each running its calls on the environment."""
        handlers = {"computer": self.computer, "bash": self.bash}
        return [BuiltinTool.of(d, handlers.get(d.name, self.edit)) for d in self.definitions()]

    # Each handler takes a tool_use input as keywords (how run_tools calls a Tool)
    # and returns tool_result content: text, or an Image block.

    def computer(self, **input: Any) -> str | Image:
        """Carry out one computer action of this version (see :data:`COMPUTER_ACTIONS`).

        The input is checked against the version first (:class:`ActionError`
        names every problem); then the environment does it.
        """
        action = read_action(
            self.computer_type, input, self.display_width_px, self.display_height_px
        )
        return self._ACTIONS[action.name](self, action)

    def _optional(self, method: str, action: str) -> Callable[..., Any]:
        found = getattr(self.env, method, None)
        if not callable(found):
            raise ActionError(
                f"this environment cannot do {action}: it has no {method}() method "
                "(see conversation.computer.Environment)",
                "$.action",
            )
        return found  # type: ignore[no-any-return]

    def _cursor(self, action: str) -> tuple[int, int]:
        where = self._optional("cursor_position", action)()
        if (
            not isinstance(where, list | tuple)
            or len(where) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in where)
        ):
            raise TypeError(
                f"Environment.cursor_position() must return (x, y) as two ints, got {where!r}"
            )
        return where[0], where[1]

    def _at(self, action: Action) -> tuple[int, int]:
        """The action's coordinate, or the cursor's when the model gave none."""
        if action.coordinate is not None:
            return action.coordinate
        return self._cursor(f"{action.name} without a 'coordinate' (at the cursor)")

    def _with_keys(self, method: Callable[..., Any], action: Action, *args: Any) -> str:
        """Call ``method(*args)``, with ``keys=`` when the model asked to hold some."""
        if action.text is None:
            method(*args)
            return ""
        if not _takes_keys(method):
            raise ActionError(
                f"this environment cannot hold keys during {action.name}: its "
                f"{getattr(method, '__name__', 'method')}() takes no 'keys' argument",
                "$.text",
            )
        method(*args, keys=action.text)
        return f" holding {action.text}"

    def _screenshot(self, action: Action) -> Image:
        return Image.from_bytes(self.env.screenshot())

    def _cursor_position(self, action: Action) -> str:
        x, y = self._cursor("cursor_position")
        return f"X={x},Y={y}"

    def _key(self, action: Action) -> str:
        self.env.key(str(action.text))
        return f"pressed {action.text}"

    def _type(self, action: Action) -> str:
        self.env.type(str(action.text))
        return "typed"

    def _hold_key(self, action: Action) -> str:
        self._optional("hold_key", "hold_key")(str(action.text), action.duration)
        return f"held {action.text} for {action.duration:g} s"

    def _mouse_move(self, action: Action) -> str:
        x, y = self._at(action)
        self._optional("mouse_move", "mouse_move")(x, y)
        return f"moved the mouse to ({x}, {y})"

    def _click(self, action: Action) -> str:
        x, y = self._at(action)
        held = self._with_keys(self.env.click, action, x, y, _CLICKS[action.name])
        return f"{action.name} at ({x}, {y}){held}"

    def _multi_click(self, action: Action) -> str:
        method = self._optional(action.name, action.name)
        x, y = self._at(action)
        held = self._with_keys(method, action, x, y)
        return f"{action.name} at ({x}, {y}){held}"

    def _drag(self, action: Action) -> str:
        method = self._optional("left_click_drag", "left_click_drag")
        if action.start_coordinate is not None:
            x1, y1 = action.start_coordinate
        else:  # computer_20241022 drags from where the cursor is
            x1, y1 = self._cursor("left_click_drag (from the cursor)")
        x2, y2 = self._at(action)
        method(x1, y1, x2, y2)
        return f"dragged from ({x1}, {y1}) to ({x2}, {y2})"

    def _button(self, action: Action) -> str:
        self._optional(action.name, action.name)()
        return "left mouse button " + ("down" if action.name == "left_mouse_down" else "up")

    def _scroll(self, action: Action) -> str:
        method = self._optional("scroll", "scroll")
        x, y = self._at(action)
        held = self._with_keys(
            method, action, x, y, str(action.scroll_direction), action.scroll_amount
        )
        return f"scrolled {action.scroll_direction} by {action.scroll_amount} at ({x}, {y}){held}"

    def _wait(self, action: Action) -> str:
        seconds = float(action.duration or 0.0)
        wait = getattr(self.env, "wait", None)
        if callable(wait):
            wait(seconds)
        else:
            time.sleep(seconds)
        return f"waited {seconds:g} s"

    def _zoom(self, action: Action) -> Image:
        if not self.enable_zoom:
            raise ActionError(
                "zoom is off for this tool: make the ComputerUse with enable_zoom=True "
                "(it sends enable_zoom in the computer tool definition)",
                "$.action",
            )
        x1, y1, x2, y2 = action.region or (0, 0, 0, 0)
        return Image.from_bytes(self._optional("zoom", "zoom")(x1, y1, x2, y2))

    _ACTIONS: ClassVar[Mapping[str, Callable[[ComputerUse, Action], str | Image]]] = {
        "screenshot": _screenshot,
        "cursor_position": _cursor_position,
        "key": _key,
        "type": _type,
        "hold_key": _hold_key,
        "mouse_move": _mouse_move,
        "left_click": _click,
        "right_click": _click,
        "middle_click": _click,
        "double_click": _multi_click,
        "triple_click": _multi_click,
        "left_click_drag": _drag,
        "left_mouse_down": _button,
        "left_mouse_up": _button,
        "scroll": _scroll,
        "wait": _wait,
        "zoom": _zoom,
    }

    def bash(self, **input: Any) -> str:
        """Run a command (``{"command": ...}``) or restart the shell (``{"restart": true}``)."""
        if input.get("restart") is True:
            restart = getattr(self.env, "restart_bash", None)
            if not callable(restart):
                raise ActionError("this environment cannot restart its shell", "$.restart")
            restart()
            return "tool has been restarted."
        return self.env.bash(_text(input, "command", "bash"))

    def edit(self, **input: Any) -> str:
        """Run an editor command (``view``, ``create``, ``str_replace``, ``insert``...)."""
        command = _text(input, "command", "the editor")
        path = _text(input, "path", f"the editor's {command}")
        rest = {k: v for k, v in input.items() if k not in ("command", "path")}
        return self.env.edit(command, path, **rest)

    def handle(self, use: ToolUse) -> ToolResult:
        """The ``tool_result`` answering ``use``; a failure is an error result, not raised."""
        handlers = {"computer": self.computer, "bash": self.bash}
        names = {d.name for d in self.definitions()}
        if use.name not in names:
            return ToolResult(
                use.id, f"unknown tool {use.name!r}; this handles {sorted(names)}", is_error=True
            )
        handler = handlers.get(use.name, self.edit)
        try:
            value = handler(**thaw(use.input))
        except Exception as exc:
            text = str(exc)
            return ToolResult(
                use.id,
                f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                is_error=True,
            )
        if isinstance(value, Image):
            return ToolResult(use.id, [value])
        return ToolResult(use.id, value or None)


@attrs.frozen
class BuiltinTool(Tool):
    """A :class:`~conversation.tools.Tool` whose definition is an Anthropic-defined tool.

    ``to_wire()`` gives that definition (``type`` and ``name``, no
    ``input_schema``); ``beta`` its ``anthropic-beta`` value; the function
    runs a call with the tool_use input as keywords.
    """

    definition: ToolDefinition = attrs.field(kw_only=True)

    @classmethod
    def of(cls, definition: ToolDefinition, fn: Callable[..., Any]) -> BuiltinTool:
        """The tool of ``definition`` that runs its calls with ``fn``."""
        return cls(definition.name, fn=fn, definition=definition)

    @property
    def beta(self) -> str | None:
        """The ``anthropic-beta`` value of the definition."""
        return self.definition.beta

    def to_wire(self) -> dict[str, Any]:
        """The built-in definition (with this tool's ``cache_control`` when set)."""
        out = self.definition.to_wire()
        if self.cache_control is not None:
            out["cache_control"] = thaw(self.cache_control)
        return out


def computer_use_tools(
    env: Environment,
    *,
    display_width_px: int,
    display_height_px: int,
    display_number: int | None = None,
    version: str = "20250124",
    enable_zoom: bool = False,
) -> list[BuiltinTool]:
    """The computer, bash and text editor tools of ``version``, run on ``env``.

    For :func:`~conversation.tools.run_tools`; see :class:`ComputerUse`.
    """
    return ComputerUse(
        env,
        display_width_px=display_width_px,
        display_height_px=display_height_px,
        display_number=display_number,
        version=version,
        enable_zoom=enable_zoom,
    ).tools()
