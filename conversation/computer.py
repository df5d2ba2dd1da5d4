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

Every action of each computer tool version is carried out
(:data:`COMPUTER_ACTIONS`: ``screenshot``, clicks, ``mouse_move``, drags,
``scroll``, ``hold_key``, ``wait``, ``zoom``...), its input checked against
that version first. A ``screenshot`` or ``zoom`` answers with an
:class:`~conversation.Image` block, ``cursor_position`` with ``X=..,Y=..``,
the others with a short text; ``bash`` and the editor answer with what the
environment returns. An action that is not in the version, input that does
not fit, or an action the environment does not implement, is answered as an
error result (``is_error``) saying so, never raised into the loop.
:class:`ComputerUse` also answers one ``tool_use`` block
(:meth:`ComputerUse.handle`) for a loop of your own.
"""

from __future__ import annotations

from ._actions import COMPUTER_ACTIONS, SCROLL_DIRECTIONS, Action, ActionError
from ._computer_use import BuiltinTool, ComputerUse, computer_use_tools
from ._environment import Environment
from ._tool_versions import (
    BASH_20241022,
    BASH_20250124,
    TEXT_EDITOR_20241022,
    TEXT_EDITOR_20250124,
    TEXT_EDITOR_20250429,
    TEXT_EDITOR_20250728,
    TOOL_SETS,
    TOOL_VERSIONS,
    BashTool,
    ComputerTool,
    TextEditorTool,
    ToolDefinition,
    ToolVersion,
    betas_for,
)

__all__ = [
    "BASH_20241022",
    "BASH_20250124",
    "COMPUTER_ACTIONS",
    "SCROLL_DIRECTIONS",
    "TEXT_EDITOR_20241022",
    "TEXT_EDITOR_20250124",
    "TEXT_EDITOR_20250429",
    "TEXT_EDITOR_20250728",
    "TOOL_SETS",
    "TOOL_VERSIONS",
    "Action",
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
