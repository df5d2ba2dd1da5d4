"""Tests for adapters._http._accumulate: stream events folded into the reply they spell."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    TextDelta,
    ThinkingDelta,
)
from adapters._http._accumulate import Accumulator
from conversation import (
    Block,
    Conversation,
    MalformedReplyError,
    Reply,
    Text,
    Thinking,
    ToolUse,
    converter,
)
from tests.adapters.anthropic.streams import Events, block_events
from tests.adapters.fake_api import make_message, stream_events
from tests.strategies import fake_streamable_replies, reply_dicts

CHAT = Conversation().user("Hello")
STREAMED_INPUT = ("tool_use", "server_tool_use")


# --- an event-sequence builder of our own: split points anywhere ---------------------------


def _cut(draw: st.DrawFn, text: str) -> list[str]:
    """``text`` in pieces cut anywhere (empty pieces included); joined, they are ``text``."""
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
    points = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(points)]


def _block_events(draw: st.DrawFn, block: dict[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """A block's content_block_start payload and deltas, split at drawn points."""
    kind = block["type"]
    if kind == "text":
        start = {**block, "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in _cut(draw, block["text"])]
        citations = block.get("citations")
        if isinstance(citations, list):
            start["citations"] = []
            # Interleaved with the text (as the API may send them), in their order.
            places = sorted(draw(st.integers(0, len(deltas))) for _ in citations)
            for shift, (at, citation) in enumerate(zip(places, citations, strict=True)):
                deltas.insert(at + shift, {"type": "citations_delta", "citation": citation})
        return start, deltas
    if kind == "thinking":
        start = {**block, "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": p} for p in _cut(draw, block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
        return start, deltas
    if kind in STREAMED_INPUT:
        start = {**block, "input": {}}
        encoded = orjson.dumps(block["input"]).decode() if block["input"] else ""
        pieces = _cut(draw, encoded) if encoded else draw(st.sampled_from([[], [""]]))
        return start, [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    return block, []  # arrives whole


@st.composite
def streams(draw: st.DrawFn) -> tuple[dict[str, Any], Events]:
    """A final Message (any blocks) and an event sequence that spells it, split anywhere."""
    message = draw(reply_dicts())
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": 1}
    events: Events = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        block_start, deltas = _block_events(draw, block)
        events += block_events(index, block_start, deltas)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message["stop_sequence"]}
    if "stop_details" in message:
        delta["stop_details"] = message["stop_details"]
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": delta,
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    for _ in range(draw(st.integers(0, 3))):  # pings anywhere after message_start
        events.insert(draw(st.integers(1, len(events) - 1)), ("ping", {"type": "ping"}))
    return message, events


def feed_into(accumulator: Accumulator, events: Events) -> None:
    for name, data in events:
        accumulator.feed(name, data)


def feed_all(events: Events) -> tuple[Accumulator, list[Any]]:
    accumulator = Accumulator()
    typed = [accumulator.feed(name, data) for name, data in events]
    return accumulator, [event for event in typed if event is not None]


def _block(data: dict[str, Any]) -> Block:
    return converter.structure(data, Block)  # type: ignore[arg-type]


# --- the final message ------------------------------------------------------------------------


class TestFinal:
    @given(streams())
    def test_reproduces_the_final_message_exactly(
        self, case: tuple[dict[str, Any], Events]
    ) -> None:
        """Text, tool input split anywhere, thinking, signatures, citations, usage: all back."""
        message, events = case
        accumulator, typed = feed_all(events)
        assert accumulator.done
        assert accumulator.final() == message
        stop = typed[-1]
        assert isinstance(stop, MessageStop)
        assert stop.reply == converter.structure(message, Reply)
        assert CHAT.fold(stop.reply) == CHAT.fold(message)

    @given(fake_streamable_replies())
    def test_the_fake_apis_event_sequence(self, message: dict[str, Any]) -> None:
        """The exact event sequence the fake API serves accumulates to its message too."""
        accumulator, _ = feed_all(stream_events(message, text_chunk=3))
        assert accumulator.final() == message

    @given(streams())
    def test_typed_events_match_the_blocks(self, case: tuple[dict[str, Any], Events]) -> None:
        """Each block starts, streams its deltas and stops; joined deltas give its content."""
        message, events = case
        _, typed = feed_all(events)
        assert typed[0] == MessageStart(message["id"], message["model"])
        stops = [e for e in typed if isinstance(e, BlockStop)]
        assert [e.index for e in stops] == list(range(len(message["content"])))
        assert [e.block for e in stops] == [_block(b) for b in message["content"]]
        starts = [e for e in typed if isinstance(e, BlockStart)]
        assert [e.index for e in starts] == [e.index for e in stops]
        for index, block in enumerate(message["content"]):
            if block["type"] == "text":
                texts = [e.text for e in typed if isinstance(e, TextDelta) and e.index == index]
                assert "".join(texts) == block["text"]
            elif block["type"] == "thinking":
                parts = [
                    e.thinking for e in typed if isinstance(e, ThinkingDelta) and e.index == index
                ]
                assert "".join(parts) == block["thinking"]
            elif block["type"] in STREAMED_INPUT:
                fragments = [
                    e.partial_json
                    for e in typed
                    if isinstance(e, InputJsonDelta) and e.index == index
                ]
                joined = "".join(fragments)
                assert (orjson.loads(joined) if joined else {}) == block["input"]

    @given(streams())
    def test_events_are_not_changed(self, case: tuple[dict[str, Any], Events]) -> None:
        """The accumulator copies what it keeps: the caller's event dicts stay as they were."""
        _, events = case
        before = copy.deepcopy(events)
        feed_all(events)
        assert events == before

    def test_text_example_of_the_reference(self) -> None:
        """The API documentation's example stream: two text deltas and a ping."""
        accumulator, typed = feed_all(stream_events(make_message("Hello!"), text_chunk=5))
        assert accumulator.final()["content"] == [{"type": "text", "text": "Hello!"}]
        assert [e.text for e in typed if isinstance(e, TextDelta)] == ["Hello", "!"]


# --- the partial reply ------------------------------------------------------------------------


class TestPartial:
    @given(streams())
    def test_partial_at_every_cut_point(self, case: tuple[dict[str, Any], Events]) -> None:
        """After any prefix of the events, partial() is a reply that folds as interrupted.

        Its finished blocks are the final ones; the block in progress is a prefix
        of its final self (or left out); no unsigned thinking survives resumable().
        """
        message, events = case
        final = message["content"]
        accumulator = Accumulator()
        assert accumulator.partial() is None
        stopped = 0
        ended = False
        for name, data in events[:-1]:  # every point before message_stop
            accumulator.feed(name, data)
            stopped += name == "content_block_stop"
            ended = ended or name == "message_delta"
            partial = accumulator.partial()
            assert partial is not None
            # The stop reason is known once message_delta gave it, not before.
            assert partial["stop_reason"] == (message["stop_reason"] if ended else None)
            assert partial["stop_sequence"] == (message["stop_sequence"] if ended else None)
            content = partial["content"]
            assert content[:stopped] == final[:stopped]
            assert len(content) <= stopped + 1
            if len(content) == stopped + 1:
                _check_in_progress(content[-1], final[stopped])
            folded = CHAT.fold(partial, interrupted=True)
            last = folded.last
            assert last is not None
            assert last.role == "assistant"
            assert last.provenance is not None
            assert last.provenance.interrupted
            resumed = folded.resumable()
            for turn in resumed:
                assert not any(type(b) is Thinking and not b.signature for b in turn.blocks)

    def test_thinking_cut_before_its_signature(self) -> None:
        """The unsigned thinking is kept in the interrupted turn; resumable() drops it."""
        message = {
            **make_message("The answer is 4."),
            "content": [
                {"type": "thinking", "thinking": "2 + 2 = 4, surely.", "signature": "c2ln"},
                {"type": "text", "text": "The answer is 4."},
            ],
        }
        events = stream_events(message, text_chunk=4)
        signature_at = next(
            i
            for i, (_, data) in enumerate(events)
            if data.get("delta", {}).get("type") == "signature_delta"
        )
        accumulator, _ = feed_all(events[:signature_at])
        partial = accumulator.partial()
        assert partial is not None
        assert partial["content"] == [
            {"type": "thinking", "thinking": "2 + 2 = 4, surely.", "signature": ""}
        ]
        folded = CHAT.fold(partial, interrupted=True)
        assert folded.last is not None
        assert folded.last.blocks == (Thinking("2 + 2 = 4, surely.", ""),)
        assert folded.last.provenance is not None
        assert folded.last.provenance.interrupted
        assert folded.resumable() == CHAT

    def test_signed_thinking_then_cut_text(self) -> None:
        """A thinking block whose signature arrived is kept by resumable(); so is the text."""
        message = {
            **make_message(),
            "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "c2ln"},
                {"type": "text", "text": "Paris is the capital."},
            ],
        }
        events = stream_events(message, text_chunk=6)
        accumulator, _ = feed_all(events[:-5])  # inside the text
        partial = accumulator.partial()
        assert partial is not None
        resumed = CHAT.fold(partial, interrupted=True).resumable()
        assert resumed.last is not None
        assert resumed.last.blocks[0] == Thinking("hmm", "c2ln")
        assert isinstance(resumed.last.blocks[1], Text)
        assert "Paris is the capital.".startswith(resumed.last.blocks[1].text)

    def test_tool_call_cut_inside_its_input_keeps_what_arrived(self) -> None:
        """Arguments cut off are kept as the JSON text that arrived, as ``partial_json``."""
        message = {
            **make_message(),
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"city": "Paris"}},
            ],
            "stop_reason": "tool_use",
        }
        events = stream_events(message, text_chunk=4)
        stop_at = max(i for i, (name, _) in enumerate(events) if name == "content_block_stop")
        accumulator, _ = feed_all(events[: stop_at - 1])  # the last fragment never came
        partial = accumulator.partial()
        assert partial is not None
        fragments = "".join(
            data["delta"]["partial_json"]
            for name, data in events[: stop_at - 1]
            if name == "content_block_delta" and data["index"] == 1
        )
        assert '{"city": "Paris"}'.startswith(fragments)
        assert fragments != '{"city": "Paris"}'
        assert partial["content"] == [
            {"type": "text", "text": "Checking."},
            {
                "type": "tool_use",
                "id": "toolu_1",
                "name": "w",
                "input": {},
                "partial_json": fragments,
            },
        ]
        folded = CHAT.fold(partial, interrupted=True)
        assert folded.last is not None
        assert converter.unstructure(folded.last.blocks[1]) == {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "w",
            "input": {},
            "partial_json": fragments,
        }
        assert Conversation.loads(folded.dumps()) == folded
        assert folded.resumable().last is not None
        assert folded.resumable().last.blocks == (Text("Checking."),)  # type: ignore[union-attr]
        accumulator.feed(*events[stop_at - 1])  # now the JSON is whole, the stop still missing
        partial = accumulator.partial()
        assert partial is not None
        assert partial["content"][1]["input"] == {"city": "Paris"}

    def test_nothing_arrived_but_message_start(self) -> None:
        accumulator, _ = feed_all(stream_events(make_message())[:1])
        partial = accumulator.partial()
        assert partial is not None
        assert partial["content"] == []
        assert partial["id"] == "msg_fake_0000"


def _check_in_progress(partial: dict[str, Any], final: dict[str, Any]) -> None:
    """The block in progress is its final self, cut short."""
    assert partial["type"] == final["type"]
    if final["type"] == "text":
        assert final["text"].startswith(partial["text"])
        assert (final.get("citations") or [])[: len(partial.get("citations") or [])] == (
            partial.get("citations") or []
        )
    elif final["type"] == "thinking":
        assert final["thinking"].startswith(partial["thinking"])
        assert partial["signature"] in ("", final["signature"])
    elif "partial_json" in partial:  # a tool call cut inside its input: the text that arrived
        arrived = partial.pop("partial_json")
        assert isinstance(arrived, str)
        assert partial == {**final, "input": {}}
        assert orjson.dumps(final["input"]).decode().startswith(arrived) or not final["input"]
    else:
        assert partial == final


# --- message_delta ------------------------------------------------------------------------------


def _started(**message: Any) -> Accumulator:
    accumulator = Accumulator()
    base: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [],
        "model": "m",
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 5, "output_tokens": 1},
    }
    accumulator.feed("message_start", {"type": "message_start", "message": {**base, **message}})
    return accumulator


class TestMessageDelta:
    def test_usage_counts_are_overwritten_not_added(self) -> None:
        """Counts are cumulative totals; null or absent ones keep the message_start value."""
        accumulator = _started()
        for output in (3, 9):
            accumulator.feed(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": output, "cache_read_input_tokens": None},
                },
            )
        accumulator.feed("message_stop", {"type": "message_stop"})
        final = accumulator.final()
        assert final["usage"] == {
            "input_tokens": 10,
            "cache_read_input_tokens": 5,
            "output_tokens": 9,
        }
        assert final["stop_reason"] == "end_turn"

    def test_newer_delta_fields_are_kept(self) -> None:
        """stop_details, container (a null container keeps the known one), newer fields."""
        accumulator = _started(container={"id": "c1"})
        accumulator.feed(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {
                    "stop_reason": "refusal",
                    "stop_sequence": None,
                    "stop_details": {"type": "refusal"},
                    "container": None,
                    "content": "not allowed to replace content",
                },
                "usage": {"output_tokens": 2, "server_tool_use": {"web_search_requests": 1}},
            },
        )
        accumulator.feed("message_stop", {"type": "message_stop"})
        final = accumulator.final()
        assert final["stop_details"] == {"type": "refusal"}
        assert final["container"] == {"id": "c1"}
        assert final["content"] == []
        assert final["usage"]["server_tool_use"] == {"web_search_requests": 1}


# --- protocol errors -------------------------------------------------------------------------


def _delta(index: Any, delta: Any) -> tuple[str, dict[str, Any]]:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _start(index: Any, block: Any) -> tuple[str, dict[str, Any]]:
    return (
        "content_block_start",
        {"type": "content_block_start", "index": index, "content_block": block},
    )


def _stop(index: Any) -> tuple[str, dict[str, Any]]:
    return ("content_block_stop", {"type": "content_block_stop", "index": index})


TEXT_START = _start(0, {"type": "text", "text": ""})
TOOL_START = _start(0, {"type": "tool_use", "id": "t", "name": "n", "input": {}})


class TestProtocolErrors:
    @pytest.mark.parametrize(
        ("events", "match"),
        [
            ([TEXT_START], "before message_start"),
            ([("message_stop", {"type": "message_stop"})], "before message_start"),
            ([_delta(0, {"type": "text_delta", "text": "x"})], "before message_start"),
        ],
    )
    def test_before_message_start(self, events: Events, match: str) -> None:
        accumulator = Accumulator()
        with pytest.raises(MalformedReplyError, match=match):
            feed_into(accumulator, events)

    @pytest.mark.parametrize(
        ("events", "match"),
        [
            pytest.param([_delta(0, {"type": "text_delta", "text": "x"})], "not an open", id="no"),
            pytest.param(
                [TEXT_START, _delta(1, {"type": "text_delta", "text": "x"})],
                "block 1, which is not an open block",
                id="unknown-index",
            ),
            pytest.param(
                [TEXT_START, _delta("0", {"type": "text_delta", "text": "x"})],
                "not an open block",
                id="string-index",
            ),
            pytest.param(
                [TEXT_START, _delta([0], {"type": "text_delta", "text": "x"})],
                "not an open block",
                id="list-index",
            ),
            pytest.param(
                [TEXT_START, _stop(0), _delta(0, {"type": "text_delta", "text": "x"})],
                "not an open block",
                id="after-stop",
            ),
            pytest.param(
                [TEXT_START, _delta(0, {"type": "input_json_delta", "partial_json": "{"})],
                "a 'text' block",
                id="wrong-kind",
            ),
            pytest.param(
                [TOOL_START, _delta(0, {"type": "text_delta", "text": "x"})],
                "a 'tool_use' block",
                id="text-into-tool",
            ),
            pytest.param(
                [TEXT_START, _delta(0, {"type": "signature_delta", "signature": "s"})],
                "a 'text' block",
                id="signature-into-text",
            ),
            pytest.param(
                [TEXT_START, _delta(0, {"type": "text_delta"})], "has no 'text'", id="no-text"
            ),
            pytest.param(
                [TEXT_START, _delta(0, {"type": "text_delta", "text": 5})],
                "not a string",
                id="text-not-str",
            ),
            pytest.param([TEXT_START, _delta(0, "text")], "needs a 'delta' object", id="delta"),
            pytest.param([TEXT_START, _delta(0, {"text": "x"})], "with a 'type'", id="no-type"),
            pytest.param(
                [
                    TOOL_START,
                    _delta(0, {"type": "input_json_delta", "partial_json": '{"a":'}),
                    _stop(0),
                ],
                "input of tool call block 0 is not JSON",
                id="bad-json",
            ),
            pytest.param(
                [
                    TOOL_START,
                    _delta(0, {"type": "input_json_delta", "partial_json": "[1]"}),
                    _stop(0),
                ],
                "content block 0",
                id="input-not-object",
            ),
            pytest.param(
                [_start(1, {"type": "text", "text": ""})], "next block is index 0", id="gap"
            ),
            pytest.param([TEXT_START, TEXT_START], "next block is index 1", id="twice"),
            pytest.param([_start(0, "text")], "needs a block with a 'type'", id="block-not-dict"),
            pytest.param([_start(0, {"type": "text", "text": 1})], "not a string", id="text-1"),
            pytest.param([_stop(0)], "not an open block", id="stop-unknown"),
            pytest.param([TEXT_START, _stop(0), _stop(0)], "not an open block", id="stop-twice"),
            pytest.param([TEXT_START, ("message_stop", {})], "still open", id="open-at-end"),
            pytest.param(
                [("message_start", {"type": "message_start", "message": {"content": []}})],
                "second message_start",
                id="second-start",
            ),
        ],
    )
    def test_malformed(self, events: Events, match: str) -> None:
        """A clear MalformedReplyError, never a KeyError or TypeError."""
        accumulator = _started()
        with pytest.raises(MalformedReplyError, match=match):
            feed_into(accumulator, events)

    @pytest.mark.parametrize(
        "message",
        [None, "msg", {"content": "x"}, {"content": [], "id": 5}, {"content": [], "model": 1}],
    )
    def test_bad_message_start(self, message: Any) -> None:
        with pytest.raises(MalformedReplyError, match="message_start"):
            Accumulator().feed("message_start", {"type": "message_start", "message": message})

    def test_after_message_stop(self) -> None:
        accumulator = _started()
        accumulator.feed("message_stop", {"type": "message_stop"})
        with pytest.raises(MalformedReplyError, match="after message_stop"):
            accumulator.feed(*TEXT_START)

    def test_final_before_the_end(self) -> None:
        with pytest.raises(MalformedReplyError, match="not complete"):
            _started().final()

    def test_unreadable_reply_metadata(self) -> None:
        """A usage the library cannot read fails at message_stop, clearly."""
        accumulator = _started(usage={"input_tokens": "many"})
        with pytest.raises(MalformedReplyError, match="malformed stream"):
            accumulator.feed("message_stop", {"type": "message_stop"})

    def test_unknown_events_are_skipped_and_unknown_deltas_applied(self) -> None:
        """The API may add event and delta types; a stream with them still reads.

        A delta type this library does not know is applied by the generic rule
        (its non-``type`` fields: a string appends, anything else replaces).
        """
        accumulator = _started()
        assert accumulator.feed("ping", {"type": "ping"}) is None
        assert accumulator.feed("x_new_event", {"type": "x_new_event"}) is None
        accumulator.feed(*TEXT_START)
        assert accumulator.feed(*_delta(0, {"type": "x_new_delta", "v": 1})) is None
        accumulator.feed(*_delta(0, {"type": "text_delta", "text": "ok"}))
        accumulator.feed(*_stop(0))
        stop = accumulator.feed("message_stop", {"type": "message_stop"})
        assert isinstance(stop, MessageStop)
        assert [converter.unstructure(b) for b in stop.reply.content] == [
            {"type": "text", "text": "ok", "v": 1}
        ]

    def test_tool_without_arguments(self) -> None:
        """No input_json_delta (or only empty ones): the input stays {}."""
        accumulator = _started()
        accumulator.feed(*TOOL_START)
        accumulator.feed(*_delta(0, {"type": "input_json_delta", "partial_json": ""}))
        stop = accumulator.feed(*_stop(0))
        assert stop == BlockStop(0, ToolUse("t", "n", {}))


# --- the generic delta rule -----------------------------------------------------------------

_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)


@st.composite
def generic_blocks(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """A block of a type this library does not know, its start, and newer deltas that spell it.

    Its string fields start empty or null and arrive in pieces, its lists
    start empty and arrive in chunks, its other fields arrive whole in one delta.
    """
    kind = "x_" + draw(st.text("abcdefgh", min_size=1, max_size=6))
    strings = draw(st.dictionaries(st.sampled_from(["body", "note"]), st.text(max_size=20)))
    lists = draw(
        st.dictionaries(st.sampled_from(["items", "refs"]), st.lists(_SCALARS, max_size=5))
    )
    others = draw(
        st.dictionaries(
            st.sampled_from(["meta", "n"]),
            _SCALARS | st.dictionaries(st.text(max_size=3), _SCALARS, max_size=2),
        )
    )
    block = {"type": kind, **strings, **lists, **others}
    start: dict[str, Any] = {"type": kind, **{key: [] for key in lists}}
    start.update((key, draw(st.sampled_from(["", None]))) for key in strings)
    parts: dict[str, list[Any]] = {key: _cut(draw, text) for key, text in strings.items()}
    for key, items in lists.items():
        cuts = sorted(draw(st.lists(st.integers(0, len(items)), max_size=3)))
        points = [0, *cuts, len(items)]
        parts[key] = [items[a:b] for a, b in itertools.pairwise(points)]
    count = max([1, *(len(p) for p in parts.values())])
    deltas: list[dict[str, Any]] = [{"type": f"{kind}_delta"} for _ in range(count)]
    for key, pieces in parts.items():
        for delta, piece in zip(deltas, pieces, strict=False):
            delta[key] = piece
    for key, value in others.items():
        deltas[draw(st.integers(0, count - 1))][key] = value
    return block, start, deltas


class TestGenericDeltaRule:
    @given(generic_blocks())
    def test_newer_deltas_spell_their_block(
        self, case: tuple[dict[str, Any], dict[str, Any], list[Any]]
    ) -> None:
        """Strings append, lists extend, other values replace: the block comes back whole."""
        block, start, deltas = case
        accumulator = _started()
        accumulator.feed(*_start(0, start))
        for delta in deltas:
            assert accumulator.feed(*_delta(0, delta)) is None
        accumulator.feed(*_stop(0))
        accumulator.feed("message_stop", {"type": "message_stop"})
        final = accumulator.final()
        assert final["content"] == [block]
        assert CHAT.fold(final) == CHAT.fold({**final, "content": [copy.deepcopy(block)]})

    def test_newer_delta_on_a_text_block(self) -> None:
        """A newer delta that carries ``text`` appends to the text like a text_delta."""
        accumulator = _started()
        accumulator.feed(*TEXT_START)
        accumulator.feed(*_delta(0, {"type": "text_delta", "text": "Hel"}))
        accumulator.feed(*_delta(0, {"type": "x_text_delta", "text": "lo", "tags": ["a"]}))
        accumulator.feed(*_delta(0, {"type": "x_text_delta", "tags": ["b"]}))
        stop = accumulator.feed(*_stop(0))
        assert isinstance(stop, BlockStop)
        assert converter.unstructure(stop.block) == {
            "type": "text",
            "text": "Hello",
            "tags": ["a", "b"],
        }
        started = _started()
        started.feed(*_start(0, {"type": "thinking", "thinking": "", "signature": ""}))
        with pytest.raises(MalformedReplyError, match="sets its 'thinking' to a non-string"):
            started.feed(*_delta(0, {"type": "x_delta", "thinking": 5}))

    def test_compaction_delta_replaces(self) -> None:
        """compaction_delta sets the fields it carries (as the SDK does); others stay."""
        accumulator = _started()
        accumulator.feed(*_start(0, {"type": "compaction", "content": None}))
        accumulator.feed(*_delta(0, {"type": "compaction_delta", "content": "Summary."}))
        stop = accumulator.feed(*_stop(0))
        assert isinstance(stop, BlockStop)
        assert converter.unstructure(stop.block) == {"type": "compaction", "content": "Summary."}
