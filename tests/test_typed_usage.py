"""Block constructors called as a user's type-checked code calls them.

Every call here passes what the constructor's docstring allows: plain dicts
(or the official SDK's TypedDicts, or any mapping) for JSON fields, lists of
dicts for citations, a str, blocks or block dicts for content. The tests run
the calls; ``tests/test_typing.py`` checks this file with ``mypy --strict`` as
a user's file, outside the project, so it must import nothing from ``tests``.
"""

from __future__ import annotations

import base64
from functools import partial
from types import MappingProxyType

from anthropic.types import CacheControlEphemeralParam, TextBlockParam

from adapters import Adapter, MessageStream, StreamingAdapter
from adapters.anthropic import AnthropicAdapter
from adapters.scripted import FunctionAdapter, ScriptedAdapter
from conversation import (
    Base64Source,
    ContentSource,
    Conversation,
    Diff,
    Document,
    FileSource,
    FrozenDict,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    UnknownBlock,
    UnknownSource,
    URLSource,
    estimate_tokens,
)
from conversation.replay import Replayed, ReplayResult, replay, replay_many
from conversation.store import NotFoundError, SQLiteStore, Store

EPHEMERAL = {"type": "ephemeral"}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEUlEQVR4nGP4z8AARAxg8j8AG/ID/fPnS7EAAAAASUVORK5CYII="
)


def test_text_takes_dicts_for_its_json_fields() -> None:
    """cache_control and extra as dicts, citations as a list of dicts."""
    cited = {"type": "char_location", "cited_text": "30 days", "document_index": 0}
    text = Text("hi", cache_control={"type": "ephemeral"}, citations=[cited], extra={"x": 1})
    assert text.cache_control == EPHEMERAL
    assert isinstance(text.cache_control, FrozenDict)
    assert text.citations == [cited]
    assert text.extra == {"x": 1}


def test_json_fields_take_any_mapping() -> None:
    """The SDK's TypedDicts and read-only mappings are mappings too."""
    marker: CacheControlEphemeralParam = {"type": "ephemeral"}
    assert Text("hi", cache_control=marker).cache_control == EPHEMERAL
    assert ToolUse("toolu_1", "f", MappingProxyType({"a": 1})).input == {"a": 1}
    assert Text("hi", extra=MappingProxyType({"x": 1})).extra == {"x": 1}


def test_sources() -> None:
    """Every source, with its documented inputs."""
    data = base64.b64encode(PNG).decode("ascii")
    assert Base64Source("image/png", data, extra={"x": 1}).extra == {"x": 1}
    assert URLSource("https://example.com/a.png").url == "https://example.com/a.png"
    assert FileSource("file_011").file_id == "file_011"
    assert TextSource("raw text", media_type="text/plain").data == "raw text"
    assert ContentSource("one unit").content == "one unit"
    block: TextBlockParam = {"type": "text", "text": "c"}
    units = ContentSource(["a", Text("b"), block]).content
    assert units == (Text("a"), Text("b"), Text("c"))
    assert UnknownSource({"type": "future_source", "x": 1}).type == "future_source"


def test_image_and_document() -> None:
    """Images and documents from sources and from their constructors' shortcuts."""
    image = Image(URLSource("https://example.com/a.png"), cache_control=EPHEMERAL)
    assert image.cache_control == EPHEMERAL
    assert Image.from_bytes(PNG, cache_control={"type": "ephemeral"}).size == (2, 2)
    assert Image(FileSource("file_011")).source == FileSource("file_011")
    document = Document(
        TextSource("raw text"),
        title="Notes",
        context="from a user",
        citations={"enabled": True},
        cache_control={"type": "ephemeral"},
    )
    assert document.citations == {"enabled": True}
    assert Document.from_text("raw text") == Document(TextSource("raw text"))
    units = Document.from_blocks([Text("A unit."), {"type": "text", "text": "Another."}])
    assert isinstance(units.source, ContentSource)


def test_search_result() -> None:
    """Content as blocks or block dicts, citations as a dict."""
    result = SearchResult(
        "https://kb.example/article/7",
        "Refund policy",
        [{"type": "text", "text": "Refunds within 30 days."}],
        citations={"enabled": True},
        cache_control={"type": "ephemeral"},
    )
    assert result.content == (Text("Refunds within 30 days."),)
    assert SearchResult("s", "t", [Text("x")]).content == (Text("x"),)


def test_tool_use_and_result() -> None:
    """Input as a dict; a result's content as a str, blocks, block dicts or nothing."""
    use = ToolUse("toolu_1", "get_weather", {"location": "Paris"}, cache_control=EPHEMERAL)
    assert use.input == {"location": "Paris"}
    assert ToolResult("toolu_1", "15 degrees").content == "15 degrees"
    mixed = ToolResult("toolu_1", [Text("a"), "b", {"type": "text", "text": "c"}], is_error=False)
    assert mixed.content == (Text("a"), Text("b"), Text("c"))
    assert ToolResult("toolu_1", cache_control={"type": "ephemeral"}).content is None


def test_thinking_and_server_tools() -> None:
    """The reply-only blocks, built by hand (a test's canned reply, a saved one)."""
    assert Thinking("Let me see...", "EqQBCgIYAhIM").signature == "EqQBCgIYAhIM"
    assert RedactedThinking("EmwKAhgBEgy3").data == "EmwKAhgBEgy3"
    server = ServerToolUse("srvtoolu_01", "web_search", {"query": "weather"})
    assert server.input == {"query": "weather"}
    hits = [{"type": "web_search_result", "url": "https://example.com", "title": "W"}]
    result = ServerToolResult("web_search_tool_result", "srvtoolu_01", hits, extra={"x": 1})
    assert result.content == hits
    assert UnknownBlock({"type": "future_block", "x": 1}).type == "future_block"


def test_adapters_are_typed() -> None:
    """``adapters`` is analysed too (it ships ``py.typed``): its results are Conversations."""
    bot = ScriptedAdapter(["Hi!"], default_options={"max_tokens": 16})
    answer: Conversation = bot.send(Conversation().user([Text("Hello", cache_control=EPHEMERAL)]))
    assert answer[-1].text == "Hi!"


def test_offline_adapters_are_streaming_adapters() -> None:
    """A user may hold either offline adapter as a StreamingAdapter (or an Adapter) and
    read its stream as a MessageStream."""
    adapters: list[StreamingAdapter] = [
        ScriptedAdapter(["Hi!", "Hi!"]),
        FunctionAdapter(lambda conversation, options: "Hi!"),
    ]
    for adapter in adapters:
        plain: Adapter = adapter
        assert plain.send(Conversation().user("Hello"), model="m", max_tokens=8)[-1].text == "Hi!"
        stream: MessageStream = adapter.stream(
            Conversation().user("Hello"), model="m", max_tokens=8
        )
        with stream:
            assert "".join(stream.text_stream) == "Hi!"


def trimmed_by_the_api(chat: Conversation, claude: AnthropicAdapter) -> Conversation:
    """The count a user reaches for: the adapter's count_tokens, its options bound."""
    return chat.trim(100_000, count=partial(claude.count_tokens, model="claude-sonnet-4-5"))


def test_branches_and_trim_are_typed() -> None:
    """edit, diff and trim return what they say; trim takes any count of a Conversation."""
    chat = Conversation().user("Hi").assistant("Hello").user("Bye")
    diff: Diff = chat.diff(chat.edit(-1, [Text("Ciao")]))
    assert diff.right[0].text == "Ciao"
    assert chat.trim(1_000, count=len) is chat
    assert chat.trim(1_000, count=estimate_tokens) is chat
    assert callable(trimmed_by_the_api)


def replayed_by_claude(chats: list[Conversation], claude: AnthropicAdapter) -> list[ReplayResult]:
    """The adapter a user replays a corpus with, a store of theirs, the request options."""
    with SQLiteStore(":memory:") as store:
        return replay_many(chats, claude, store=store, concurrency=4, model="claude-sonnet-4-5")


def test_replay_is_typed() -> None:
    """replay takes any adapter with send, replay_many any with asend; their results are
    typed: a Replayed's branch is a Conversation, a ReplayResult's one may be None."""
    chat = Conversation().user("Hi").assistant("Hello")
    result: Replayed = replay(chat, ScriptedAdapter(["Hey"]), max_tokens=8)
    branch: Conversation = result.conversation
    assert branch[-1].text == "Hello"  # a synthetic turn: kept
    results = replay_many([chat], FunctionAdapter(lambda c, o: "Hey"), progress=False)
    new: Conversation | None = results[0].conversation
    assert new is not None
    assert callable(replayed_by_claude)


def latest_leaf(store: Store) -> Conversation | None:
    """Code written against the Store protocol, for any store."""
    leaves = store.leaves()
    return store.load(leaves[-1]) if leaves else None


def test_a_sqlite_store_is_a_store() -> None:
    """A user may hold a SQLiteStore as a Store (the protocol a later PostgresStore shares)."""
    with SQLiteStore(":memory:") as sqlite:
        store: Store = sqlite
        assert latest_leaf(store) is None
        saved: str = store.save(Conversation().user("Hello"), name="main")
        names: dict[str, str] = store.names()
        assert names == {"main": saved}
        assert latest_leaf(sqlite) == Conversation().user("Hello")
        missing: type[LookupError] = NotFoundError  # catchable as a LookupError
        assert "missing" not in store
        assert issubclass(missing, LookupError)
