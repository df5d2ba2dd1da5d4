"""The cassette format: round trips of every reply and stream, and bad files refused clearly.

The round trips go through the public adapters: a ScriptedAdapter answers,
a RecordingAdapter writes the cassette, a ReplayAdapter reads it back, and
the replayed conversation (and events) must equal the recorded ones. Broken
cassettes, from random bytes to a valid line broken in one place, must end
in :class:`~adapters.CassetteFormatError` (a ConversationError) or load:
never another exception, never a hang.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import CassetteFormatError, StreamEvent
from adapters.record import FORMAT, VERSION, RecordingAdapter, ReplayAdapter
from adapters.scripted import ScriptedAdapter
from conversation import Conversation, ConversationError, Reply
from tests.limits import time_limit
from tests.strategies import (
    conversations,
    fake_streamable_replies,
    json_values,
    mutations,
    reply_dicts,
)

OPTIONS = {"max_tokens": 64}
HEADER = json.dumps({"format": FORMAT, "version": VERSION})
FUNCTION_SCOPED = [HealthCheck.function_scoped_fixture]


def roundtrip(before: Conversation, reply: dict[str, Any], path: Path) -> None:
    recorded = RecordingAdapter(ScriptedAdapter([reply]), path).send(before, **OPTIONS)
    assert ReplayAdapter(path).send(before, **OPTIONS) == recorded


@given(before=conversations(max_turns=5), reply=reply_dicts())
@settings(suppress_health_check=FUNCTION_SCOPED)
def test_any_reply_to_any_conversation_replays_equal(
    before: Conversation, reply: dict[str, Any], tmp_path: Path
) -> None:
    """Prefills included: the cassette keeps the reply, and folding it gives the same turn."""
    roundtrip(before, reply, tmp_path / "c.jsonl")


def test_a_reply_continuing_an_interrupted_turn_replays_equal(tmp_path: Path) -> None:
    partial = {"content": [{"type": "text", "text": "Half an ans"}], "stop_reason": None}
    before = Conversation().user("Hi").fold(partial, interrupted=True)
    roundtrip(before, {"content": [{"type": "text", "text": "wer."}]}, tmp_path / "c.jsonl")


def test_a_reply_with_citations_continuing_a_prefill_replays_equal(tmp_path: Path) -> None:
    cited = {"type": "char_location", "cited_text": "x", "document_index": 0}
    before = (
        Conversation()
        .user("Hi")
        .assistant([{"type": "text", "text": "As written,", "citations": [cited]}])
    )
    reply = {"content": [{"type": "text", "text": " it is so.", "citations": [cited, cited]}]}
    roundtrip(before, reply, tmp_path / "c.jsonl")


@given(reply=fake_streamable_replies())
@settings(suppress_health_check=FUNCTION_SCOPED)
def test_any_stream_replays_event_for_event(reply: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    chat = Conversation().user("Go on.")

    def read(adapter: Any) -> tuple[list[StreamEvent], Conversation]:
        with adapter.stream(chat, **OPTIONS) as stream:
            return list(stream), stream.conversation

    recorded = read(RecordingAdapter(ScriptedAdapter([reply]), path))
    assert read(ReplayAdapter(path)) == recorded


def test_the_file_is_a_header_then_one_sorted_exchange_per_line(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rec = RecordingAdapter(ScriptedAdapter(["One.", "Two."]), path)
    first = rec.send(Conversation(system="S").user("Hi"), max_tokens=64, temperature=0.5)
    rec.send(first.user("More"), max_tokens=64)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '{"format":"conversation-state-cassette","version":1}'
    assert len(lines) == 3
    exchange = json.loads(lines[1])
    assert list(exchange) == ["kind", "request", "reply"]
    assert exchange["request"] == {
        "max_tokens": 64,
        "messages": [{"content": "Hi", "role": "user"}],
        "system": "S",
        "temperature": 0.5,
    }
    assert list(exchange["request"]) == sorted(exchange["request"])
    assert Reply.from_wire(exchange["reply"]).text == "One."
    assert lines[1] == json.dumps(exchange, separators=(",", ":"), ensure_ascii=False)


# -- bad cassettes ----------------------------------------------------------------------------


def write(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


def load(path: Path) -> CassetteFormatError:
    with pytest.raises(CassetteFormatError) as caught:
        ReplayAdapter(path)
    assert isinstance(caught.value, ConversationError)
    return caught.value


VALID = json.dumps(
    {
        "kind": "send",
        "request": {"max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]},
        "reply": {"content": [{"type": "text", "text": "Hello"}], "id": "msg_1"},
    }
)


@pytest.mark.parametrize(
    ("lines", "where", "says"),
    [
        (['{"format":"other","version":1}'], 1, "this is not a cassette"),
        (["not json"], 1, "not a line of JSON"),
        (['{"format":"conversation-state-cassette","version":2}'], 1, "newer conversation-state"),
        ([HEADER, "{"], 2, "not a line of JSON"),
        ([HEADER, VALID, '{"kind":"sned","request":{}}'], 3, "kind: expected one of send"),
        ([HEADER, '{"kind":"send","request":{}}'], 2, "a send needs one of error, reply"),
        ([HEADER, '{"kind":"send","request":[]}'], 2, "request: expected a JSON object"),
        (
            [HEADER, '{"kind":"send","request":{},"reply":{"content":3}}'],
            2,
            "reply: $.content: a reply's content must be a list",
        ),
        (
            [HEADER, '{"kind":"stream","request":{},"events":[{"type":"text_delta","index":0}]}'],
            2,
            "events[0].text: expected a string",
        ),
        (
            [HEADER, '{"kind":"stream","request":{},"events":[]}'],
            2,
            "a stream that ended has one message_stop",
        ),
        (
            [HEADER, '{"kind":"send","request":{},"reply":{"content":[]},"extra":1}'],
            2,
            "unknown field 'extra'",
        ),
        (
            [
                HEADER,
                '{"kind":"send","request":{},"error":{"type":"Popen","module":"subprocess",'
                '"message":"x"}}',
            ],
            2,
            "the recorded error class subprocess.Popen is not known here",
        ),
        (
            [
                HEADER,
                '{"kind":"send","request":{},"error":{"type":"StopIteration",'
                '"module":"builtins","message":"x"}}',
            ],
            2,
            "builtins.StopIteration is not known here",
        ),
        (
            [
                HEADER,
                '{"kind":"send","request":{},"error":{"type":"TimeoutError","module":"builtins",'
                '"message":"x","fields":{"conversation":1}}}',
            ],
            2,
            "error.fields: 'conversation' cannot be a recorded field",
        ),
        (
            [
                HEADER,
                '{"kind":"stream","request":{},"events":[],"error":{"type":'
                '"StreamInterruptedError","module":"adapters.errors","message":"cut"}}',
            ],
            2,
            "a recorded StreamInterruptedError needs its partial reply",
        ),
    ],
)
def test_a_bad_cassette_is_refused_naming_the_line_and_problem(
    tmp_path: Path, lines: list[str], where: int, says: str
) -> None:
    error = load(write(tmp_path / "c.jsonl", *lines))
    assert error.line == where
    assert f"c.jsonl:{where}: " in str(error)
    assert says in str(error)


def test_blank_lines_and_an_empty_file_are_fine(tmp_path: Path) -> None:
    assert len(ReplayAdapter(write(tmp_path / "a.jsonl", "", HEADER, "", VALID, ""))) == 1
    (tmp_path / "b.jsonl").write_bytes(b"")
    assert len(ReplayAdapter(tmp_path / "b.jsonl")) == 0


def valid_lines() -> list[dict[str, Any]]:
    """One line of each kind and outcome, as a recording writes them."""
    path = Path(tempfile.mkdtemp()) / "c.jsonl"
    script: list[Any] = ["Hello", "Streamed", TimeoutError("outage")]
    rec = RecordingAdapter(ScriptedAdapter(script), path)
    rec.send(Conversation().user("Hi"), **OPTIONS)
    with rec.stream(Conversation().user("Stream"), **OPTIONS) as stream:
        list(stream)
    with pytest.raises(TimeoutError):
        rec.send(Conversation().user("Fail"), **OPTIONS)
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [json.loads(line) for line in lines]


VALID_LINES = valid_lines()


def only_format_errors(path: Path) -> None:
    try:
        with time_limit():
            ReplayAdapter(path)
    except CassetteFormatError:
        pass


@given(data=st.binary(max_size=200))
@settings(max_examples=200, suppress_health_check=FUNCTION_SCOPED)
def test_any_bytes_as_a_line_end_in_a_format_error(data: bytes, tmp_path: Path) -> None:
    only_format_errors(write(tmp_path / "c.jsonl", HEADER, data.replace(b"\n", b" ")))


@given(value=json_values())
@settings(max_examples=200, suppress_health_check=FUNCTION_SCOPED)
def test_any_json_as_a_line_ends_in_a_format_error(value: Any, tmp_path: Path) -> None:
    only_format_errors(write(tmp_path / "c.jsonl", HEADER, json.dumps(value)))


@given(value=json_values())
@settings(max_examples=100, suppress_health_check=FUNCTION_SCOPED)
def test_any_json_as_the_header_ends_in_a_format_error(value: Any, tmp_path: Path) -> None:
    only_format_errors(write(tmp_path / "c.jsonl", json.dumps(value), VALID))


@given(data=st.data(), which=st.integers(0, len(VALID_LINES) - 1))
@settings(max_examples=400, suppress_health_check=FUNCTION_SCOPED)
def test_a_valid_line_broken_anywhere_ends_in_a_format_error(
    data: st.DataObject, which: int, tmp_path: Path
) -> None:
    broken, _, _ = data.draw(mutations(VALID_LINES[which]))
    only_format_errors(write(tmp_path / "c.jsonl", HEADER, json.dumps(broken)))
