"""Tests for conversation.replay.replay_many / areplay_many: many dialogues, bounded, resumable."""

from __future__ import annotations

import io
import signal
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.scripted import FunctionAdapter
from conversation import Conversation, MalformedInputError
from conversation.replay import NOTE_KEY, ReplayResult, areplay_many, replay_many
from conversation.store import SQLiteStore
from tests.conversation.replaying import dialogue, model_reply


@pytest.fixture
def anyio_backend() -> str:
    """Run the async tests on asyncio."""
    return "asyncio"


def corpus(size: int) -> list[Conversation]:
    """``size`` two-exchange dialogues, each asking about its own number."""
    return [
        dialogue((f"Question {n}?", f"Answer {n}."), ("And then?", "Done.")) for n in range(size)
    ]


def first_question(c: Conversation) -> str:
    return c[0].text


class Tty(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_two_hundred_dialogues_one_failing() -> None:
    """One result per dialogue, in input order; the one whose request fails carries the
    error, and the other 199 are replayed to the end."""
    dialogues = corpus(200)

    async def answer(c: Conversation, options: dict[str, Any]) -> str:
        await anyio.sleep(0)
        if first_question(c) == "Question 137?":
            raise TimeoutError("no answer for 137")
        return f"new answer to {c[-1].text}"

    results = replay_many(dialogues, FunctionAdapter(answer), concurrency=16, progress=False)
    assert [r.original for r in results] == dialogues
    failed = [i for i, r in enumerate(results) if r.error is not None]
    assert failed == [137]
    assert isinstance(results[137].error, TimeoutError)
    assert results[137].conversation is None
    assert not results[137].complete
    for n, result in enumerate(results):
        if n != 137:
            assert result.complete
            assert result.conversation is not None
            assert result.conversation[1].text == f"new answer to Question {n}?"
            assert result.conversation[3].text == "new answer to And then?"


@pytest.mark.anyio
async def test_concurrency_bound_respected() -> None:
    """No more than ``concurrency`` dialogues are in flight at once, and that many are."""
    in_flight = 0
    most = 0

    async def answer(c: Conversation, options: dict[str, Any]) -> str:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        for _ in range(3):
            await anyio.sleep(0)
        in_flight -= 1
        return "ok"

    results = await areplay_many(corpus(40), FunctionAdapter(answer), concurrency=5, progress=False)
    assert all(r.complete for r in results)
    assert most == 5


class Crash(BaseException):
    """A crash of the program (not an Exception: it stops the run, as a bug or a kill would)."""


def counting_adapter(answered: Counter[str], stop_after: int | None, stop: Any) -> FunctionAdapter:
    """Answers "new", counting answers per dialogue; after ``stop_after`` answers it calls
    ``stop()`` instead and waits to be cancelled."""

    async def answer(c: Conversation, options: dict[str, Any]) -> str:
        await anyio.sleep(0)
        if stop_after is not None and sum(answered.values()) >= stop_after:
            stop()
            await anyio.sleep_forever()
        answered[first_question(c)] += 1
        return "new"

    return FunctionAdapter(answer)


def check_resumed(
    dialogues: list[Conversation], results: list[ReplayResult], answered: Counter[str], done: int
) -> None:
    """Every dialogue answered exactly once over both runs; ``done`` of them loaded."""
    assert answered == Counter(first_question(c) for c in dialogues)
    assert sum(r.resumed for r in results) == done
    assert all(r.complete for r in results)
    for original, result in zip(dialogues, results, strict=True):
        assert result.original is original
        assert result.conversation is not None
        assert result.conversation[-1].text == "new"
        assert result.conversation.metadata[NOTE_KEY]["original"] == original.id


@pytest.fixture
def ctrl_c_interrupts() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt (Python's default) during the test, whatever the test
    runner set (a worker process may ignore it)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_run_stopped_by_ctrl_c_resumes_from_its_store(tmp_path: Path) -> None:
    """A run stopped by Ctrl-C (a real SIGINT) after some dialogues keeps them in its SQLite
    file; a second run loads those and replays only the rest: each answered exactly once."""
    dialogues = [dialogue((f"Question {n}?", f"Answer {n}.")) for n in range(30)]
    answered: Counter[str] = Counter()
    path = tmp_path / "replays.db"

    pressed: list[bool] = []

    def ctrl_c() -> None:  # pressed once: a second press is "stop now", not "stop cleanly"
        if not pressed:
            pressed.append(True)
            signal.raise_signal(signal.SIGINT)

    bot = counting_adapter(answered, 12, ctrl_c)
    with SQLiteStore(path) as store, pytest.raises(KeyboardInterrupt):
        replay_many(dialogues, bot, store=store, concurrency=4, progress=False)
    assert sum(answered.values()) == 12

    with SQLiteStore(path) as store:
        results = replay_many(dialogues, counting_adapter(answered, None, None), store=store)
    check_resumed(dialogues, results, answered, 12)


@pytest.mark.anyio
async def test_run_that_crashed_resumes_from_its_store(tmp_path: Path) -> None:
    """A crash in the middle of an async run (a BaseException, raised as itself) loses
    nothing that was finished: the next run replays only the rest."""
    dialogues = [dialogue((f"Question {n}?", f"Answer {n}.")) for n in range(20)]
    answered: Counter[str] = Counter()

    def crash() -> None:
        raise Crash

    with SQLiteStore(tmp_path / "replays.db") as store:
        with pytest.raises(Crash):
            await areplay_many(dialogues, counting_adapter(answered, 7, crash), store=store)
        assert sum(answered.values()) == 7
        results = await areplay_many(dialogues, counting_adapter(answered, None, None), store=store)
    check_resumed(dialogues, results, answered, 7)


def test_a_loaded_replay_equals_the_one_saved(tmp_path: Path) -> None:
    """What a second run loads from the store is the branch the first returned, its reason
    (a divergence) included; other settings replay again."""
    old = dialogue(("Hi", "Hello"))
    with SQLiteStore(tmp_path / "r.db") as store:
        bot = FunctionAdapter(lambda c, o: "Hey")
        [first] = replay_many([old], bot, store=store, progress=False, max_tokens=8)
        [again] = replay_many([old], bot, store=store, progress=False, max_tokens=8)
        [other] = replay_many([old], bot, store=store, progress=False, max_tokens=9)
    assert len(bot.requests) == 2  # the first run and the one with other settings
    assert again.resumed
    assert not other.resumed
    assert again.conversation == first.conversation
    assert again.reason is first.reason is None


def test_a_failed_dialogue_is_not_saved_and_is_tried_again(tmp_path: Path) -> None:
    """An error is reported, not stored: the next run replays that dialogue again."""
    old = dialogue(("Hi", "Hello"))
    outcomes: list[Any] = [ConnectionError("down"), "Hey"]

    def answer(c: Conversation, options: dict[str, Any]) -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome)

    with SQLiteStore(tmp_path / "r.db") as store:
        [failed] = replay_many([old], FunctionAdapter(answer), store=store, progress=False)
        [done] = replay_many([old], FunctionAdapter(answer), store=store, progress=False)
    assert isinstance(failed.error, ConnectionError)
    assert done.complete
    assert not done.resumed


def test_shared_prefix_gets_a_cache_breakpoint() -> None:
    """Dialogues opening with the same system prompt and first turn: each request marks the
    end of that shared turn. One with only the system prompt in common marks the system
    prompt. The branches returned carry no mark."""
    same = [dialogue(("Tell me a joke.", "No."), (f"About {n}?", "No.")) for n in range(3)]
    alone = dialogue(("Something else.", "Ok."))
    bot = FunctionAdapter(lambda c, o: "Fine.")
    results = replay_many([*same, alone], bot, concurrency=1, progress=False)

    mark = {"type": "ephemeral"}
    for request in bot.requests[:6]:
        first = request["messages"][0]
        assert first["content"] == [
            {"type": "text", "text": "Tell me a joke.", "cache_control": mark}
        ]
        assert request["system"] == "Be brief."
        later = [m for m in request["messages"][1:] if isinstance(m["content"], list)]
        assert later == []
    assert bot.requests[6]["system"] == [
        {"type": "text", "text": "Be brief.", "cache_control": mark}
    ]
    assert bot.requests[6]["messages"] == [{"role": "user", "content": "Something else."}]
    for original, result in zip(same, results[:3], strict=True):
        assert result.conversation is not None
        assert result.conversation.system == "Be brief."
        assert result.conversation[0] == original[0]  # unmarked, as it was
        assert result.conversation[2] == original[2]
        assert original.diff(result.conversation).common == original[:1]


def test_shared_few_shot_opening_is_cached_to_its_end() -> None:
    """A shared opening that holds a turn the program wrote (a few-shot example) is cached
    to its end: the mark is on that assistant turn, not before, and only once."""
    shot = Conversation(system="S").user("2+2?").assistant("4")
    corpus = [shot.user(f"{n}+{n}?").fold(model_reply(str(2 * n))) for n in range(3)]
    bot = FunctionAdapter(lambda c, o: "ok")
    replay_many(corpus, bot, concurrency=1, progress=False)
    mark = {"type": "ephemeral"}
    for n, request in enumerate(bot.requests):
        assert request["messages"][1]["content"] == [
            {"type": "text", "text": "4", "cache_control": mark}
        ]
        assert request["messages"][0]["content"] == "2+2?"
        assert request["messages"][2]["content"] == f"{n}+{n}?"
        assert request["system"] == "S"


def test_cache_shared_false_sends_no_mark() -> None:
    """cache_shared=False: the requests are the turns as they are."""
    same = [dialogue(("Tell me a joke.", "No.")) for _ in range(2)]
    bot = FunctionAdapter(lambda c, o: "Fine.")
    replay_many(same, bot, cache_shared=False, progress=False)
    assert [r["messages"] for r in bot.requests] == [
        [{"role": "user", "content": "Tell me a joke."}]
    ] * 2
    assert all(r["system"] == "Be brief." for r in bot.requests)


def test_no_mark_past_the_limit_of_four() -> None:
    """Dialogues whose requests already hold 4 breakpoints get no fifth (the API would refuse)."""
    marked = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    opening = Conversation(system="S").user([marked, marked, marked, marked, "Go"])
    same = [opening.fold({"content": [{"type": "text", "text": "ok"}]}) for _ in range(2)]
    bot = FunctionAdapter(lambda c, o: "Fine.")
    results = replay_many(same, bot, progress=False)
    assert all(r.complete for r in results)
    assert all(r["system"] == "S" for r in bot.requests)


def test_progress_bar_only_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """progress=True draws a bar on a terminal; not on a pipe, not without tqdm (no error
    either), and never with progress=False."""
    bot = FunctionAdapter(lambda c, o: "ok")
    replay_many(corpus(3), bot)  # pytest's captured stderr is not a terminal
    assert capsys.readouterr().err == ""

    terminal = Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    replay_many(corpus(3), bot)
    assert "3/3" in terminal.getvalue()

    terminal = Tty()
    monkeypatch.setattr(sys, "stderr", terminal)
    replay_many(corpus(3), bot, progress=False)
    assert terminal.getvalue() == ""

    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    results = replay_many(corpus(3), bot)
    assert terminal.getvalue() == ""
    assert all(r.complete for r in results)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"concurrency": 0}, "concurrency must be an int of at least 1"),
        ({"concurrency": True}, "concurrency must be an int"),
        ({"store": "replays.db"}, "store must be a conversation.store.Store"),
        ({"progress": "yes"}, "progress must be True or False"),
        ({"cache_shared": None}, "cache_shared must be True or False"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    """Each bad setting ends in the library's own error, before anything is sent."""
    bot = FunctionAdapter(lambda c, o: "ok")
    with pytest.raises(MalformedInputError, match=match):
        replay_many(corpus(1), bot, **kwargs)
    assert bot.requests == []


@given(
    st.one_of(
        st.integers(max_value=0),
        st.floats(),
        st.text(),
        st.none(),
        st.booleans(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_any_bad_concurrency_is_refused(concurrency: Any) -> None:
    """Whatever is not an int >= 1 is refused with the library's error, nothing sent."""
    bot = FunctionAdapter(lambda c, o: "ok")
    with pytest.raises(MalformedInputError, match="concurrency"):
        replay_many(corpus(1), bot, concurrency=concurrency)
    assert bot.requests == []


def test_bad_conversations_are_refused() -> None:
    """One conversation instead of a list, or a list holding something else: a clear error."""
    bot = FunctionAdapter(lambda c, o: "ok")
    with pytest.raises(MalformedInputError, match="a list of conversations"):
        replay_many(corpus(1)[0], bot)  # type: ignore[arg-type]
    with pytest.raises(
        MalformedInputError, match=r"conversations\[1\]: expected a Conversation, got str 'Hi'"
    ):
        replay_many([corpus(1)[0], "Hi"], bot)  # type: ignore[list-item]
