"""Folding what the official SDK returns, and the fold's fallback rule.

``Conversation.fold`` takes the SDK's ``Message`` and ``BetaMessage`` (pydantic
models) without the library importing the SDK: it reads them through
``model_dump`` as the JSON the API sent. A ``fallback`` block makes the reply's
model the one that answered (its ``to.model``), as the SDK does.
"""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest
from anthropic._models import construct_type
from anthropic.types import Message
from anthropic.types.beta import BetaMessage
from hypothesis import given
from hypothesis import strategies as st

from conversation import Conversation, MalformedReplyError, Reply, UnknownBlock
from tests.strategies import json_values, reply_dicts

CHAT = Conversation().user("Hello")
REPLY: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Hi there."}],
    "model": "claude-sonnet-4-5",
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 5, "output_tokens": 3, "service_tier": "standard"},
}
FALLBACK_BLOCK = {
    "type": "fallback",
    "from": {"model": "claude-opus-4-7"},
    "to": {"model": "claude-sonnet-4-5"},
    "trigger": {"type": "refusal", "category": None},
}


def sdk_object(cls: type[Message] | type[BetaMessage], reply: dict[str, Any]) -> Message:
    """``reply`` as the SDK builds a response: its model class, constructed without validation."""
    built = construct_type(type_=cls, value=copy.deepcopy(reply))
    assert isinstance(built, cls)
    return cast(Message, built)


class TestSdkObjects:
    @pytest.mark.parametrize("cls", [Message, BetaMessage])
    def test_validated_message(self, cls: type[Message] | type[BetaMessage]) -> None:
        assert CHAT.fold(cls.model_validate(REPLY)) == CHAT.fold(REPLY)

    def test_newer_fields_and_blocks_the_sdk_keeps(self) -> None:
        """Unknown fields (kept by the SDK as extras) and blocks come through, under wire names."""
        reply = {
            **REPLY,
            "content": [FALLBACK_BLOCK, {"type": "x_new", "v": [1]}, *REPLY["content"]],
            "model": "claude-sonnet-4-5",
            "context_management": {"applied_edits": []},
            "x_new_field": {"a": 1},
        }
        for cls in (Message, BetaMessage):
            built = sdk_object(cls, reply)
            folded = CHAT.fold(built)
            assert folded == CHAT.fold(reply)
            info = folded.last.provenance.last  # type: ignore[union-attr]
            assert info is not None
            assert info.extra["x_new_field"] == {"a": 1}
        known = {**reply, "content": [FALLBACK_BLOCK, *REPLY["content"]]}  # validates
        assert CHAT.fold(BetaMessage.model_validate(known)) == CHAT.fold(known)

    @given(reply_dicts())
    def test_any_reply_as_an_sdk_object(self, reply: dict[str, Any]) -> None:
        expected = CHAT.fold(reply)
        for cls in (Message, BetaMessage):
            assert CHAT.fold(sdk_object(cls, reply)) == expected

    def test_malformed_objects(self) -> None:
        class Broken:
            def model_dump(self, **options: Any) -> Any:
                raise RuntimeError("boom")

        class NotAMessage:
            def model_dump(self, **options: Any) -> Any:
                return [1, 2]

        with pytest.raises(MalformedReplyError, match=r"Broken.*model_dump.*boom"):
            CHAT.fold(Broken())
        with pytest.raises(MalformedReplyError, match="must be a JSON object"):
            CHAT.fold(NotAMessage())
        with pytest.raises(MalformedReplyError, match="must be a JSON object"):
            CHAT.fold(object())  # type: ignore[arg-type]
        bad = sdk_object(Message, {**REPLY, "content": [{"type": 5}]})
        with pytest.raises(MalformedReplyError, match=r"\$\.content\[0\]"):
            CHAT.fold(bad)


class _Dumps:
    """A pydantic-like object whose ``model_dump`` gives ``value`` (or raises it)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def model_dump(self, **options: Any) -> Any:
        if isinstance(self.value, Exception):
            raise self.value
        return copy.deepcopy(self.value)


class TestMalformedObjects:
    @given(json_values() | st.builds(dict, content=json_values()) | st.just(ValueError("x")))
    def test_any_dump_folds_or_is_refused(self, value: Any) -> None:
        """Whatever a model_dump gives, the fold reads it or raises MalformedReplyError."""
        try:
            folded = CHAT.fold(_Dumps(value))
        except MalformedReplyError:
            return
        assert folded == CHAT.fold(value)


class TestFallback:
    def test_the_model_that_answered(self) -> None:
        """As the SDK relabels a streamed reply: the model is the last hop's ``to.model``."""
        reply = {
            **REPLY,
            "model": "claude-opus-4-7",
            "content": [FALLBACK_BLOCK, *REPLY["content"]],
        }
        folded = CHAT.fold(reply)
        last = folded.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.model == "claude-sonnet-4-5"
        assert type(last.blocks[0]) is UnknownBlock
        assert last.blocks[0].raw == FALLBACK_BLOCK
        assert folded == CHAT.fold({**reply, "model": "claude-sonnet-4-5"})
        assert Conversation.loads(folded.dumps()) == folded
        assert Reply.from_wire(reply).model == "claude-sonnet-4-5"
        typed = Reply.from_wire({**REPLY, "content": [FALLBACK_BLOCK]})
        assert CHAT.fold(Reply(typed.content, model="claude-opus-4-7")) == CHAT.fold(
            Reply(typed.content, model="claude-sonnet-4-5")
        )

    def test_a_fallback_without_a_model_changes_nothing(self) -> None:
        block = {**FALLBACK_BLOCK, "to": {"name": "x"}}
        folded = CHAT.fold({**REPLY, "model": "m", "content": [block]})
        assert folded.last is not None
        assert folded.last.provenance is not None
        assert folded.last.provenance.model == "m"
