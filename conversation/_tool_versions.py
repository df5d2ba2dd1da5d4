"""The Anthropic-defined tool versions and their definitions: what is sent for each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Final, NamedTuple, TypeAlias

import attrs

from ._fields import as_cache_control
from ._json import FrozenDict, thaw
from .errors import MalformedInputError


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
"""Every tool ``type`` this module defines: its tool name and the beta header it needs."""

TOOL_SETS: Final[Mapping[str, tuple[str, str, str]]] = {
    "20241022": ("computer_20241022", "bash_20241022", "text_editor_20241022"),
    "20250124": ("computer_20250124", "bash_20250124", "text_editor_20250124"),
    "20250429": ("computer_20250124", "bash_20250124", "text_editor_20250429"),
    "20250728": ("computer_20250124", "bash_20250124", "text_editor_20250728"),
    "20251124": ("computer_20251124", "bash_20250124", "text_editor_20250728"),
}
"""The (computer, bash, editor) types :func:`computer_use_tools` uses for a ``version``."""


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
