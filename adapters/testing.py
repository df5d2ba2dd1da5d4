"""The conformance kit: one pytest class that checks an adapter keeps the adapter contract.

An adapter's author subclasses :class:`AdapterContract` in a test module and
gives two fixtures, ``adapter`` (the adapter under test, pointed at a local
fake of its provider) and ``fake`` (that fake, driven through the small
:class:`ProviderFake` protocol); pytest then runs every check on it. Needs
pytest (this module imports it). For example, for this library's scripted
adapter (a fake of its own)::

    import pytest
    from adapters.scripted import ScriptedAdapter
    from adapters.testing import AdapterContract, ScriptedFake

    class TestScripted(AdapterContract):
        retries = False          # no network: nothing to retry
        interrupts = False       # a scripted stream is never cut

        @pytest.fixture
        def adapter(self):
            return ScriptedAdapter([])

        @pytest.fixture
        def fake(self, adapter):
            return ScriptedFake(adapter)

What is checked, each time also that the caller's conversation is unchanged:
``send`` and ``asend``; ``stream`` and ``astream`` (when the adapter streams)
give the same turn as ``send`` for the same reply; a prefill is either
continued (one assistant turn) or refused before sending with an error that
says "prefill"; a tool call goes round ``run_tools``; a turn of two images
and text reaches the provider with both images; an injected 429, 500 and
connection reset are retried (``retries = False`` skips these); every error
is a :class:`~conversation.ConversationError` that shows no API key, not in
its message, its repr, its attributes nor anything it chains; a stream cut
short raises :class:`~adapters.StreamInterruptedError` whose conversation
holds what arrived (``interrupts = False`` skips it).

Give the adapter a retry policy that does not sleep (``RetryPolicy(sleep=...,
async_sleep=...)``), and the options every request needs (``model``...) as
its ``default_options``, or override the ``options`` fixture.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import Iterator
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import anyio
import pytest

from conversation import AdapterError, Conversation, ConversationError, Image, ToolResult, ToolUse
from conversation.tools import run_tools, tool

from ._base import Adapter, StreamingAdapter
from .errors import StreamInterruptedError
from .scripted import ScriptedAdapter

__all__ = ["AdapterContract", "Fault", "ProviderFake", "ScriptedFake", "png"]

Fault = Literal["rate_limit", "server_error", "reset", "auth"]
"""An injected failure: a 429 (with a short retry-after), a 500, a connection reset
before any answer, a 401 (not retried)."""


@runtime_checkable
class ProviderFake(Protocol):
    """A local fake of the provider, as the kit drives it.

    Each method queues the answer to the next request; ``stream`` says whether
    that request will ask for a streamed reply (the kit knows: it is the one
    sending). ``requests()`` are the bodies of the requests received so far,
    in order; ``api_key`` is the key the adapter was given (None if none),
    which no error may show.
    """

    api_key: str | None

    def reply(self, text: str, *, stream: bool = False) -> None:
        """Answer with a reply of one text block."""
        ...

    def tool_call(
        self, id: str, name: str, arguments: dict[str, Any], *, stream: bool = False
    ) -> None:
        """Answer with a reply that calls tool ``name`` (call ``id``) with ``arguments``."""
        ...

    def fail(self, fault: Fault) -> None:
        """Answer with the failure ``fault``."""
        ...

    def cut_stream(self, text: str) -> None:
        """Stream a reply of ``text``, cut off (the connection dropped) after its first part."""
        ...

    def requests(self) -> list[bytes]:
        """The bodies of the requests received so far."""
        ...


class ScriptedFake:
    """The :class:`ProviderFake` of a :class:`~adapters.ScriptedAdapter`: its script.

    Failures are scripted as the :class:`~conversation.AdapterError` a
    transport would raise; a scripted adapter does not retry them.
    """

    api_key = None

    def __init__(self, adapter: ScriptedAdapter) -> None:
        self._adapter = adapter

    def reply(self, text: str, *, stream: bool = False) -> None:
        self._adapter.extend([text])

    def tool_call(
        self, id: str, name: str, arguments: dict[str, Any], *, stream: bool = False
    ) -> None:
        block = {"type": "tool_use", "id": id, "name": name, "input": arguments}
        self._adapter.extend([{"content": [block]}])

    def fail(self, fault: Fault) -> None:
        self._adapter.extend([AdapterError(f"scripted failure: {fault}")])

    def cut_stream(self, text: str) -> None:
        raise NotImplementedError("a scripted stream is never cut (interrupts = False)")

    def requests(self) -> list[bytes]:
        return [json.dumps(payload).encode() for payload in self._adapter.requests]


def png(width: int, height: int) -> bytes:
    """A small valid PNG (grey pixels), for image turns without image files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


CHAT = Conversation(system="You are terse.").user("Hello").assistant("Hi!").user("How are you?")
"""The conversation the checks send (a system prompt and three turns)."""


@tool
def get_weather(city: str) -> str:
    """The weather in ``city`` (the kit's tool: it always answers the same)."""
    return f"18 degrees and sunny in {city}"


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]


class AdapterContract:
    """The adapter contract as pytest tests: subclass it, give ``adapter`` and ``fake``.

    ``retries`` and ``interrupts`` say what the adapter can be asked: set them
    to False for an adapter without a network (nothing to retry, no stream to cut).
    """

    retries: ClassVar[bool] = True
    interrupts: ClassVar[bool] = True

    # -- what the author gives ----------------------------------------------------------

    @pytest.fixture
    def adapter(self) -> Adapter:
        """The adapter under test, pointed at ``fake``: override this fixture."""
        raise NotImplementedError("give the adapter under test: override the 'adapter' fixture")

    @pytest.fixture
    def fake(self) -> ProviderFake:
        """The local fake ``adapter`` talks to: override this fixture."""
        raise NotImplementedError("give the provider's fake: override the 'fake' fixture")

    @pytest.fixture
    def options(self) -> dict[str, Any]:
        """Options every request is sent with (none: put them in the adapter's defaults)."""
        return {}

    # -- helpers ------------------------------------------------------------------------

    @staticmethod
    def _streaming(adapter: Adapter) -> StreamingAdapter:
        if not isinstance(adapter, StreamingAdapter):
            pytest.skip("the adapter does not stream")
        return adapter

    @staticmethod
    def _unchanged(conversation: Conversation, saved: str) -> None:
        assert conversation.dumps() == saved, "the caller's conversation was changed"
        assert conversation == Conversation.loads(saved)

    @staticmethod
    def _answered(result: Conversation, text: str) -> None:
        assert result[: len(CHAT)] == CHAT, "the reply must be appended to the conversation sent"
        assert len(result) == len(CHAT) + 1
        last = result.last
        assert last is not None
        assert last.role == "assistant"
        assert last.text == text
        assert last.provenance is not None
        assert last.provenance.replies, "a model's turn records the reply it came from"

    def _no_key(self, error: BaseException, fake: ProviderFake) -> None:
        assert isinstance(error, ConversationError), (
            f"{type(error).__name__} is not a ConversationError"
        )
        key = fake.api_key
        if not key:
            return
        for linked in _chain(error):
            for shown in (str(linked), repr(linked), repr(linked.args), repr(vars(linked))):
                assert key not in shown, f"the API key shows in {type(linked).__name__}"

    # -- the checks ---------------------------------------------------------------------

    def test_send(self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]) -> None:
        """send returns the conversation with the reply folded in; the caller's is unchanged."""
        saved = CHAT.dumps()
        fake.reply("I am well.")
        self._answered(adapter.send(CHAT, **options), "I am well.")
        self._unchanged(CHAT, saved)

    def test_asend(self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]) -> None:
        """asend does what send does, awaited."""
        fake.reply("I am well.")

        async def main() -> Conversation:
            return await adapter.asend(CHAT, **options)

        self._answered(anyio.run(main), "I am well.")

    def test_stream_equals_send(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """A streamed reply folds to the same turn as the same reply sent whole."""
        streaming = self._streaming(adapter)
        text = "Streaming works, and it folds to the same turn as send."
        fake.reply(text)
        sent = adapter.send(CHAT, **options)
        fake.reply(text, stream=True)
        with streaming.stream(CHAT, **options) as stream:
            pieces = list(stream.text_stream)
        streamed = stream.conversation
        assert "".join(pieces) == text
        self._answered(streamed, text)
        sent_turn, streamed_turn = sent.last, streamed.last
        assert sent_turn is not None
        assert streamed_turn is not None
        assert streamed_turn.blocks == sent_turn.blocks
        sent_reply, streamed_reply = sent_turn.provenance, streamed_turn.provenance
        assert sent_reply is not None
        assert streamed_reply is not None
        assert streamed_reply.stop_reason == sent_reply.stop_reason == "end_turn"

    def test_astream(self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]) -> None:
        """astream yields the same text and folds the same turn."""
        streaming = self._streaming(adapter)
        text = "Streaming, awaited."
        fake.reply(text, stream=True)

        async def main() -> tuple[str, Conversation]:
            async with streaming.astream(CHAT, **options) as stream:
                pieces = [piece async for piece in stream.text_stream]
            return "".join(pieces), stream.conversation

        joined, result = anyio.run(main)
        assert joined == text
        self._answered(result, text)

    def test_prefill_continued_or_refused(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """A conversation ending with an assistant turn is continued as ONE turn, or refused
        before anything is sent with an error that says it is the prefill."""
        prefilled = CHAT.assistant("I am")
        saved = prefilled.dumps()
        before = len(fake.requests())
        fake.reply(" well, thank you.")
        try:
            result = adapter.send(prefilled, **options)
        except ConversationError as error:
            refusal: ConversationError | None = error
        else:
            refusal = None
        if refusal is not None:
            assert len(fake.requests()) == before, "a refused prefill must not be sent"
            assert "prefill" in str(refusal).lower(), f"unclear refusal: {refusal}"
        else:
            assert len(result) == len(prefilled), "the reply must continue the prefill's turn"
            assert result.last is not None
            assert result.last.text == "I am well, thank you."
        self._unchanged(prefilled, saved)

    def test_tool_round_trip(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """run_tools: the tool call is folded, run, answered, and the final reply folded."""
        start = Conversation().user("What is the weather in Paris?")
        fake.tool_call("call_kit_1", "get_weather", {"city": "Paris"})
        fake.reply("It is sunny in Paris.")
        done = run_tools(start, adapter, [get_weather], **options)
        assert [turn.role for turn in done] == ["user", "assistant", "user", "assistant"]
        (call,) = done[1].blocks
        assert isinstance(call, ToolUse)
        assert (call.id, call.name, dict(call.input)) == (
            "call_kit_1",
            "get_weather",
            {"city": "Paris"},
        )
        (result,) = done[2].blocks
        assert isinstance(result, ToolResult)
        assert result.tool_use_id == "call_kit_1"
        assert done.last is not None
        assert done.last.text == "It is sunny in Paris."
        answered = fake.requests()[-1]
        assert b"call_kit_1" in answered
        assert b"18 degrees and sunny in Paris" in answered

    def test_multi_image_turn(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """A turn of two images and text reaches the provider with both images, in order."""
        first, second = png(2, 2), png(3, 1)
        turn = [Image.from_bytes(first), Image.from_bytes(second), "Which is wider?"]
        chat = Conversation().user(turn)
        fake.reply("The second.")
        result = adapter.send(chat, **options)
        assert result.last is not None
        assert result.last.text == "The second."
        body = fake.requests()[-1]
        at = [body.find(base64.b64encode(image)) for image in (first, second)]
        assert -1 not in at, "both images must be sent"
        assert at[0] < at[1], "the images must be sent in order"
        assert body.find(b"Which is wider?") != -1

    @pytest.mark.parametrize("fault", ["rate_limit", "server_error", "reset"])
    def test_retries(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any], fault: Fault
    ) -> None:
        """An injected 429, 500 or reset is retried, and the retry's reply folded."""
        if not self.retries:
            pytest.skip("the adapter has nothing to retry (retries = False)")
        before = len(fake.requests())
        fake.fail(fault)
        fake.reply("Second time lucky.")
        result = adapter.send(CHAT, **options)
        self._answered(result, "Second time lucky.")
        assert len(fake.requests()) == before + 2

    @pytest.mark.parametrize("fault", ["auth", "server_error"])
    def test_failure_is_a_conversation_error_without_the_key(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any], fault: Fault
    ) -> None:
        """A failure is a ConversationError; no API key shows; the caller's conversation is kept."""
        saved = CHAT.dumps()
        for _ in range(10 if fault != "auth" and self.retries else 1):
            fake.fail(fault)
        with pytest.raises(ConversationError) as info:
            adapter.send(CHAT, **options)
        self._no_key(info.value, fake)
        self._unchanged(CHAT, saved)

    def test_failed_stream_is_a_conversation_error(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """A stream refused before it began fails as send does, the conversation kept."""
        streaming = self._streaming(adapter)
        saved = CHAT.dumps()
        fake.fail("auth")
        with pytest.raises(ConversationError) as info, streaming.stream(CHAT, **options) as stream:
            list(stream)
        self._no_key(info.value, fake)
        self._unchanged(CHAT, saved)

    def test_interrupted_stream_keeps_what_arrived(
        self, adapter: Adapter, fake: ProviderFake, options: dict[str, Any]
    ) -> None:
        """A stream cut short raises StreamInterruptedError carrying the partial conversation."""
        streaming = self._streaming(adapter)
        if not self.interrupts:
            pytest.skip("the adapter's streams are never cut (interrupts = False)")
        saved = CHAT.dumps()
        text = "This reply is long enough to be cut off somewhere in the middle of it."
        fake.cut_stream(text)
        with pytest.raises(StreamInterruptedError) as info, streaming.stream(CHAT, **options) as s:
            list(s)
        partial = info.value.conversation
        self._no_key(info.value, fake)
        assert partial[: len(CHAT)] == CHAT
        assert len(partial) == len(CHAT) + 1, "what arrived is folded as one turn"
        last = partial.last
        assert last is not None
        assert last.provenance is not None
        assert last.provenance.interrupted
        assert last.text, "what arrived of the text is kept"
        assert text.startswith(last.text)
        assert last.text != text
        self._unchanged(CHAT, saved)
