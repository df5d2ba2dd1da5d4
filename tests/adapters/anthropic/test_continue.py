"""Tests for continue_reply / acontinue_reply: a max_tokens reply carried on into one turn.

They live in ``conversation.continuation`` (any adapter will do); the old
names in ``adapters.anthropic`` warn and forward with the old argument order.
"""

from __future__ import annotations

import json

import pytest

import adapters.anthropic
from adapters import ScriptedAdapter
from adapters.anthropic import PrefillNotSupportedError
from conversation import Conversation, MalformedInputError, Usage
from conversation.continuation import (
    ContinuationError,
    _as_prefill,
    acontinue_reply,
    continue_reply,
)
from tests.adapters.anthropic.mocks import HELLO, OPTIONS, MakeAdapter, fail, message, ok

CUT = HELLO.fold(
    message("Once upon a time ", stop_reason="max_tokens", input_tokens=10, output_tokens=5)
)
CONTINUATIONS = (
    ok(message(" there was", stop_reason="max_tokens", input_tokens=12, output_tokens=4)),
    ok(message(" a fox.", stop_reason="end_turn", input_tokens=14, output_tokens=3)),
)
THINKING = {"type": "enabled", "budget_tokens": 2048}


class TestContinueReply:
    def test_merges_into_one_turn(self, make_adapter: MakeAdapter) -> None:
        """Continuations join the cut reply into ONE assistant turn, usage summed."""
        adapter, recorder, _ = make_adapter(*CONTINUATIONS)
        result = continue_reply(CUT, adapter, **OPTIONS)
        assert len(result) == 2
        last = result.last
        assert last is not None
        assert last.provenance is not None
        assert last.text == "Once upon a time there was a fox."
        assert len(last.provenance.replies) == 3
        assert last.provenance.stop_reason == "end_turn"
        assert last.provenance.usage == Usage(input_tokens=36, output_tokens=12)
        assert len(recorder.requests) == 2
        assert result[:1] == HELLO

    def test_sends_stripped_prefill(self, make_adapter: MakeAdapter) -> None:
        """Each continuation sends the partial turn as a prefill without trailing whitespace."""
        adapter, recorder, _ = make_adapter(*CONTINUATIONS)
        continue_reply(CUT, adapter, **OPTIONS)
        first, second = recorder.bodies
        assert first["messages"][-1] == {"role": "assistant", "content": "Once upon a time"}
        assert second["messages"][-1] == {
            "role": "assistant",
            "content": "Once upon a time there was",
        }
        assert recorder.requests[0].content == _as_prefill(CUT).to_json(**OPTIONS)

    @pytest.mark.parametrize("bound", [0, 1, 3])
    def test_bound(self, make_adapter: MakeAdapter, bound: int) -> None:
        """At most max_continuations requests are sent; the turn may still be cut."""
        endless = ok(message(" and", stop_reason="max_tokens"))
        adapter, recorder, _ = make_adapter(endless)
        result = continue_reply(CUT, adapter, max_continuations=bound, **OPTIONS)
        assert len(recorder.requests) == bound
        assert result.last is not None
        assert result.last.provenance is not None
        assert result.last.provenance.stop_reason == "max_tokens"
        assert len(result.last.provenance.replies) == 1 + bound
        expected = "Once upon a time" + " and" * bound if bound else "Once upon a time "
        assert result.last.text == expected

    @pytest.mark.parametrize(
        "conversation",
        [
            HELLO,
            HELLO.fold(message("Complete.")),
            HELLO.assistant("A synthetic turn"),
        ],
    )
    def test_nothing_to_continue(
        self, make_adapter: MakeAdapter, conversation: Conversation
    ) -> None:
        """A conversation whose last turn is not a cut reply comes back as is, nothing sent."""
        adapter, recorder, _ = make_adapter()
        assert continue_reply(conversation, adapter, **OPTIONS) is conversation
        assert recorder.requests == []

    def test_thinking_refused(self, make_adapter: MakeAdapter) -> None:
        """Thinking on (in the call or the adapter's defaults) is refused before sending."""
        adapter, recorder, _ = make_adapter()
        with pytest.raises(ContinuationError, match="thinking"):
            continue_reply(CUT, adapter, **OPTIONS, thinking=THINKING)
        thinking_adapter, recorder2, _ = make_adapter(default_options={"thinking": THINKING})
        with pytest.raises(ContinuationError, match="prefill"):
            continue_reply(CUT, thinking_adapter, **OPTIONS)
        assert recorder.requests == recorder2.requests == []

    def test_thinking_off_for_the_call(self, make_adapter: MakeAdapter) -> None:
        """A call may turn an adapter's default thinking off to continue."""
        adapter, recorder, _ = make_adapter(
            CONTINUATIONS[1], default_options={"thinking": THINKING}
        )
        continue_reply(CUT, adapter, **OPTIONS, thinking=None)
        assert "thinking" not in recorder.bodies[0]

    def test_whitespace_only_reply(self, make_adapter: MakeAdapter) -> None:
        """A cut reply of only whitespace cannot be a prefill: ContinuationError, nothing sent."""
        blank = HELLO.fold(message("  \n", stop_reason="max_tokens"))
        adapter, recorder, _ = make_adapter()
        with pytest.raises(ContinuationError, match="whitespace"):
            continue_reply(blank, adapter, **OPTIONS)
        assert recorder.requests == []

    def test_cut_in_a_tool_call(self, make_adapter: MakeAdapter) -> None:
        """A reply cut inside a tool_use block cannot be continued: ContinuationError."""
        reply = message("x", stop_reason="max_tokens")
        reply["content"] = [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}},
        ]
        adapter, recorder, _ = make_adapter()
        with pytest.raises(ContinuationError, match="tool_use block"):
            continue_reply(HELLO.fold(reply), adapter, **OPTIONS)
        assert recorder.requests == []

    def test_failure_leaves_conversation(self, make_adapter: MakeAdapter) -> None:
        """A model that refuses prefill raises PrefillNotSupportedError; CUT is unchanged."""
        saved = CUT.dumps()
        refusal = fail(
            400, "invalid_request_error", "This model does not support assistant message prefill."
        )
        adapter, recorder, _ = make_adapter(refusal)
        with pytest.raises(PrefillNotSupportedError):
            continue_reply(CUT, adapter, **OPTIONS)
        assert len(recorder.requests) == 1
        assert Conversation.loads(saved) == CUT
        assert CUT.dumps() == saved

    @pytest.mark.parametrize("bound", [-1, 1.5, "2"])
    def test_bad_bound(self, make_adapter: MakeAdapter, bound: object) -> None:
        """max_continuations must be an int >= 0."""
        adapter, _, _ = make_adapter()
        with pytest.raises(MalformedInputError, match="max_continuations"):
            continue_reply(CUT, adapter, max_continuations=bound, **OPTIONS)  # type: ignore[arg-type]

    def test_any_adapter(self) -> None:
        """continue_reply works through the Adapter protocol (here a ScriptedAdapter)."""
        adapter = ScriptedAdapter(
            [{"content": [{"type": "text", "text": " the end."}], "stop_reason": "end_turn"}]
        )
        result = continue_reply(CUT, adapter, **OPTIONS)
        assert result.last is not None
        assert result.last.text == "Once upon a time the end."
        assert adapter.requests[0]["messages"][-1]["content"] == "Once upon a time"

    def test_keeps_blocks_before_the_text(self, make_adapter: MakeAdapter) -> None:
        """Only the final text block is stripped; earlier blocks go back unchanged."""
        reply = message("x", stop_reason="max_tokens")
        reply["content"] = [
            {"type": "text", "text": "Part one. "},
            {"type": "text", "text": "Part two "},
        ]
        cut = HELLO.fold(reply)
        adapter, recorder, _ = make_adapter(CONTINUATIONS[1])
        result = continue_reply(cut, adapter, **OPTIONS)
        sent = recorder.bodies[0]["messages"][-1]["content"]
        assert sent[0]["text"] == "Part one. "
        assert sent[-1]["text"] == "Part two"
        assert result.last is not None
        assert result.last.text == "Part one. Part two a fox."


class TestAsyncContinueReply:
    @pytest.mark.anyio
    async def test_merges_into_one_turn(self, make_adapter: MakeAdapter) -> None:
        """acontinue_reply merges the same way, with asend."""
        adapter, recorder, _ = make_adapter(*CONTINUATIONS)
        result = await acontinue_reply(CUT, adapter, **OPTIONS)
        assert result == continue_reply(CUT, make_adapter(*CONTINUATIONS)[0], **OPTIONS)
        assert len(recorder.requests) == 2
        assert json.loads(recorder.requests[0].content)["messages"][-1]["content"] == (
            "Once upon a time"
        )

    @pytest.mark.anyio
    async def test_thinking_refused(self, make_adapter: MakeAdapter) -> None:
        """acontinue_reply refuses thinking before sending too."""
        adapter, recorder, _ = make_adapter()
        with pytest.raises(ContinuationError):
            await acontinue_reply(CUT, adapter, **OPTIONS, thinking={"type": "adaptive"})
        assert recorder.requests == []

    @pytest.mark.anyio
    async def test_bound(self, make_adapter: MakeAdapter) -> None:
        """acontinue_reply stops at max_continuations."""
        adapter, recorder, _ = make_adapter(ok(message(" more", stop_reason="max_tokens")))
        await acontinue_reply(CUT, adapter, max_continuations=2, **OPTIONS)
        assert len(recorder.requests) == 2


class TestDeprecatedAliases:
    def test_old_name_warns_and_forwards(self, make_adapter: MakeAdapter) -> None:
        """adapters.anthropic.continue_reply(adapter, conversation) warns, then does the same."""
        adapter, recorder, _ = make_adapter(*CONTINUATIONS)
        with pytest.warns(DeprecationWarning, match=r"conversation\.continuation"):
            result = adapters.anthropic.continue_reply(adapter, CUT, **OPTIONS)
        assert result == continue_reply(CUT, make_adapter(*CONTINUATIONS)[0], **OPTIONS)
        assert len(recorder.requests) == 2

    @pytest.mark.anyio
    async def test_old_async_name_warns_and_forwards(self, make_adapter: MakeAdapter) -> None:
        """adapters.anthropic.acontinue_reply warns and forwards max_continuations too."""
        adapter, recorder, _ = make_adapter(ok(message(" more", stop_reason="max_tokens")))
        with pytest.warns(DeprecationWarning, match="acontinue_reply"):
            await adapters.anthropic.acontinue_reply(adapter, CUT, max_continuations=1, **OPTIONS)
        assert len(recorder.requests) == 1

    def test_old_error_name_is_the_core_error(self) -> None:
        """adapters.anthropic.ContinuationError is the core's class: old except clauses work."""
        assert adapters.anthropic.ContinuationError is ContinuationError
