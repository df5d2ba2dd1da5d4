"""Tests for conversation.tools: Tool definitions and the tool-use loop, over ScriptedAdapter."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Literal

import anyio
import attrs
import pytest

from adapters.scripted import ScriptedAdapter
from conversation import Conversation, ConversationError, MalformedInputError, Text, ToolResult
from conversation.tools import (
    SchemaError,
    Tool,
    ToolCallError,
    ToolLoopError,
    arun_tools,
    is_paused,
    pending_tool_uses,
    run_tools,
    tool,
)


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


@tool
def get_weather(location: str, unit: Literal["c", "f"] = "c") -> str:
    """Current weather for a city.

    Args:
        location: The city, e.g. Paris.
        unit: Celsius or Fahrenheit.
    """
    return f"15 degrees {unit.upper()}, cloudy in {location}"


WEATHER_WIRE = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city, e.g. Paris."},
            "unit": {
                "type": "string",
                "enum": ["c", "f"],
                "description": "Celsius or Fahrenheit.",
                "default": "c",
            },
        },
        "required": ["location"],
        "additionalProperties": False,
    },
}


def use(tool_id: str, name: str, **input: Any) -> dict[str, Any]:
    """A tool_use block as a reply carries it."""
    return {"type": "tool_use", "id": tool_id, "name": name, "input": input}


def asking(*blocks: dict[str, Any]) -> dict[str, Any]:
    """A reply that stops to ask for tools."""
    return {"content": list(blocks), "stop_reason": "tool_use"}


def results(adapter: ScriptedAdapter, request: int) -> list[dict[str, Any]]:
    """The content of the last message of request ``request`` (the tool results)."""
    content: list[dict[str, Any]] = adapter.requests[request]["messages"][-1]["content"]
    return content


# -- Tool --------------------------------------------------------------------------------


def test_tool_decorator_builds_the_wire_definition() -> None:
    """@tool reads name, docstring and hints into the exact definition the API takes."""
    assert isinstance(get_weather, Tool)
    assert get_weather.to_wire() == WEATHER_WIRE
    assert get_weather("Rome") == "15 degrees C, cloudy in Rome"


def test_tool_as_request_option() -> None:
    """A Tool given as the tools option is written by its to_wire()."""
    payload = Conversation().user("Hi").to_payload(tools=[get_weather], max_tokens=5)
    assert payload["tools"] == [WEATHER_WIRE]


def test_tool_decorator_with_arguments_and_cache_control() -> None:
    """@tool(name=, description=, cache_control=) override what the function says."""

    @tool(name="lookup", description="Find it.", cache_control={"type": "ephemeral"})
    def find(query: str) -> str:
        return query

    wire = find.to_wire()
    assert (wire["name"], wire["description"], wire["cache_control"]) == (
        "lookup",
        "Find it.",
        {"type": "ephemeral"},
    )


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "dot.name"])
def test_tool_name_is_validated(name: str) -> None:
    """A name outside ^[a-zA-Z0-9_-]{1,64}$ is refused when the Tool is made."""
    with pytest.raises(MalformedInputError, match="tool name"):
        Tool(name, "d", {"type": "object"})


def test_input_schema_must_be_an_object() -> None:
    """A top-level schema that is not type object is refused."""
    with pytest.raises(MalformedInputError, match="type"):
        Tool("t", "d", {"type": "string"})


def test_tool_equality_ignores_the_function() -> None:
    """Two Tools with the same definition are equal (and hash equal) whatever runs them."""
    a = Tool("t", "d", {"type": "object"}, fn=lambda: 1)
    b = Tool("t", "d", {"type": "object"}, fn=lambda: 2)
    assert a == b
    assert hash(a) == hash(b)
    assert "fn" not in repr(a)


def test_unsupported_parameter_fails_when_made() -> None:
    """A tool whose parameter cannot be JSON fails at decoration, naming the parameter."""
    with pytest.raises(SchemaError, match="parameter 'tags' of tag_all"):

        @tool
        def tag_all(tags: set[str]) -> None:
            pass


@attrs.frozen
class Place:
    city: str
    country: str = "FR"


def test_call_structures_arguments() -> None:
    """Tool.call turns the JSON input into typed values before calling the function."""

    @tool
    def where(place: Place, days: int = 1) -> str:
        """Where."""
        return f"{place.city}/{place.country}/{days}"

    assert where.call({"place": {"city": "Paris"}}) == "Paris/FR/1"


@pytest.mark.anyio
async def test_acall_runs_sync_and_async_functions() -> None:
    """Tool.acall awaits an async function and runs a sync one off the event loop."""

    @tool
    async def double(n: int) -> int:
        """Double."""
        return n * 2

    assert await double.acall({"n": 4}) == 8
    assert await get_weather.acall({"location": "Oslo", "unit": "f"}) == (
        "15 degrees F, cloudy in Oslo"
    )


# -- the loop ----------------------------------------------------------------------------


def test_weather_loop_produces_the_exact_payloads() -> None:
    """The loop sends, runs the call, answers it in one user turn, and sends again."""
    adapter = ScriptedAdapter(
        [
            asking(
                {"type": "text", "text": "Let me check."},
                use("toolu_1", "get_weather", location="Paris"),
            ),
            "It is 15 degrees and cloudy.",
        ]
    )
    start = Conversation().user("Weather in Paris?")
    end = run_tools(start, adapter, [get_weather], model="claude-x", max_tokens=100)
    assert adapter.requests == [
        {
            "model": "claude-x",
            "max_tokens": 100,
            "tools": [WEATHER_WIRE],
            "messages": [{"role": "user", "content": "Weather in Paris?"}],
        },
        {
            "model": "claude-x",
            "max_tokens": 100,
            "tools": [WEATHER_WIRE],
            "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Let me check."},
                        use("toolu_1", "get_weather", location="Paris"),
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "tool_result",
                            "tool_use_id": "toolu_1",
                            "content": "15 degrees C, cloudy in Paris",
                        }
                    ],
                },
            ],
        },
    ]
    assert end.last is not None
    assert end.last.text == "It is 15 degrees and cloudy."
    assert len(end) == 4
    assert end[:1] == start


def test_several_calls_in_one_turn_are_answered_in_order() -> None:
    """Every tool_use of a turn is answered, in the same order, in ONE user turn."""
    adapter = ScriptedAdapter(
        [
            asking(
                use("toolu_B", "get_weather", location="Rome", unit="f"),
                use("toolu_A", "get_weather", location="Paris"),
            ),
            "Done.",
        ]
    )
    end = run_tools(Conversation().user("Rome and Paris?"), adapter, [get_weather])
    assert results(adapter, 1) == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_B",
            "content": "15 degrees F, cloudy in Rome",
        },
        {
            "type": "tool_result",
            "tool_use_id": "toolu_A",
            "content": "15 degrees C, cloudy in Paris",
        },
    ]
    assert [t.role for t in end] == ["user", "assistant", "user", "assistant"]


def test_no_tool_use_means_one_send() -> None:
    """A reply that asks for no tool ends the loop after one request."""
    adapter = ScriptedAdapter(["Hello."])
    end = run_tools(Conversation().user("Hi"), adapter, [get_weather])
    assert len(adapter.requests) == 1
    assert end.last is not None
    assert end.last.text == "Hello."


def test_a_tool_that_raises_becomes_an_error_result() -> None:
    """An exception in a tool is reported to the model as '<ExcType>: <message>'."""

    @tool
    def divide(a: int, b: int) -> float:
        """Divide."""
        return a / b

    adapter = ScriptedAdapter([asking(use("toolu_1", "divide", a=1, b=0)), "Cannot."])
    run_tools(Conversation().user("1/0?"), adapter, [divide])
    assert results(adapter, 1) == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": "ZeroDivisionError: division by zero",
            "is_error": True,
        }
    ]


def test_unknown_tool_lists_the_tools_that_exist() -> None:
    """A call of a tool nobody defined is answered with an error naming the real tools."""
    adapter = ScriptedAdapter([asking(use("toolu_1", "get_time", zone="UTC")), "Sorry."])
    run_tools(Conversation().user("Time?"), adapter, [get_weather])
    (result,) = results(adapter, 1)
    assert result["is_error"] is True
    assert "'get_time'" in result["content"]
    assert "get_weather" in result["content"]


@pytest.mark.parametrize(
    ("arguments", "names"),
    [
        ({"location": 42}, "$.location"),
        ({"unit": "c"}, "$.location"),
        ({"location": "Paris", "unit": "kelvin"}, "$.unit"),
    ],
)
def test_bad_arguments_become_an_error_naming_the_field(
    arguments: dict[str, Any], names: str
) -> None:
    """Arguments that do not fit the schema are answered with an error naming the field."""
    calls: list[Any] = []

    @tool
    def get_weather(location: str, unit: Literal["c", "f"] = "c") -> str:
        """Weather."""
        calls.append(location)
        return "sunny"

    adapter = ScriptedAdapter([asking(use("toolu_1", "get_weather", **arguments)), "Oops."])
    run_tools(Conversation().user("Weather?"), adapter, [get_weather])
    (result,) = results(adapter, 1)
    assert result["is_error"] is True
    assert names in result["content"]
    assert calls == []


def test_return_values_become_content() -> None:
    """Blocks stay blocks, data becomes JSON text, None becomes no content."""

    @tool
    def as_blocks() -> list[Text]:
        """Blocks."""
        return [Text("one"), Text("two")]

    @tool
    def as_data() -> Place:
        """Data."""
        return Place("Paris")

    @tool
    def as_nothing() -> None:
        """Nothing."""

    adapter = ScriptedAdapter(
        [asking(use("t1", "as_blocks"), use("t2", "as_data"), use("t3", "as_nothing")), "ok"]
    )
    run_tools(Conversation().user("go"), adapter, [as_blocks, as_data, as_nothing])
    assert results(adapter, 1) == [
        {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}],
        },
        {"type": "tool_result", "tool_use_id": "t2", "content": '{"city":"Paris","country":"FR"}'},
        {"type": "tool_result", "tool_use_id": "t3"},
    ]


def test_never_ending_loop_stops_at_max_steps() -> None:
    """After max_steps requests that all ask for tools, ToolLoopError carries the loop so far."""
    replies = [asking(use(f"toolu_{i}", "get_weather", location="Paris")) for i in range(5)]
    adapter = ScriptedAdapter(replies)
    with pytest.raises(ToolLoopError) as info:
        run_tools(Conversation().user("Loop"), adapter, [get_weather], max_steps=3)
    assert len(adapter.requests) == 3
    assert isinstance(info.value, ConversationError)
    so_far = info.value.conversation
    assert len(so_far) == 6  # user, (assistant, results) x2, assistant asking again
    assert [u.id for u in pending_tool_uses(so_far)] == ["toolu_2"]


def test_resume_after_loop_error_runs_pending_tools_first() -> None:
    """run_tools on ToolLoopError.conversation answers its pending calls, then sends."""
    adapter = ScriptedAdapter([asking(use("toolu_1", "get_weather", location="Oslo")), "Cold."])
    with pytest.raises(ToolLoopError) as info:
        run_tools(Conversation().user("Oslo?"), adapter, [get_weather], max_steps=1)
    end = run_tools(info.value.conversation, adapter, [get_weather])
    assert len(adapter.requests) == 2
    assert results(adapter, 1)[0]["tool_use_id"] == "toolu_1"
    assert end.last is not None
    assert end.last.text == "Cold."


def test_resume_from_an_intermediate_step() -> None:
    """Any intermediate conversation resumes: a turn asking for tools has them run, not resent."""
    first = ScriptedAdapter([asking(use("toolu_1", "get_weather", location="Lima")), "Warm."])
    full = run_tools(Conversation().user("Lima?"), first, [get_weather])
    step = full[:2]  # the assistant turn that asked for the tool
    again = ScriptedAdapter(["Warm again."])
    resumed = run_tools(step, again, [get_weather])
    assert len(again.requests) == 1
    assert again.requests[0]["messages"] == first.requests[1]["messages"]
    assert resumed[:3] == full[:3]


def test_synthetic_tool_use_turn_is_run() -> None:
    """A program-written assistant turn with tool_use blocks is executed like a reply's."""
    start = (
        Conversation().user("Weather?").assistant([use("toolu_9", "get_weather", location="Bern")])
    )
    adapter = ScriptedAdapter(["Fine."])
    run_tools(start, adapter, [get_weather])
    assert results(adapter, 0)[0]["content"] == "15 degrees C, cloudy in Bern"


def test_a_reply_cut_at_max_tokens_asks_nothing() -> None:
    """A tool_use in a reply stopped by max_tokens is not run (its input may be cut off)."""
    adapter = ScriptedAdapter(
        [{"content": [use("toolu_1", "get_weather", location="P")], "stop_reason": "max_tokens"}]
    )
    end = run_tools(Conversation().user("x"), adapter, [get_weather])
    assert len(adapter.requests) == 1
    assert pending_tool_uses(end) == ()


def test_sync_tool_timeout() -> None:
    """A sync tool running over tool_timeout is answered 'timed out' without waiting for it."""
    release = threading.Event()
    finished = threading.Event()

    @tool
    def slow() -> str:
        """Slow."""
        release.wait(60)
        finished.set()
        return "late"

    adapter = ScriptedAdapter([asking(use("toolu_1", "slow")), "Gave up."])
    try:
        run_tools(Conversation().user("go"), adapter, [slow], tool_timeout=0.1)
        assert not finished.is_set()  # the loop went on while the tool still ran
    finally:
        release.set()
    (result,) = results(adapter, 1)
    assert result["is_error"] is True
    assert "timed out after 0.1 s" in result["content"]


def test_invalid_limits_are_refused() -> None:
    """max_steps below 1 or a non-positive timeout is refused before anything is sent."""
    adapter = ScriptedAdapter([])
    with pytest.raises(MalformedInputError, match="max_steps"):
        run_tools(Conversation().user("x"), adapter, [get_weather], max_steps=0)
    with pytest.raises(MalformedInputError, match="tool_timeout"):
        run_tools(Conversation().user("x"), adapter, [get_weather], tool_timeout=0)
    assert adapter.requests == []


def test_duplicate_tool_names_are_refused() -> None:
    """Two tools with one name are refused (the API requires unique names)."""
    with pytest.raises(MalformedInputError, match="unique"):
        run_tools(Conversation().user("x"), ScriptedAdapter([]), [get_weather, get_weather])


def test_definition_dicts_are_sent_not_run() -> None:
    """A wire definition dict (a server tool) goes into tools as it is."""
    web = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    adapter = ScriptedAdapter(["ok"])
    run_tools(Conversation().user("x"), adapter, [get_weather, web])
    assert adapter.requests[0]["tools"] == [WEATHER_WIRE, web]


# -- async -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_tools_run_concurrently() -> None:
    """Two async tools of one turn run together: both start before either finishes.

    Each waits until both have started, so run one after the other the first
    would never finish (it gives up after a deadline and the test fails).
    """
    log: list[str] = []
    both_started = anyio.Event()

    @tool
    async def nap(label: str) -> str:
        """Nap."""
        log.append(f"start {label}")
        if len(log) == 2:
            both_started.set()
        with anyio.fail_after(10):
            await both_started.wait()
        log.append(f"end {label}")
        return label

    adapter = ScriptedAdapter(
        [asking(use("t1", "nap", label="a"), use("t2", "nap", label="b")), "ok"]
    )
    await arun_tools(Conversation().user("go"), adapter, [nap])
    assert sorted(log[:2]) == ["start a", "start b"]
    assert sorted(log[2:]) == ["end a", "end b"]
    assert [r["content"] for r in results(adapter, 1)] == ["a", "b"]


@pytest.mark.anyio
async def test_async_results_keep_call_order() -> None:
    """Results follow the order of the calls, not the order the tools finish in."""

    @tool
    async def wait(seconds: float) -> str:
        """Wait."""
        await anyio.sleep(seconds)
        return str(seconds)

    @tool
    def instant() -> str:
        """Instant (sync, in a thread)."""
        return "now"

    adapter = ScriptedAdapter(
        [
            asking(
                use("t1", "wait", seconds=0.1), use("t2", "instant"), use("t3", "wait", seconds=0)
            ),
            "ok",
        ]
    )
    await arun_tools(Conversation().user("go"), adapter, [wait, instant])
    assert [r["tool_use_id"] for r in results(adapter, 1)] == ["t1", "t2", "t3"]
    assert [r["content"] for r in results(adapter, 1)] == ["0.1", "now", "0.0"]


@pytest.mark.anyio
async def test_async_tool_timeout_and_error() -> None:
    """An async tool over tool_timeout and one that raises are both answered as errors."""

    cancelled: list[str] = []

    @tool
    async def stuck() -> str:
        """Stuck."""
        try:
            await anyio.sleep(60)
        except anyio.get_cancelled_exc_class():
            cancelled.append("stuck")
            raise
        return "never"

    @tool
    async def broken() -> str:
        """Broken."""
        raise ValueError("bad input")

    adapter = ScriptedAdapter([asking(use("t1", "stuck"), use("t2", "broken")), "ok"])
    await arun_tools(Conversation().user("go"), adapter, [stuck, broken], tool_timeout=0.1)
    assert cancelled == ["stuck"]  # stopped at the timeout, not awaited to its end
    timed_out, raised = results(adapter, 1)
    assert timed_out["is_error"] is True
    assert "timed out after 0.1 s" in timed_out["content"]
    assert raised == {
        "type": "tool_result",
        "tool_use_id": "t2",
        "content": "ValueError: bad input",
        "is_error": True,
    }


@pytest.mark.anyio
async def test_async_loop_bounded_by_max_steps() -> None:
    """arun_tools raises ToolLoopError with the conversation so far after max_steps requests."""
    adapter = ScriptedAdapter([asking(use(f"t{i}", "get_weather", location="X")) for i in range(3)])
    with pytest.raises(ToolLoopError) as info:
        await arun_tools(Conversation().user("x"), adapter, [get_weather], max_steps=2)
    assert len(adapter.requests) == 2
    assert [u.id for u in pending_tool_uses(info.value.conversation)] == ["t1"]


def test_tool_result_blocks_are_library_blocks() -> None:
    """The appended user turn holds ToolResult values (an ordinary Conversation value)."""
    adapter = ScriptedAdapter([asking(use("toolu_1", "get_weather", location="Nice")), "ok"])
    end = run_tools(Conversation().user("x"), adapter, [get_weather])
    assert end[2].blocks == (ToolResult("toolu_1", "15 degrees C, cloudy in Nice"),)
    assert Conversation.loads(end.dumps()) == end


# -- raise_errors: a bug in the program's own tool ---------------------------------------


class Boom(RuntimeError):
    """The program's own bug."""


def test_raise_errors_raises_the_tools_exception_wrapped_with_the_loop_so_far() -> None:
    """raise_errors=True: ToolCallError, the tool's exception as __cause__, resumable."""
    ran: list[str] = []

    @tool
    def broken(x: int) -> str:
        """Broken."""
        ran.append("broken")
        raise Boom("bug in my tool")

    @tool
    def after(x: int) -> str:
        """Runs after broken in the same turn."""
        ran.append("after")
        return "ok"

    adapter = ScriptedAdapter([asking(use("t1", "broken", x=1), use("t2", "after", x=2))])
    with pytest.raises(ToolCallError) as info:
        run_tools(Conversation().user("go"), adapter, [broken, after], raise_errors=True)
    error = info.value
    assert isinstance(error, ConversationError)
    assert isinstance(error.__cause__, Boom)
    assert str(error.__cause__) == "bug in my tool"
    assert "'broken'" in str(error)
    assert "Boom: bug in my tool" in str(error)
    assert error.tool_use.id == "t1"
    assert ran == ["broken"]  # the turn stops at the failure
    assert len(adapter.requests) == 1
    assert [u.id for u in pending_tool_uses(error.conversation)] == ["t1", "t2"]

    fixed = ScriptedAdapter(["Done."])

    def mended(x: int) -> str:
        return "fine"

    mended.__name__ = "broken"
    end = run_tools(error.conversation, fixed, [mended, after])
    assert [r["content"] for r in results(fixed, 0)] == ["fine", "ok"]
    assert end.last is not None
    assert end.last.text == "Done."


def test_raise_errors_covers_a_result_that_cannot_be_sent() -> None:
    """A return value that is not JSON is the program's bug too: raised when asked."""

    @tool
    def odd() -> object:
        """Returns a set."""
        return {1, 2}

    adapter = ScriptedAdapter([asking(use("t1", "odd")), "ok"])
    with pytest.raises(ToolCallError) as info:
        run_tools(Conversation().user("go"), adapter, [odd], raise_errors=True)
    assert isinstance(info.value.__cause__, TypeError)


def test_raise_errors_still_answers_the_models_mistakes() -> None:
    """Unknown tools and bad arguments are the model's, answered as is_error either way."""
    adapter = ScriptedAdapter(
        [
            asking(use("t1", "nope"), use("t2", "get_weather", location=5)),
            "ok",
        ]
    )
    run_tools(Conversation().user("go"), adapter, [get_weather], raise_errors=True)
    unknown, bad = results(adapter, 1)
    assert unknown["is_error"] is True
    assert "unknown tool 'nope'" in unknown["content"]
    assert bad["is_error"] is True
    assert "$.location: expected a string" in bad["content"]


def test_default_answers_a_tool_exception_as_is_error() -> None:
    """Without raise_errors, the same bug becomes an is_error result and the loop goes on."""

    @tool
    def broken() -> str:
        """Broken."""
        raise Boom("bug")

    adapter = ScriptedAdapter([asking(use("t1", "broken")), "ok"])
    run_tools(Conversation().user("go"), adapter, [broken])
    assert results(adapter, 1)[0]["content"] == "Boom: bug"


def test_raise_errors_must_be_a_bool() -> None:
    """raise_errors is checked before anything is sent."""
    with pytest.raises(MalformedInputError, match="raise_errors"):
        run_tools(Conversation().user("x"), ScriptedAdapter([]), [get_weather], raise_errors=1)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_async_raise_errors_runs_the_turn_then_raises_the_first_failure() -> None:
    """arun_tools(raise_errors=True): every call of the turn ends, the first failure is raised."""
    ran: list[str] = []

    @tool
    async def first() -> str:
        """Fails late."""
        await anyio.sleep(0.05)
        ran.append("first")
        raise Boom("first")

    @tool
    async def second() -> str:
        """Fails at once."""
        ran.append("second")
        raise KeyError("second")

    adapter = ScriptedAdapter([asking(use("t1", "first"), use("t2", "second"))])
    with pytest.raises(ToolCallError) as info:
        await arun_tools(Conversation().user("go"), adapter, [first, second], raise_errors=True)
    assert isinstance(info.value.__cause__, Boom)
    assert info.value.tool_use.id == "t1"
    assert sorted(ran) == ["first", "second"]
    assert [u.id for u in pending_tool_uses(info.value.conversation)] == ["t1", "t2"]


# -- pause_turn: a server tool that ran long ---------------------------------------------

WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}
PAUSED = {
    "content": [
        {"type": "text", "text": "Searching."},
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "q"},
        },
    ],
    "stop_reason": "pause_turn",
}
GONE_ON = {
    "content": [
        {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []},
        {"type": "text", "text": "Found nothing."},
    ],
    "stop_reason": "end_turn",
}


def test_pause_turn_is_sent_back_as_it_is() -> None:
    """A paused reply goes back unchanged as the last assistant message; the reply continues it."""
    adapter = ScriptedAdapter([PAUSED, GONE_ON])
    end = run_tools(Conversation().user("Search"), adapter, [WEB_SEARCH], max_tokens=50)
    assert len(adapter.requests) == 2
    first, second = adapter.requests
    assert second["messages"] == [
        *first["messages"],
        {"role": "assistant", "content": PAUSED["content"]},
    ]
    assert second["tools"] == [WEB_SEARCH]
    assert len(end) == 2  # the continuation joins the paused assistant turn
    assert end.last is not None
    assert end.last.provenance is not None
    assert end.last.provenance.stop_reason == "end_turn"
    assert len(end.last.provenance.replies) == 2
    assert end.last.text.endswith("Found nothing.")


def test_pause_turn_counts_towards_max_steps_and_resumes() -> None:
    """Paused after max_steps: ToolLoopError holding the paused turn; run_tools on it goes on."""
    adapter = ScriptedAdapter([PAUSED, GONE_ON])
    with pytest.raises(ToolLoopError, match="pause_turn") as info:
        run_tools(Conversation().user("Search"), adapter, [WEB_SEARCH], max_steps=1)
    assert is_paused(info.value.conversation)
    end = run_tools(info.value.conversation, adapter, [WEB_SEARCH])
    assert len(adapter.requests) == 2
    assert not is_paused(end)
    assert end.last is not None
    assert end.last.text.endswith("Found nothing.")


def test_pause_turn_with_thinking_on_is_not_refused_as_a_prefill() -> None:
    """A paused turn sent back with thinking on passes the rules (it is not a prefill)."""
    thinking = {"type": "enabled", "budget_tokens": 1024}
    adapter = ScriptedAdapter([PAUSED, GONE_ON])
    end = run_tools(
        Conversation().user("Search"), adapter, [WEB_SEARCH], thinking=thinking, max_tokens=2048
    )
    assert len(adapter.requests) == 2
    assert not is_paused(end)


def test_pause_then_tool_use_in_one_loop() -> None:
    """A paused turn that goes on to ask for a client tool has the tool run."""
    asks = {
        **GONE_ON,
        "content": [use("t1", "get_weather", location="Oslo")],
        "stop_reason": "tool_use",
    }
    adapter = ScriptedAdapter([PAUSED, asks, "Cold."])
    end = run_tools(Conversation().user("x"), adapter, [WEB_SEARCH, get_weather])
    assert len(adapter.requests) == 3
    assert results(adapter, 2)[0]["tool_use_id"] == "t1"
    assert end.last is not None
    assert end.last.text == "Cold."


FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "wire-fixtures" / "recorded" / "json"


def recorded(name: str) -> dict[str, Any]:
    """A recorded reply from ../shared/wire-fixtures (skip when it is not there)."""
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


@pytest.mark.anyio
@pytest.mark.parametrize("run_async", [False, True])
async def test_recorded_pause_turn_web_search_goes_on(run_async: bool) -> None:
    """The recorded pause_turn pair: the paused reply goes back whole, the rest joins it."""
    paused = recorded("test_pause_turn_web_search_vcr.0.json")
    rest = recorded("test_pause_turn_web_search_vcr.1.json")
    adapter = ScriptedAdapter([paused, rest])
    start = Conversation().user("Run 15 web searches, one at a time.")
    options: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 4096}
    if run_async:
        end = await arun_tools(start, adapter, [WEB_SEARCH], **options)
    else:
        end = run_tools(start, adapter, [WEB_SEARCH], **options)
    second = adapter.requests[1]["messages"]
    assert second[-1] == {"role": "assistant", "content": paused["content"]}
    assert len(end) == 2
    assert end.last is not None
    assert end.last.provenance is not None
    assert [r.id for r in end.last.provenance.replies] == [paused["id"], rest["id"]]
    assert end.last.provenance.stop_reason == "end_turn"
    assert Conversation.loads(end.dumps()) == end


@pytest.mark.anyio
async def test_async_pause_turn_bounded_by_max_steps() -> None:
    """arun_tools continues a paused turn and stops at max_steps like run_tools."""
    adapter = ScriptedAdapter([PAUSED, PAUSED])
    with pytest.raises(ToolLoopError, match="pause_turn"):
        await arun_tools(Conversation().user("x"), adapter, [WEB_SEARCH], max_steps=2)
    assert len(adapter.requests) == 2
