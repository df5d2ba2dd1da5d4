"""Tests for conversation.computer: built-in tool definitions, betas, and running them.

The environment is a fake that records every action and answers screenshots with
a tiny real PNG; the model is a ScriptedAdapter that asks for tool calls.
"""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import pytest

from adapters.scripted import ScriptedAdapter
from conversation import Conversation, Image, MalformedInputError, ToolResult, ToolUse
from conversation.caching import cache_tools
from conversation.computer import (
    BASH_20241022,
    BASH_20250124,
    TEXT_EDITOR_20241022,
    TEXT_EDITOR_20250124,
    TEXT_EDITOR_20250429,
    TEXT_EDITOR_20250728,
    TOOL_SETS,
    BashTool,
    BuiltinTool,
    ComputerTool,
    ComputerUse,
    TextEditorTool,
    betas_for,
    computer_use_tools,
)
from conversation.tools import Tool, run_tools

OPTS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 1024}


def tiny_png(width: int = 4, height: int = 3) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    raw = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


PNG = tiny_png()


class FakeEnv:
    """An Environment that records what it is asked to do."""

    def __init__(self) -> None:
        self.actions: list[tuple[Any, ...]] = []
        self.files: dict[str, str] = {}

    def screenshot(self) -> bytes:
        self.actions.append(("screenshot",))
        return PNG

    def click(self, x: int, y: int, button: str = "left") -> None:
        self.actions.append(("click", x, y, button))

    def type(self, text: str) -> None:
        self.actions.append(("type", text))

    def key(self, combo: str) -> None:
        self.actions.append(("key", combo))

    def bash(self, command: str) -> str:
        self.actions.append(("bash", command))
        if command == "false":
            raise RuntimeError("exit status 1")
        return f"ran {command}\n"

    def edit(self, command: str, path: str, **kw: Any) -> str:
        self.actions.append(("edit", command, path, kw))
        if command == "create":
            self.files[path] = kw["file_text"]
            return f"File created successfully at: {path}"
        if command == "str_replace":
            self.files[path] = self.files[path].replace(kw["old_str"], kw["new_str"], 1)
            return "The file has been edited."
        if command == "view":
            return self.files[path]
        raise ValueError(f"unknown command {command}")


# -- definitions ------------------------------------------------------------------------

WIRE = [
    (
        ComputerTool(1024, 768, type="computer_20241022"),
        {
            "type": "computer_20241022",
            "name": "computer",
            "display_width_px": 1024,
            "display_height_px": 768,
        },
        "computer-use-2024-10-22",
    ),
    (
        ComputerTool(1280, 800, display_number=1),
        {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": 1280,
            "display_height_px": 800,
            "display_number": 1,
        },
        "computer-use-2025-01-24",
    ),
    (
        ComputerTool(1024, 768, type="computer_20251124", enable_zoom=True),
        {
            "type": "computer_20251124",
            "name": "computer",
            "display_width_px": 1024,
            "display_height_px": 768,
            "enable_zoom": True,
        },
        "computer-use-2025-11-24",
    ),
    (BASH_20241022, {"type": "bash_20241022", "name": "bash"}, "computer-use-2024-10-22"),
    (BASH_20250124, {"type": "bash_20250124", "name": "bash"}, None),
    (
        TEXT_EDITOR_20241022,
        {"type": "text_editor_20241022", "name": "str_replace_editor"},
        "computer-use-2024-10-22",
    ),
    (TEXT_EDITOR_20250124, {"type": "text_editor_20250124", "name": "str_replace_editor"}, None),
    (
        TEXT_EDITOR_20250429,
        {"type": "text_editor_20250429", "name": "str_replace_based_edit_tool"},
        None,
    ),
    (
        TEXT_EDITOR_20250728,
        {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"},
        None,
    ),
    (
        TextEditorTool(max_characters=10000),
        {
            "type": "text_editor_20250728",
            "name": "str_replace_based_edit_tool",
            "max_characters": 10000,
        },
        None,
    ),
]


@pytest.mark.parametrize(("definition", "wire", "beta"), WIRE)
def test_to_wire_and_beta(definition: Any, wire: dict[str, Any], beta: str | None) -> None:
    assert definition.to_wire() == wire
    assert definition.beta == beta
    assert definition.confirmed == (wire["type"] != "computer_20251124")


def test_definitions_go_in_a_payload_as_they_are() -> None:
    tools = [ComputerTool(1024, 768), BASH_20250124, TEXT_EDITOR_20250728]
    payload = Conversation().user("Open a terminal").to_payload(**OPTS, tools=tools)
    assert payload["tools"] == [t.to_wire() for t in tools]


def test_cache_control() -> None:
    marked = cache_tools([BASH_20250124, TEXT_EDITOR_20250728])
    assert marked[-1].to_wire() == {
        "type": "text_editor_20250728",
        "name": "str_replace_based_edit_tool",
        "cache_control": {"type": "ephemeral"},
    }
    assert marked[0] is BASH_20250124


@pytest.mark.parametrize(
    "make",
    [
        lambda: ComputerTool(0, 768),
        lambda: ComputerTool(1024, True),
        lambda: ComputerTool(1024, 768, display_number=-1),
        lambda: ComputerTool(1024, 768, type="computer_20990101"),
        lambda: ComputerTool(1024, 768, type="bash_20250124"),
        lambda: ComputerTool(1024, 768, enable_zoom=True),
        lambda: BashTool("bash_2025"),
        lambda: TextEditorTool("text_editor_20250124", max_characters=5),
        lambda: ComputerUse(FakeEnv(), display_width_px=10, display_height_px=10, version="2023"),
    ],
)
def test_bad_definitions_are_refused(make: Any) -> None:
    with pytest.raises(MalformedInputError):
        make()


class TestBetasFor:
    def test_in_order_once_each(self) -> None:
        tools = [
            ComputerTool(1024, 768),
            BASH_20241022,
            TEXT_EDITOR_20241022,
            BASH_20250124,
            ComputerTool(1024, 768, type="computer_20241022"),
        ]
        assert betas_for(tools) == ("computer-use-2025-01-24", "computer-use-2024-10-22")

    def test_ga_and_custom_tools_need_none(self) -> None:
        custom = {"name": "get_weather", "input_schema": {"type": "object"}}
        web = {"type": "web_search_20250305", "name": "web_search"}
        assert betas_for([BASH_20250124, TEXT_EDITOR_20250728, custom, web]) == ()
        assert betas_for([]) == ()
        assert betas_for(None) == ()
        assert betas_for("computer_20250124") == ()

    def test_wire_dicts_of_known_types(self) -> None:
        """run_tools sends definitions as dicts; their betas are still found."""
        assert betas_for([ComputerTool(800, 600).to_wire()]) == ("computer-use-2025-01-24",)

    def test_runnable_tools(self) -> None:
        tools = computer_use_tools(
            FakeEnv(), display_width_px=800, display_height_px=600, version="20241022"
        )
        assert betas_for(tools) == ("computer-use-2024-10-22",)


# -- running ---------------------------------------------------------------------------


def computer(env: FakeEnv, version: str = "20250124") -> ComputerUse:
    return ComputerUse(env, display_width_px=1024, display_height_px=768, version=version)


def call(name: str, tool_id: str = "toolu_1", **input: Any) -> ToolUse:
    return ToolUse(tool_id, name, input)


class TestHandle:
    def test_screenshot_is_an_image_result(self) -> None:
        env = FakeEnv()
        result = computer(env).handle(call("computer", action="screenshot"))
        assert result == ToolResult("toolu_1", [Image.from_bytes(PNG)])
        assert isinstance(result.content, tuple)
        image = result.content[0]
        assert isinstance(image, Image)
        assert image.size == (4, 3)
        assert env.actions == [("screenshot",)]

    def test_clicks_type_and_key(self) -> None:
        env = FakeEnv()
        cu = computer(env)
        assert cu.handle(call("computer", action="left_click", coordinate=[10, 20])) == ToolResult(
            "toolu_1", "left_click at (10, 20)"
        )
        cu.handle(call("computer", action="right_click", coordinate=[1, 2]))
        cu.handle(call("computer", action="middle_click", coordinate=[3, 4]))
        cu.handle(call("computer", action="type", text="hello"))
        assert cu.handle(call("computer", action="key", text="ctrl+s")).content == "pressed ctrl+s"
        assert env.actions == [
            ("click", 10, 20, "left"),
            ("click", 1, 2, "right"),
            ("click", 3, 4, "middle"),
            ("type", "hello"),
            ("key", "ctrl+s"),
        ]

    @pytest.mark.parametrize(
        ("input", "message"),
        [
            ({"action": "left_click"}, "coordinate"),
            ({"action": "left_click", "coordinate": [1024, 0]}, "outside the 1024x768 display"),
            ({"action": "left_click", "coordinate": ["1", 2]}, "coordinate"),
            ({"action": "type"}, "'text'"),
            ({"action": "zoom", "region": [0, 0, 1, 1]}, "does not support the computer action"),
        ],
    )
    def test_bad_actions_are_error_results(self, input: dict[str, Any], message: str) -> None:
        env = FakeEnv()
        result = computer(env).handle(call("computer", **input))
        assert result.is_error is True
        assert isinstance(result.content, str)
        assert message in result.content
        assert env.actions == []

    def test_bash(self) -> None:
        env = FakeEnv()
        cu = computer(env)
        assert cu.handle(call("bash", command="ls")) == ToolResult("toolu_1", "ran ls\n")
        failed = cu.handle(call("bash", command="false"))
        assert failed == ToolResult("toolu_1", "RuntimeError: exit status 1", is_error=True)
        no_restart = cu.handle(call("bash", restart=True))
        assert no_restart.is_error is True

    def test_bash_restart_when_the_environment_can(self) -> None:
        class Restartable(FakeEnv):
            def restart_bash(self) -> None:
                self.actions.append(("restart",))

        env = Restartable()
        result = computer(env).handle(call("bash", restart=True))
        assert result == ToolResult("toolu_1", "tool has been restarted.")
        assert env.actions == [("restart",)]

    def test_editor(self) -> None:
        env = FakeEnv()
        cu = computer(env, version="20250728")
        editor = "str_replace_based_edit_tool"
        cu.handle(call(editor, command="create", path="/tmp/a.py", file_text="x = 1\n"))
        cu.handle(call(editor, command="str_replace", path="/tmp/a.py", old_str="1", new_str="2"))
        viewed = cu.handle(call(editor, command="view", path="/tmp/a.py", view_range=[1, 1]))
        assert viewed == ToolResult("toolu_1", "x = 2\n")
        assert env.actions[-1] == ("edit", "view", "/tmp/a.py", {"view_range": [1, 1]})
        missing = cu.handle(call(editor, command="view"))
        assert missing.is_error is True

    def test_tool_names_follow_the_version(self) -> None:
        env = FakeEnv()
        old = computer(env, version="20241022")
        assert old.handle(call("str_replace_editor", command="view", path="/x")).is_error is True
        assert env.actions == [("edit", "view", "/x", {})]  # KeyError from the fake: is_error
        unknown = old.handle(call("str_replace_based_edit_tool", command="view", path="/x"))
        assert unknown.is_error is True
        assert "unknown tool" in str(unknown.content)

    @pytest.mark.parametrize("version", sorted(TOOL_SETS))
    def test_definitions_per_version(self, version: str) -> None:
        tools = computer(FakeEnv(), version)
        assert [d.type for d in tools.definitions()] == list(TOOL_SETS[version])
        runnable = tools.tools()
        assert all(isinstance(t, Tool) and isinstance(t, BuiltinTool) for t in runnable)
        assert [t.to_wire() for t in runnable] == [d.to_wire() for d in tools.definitions()]


def use(tool_id: str, name: str, **input: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": input}


def asking(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"content": list(blocks), "stop_reason": "tool_use"}


def test_run_tools_drives_the_environment() -> None:
    """screenshot -> image result, click, type, bash and edit through the real loop."""
    env = FakeEnv()
    tools = computer_use_tools(env, display_width_px=1024, display_height_px=768)
    bot = ScriptedAdapter(
        [
            asking(use("toolu_1", "computer", action="screenshot")),
            asking(
                use("toolu_2", "computer", action="left_click", coordinate=[100, 200]),
                use("toolu_3", "computer", action="type", text="hello"),
            ),
            asking(
                use("toolu_4", "bash", command="ls /tmp"),
                use(
                    "toolu_5", "str_replace_editor", command="create", path="/tmp/n", file_text="hi"
                ),
            ),
            "Done.",
        ]
    )
    end = run_tools(Conversation().user("Write a note."), bot, tools, **OPTS)
    assert end.last is not None
    assert end.last.text == "Done."
    assert env.actions == [
        ("screenshot",),
        ("click", 100, 200, "left"),
        ("type", "hello"),
        ("bash", "ls /tmp"),
        ("edit", "create", "/tmp/n", {"file_text": "hi"}),
    ]
    assert len(bot.requests) == 4
    assert bot.requests[0]["tools"] == [
        {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": 1024,
            "display_height_px": 768,
        },
        {"type": "bash_20250124", "name": "bash"},
        {"type": "text_editor_20250124", "name": "str_replace_editor"},
    ]
    assert bot.requests[1]["messages"][-1] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": [
                    {
                        "type": "image",
                        "source": {
                            "type": "base64",
                            "media_type": "image/png",
                            "data": base64.b64encode(PNG).decode("ascii"),
                        },
                    }
                ],
            }
        ],
    }
    assert bot.requests[2]["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "left_click at (100, 200)"},
        {"type": "tool_result", "tool_use_id": "toolu_3", "content": "typed"},
    ]
    assert bot.requests[3]["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_4", "content": "ran ls /tmp\n"},
        {
            "type": "tool_result",
            "tool_use_id": "toolu_5",
            "content": "File created successfully at: /tmp/n",
        },
    ]


def test_run_tools_answers_a_bad_action_as_an_error() -> None:
    env = FakeEnv()
    tools = computer_use_tools(env, display_width_px=640, display_height_px=480)
    bot = ScriptedAdapter(
        [asking(use("toolu_1", "computer", action="left_click", coordinate=[9999, 1])), "Oops."]
    )
    run_tools(Conversation().user("Click."), bot, tools, **OPTS)
    result = bot.requests[1]["messages"][-1]["content"][0]
    assert result["is_error"] is True
    assert "outside the 640x480 display" in result["content"]
    assert env.actions == []
