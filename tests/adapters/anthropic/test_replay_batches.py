"""replay_many(..., batch=True) over the loopback fake's Message Batches: a batch a round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.anthropic import AnthropicAdapter, BadRequestError
from adapters.scripted import ScriptedAdapter
from conversation import Conversation, MalformedInputError
from conversation.replay import replay_many
from conversation.store import SQLiteStore
from tests.adapters.anthropic.mocks import KEY, Sleeps, loopback_adapter
from tests.adapters.fake_api import FakeMessagesAPI
from tests.adapters.fake_batches import FakeBatches, Outcome

OPTIONS = {"model": "claude-sonnet-4-5", "max_tokens": 64}


@pytest.fixture
def adapter(fake_api: FakeMessagesAPI, fake_batches: FakeBatches) -> Iterator[AnthropicAdapter]:
    fake_batches.polls_to_end = 1
    with loopback_adapter(fake_api.base_url, Sleeps(), api_key=KEY, default_options=OPTIONS) as a:
        yield a


def dialogue(rounds: int, tag: str) -> Conversation:
    c = Conversation(system="Be brief.")
    for n in range(rounds):
        c = c.user(f"{tag} question {n}")
        c = c.fold({"content": [{"type": "text", "text": f"old {n}"}], "model": "old-model"})
    return c


def test_a_batch_a_round_each_reply_in_its_dialogue(
    adapter: AnthropicAdapter, fake_batches: FakeBatches
) -> None:
    originals = [dialogue(2, "a"), dialogue(1, "b"), dialogue(3, "c")]
    results = replay_many(originals, adapter, batch=True, progress=False, cache_shared=False)
    assert fake_batches.created == [["r0", "r1", "r2"], ["r0", "r2"], ["r2"]]
    assert [r.original for r in results] == originals
    for index, (result, original) in enumerate(zip(results, originals, strict=True)):
        assert result.complete
        assert result.conversation is not None
        assert [t.text for t in result.conversation if t.role == "user"] == [
            t.text for t in original if t.role == "user"
        ]
        replies = [t.text for t in result.conversation if t.role == "assistant"]
        assert replies == [f"reply to r{index}"] * len(replies)


def test_a_failed_request_fails_its_dialogue_only(
    adapter: AnthropicAdapter, fake_batches: FakeBatches
) -> None:
    fake_batches.outcomes["r0"] = Outcome("errored")
    fake_batches.outcomes["r1"] = Outcome("expired")
    originals = [dialogue(2, "a"), dialogue(2, "b"), dialogue(2, "c")]
    results = replay_many(originals, adapter, batch=True, progress=False)
    assert isinstance(results[0].error, BadRequestError)
    assert "expired" in str(results[1].error)
    assert results[2].complete
    assert fake_batches.created[1] == ["r2"]


def test_resumed_from_the_store(
    adapter: AnthropicAdapter, fake_batches: FakeBatches, tmp_path: Path
) -> None:
    originals = [dialogue(1, "a"), dialogue(2, "b")]
    with SQLiteStore(tmp_path / "replays.db") as store:
        first = replay_many(originals, adapter, batch=True, progress=False, store=store)
        created = len(fake_batches.created)
        again = replay_many(originals, adapter, batch=True, progress=False, store=store)
    assert created == 2
    assert len(fake_batches.created) == created
    assert all(r.resumed for r in again)
    assert [r.conversation for r in again] == [r.conversation for r in first]


def test_needs_an_adapter_with_batches_and_no_tools(adapter: AnthropicAdapter) -> None:
    with pytest.raises(MalformedInputError, match="asend_batch"):
        replay_many([dialogue(1, "a")], ScriptedAdapter(["x"]), batch=True, progress=False)
    with pytest.raises(MalformedInputError, match="tools"):
        replay_many([dialogue(1, "a")], adapter, batch=True, progress=False, tools=[])
