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
from hypothesis import given
from hypothesis import strategies as st

from adapters.scripted import ScriptedAdapter
from conversation import (
    Conversation,
    ConversationError,
    Image,
    MalformedInputError,
    ToolResult,
    ToolUse,
)
from conversation._actions import read_action
from conversation.caching import cache_tools
from conversation.computer import (
    BASH_20241022,
    BASH_20250124,
    COMPUTER_ACTIONS,
    SCROLL_DIRECTIONS,
    TEXT_EDITOR_20241022,
    TEXT_EDITOR_20250124,
    TEXT_EDITOR_20250429,
    TEXT_EDITOR_20250728,
    TOOL_SETS,
    TOOL_VERSIONS,
    ActionError,
    BashTool,
    BuiltinTool,
    ComputerTool,
    ComputerUse,
    TextEditorTool,
    betas_for,
    computer_use_tools,
)
from conversation.tools import Tool, ToolCallError, run_tools
from tests.images import wire_image

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
            ({"action": "zoom", "region": [0, 0, 1, 1]}, "not an action of computer_20250124"),
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
                "content": [wire_image(base64.b64encode(PNG).decode("ascii"))],
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


# -- every action of every computer tool version ------------------------------------------


class FullEnv(FakeEnv):
    """An Environment with every optional method, its cursor at (5, 6)."""

    def click(self, x: int, y: int, button: str = "left", keys: str | None = None) -> None:
        self.actions.append(("click", x, y, button, keys))

    def cursor_position(self) -> tuple[int, int]:
        self.actions.append(("cursor_position",))
        return (5, 6)

    def mouse_move(self, x: int, y: int) -> None:
        self.actions.append(("mouse_move", x, y))

    def double_click(self, x: int, y: int, keys: str | None = None) -> None:
        self.actions.append(("double_click", x, y, keys))

    def triple_click(self, x: int, y: int, keys: str | None = None) -> None:
        self.actions.append(("triple_click", x, y, keys))

    def left_click_drag(self, x1: int, y1: int, x2: int, y2: int) -> None:
        self.actions.append(("drag", x1, y1, x2, y2))

    def left_mouse_down(self) -> None:
        self.actions.append(("left_mouse_down",))

    def left_mouse_up(self) -> None:
        self.actions.append(("left_mouse_up",))

    def scroll(self, x: int, y: int, direction: str, amount: int, keys: str | None = None) -> None:
        self.actions.append(("scroll", x, y, direction, amount, keys))

    def hold_key(self, keys: str, seconds: float) -> None:
        self.actions.append(("hold_key", keys, seconds))

    def wait(self, seconds: float) -> None:
        self.actions.append(("wait", seconds))

    def zoom(self, x1: int, y1: int, x2: int, y2: int) -> bytes:
        self.actions.append(("zoom", x1, y1, x2, y2))
        return tiny_png(x2 - x1, y2 - y1)


Case = tuple[dict[str, Any], list[tuple[Any, ...]], Any]
"""An action's input, what the environment is asked to do, and the result content."""

IMAGE = object()  # the result is one Image block

V1_CASES: dict[str, Case] = {
    "key": ({"text": "ctrl+s"}, [("key", "ctrl+s")], "pressed ctrl+s"),
    "type": ({"text": "hi"}, [("type", "hi")], "typed"),
    "mouse_move": (
        {"coordinate": [10, 20]},
        [("mouse_move", 10, 20)],
        "moved the mouse to (10, 20)",
    ),
    "left_click": (
        {},
        [("cursor_position",), ("click", 5, 6, "left", None)],
        "left_click at (5, 6)",
    ),
    "right_click": (
        {},
        [("cursor_position",), ("click", 5, 6, "right", None)],
        "right_click at (5, 6)",
    ),
    "middle_click": (
        {},
        [("cursor_position",), ("click", 5, 6, "middle", None)],
        "middle_click at (5, 6)",
    ),
    "double_click": (
        {},
        [("cursor_position",), ("double_click", 5, 6, None)],
        "double_click at (5, 6)",
    ),
    "left_click_drag": (
        {"coordinate": [30, 40]},
        [("cursor_position",), ("drag", 5, 6, 30, 40)],
        "dragged from (5, 6) to (30, 40)",
    ),
    "screenshot": ({}, [("screenshot",)], IMAGE),
    "cursor_position": ({}, [("cursor_position",)], "X=5,Y=6"),
}

V2_CASES: dict[str, Case] = {
    **{k: V1_CASES[k] for k in ("key", "type", "mouse_move", "screenshot", "cursor_position")},
    "left_click": (
        {"coordinate": [10, 20], "text": "shift"},
        [("click", 10, 20, "left", "shift")],
        "left_click at (10, 20) holding shift",
    ),
    "right_click": (
        {"coordinate": [1, 2]},
        [("click", 1, 2, "right", None)],
        "right_click at (1, 2)",
    ),
    "middle_click": (
        {"coordinate": [3, 4]},
        [("click", 3, 4, "middle", None)],
        "middle_click at (3, 4)",
    ),
    "double_click": (
        {"coordinate": [7, 8]},
        [("double_click", 7, 8, None)],
        "double_click at (7, 8)",
    ),
    "triple_click": (
        {},
        [("cursor_position",), ("triple_click", 5, 6, None)],
        "triple_click at (5, 6)",
    ),
    "left_click_drag": (
        {"start_coordinate": [1, 1], "coordinate": [50, 60]},
        [("drag", 1, 1, 50, 60)],
        "dragged from (1, 1) to (50, 60)",
    ),
    "left_mouse_down": ({}, [("left_mouse_down",)], "left mouse button down"),
    "left_mouse_up": ({}, [("left_mouse_up",)], "left mouse button up"),
    "scroll": (
        {"scroll_direction": "down", "scroll_amount": 3, "coordinate": [100, 100], "text": "ctrl"},
        [("scroll", 100, 100, "down", 3, "ctrl")],
        "scrolled down by 3 at (100, 100) holding ctrl",
    ),
    "hold_key": (
        {"text": "shift", "duration": 0.5},
        [("hold_key", "shift", 0.5)],
        "held shift for 0.5 s",
    ),
    "wait": ({"duration": 1}, [("wait", 1.0)], "waited 1 s"),
}

V3_CASES: dict[str, Case] = {
    **V2_CASES,
    "zoom": ({"region": [0, 0, 8, 4]}, [("zoom", 0, 0, 8, 4)], IMAGE),
}

CASES: dict[str, dict[str, Case]] = {
    "computer_20241022": V1_CASES,
    "computer_20250124": V2_CASES,
    "computer_20251124": V3_CASES,
}


def test_cases_cover_every_action_of_every_version() -> None:
    """The end-to-end cases below hold every action each computer tool version has."""
    assert set(COMPUTER_ACTIONS) == {t for t in TOOL_VERSIONS if t.startswith("computer_")}
    for version, actions in COMPUTER_ACTIONS.items():
        assert set(CASES[version]) == actions, version
    assert "zoom" in COMPUTER_ACTIONS["computer_20251124"]
    assert "scroll" not in COMPUTER_ACTIONS["computer_20241022"]


@pytest.mark.parametrize("version", sorted(TOOL_SETS))
def test_every_action_of_the_version_runs_end_to_end(version: str) -> None:
    """Each action of the version's computer tool, asked by the model, drives the environment."""
    env = FullEnv()
    kind = TOOL_SETS[version][0]
    cases = CASES[kind]
    zoom = "zoom" in cases
    tools = computer_use_tools(
        env, display_width_px=1024, display_height_px=768, version=version, enable_zoom=zoom
    )
    names = sorted(cases)
    bot = ScriptedAdapter(
        [
            asking(
                *(
                    use(f"toolu_{i}", "computer", action=name, **cases[name][0])
                    for i, name in enumerate(names)
                )
            ),
            "Done.",
        ]
    )
    run_tools(Conversation().user("Go."), bot, tools, **OPTS)
    definition = bot.requests[0]["tools"][0]
    assert definition["type"] == kind
    assert definition.get("enable_zoom") is (True if zoom else None)
    results = bot.requests[1]["messages"][-1]["content"]
    expected_actions: list[tuple[Any, ...]] = []
    for name, result in zip(names, results, strict=True):
        _input, actions, content = cases[name]
        expected_actions.extend(actions)
        assert "is_error" not in result, (name, result)
        if content is IMAGE:
            assert result["content"][0]["type"] == "image", name
        else:
            assert result["content"] == content, name
    assert env.actions == expected_actions


def run_one(version: str, env: FakeEnv | None = None, **input: Any) -> ToolResult:
    """The result of one computer call in ``version`` (a ComputerUse of 1024x768)."""
    cu = ComputerUse(
        env if env is not None else FullEnv(),
        display_width_px=1024,
        display_height_px=768,
        version=version,
        enable_zoom=version == "20251124",
    )
    return cu.handle(call("computer", **input))


@pytest.mark.parametrize(
    ("version", "action"),
    [
        ("20241022", "scroll"),
        ("20241022", "triple_click"),
        ("20241022", "hold_key"),
        ("20241022", "wait"),
        ("20241022", "left_mouse_down"),
        ("20241022", "left_mouse_up"),
        ("20241022", "zoom"),
        ("20250124", "zoom"),
        ("20250728", "zoom"),
        ("20250124", "drag"),
    ],
)
def test_an_action_not_in_the_version_is_an_error_naming_the_version(
    version: str, action: str
) -> None:
    """The error names the action, the tool version, and the actions it does have."""
    env = FullEnv()
    result = run_one(version, env, action=action)
    assert result.is_error is True
    kind = TOOL_SETS[version][0]
    assert f"'{action}' is not an action of {kind}" in str(result.content)
    assert "screenshot" in str(result.content)
    assert env.actions == []


@pytest.mark.parametrize(
    ("version", "input", "problems"),
    [
        (
            "20241022",
            {"action": "left_click", "coordinate": [1, 1]},
            ["$.coordinate: left_click in computer_20241022 does not take 'coordinate'"],
        ),
        (
            "20241022",
            {"action": "left_click_drag", "start_coordinate": [1, 1], "coordinate": [2, 2]},
            ["$.start_coordinate: left_click_drag in computer_20241022 does not take"],
        ),
        (
            "20250124",
            {"action": "left_mouse_down", "coordinate": [1, 1]},
            ["$.coordinate: left_mouse_down in computer_20250124 does not take 'coordinate'"],
        ),
        ("20250124", {"action": "key", "text": ""}, ["$.text: expected key names"]),
        ("20250124", {"action": "mouse_move"}, ["$.coordinate: mouse_move needs 'coordinate'"]),
        (
            "20250124",
            {"action": "left_click_drag", "coordinate": [2, 2]},
            ["$.start_coordinate: left_click_drag needs 'start_coordinate'"],
        ),
        (
            "20250124",
            {"action": "scroll", "scroll_direction": "sideways", "scroll_amount": -1},
            [
                "$.scroll_amount: expected a whole number of wheel clicks >= 0, got -1",
                "$.scroll_direction: expected one of 'up', 'down', 'left', 'right', got 'sideways'",
            ],
        ),
        (
            "20250124",
            {"action": "hold_key", "text": "a"},
            ["$.duration: hold_key needs 'duration'"],
        ),
        (
            "20250124",
            {"action": "wait", "duration": 1000},
            ["$.duration: expected seconds from 0 to 100, got 1000"],
        ),
        (
            "20250124",
            {"action": "wait", "duration": "1"},
            ["$.duration: expected seconds from 0 to 100, got '1'"],
        ),
        (
            "20250124",
            {"action": "double_click", "coordinate": [5000, 1], "text": 3},
            [
                "$.coordinate: (5000, 1) is outside the 1024x768 display",
                "$.text: expected a string, got 3",
            ],
        ),
        (
            "20251124",
            {"action": "zoom", "region": [100, 100, 50, 50]},
            ["$.region: [100, 100, 50, 50] is not a region of the 1024x768 display"],
        ),
        (
            "20251124",
            {"action": "zoom", "region": [0, 0, 1]},
            ["$.region: expected [x1, y1, x2, y2], four integers"],
        ),
        ("20250124", {"text": "x"}, ["$.action: expected an action name, got None"]),
    ],
)
def test_parameters_are_checked_per_version_every_problem_named(
    version: str, input: dict[str, Any], problems: list[str]
) -> None:
    """Each bad field is named by its $.path, all at once; the environment is not touched."""
    env = FullEnv()
    result = run_one(version, env, **input)
    assert result.is_error is True
    content = str(result.content)
    for problem in problems:
        assert problem in content
    assert content.count("$.") == len(problems)
    assert env.actions == []


@pytest.mark.parametrize(
    ("action", "input", "method"),
    [
        ("mouse_move", {"coordinate": [1, 1]}, "mouse_move"),
        ("double_click", {"coordinate": [1, 1]}, "double_click"),
        ("triple_click", {"coordinate": [1, 1]}, "triple_click"),
        ("left_click_drag", {"start_coordinate": [1, 1], "coordinate": [2, 2]}, "left_click_drag"),
        ("left_mouse_down", {}, "left_mouse_down"),
        ("left_mouse_up", {}, "left_mouse_up"),
        ("scroll", {"scroll_direction": "up", "scroll_amount": 1, "coordinate": [1, 1]}, "scroll"),
        ("hold_key", {"text": "a", "duration": 1}, "hold_key"),
        ("cursor_position", {}, "cursor_position"),
        ("left_click", {}, "cursor_position"),
    ],
)
def test_an_environment_without_an_optional_method_answers_a_clear_error(
    action: str, input: dict[str, Any], method: str
) -> None:
    """The minimal environment still works; an action it lacks names the method to write."""
    env = FakeEnv()
    result = run_one("20250124", env, action=action, **input)
    assert result.is_error is True
    assert f"it has no {method}() method" in str(result.content)
    assert env.actions == []


def test_wait_without_an_environment_method_sleeps() -> None:
    """wait is the one optional action with a default (time.sleep)."""
    result = run_one("20250124", FakeEnv(), action="wait", duration=0)
    assert result == ToolResult("toolu_1", "waited 0 s")


def test_modifier_keys_may_come_as_key_as_in_the_reference_implementation() -> None:
    """A click holding keys given as 'key' works like 'text'; both at once is refused."""
    env = FullEnv()
    held = run_one("20250124", env, action="right_click", coordinate=[1, 1], key="ctrl")
    assert held == ToolResult("toolu_1", "right_click at (1, 1) holding ctrl")
    assert env.actions == [("click", 1, 1, "right", "ctrl")]
    both = run_one("20250124", env, action="left_click", text="ctrl", key="alt")
    assert both.is_error is True
    assert "$.key: give the keys to hold once" in str(both.content)
    old = run_one("20241022", env, action="left_click", key="ctrl")
    assert old.is_error is True
    assert "does not take 'key'" in str(old.content)


def test_held_keys_need_an_environment_that_takes_them() -> None:
    """A click holding keys on an environment whose click() takes no keys is refused."""
    env = FakeEnv()
    result = run_one("20250124", env, action="left_click", coordinate=[1, 1], text="shift")
    assert result.is_error is True
    assert "cannot hold keys during left_click" in str(result.content)
    assert env.actions == []


def test_zoom_needs_enable_zoom() -> None:
    """zoom is refused unless the tool was made with enable_zoom=True (which it sends)."""
    env = FullEnv()
    cu = ComputerUse(env, display_width_px=64, display_height_px=64, version="20251124")
    result = cu.handle(call("computer", action="zoom", region=[0, 0, 8, 8]))
    assert result.is_error is True
    assert "enable_zoom=True" in str(result.content)
    assert "enable_zoom" not in cu.definitions()[0].to_wire()
    with pytest.raises(MalformedInputError, match="enable_zoom"):
        ComputerUse(env, display_width_px=64, display_height_px=64, enable_zoom=True)


def test_action_errors_stay_answers_with_raise_errors_but_environment_bugs_raise() -> None:
    """raise_errors=True: the model's bad action is still an is_error result; an env bug raises."""
    env = FullEnv()
    tools = computer_use_tools(env, display_width_px=64, display_height_px=64)
    bot = ScriptedAdapter(
        [
            asking(use("toolu_1", "computer", action="scroll", scroll_direction="x")),
            asking(use("toolu_2", "bash", command="false")),
        ]
    )
    with pytest.raises(ToolCallError) as info:
        run_tools(Conversation().user("Go."), bot, tools, raise_errors=True, **OPTS)
    answered = bot.requests[1]["messages"][-1]["content"][0]
    assert answered["is_error"] is True
    assert "$.scroll_direction" in answered["content"]
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.tool_use.name == "bash"


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "action",
                "coordinate",
                "start_coordinate",
                "text",
                "duration",
                "scroll_direction",
                "scroll_amount",
                "region",
                "other",
            ]
        ),
        st.one_of(
            st.sampled_from(sorted(COMPUTER_ACTIONS["computer_20251124"])),
            st.sampled_from(SCROLL_DIRECTIONS),
            st.lists(st.integers(-5, 2000), max_size=5),
            st.integers(-5, 200),
            st.floats(),
            st.text(max_size=3),
            st.none(),
            st.booleans(),
        ),
    ),
    st.sampled_from(sorted(COMPUTER_ACTIONS)),
)
def test_any_input_is_an_action_or_an_action_error(input: dict[str, Any], version: str) -> None:
    """read_action never raises anything but ActionError (a ConversationError)."""
    problems: tuple[tuple[str, str], ...] = ()
    try:
        action = read_action(version, input, 1024, 768)
    except ActionError as exc:
        problems = exc.problems
        error: ConversationError = exc
    else:
        assert action.name in COMPUTER_ACTIONS[version]
        return
    assert isinstance(error, ConversationError)
    assert problems
