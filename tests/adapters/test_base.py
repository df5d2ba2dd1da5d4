"""Tests for adapters._base: the protocols, option merging and request building."""

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

import adapters
from adapters import Adapter, FunctionAdapter, ScriptedAdapter, StreamingAdapter
from adapters._base import build_body, build_payload, check_defaults, merge_options
from conversation import Conversation, MalformedInputError, RuleViolationError
from conversation.tools import AsyncSender, Sender

CHAT = Conversation(system="Be brief.").user("Hello")


class TestMergeOptions:
    def test_call_options_override_defaults(self) -> None:
        """A per-call option replaces the adapter's default of the same name."""
        merged = merge_options({"model": "a", "max_tokens": 10}, {"max_tokens": 99})
        assert merged == {"model": "a", "max_tokens": 99}

    def test_none_unsets_a_default(self) -> None:
        """A per-call None leaves the field out of the request, default or not."""
        merged = merge_options({"temperature": 0.5, "model": "a"}, {"temperature": None})
        assert merged == {"model": "a"}
        assert merge_options({}, {"top_k": None}) == {}

    def test_none_default_is_left_out(self) -> None:
        """A default of None is never sent."""
        assert merge_options({"temperature": None}, {}) == {}

    def test_stream_flag_is_added_last(self) -> None:
        """stream=True adds "stream": true after the other options."""
        merged = merge_options({"model": "a"}, {"max_tokens": 5}, stream=True)
        assert list(merged.items()) == [("model", "a"), ("max_tokens", 5), ("stream", True)]

    @pytest.mark.parametrize(
        ("defaults", "options"), [({"stream": True}, {}), ({}, {"stream": False})]
    )
    def test_stream_is_not_an_option(
        self, defaults: dict[str, Any], options: dict[str, Any]
    ) -> None:
        """Giving "stream" as an option is refused, pointing at stream()/send()."""
        with pytest.raises(MalformedInputError, match=r"adapter\.stream"):
            merge_options(defaults, options)

    def test_inputs_are_not_changed(self) -> None:
        """Merging builds a new dict and leaves both inputs as they were."""
        defaults, options = {"model": "a"}, {"temperature": None}
        merge_options(defaults, options, stream=True)
        assert defaults == {"model": "a"}
        assert options == {"temperature": None}


class TestCheckDefaults:
    def test_none_is_no_defaults(self) -> None:
        """default_options=None means an empty set of defaults."""
        assert check_defaults(None) == {}

    def test_copy_is_independent(self) -> None:
        """The adapter keeps a copy, so later changes to the caller's dict do not leak in."""
        given = {"model": "a"}
        kept = check_defaults(given)
        given["model"] = "b"
        assert kept == {"model": "a"}

    @pytest.mark.parametrize(
        ("defaults", "message"),
        [
            ([("model", "a")], "must be a mapping"),
            ({1: "a"}, "option names must be strings"),
            ({"stream": True}, "not an option"),
        ],
    )
    def test_bad_defaults_refused(self, defaults: Any, message: str) -> None:
        """Defaults that are not a mapping of names, or that name stream, fail at once."""
        with pytest.raises(MalformedInputError, match=message):
            check_defaults(defaults)


class TestBuildRequest:
    def test_payload_is_to_payload(self) -> None:
        """build_payload returns exactly what Conversation.to_payload makes."""
        options = {"model": "m", "max_tokens": 8}
        assert build_payload(CHAT, options) == CHAT.to_payload(**options)

    def test_body_is_to_json(self) -> None:
        """build_body returns exactly the bytes Conversation.to_json makes."""
        options = {"model": "m", "max_tokens": 8}
        assert build_body(CHAT, options) == CHAT.to_json(**options)

    @pytest.mark.parametrize("build", [build_payload, build_body])
    def test_rules_are_checked(self, build: Any) -> None:
        """Both raise RuleViolationError for a payload the API would reject."""
        with pytest.raises(RuleViolationError):
            build(Conversation(), {})

    @pytest.mark.parametrize("build", [build_payload, build_body])
    def test_non_conversation_refused(self, build: Any) -> None:
        """Passing anything but a Conversation is a clear error that says how to build one."""
        with pytest.raises(MalformedInputError, match=r"got str 'Hello'.*Conversation\(\)\.user"):
            build("Hello", {})


class _SendOnly:
    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        return conversation


class _Both(_SendOnly):
    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        return conversation


class TestProtocols:
    @pytest.mark.parametrize(
        "make",
        [lambda: ScriptedAdapter(["Hi."]), lambda: FunctionAdapter(lambda c, o: "Hi.")],
        ids=["scripted", "function"],
    )
    def test_offline_adapters_work_as_streaming_adapters(
        self, make: Callable[[], StreamingAdapter]
    ) -> None:
        """Each offline adapter is a StreamingAdapter, and used only through the protocol it
        streams the reply that send gives (tests/test_typed_usage.py checks the types)."""
        adapter = make()
        assert isinstance(adapter, Adapter)
        assert isinstance(adapter, StreamingAdapter)
        with adapter.stream(CHAT, model="m", max_tokens=8) as stream:
            text = "".join(stream.text_stream)
        assert text == "Hi."
        assert stream.conversation.last is not None
        assert stream.conversation.last.text == "Hi."
        assert stream.conversation[:-1] == CHAT

    def test_adapter_is_the_cores_two_sender_protocols(self) -> None:
        """Adapter declares no send or asend of its own: it is conversation.tools' Sender and
        AsyncSender at once, so the core's helpers and the adapters share one declaration."""
        assert Sender in Adapter.__mro__
        assert AsyncSender in Adapter.__mro__
        assert "send" not in vars(Adapter)
        assert "asend" not in vars(Adapter)
        assert isinstance(_Both(), Sender)
        assert isinstance(_Both(), AsyncSender)

    def test_any_class_with_send_and_asend_is_an_adapter(self) -> None:
        """The protocol is structural: send plus asend make an Adapter, send alone does not."""
        assert isinstance(_Both(), Adapter)
        assert not isinstance(_Both(), StreamingAdapter)
        assert not isinstance(_SendOnly(), Adapter)


def test_all_lists_the_public_names() -> None:
    """adapters.__all__ is sorted, complete, and every name in it is importable."""
    public = {
        name
        for name, value in vars(adapters).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)  # not submodules
    }
    assert sorted(adapters.__all__) == sorted(public)
    assert adapters.__all__ == sorted(adapters.__all__, key=str)
    for name in adapters.__all__:
        assert getattr(adapters, name) is not None
