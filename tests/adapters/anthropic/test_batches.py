"""Message Batches over the loopback fake: submit, poll, cancel, results folded by custom_id."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.anthropic import (
    AnthropicAdapter,
    BadRequestError,
    BatchLimits,
    BatchResult,
    InternalServerError,
    NotFoundError,
    OverloadedError,
)
from conversation import (
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    RuleViolationError,
)
from tests.adapters.anthropic.mocks import KEY, Sleeps, loopback_adapter
from tests.adapters.fake_api import Error, FakeMessagesAPI
from tests.adapters.fake_batches import BATCHES_PATH, FakeBatches, Outcome
from tests.limits import time_limit

OPTIONS = {"model": "claude-sonnet-4-5", "max_tokens": 64}


@pytest.fixture
def waits() -> Sleeps:
    return Sleeps()


@pytest.fixture
def adapter(fake_api: FakeMessagesAPI, waits: Sleeps) -> Iterator[AnthropicAdapter]:
    """An adapter on the fake API; its waits (retries and polls) recorded, not slept."""
    with loopback_adapter(fake_api.base_url, waits, api_key=KEY, default_options=OPTIONS) as made:
        yield made


def corpus(n: int) -> list[Conversation]:
    return [Conversation(system="Be brief.").user(f"Question {i}?") for i in range(n)]


def polls(api: FakeMessagesAPI) -> int:
    return sum(1 for r in api.requests if r.method == "GET" and not r.path.endswith("/results"))


def assert_mixed(results: list[BatchResult], originals: list[Conversation]) -> None:
    """Results of corpus(4) with outcomes succeeded, errored, canceled, expired (in order)."""
    assert [r.original for r in results] == originals
    assert [r.status for r in results] == ["succeeded", "errored", "canceled", "expired"]
    ok, errored, canceled, expired = results
    assert ok.ok
    assert ok.error is None
    assert ok.conversation[:-1] == originals[0]
    assert ok.conversation.last is not None
    assert ok.conversation.last.text == f"reply to {ok.custom_id}"
    assert isinstance(errored.error, OverloadedError)
    assert errored.error.error_type == "overloaded_error"
    assert errored.custom_id in str(errored.error)
    for result in (errored, canceled, expired):
        assert not result.ok
        assert result.conversation is result.original
    assert canceled.error is None
    assert expired.error is None


def mixed(fake: FakeBatches, ids: list[str]) -> None:
    fake.outcomes[ids[1]] = Outcome("errored", error_type="overloaded_error")
    fake.outcomes[ids[2]] = Outcome("canceled")
    fake.outcomes[ids[3]] = Outcome("expired")


class TestOutcomes:
    def test_mixed_outcomes_folded_by_custom_id_in_input_order(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        originals = corpus(4)
        ids = [f"c{i}-{c.id[:24]}" for i, c in enumerate(originals)]
        mixed(fake_batches, ids)
        results = adapter.send_batch(originals)
        assert [r.custom_id for r in results] == ids
        assert_mixed(results, originals)
        # the fake serves the results file in reverse: the order came from the custom_ids
        (create,) = [r for r in fake_api.requests if r.method == "POST"]
        assert [req["custom_id"] for req in create.json["requests"]] == ids

    @pytest.mark.anyio
    async def test_async_twin(self, adapter: AnthropicAdapter, fake_batches: FakeBatches) -> None:
        originals = corpus(4)
        mixed(fake_batches, [f"c{i}-{c.id[:24]}" for i, c in enumerate(originals)])
        fake_batches.polls_to_end = 2
        assert_mixed(await adapter.asend_batch(originals), originals)

    def test_params_are_the_send_body(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        c = Conversation(system="S").user("Hi")
        (result,) = adapter.send_batch({"only": c}, temperature=0.5)
        assert fake_batches.params("only") == c.to_payload(**OPTIONS, temperature=0.5)
        assert result.custom_id == "only"

    def test_failed_requests_can_be_resubmitted(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        originals = corpus(4)
        mixed(fake_batches, [f"c{i}-{c.id[:24]}" for i, c in enumerate(originals)])
        first = adapter.send_batch(originals)
        fake_batches.outcomes.clear()
        again = adapter.send_batch({r.custom_id: r.original for r in first if not r.ok})
        assert [r.custom_id for r in again] == [r.custom_id for r in first[1:]]
        assert all(r.ok for r in again)

    def test_custom_ids_are_stable_and_unique(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        c = Conversation().user("Same")
        first = adapter.send_batch([c, c])
        second = adapter.send_batch([c, c])
        assert [r.custom_id for r in first] == [r.custom_id for r in second]
        assert len({r.custom_id for r in first}) == 2

    @pytest.mark.parametrize(
        "conversations",
        [{"has space": Conversation().user("x")}, {"x" * 65: Conversation().user("x")}, [], "no"],
    )
    def test_bad_input_refused_before_sending(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, conversations: object
    ) -> None:
        with pytest.raises(MalformedInputError):
            adapter.submit_batch(conversations)  # type: ignore[arg-type]
        assert fake_api.requests == []

    def test_rules_checked_for_every_conversation_before_sending(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        with pytest.raises(RuleViolationError):
            adapter.submit_batch([Conversation().user("ok"), Conversation()])
        assert fake_api.requests == []


class TestSplitting:
    def test_split_by_count(self, adapter: AnthropicAdapter, fake_batches: FakeBatches) -> None:
        fake_batches.max_requests = 3
        originals = corpus(7)
        batch = adapter.submit_batch(originals, limits=BatchLimits(max_requests=3))
        assert len(batch.ids) == 3
        assert [len(ids) for ids in fake_batches.created] == [3, 3, 1]
        results = adapter.batch_results(adapter.wait_batch(batch))
        assert [r.original for r in results] == originals
        assert all(r.ok for r in results)

    def test_unsplit_batch_over_the_servers_limit_is_refused(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        fake_batches.max_requests = 3
        with pytest.raises(BadRequestError):
            adapter.submit_batch(corpus(4))

    @given(sizes=st.lists(st.integers(0, 300), min_size=1, max_size=12), room=st.integers(2, 5))
    @settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_split_by_bytes_keeps_each_batch_within_the_limit_and_the_order(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        fake_batches: FakeBatches,
        sizes: list[int],
        room: int,
    ) -> None:
        fake_api.clear()
        originals = [Conversation().user(f"{i}:" + "x" * size) for i, size in enumerate(sizes)]
        limit = 700 * room
        fake_batches.max_bytes = limit
        with time_limit():
            results = adapter.send_batch(originals, limits=BatchLimits(max_bytes=limit))
        creates = [r for r in fake_api.requests if r.method == "POST"]
        assert all(len(r.body) <= limit for r in creates)
        sent = [req["custom_id"] for r in creates for req in r.json["requests"]]
        assert sent == [r.custom_id for r in results]
        assert [r.original for r in results] == originals

    def test_one_request_over_the_byte_limit_is_refused(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI
    ) -> None:
        with pytest.raises(MalformedInputError, match="request 1 alone"):
            adapter.submit_batch(
                [Conversation().user("a"), Conversation().user("b" * 500)],
                limits=BatchLimits(max_bytes=400),
            )
        assert fake_api.requests == []

    def test_limits_checked(self) -> None:
        with pytest.raises(MalformedInputError):
            BatchLimits(max_requests=0)


class TestPolling:
    def test_wait_polls_until_ended_with_backoff(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        fake_batches: FakeBatches,
        waits: Sleeps,
    ) -> None:
        fake_batches.polls_to_end = 4
        batch = adapter.submit_batch(corpus(2))
        assert not batch.ended
        assert batch.parts[0].request_counts["processing"] == 2
        done = adapter.wait_batch(batch, interval=1.0, max_interval=3.0)
        assert done.ended
        assert not batch.ended
        assert polls(fake_api) == 5
        assert waits == [1.0, 2.0, 3.0, 3.0, 3.0]
        assert done.parts[0].request_counts["succeeded"] == 2

    def test_an_ended_batch_is_not_polled(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        fake_batches: FakeBatches,
        waits: Sleeps,
    ) -> None:
        fake_batches.polls_to_end = -1
        batch = adapter.submit_batch(corpus(1))
        assert adapter.wait_batch(batch) is batch
        assert adapter.poll_batch(batch) == batch
        assert polls(fake_api) == 0
        assert waits == []

    def test_only_unfinished_parts_are_polled(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        fake_batches.polls_to_end = 0
        batch = adapter.submit_batch(corpus(4), limits=BatchLimits(max_requests=2))
        once = adapter.poll_batch(batch)
        assert once.ended
        assert adapter.poll_batch(once) == once
        assert polls(fake_api) == 2

    @pytest.mark.anyio
    async def test_async_wait_counts_polls(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        fake_batches: FakeBatches,
        waits: Sleeps,
    ) -> None:
        fake_batches.polls_to_end = 2
        batch = await adapter.asubmit_batch(corpus(3))
        done = await adapter.await_batch(batch, interval=0.5)
        assert done.ended
        assert polls(fake_api) == 3
        assert waits == [0.5, 1.0, 2.0]

    def test_results_before_the_end_are_refused(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        fake_batches.polls_to_end = 3
        with pytest.raises(MalformedInputError, match="wait_batch"):
            adapter.batch_results(adapter.submit_batch(corpus(1)))


class TestCancel:
    def test_cancel_then_wait_gives_canceled_results_untouched(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        fake_batches.polls_to_end = 10
        originals = corpus(3)
        batch = adapter.submit_batch(originals)
        canceling = adapter.cancel_batch(batch)
        assert canceling.parts[0].processing_status == "canceling"
        assert any(r.path == f"{BATCHES_PATH}/{batch.ids[0]}/cancel" for r in fake_api.requests)
        results = adapter.batch_results(adapter.wait_batch(canceling))
        assert [r.status for r in results] == ["canceled"] * 3
        assert [r.conversation for r in results] == originals

    @pytest.mark.anyio
    async def test_async_cancel(self, adapter: AnthropicAdapter, fake_batches: FakeBatches) -> None:
        fake_batches.polls_to_end = 10
        batch = await adapter.acancel_batch(await adapter.asubmit_batch(corpus(2)))
        results = await adapter.abatch_results(await adapter.await_batch(batch))
        assert [r.status for r in results] == ["canceled", "canceled"]


class TestErrors:
    def test_unknown_batch_is_not_found(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        fake_batches.polls_to_end = 1
        batch = adapter.submit_batch(corpus(1))
        fake_api.queue(Error(404, "not_found_error", "no such batch"))
        with pytest.raises(NotFoundError) as caught:
            adapter.poll_batch(batch)
        assert KEY not in str(caught.value)
        assert KEY not in repr(batch)

    def test_server_errors_are_retried_then_raised(
        self,
        adapter: AnthropicAdapter,
        fake_api: FakeMessagesAPI,
        fake_batches: FakeBatches,
        waits: Sleeps,
    ) -> None:
        fake_api.queue(*[Error(500, "api_error")] * 3)
        with pytest.raises(InternalServerError) as caught:
            adapter.submit_batch(corpus(1))
        assert len(fake_api.requests) == 3
        assert len(waits) == 2
        assert KEY not in str(caught.value)
        fake_api.queue(Error(500, "api_error"))
        assert adapter.send_batch(corpus(1))[0].ok

    @pytest.mark.parametrize(
        "line",
        [
            b"not json",
            b"[1, 2]",
            b'{"custom_id": "stranger", "result": {"type": "succeeded"}}',
            b'{"custom_id": "a", "result": {"type": "finished"}}',
            b'{"custom_id": "a", "result": {"type": "succeeded", "message": {"id": 3}}}',
            b'{"custom_id": ["a"], "result": {"type": "expired"}}',
            b"",
        ],
    )
    def test_malformed_results_line(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches, line: bytes
    ) -> None:
        fake_batches.outcomes["a"] = Outcome(line=line)
        with pytest.raises(MalformedReplyError, match=r"result|line"):
            adapter.send_batch({"a": Conversation().user("Hi")})

    @given(line=st.binary(max_size=200))
    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_any_broken_line_is_a_malformed_reply(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches, line: bytes
    ) -> None:
        fake_batches.outcomes["a"] = Outcome(line=line)
        with time_limit(), pytest.raises(MalformedReplyError):
            adapter.send_batch({"a": Conversation().user("Hi")})

    def test_a_line_twice_is_malformed(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        good = {"custom_id": "a", "result": {"type": "expired"}}
        fake_batches.outcomes["a"] = Outcome(line=b"\n".join([json.dumps(good).encode()] * 2))
        with pytest.raises(MalformedReplyError, match="once already"):
            adapter.send_batch({"a": Conversation().user("Hi")})

    def test_errored_result_by_type(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        fake_batches.outcomes["a"] = Outcome("errored")
        (result,) = adapter.send_batch({"a": Conversation().user("Hi")})
        assert isinstance(result.error, BadRequestError)
        assert result.error.status is None
        assert "submit its conversation" in str(result.error)


class TestSecrets:
    def test_the_key_goes_only_in_the_header(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        fake_batches.outcomes["b"] = Outcome("errored")
        batch = adapter.submit_batch(
            {"a": Conversation().user("Hi"), "b": Conversation().user("Ho")}
        )
        results = adapter.batch_results(adapter.wait_batch(batch))
        assert all(r.headers["x-api-key"] == KEY for r in fake_api.requests)
        seen = [r.path + r.body.decode() for r in fake_api.requests]
        seen += [repr(batch), *map(repr, results), str(results[1].error)]
        assert not [text for text in seen if KEY in text]

    def test_a_key_in_an_errored_result_is_masked(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        error = {"type": "error", "error": {"type": "api_error", "message": f"bad key {KEY}"}}
        line = {"custom_id": "a", "result": {"type": "errored", "error": error}}
        fake_batches.outcomes["a"] = Outcome(line=json.dumps(line).encode())
        (result,) = adapter.send_batch({"a": Conversation().user("Hi")})
        assert isinstance(result.error, InternalServerError)
        assert KEY not in str(result.error)
        assert KEY not in (result.error.api_message or "")


class TestOptions:
    def test_betas_go_in_the_create_header_not_the_params(
        self, adapter: AnthropicAdapter, fake_api: FakeMessagesAPI, fake_batches: FakeBatches
    ) -> None:
        adapter.send_batch({"a": Conversation().user("Hi")}, betas=["some-beta-2026"])
        create = fake_api.requests[0]
        assert create.headers["anthropic-beta"] == "some-beta-2026"
        assert "betas" not in fake_batches.params("a")
        assert all("anthropic-beta" not in r.headers for r in fake_api.requests[1:])

    @pytest.mark.parametrize("interval", [-1.0, float("nan"), "5"])
    def test_poll_intervals_checked(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches, interval: object
    ) -> None:
        fake_batches.polls_to_end = -1
        batch = adapter.submit_batch(corpus(1))
        with pytest.raises(MalformedInputError, match="interval"):
            adapter.wait_batch(batch, interval=interval)  # type: ignore[arg-type]

    def test_a_line_of_another_part_is_malformed(
        self, adapter: AnthropicAdapter, fake_batches: FakeBatches
    ) -> None:
        stray = {"custom_id": "b", "result": {"type": "expired"}}
        fake_batches.outcomes["a"] = Outcome(line=json.dumps(stray).encode())
        conversations = {"a": Conversation().user("Hi"), "b": Conversation().user("Ho")}
        with pytest.raises(MalformedReplyError, match="did not send"):
            adapter.send_batch(conversations, limits=BatchLimits(max_requests=1))
