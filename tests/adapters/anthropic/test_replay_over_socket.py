"""replay and replay_many through AnthropicAdapter over a real socket to the loopback fake.

The fake API answers each request by what it holds (see :class:`Answers`):
which dialogue it is (its first question) and which exchange (how many user
turns it sends), so that the tests can count, at the server, what every
dialogue cost: one failing among 200, and a run interrupted for real (a
SIGINT, a cancellation) then resumed from its SQLite store, each dialogue
done exactly once over the two runs.
"""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from adapters.anthropic import AnthropicAdapter, OverloadedError
from conversation import Conversation
from conversation.replay import NOTE_KEY, ReplayResult, areplay, areplay_many, replay, replay_many
from conversation.store import SQLiteStore
from tests.adapters.anthropic.mocks import KEY, OPTIONS, Sleeps, loopback_adapter
from tests.adapters.fake_api import UNTIL_STOPPED, Error, FakeMessagesAPI, Reply, Response

MARK = {"type": "ephemeral"}


def old(text: str) -> dict[str, Any]:
    """An earlier model's reply (what a replay writes again)."""
    return {"content": [{"type": "text", "text": text}], "model": "old-model", "id": "msg_old"}


def dialogue(n: int, exchanges: int = 2) -> Conversation:
    """Dialogue ``n``: ``exchanges`` questions, each answered by an earlier model."""
    chat = Conversation(system="Be brief.")
    for k in range(exchanges):
        chat = chat.user(f"Dialogue {n}, question {k}?").fold(old(f"Old answer {k}."))
    return chat


def new_answer(n: int, exchange: int) -> str:
    return f"New answer {exchange} to dialogue {n}."


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(block["text"] for block in content if block["type"] == "text")


class Answers:
    """The fake API's answer to each POST /v1/messages, counted by (dialogue, exchange).

    A request of dialogue ``failing`` is answered 529 (overloaded), every time.
    Once ``hold_after`` requests have been answered, the next are held until the
    server stops (never answered, so never counted); when ``held_to_stop`` of
    them wait, every worker of the run is stuck on one, having saved what it
    finished before, and ``all_held`` is set.
    """

    def __init__(
        self,
        failing: int | None = None,
        hold_after: int | None = None,
        held_to_stop: int = 0,
    ) -> None:
        self.failing = failing
        self.hold_after = hold_after
        self.held_to_stop = held_to_stop
        self.answered: Counter[tuple[int, int]] = Counter()
        self.earlier: Counter[tuple[int, int]] = Counter()  # answered in earlier runs
        self.refused: Counter[int] = Counter()
        self.held = 0
        self.all_held = threading.Event()
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, method: str, path: str, body: bytes) -> Response:
        request = json.loads(body)
        self.bodies.append(request)
        users = [m for m in request["messages"] if m["role"] == "user"]
        n = int(text_of(users[0]["content"]).split(",")[0].removeprefix("Dialogue "))
        exchange = len(users) - 1
        if n == self.failing:
            self.refused[n] += 1
            return Error(529, "overloaded_error")
        if self.hold_after is not None and self.answered.total() >= self.hold_after:
            self.held += 1
            if self.held == self.held_to_stop:
                self.all_held.set()
            return Reply(delay=UNTIL_STOPPED)
        self.answered[n, exchange] += 1
        return Reply(text=new_answer(n, exchange))

    def done(self, exchanges: int) -> set[int]:
        """The dialogues whose last exchange was answered in this run."""
        return {n for (n, exchange) in self.answered if exchange == exchanges - 1}

    def next_run(self) -> None:
        """Answer every request from now on, counting this run's answers apart."""
        self.hold_after = None
        self.earlier += self.answered
        self.answered = Counter()


@pytest.fixture
def adapter(fake_api: FakeMessagesAPI) -> Iterator[AnthropicAdapter]:
    """AnthropicAdapter over the fake API; the waits between its retries are not slept."""
    with loopback_adapter(fake_api.base_url, Sleeps(), api_key=KEY, default_options=OPTIONS) as a:
        yield a


def answering(fake_api: FakeMessagesAPI, answers: Answers) -> Answers:
    fake_api.route("/v1/messages", answers)
    return answers


def check_replayed(result: ReplayResult | None, n: int, exchanges: int = 2) -> None:
    """A replayed dialogue ``n``: its questions kept, each answer the fake API's new one."""
    assert result is not None
    assert result.complete
    assert result.conversation is not None
    turns = list(result.conversation)
    assert [t.text for t in turns[0::2]] == [
        f"Dialogue {n}, question {k}?" for k in range(exchanges)
    ]
    assert [t.text for t in turns[1::2]] == [new_answer(n, k) for k in range(exchanges)]
    assert result.conversation.metadata[NOTE_KEY]["original"] == result.original.id


def test_replay_sends_each_branch_and_folds_each_reply(
    fake_api: FakeMessagesAPI, adapter: AnthropicAdapter
) -> None:
    """replay() over HTTP: one request a model turn, each the new branch so far (user
    turns as they were, earlier answers the new ones); the result a branch beside the
    original, sharing its system prompt and first question."""
    answers = answering(fake_api, Answers())
    original = dialogue(7, exchanges=3)
    result = replay(original, adapter)
    assert result.complete
    assert [t.text for t in result.conversation] == [
        "Dialogue 7, question 0?",
        new_answer(7, 0),
        "Dialogue 7, question 1?",
        new_answer(7, 1),
        "Dialogue 7, question 2?",
        new_answer(7, 2),
    ]
    assert [len(body["messages"]) for body in answers.bodies] == [1, 3, 5]
    assert answers.bodies[2]["messages"][1] == {"role": "assistant", "content": new_answer(7, 0)}
    assert all(body["system"] == "Be brief." for body in answers.bodies)
    assert result.diff.common == original[:1]
    provenance = result.conversation[1].provenance
    assert provenance is not None
    assert provenance.last is not None
    assert provenance.last.model == OPTIONS["model"]  # the fake's reply, not the old one


@pytest.mark.anyio
async def test_areplay_over_http_equals_replay(
    fake_api: FakeMessagesAPI, adapter: AnthropicAdapter
) -> None:
    """areplay() sends the same requests and gives an equal branch, ids of the fake's
    replies aside (they count the requests)."""
    answers = answering(fake_api, Answers())
    original = dialogue(3)
    first = await areplay(original, adapter)
    second = await anyio.to_thread.run_sync(lambda: replay(original, adapter))
    assert answers.bodies[:2] == answers.bodies[2:]
    assert [t.text for t in first.conversation] == [t.text for t in second.conversation]


def test_two_hundred_dialogues_one_failing(
    fake_api: FakeMessagesAPI, adapter: AnthropicAdapter
) -> None:
    """200 dialogues at 16 at once: the one the API keeps refusing reports its error
    once the adapter's retries are spent (1 + 2 attempts at the server); each other
    dialogue is answered once an exchange, and its result is in its place."""
    answers = answering(fake_api, Answers(failing=137))
    dialogues = [dialogue(n) for n in range(200)]
    results = replay_many(dialogues, adapter, concurrency=16, progress=False)
    assert [r.original for r in results] == dialogues
    assert [n for n, r in enumerate(results) if r.error is not None] == [137]
    assert isinstance(results[137].error, OverloadedError)
    assert results[137].conversation is None
    assert answers.refused == {137: 3}
    assert answers.answered == {(n, k): 1 for n in range(200) if n != 137 for k in range(2)}
    for n, result in enumerate(results):
        if n != 137:
            check_replayed(result, n)


def test_a_shared_prefix_is_marked_on_the_wire(
    fake_api: FakeMessagesAPI, adapter: AnthropicAdapter
) -> None:
    """Dialogues sharing their system prompt: every request marks it as a cache
    breakpoint, as the API receives it."""
    answers = answering(fake_api, Answers())
    replay_many([dialogue(n) for n in range(3)], adapter, progress=False)
    assert len(answers.bodies) == 6
    for body in answers.bodies:
        assert body["system"] == [{"type": "text", "text": "Be brief.", "cache_control": MARK}]


@pytest.fixture
def ctrl_c_interrupts() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt (Python's default) during the test, whatever the
    test runner set."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


TOTAL, EXCHANGES, CONCURRENCY, ANSWERED_BEFORE_STOP = 60, 2, 8, 41


async def interrupted(
    how: str, dialogues: list[Conversation], adapter: AnthropicAdapter, answers: Answers, path: Path
) -> None:
    """Replay ``dialogues`` into the store at ``path`` until every worker waits on a held
    request, then stop the run: a Ctrl-C (a SIGINT in this thread, as a terminal sends
    it), or a cancellation (a program giving up on the run)."""
    with SQLiteStore(path) as store:
        async with anyio.create_task_group() as group:

            async def stop() -> None:
                await anyio.to_thread.run_sync(answers.all_held.wait)
                if how == "ctrl_c":
                    signal.raise_signal(signal.SIGINT)
                else:
                    group.cancel_scope.cancel()

            group.start_soon(stop)
            await areplay_many(
                dialogues, adapter, store=store, concurrency=CONCURRENCY, progress=False
            )
            raise AssertionError("the run was not stopped")


@pytest.mark.parametrize("how", ["ctrl_c", "cancel"])
@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_an_interrupted_run_resumes_each_dialogue_done_once(
    fake_api: FakeMessagesAPI, adapter: AnthropicAdapter, tmp_path: Path, how: str
) -> None:
    """A run stopped in the middle keeps every dialogue it finished in its SQLite file;
    the next run with the same store sends nothing for those and replays the rest.
    Counted at the server, every dialogue's last exchange is answered exactly once over
    the two runs, and every result is whole."""
    dialogues = [dialogue(n, EXCHANGES) for n in range(TOTAL)]
    path = tmp_path / "replays.db"
    answers = answering(
        fake_api, Answers(hold_after=ANSWERED_BEFORE_STOP, held_to_stop=CONCURRENCY)
    )
    if how == "ctrl_c":
        with pytest.raises(KeyboardInterrupt):
            anyio.run(interrupted, how, dialogues, adapter, answers, path)
    else:
        anyio.run(interrupted, how, dialogues, adapter, answers, path)
    assert answers.answered.total() == ANSWERED_BEFORE_STOP
    done_first = answers.done(EXCHANGES)
    assert 0 < len(done_first) < TOTAL
    with SQLiteStore(path) as store:
        assert len(store.names()) == len(done_first)  # each finished dialogue, saved

    answers.next_run()
    with SQLiteStore(path) as store:
        results = replay_many(dialogues, adapter, store=store, concurrency=CONCURRENCY)
    asked_again = {n for (n, _) in answers.answered}
    assert asked_again == set(range(TOTAL)) - done_first
    last_answers = answers.earlier + answers.answered
    assert {n: last_answers[n, EXCHANGES - 1] for n in range(TOTAL)} == dict.fromkeys(
        range(TOTAL), 1
    )
    assert {n for n, r in enumerate(results) if r.resumed} == done_first
    for n, result in enumerate(results):
        check_replayed(result, n, EXCHANGES)
