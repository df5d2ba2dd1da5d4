"""Tests for adapters.scripted: ScriptedAdapter, FunctionAdapter and their streams."""

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import (
    BlockStart,
    BlockStop,
    FunctionAdapter,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    ScriptedAdapter,
    ScriptExhaustedError,
    StreamEvent,
    StreamNotConsumedError,
    TextDelta,
    ThinkingDelta,
)
from adapters._events import events_from_reply
from adapters.scripted import ReplyLike
from conversation import (
    AdapterError,
    Conversation,
    MalformedInputError,
    MalformedReplyError,
    RedactedThinking,
    Reply,
    RuleViolationError,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    Usage,
)

MODEL = "claude-sonnet-4-5"
OPTIONS = {"model": MODEL, "max_tokens": 1024}
HELLO = Conversation().user("Hello, Claude")

TOOL_REPLY = {
    "content": [
        {"type": "text", "text": "Checking the weather."},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
    ]
}

FULL_REPLY = {
    "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
    "type": "message",
    "role": "assistant",
    "model": "claude-opus-4-1",
    "content": [{"type": "text", "text": "Bonjour."}],
    "stop_reason": "stop_sequence",
    "stop_sequence": "###",
    "usage": {"input_tokens": 412, "output_tokens": 57},
}


def text_of(events: list[StreamEvent]) -> str:
    """Return the text deltas of ``events``, joined."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# --- ScriptedAdapter.send ----------------------------------------------------------------


class TestScriptedSend:
    def test_string_reply_becomes_a_model_turn(self) -> None:
        """A scripted string folds in as one text turn with full, deterministic provenance."""
        adapter = ScriptedAdapter(["Hello! How can I help?"])
        c = adapter.send(HELLO, **OPTIONS)
        assert len(c) == 2
        assert c.last is not None
        assert c.last.role == "assistant"
        assert c.last.content == "Hello! How can I help?"
        provenance = c.last.provenance
        assert provenance is not None
        assert provenance.id == "msg_scripted_0001"
        assert provenance.model == MODEL
        assert provenance.stop_reason == "end_turn"
        assert provenance.usage.output_tokens == 6  # 22 characters, about 4 to a token
        assert provenance.usage.input_tokens > 0

    def test_multi_turn_chat_records_exact_payloads(self) -> None:
        """Each request of a chat is recorded as exactly the payload to_payload made for it."""
        adapter = ScriptedAdapter(["Hi!", "LLMs predict text."], default_options=OPTIONS)
        c1 = Conversation(system="Be brief.").user("Hello")
        c2 = adapter.send(c1)
        c3 = adapter.send(c2.user("What are LLMs?"), temperature=0.2)
        assert adapter.requests == [
            {
                "model": MODEL,
                "max_tokens": 1024,
                "system": "Be brief.",
                "messages": [{"role": "user", "content": "Hello"}],
            },
            {
                "model": MODEL,
                "max_tokens": 1024,
                "temperature": 0.2,
                "system": "Be brief.",
                "messages": [
                    {"role": "user", "content": "Hello"},
                    {"role": "assistant", "content": "Hi!"},
                    {"role": "user", "content": "What are LLMs?"},
                ],
            },
        ]
        assert [t.text for t in c3] == ["Hello", "Hi!", "What are LLMs?", "LLMs predict text."]

    def test_ids_count_requests(self) -> None:
        """Reply ids are numbered by request, so the n-th reply is msg_scripted_000n."""
        adapter = ScriptedAdapter(["one", "two"])
        c = adapter.send(HELLO)
        c = adapter.send(c.user("again"))
        assert [t.provenance.id for t in c if t.provenance] == [
            "msg_scripted_0001",
            "msg_scripted_0002",
        ]

    def test_model_is_the_requested_one_else_the_adapters(self) -> None:
        """A reply names the request's model, or the adapter's model when none was requested."""
        adapter = ScriptedAdapter(["a", "b"], model="fake-model")
        assert adapter.send(HELLO, model="claude-x").last.provenance.model == "claude-x"  # type: ignore[union-attr]
        assert adapter.send(HELLO).last.provenance.model == "fake-model"  # type: ignore[union-attr]
        assert adapter.model == "fake-model"

    def test_usage_is_deterministic_and_grows_with_the_prompt(self) -> None:
        """The same request gets the same usage; a longer history counts more input tokens."""
        short = ScriptedAdapter(["ok"]).send(HELLO).usage
        again = ScriptedAdapter(["ok"]).send(HELLO).usage
        longer = ScriptedAdapter(["ok"]).send(HELLO.assistant("Hi!").user("x" * 400)).usage
        assert short == again
        assert longer.input_tokens > short.input_tokens + 90
        assert longer.output_tokens == short.output_tokens == 1

    def test_complete_reply_dict_is_used_as_it_is(self) -> None:
        """A reply dict that says everything about itself is folded unchanged."""
        c = ScriptedAdapter([FULL_REPLY]).send(HELLO, **OPTIONS)
        provenance = c.last.provenance  # type: ignore[union-attr]
        assert provenance is not None
        assert c.last.text == "Bonjour."  # type: ignore[union-attr]
        assert provenance.id == FULL_REPLY["id"]
        assert provenance.model == "claude-opus-4-1"
        assert (provenance.stop_reason, provenance.stop_sequence) == ("stop_sequence", "###")
        assert provenance.usage == Usage(412, 57)

    def test_reply_dict_gaps_are_filled(self) -> None:
        """A reply dict with only content gets an id, the model, tool_use stop reason and usage."""
        c = ScriptedAdapter([TOOL_REPLY]).send(HELLO, **OPTIONS)
        turn = c.last
        assert turn is not None
        assert turn.blocks == (
            Text("Checking the weather."),
            ToolUse("toolu_01", "get_weather", {"city": "Paris"}),
        )
        provenance = turn.provenance
        assert provenance is not None
        assert provenance.id == "msg_scripted_0001"
        assert provenance.model == MODEL
        assert provenance.stop_reason == "tool_use"
        assert provenance.usage.output_tokens > 0

    def test_reply_objects_are_served(self) -> None:
        """A Reply keeps what it has; an id, model, stop reason or usage it lacks is filled."""
        given = Reply((Text("Kept."),), id="msg_kept", stop_reason="max_tokens")
        c = ScriptedAdapter([given, Reply((Text("Bare."),))]).send(HELLO)
        provenance = c.last.provenance  # type: ignore[union-attr]
        assert provenance is not None
        assert (provenance.id, provenance.stop_reason) == ("msg_kept", "max_tokens")
        assert provenance.model == "scripted"
        assert provenance.usage.output_tokens > 0
        bare = ScriptedAdapter([Reply((Text("Bare."),))]).send(HELLO).last.provenance  # type: ignore[union-attr]
        assert bare is not None
        assert (bare.id, bare.stop_reason) == ("msg_scripted_0001", "end_turn")

    def test_prefill_and_reply_become_one_turn(self) -> None:
        """A scripted reply continues a prefill: one assistant turn, sent with the prefill last."""
        adapter = ScriptedAdapter([" 42."])
        prefilled = HELLO.user("What is six times seven?").assistant("The answer is")
        c = adapter.send(prefilled, **OPTIONS)
        assert len(c) == len(prefilled)
        assert c.last is not None
        assert c.last.text == "The answer is 42."
        assert c.last.provenance is not None
        assert c.last.provenance.prefill == (Text("The answer is"),)
        assert adapter.requests[0]["messages"][-1] == {
            "role": "assistant",
            "content": "The answer is",
        }

    def test_empty_string_reply_has_no_content(self) -> None:
        """An empty scripted string is a reply with no blocks, so a prefill stays as it was."""
        c = ScriptedAdapter([""]).send(HELLO.assistant("Done"))
        assert c.last is not None
        assert c.last.text == "Done"
        assert c.last.provenance is not None
        assert c.last.provenance.id == "msg_scripted_0001"

    def test_scripted_exception_is_raised_and_nothing_is_lost(self) -> None:
        """A scripted exception is raised by its request; the caller's conversation is as it was."""
        outage = ConnectionError("scripted outage")
        adapter = ScriptedAdapter([outage, "Recovered."])
        before = HELLO.dumps()
        with pytest.raises(ConnectionError) as caught:
            adapter.send(HELLO, **OPTIONS)
        assert caught.value is outage
        assert HELLO.dumps() == before
        assert len(adapter.requests) == 1
        assert adapter.send(HELLO).last.text == "Recovered."  # type: ignore[union-attr]

    def test_exception_class_is_raised(self) -> None:
        """An exception class in the script is raised like an instance."""
        adapter = ScriptedAdapter([TimeoutError])
        with pytest.raises(TimeoutError):
            adapter.send(HELLO)

    def test_rule_violation_raised_before_sending(self) -> None:
        """A payload the API would reject raises RuleViolationError and is not recorded."""
        adapter = ScriptedAdapter(["never served"])
        with pytest.raises(RuleViolationError) as caught:
            adapter.send(HELLO.assistant("Trailing space "), **OPTIONS)
        assert caught.value.rules == ("prefill_trailing_whitespace",)
        assert adapter.requests == []
        assert adapter.remaining == 1

    def test_non_conversation_refused_before_sending(self) -> None:
        """Sending a str instead of a Conversation is a clear error and records nothing."""
        adapter = ScriptedAdapter(["x"])
        with pytest.raises(MalformedInputError, match="sends a Conversation"):
            adapter.send("Hello")  # type: ignore[arg-type]
        assert adapter.requests == []

    def test_defaults_merge_with_call_options(self) -> None:
        """Call options override defaults, None unsets one, and stream is refused."""
        adapter = ScriptedAdapter(["a", "b"], default_options={**OPTIONS, "temperature": 1.0})
        adapter.send(HELLO, max_tokens=5, temperature=None)
        assert adapter.requests[0] == {"model": MODEL, "max_tokens": 5, **HELLO.to_payload()}
        with pytest.raises(MalformedInputError, match=r"adapter\.stream"):
            adapter.send(HELLO, stream=True)
        assert adapter.default_options == {**OPTIONS, "temperature": 1.0}

    def test_requests_and_default_options_are_copies(self) -> None:
        """Changing what requests or default_options returned does not change the adapter."""
        adapter = ScriptedAdapter(["a"], default_options=OPTIONS)
        adapter.send(HELLO)
        adapter.requests.clear()
        adapter.default_options["model"] = "other"
        assert len(adapter.requests) == 1
        assert adapter.default_options == OPTIONS

    def test_remaining_counts_down(self) -> None:
        """remaining is the number of script entries not reached yet, exceptions included."""
        adapter = ScriptedAdapter(["a", ValueError("b"), "c"])
        assert adapter.remaining == 3
        c = adapter.send(HELLO)
        with pytest.raises(ValueError, match="b"):
            adapter.send(c.user("next"))
        assert adapter.remaining == 1

    def test_concurrent_requests_pair_with_script_entries_in_order(self) -> None:
        """Under threads, request n (as recorded) gets script entry n, with id n."""
        adapter = ScriptedAdapter([f"reply {i}" for i in range(1, 21)])
        results: list[Conversation] = []

        def chat(i: int) -> None:
            results.append(adapter.send(Conversation().user(f"question {i}")))

        threads = [threading.Thread(target=chat, args=(i,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 20
        for c in results:
            number = int(c.last.provenance.id.rsplit("_", 1)[1])  # type: ignore[union-attr]
            assert c.last.text == f"reply {number}"  # type: ignore[union-attr]
            assert adapter.requests[number - 1] == c[:1].to_payload()

    def test_repr_shows_progress(self) -> None:
        """The repr names the model, the replies left of those scripted, and requests made."""
        adapter = ScriptedAdapter(["a", "b", "c"])
        adapter.send(HELLO)
        assert repr(adapter) == "<ScriptedAdapter model='scripted': 2 of 3 replies left, 1 request>"


class TestScriptExhausted:
    def test_message_says_what_ran_out_and_shows_the_request(self) -> None:
        """Running out raises ScriptExhaustedError naming the count, request and user message."""
        adapter = ScriptedAdapter(["only one"])
        c = adapter.send(HELLO)
        with pytest.raises(ScriptExhaustedError) as caught:
            adapter.send(c.user("Tell me more"), **OPTIONS)
        error = caught.value
        assert isinstance(error, AdapterError)
        assert error.scripted == 1
        assert error.request == adapter.requests[-1]
        assert len(adapter.requests) == 2
        assert str(error) == (
            "ScriptedAdapter ran out of replies: 1 reply was scripted and all were used, "
            "but request 2 asked for another (its last user message: 'Tell me more'). "
            "Script one more reply, or find why the code under test sends more requests "
            "than expected."
        )

    def test_long_user_message_is_truncated(self) -> None:
        """A long last user message is clipped in the error, not printed whole."""
        adapter = ScriptedAdapter([])
        with pytest.raises(ScriptExhaustedError) as caught:
            adapter.send(Conversation().user("word " * 100 + "END"))
        message = str(caught.value)
        assert "no replies were scripted" in message
        assert "…" in message
        assert "END" not in message
        assert len(message) < 400

    def test_user_turn_without_text_names_its_blocks(self) -> None:
        """When the last user turn has no text, the error names its block types instead."""
        calls = HELLO.assistant([ToolUse("toolu_1", "clock", {})])
        answered = calls.user([ToolResult("toolu_1", "noon")])
        with pytest.raises(ScriptExhaustedError, match=r"\[tool_result\]"):
            ScriptedAdapter([]).send(answered)


class TestScriptChecks:
    def test_malformed_reply_dict_fails_when_scripted(self) -> None:
        """A reply dict fold() could not read raises MalformedReplyError naming its index."""
        with pytest.raises(MalformedReplyError, match="scripted reply 1"):
            ScriptedAdapter(["fine", {"content": "not a list"}])

    def test_unsupported_entry_fails_when_scripted(self) -> None:
        """An entry that is no kind of reply or exception is refused with what is accepted."""
        with pytest.raises(MalformedReplyError, match="scripted reply 0 is a int"):
            ScriptedAdapter([42])  # type: ignore[list-item]

    @pytest.mark.parametrize("replies", ["Hi!", FULL_REPLY, None])
    def test_replies_must_be_a_list(self, replies: Any) -> None:
        """A lone reply (or nothing) in place of the list is refused, suggesting [reply]."""
        with pytest.raises(MalformedInputError, match=r"ScriptedAdapter\(\[reply\]\)"):
            ScriptedAdapter(replies)

    def test_model_must_be_a_string(self) -> None:
        """A non-str model is refused when the adapter is made."""
        with pytest.raises(MalformedInputError, match="model must be a str"):
            ScriptedAdapter([], model=None)  # type: ignore[arg-type]


# --- async --------------------------------------------------------------------------------


class TestScriptedAsend:
    @pytest.mark.anyio
    async def test_asend_gives_what_send_gives(self) -> None:
        """asend folds the same reply and records the same payload as send."""
        sync, async_ = ScriptedAdapter([TOOL_REPLY]), ScriptedAdapter([TOOL_REPLY])
        assert await async_.asend(HELLO, **OPTIONS) == sync.send(HELLO, **OPTIONS)
        assert async_.requests == sync.requests

    @pytest.mark.anyio
    async def test_asend_raises_scripted_exception(self) -> None:
        """A scripted exception is raised by asend too."""
        with pytest.raises(ConnectionError):
            await ScriptedAdapter([ConnectionError()]).asend(HELLO)

    @pytest.mark.anyio
    async def test_asend_checks_rules_first(self) -> None:
        """asend raises RuleViolationError before recording anything."""
        adapter = ScriptedAdapter(["x"])
        with pytest.raises(RuleViolationError):
            await adapter.asend(Conversation())
        assert adapter.requests == []

    @pytest.mark.anyio
    async def test_asend_runs_out_like_send(self) -> None:
        """asend raises ScriptExhaustedError when the script is used up."""
        with pytest.raises(ScriptExhaustedError):
            await ScriptedAdapter([]).asend(HELLO)


# --- streaming ----------------------------------------------------------------------------


class TestScriptedStream:
    def test_text_reply_events(self) -> None:
        """A text reply streams as start, a block of word deltas, its stop, and the reply."""
        adapter = ScriptedAdapter(["Hello there, friend."])
        with adapter.stream(HELLO, **OPTIONS) as stream:
            events = list(stream)
        reply = Reply(
            (Text("Hello there, friend."),),
            id="msg_scripted_0001",
            model=MODEL,
            stop_reason="end_turn",
            usage=stream.conversation.usage,
        )
        assert events == [
            MessageStart("msg_scripted_0001", MODEL),
            BlockStart(0, Text("")),
            TextDelta(0, "Hello"),
            TextDelta(0, " there,"),
            TextDelta(0, " friend."),
            BlockStop(0, Text("Hello there, friend.")),
            MessageStop(reply),
        ]

    def test_stream_conversation_equals_send(self) -> None:
        """After text_stream is read, stream.conversation equals what send returns."""
        with ScriptedAdapter([TOOL_REPLY]).stream(HELLO, **OPTIONS) as stream:
            text = "".join(stream.text_stream)
        assert text == "Checking the weather."
        assert stream.conversation == ScriptedAdapter([TOOL_REPLY]).send(HELLO, **OPTIONS)

    def test_stream_records_the_payload_with_stream_true(self) -> None:
        """A streamed request is recorded as to_payload with "stream": true."""
        adapter = ScriptedAdapter(["ok"], default_options=OPTIONS)
        list(adapter.stream(HELLO, temperature=0))
        assert adapter.requests == [HELLO.to_payload(**OPTIONS, temperature=0, stream=True)]

    def test_nothing_is_recorded_until_the_stream_starts(self) -> None:
        """A stream made but never entered or iterated sends nothing, even once closed."""
        adapter = ScriptedAdapter(["ok"])
        stream = adapter.stream(HELLO)
        assert adapter.requests == []
        assert repr(stream) == "<ScriptedStream not started>"
        stream.close()
        assert list(stream) == []
        assert adapter.requests == []
        assert adapter.remaining == 1

    def test_rules_are_checked_when_stream_is_called(self) -> None:
        """stream() itself raises RuleViolationError, before any iteration or record."""
        adapter = ScriptedAdapter(["ok"])
        with pytest.raises(RuleViolationError):
            adapter.stream(HELLO.assistant("ends in space "))
        assert adapter.requests == []

    def test_conversation_before_the_end_raises(self) -> None:
        """Reading .conversation before the last event raises StreamNotConsumedError."""
        stream = ScriptedAdapter(["one two three"]).stream(HELLO)
        with pytest.raises(StreamNotConsumedError, match="not been read to its end"):
            _ = stream.conversation
        for event in stream:
            if isinstance(event, TextDelta):
                break
        assert repr(stream) == "<ScriptedStream reading>"
        stream.close()
        with pytest.raises(StreamNotConsumedError, match="closed before its end"):
            _ = stream.conversation

    def test_conversation_is_ready_at_message_stop(self) -> None:
        """The folded conversation is available as soon as MessageStop is yielded."""
        with ScriptedAdapter(["Hi!"]).stream(HELLO) as stream:
            for event in stream:
                if isinstance(event, MessageStop):
                    assert stream.conversation.last.text == "Hi!"  # type: ignore[union-attr]
                    assert event.reply.text == "Hi!"
                    break
        assert repr(stream) == "<ScriptedStream read to its end>"

    def test_prefill_streams_only_the_continuation(self) -> None:
        """With a prefill, deltas carry only the reply; the conversation joins the two."""
        prefilled = HELLO.assistant("The answer is")
        with ScriptedAdapter([" 42."]).stream(prefilled) as stream:
            assert "".join(stream.text_stream) == " 42."
        assert stream.conversation.last.text == "The answer is 42."  # type: ignore[union-attr]
        assert len(stream.conversation) == 2

    def test_tool_use_streams_as_json_fragments(self) -> None:
        """A tool call starts with its name and no input; its JSON fragments parse to the input."""
        big_input = {"city": "Paris", "units": "metric", "days": [1, 2, 3], "note": "é"}
        reply = {"content": [{"type": "tool_use", "id": "t1", "name": "f", "input": big_input}]}
        with ScriptedAdapter([reply]).stream(HELLO) as stream:
            events = list(stream)
        assert events[1] == BlockStart(0, ToolUse("t1", "f", {}))
        fragments = [e.partial_json for e in events if isinstance(e, InputJsonDelta)]
        assert len(fragments) > 1
        assert json.loads("".join(fragments)) == big_input
        assert events[-2] == BlockStop(0, ToolUse("t1", "f", big_input))

    def test_thinking_and_whole_blocks(self) -> None:
        """Thinking streams as deltas; a block that does not stream arrives whole at its start."""
        reply = Reply(
            (Thinking("Let me think.", "sig=="), RedactedThinking("opaque"), Text("Done.")),
        )
        with ScriptedAdapter([reply]).stream(HELLO) as stream:
            events = list(stream)
        thinking = [e.thinking for e in events if isinstance(e, ThinkingDelta)]
        assert "".join(thinking) == "Let me think."
        assert BlockStart(0, Thinking("", "")) in events
        assert BlockStop(0, Thinking("Let me think.", "sig==")) in events
        assert BlockStart(1, RedactedThinking("opaque")) in events
        assert text_of(events) == "Done."
        assert stream.conversation.last.blocks == reply.content  # type: ignore[union-attr]

    def test_scripted_exception_raised_on_enter(self) -> None:
        """A scripted exception is raised when the stream starts, and only one entry is used."""
        adapter = ScriptedAdapter([ConnectionError("cut"), "next"])
        stream = adapter.stream(HELLO)
        with pytest.raises(ConnectionError, match="cut"), stream:
            pass
        assert list(stream) == []
        assert adapter.remaining == 1
        assert len(adapter.requests) == 1

    def test_scripted_exception_raised_on_first_iteration(self) -> None:
        """Without a with block, the first iteration starts the stream and raises."""
        stream = ScriptedAdapter([ConnectionError("cut")]).stream(HELLO)
        with pytest.raises(ConnectionError):
            next(iter(stream))

    def test_second_iteration_yields_nothing_more(self) -> None:
        """A stream is read once: iterating again yields no events and sends nothing."""
        adapter = ScriptedAdapter(["a b", "unused"])
        stream = adapter.stream(HELLO)
        assert len(list(stream)) == 6
        assert list(stream) == []
        assert list(stream.text_stream) == []
        assert adapter.remaining == 1


@given(st.text())
def test_text_deltas_join_to_the_text(text: str) -> None:
    """For any text, the streamed deltas are non-empty and join to exactly that text."""
    events = list(events_from_reply(Reply((Text(text),))))
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == text
    assert all(deltas)


class TestScriptedAstream:
    @pytest.mark.anyio
    async def test_astream_matches_stream(self) -> None:
        """astream yields the same events and conversation as stream, and records the same."""
        sync, async_ = ScriptedAdapter([TOOL_REPLY]), ScriptedAdapter([TOOL_REPLY])
        with sync.stream(HELLO, **OPTIONS) as stream:
            expected = list(stream)
        async with async_.astream(HELLO, **OPTIONS) as astream:
            events = [event async for event in astream]
        assert events == expected
        assert astream.conversation == stream.conversation
        assert async_.requests == sync.requests

    @pytest.mark.anyio
    async def test_astream_text_stream(self) -> None:
        """The async text_stream yields the text deltas; then the conversation is folded."""
        astream = ScriptedAdapter(["Hello there."]).astream(HELLO)
        pieces = [piece async for piece in astream.text_stream]
        assert pieces == ["Hello", " there."]
        assert astream.conversation.last.text == "Hello there."  # type: ignore[union-attr]

    @pytest.mark.anyio
    async def test_astream_checks_rules_at_call(self) -> None:
        """astream() raises RuleViolationError before anything is recorded."""
        adapter = ScriptedAdapter(["x"])
        with pytest.raises(RuleViolationError):
            adapter.astream(Conversation())
        assert adapter.requests == []

    @pytest.mark.anyio
    async def test_astream_closed_before_start_sends_nothing(self) -> None:
        """An async stream closed before it started records nothing and yields nothing."""
        adapter = ScriptedAdapter(["x"])
        astream = adapter.astream(HELLO)
        await astream.aclose()
        assert [event async for event in astream] == []
        assert adapter.requests == []
        with pytest.raises(StreamNotConsumedError, match="closed"):
            _ = astream.conversation

    @pytest.mark.anyio
    async def test_astream_raises_scripted_exception_on_enter(self) -> None:
        """A scripted exception is raised by async with, when the stream starts."""
        adapter = ScriptedAdapter([TimeoutError("slow")])
        with pytest.raises(TimeoutError, match="slow"):
            async with adapter.astream(HELLO):
                pass
        assert len(adapter.requests) == 1

    @pytest.mark.anyio
    async def test_astream_break_then_exit_closes(self) -> None:
        """Leaving async with early closes the stream; the conversation is then unavailable."""
        async with ScriptedAdapter(["one two three"]).astream(HELLO) as astream:
            async for event in astream:
                if isinstance(event, TextDelta):
                    break
        assert repr(astream) == "<AsyncScriptedStream closed>"
        with pytest.raises(StreamNotConsumedError):
            _ = astream.conversation


# --- FunctionAdapter ----------------------------------------------------------------------


class TestFunctionAdapter:
    def test_sync_function_gets_conversation_and_options(self) -> None:
        """fn is called with the conversation and merged options; its str becomes the reply."""
        calls: list[tuple[Conversation, dict[str, Any]]] = []

        def bot(c: Conversation, options: dict[str, Any]) -> str:
            calls.append((c, options))
            return f"You said: {c.last.text}"  # type: ignore[union-attr]

        adapter = FunctionAdapter(bot, default_options=OPTIONS)
        c = adapter.send(HELLO, temperature=0.5)
        assert calls == [(HELLO, {**OPTIONS, "temperature": 0.5})]
        assert c.last.text == "You said: Hello, Claude"  # type: ignore[union-attr]
        assert c.last.provenance.id == "msg_function_0001"  # type: ignore[union-attr]
        assert adapter.requests == [HELLO.to_payload(**OPTIONS, temperature=0.5)]

    def test_function_may_return_dicts_and_replies(self) -> None:
        """A reply dict or a Reply from fn is folded like a scripted one."""
        replies: Iterator[ReplyLike] = iter([TOOL_REPLY, Reply((Text("r"),), id="msg_r")])
        adapter = FunctionAdapter(lambda c, o: next(replies))
        c = adapter.send(HELLO)
        assert c.last.provenance.stop_reason == "tool_use"  # type: ignore[union-attr]
        answered = c.user([ToolResult("toolu_01", "sunny")])
        assert adapter.send(answered).last.provenance.id == "msg_r"  # type: ignore[union-attr]

    def test_options_are_a_fresh_dict_each_call(self) -> None:
        """fn may change the options it gets without changing later calls."""

        def greedy(c: Conversation, options: dict[str, Any]) -> str:
            seen = dict(options)
            options["model"] = "changed"
            return json.dumps(seen)

        adapter = FunctionAdapter(greedy, default_options={"model": "m"})
        first = adapter.send(HELLO).last.text  # type: ignore[union-attr]
        second = adapter.send(HELLO).last.text  # type: ignore[union-attr]
        assert first == second == '{"model": "m"}'

    def test_function_exception_propagates(self) -> None:
        """An exception from fn reaches the caller unchanged; the request was recorded."""

        def broken(c: Conversation, options: dict[str, Any]) -> str:
            raise KeyError("bug in the test double")

        adapter = FunctionAdapter(broken)
        with pytest.raises(KeyError, match="bug in the test double"):
            adapter.send(HELLO)
        assert len(adapter.requests) == 1

    def test_bad_return_value_names_the_function(self) -> None:
        """A return value that is no reply raises MalformedReplyError naming fn."""

        def numbers(c: Conversation, options: dict[str, Any]) -> Any:
            return 7

        with pytest.raises(MalformedReplyError, match=r"reply of .*numbers\(\) is a int"):
            FunctionAdapter(numbers).send(HELLO)

    def test_send_refuses_async_function(self) -> None:
        """send and stream refuse an async fn, pointing to asend, and record nothing."""

        async def bot(c: Conversation, options: dict[str, Any]) -> str:
            return "never"

        adapter = FunctionAdapter(bot)
        with pytest.raises(AdapterError, match=r"is async: call `await adapter\.asend"):
            adapter.send(HELLO)
        with pytest.raises(AdapterError, match="is async"):
            adapter.stream(HELLO)
        assert adapter.requests == []

    def test_send_refuses_awaitable_result(self) -> None:
        """A sync callable returning a coroutine is refused by send (and the coroutine closed)."""

        async def later() -> str:
            return "never"

        with pytest.raises(AdapterError, match="returned an awaitable"):
            FunctionAdapter(lambda c, o: later()).send(HELLO)

    def test_rules_checked_before_calling(self) -> None:
        """fn is not called for a payload the API would reject."""
        calls: list[Conversation] = []

        def bot(c: Conversation, options: dict[str, Any]) -> str:
            calls.append(c)
            return "x"

        adapter = FunctionAdapter(bot)
        with pytest.raises(RuleViolationError):
            adapter.send(Conversation())
        assert calls == []
        assert adapter.requests == []

    def test_not_callable_refused(self) -> None:
        """A FunctionAdapter needs a callable."""
        with pytest.raises(MalformedInputError, match="fn must be callable"):
            FunctionAdapter("reply")  # type: ignore[arg-type]

    def test_repr(self) -> None:
        """The repr names the function, whether it is async, the model and the requests."""

        async def bot(c: Conversation, options: dict[str, Any]) -> str:
            return "x"

        adapter = FunctionAdapter(bot, model="m")
        expected = "<FunctionAdapter async fn=TestFunctionAdapter.test_repr.<locals>.bot"
        assert repr(adapter) == f"{expected} model='m': 0 requests>"
        assert adapter.fn is bot

    @pytest.mark.anyio
    async def test_asend_awaits_async_function(self) -> None:
        """asend awaits an async fn and folds what it returns."""

        async def bot(c: Conversation, options: dict[str, Any]) -> str:
            return "async hello"

        adapter = FunctionAdapter(bot)
        c = await adapter.asend(HELLO)
        assert c.last.text == "async hello"  # type: ignore[union-attr]
        assert adapter.requests == [HELLO.to_payload()]

    @pytest.mark.anyio
    async def test_asend_calls_sync_function(self) -> None:
        """asend also serves a plain sync fn."""
        c = await FunctionAdapter(lambda c, o: "sync").asend(HELLO)
        assert c.last.text == "sync"  # type: ignore[union-attr]

    @pytest.mark.anyio
    async def test_astream_with_async_function(self) -> None:
        """astream streams an async fn's reply; fn sees "stream": True in its options."""
        seen: list[dict[str, Any]] = []

        async def bot(c: Conversation, options: dict[str, Any]) -> str:
            seen.append(options)
            return "streamed reply"

        adapter = FunctionAdapter(bot)
        async with adapter.astream(HELLO, max_tokens=9) as astream:
            text = "".join([piece async for piece in astream.text_stream])
        assert text == "streamed reply"
        assert seen == [{"max_tokens": 9, "stream": True}]
        assert astream.conversation == await FunctionAdapter(bot).asend(HELLO, max_tokens=9)

    def test_sync_stream(self) -> None:
        """stream works with a sync fn and equals send."""
        adapter = FunctionAdapter(lambda c, o: "hi there")
        with adapter.stream(HELLO) as stream:
            assert list(stream.text_stream) == ["hi", " there"]
        assert stream.conversation == FunctionAdapter(lambda c, o: "hi there").send(HELLO)
