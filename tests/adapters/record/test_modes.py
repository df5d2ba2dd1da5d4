"""Record modes, matching by content, and what a miss says.

These run offline: a ScriptedAdapter (which records every payload it was
sent) stands behind the cassette adapters, so a test can see which requests
reached it and which were replayed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters import AdapterError, CassetteMissError, StreamingAdapter
from adapters.record import RECORD_MODES, RecordingAdapter, ReplayAdapter
from adapters.scripted import ScriptedAdapter
from conversation import Conversation, ConversationError, MalformedInputError

OPTIONS = {"max_tokens": 64}
HI = Conversation().user("Hi")


def record(path: Path, *replies: str, mode: str = "all") -> list[Conversation]:
    """One send of ``Hi``, ``Hi 1``, ``Hi 2``... per reply, recorded in ``mode``."""
    rec = RecordingAdapter(ScriptedAdapter(list(replies)), path, mode=mode)  # type: ignore[arg-type]
    return [rec.send(Conversation().user(f"Hi {i}"), **OPTIONS) for i in range(len(replies))]


# -- matching ---------------------------------------------------------------------------------


def test_requests_match_by_content_not_order(cassette_path: Path) -> None:
    recorded = record(cassette_path, "zero", "one", "two")
    replay = ReplayAdapter(cassette_path)
    for i in (2, 0, 1):
        assert replay.send(Conversation().user(f"Hi {i}"), **OPTIONS) == recorded[i]


def test_options_match_whatever_their_order(cassette_path: Path) -> None:
    rec = RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path)
    recorded = rec.send(HI, max_tokens=64, temperature=0.5, stop_sequences=["END"])
    replayed = ReplayAdapter(cassette_path).send(
        HI, stop_sequences=["END"], temperature=0.5, max_tokens=64
    )
    assert replayed == recorded


def test_identical_requests_replay_in_recorded_order_then_miss(cassette_path: Path) -> None:
    rec = RecordingAdapter(ScriptedAdapter(["first", "second"]), cassette_path)
    assert [rec.send(HI, **OPTIONS).last.text for _ in range(2)] == ["first", "second"]  # type: ignore[union-attr]
    replay = ReplayAdapter(cassette_path)
    assert [replay.send(HI, **OPTIONS)[-1].text for _ in range(2)] == ["first", "second"]
    with pytest.raises(CassetteMissError, match=r"recorded 2 times.*allow_repeats=True"):
        replay.send(HI, **OPTIONS)


def test_allow_repeats_serves_the_last_again(cassette_path: Path) -> None:
    record(cassette_path, "only")
    replay = ReplayAdapter(cassette_path, allow_repeats=True)
    texts = [replay.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text for _ in range(3)]
    assert texts == ["only"] * 3


def test_default_options_are_part_of_the_request(cassette_path: Path) -> None:
    RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path, default_options=OPTIONS).send(HI)
    assert ReplayAdapter(cassette_path, default_options=OPTIONS).send(HI)[-1].text == "ok"
    with pytest.raises(CassetteMissError, match=r"option max_tokens \(not set\) != 64"):
        ReplayAdapter(cassette_path).send(HI)


def test_a_none_option_unsets_a_default_and_is_not_recorded(cassette_path: Path) -> None:
    scripted = ScriptedAdapter(["ok"], default_options={"temperature": 1.0})
    RecordingAdapter(scripted, cassette_path).send(HI, max_tokens=64, temperature=None)
    assert "temperature" not in scripted.requests[0]  # unset at the adapter behind too
    assert ReplayAdapter(cassette_path).send(HI, max_tokens=64)[-1].text == "ok"


# -- what a miss says -------------------------------------------------------------------------


def test_a_miss_names_the_closest_request_and_what_differs(cassette_path: Path) -> None:
    rec = RecordingAdapter(ScriptedAdapter(["a", "b", "c"]), cassette_path)
    base = Conversation(system="Be brief.").user("Plan a trip.").assistant("Where?")
    rec.send(HI, **OPTIONS)
    rec.send(base.user("To Kyoto."), max_tokens=64, temperature=0.7)
    rec.send(base.user("To Lisbon in May, for a week."), max_tokens=64)
    with pytest.raises(CassetteMissError) as caught:
        ReplayAdapter(cassette_path).send(base.user("To Kyoto!"), max_tokens=64, temperature=0.5)
    error = caught.value
    assert isinstance(error, ConversationError)
    assert isinstance(error, LookupError)
    message = str(error)
    assert "closest recorded request (line 3, a send)" in message
    assert error.differences == (
        "messages[2].content: 'To Kyoto!' != 'To Kyoto.'",
        "option temperature 0.5 != 0.7",
    )
    for part in error.differences:
        assert part in message
    assert "mode 'none'" in message
    assert "mode='new_episodes'" in message
    assert "--record-mode=new_episodes" in message
    assert error.kind == "send"
    assert error.request["messages"][2] == {"role": "user", "content": "To Kyoto!"}
    assert error.path == str(cassette_path)


def test_a_miss_says_when_the_kind_differs(cassette_path: Path) -> None:
    RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path).send(HI, **OPTIONS)
    stream = ReplayAdapter(cassette_path).stream(HI, **OPTIONS)
    with pytest.raises(CassetteMissError, match="kind 'stream' != 'send'"):
        stream.__enter__()


def test_a_miss_in_a_longer_history_points_into_its_blocks(cassette_path: Path) -> None:
    chat = Conversation().user([{"type": "text", "text": "x"}, {"type": "text", "text": "tail"}])
    RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path).send(chat, **OPTIONS)
    other = Conversation().user([{"type": "text", "text": "y"}, {"type": "text", "text": "tail"}])
    with pytest.raises(CassetteMissError) as caught:
        ReplayAdapter(cassette_path).send(other, **OPTIONS)
    assert caught.value.differences == ("messages[0].content[0].text: 'y' != 'x'",)


def test_a_miss_without_a_cassette_says_so(cassette_path: Path) -> None:
    with pytest.raises(CassetteMissError, match="the cassette file does not exist"):
        ReplayAdapter(cassette_path).send(HI, **OPTIONS)


# -- modes ------------------------------------------------------------------------------------


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_all_records_everything_anew(cassette_path: Path) -> None:
    record(cassette_path, "old 0", "old 1")
    again = record(cassette_path, "new 0")
    assert lines(cassette_path) == 2  # the header and the one new exchange
    assert ReplayAdapter(cassette_path).send(Conversation().user("Hi 0"), **OPTIONS) == again[0]


def test_all_never_replays(cassette_path: Path) -> None:
    record(cassette_path, "old")
    scripted = ScriptedAdapter(["new"])
    rec = RecordingAdapter(scripted, cassette_path)
    assert rec.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text == "new"
    assert len(scripted.requests) == 1


def test_none_replays_only(cassette_path: Path) -> None:
    record(cassette_path, "old")
    scripted = ScriptedAdapter(["never"])
    replay = ReplayAdapter(cassette_path, scripted, mode="none")
    assert replay.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text == "old"
    with pytest.raises(CassetteMissError):
        replay.send(Conversation().user("new"), **OPTIONS)
    assert scripted.requests == []
    assert lines(cassette_path) == 2


def test_new_episodes_replays_the_old_and_records_the_new(cassette_path: Path) -> None:
    record(cassette_path, "old")
    scripted = ScriptedAdapter(["new"])
    replay = ReplayAdapter(cassette_path, fallback=scripted)
    assert replay.mode == "new_episodes"
    assert replay.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text == "old"
    assert replay.send(Conversation().user("Hi 1"), **OPTIONS)[-1].text == "new"
    assert len(scripted.requests) == 1
    offline = ReplayAdapter(cassette_path)
    assert offline.send(Conversation().user("Hi 1"), **OPTIONS)[-1].text == "new"
    assert offline.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text == "old"


def test_new_episodes_records_a_repeat_past_the_recorded_ones(cassette_path: Path) -> None:
    record(cassette_path, "first")
    scripted = ScriptedAdapter(["second"])
    replay = ReplayAdapter(cassette_path, scripted)
    assert [replay.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text for _ in range(2)] == [
        "first",
        "second",
    ]
    offline = ReplayAdapter(cassette_path)
    assert [offline.send(Conversation().user("Hi 0"), **OPTIONS)[-1].text for _ in range(2)] == [
        "first",
        "second",
    ]


def test_new_episodes_appends_after_a_last_line_without_newline(cassette_path: Path) -> None:
    record(cassette_path, "old")
    cassette_path.write_bytes(cassette_path.read_bytes().rstrip(b"\n"))
    ReplayAdapter(cassette_path, ScriptedAdapter(["new"])).send(
        Conversation().user("Hi 1"), **OPTIONS
    )
    assert len(ReplayAdapter(cassette_path)) == 2


def test_once_records_when_there_is_no_cassette_then_replays_only(cassette_path: Path) -> None:
    first = ReplayAdapter(cassette_path, ScriptedAdapter(["recorded"]), mode="once")
    assert first.send(HI, **OPTIONS)[-1].text == "recorded"
    scripted = ScriptedAdapter(["never"])
    second = ReplayAdapter(cassette_path, scripted, mode="once")
    assert second.send(HI, **OPTIONS)[-1].text == "recorded"
    with pytest.raises(CassetteMissError, match="mode 'once'"):
        second.send(Conversation().user("new"), **OPTIONS)
    assert scripted.requests == []


def test_a_mode_that_records_needs_an_adapter(cassette_path: Path) -> None:
    for mode in ("new_episodes", "all", "once"):
        with pytest.raises(MalformedInputError, match="needs an adapter to ask"):
            ReplayAdapter(cassette_path, mode=mode)


@pytest.mark.parametrize(
    ("mode", "hint"),
    [("new", "did you mean 'new_episodes'?"), ("rewrite", ""), ("", ""), (3, "")],
)
def test_an_unknown_mode_is_refused_naming_the_modes(
    cassette_path: Path, mode: object, hint: str
) -> None:
    with pytest.raises(MalformedInputError) as caught:
        ReplayAdapter(cassette_path, mode=mode)  # type: ignore[arg-type]
    message = str(caught.value)
    assert all(repr(name) in message for name in RECORD_MODES)
    assert hint in message
    assert ("did you mean" in message) == bool(hint)


def test_concurrent_async_requests_each_replay_their_own(cassette_path: Path) -> None:
    recorded = record(cassette_path, *(f"reply {i}" for i in range(20)))
    replay = ReplayAdapter(cassette_path)

    async def all_at_once() -> list[Conversation]:
        sends = [replay.asend(Conversation().user(f"Hi {i}"), **OPTIONS) for i in range(20)]
        return list(await asyncio.gather(*sends))

    assert asyncio.run(all_at_once()) == recorded


def test_the_repr_names_the_cassette_mode_and_adapter(cassette_path: Path) -> None:
    record(cassette_path, "one", "two")
    text = repr(ReplayAdapter(cassette_path, ScriptedAdapter([])))
    assert str(cassette_path) in text
    assert "mode='new_episodes' over ScriptedAdapter: 2 exchanges" in text


def test_they_are_streaming_adapters(cassette_path: Path) -> None:
    record(cassette_path, "one")
    assert isinstance(ReplayAdapter(cassette_path), StreamingAdapter)
    assert isinstance(RecordingAdapter(ScriptedAdapter([]), cassette_path), StreamingAdapter)


def test_a_request_the_adapter_behind_cannot_answer_says_so(cassette_path: Path) -> None:
    """ScriptedAdapter counts no tokens: nothing to record, and the error names the method."""
    rec = RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path)
    with pytest.raises(AdapterError, match=r"ScriptedAdapter has no count_tokens\(\) method"):
        rec.count_tokens(HI, **OPTIONS)
    assert not cassette_path.exists()
