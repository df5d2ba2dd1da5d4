"""Computer use (beta): the Anthropic-defined computer, bash and text editor tools.

These tools have a fixed wire ``type`` and ``name`` and no ``input_schema``;
the model calls them with ordinary ``tool_use`` blocks that the program runs.
Most versions need an ``anthropic-beta`` header (``beta`` on each definition,
:func:`betas_for` for a list); the Anthropic adapter adds them by itself.

Definitions only (to send)::

    tools = [ComputerTool(1024, 768), BASH_20250124, TEXT_EDITOR_20250728]
    adapter.send(c, tools=tools)          # anthropic-beta: computer-use-2025-01-24

Run by :func:`conversation.tools.run_tools` against your own machine: implement
:class:`Environment` and ask :func:`computer_use_tools` for runnable tools::

    tools = computer_use_tools(env, display_width_px=1024, display_height_px=768)
    chat = run_tools(Conversation().user("Open the editor"), adapter, tools, ...)

A ``screenshot`` answers with an :class:`~conversation.Image` block; clicks,
typing and keys answer with a short text; ``bash`` and the editor answer with
what the environment returns. An action the environment cannot do, or input
that does not fit, is answered as an error result (``is_error``), never raised
into the loop. :class:`ComputerUse` also answers one ``tool_use`` block
(:meth:`ComputerUse.handle`) for a loop of your own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final, NamedTuple, Protocol, TypeAlias

import attrs

from ._blocks import Image, ToolResult, ToolUse, as_cache_control
from ._json import FrozenDict, thaw
from .errors import MalformedInputError
from .tools import Tool

__all__ = [
    "BASH_20241022",
    "BASH_20250124",
    "TEXT_EDITOR_20241022",
    "TEXT_EDITOR_20250124",
    "TEXT_EDITOR_20250429",
    "TEXT_EDITOR_20250728",
    "TOOL_SETS",
    "TOOL_VERSIONS",
    "ActionError",
    "BashTool",
    "BuiltinTool",
    "ComputerTool",
    "ComputerUse",
    "Environment",
    "TextEditorTool",
    "ToolDefinition",
    "ToolVersion",
    "betas_for",
    "computer_use_tools",
]


class ToolVersion(NamedTuple):
    """What the API fixes for one Anthropic-defined tool ``type``."""

    name: str
    """The tool's ``name`` on the wire (and in the model's tool_use blocks)."""
    beta: str | None
    """The ``anthropic-beta`` value it needs, None when generally available."""
    confirmed: bool = True
    """False where the reference could not confirm the details."""


TOOL_VERSIONS: Final[Mapping[str, ToolVersion]] = {
    "computer_20241022": ToolVersion("computer", "computer-use-2024-10-22"),
    "computer_20250124": ToolVersion("computer", "computer-use-2025-01-24"),
    "computer_20251124": ToolVersion("computer", "computer-use-2025-11-24", confirmed=False),
    "text_editor_20241022": ToolVersion("str_replace_editor", "computer-use-2024-10-22"),
    "text_editor_20250124": ToolVersion("str_replace_editor", None),
    "text_editor_20250429": ToolVersion("str_replace_based_edit_tool", None),
    "text_editor_20250728": ToolVersion("str_replace_based_edit_tool", None),
    "bash_20241022": ToolVersion("bash", "computer-use-2024-10-22"),
    "bash_20250124": ToolVersion("bash", None),
}
"""Every tool ``type`` this module defines (the reference's §4.2 table)."""

TOOL_SETS: Final[Mapping[str, tuple[str, str, str]]] = {
    "20241022": ("computer_20241022", "bash_20241022", "text_editor_20241022"),
    "20250124": ("computer_20250124", "bash_20250124", "text_editor_20250124"),
    "20250429": ("computer_20250124", "bash_20250124", "text_editor_20250429"),
    "20250728": ("computer_20250124", "bash_20250124", "text_editor_20250728"),
    "20251124": ("computer_20251124", "bash_20250124", "text_editor_20250728"),
}
"""The (computer, bash, editor) types :func:`computer_use_tools` uses for a ``version``."""


# -- definitions --------------------------------------------------------------------


def _version_of(family: str) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str) or not value.startswith(family + "_"):
            known = sorted(t for t in TOOL_VERSIONS if t.startswith(family + "_"))
            raise MalformedInputError(
                f"{type(instance).__name__} version must be one of {known}, got {value!r}",
                "$.type",
            )
        if value not in TOOL_VERSIONS:
            known = sorted(t for t in TOOL_VERSIONS if t.startswith(family + "_"))
            raise MalformedInputError(
                f"unknown tool type {value!r}; this library knows {known}", "$.type"
            )

    return check


def _pixels(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise MalformedInputError(
            f"{attribute.name} must be a positive int, got {value!r}", f"$.{attribute.name}"
        )


def _display(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise MalformedInputError(
            f"display_number must be None or an int >= 0, got {value!r}", "$.display_number"
        )


class _Definition:
    """What the three definition classes share: name, beta and the wire dict."""

    __slots__ = ()
    type: str
    cache_control: FrozenDict | None
    _PARAMS: ClassVar[tuple[str, ...]] = ()

    @property
    def name(self) -> str:
        """The tool's fixed ``name``."""
        return TOOL_VERSIONS[self.type].name

    @property
    def beta(self) -> str | None:
        """The ``anthropic-beta`` value this tool needs, None when it needs none."""
        return TOOL_VERSIONS[self.type].beta

    @property
    def confirmed(self) -> bool:
        """False for a version whose details the reference marks unconfirmed."""
        return TOOL_VERSIONS[self.type].confirmed

    def to_wire(self) -> dict[str, Any]:
        """The definition as the request's ``tools`` list takes it."""
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        for param in self._PARAMS:
            value = getattr(self, param)
            if value is not None:
                out[param] = value
        if self.cache_control is not None:
            out["cache_control"] = thaw(self.cache_control)
        return out


@attrs.frozen
class ComputerTool(_Definition):
    """The computer tool: screenshots, mouse and keyboard on a display of the given size.

    ``display_number`` is the X11 display (optional); ``enable_zoom`` exists
    only for ``computer_20251124`` (unconfirmed).
    """

    display_width_px: int = attrs.field(validator=_pixels)
    display_height_px: int = attrs.field(validator=_pixels)
    display_number: int | None = attrs.field(default=None, kw_only=True, validator=_display)
    type: str = attrs.field(
        default="computer_20250124", kw_only=True, validator=_version_of("computer")
    )
    enable_zoom: bool | None = attrs.field(default=None, kw_only=True)
    cache_control: FrozenDict | None = attrs.field(
        default=None, kw_only=True, converter=as_cache_control
    )

    _PARAMS: ClassVar[tuple[str, ...]] = (
        "display_width_px",
        "display_height_px",
        "display_number",
        "enable_zoom",
    )

    def __attrs_post_init__(self) -> None:
        if self.enable_zoom is not None and self.type != "computer_20251124":
            raise MalformedInputError(
                f"enable_zoom is a field of computer_20251124 only, not of {self.type}",
                "$.enable_zoom",
            )


@attrs.frozen
class BashTool(_Definition):
    """The bash tool: a shell session the model sends commands to."""

    type: str = attrs.field(default="bash_20250124", validator=_version_of("bash"))
    cache_control: FrozenDict | None = attrs.field(
        default=None, kw_only=True, converter=as_cache_control
    )


@attrs.frozen
class TextEditorTool(_Definition):
    """The text editor tool: view, create and edit files by string replacement.

    ``max_characters`` (``text_editor_20250728`` only) truncates what ``view`` shows.
    """

    type: str = attrs.field(default="text_editor_20250728", validator=_version_of("text_editor"))
    max_characters: int | None = attrs.field(default=None, kw_only=True)
    cache_control: FrozenDict | None = attrs.field(
        default=None, kw_only=True, converter=as_cache_control
    )

    _PARAMS: ClassVar[tuple[str, ...]] = ("max_characters",)

    def __attrs_post_init__(self) -> None:
        if self.max_characters is not None and self.type != "text_editor_20250728":
            raise MalformedInputError(
                f"max_characters is a field of text_editor_20250728 only, not of {self.type}",
                "$.max_characters",
            )


ToolDefinition: TypeAlias = ComputerTool | BashTool | TextEditorTool
"""Any Anthropic-defined client tool definition of this module."""

BASH_20241022: Final = BashTool("bash_20241022")
BASH_20250124: Final = BashTool("bash_20250124")
TEXT_EDITOR_20241022: Final = TextEditorTool("text_editor_20241022")
TEXT_EDITOR_20250124: Final = TextEditorTool("text_editor_20250124")
TEXT_EDITOR_20250429: Final = TextEditorTool("text_editor_20250429")
TEXT_EDITOR_20250728: Final = TextEditorTool("text_editor_20250728")


def betas_for(tools: Iterable[Any] | None) -> tuple[str, ...]:
    """The ``anthropic-beta`` values the tools of a request need, once each, in order.

    Counts any object with a string ``beta`` attribute (the definitions here,
    :class:`BuiltinTool`) and a wire dict whose ``type`` is one of
    :data:`TOOL_VERSIONS` (``run_tools`` sends definitions as dicts). Anything
    else (custom tools, server tools) needs no beta from here.
    """
    if tools is None or isinstance(tools, str | bytes | Mapping) or not isinstance(tools, Iterable):
        return ()
    found: dict[str, None] = {}
    for item in tools:
        if isinstance(item, Mapping):
            kind = item.get("type")
            version = TOOL_VERSIONS.get(kind) if isinstance(kind, str) else None
            beta = version.beta if version is not None else None
        else:
            beta = getattr(item, "beta", None)
        if isinstance(beta, str) and beta:
            found[beta] = None
    return tuple(found)


# -- running them ---------------------------------------------------------------------


class Environment(Protocol):
    """The machine the model operates: what the three tools need of it.

    ``screenshot`` returns PNG bytes (any JPEG/PNG/GIF/WebP works); ``bash``
    and ``edit`` return the text the model should see. A method that raises
    answers the tool call as an error whose text is the exception's message.
    ``edit`` gets the editor's ``command`` and ``path`` and every other input
    field as a keyword (``file_text``, ``old_str``, ``new_str``,
    ``insert_line``, ``view_range``...).

    Optional: ``restart_bash()`` for bash's ``{"restart": true}``.
    """

    def screenshot(self) -> bytes: ...

    def click(self, x: int, y: int, button: str = "left") -> None: ...

    def type(self, text: str) -> None: ...

    def key(self, combo: str) -> None: ...

    def bash(self, command: str) -> str: ...

    def edit(self, command: str, path: str, **kw: Any) -> str: ...


_CLICKS: Final = {"left_click": "left", "right_click": "right", "middle_click": "middle"}


class ActionError(ValueError):
    """A tool call this environment cannot carry out, or whose input does not fit."""


def _text(input: Mapping[str, Any], field: str, action: str) -> str:
    value = input.get(field)
    if not isinstance(value, str):
        raise ActionError(f"{action} needs {field!r}, a string")
    return value


@attrs.frozen
class ComputerUse:
    """The three tools bound to an :class:`Environment`, ready to run.

    ``version`` picks a consistent set of tool types (:data:`TOOL_SETS`).
    :meth:`tools` gives them for :func:`~conversation.tools.run_tools`;
    :meth:`handle` answers one ``tool_use`` block.
    """

    env: Environment = attrs.field(eq=False)
    display_width_px: int = attrs.field(kw_only=True, validator=_pixels)
    display_height_px: int = attrs.field(kw_only=True, validator=_pixels)
    display_number: int | None = attrs.field(default=None, kw_only=True, validator=_display)
    version: str = attrs.field(default="20250124", kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.version not in TOOL_SETS:
            raise MalformedInputError(
                f"version must be one of {sorted(TOOL_SETS)}, got {self.version!r}", "$.version"
            )

    def definitions(self) -> tuple[ComputerTool, BashTool, TextEditorTool]:
        """The three tool definitions of this version."""
        computer, bash, editor = TOOL_SETS[self.version]
        return (
            ComputerTool(
                self.display_width_px,
                self.display_height_px,
                display_number=self.display_number,
                type=computer,
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
        """Carry out one computer action (``screenshot``, ``left_click``, ``type``, ``key``...)."""
        action = input.get("action")
        if action == "screenshot":
            return Image.from_bytes(self.env.screenshot())
        if action in _CLICKS:
            x, y = self._coordinate(input, str(action))
            self.env.click(x, y, _CLICKS[str(action)])
            return f"{action} at ({x}, {y})"
        if action == "type":
            self.env.type(_text(input, "text", "type"))
            return "typed"
        if action == "key":
            combo = _text(input, "text", "key")
            self.env.key(combo)
            return f"pressed {combo}"
        raise ActionError(
            f"this environment does not support the computer action {action!r}; "
            "it supports screenshot, left_click, right_click, middle_click, type and key"
        )

    def bash(self, **input: Any) -> str:
        """Run a command (``{"command": ...}``) or restart the shell (``{"restart": true}``)."""
        if input.get("restart") is True:
            restart = getattr(self.env, "restart_bash", None)
            if not callable(restart):
                raise ActionError("this environment cannot restart its shell")
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

    def _coordinate(self, input: Mapping[str, Any], action: str) -> tuple[int, int]:
        point = input.get("coordinate")
        if (
            not isinstance(point, list | tuple)
            or len(point) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in point)
        ):
            raise ActionError(f"{action} needs 'coordinate', [x, y] in pixels")
        x, y = point
        if not (0 <= x < self.display_width_px and 0 <= y < self.display_height_px):
            raise ActionError(
                f"coordinate ({x}, {y}) is outside the {self.display_width_px}x"
                f"{self.display_height_px} display"
            )
        return x, y


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
    ).tools()
