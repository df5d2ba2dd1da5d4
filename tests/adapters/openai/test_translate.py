"""Tests for adapters.openai._translate and ._chunks: a Conversation in Chat Completions terms.

Every rule of the module docs has a test: what is translated, and what is
refused before sending (a RuleViolationError naming turn and block). The
property tests hold the stream reader to the whole-reply reader: any reply,
however its chunks are cut, folds to the same turn streamed or sent whole.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters._http import Accumulator
from adapters._http._sse import DONE
from adapters.openai._chunks import ChunkReader
from adapters.openai._translate import chat_body, reply_from_completion
from conversation import (
    Conversation,
    Document,
    Image,
    MalformedReplyError,
    RuleViolationError,
    Thinking,
    ToolResult,
    ToolUse,
)
from conversation.tools import Tool
from tests.adapters.openai.fake_chat import completion, frames

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
WEATHER = Tool(
    "get_weather",
    "The weather in a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


def body(conversation: Conversation, **options: Any) -> dict[str, Any]:
    """The Chat Completions body of ``conversation`` sent with ``options``."""
    chat: dict[str, Any] = {
        name: options.pop(name) for name in ("seed", "response_format") if name in options
    }
    return chat_body(conversation.to_payload(model="gpt-x", **options), chat)


def refused(conversation: Conversation, **options: Any) -> RuleViolationError:
    with pytest.raises(RuleViolationError) as info:
        body(conversation, **options)
    return info.value


class TestRequest:
    def test_system_and_turns(self) -> None:
        chat = Conversation(system="Be brief.").user("Hi").assistant("Hello!").user("Bye")
        assert body(chat) == {
            "model": "gpt-x",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Bye"},
            ],
        }

    def test_system_blocks_are_text_parts_without_cache_control(self) -> None:
        chat = Conversation(
            system=[
                {"type": "text", "text": "One.", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "Two."},
            ]
        ).user("Hi")
        assert body(chat)["messages"][0] == {
            "role": "system",
            "content": [{"type": "text", "text": "One."}, {"type": "text", "text": "Two."}],
        }

    def test_images_base64_as_data_url_and_url_as_is(self) -> None:
        image = Image.from_bytes(base64.b64decode(PNG))
        chat = Conversation().user([image, Image.from_url("https://example.com/a.png"), "Both?"])
        (message,) = body(chat)["messages"]
        assert message == {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                {"type": "text", "text": "Both?"},
            ],
        }

    def test_tool_use_and_results_in_order(self) -> None:
        calls = [
            ToolUse("call_1", "get_weather", {"city": "Paris"}),
            ToolUse("call_2", "get_weather", {"city": "Rome"}),
        ]
        chat = (
            Conversation()
            .user("Weather?")
            .assistant(["Checking.", *calls])
            .user(
                [
                    ToolResult("call_1", "Sunny"),
                    ToolResult("call_2", [{"type": "text", "text": "Rain"}], is_error=True),
                    "Thanks",
                ]
            )
        )
        messages = body(chat, tools=[WEATHER])["messages"]
        assert messages[1] == {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        }
        assert messages[2:] == [
            {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"},
            {"role": "tool", "tool_call_id": "call_2", "content": "Error: Rain"},
            {"role": "user", "content": "Thanks"},
        ]

    def test_assistant_of_tool_calls_only_has_null_content(self) -> None:
        chat = (
            Conversation()
            .user("Weather?")
            .assistant([ToolUse("c", "get_weather", {})])
            .user([ToolResult("c", "x")])
        )
        assert body(chat)["messages"][1]["content"] is None

    def test_tools_and_choices(self) -> None:
        chat = Conversation().user("Hi")
        sent = body(
            chat, tools=[WEATHER], tool_choice={"type": "any", "disable_parallel_tool_use": True}
        )
        assert sent["tools"] == [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER.to_wire()["input_schema"],
                    "description": "The weather in a city.",
                },
            }
        ]
        assert sent["tool_choice"] == "required"
        assert sent["parallel_tool_calls"] is False

    @pytest.mark.parametrize(
        ("choice", "expected"),
        [
            ({"type": "auto"}, "auto"),
            ({"type": "none"}, "none"),
            (
                {"type": "tool", "name": "get_weather"},
                {"type": "function", "function": {"name": "get_weather"}},
            ),
        ],
    )
    def test_tool_choice(self, choice: dict[str, Any], expected: Any) -> None:
        assert (
            body(Conversation().user("Hi"), tools=[WEATHER], tool_choice=choice)["tool_choice"]
            == expected
        )

    def test_generation_fields(self) -> None:
        sent = body(
            Conversation().user("Hi"),
            max_tokens=64,
            temperature=0.5,
            top_p=0.9,
            stop_sequences=["END"],
            metadata={"user_id": "u-1"},
            seed=7,
            response_format={"type": "json_object"},
        )
        assert {k: v for k, v in sent.items() if k not in ("model", "messages")} == {
            "max_tokens": 64,
            "temperature": 0.5,
            "top_p": 0.9,
            "stop": ["END"],
            "user": "u-1",
            "seed": 7,
            "response_format": {"type": "json_object"},
        }


class TestRefused:
    def test_prefill(self) -> None:
        error = refused(Conversation().user("Hi").assistant("The answer is"))
        (violation,) = error.violations
        assert (violation.rule, violation.turn) == ("openai_prefill", 1)
        assert "prefill" in str(error)

    def test_thinking_names_turn_and_block(self) -> None:
        chat = Conversation().user("Hi").assistant([Thinking("hmm", "sig"), "Hello"]).user("Go on")
        (violation,) = refused(chat).violations
        assert (violation.rule, violation.turn, violation.block) == (
            "openai_unsupported_block",
            1,
            0,
        )
        assert "thinking" in violation.message

    def test_document(self) -> None:
        chat = Conversation().user(["Read this.", Document.from_text("Some text.")])
        (violation,) = refused(chat).violations
        assert (violation.rule, violation.turn, violation.block) == (
            "openai_unsupported_block",
            0,
            1,
        )

    def test_image_by_file_id(self) -> None:
        chat = Conversation().user(
            [{"type": "image", "source": {"type": "file", "file_id": "file_1"}}, "What?"]
        )
        (violation,) = refused(chat).violations
        assert (violation.rule, violation.turn, violation.block) == ("openai_image_source", 0, 0)

    def test_image_in_tool_result(self) -> None:
        image = {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": PNG},
        }
        chat = (
            Conversation()
            .user("Hi")
            .assistant([ToolUse("c", "shot", {})])
            .user([ToolResult("c", [image])])
        )
        (violation,) = refused(chat).violations
        assert (violation.rule, violation.turn, violation.block) == (
            "openai_tool_result_content",
            2,
            0,
        )

    def test_server_tool(self) -> None:
        search = {"type": "web_search_20250305", "name": "web_search"}
        (violation,) = refused(Conversation().user("Hi"), tools=[search]).violations
        assert violation.rule == "openai_server_tool"

    @pytest.mark.parametrize("field", ["top_k", "thinking"])
    def test_fields_without_equivalent(self, field: str) -> None:
        value: Any = 5 if field == "top_k" else {"type": "enabled", "budget_tokens": 1024}
        (violation,) = refused(Conversation().user("Hi"), **{field: value}).violations
        assert violation.rule == "openai_no_equivalent"
        assert repr(field) in violation.message

    def test_every_violation_at_once(self) -> None:
        chat = (
            Conversation().user(["x", Document.from_text("d")]).assistant([Thinking("t", "s"), "y"])
        )
        rules = [v.rule for v in refused(chat, top_k=3).violations]
        assert sorted(rules) == sorted(
            [
                "openai_unsupported_block",
                "openai_unsupported_block",
                "openai_prefill",
                "openai_no_equivalent",
            ]
        )


class TestReply:
    def test_text(self) -> None:
        reply = reply_from_completion(json.dumps(completion("Hello")).encode())
        assert reply["content"] == [{"type": "text", "text": "Hello"}]
        assert reply["stop_reason"] == "end_turn"
        assert reply["usage"] == {"input_tokens": 11, "output_tokens": 7}
        assert reply["chat_completion"] == {
            "created": 1_700_000_000,
            "system_fingerprint": "fp_fake",
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }

    def test_tool_calls(self) -> None:
        data = completion("Let me look.", tool_calls=[("c1", "get_weather", {"city": "Oslo"})])
        reply = reply_from_completion(json.dumps(data).encode())
        assert reply["content"] == [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "c1", "name": "get_weather", "input": {"city": "Oslo"}},
        ]
        assert reply["stop_reason"] == "tool_use"

    @pytest.mark.parametrize(
        ("finish", "stop"),
        [
            ("stop", "end_turn"),
            ("length", "max_tokens"),
            ("tool_calls", "tool_use"),
            ("content_filter", "refusal"),
            ("eos", "eos"),
        ],
    )
    def test_finish_reason(self, finish: str, stop: str) -> None:
        reply = reply_from_completion(json.dumps(completion("x", finish_reason=finish)).encode())
        assert reply["stop_reason"] == stop
        assert reply["chat_completion"]["finish_reason"] == finish

    def test_cached_tokens(self) -> None:
        reply = reply_from_completion(
            json.dumps(completion("x", prompt_tokens=100, cached_tokens=64)).encode()
        )
        assert reply["usage"] == {
            "input_tokens": 36,
            "output_tokens": 7,
            "cache_read_input_tokens": 64,
        }

    def test_refusal(self) -> None:
        data = completion(None)
        data["choices"][0]["message"]["refusal"] = "I can't help with that."
        reply = reply_from_completion(json.dumps(data).encode())
        assert reply["content"] == [{"type": "text", "text": "I can't help with that."}]
        assert reply["stop_reason"] == "refusal"

    def test_fold_keeps_provider_fields_in_provenance(self) -> None:
        folded = (
            Conversation()
            .user("Hi")
            .fold(reply_from_completion(json.dumps(completion("Yo")).encode()))
        )
        assert folded.last is not None
        assert folded.last.provenance is not None
        (info,) = folded.last.provenance.replies
        assert info.extra["chat_completion"]["finish_reason"] == "stop"

    @pytest.mark.parametrize(
        "raw",
        [b"not json", b"{}", b'{"choices": []}', b'{"choices": [{"message": 3}]}'],
    )
    def test_malformed(self, raw: bytes) -> None:
        with pytest.raises(MalformedReplyError):
            reply_from_completion(raw)

    def test_arguments_not_json(self) -> None:
        data = completion(None, tool_calls=[("c1", "f", {})])
        data["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] = '{"city": '
        with pytest.raises(MalformedReplyError, match="not JSON"):
            reply_from_completion(json.dumps(data).encode())


def streamed(data: dict[str, Any], text_chunk: int, args_chunk: int) -> dict[str, Any]:
    """The reply the chunks of ``data`` fold to (ChunkReader into the Accumulator)."""
    reader, accumulator = ChunkReader(), Accumulator()
    for frame in frames(data, text_chunk, args_chunk):
        raw = frame.decode()[len("data: ") :].strip()
        name, chunk = (DONE, {}) if raw == DONE else ("message", json.loads(raw))
        for event in reader.feed(name, chunk):
            accumulator.feed(*event)
    return accumulator.final()


class TestStreamedEqualsWhole:
    @settings(max_examples=60, deadline=None)
    @given(
        text=st.text(max_size=60),
        calls=st.lists(
            st.dictionaries(
                st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=8), max_size=3
            ),
            max_size=3,
        ),
        text_chunk=st.integers(1, 9),
        args_chunk=st.integers(1, 9),
    )
    def test_same_reply(
        self, text: str, calls: list[dict[str, Any]], text_chunk: int, args_chunk: int
    ) -> None:
        """However the chunks are cut, the streamed reply folds to the whole one."""
        tool_calls = [(f"call_{i}", f"tool_{i}", arguments) for i, arguments in enumerate(calls)]
        data = completion(text or None, tool_calls=tool_calls)
        whole = reply_from_completion(json.dumps(data).encode())
        chat = Conversation().user("Hi")
        assert chat.fold(streamed(data, text_chunk, args_chunk)) == chat.fold(whole)
        assert chat.fold(streamed(data, text_chunk, args_chunk)).last == chat.fold(whole).last

    def test_error_chunk_is_an_error_event(self) -> None:
        assert ChunkReader().feed("message", {"error": {"message": "x"}}) == [
            ("error", {"error": {"message": "x"}})
        ]

    def test_done_before_any_chunk(self) -> None:
        with pytest.raises(MalformedReplyError, match="before any chunk"):
            ChunkReader().feed(DONE, {})
