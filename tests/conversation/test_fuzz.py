"""A seeded fuzzer over every reader and every block constructor.

Each input runs under a per-input time limit (:func:`tests.limits.time_limit`), and
hypothesis is derandomized in CI (``tests/conftest.py``). For every input:

- the only exception allowed out is a :class:`~conversation.ConversationError`;
- whatever is accepted round-trips: ``loads(dumps(c)) == c`` with the same hash,
  ``from_payload(to_payload())`` gives the same turns, a block reads back from its
  wire dict equal to itself;
- subclasses of the JSON scalars (a ``StrEnum`` in a tool input, an ``IntEnum`` in a
  usage count) read exactly as the plain values they are written as.

:mod:`tests.conversation.test_malformed` holds the hand-written malformed inputs and the
regressions of what this fuzzer found; this module draws the inputs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import (
    Base64Source,
    Block,
    ContentSource,
    Conversation,
    ConversationError,
    Document,
    FileSource,
    Image,
    Provenance,
    RedactedThinking,
    Reply,
    ReplyInfo,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    Turn,
    UnknownBlock,
    UnknownSource,
    URLSource,
    Usage,
    converter,
)
from tests.checks import round_trip
from tests.limits import time_limit
from tests.strategies import (
    Color,
    Count,
    Level,
    Name,
    Ratio,
    block_dicts,
    block_objects,
    conversation_cases,
    json_values,
    lookalikes,
    reply_dicts,
    stored_conversations,
    subclassed,
    unsubclassed,
)

pytestmark = pytest.mark.timeout(120)

# --- what every accepted value must survive ---------------------------------------------------


def fuzz(call: Callable[[], Any]) -> Any:
    """Run ``call`` under the per-input time limit: its value, or None if it raised a
    ConversationError (any other exception fails the test, and so does a hang). An
    accepted Conversation is put through :func:`round_trip`."""
    with time_limit():
        refused: ConversationError | None = None
        try:
            result = call()
        except ConversationError as exc:
            refused = exc
        if refused is not None:
            message = str(refused)
            assert message, "an error must say what was wrong"
            assert len(message) < 2000, "an error message must stay readable"
            return None
        if isinstance(result, Conversation):
            round_trip(result)
        return result


def _block_round_trip(block: Block) -> None:
    wire = converter.unstructure(block)
    back: Any = converter.structure(wire, Block)  # type: ignore[arg-type]
    assert back == block
    assert hash(back) == hash(block)
    assert converter.unstructure(back) == wire
    assert orjson.loads(orjson.dumps(wire)) == wire


# --- readers given subclassed scalars ----------------------------------------------------------


class TestSubclassedScalars:
    @given(conversation_cases().flatmap(lambda case: subclassed(case.conversation.to_payload())))
    @settings(max_examples=40)
    def test_from_payload(self, body: dict[str, Any]) -> None:
        """A request body holding StrEnum/IntEnum/str-subclass values reads as the plain one."""
        plain = unsubclassed(body)
        c = fuzz(lambda: Conversation.from_payload(body))
        assert c == Conversation.from_payload(plain)

    @given(reply_dicts().flatmap(subclassed))
    @settings(max_examples=40)
    def test_fold(self, reply: dict[str, Any]) -> None:
        """A reply holding subclassed scalars folds as the plain reply does (usage too)."""
        plain = unsubclassed(reply)
        c = fuzz(lambda: Conversation().user("q").fold(reply))
        assert c == Conversation().user("q").fold(plain)
        assert fuzz(lambda: Reply.from_wire(reply)) == Reply.from_wire(plain)

    @given(st.lists(block_dicts().flatmap(subclassed), min_size=1, max_size=3))
    @settings(max_examples=40)
    def test_block_dicts_in_user_and_assistant(self, blocks: list[dict[str, Any]]) -> None:
        """Block dicts holding subclassed scalars, given to user()/assistant(), read as plain."""
        plain = unsubclassed(blocks)
        assert fuzz(lambda: Conversation().user(blocks)) == Conversation().user(plain)
        assert fuzz(lambda: Conversation().user("q").assistant(blocks)) == (
            Conversation().user("q").assistant(plain)
        )

    @given(json_values(10).flatmap(subclassed))
    @settings(max_examples=40)
    def test_json_fields(self, value: Any) -> None:
        """A tool input, metadata and a block's extra fields keep the plain values."""
        plain = unsubclassed(value)
        made = fuzz(
            lambda: (
                Conversation(metadata={"v": value})
                .user({"type": "text", "text": "x", "v": value})
                .assistant(ToolUse("t", "f", {"v": value}))
            )
        )
        assert made == (
            Conversation(metadata={"v": plain})
            .user({"type": "text", "text": "x", "v": plain})
            .assistant(ToolUse("t", "f", {"v": plain}))
        )


# --- every block constructor ----------------------------------------------------------------------

_strings = st.text(max_size=8) | st.sampled_from(
    [Color.RED, Color.EMPTY, Name("n"), "image/png", "text/plain", "aGk="]
)
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([Level.LOW, Count(7), Ratio(0.5), 1.5, b"x", object(), {1, 2}]),
    st.lists(st.text(max_size=3), max_size=2),
)
_objects = st.dictionaries(st.text(max_size=5) | st.just("type"), json_values(4), max_size=3)
_blocks_arg = st.lists(
    block_objects("text") | block_dicts("text") | st.text(max_size=4) | _junk, max_size=2
)
_any_arg = st.one_of(_strings, _junk, _objects, _blocks_arg, json_values(4).flatmap(subclassed))


class Later:
    """A source constructor call, made inside the test (hypothesis draws must not raise)."""

    def __init__(self, cls: type, *args: Any) -> None:
        self.cls, self.args = cls, args

    def __repr__(self) -> str:
        return f"{self.cls.__name__}{self.args!r}"

    def __call__(self) -> Any:
        return self.cls(*(arg() if isinstance(arg, Later) else arg for arg in self.args))


def _sources() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(Later, st.just(Base64Source), _strings, _strings),
        st.builds(Later, st.just(URLSource), _strings),
        st.builds(Later, st.just(FileSource), _strings),
        st.builds(Later, st.just(TextSource), _strings),
        st.builds(Later, st.just(ContentSource), _strings | _blocks_arg),
        st.builds(Later, st.just(UnknownSource), _objects),
    )


_OPTIONAL = {
    "cache_control": _objects | st.none() | _junk,
    "extra": _objects | _junk,
    "citations": _objects | st.lists(_objects, max_size=2) | st.none() | _junk,
    "title": _strings | st.none() | _junk,
    "context": _strings | st.none() | _junk,
    "is_error": st.booleans() | st.none() | _junk,
    "media_type": _strings | _junk,
}

# Each constructor: its positional arguments, and the keywords it takes.
CONSTRUCTORS: dict[type, tuple[tuple[st.SearchStrategy[Any], ...], tuple[str, ...]]] = {
    Base64Source: ((_strings | _junk, _strings | _junk), ("extra",)),
    URLSource: ((_strings | _junk,), ("extra",)),
    FileSource: ((_strings | _junk,), ("extra",)),
    TextSource: ((_strings | _junk,), ("media_type", "extra")),
    ContentSource: ((_strings | _blocks_arg | _junk,), ("extra",)),
    UnknownSource: ((_objects | _junk,), ()),
    Text: ((_strings | _junk,), ("citations", "cache_control", "extra")),
    Image: ((_sources() | _junk,), ("cache_control", "extra")),
    Document: (
        (_sources() | _junk,),
        ("title", "context", "citations", "cache_control", "extra"),
    ),
    SearchResult: ((_strings, _strings, _blocks_arg | _any_arg), ("citations", "cache_control")),
    ToolUse: ((_strings | _junk, _strings | _junk, _objects | _any_arg), ("cache_control",)),
    ToolResult: ((_strings | _junk, _strings | _blocks_arg | _any_arg), ("is_error", "extra")),
    Thinking: ((_strings | _junk, _strings | _junk), ("extra",)),
    RedactedThinking: ((_strings | _junk,), ("extra",)),
    ServerToolUse: ((_strings | _junk, _strings | _junk, _objects | _any_arg), ("extra",)),
    ServerToolResult: (
        (
            st.sampled_from(["web_search_tool_result", "x"]) | _junk,
            _strings | _junk,
            json_values(4) | _junk,
        ),
        ("cache_control",),
    ),
    UnknownBlock: ((_objects | st.just({"type": "text"}) | _junk,), ()),
}


@st.composite
def constructor_calls(draw: st.DrawFn) -> tuple[type, tuple[Any, ...], dict[str, Any]]:
    """A block or source class, and arguments for it: good, subclassed or junk."""
    cls = draw(st.sampled_from(list(CONSTRUCTORS)))
    positional, keywords = CONSTRUCTORS[cls]
    args = tuple(draw(strategy) for strategy in positional)
    chosen = draw(st.lists(st.sampled_from(keywords), unique=True)) if keywords else []
    return cls, args, {name: draw(_OPTIONAL[name]) for name in chosen}


_SOURCES = (Base64Source, URLSource, FileSource, TextSource, ContentSource, UnknownSource)


class TestConstructors:
    @given(constructor_calls())
    @settings(max_examples=400)
    def test_whatever_a_constructor_accepts_round_trips(
        self, call: tuple[type, tuple[Any, ...], dict[str, Any]]
    ) -> None:
        """A constructor refuses with a ConversationError, or builds a value that is written
        and read back equal: alone, in a turn, in a payload and in a save."""
        cls, drawn, kwargs = call
        if drawn and isinstance(drawn[0], Later):
            source = fuzz(drawn[0])
            if source is None:
                return
            drawn = (source, *drawn[1:])
        args = drawn
        made = fuzz(lambda: cls(*args, **kwargs))
        if made is None:
            return
        blocks: list[Any] = [made]
        if cls in _SOURCES:
            blocks = [b for b in (fuzz(lambda: Image(made)), fuzz(lambda: Document(made))) if b]
        for block in blocks:
            _block_round_trip(block)
            _in_turns(block)


def _in_turns(block: Any) -> None:
    """``block`` in a user turn, in an assistant turn, and folded from a reply."""
    fuzz(lambda: Conversation().user([block, "and"]))
    fuzz(lambda: Conversation().user("q").assistant(block))
    reply = {"content": [converter.unstructure(block)]}
    fuzz(lambda: Conversation(metadata={"k": 1}).user([block]).fold(reply, interrupted=True))


_counts = st.integers(0, 2**31) | st.sampled_from([Level.LOW, Count(5)]) | _junk


@st.composite
def usages(draw: st.DrawFn) -> Any:
    return Later(Usage, *(draw(_counts) for _ in range(4)), draw(_objects | _junk))


@st.composite
def infos(draw: st.DrawFn) -> Any:
    meta = [draw(_strings | st.none() | _junk) for _ in range(4)]
    return Later(ReplyInfo, *meta, draw(usages() | _junk))


class TestReplyValues:
    @given(infos(), infos(), st.lists(block_objects("text"), max_size=2).map(tuple) | _junk)
    @settings(max_examples=150)
    def test_reply_and_provenance_values(self, first: Any, second: Any, blocks: Any) -> None:
        """Usage, ReplyInfo, Reply and Provenance built by hand (as an adapter or a program
        does) refuse junk with a ConversationError, and what they accept folds, appends and
        saves like a reply read from the wire."""
        parts = [fuzz(part) if isinstance(part, Later) else part for part in (first, second)]
        for part in parts:
            if isinstance(part, ReplyInfo):
                _fold_reply(blocks, part)
        provenance = fuzz(lambda: Provenance(tuple(parts), blocks, interrupted=True))
        if provenance is not None:
            fuzz(lambda: Conversation().user("q").append(Turn("assistant", "a", provenance)))


def _fold_reply(blocks: Any, info: ReplyInfo) -> None:
    reply = fuzz(lambda: Reply.from_info(blocks, info))
    if reply is not None:
        fuzz(lambda: Conversation().user("q").fold(reply))
        fuzz(lambda: Conversation().user("q").assistant("p").fold(reply))


# --- the other ways in --------------------------------------------------------------------------

_arguments = st.one_of(_any_arg, lookalikes, st.just(None))


class TestArguments:
    @given(stored_conversations(max_steps=3), _arguments)
    @settings(max_examples=60)
    def test_fold_interrupted(self, c: Conversation, flag: Any) -> None:
        """fold(interrupted=) takes only True or False; anything else is refused."""
        folded = fuzz(
            lambda: c.fold({"content": [{"type": "text", "text": "a"}]}, interrupted=flag)
        )
        assert (folded is not None) == isinstance(flag, bool)

    @given(stored_conversations(max_steps=3), _arguments, _objects)
    @settings(max_examples=60)
    def test_with_metadata(self, c: Conversation, metadata: Any, entries: dict[str, Any]) -> None:
        """with_metadata takes a mapping of JSON and keywords; anything else is refused."""
        fuzz(lambda: c.with_metadata(metadata))
        fuzz(lambda: c.with_metadata(**{k: v for k, v in entries.items() if k.isidentifier()}))

    @given(_arguments, _arguments)
    @settings(max_examples=80)
    def test_conversation_and_turn_arguments(self, first: Any, second: Any) -> None:
        """The constructor, user(), assistant(), with_system(), append() and Turn take junk
        with a ConversationError at most."""
        fuzz(lambda: Conversation(system=first, metadata=second))
        fuzz(lambda: Conversation().user(first).assistant(second))
        fuzz(lambda: Conversation().with_system(first))
        fuzz(lambda: Conversation().append(first))
        fuzz(lambda: Conversation().append(Turn(first, second)))
        fuzz(lambda: Conversation().fold(first))
        with contextlib.suppress(ConversationError):
            fuzz(lambda: Reply.from_wire(first))


@pytest.mark.parametrize("depth", [20, 60, 199])
@pytest.mark.timeout(30)
def test_deep_tool_input_is_compared_in_linear_time(depth: int) -> None:
    """A tool input as deep as the readers accept saves, loads, compares and hashes (each
    step linear in its size: exponential equality would never end at this depth)."""
    value: Any = {"k": 1}
    for _ in range(depth):
        value = {"k": value}
    c = fuzz(lambda: Conversation().user("q").assistant(ToolUse("t", "f", value)))
    assert c is not None
    assert Conversation.loads(c.dumps()) == c
