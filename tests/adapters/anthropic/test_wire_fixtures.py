"""Every real reply in ``../shared/wire-fixtures/`` through both paths: streamed and sent whole.

The promise: ``stream.conversation`` equals what ``send`` returns, that is
``conversation.fold(final_message)``, for any reply the API can send. Each
streamed body (``.sse``, and the SDKs' ``.txt`` bodies) is served byte for byte
by the loopback fake and read with ``AnthropicAdapter.stream`` and ``astream``;
each JSON reply is served whole to ``send`` and, as the event sequence the API
would stream for it, to both streams. Every fold must be equal, lossless (the
folded turn's blocks written back are the reply's content, field for field),
and survive ``Conversation.loads(c.dumps())``. Streamed bodies are also checked
against the official SDK's own accumulation of the same events, and JSON
replies are folded once more as the SDK's ``Message`` and ``BetaMessage``.

The fixtures are read from ``../shared`` when it is there (these tests skip
otherwise); the small inline fixtures at the end run without it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterable, Iterable
from pathlib import Path
from typing import Any, cast

import anyio
import pydantic
import pytest
from anthropic._models import construct_type
from anthropic.lib.streaming._beta_messages import accumulate_event as sdk_accumulate
from anthropic.types import Message
from anthropic.types.beta import BetaMessage

from adapters import StreamInterruptedError
from adapters._http._accumulate import Accumulator
from adapters.anthropic import AnthropicAdapter
from conversation import Conversation, converter
from tests.adapters.anthropic.streams import Events, block_events
from tests.adapters.fake_api import FakeMessagesAPI, Malformed, Reply, Stream, stream_events

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "wire-fixtures"
CHAT = Conversation(system="Be brief.").user("Hello")
OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 1024}
SSE_TYPE = "text/event-stream; charset=utf-8"
# The SDKs' recorded bodies that end without a blank line after their message_stop.
ENDING_WITHOUT_A_BLANK_LINE = [
    f"sdk_streams/{name}_response.txt"
    for name in ("basic", "compaction", "fallback_credit", "fallback", "refusal", "tool_use")
]


def _fixtures(kind: str) -> list[Any]:
    """The fixture files of one kind (``sse`` bodies or ``json`` replies), by relative name."""
    if not SHARED.is_dir():
        return [pytest.param("", marks=pytest.mark.skip(reason=f"{SHARED} is absent"))]
    names = []
    for path in sorted(SHARED.rglob("*")):
        if not path.is_file() or path.name.startswith("README"):
            continue
        is_json = path.suffix == ".json"
        if is_json == (kind == "json"):
            names.append(path.relative_to(SHARED).as_posix())
    return names


# --- helpers ------------------------------------------------------------------------------


def parse_sse(body: bytes) -> Events:
    """The (event name, data) pairs of an SSE body (a plain reader of its own, for the oracle).

    An event is dispatched by the blank line that ends it, or by the end of the
    body (as the official SDK's reader and the library's do): some of the
    SDKs' fixture files end ``data: {"type":"message_stop"}`` without one.
    """
    events: Events = []
    name, data = "", list[str]()
    for line in [*body.decode("utf-8").splitlines(), ""]:
        if not line:
            if data:
                events.append((name or "message", json.loads("\n".join(data))))
            name, data = "", []
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))
    return events


def accumulate(events: Events) -> Accumulator:
    """An Accumulator fed ``events`` up to the first it refuses (the stream stops there too)."""
    accumulator = Accumulator()
    for name, data in events:
        try:
            accumulator.feed(name, data)
        except Exception:
            break
    return accumulator


def wire_content(conversation: Conversation) -> list[dict[str, Any]]:
    """The last turn's blocks as wire dicts (JSON-normalized, to compare with a reply's content)."""
    last = conversation.last
    assert last is not None
    blocks = [converter.unstructure(block) for block in last.blocks]
    loaded: list[dict[str, Any]] = json.loads(json.dumps(blocks))
    return loaded


def same_fold(got: Conversation, expected: Conversation) -> None:
    """``got`` equals ``expected``, and so does the provenance of its last turn."""
    assert got == expected
    assert got.last is not None
    assert expected.last is not None
    assert got.last.provenance == expected.last.provenance


def check_saved(conversation: Conversation) -> None:
    """The conversation survives the save format unchanged, provenance included."""
    same_fold(Conversation.loads(conversation.dumps()), conversation)


def stream_sync(api: FakeMessagesAPI, answer: Stream | Malformed) -> Conversation:
    api.queue(answer)
    with AnthropicAdapter(api_key="test", base_url=api.base_url) as adapter:
        stream = adapter.stream(CHAT, **OPTIONS)
        with stream:
            _drain(stream)
    return stream.conversation


async def stream_async(api: FakeMessagesAPI, answer: Stream | Malformed) -> Conversation:
    api.queue(answer)
    async with AnthropicAdapter(api_key="test", base_url=api.base_url) as adapter:
        stream = adapter.astream(CHAT, **OPTIONS)
        async with stream:
            async for _ in stream:
                pass
        return stream.conversation


def interrupted_sync(api: FakeMessagesAPI, answer: Stream | Malformed) -> Conversation:
    return interruption_sync(api, answer).conversation


def interruption_sync(api: FakeMessagesAPI, answer: Stream | Malformed) -> StreamInterruptedError:
    api.queue(answer)
    with AnthropicAdapter(api_key="test", base_url=api.base_url) as adapter:
        stream = adapter.stream(CHAT, **OPTIONS)
        with pytest.raises(StreamInterruptedError) as info:
            _drain(stream)
    return info.value


def _drain(stream: Iterable[object]) -> None:
    for _ in stream:
        pass


async def interrupted_async(api: FakeMessagesAPI, answer: Stream | Malformed) -> Conversation:
    return (await interruption_async(api, answer)).conversation


async def interruption_async(
    api: FakeMessagesAPI, answer: Stream | Malformed
) -> StreamInterruptedError:
    api.queue(answer)
    async with AnthropicAdapter(api_key="test", base_url=api.base_url) as adapter:
        stream = adapter.astream(CHAT, **OPTIONS)
        with pytest.raises(StreamInterruptedError) as info:
            await _adrain(stream)
    return info.value


async def _adrain(stream: AsyncIterable[object]) -> None:
    async for _ in stream:
        pass


def sse_body(events: Events) -> bytes:
    return b"".join(
        b"event: %s\ndata: %s\n\n" % (name.encode(), json.dumps(data).encode())
        for name, data in events
    )


def expected_whole(final: dict[str, Any]) -> Conversation:
    """What ``send`` returns for ``final``: its fold, which must keep its content exactly."""
    folded = CHAT.fold(copy.deepcopy(final))
    assert wire_content(folded) == json.loads(json.dumps(final["content"]))
    check_saved(folded)
    return folded


def expected_cut(events: Events) -> Conversation:
    """What a stream of ``events`` that never ended whole leaves: what arrived, interrupted."""
    accumulator = accumulate(events)
    assert not accumulator.done
    partial = accumulator.partial()
    assert partial is not None
    folded = CHAT.fold(copy.deepcopy(partial), interrupted=True)
    last = folded.last
    assert last is not None
    assert last.provenance is not None
    assert last.provenance.interrupted
    assert last.provenance.stop_reason == partial.get("stop_reason")
    check_saved(folded)
    return folded


def sdk_snapshot(events: Events) -> dict[str, Any]:
    """The official SDK's accumulation of ``events`` (its beta accumulator), as wire JSON."""
    snapshot: Any = None
    buffers: dict[int, bytes] = {}
    for name, data in events:
        if name in ("ping", "error"):
            continue
        snapshot = sdk_accumulate(
            event=cast(Any, data),
            current_snapshot=snapshot,
            json_bufs=buffers,
            request_headers=cast(Any, None),
        )
    dumped: dict[str, Any] = snapshot.model_dump(
        mode="json", by_alias=True, exclude_unset=True, warnings=False
    )
    return dumped


def without_sdk_nulls(sdk: Any, ours: Any) -> Any:
    """``sdk`` without the nulls the SDK's accumulator sets on fields the API never sent.

    It assigns ``stop_details`` at every ``message_delta`` and a compaction
    block's ``encrypted_content`` at its delta, present or not.
    """
    if isinstance(sdk, dict) and isinstance(ours, dict):
        return {
            k: without_sdk_nulls(v, ours.get(k))
            for k, v in sdk.items()
            if not (v is None and k not in ours)
        }
    if isinstance(sdk, list) and isinstance(ours, list) and len(sdk) == len(ours):
        return [without_sdk_nulls(a, b) for a, b in zip(sdk, ours, strict=True)]
    return sdk


def synthesized_events(message: dict[str, Any]) -> Events:
    """The events the API streams for ``message``: the fake's sequence, plus what it leaves out.

    A ``compaction`` block starts empty (its fields null) and gets them in one
    ``compaction_delta``; ``context_management`` arrives at the top level of
    ``message_delta``; a reply a fallback model answered starts under the
    model that declined (the first ``fallback`` block's ``from.model``).
    """
    events = copy.deepcopy(stream_events(message))
    out: Events = []
    for name, data in events:
        if name == "message_start":
            start = data["message"]
            start.pop("context_management", None)
            hops = [b for b in message["content"] if b.get("type") == "fallback"]
            if hops:
                start["model"] = hops[0]["from"]["model"]
        if name == "content_block_start" and data["content_block"].get("type") == "compaction":
            block = data["content_block"]
            fields = {k: v for k, v in block.items() if k in ("content", "encrypted_content")}
            data["content_block"] = {**block, **dict.fromkeys(fields)}
            out.append((name, data))
            delta = {"type": "compaction_delta", **fields}
            out.append(
                (
                    "content_block_delta",
                    {"type": "content_block_delta", "index": data["index"], "delta": delta},
                )
            )
            continue
        if name == "message_delta" and "context_management" in message:
            data["context_management"] = message["context_management"]
        out.append((name, data))
    return out


# --- the shared fixtures ------------------------------------------------------------------


class TestStreamedBodies:
    """Each SSE body as recorded: streamed sync and async, equal to the fold of its message."""

    @pytest.mark.parametrize("name", _fixtures("sse"))
    def test_sync(self, name: str, fake_api: FakeMessagesAPI) -> None:
        body = (SHARED / name).read_bytes()
        events = parse_sse(body)
        accumulator = accumulate(events)
        answer = Malformed(body=body, content_type=SSE_TYPE)
        if accumulator.done:
            expected = expected_whole(accumulator.final())
            folded = stream_sync(fake_api, answer)
        else:
            expected = expected_cut(events)
            folded = interrupted_sync(fake_api, answer)
        same_fold(folded, expected)
        check_saved(folded)

    @pytest.mark.anyio
    @pytest.mark.parametrize("name", _fixtures("sse"))
    async def test_async(self, name: str, fake_api: FakeMessagesAPI) -> None:
        body = (SHARED / name).read_bytes()
        events = parse_sse(body)
        accumulator = accumulate(events)
        answer = Malformed(body=body, content_type=SSE_TYPE)
        if accumulator.done:
            expected = expected_whole(accumulator.final())
            folded = await stream_async(fake_api, answer)
        else:
            expected = expected_cut(events)
            folded = await interrupted_async(fake_api, answer)
        same_fold(folded, expected)

    # Regression: these bodies end ``data: {"type":"message_stop"}`` with no blank line after
    # it (some with no line end at all); the reader left that last event undispatched, so
    # a complete reply raised StreamInterruptedError where the official SDK returns it.
    @pytest.mark.parametrize("name", ENDING_WITHOUT_A_BLANK_LINE)
    def test_a_body_ending_without_a_blank_line_is_whole(
        self, name: str, fake_api: FakeMessagesAPI
    ) -> None:
        """A clean end of the body ends its last event: the reply is whole, sync and async."""
        if not SHARED.is_dir():
            pytest.skip(f"{SHARED} is absent")
        body = (SHARED / name).read_bytes()
        assert not body.endswith((b"\n\n", b"\r\n\r\n")), "the fixture changed"
        accumulator = accumulate(parse_sse(body))
        assert accumulator.done
        expected = expected_whole(accumulator.final())
        answer = Malformed(body=body, content_type=SSE_TYPE)
        assert stream_sync(fake_api, answer) == expected
        assert anyio.run(stream_async, fake_api, answer) == expected

    @pytest.mark.parametrize("name", _fixtures("sse"))
    def test_same_message_as_the_sdk(self, name: str) -> None:
        """The accumulated message is the official SDK's accumulation of the same events."""
        events = parse_sse((SHARED / name).read_bytes())
        accumulator = accumulate(events)
        if not accumulator.done:
            pytest.skip("the stream does not end whole (the SDK raises or keeps a partial parse)")
        ours = accumulator.final()
        assert ours == without_sdk_nulls(sdk_snapshot(events), ours)

    @pytest.mark.parametrize("name", _fixtures("sse"))
    def test_cut_before_message_stop(self, name: str, fake_api: FakeMessagesAPI) -> None:
        """A body cut just before message_stop raises, keeping what arrived and the stop reason."""
        body = (SHARED / name).read_bytes()
        cut = body[: body.rindex(b"event: message_stop")]
        events = parse_sse(cut)
        expected = expected_cut(events)
        assert interrupted_sync(fake_api, Malformed(body=cut, content_type=SSE_TYPE)) == expected
        delta = [data for event, data in events if event == "message_delta"][-1]
        assert expected.last is not None
        assert expected.last.provenance is not None
        assert expected.last.provenance.stop_reason == delta["delta"]["stop_reason"]


class TestWholeReplies:
    """Each JSON reply: sent whole, and streamed as the API would stream it; all folds equal."""

    @pytest.mark.parametrize("name", _fixtures("json"))
    def test_send_and_stream(self, name: str, fake_api: FakeMessagesAPI) -> None:
        message = json.loads((SHARED / name).read_bytes())
        expected = expected_whole(message)
        fake_api.queue(Reply(message=message))
        with AnthropicAdapter(api_key="test", base_url=fake_api.base_url) as adapter:
            sent = adapter.send(CHAT, **OPTIONS)
        assert sent == expected
        events = synthesized_events(message)
        assert accumulate(events).final() == message
        streamed = stream_sync(fake_api, Stream(events=events))
        same_fold(streamed, expected)
        check_saved(streamed)

    @pytest.mark.anyio
    @pytest.mark.parametrize("name", _fixtures("json"))
    async def test_astream(self, name: str, fake_api: FakeMessagesAPI) -> None:
        message = json.loads((SHARED / name).read_bytes())
        expected = expected_whole(message)
        streamed = await stream_async(fake_api, Stream(events=synthesized_events(message)))
        assert streamed == expected

    @pytest.mark.parametrize("name", _fixtures("json"))
    def test_sdk_message_objects(self, name: str) -> None:
        """The SDK's Message and BetaMessage of the reply fold as the reply's dict does."""
        message = json.loads((SHARED / name).read_bytes())
        expected = CHAT.fold(message)
        for cls in (Message, BetaMessage):
            # As the SDK builds a response (no validation: newer blocks are kept).
            built = construct_type(type_=cls, value=copy.deepcopy(message))
            assert isinstance(built, cls)
            assert CHAT.fold(built) == expected
        # Validated, where the SDK's types accept the reply (some recorded usage lacks
        # fields the SDK's types require).
        try:
            validated = BetaMessage.model_validate(message)
        except pydantic.ValidationError:
            return
        assert CHAT.fold(validated) == expected


# --- inline fixtures (no ../shared needed) ---------------------------------------------------


def _message(content: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "msg_inline",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": "claude-sonnet-4-5",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 8},
    }
    return {**base, **fields}


def _events(message: dict[str, Any], blocks: list[tuple[dict[str, Any], list[Any]]]) -> Events:
    """message_start, each (start block, deltas), message_delta, message_stop: ``message``."""
    start = {**message, "content": [], "stop_reason": None, "usage": {"input_tokens": 25}}
    start.pop("context_management", None)
    events: Events = [("message_start", {"type": "message_start", "message": start})]
    for index, (block, deltas) in enumerate(blocks):
        events += block_events(index, block, deltas)
    delta: dict[str, Any] = {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": 8},
    }
    if "context_management" in message:
        delta["context_management"] = message["context_management"]
    events.append(("message_delta", delta))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


Fixture = tuple[dict[str, Any], list[tuple[dict[str, Any], list[Any]]]]

NOTE_BLOCK = {"type": "x_note", "body": "Hello", "items": [1, 2], "meta": {"k": 1}, "n": 3}
UNKNOWN_DELTA: Fixture = (
    _message([NOTE_BLOCK]),
    [
        (
            {"type": "x_note", "body": "", "items": [], "meta": None},
            [
                {"type": "x_note_delta", "body": "Hel", "items": [1]},
                {"type": "x_note_delta", "body": "lo", "items": [2], "meta": {"k": 1}, "n": 3},
            ],
        )
    ],
)
COMPACTION: Fixture = (
    _message(
        [
            {"type": "compaction", "content": "Summary.", "encrypted_content": "RW5j"},
            {"type": "text", "text": "Hello there!"},
        ],
    ),
    [
        (
            {"type": "compaction", "content": None, "encrypted_content": None},
            [{"type": "compaction_delta", "content": "Summary.", "encrypted_content": "RW5j"}],
        ),
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hello there!"}]),
    ],
)
CONTEXT_MANAGEMENT: Fixture = (
    _message(
        [{"type": "text", "text": "Hi."}],
        context_management={"applied_edits": [{"type": "clear_tool_uses_20250919"}]},
    ),
    [({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hi."}])],
)
FALLBACK_BLOCK = {
    "type": "fallback",
    "from": {"model": "claude-opus-4-7"},
    "to": {"model": "claude-sonnet-4-5"},
    "trigger": {"type": "refusal", "category": None},
}
FALLBACK: Fixture = (
    _message([FALLBACK_BLOCK, {"type": "text", "text": "Hello there!"}]),
    [
        (FALLBACK_BLOCK, []),
        ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Hello there!"}]),
    ],
)
INLINE: dict[str, Fixture] = {
    "unknown-delta": UNKNOWN_DELTA,
    "compaction": COMPACTION,
    "context-management": CONTEXT_MANAGEMENT,
    "fallback": FALLBACK,
}


def _streamed_events(name: str) -> Events:
    message, blocks = INLINE[name]
    events = _events(message, blocks)
    if name == "fallback":  # the stream starts under the model that declined
        events[0][1]["message"]["model"] = "claude-opus-4-7"
    return events


class TestInlineFixtures:
    @pytest.mark.parametrize("name", sorted(INLINE))
    def test_stream_equals_send(self, name: str, fake_api: FakeMessagesAPI) -> None:
        message = INLINE[name][0]
        expected = expected_whole(message)
        events = _streamed_events(name)
        assert accumulate(events).final() == message
        streamed = stream_sync(fake_api, Stream(events=events))
        same_fold(streamed, expected)
        check_saved(streamed)
        fake_api.queue(Reply(message=message))
        with AnthropicAdapter(api_key="test", base_url=fake_api.base_url) as adapter:
            assert adapter.send(CHAT, **OPTIONS) == expected

    @pytest.mark.anyio
    @pytest.mark.parametrize("name", sorted(INLINE))
    async def test_astream_equals_send(self, name: str, fake_api: FakeMessagesAPI) -> None:
        expected = expected_whole(INLINE[name][0])
        assert await stream_async(fake_api, Stream(events=_streamed_events(name))) == expected

    def test_what_each_fixture_keeps(self, fake_api: FakeMessagesAPI) -> None:
        """The generic rule, compaction, context_management and the fallback's model, kept."""
        folded = {
            name: stream_sync(fake_api, Stream(events=_streamed_events(name))) for name in INLINE
        }
        assert wire_content(folded["unknown-delta"]) == [NOTE_BLOCK]
        assert wire_content(folded["compaction"])[0] == COMPACTION[0]["content"][0]
        info = folded["context-management"].last.provenance.last  # type: ignore[union-attr]
        assert info is not None
        assert info.extra["context_management"] == CONTEXT_MANAGEMENT[0]["context_management"]
        last = folded["fallback"].last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.model == "claude-sonnet-4-5"
        assert wire_content(folded["fallback"])[0] == FALLBACK_BLOCK

    @pytest.mark.parametrize("sync", [True, False], ids=["stream", "astream"])
    def test_message_stop_with_a_tool_call_open(
        self, sync: bool, fake_api: FakeMessagesAPI
    ) -> None:
        """Cut at max_tokens mid-arguments: the stop reason and the JSON that arrived are kept."""
        fragments = ['{"filename": "taxes.txt', '", "lines": ["# Guide",', '\n"Filing']
        message = _message(
            [
                {"type": "text", "text": "Let me write it."},
                {"type": "tool_use", "id": "toolu_1", "name": "make_file", "input": {}},
            ],
            stop_reason="max_tokens",
        )
        blocks: list[tuple[dict[str, Any], list[Any]]] = [
            ({"type": "text", "text": ""}, [{"type": "text_delta", "text": "Let me write it."}]),
            (
                {"type": "tool_use", "id": "toolu_1", "name": "make_file", "input": {}},
                [{"type": "input_json_delta", "partial_json": f} for f in ["", *fragments]],
            ),
        ]
        events = _events(message, blocks)
        events = [
            e
            for e in events
            if e != ("content_block_stop", {"type": "content_block_stop", "index": 1})
        ]
        answer = Stream(events=events)
        if sync:
            error = interruption_sync(fake_api, answer)
        else:
            import anyio

            error = anyio.run(interruption_async, fake_api, answer)
        assert "message_stop came while block 1 was still open" in str(error)
        assert "stop_reason 'max_tokens'" in str(error)
        folded = error.conversation
        assert folded == expected_cut(events)
        last = folded.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert last.provenance.stop_reason == "max_tokens"
        assert wire_content(folded)[1] == {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "make_file",
            "input": {},
            "partial_json": "".join(fragments),
        }
        check_saved(folded)
        # continue_reply sees the max_tokens stop and says why it cannot continue a tool call.
        from conversation.continuation import ContinuationError, continue_reply

        adapter = AnthropicAdapter(api_key="test", base_url=fake_api.base_url)
        with adapter, pytest.raises(ContinuationError, match="tool_use"):
            continue_reply(folded, adapter, **OPTIONS)
        resumed = folded.resumable()
        assert resumed.last is not None
        assert wire_content(resumed) == [{"type": "text", "text": "Let me write it."}]
