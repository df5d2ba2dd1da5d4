"""Tests for conversation.replay.replay / areplay: one dialogue, over offline adapters."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.scripted import FunctionAdapter, ScriptedAdapter
from conversation import Conversation, MalformedInputError, ToolResult, ToolUse
from conversation.replay import NOTE_KEY, areplay, replay
from conversation.tools import tool
from tests.conversation.replaying import call_reply, dialogue, model_reply, weather_dialogue


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


@tool
def get_weather(location: str) -> str:
    """Current weather for a city.

    Args:
        location: The city.
    """
    return f"20 C in {location}"


def test_user_turns_kept_and_model_turns_regenerated() -> None:
    """Each user turn is kept as it was; each model turn is written again, by sending the
    branch so far: the new replies, not the old ones, are what the later requests carry."""
    old = dialogue(("Hi", "Hello"), ("Capital of France?", "Paris."))
    bot = ScriptedAdapter(["Hey there", "It is Paris."])
    result = replay(old, bot, max_tokens=64)

    new = result.conversation
    assert result.complete
    assert result.reason is None
    assert result.original is old
    assert new.system == old.system
    assert len(new) == len(old)
    assert [t.text for t in new] == ["Hi", "Hey there", "Capital of France?", "It is Paris."]
    assert new[0] == old[0]
    assert new[2] == old[2]
    assert new[1].provenance is not None
    assert new[1].provenance.model == "scripted"
    assert bot.requests[0]["messages"] == [{"role": "user", "content": "Hi"}]
    assert bot.requests[1]["messages"][1] == {"role": "assistant", "content": "Hey there"}
    assert bot.requests[1]["system"] == "Be brief."
    assert bot.requests[1]["max_tokens"] == 64
    assert result.diff.common == old[:1]
    assert len(result.diff.right) == 3
    assert new.metadata[NOTE_KEY] == {"original": old.id, "reason": None}


def test_synthetic_turns_kept_unless_asked() -> None:
    """A turn the program wrote is kept (nothing sent for it); with
    regenerate_synthetic=True a model writes it too."""
    old = Conversation().user("Hi").assistant("Hello, I am a bot.").user("Joke?")
    old = old.fold(model_reply("No."))
    bot = ScriptedAdapter(["Why not."])
    kept = replay(old, bot).conversation
    assert len(bot.requests) == 1
    assert kept[1] == old[1]
    assert kept[1].synthetic
    assert kept[3].text == "Why not."

    bot = ScriptedAdapter(["Hi, human.", "Why not."])
    fresh = replay(old, bot, regenerate_synthetic=True).conversation
    assert len(bot.requests) == 2
    assert fresh[1].text == "Hi, human."
    assert not fresh[1].synthetic


def test_prefill_sent_again_for_the_model_to_continue() -> None:
    """A model turn that began as a prefill is regenerated from the same prefill: the
    request ends with it, and the new turn joins it and the reply as before."""
    old = Conversation().user("List two colours as JSON.").assistant("[")
    old = old.fold(model_reply('"red", "blue"]'))
    assert old[1].provenance is not None
    assert old[1].provenance.prefill
    bot = ScriptedAdapter(['"green", "pink"]'])
    new = replay(old, bot).conversation
    assert bot.requests[0]["messages"][-1] == {"role": "assistant", "content": "["}
    assert new[1].text == '["green", "pink"]'
    assert new[1].provenance is not None
    assert new[1].provenance.prefill == old[1].provenance.prefill

    bot = ScriptedAdapter(['{"colours": []}'])
    again = replay(old, bot, regenerate_synthetic=True).conversation
    assert bot.requests[0]["messages"][-1]["role"] == "user"
    assert again[1].text == '{"colours": []}'


def test_recorded_tool_results_reused_with_the_new_ids() -> None:
    """Without tools, the recorded result answers a call the model makes again (same name
    and input): it is reused, its tool_use_id now the new call's."""
    old = weather_dialogue()
    bot = ScriptedAdapter([call_reply("get_weather", {"location": "Paris"}, "toolu_new"), "Mild."])
    result = replay(old, bot)
    new = result.conversation
    assert result.complete
    assert len(new) == 4
    assert len(bot.requests) == 2
    answer = new[2].blocks[0]
    assert isinstance(answer, ToolResult)
    assert answer.tool_use_id == "toolu_new"
    assert answer.content == "15 C"
    assert bot.requests[1]["messages"][2]["content"][0]["tool_use_id"] == "toolu_new"
    assert new[3].text == "Mild."


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (
            call_reply("get_weather", {"location": "Rome"}, "toolu_new"),
            "asked for get_weather({'location': 'Rome'}) where the recorded dialogue asked for "
            "get_weather({'location': 'Paris'})",
        ),
        ("It is sunny.", "answered without the calls the recorded dialogue made"),
    ],
)
def test_a_different_call_ends_the_replay_with_a_reason(reply: Any, said: str) -> None:
    """The first call that differs from the recording (or a recorded call not made) ends
    the replay: the branch so far, the divergent turn last, and a reason naming the turn."""
    old = weather_dialogue()
    bot = ScriptedAdapter([reply, "never sent"])
    result = replay(old, bot)
    assert not result.complete
    assert result.reason is not None
    assert said in result.reason
    assert "at turn 1" in result.reason
    assert len(result.conversation) == 2
    assert len(bot.requests) == 1
    assert result.conversation.metadata[NOTE_KEY]["reason"] == result.reason


def test_a_call_the_recording_never_made_ends_the_replay() -> None:
    """A model asking for a call where the recorded dialogue answered plainly: no result
    to reuse, so the replay stops and says to give tools."""
    old = dialogue(("Weather in Paris?", "No idea."), ("Thanks", "Bye"))
    bot = ScriptedAdapter([call_reply("get_weather", {"location": "Paris"}, "toolu_1")])
    result = replay(old, bot)
    assert result.reason is not None
    assert "did not call" in result.reason
    assert "tools=[...]" in result.reason
    assert len(result.conversation) == 2


def test_tools_given_are_run_by_the_tool_loop() -> None:
    """With tools=[...], the model's calls are run while replaying, whatever it asks for:
    the recorded results and rounds are replaced by the new loop's."""
    old = weather_dialogue("Paris")
    old = old.user("Thanks").fold(model_reply("You are welcome."))
    bot = ScriptedAdapter(
        [call_reply("get_weather", {"location": "Lyon"}, "toolu_new"), "20 C.", "Any time."]
    )
    result = replay(old, bot, tools=[get_weather])
    new = result.conversation
    assert result.complete
    assert len(new) == len(old) == 6
    assert isinstance(new[1].blocks[0], ToolUse)
    assert new[1].blocks[0].input == {"location": "Lyon"}
    answer = new[2].blocks[0]
    assert isinstance(answer, ToolResult)
    assert answer.content == "20 C in Lyon"
    assert [t.text for t in new.turns[3:]] == ["20 C.", "Thanks", "Any time."]
    assert all(request["tools"][0]["name"] == "get_weather" for request in bot.requests)


def two_rounds() -> Conversation:
    """A recorded tool loop of two rounds (Paris, then Rome), its answer, one more exchange."""
    chat = Conversation().user("Weather in Paris and Rome?")
    for n, city in enumerate(["Paris", "Rome"]):
        chat = chat.fold(call_reply("get_weather", {"location": city}, f"toolu_old{n}"))
        chat = chat.user([ToolResult(f"toolu_old{n}", f"{10 + n} C")])
    return chat.fold(model_reply("10 and 11 C.")).user("Thanks").fold(model_reply("Bye."))


def test_recorded_rounds_reused_one_by_one() -> None:
    """Each round of a recorded loop is reused while the calls match, ids mapped per round."""
    bot = ScriptedAdapter(
        [
            call_reply("get_weather", {"location": "Paris"}, "toolu_a"),
            call_reply("get_weather", {"location": "Rome"}, "toolu_b"),
            "Ten and eleven.",
            "Ciao.",
        ]
    )
    result = replay(two_rounds(), bot)
    new = result.conversation
    assert result.complete
    assert [b.tool_use_id for b in (new[2].blocks[0], new[4].blocks[0])] == ["toolu_a", "toolu_b"]  # type: ignore[union-attr]
    assert [t.text for t in new.turns[5:]] == ["Ten and eleven.", "Thanks", "Ciao."]


def test_tool_loop_replaces_all_recorded_rounds() -> None:
    """With tools, the whole recorded loop (two rounds) gives way to the new one (one
    round here); the turns after it are kept and replayed as usual."""
    bot = ScriptedAdapter(
        [call_reply("get_weather", {"location": "Oslo"}, "toolu_a"), "Cold.", "Ciao."]
    )
    old = two_rounds()
    result = replay(old, bot, tools=[get_weather])
    new = result.conversation
    assert result.complete
    assert len(new) == len(old) - 2
    assert [t.text for t in new.turns[3:]] == ["Cold.", "Thanks", "Ciao."]
    assert len(bot.requests) == 3


@pytest.mark.anyio
async def test_areplay_is_replay_awaited() -> None:
    """The async twin replays the same way, with asend."""
    old = dialogue(("Hi", "Hello"), ("Bye", "Ciao"))

    async def answer(c: Conversation, options: dict[str, Any]) -> str:
        return f"re: {c.last.text if c.last else ''}"

    result = await areplay(old, FunctionAdapter(answer))
    assert [t.text for t in result.conversation] == ["Hi", "re: Hi", "Bye", "re: Bye"]
    assert result.complete
    assert result.diff.common == old[:1]


def test_bad_input_is_refused() -> None:
    """Not a conversation, or a flag that is not a bool: the library's own error."""
    bot = ScriptedAdapter([])
    with pytest.raises(MalformedInputError, match="takes a Conversation"):
        replay("Hi", bot)  # type: ignore[arg-type]
    with pytest.raises(MalformedInputError, match="regenerate_synthetic"):
        replay(Conversation().user("Hi"), bot, regenerate_synthetic=1)  # type: ignore[arg-type]


def test_bad_tools_are_refused_before_sending() -> None:
    """One tool instead of a list, or an item that is no tool: the tool loop's own error,
    before any request."""
    bot = ScriptedAdapter(["never"])
    old = weather_dialogue()
    with pytest.raises(MalformedInputError, match="for one tool write"):
        replay(old, bot, tools=get_weather)  # type: ignore[arg-type]
    with pytest.raises(MalformedInputError, match="expected a Tool"):
        replay(old, bot, tools=iter([get_weather, 42]))  # type: ignore[arg-type]
    assert bot.requests == []
    result = replay(old, ScriptedAdapter(["Sunny."]), tools=iter([get_weather]))
    assert result.complete


turns = st.lists(
    st.tuples(st.text(min_size=1, max_size=20).filter(str.strip), st.booleans()),
    max_size=6,
)


@given(turns)
def test_replay_keeps_every_user_and_synthetic_turn(exchanges: list[tuple[str, bool]]) -> None:
    """For any dialogue of user turns and replies (some synthetic), the branch has the
    same length, the same user and synthetic turns, and one request per model turn."""
    old = Conversation(system="S")
    for text, synthetic in exchanges:
        old = old.user(text)
        old = old.assistant("ok") if synthetic else old.fold(model_reply(text.strip() + "!"))
    bot = FunctionAdapter(lambda c, options: "new")
    new = replay(old, bot).conversation
    assert len(new) == len(old)
    assert new.system == old.system
    for before, after in zip(old, new, strict=True):
        if before.role == "user" or before.synthetic:
            assert after == before
        else:
            assert after.text == "new"
            assert not after.synthetic
    assert len(bot.requests) == sum(not synthetic for _, synthetic in exchanges)
