"""Record against AnthropicAdapter over the loopback fake API, then replay with no network.

Each test records a run through a RecordingAdapter wrapping the live adapter,
then runs the same code against a ReplayAdapter of the cassette alone (no
adapter behind it) and checks that it gives equal conversations, equal
events, and the same errors, while the fake API sees no new connection.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from adapters import MessageStop, StreamEvent, StreamInterruptedError, TextDelta
from adapters.anthropic import (
    AnthropicAdapter,
    APIConnectionError,
    APIStatusError,
    InternalServerError,
    OverloadedError,
    RateLimitError,
)
from adapters.record import RecordingAdapter, ReplayAdapter
from adapters.scripted import ScriptedAdapter
from conversation import Conversation, MalformedReplyError, Text
from conversation.continuation import continue_reply
from conversation.replay import replay_many
from conversation.tools import arun_tools, run_tools, tool
from tests.adapters import fake_api as fake
from tests.adapters.fake_api import FakeMessagesAPI, make_message
from tests.adapters.record.conftest import OPTIONS

CHAT = Conversation(system="Be brief.").user("Hello")
T = TypeVar("T")


def offline(api: FakeMessagesAPI, run: Callable[[], T]) -> T:
    """``run()``, checking that the fake API saw no connection and no request meanwhile."""
    connections, requests = api.connections, len(api.requests)
    result = run()
    assert (api.connections, len(api.requests)) == (connections, requests)
    return result


def replayer(path: Path) -> ReplayAdapter:
    return ReplayAdapter(path, default_options=OPTIONS)


def recorder(live: AnthropicAdapter, path: Path) -> RecordingAdapter:
    return RecordingAdapter(live, path, default_options=OPTIONS)


# -- whole replies ------------------------------------------------------------------------


def dialogue(adapter: Any) -> Conversation:
    c = adapter.send(CHAT)
    c = adapter.send(c.user("And in French?"), temperature=0.5)
    return adapter.send(c.user("Thanks."))  # type: ignore[no-any-return]


def test_sends_replay_as_equal_conversations_offline(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Reply(text="Hi!"), fake.Reply(text="Salut !"), fake.Reply(text="De rien."))
    recorded = dialogue(recorder(live, cassette_path))
    assert [t.text for t in recorded][1::2] == ["Hi!", "Salut !", "De rien."]
    replayed = offline(fake_api, lambda: dialogue(replayer(cassette_path)))
    assert replayed == recorded
    assert Conversation.loads(replayed.dumps()) == recorded  # provenance too: ids, usage
    assert [t.provenance.id for t in replayed if t.provenance] == [
        t.provenance.id for t in recorded if t.provenance
    ]


@pytest.mark.anyio
async def test_asend_replays_as_equal_conversations_offline(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Reply(text="Hi!"), fake.Reply(text="Salut !"))
    rec = recorder(live, cassette_path)
    first = await rec.asend(CHAT)
    recorded = await rec.asend(first.user("And in French?"))
    connections = fake_api.connections
    replay = replayer(cassette_path)
    assert await replay.asend(CHAT) == first
    assert await replay.asend(first.user("And in French?")) == recorded
    assert fake_api.connections == connections


def test_a_sync_recording_replays_async_and_the_other_way(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    """send and asend record the same kind of exchange, so either replays the other."""
    import asyncio

    recorded = recorder(live, cassette_path).send(CHAT)
    assert asyncio.run(replayer(cassette_path).asend(CHAT)) == recorded


def test_a_replay_many_run_replays_offline(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    """replay_many of 20 dialogues through a recorder over HTTP (8 at once, so recorded in
    no set order), then through a replayer of its cassette alone: the same branches,
    replies' ids and usage included, and not a connection to the fake API."""
    corpus = [
        CHAT.user(f"Question {n}?")
        .fold({"content": [{"type": "text", "text": "Old."}], "model": "old-model"})
        .user("And then?")
        .fold({"content": [{"type": "text", "text": "Older."}], "model": "old-model"})
        for n in range(20)
    ]
    recorded = replay_many(corpus, recorder(live, cassette_path), concurrency=8, progress=False)
    assert all(r.complete for r in recorded)
    assert len(fake_api.requests) == 40
    replayed = offline(
        fake_api,
        lambda: replay_many(corpus, replayer(cassette_path), concurrency=8, progress=False),
    )
    assert [r.conversation for r in replayed] == [r.conversation for r in recorded]
    assert [r.conversation.dumps() for r in replayed if r.conversation] == [
        r.conversation.dumps() for r in recorded if r.conversation
    ]


# -- streams ------------------------------------------------------------------------------


def streamed(adapter: Any, conversation: Conversation) -> tuple[list[StreamEvent], Conversation]:
    with adapter.stream(conversation) as stream:
        events = list(stream)
    return events, stream.conversation


def test_a_stream_replays_as_a_stream_event_by_event(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Stream(text="Once upon a time, a model streamed.", text_chunk=5))
    events, recorded = streamed(recorder(live, cassette_path), CHAT)
    assert len([e for e in events if e.type == "text_delta"]) == 7  # 35 characters in fives
    replayed_events, replayed = offline(fake_api, lambda: streamed(replayer(cassette_path), CHAT))
    assert replayed_events == events
    assert replayed == recorded
    assert recorded[-1].text == "Once upon a time, a model streamed."
    with replayer(cassette_path).stream(CHAT) as stream:
        texts = list(stream.text_stream)
    assert texts == [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(texts) == recorded[-1].text


def test_a_stream_read_only_up_to_its_message_stop_is_recorded(
    live: AnthropicAdapter, cassette_path: Path
) -> None:
    with recorder(live, cassette_path).stream(CHAT) as stream:
        for event in stream:
            if isinstance(event, MessageStop):
                break
    events, replayed = streamed(replayer(cassette_path), CHAT)
    assert replayed == stream.conversation
    assert isinstance(events[-1], MessageStop)


def test_a_stream_closed_before_its_end_is_not_recorded(
    live: AnthropicAdapter, cassette_path: Path
) -> None:
    with recorder(live, cassette_path).stream(CHAT) as stream:
        next(iter(stream))
    assert len(ReplayAdapter(cassette_path)) == 0


@pytest.mark.anyio
async def test_astream_replays_as_a_stream(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Stream(text="An async story, told in pieces.", text_chunk=4))
    async with recorder(live, cassette_path).astream(CHAT) as stream:
        events = [event async for event in stream]
    recorded = stream.conversation
    connections = fake_api.connections
    async with replayer(cassette_path).astream(CHAT) as again:
        replayed = [event async for event in again]
    assert replayed == events
    assert again.conversation == recorded
    assert fake_api.connections == connections


# -- tool loops and prefills ----------------------------------------------------------------


@tool
def get_weather(location: str) -> str:
    """Current weather for a city."""
    return f"15 degrees and cloudy in {location}"


def tool_call(tool_id: str, location: str) -> dict[str, Any]:
    message = make_message("", stop_reason="tool_use")
    message["content"] = [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": tool_id, "name": "get_weather", "input": {"location": location}},
    ]
    return message


def test_a_tool_loop_replays(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(
        fake.Reply(tool_call("toolu_1", "Paris")),
        fake.Reply(tool_call("toolu_2", "Lyon")),
        fake.Reply(text="Paris and Lyon: 15 degrees, cloudy."),
    )
    question = Conversation().user("Weather in Paris and Lyon?")
    recorded = run_tools(question, recorder(live, cassette_path), [get_weather])
    assert len(recorded) == 6
    assert recorded[-1].text == "Paris and Lyon: 15 degrees, cloudy."
    replayed = offline(
        fake_api, lambda: run_tools(question, replayer(cassette_path), [get_weather])
    )
    assert replayed == recorded


@pytest.mark.anyio
async def test_an_async_tool_loop_replays(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Reply(tool_call("toolu_1", "Oslo")), fake.Reply(text="Cloudy in Oslo."))
    question = Conversation().user("Weather in Oslo?")
    recorded = await arun_tools(question, recorder(live, cassette_path), [get_weather])
    connections = fake_api.connections
    assert await arun_tools(question, replayer(cassette_path), [get_weather]) == recorded
    assert fake_api.connections == connections


def test_a_prefill_replays_as_one_turn_keeping_what_the_program_wrote(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Reply(text="C) Formicidae"))
    quiz = (
        Conversation()
        .user("Latin for ant? (A) Apoidea (C) Formicidae")
        .assistant("The answer is (")
    )
    recorded = recorder(live, cassette_path).send(quiz)
    replayed = offline(fake_api, lambda: replayer(cassette_path).send(quiz))
    assert replayed == recorded
    assert replayed[-1].text == "The answer is (C) Formicidae"
    provenance = replayed[-1].provenance
    assert provenance is not None
    assert provenance.prefill == (Text("The answer is ("),)
    assert b'"text":"C) Formicidae"' in cassette_path.read_bytes()  # the reply, not the turn


def test_a_reply_continued_after_max_tokens_replays(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    """continue_reply sends the cut reply back as a prefill; the turn lists both replies."""
    fake_api.queue(
        fake.Reply(make_message("The first half of the answer", stop_reason="max_tokens")),
        fake.Reply(make_message(", and the second half.", stop_reason="end_turn")),
    )
    rec = recorder(live, cassette_path)
    recorded = continue_reply(rec.send(CHAT), rec)
    assert recorded[-1].text == "The first half of the answer, and the second half."
    replay = replayer(cassette_path)
    replayed = offline(fake_api, lambda: continue_reply(replay.send(CHAT), replay))
    assert replayed == recorded
    provenance = replayed[-1].provenance
    assert provenance is not None
    assert len(provenance.replies) == 2


def test_count_tokens_replays(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.CountTokens(321))
    assert recorder(live, cassette_path).count_tokens(CHAT) == 321
    assert offline(fake_api, lambda: replayer(cassette_path).count_tokens(CHAT)) == 321


@pytest.mark.anyio
async def test_acount_tokens_replays(live: AnthropicAdapter, cassette_path: Path) -> None:
    counted = await recorder(live, cassette_path).acount_tokens(CHAT)
    assert await replayer(cassette_path).acount_tokens(CHAT) == counted


# -- errors -----------------------------------------------------------------------------------


def failing(adapter: Any, conversation: Conversation = CHAT) -> BaseException:
    with pytest.raises(Exception) as caught:  # noqa: PT011 - any error: compared below
        adapter.send(conversation)
    return caught.value


def same_api_error(replayed: BaseException, recorded: BaseException) -> None:
    assert type(replayed) is type(recorded)
    assert str(replayed) == str(recorded)
    assert isinstance(replayed, APIStatusError)
    assert isinstance(recorded, APIStatusError)
    for name in ("status_code", "request_id", "error_type", "api_message", "body"):
        assert getattr(replayed, name) == getattr(recorded, name), name
    assert replayed.headers == {}  # headers are never recorded


@pytest.mark.parametrize(
    ("answer", "cls", "status"),
    [
        (fake.Error(429, "rate_limit_error", retry_after=0), RateLimitError, 429),
        (fake.Error(500, "api_error"), InternalServerError, 500),
        (fake.Error(529, "overloaded_error"), OverloadedError, 529),
    ],
)
def test_an_error_status_replays_as_the_same_error(
    fake_api: FakeMessagesAPI,
    live: AnthropicAdapter,
    cassette_path: Path,
    answer: fake.Error,
    cls: type[APIStatusError],
    status: int,
) -> None:
    fake_api.queue(answer)
    recorded = failing(recorder(live, cassette_path))
    assert isinstance(recorded, cls)
    assert recorded.status_code == status
    replayed = offline(fake_api, lambda: failing(replayer(cassette_path)))
    same_api_error(replayed, recorded)


def test_an_answer_that_is_not_a_reply_replays_as_malformed(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Malformed())
    recorded = failing(recorder(live, cassette_path))
    replayed = failing(replayer(cassette_path))
    assert isinstance(replayed, MalformedReplyError)
    assert type(replayed) is type(recorded)
    assert (str(replayed), replayed.path, replayed.reason) == (
        str(recorded),
        recorded.path,
        recorded.reason,
    )


def cut_stream(adapter: Any) -> tuple[list[StreamEvent], StreamInterruptedError]:
    events: list[StreamEvent] = []
    with pytest.raises(StreamInterruptedError) as caught, adapter.stream(CHAT) as stream:
        events.extend(stream)
    return events, caught.value


@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (
            fake.Stream(text="A story cut in the middle of it", text_chunk=4, cut_after=6),
            APIConnectionError,
        ),
        (
            fake.Stream(
                text="Overloaded halfway",
                text_chunk=4,
                cut_after=6,
                error_event={"type": "overloaded_error", "message": "Overloaded"},
            ),
            OverloadedError,
        ),
    ],
    ids=["connection-cut", "error-event"],
)
def test_a_cut_stream_replays_its_events_then_the_same_interruption(
    fake_api: FakeMessagesAPI,
    live: AnthropicAdapter,
    cassette_path: Path,
    answer: fake.Stream,
    cause: type[Exception],
) -> None:
    fake_api.queue(answer)
    events, recorded = cut_stream(recorder(live, cassette_path))
    assert events
    assert isinstance(recorded.__cause__, cause)
    assert recorded.conversation != CHAT  # part of the reply had arrived
    replayed_events, replayed = offline(fake_api, lambda: cut_stream(replayer(cassette_path)))
    assert replayed_events == events
    assert replayed.conversation == recorded.conversation
    assert str(replayed) == str(recorded)
    assert type(replayed.__cause__) is type(recorded.__cause__)
    assert str(replayed.__cause__) == str(recorded.__cause__)
    last = replayed.conversation.last
    assert last is not None
    assert last.provenance is not None
    assert last.provenance.interrupted
    resumed = replayed.conversation.resumable()
    assert resumed == recorded.conversation.resumable()


@pytest.mark.anyio
async def test_an_async_cut_stream_replays_as_the_same_interruption(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Stream(text="Cut off in its prime", text_chunk=3, cut_after=5))

    async def read(adapter: Any) -> tuple[list[StreamEvent], StreamInterruptedError]:
        events: list[StreamEvent] = []
        with pytest.raises(StreamInterruptedError) as caught:
            async with adapter.astream(CHAT) as stream:
                events.extend([event async for event in stream])
        return events, caught.value

    events, recorded = await read(recorder(live, cassette_path))
    replayed_events, replayed = await read(replayer(cassette_path))
    assert replayed_events == events
    assert replayed.conversation == recorded.conversation


def test_a_stream_refused_before_it_began_raises_on_entry_again(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(fake.Error(529, "overloaded_error"))
    with pytest.raises(OverloadedError) as recorded:
        recorder(live, cassette_path).stream(CHAT).__enter__()
    stream = replayer(cassette_path).stream(CHAT)
    with pytest.raises(OverloadedError) as replayed:
        stream.__enter__()
    same_api_error(replayed.value, recorded.value)


def test_a_builtin_error_of_another_adapter_replays(cassette_path: Path) -> None:
    """Any adapter can be recorded; a plain Python error it raises replays as itself."""
    scripted = ScriptedAdapter(["Hi!", TimeoutError("scripted outage")])
    rec = RecordingAdapter(scripted, cassette_path)
    first = rec.send(CHAT, max_tokens=64)
    with pytest.raises(TimeoutError, match="scripted outage"):
        rec.send(first.user("Again?"), max_tokens=64)
    replay = ReplayAdapter(cassette_path)
    assert replay.send(CHAT, max_tokens=64) == first
    with pytest.raises(TimeoutError, match="scripted outage"):
        replay.send(first.user("Again?"), max_tokens=64)


def test_an_error_raised_before_sending_is_not_recorded(cassette_path: Path) -> None:
    """A request the adapter refuses itself (no model) is no exchange: nothing is written."""
    live = AnthropicAdapter(api_key="test-only", base_url="http://127.0.0.1:9", max_retries=0)
    from conversation import RuleViolationError

    with pytest.raises(RuleViolationError):
        RecordingAdapter(live, cassette_path).send(CHAT, max_tokens=10)
    assert not cassette_path.exists()
