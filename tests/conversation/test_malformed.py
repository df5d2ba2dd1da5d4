"""Malformed input: every reader raises only ConversationError subclasses, with paths.

The readers are ``Conversation.from_payload``, ``split_payload``, ``Conversation.fold``,
``Conversation.loads``, ``user()``/``assistant()``, the ``Conversation`` constructor and
the converter. Whatever they are fed (arbitrary JSON, valid documents broken in one
place, truncated JSON, random bytes, absurdly deep nesting), the only exceptions allowed
out are ``ConversationError`` subclasses; never a bare KeyError, TypeError,
AttributeError, IndexError or RecursionError. Whatever they accept must then be usable:
checked, encoded, saved and loaded back without any other exception.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import math
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any, cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import (
    Block,
    Conversation,
    ConversationError,
    Document,
    FrozenDict,
    FrozenList,
    Image,
    MalformedInputError,
    MalformedReplyError,
    Provenance,
    Reply,
    ReplyInfo,
    SaveFormatError,
    SearchResult,
    ServerToolResult,
    Text,
    ToolResult,
    ToolUse,
    Turn,
    UnknownSource,
    Usage,
    converter,
    split_payload,
)
from conversation._blocks import MAX_BLOCK_DEPTH
from conversation._json import freeze, json_equal
from conversation.errors import quote
from tests.limits import time_limit
from tests.strategies import (
    REQUIRED_FIELDS,
    conversation_cases,
    field_names,
    json_scalars,
    json_values,
    lookalikes,
    mutations,
    reply_dicts,
    request_options,
    stored_conversations,
    type_names,
)

# The union of block classes, as the class cattrs structures a block dict to.
BLOCK = cast("type[Block]", Block)

# --- helpers ------------------------------------------------------------------------------


def every_reader_refuses(data: bytes) -> None:
    """``data`` raises each byte reader's own error class: payload, reply and save file."""
    with pytest.raises(MalformedInputError):
        Conversation.from_payload(data)
    with pytest.raises(MalformedReplyError):
        Conversation().fold(data)
    with pytest.raises(SaveFormatError):
        Conversation.loads(data)


def exercise(c: Conversation) -> None:
    """Use an accepted conversation every way; only ConversationError may come out."""
    hash(c)
    assert c == Conversation(c.system, list(c), metadata=c.metadata)
    c.violations()
    with contextlib.suppress(ConversationError):  # a RuleViolationError is fine here
        c.to_json(model="m", max_tokens=1)
    assert Conversation.loads(c.dumps()) == c
    for turn in c:
        converter.unstructure(turn)


def attempt(
    call: Callable[[], Any], allowed: type[ConversationError] = ConversationError
) -> ConversationError | None:
    """Run ``call``; return the allowed error it raised, or exercise what it built.

    Any other exception propagates and fails the test, and so does a hang (each call runs
    under the fuzz tests' per-input time limit).
    """
    error: ConversationError | None
    with time_limit():
        try:
            result = call()
        except allowed as exc:
            error = exc
        else:
            error = None
        if error is not None:
            assert str(error), "an error must say what was wrong"
            return error
        if isinstance(result, tuple):  # split_payload
            result = result[0]
        if isinstance(result, Conversation):
            exercise(result)
        return None


def dumps(value: Any) -> bytes:
    return orjson.dumps(value)


SAVE_HEADER = {"format": "conversation-state", "version": 1}

READERS: dict[str, tuple[Callable[[Any], Any], type[ConversationError]]] = {
    "from_payload": (Conversation.from_payload, MalformedInputError),
    "split_payload": (split_payload, MalformedInputError),
    "fold": (lambda v: Conversation().user("q").fold(v), MalformedReplyError),
    "fold-prefill": (
        lambda v: Conversation().user("q").assistant("A:").fold(v),
        MalformedReplyError,
    ),
    "loads": (Conversation.loads, SaveFormatError),
    "user": (lambda v: Conversation().user(v), MalformedInputError),
    "assistant": (lambda v: Conversation().user("q").assistant(v), MalformedInputError),
    "system": (lambda v: Conversation(system=v), MalformedInputError),
    "metadata": (lambda v: Conversation(metadata=v), MalformedInputError),
    "structure": (lambda v: converter.structure(v, BLOCK), MalformedInputError),
    "turn": (lambda v: Turn("user", v), MalformedInputError),
}
"""Every reader, and the narrowest error class it is documented to raise."""


# --- arbitrary input ----------------------------------------------------------------------

_roles = (
    st.sampled_from(["user", "assistant", "system", "tool", "", "USER"])
    | json_scalars
    | st.sampled_from([["user"], {"role": "user"}, []])
)


block_lookalikes = st.dictionaries(field_names, lookalikes, max_size=4).flatmap(
    lambda d: type_names.map(lambda t: {**d, "type": t})
)

payload_lookalikes = st.fixed_dictionaries(
    {
        "messages": st.lists(
            st.fixed_dictionaries(
                {"role": _roles},
                optional={"content": st.lists(block_lookalikes, max_size=3) | lookalikes},
            ),
            max_size=3,
        )
    },
    optional={"system": st.lists(block_lookalikes, max_size=2) | lookalikes, "model": lookalikes},
)

reply_lookalikes = st.fixed_dictionaries(
    {"content": st.lists(block_lookalikes, max_size=3) | lookalikes},
    optional={
        "type": st.sampled_from(["message", "error", "x"]) | lookalikes,
        "role": _roles,
        "id": lookalikes,
        "model": lookalikes,
        "stop_reason": lookalikes,
        "stop_sequence": lookalikes,
        "usage": st.dictionaries(field_names, json_scalars | lookalikes, max_size=4),
    },
)

save_lookalikes = st.fixed_dictionaries(
    {
        **{k: st.just(v) for k, v in SAVE_HEADER.items()},
        "turns": st.lists(
            st.fixed_dictionaries(
                {"role": _roles, "content": st.lists(block_lookalikes, max_size=2) | lookalikes},
                optional={
                    "provenance": st.fixed_dictionaries(
                        {},
                        optional={
                            "replies": st.lists(
                                st.dictionaries(field_names, lookalikes, max_size=4), max_size=2
                            )
                            | lookalikes,
                            "prefill": st.lists(block_lookalikes, max_size=2) | lookalikes,
                        },
                    )
                    | lookalikes
                },
            ),
            max_size=3,
        ),
    },
    optional={"system": lookalikes, "metadata": lookalikes},
)


class TestArbitraryInput:
    @pytest.mark.parametrize("reader", READERS, ids=READERS)
    @given(value=json_values(16))
    @settings(max_examples=60)
    def test_arbitrary_json(self, reader: str, value: Any) -> None:
        """Any JSON value given to any reader raises at most that reader's ConversationError."""
        read, allowed = READERS[reader]
        attempt(lambda: read(value), allowed)

    @pytest.mark.parametrize("reader", READERS, ids=READERS)
    @given(value=lookalikes)
    @settings(max_examples=60)
    def test_json_that_looks_like_blocks(self, reader: str, value: Any) -> None:
        """JSON made of the API's own names and types raises at most a ConversationError."""
        read, allowed = READERS[reader]
        attempt(lambda: read(value), allowed)

    @given(payload_lookalikes)
    def test_payload_lookalikes(self, body: dict[str, Any]) -> None:
        """A body shaped like a request, with junk inside, gives a Conversation or a
        MalformedInputError, read as a dict or as JSON."""
        attempt(lambda: Conversation.from_payload(body), MalformedInputError)
        attempt(lambda: split_payload(dumps(body)), MalformedInputError)

    @given(reply_lookalikes)
    def test_reply_lookalikes(self, reply: dict[str, Any]) -> None:
        """A body shaped like a reply, with junk inside, folds or raises MalformedReplyError."""
        attempt(lambda: Conversation().user("q").fold(reply), MalformedReplyError)
        attempt(lambda: Conversation().assistant("p").fold(dumps(reply)), MalformedReplyError)

    @given(save_lookalikes)
    def test_save_lookalikes(self, doc: dict[str, Any]) -> None:
        """A document shaped like a save, with junk inside, loads or raises SaveFormatError."""
        attempt(lambda: Conversation.loads(dumps(doc)), SaveFormatError)

    @given(st.lists(block_lookalikes | lookalikes, max_size=4))
    def test_bad_block_dicts_given_to_user_and_assistant(self, blocks: list[Any]) -> None:
        """user() and assistant() given junk block dicts raise at most MalformedInputError."""
        attempt(lambda: Conversation().user(blocks), MalformedInputError)
        attempt(lambda: Conversation().user("q").assistant(blocks), MalformedInputError)
        attempt(lambda: Conversation(system=blocks), MalformedInputError)

    @given(
        st.one_of(
            st.sets(st.integers(), max_size=2),
            st.builds(object),
            st.binary(max_size=4),
            st.complex_numbers(allow_nan=False),
            st.dictionaries(st.integers(), st.integers(), min_size=1, max_size=2),
            st.just(Ellipsis),
            st.just(Text),
            st.frozensets(st.text(max_size=2), max_size=2),
        ).flatmap(
            lambda bad: st.sampled_from(
                [
                    bad,
                    [bad],
                    {"type": "tool_use", "id": "t", "name": "f", "input": {"a": bad}},
                    {"type": "text", "text": "x", "citations": [bad]},
                    {"type": "future", "v": [1, {"w": bad}]},
                    {"type": "tool_result", "tool_use_id": "t", "content": [bad]},
                    {"type": "text", "text": bad},
                    {"messages": [{"role": "user", "content": [bad]}]},
                    {"messages": [{"role": bad, "content": "x"}]},
                    {"content": [bad]},
                ]
            )
        )
    )
    @settings(max_examples=150)
    def test_python_values_that_are_not_json(self, value: Any) -> None:
        """Sets, objects, bytes, non-string keys and the like raise MalformedInputError
        wherever they hide."""
        for reader, (read, allowed) in READERS.items():
            if reader == "loads" and isinstance(value, bytes):
                continue  # bytes are a legitimate input to loads; tested below
            attempt(functools.partial(read, value), allowed)


# --- valid documents broken in one place ---------------------------------------------------


class TestMutatedDocuments:
    @given(
        conversation_cases().flatmap(
            lambda case: request_options(thinking=False).flatmap(
                lambda options: mutations(case.conversation.to_payload(**options))
            )
        )
    )
    def test_mutated_payloads(self, mutated: tuple[Any, str, tuple[Any, ...]]) -> None:
        """A valid payload broken in one place reads as a Conversation or raises
        MalformedInputError, as a dict or as JSON bytes."""
        body, _, _ = mutated
        attempt(lambda: Conversation.from_payload(body), MalformedInputError)
        attempt(lambda: split_payload(body), MalformedInputError)
        attempt(lambda: Conversation.from_payload(dumps(body)), MalformedInputError)

    @given(reply_dicts().flatmap(mutations))
    def test_mutated_replies(self, mutated: tuple[Any, str, tuple[Any, ...]]) -> None:
        """A valid reply broken in one place folds or raises MalformedReplyError."""
        reply, _, _ = mutated
        attempt(lambda: Conversation().user("q").fold(reply), MalformedReplyError)
        attempt(lambda: Conversation().user("q").assistant("A").fold(reply), MalformedReplyError)
        attempt(lambda: Conversation().fold(dumps(reply)), MalformedReplyError)

    @given(stored_conversations().flatmap(lambda c: mutations(orjson.loads(c.dumps()))))
    def test_mutated_save_documents(self, mutated: tuple[Any, str, tuple[Any, ...]]) -> None:
        """A valid save document broken in one place loads or raises SaveFormatError."""
        doc, _, _ = mutated
        attempt(lambda: Conversation.loads(dumps(doc)), SaveFormatError)
        attempt(lambda: Conversation.loads(dumps(doc).decode("utf-8")), SaveFormatError)

    @given(conversation_cases(), st.data())
    @settings(max_examples=50)
    def test_truncated_payload_json(self, case: Any, data: st.DataObject) -> None:
        """Any truncation of a payload's JSON raises MalformedInputError saying it is not JSON."""
        body = case.conversation.to_json(model="m", max_tokens=1)
        cut = data.draw(st.integers(0, len(body) - 1))
        with pytest.raises(MalformedInputError, match="JSON"):
            Conversation.from_payload(body[:cut])
        with pytest.raises(MalformedInputError, match="JSON"):
            split_payload(body[:cut].decode("utf-8", errors="ignore"))

    @given(reply_dicts(), st.data())
    @settings(max_examples=50)
    def test_truncated_reply_json(self, reply: dict[str, Any], data: st.DataObject) -> None:
        """Any truncation of a reply's JSON raises MalformedReplyError."""
        body = dumps(reply)
        cut = data.draw(st.integers(0, len(body) - 1))
        with pytest.raises(MalformedReplyError, match="JSON"):
            Conversation().user("q").fold(body[:cut])

    @given(stored_conversations(), st.data())
    @settings(max_examples=50)
    def test_truncated_save(self, c: Conversation, data: st.DataObject) -> None:
        """Any truncation of a saved conversation raises SaveFormatError."""
        text = c.dumps()
        cut = data.draw(st.integers(0, len(text) - 1))
        with pytest.raises(SaveFormatError):
            Conversation.loads(text[:cut])

    @given(st.binary(max_size=64))
    def test_random_bytes(self, data: bytes) -> None:
        """Random bytes raise the reader's own error class (they are never a valid body)."""
        every_reader_refuses(data)

    @pytest.mark.parametrize(
        "data",
        [b"", b"\xff\xfe{}", b"\xef\xbb\xbf{}", b'{"messages": [}', b"{'a': 1}", b"NaN", b"\x00"],
        ids=["empty", "bad-utf8", "bom", "broken", "single-quotes", "nan", "nul"],
    )
    def test_non_json_bytes(self, data: bytes) -> None:
        """Bytes that are not a JSON object raise each reader's own error class."""
        every_reader_refuses(data)


# --- paths ----------------------------------------------------------------------------------

_NOT_STRINGS = {
    "image": {"source"},
    "document": {"source"},
    "search_result": {"content"},
    "tool_use": {"input"},
    "server_tool_use": {"input"},
    "source:content": {"content"},
}


def block_locations(content: Any, path: str) -> Iterator[tuple[str, dict[str, Any], str]]:
    """Every known block (and source) a reader parses in ``content``: (path, dict, kind)."""
    if not isinstance(content, list):
        return
    for index, block in enumerate(content):
        here = f"{path}[{index}]"
        kind = block.get("type")
        if kind in REQUIRED_FIELDS:
            yield here, block, kind
        if kind in ("tool_result", "search_result"):
            yield from block_locations(block.get("content"), f"{here}.content")
        source = block.get("source")
        if kind in ("image", "document") and isinstance(source, dict):
            source_kind = f"source:{source.get('type')}"
            if source_kind in REQUIRED_FIELDS:
                yield f"{here}.source", source, source_kind
            if source.get("type") == "content":
                yield from block_locations(source.get("content"), f"{here}.source.content")


def payload_locations(payload: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    found: list[tuple[str, dict[str, Any], str]] = []
    for i, message in enumerate(payload["messages"]):
        found.extend(block_locations(message["content"], f"$.messages[{i}].content"))
    return found


def save_locations(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], str]]:
    found: list[tuple[str, dict[str, Any], str]] = []
    for i, turn in enumerate(doc["turns"]):
        found.extend(block_locations(turn["content"], f"$.turns[{i}].content"))
        prefill = turn.get("provenance", {}).get("prefill")
        found.extend(block_locations(prefill, f"$.turns[{i}].provenance.prefill"))
    return found


_wrong_for_a_string = (
    st.integers(-(2**63), 2**63 - 1) | st.booleans() | st.lists(st.text(max_size=2), max_size=2)
)


class TestErrorPaths:
    @given(conversation_cases(), st.data())
    @settings(max_examples=60)
    def test_missing_required_field_in_payload(self, case: Any, data: st.DataObject) -> None:
        """A payload block (or source) without a required field raises MalformedInputError at
        that block's path, naming the field."""
        payload = case.conversation.to_payload()
        places = payload_locations(payload)
        if not places:
            return
        path, block, kind = data.draw(st.sampled_from(places))
        key = data.draw(st.sampled_from(sorted(REQUIRED_FIELDS[kind])))
        value = block.pop(key)
        with pytest.raises(MalformedInputError) as info:
            Conversation.from_payload(payload)
        assert info.value.path == path
        assert repr(key) in str(info.value)
        block[key] = None  # null means absent: the same error
        with pytest.raises(MalformedInputError) as again:
            Conversation.from_payload(payload)
        assert again.value.path == path
        block[key] = value

    @given(conversation_cases(), st.data())
    @settings(max_examples=60)
    def test_wrong_type_in_payload(self, case: Any, data: st.DataObject) -> None:
        """A required string field of the wrong type raises MalformedInputError whose path
        ends with that field."""
        payload = case.conversation.to_payload()
        places = [
            (path, block, kind)
            for path, block, kind in payload_locations(payload)
            if REQUIRED_FIELDS[kind] - _NOT_STRINGS.get(kind, set())
        ]
        if not places:
            return
        path, block, kind = data.draw(st.sampled_from(places))
        key = data.draw(
            st.sampled_from(sorted(REQUIRED_FIELDS[kind] - _NOT_STRINGS.get(kind, set())))
        )
        block[key] = data.draw(_wrong_for_a_string)
        with pytest.raises(MalformedInputError, match="string") as info:
            Conversation.from_payload(payload)
        assert info.value.path == f"{path}.{key}"
        with pytest.raises(MalformedInputError) as from_json:
            Conversation.from_payload(dumps(payload))
        assert from_json.value.path == f"{path}.{key}"

    @given(reply_dicts(min_blocks=1), st.data())
    @settings(max_examples=60)
    def test_missing_required_field_in_reply(
        self, reply: dict[str, Any], data: st.DataObject
    ) -> None:
        """A reply block without a required field raises MalformedReplyError at that block."""
        places = list(block_locations(reply["content"], "$.content"))
        if not places:
            return
        path, block, kind = data.draw(st.sampled_from(places))
        key = data.draw(st.sampled_from(sorted(REQUIRED_FIELDS[kind])))
        del block[key]
        with pytest.raises(MalformedReplyError) as info:
            Conversation().user("q").fold(reply)
        assert info.value.path == path
        assert repr(key) in str(info.value)

    @given(stored_conversations(), st.data())
    @settings(max_examples=60)
    def test_missing_required_field_in_save(self, c: Conversation, data: st.DataObject) -> None:
        """A saved block without a required field raises SaveFormatError at that block."""
        doc = orjson.loads(c.dumps())
        places = save_locations(doc)
        if not places:
            return
        path, block, kind = data.draw(st.sampled_from(places))
        key = data.draw(st.sampled_from(sorted(REQUIRED_FIELDS[kind])))
        del block[key]
        with pytest.raises(SaveFormatError) as info:
            Conversation.loads(dumps(doc))
        assert info.value.path == path
        assert repr(key) in str(info.value)

    @pytest.mark.parametrize(
        ("read", "value", "error", "path", "words"),
        [
            (
                Conversation.from_payload,
                {
                    "messages": [
                        {"role": "user", "content": "a"},
                        {"role": "assistant", "content": "b"},
                        {
                            "role": "user",
                            "content": [
                                {
                                    "type": "image",
                                    "source": {"type": "base64", "media_type": 5, "data": "AA=="},
                                }
                            ],
                        },
                    ]
                },
                MalformedInputError,
                "$.messages[2].content[0].source.media_type",
                ["string", "int"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "system", "content": "Be terse."}]},
                MalformedInputError,
                "$.messages[0].role",
                ["'system'", "top-level 'system'"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "user"}]},
                MalformedInputError,
                "$.messages[0]",
                ["'content'"],
            ),
            (
                Conversation.from_payload,
                {"messages": {"role": "user", "content": "x"}},
                MalformedInputError,
                "$.messages",
                ["list"],
            ),
            (
                Conversation.from_payload,
                {"model": "m"},
                MalformedInputError,
                "$.messages",
                ["messages"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "user", "content": "x", "name": "bob"}]},
                MalformedInputError,
                "$.messages[0]",
                ["'name'"],
            ),
            (
                Conversation.from_payload,
                {
                    "messages": [],
                    "system": [{"type": "image", "source": {"type": "url", "url": "u"}}],
                },
                MalformedInputError,
                "$.system[0]",
                ["text blocks", "image"],
            ),
            (
                Conversation.from_payload,
                {
                    "messages": [
                        {"role": "user", "content": "q"},
                        {
                            "role": "assistant",
                            "content": [{"type": "tool_use", "id": "t", "name": "f", "input": []}],
                        },
                    ]
                },
                MalformedInputError,
                "$.messages[1].content[0].input",
                ["object"],
            ),
            (
                Conversation.from_payload,
                {
                    "messages": [
                        {
                            "role": "user",
                            "content": [
                                {
                                    "type": "tool_result",
                                    "tool_use_id": "t",
                                    "content": [{"type": "text"}],
                                }
                            ],
                        }
                    ]
                },
                MalformedInputError,
                "$.messages[0].content[0].content[0]",
                ["'text'"],
            ),
            (
                Conversation.from_payload,
                {
                    "messages": [
                        {
                            "role": "user",
                            "content": [
                                {"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}
                            ],
                        }
                    ]
                },
                MalformedInputError,
                "$.messages[0].content[0].is_error",
                ["true or false"],
            ),
            (
                Conversation.from_payload,
                {
                    "messages": [
                        {
                            "role": "user",
                            "content": [
                                {
                                    "type": "document",
                                    "source": {"type": "content", "content": [{"type": "text"}]},
                                }
                            ],
                        }
                    ]
                },
                MalformedInputError,
                "$.messages[0].content[0].source.content[0]",
                ["'text'"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "user", "content": ["just a string"]}]},
                MalformedInputError,
                "$.messages[0].content[0]",
                ["object"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "user", "content": [{"type": 5}]}]},
                MalformedInputError,
                "$.messages[0].content[0]",
                ["'type'"],
            ),
            (
                Conversation.from_payload,
                {"messages": [{"role": "user", "content": 5}]},
                MalformedInputError,
                "$.messages[0].content",
                ["string or a list"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {"content": {"type": "text", "text": "x"}},
                MalformedReplyError,
                "$.content",
                ["list"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {
                    "content": [
                        {"type": "text", "text": "a"},
                        {"type": "tool_use", "name": "f", "input": {}},
                    ]
                },
                MalformedReplyError,
                "$.content[1]",
                ["'id'"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {"content": [], "usage": {"input_tokens": 1, "output_tokens": "7"}},
                MalformedReplyError,
                "$.usage.output_tokens",
                ["integer"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {"content": [], "stop_reason": ["end_turn"]},
                MalformedReplyError,
                "$.stop_reason",
                ["string"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {"content": [], "role": "user"},
                MalformedReplyError,
                "$.role",
                ["'user'"],
            ),
            (
                lambda r: Conversation().user("q").fold(r),
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
                MalformedReplyError,
                "$",
                ["error response", "Overloaded"],
            ),
            (
                Conversation.loads,
                '{"format": "conversation-state", "version": 1, "turns": {}}',
                SaveFormatError,
                "$.turns",
                ["'turns'"],
            ),
            (
                Conversation.loads,
                '{"format": "conversation-state", "version": 1, '
                '"turns": [{"role": "user", "content": "x", "provenance": {}}]}',
                SaveFormatError,
                "$.turns[0].provenance",
                ["assistant"],
            ),
            (
                Conversation.loads,
                '{"format": "conversation-state", "version": 1, "turns": ['
                '{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", '
                '"provenance": {"replies": [{"usage": {"input_tokens": "x"}}]}}]}',
                SaveFormatError,
                "$.turns[1].provenance.replies[0].usage.input_tokens",
                ["integer"],
            ),
            (
                Conversation.loads,
                '{"format": "conversation-state", "version": 1, '
                '"turns": [{"role": "bot", "content": "x"}]}',
                SaveFormatError,
                "$.turns[0].role",
                ["'bot'"],
            ),
            (
                Conversation.loads,
                '{"format": "conversation-state", "version": 1, "turns": [], "metadata": []}',
                SaveFormatError,
                "$.metadata",
                ["metadata"],
            ),
            (
                lambda v: Conversation().user(v),
                {"type": "image", "source": {"type": "base64", "media_type": "image/png"}},
                MalformedInputError,
                "$.source",
                ["'data'"],
            ),
            (
                lambda v: Conversation().user(v),
                ["ok", {"type": "tool_use", "id": "a", "name": "b", "input": 5}],
                MalformedInputError,
                "$[1].input",
                ["object"],
            ),
            (
                lambda v: Conversation().user(v),
                {"type": "text", "text": "x", "citations": "c"},
                MalformedInputError,
                "$.citations",
                ["array"],
            ),
            (lambda v: Conversation().user(v), 5, MalformedInputError, "$", ["content", "int"]),
            (
                lambda v: Conversation(metadata=v),
                {"a": {"b": {1, 2}}},
                MalformedInputError,
                "$.metadata.a.b",
                ["set"],
            ),
            (
                lambda v: Conversation(metadata=v),
                {"a": [{1: "x"}]},
                MalformedInputError,
                "$.metadata.a[0]",
                ["keys must be strings"],
            ),
        ],
        ids=[
            "payload-media-type",
            "payload-system-role",
            "payload-no-content",
            "payload-messages-object",
            "payload-no-messages",
            "payload-unknown-message-field",
            "payload-system-image",
            "payload-tool-input-list",
            "payload-tool-result-nested",
            "payload-is-error-str",
            "payload-content-source-nested",
            "payload-string-in-block-list",
            "payload-type-int",
            "payload-content-int",
            "reply-content-object",
            "reply-tool-use-no-id",
            "reply-usage-str",
            "reply-stop-reason-list",
            "reply-role-user",
            "reply-api-error",
            "save-turns-object",
            "save-user-provenance",
            "save-reply-usage",
            "save-bad-role",
            "save-metadata-list",
            "user-source-no-data",
            "user-second-block-input",
            "user-citations-str",
            "user-int",
            "metadata-set",
            "metadata-int-key",
        ],
    )
    def test_error_names_path_and_field(
        self,
        read: Callable[[Any], Any],
        value: Any,
        error: type[MalformedInputError],
        path: str,
        words: list[str],
    ) -> None:
        """A malformed input raises the reader's error with the exact path, and the message
        says what was wrong there."""
        with pytest.raises(error) as info:
            read(value)
        assert info.value.path == path
        # The argument itself ("$") is not named: its message says what it is about.
        assert str(info.value).startswith(f"{path}: ") or path == "$"
        for word in words:
            assert word in str(info.value)

    @pytest.mark.parametrize(
        ("make", "field"),
        [
            (lambda: Text(5), "text"),  # type: ignore[arg-type]
            (lambda: ToolResult("t", is_error="no"), "is_error"),  # type: ignore[arg-type]
            (lambda: ToolUse(5, "f"), "id"),  # type: ignore[arg-type]
            (lambda: ToolUse("t", "f", [1]), "input"),  # type: ignore[arg-type]
            (lambda: Text("x", citations="c"), "citations"),  # type: ignore[arg-type]
            (lambda: Text("x", cache_control=["ephemeral"]), "cache_control"),  # type: ignore[arg-type]
            (lambda: ToolUse("t", "f", {}, extra=[1]), "extra"),  # type: ignore[arg-type]
        ],
        ids=["text", "is_error", "tool-id", "tool-input", "citations", "cache_control", "extra"],
    )
    def test_constructor_errors_name_the_field(self, make: Callable[[], Any], field: str) -> None:
        """A block constructor given a bad value raises MalformedInputError naming the field."""
        # Regression (tool-input, citations, cache_control, extra): fields checked by an attrs
        # converter (_json_object, _opt_json_list, ...) once raised with path "$" and a
        # message that did not say which field was wrong: "$: expected a JSON object, got list".
        with pytest.raises(MalformedInputError) as info:
            make()
        assert field in str(info.value)

    @pytest.mark.parametrize(
        ("block", "where"),
        [
            ({"type": "tool_use", "id": "t", "name": "f", "input": {"a": {1}}}, ".input.a"),
            ({"type": "tool_use", "id": "t", "name": "f", "input": {"x": math.nan}}, ".input.x"),
            ({"type": "tool_result", "tool_use_id": 5, "content": "ok"}, ".tool_use_id"),
            ({"type": "txt", "text": "hi"}, ".type"),
        ],
        ids=["set-in-input", "nan-in-input", "id-not-a-string", "typo"],
    )
    def test_a_block_dict_alone_or_in_a_list_is_refused_at_its_place(
        self, block: dict[str, Any], where: str
    ) -> None:
        """One block dict (the quick route of user/assistant) is refused as it is in a longer
        list, at ``$[0]`` and the field."""
        for content in ([block], [block, "and more"]):
            with pytest.raises(MalformedInputError) as alone:
                Conversation().user("q").assistant(content)
            assert alone.value.path == f"$[0]{where}"
            with pytest.raises(MalformedInputError) as as_turn:
                Turn("assistant", content)
            assert as_turn.value.path == f"$.content[0]{where}"
            assert as_turn.value.reason == alone.value.reason


# --- values with no JSON form ----------------------------------------------------------------


def _send_and_save(c: Conversation) -> None:
    """Encode, check and save ``c``, each on its own: only ConversationError may come out."""
    for use in (c.to_json, c.violations, c.dumps, lambda: hash(c)):
        with contextlib.suppress(ConversationError):
            use()


class TestValuesWithoutJSON:
    @pytest.mark.parametrize(
        "build",
        [
            lambda n: Conversation().user("q").assistant(ToolUse("toolu_1", "f", {"n": n})),
            lambda n: (
                Conversation()
                .user("q")
                .assistant({"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"n": n}})
            ),
            lambda n: Conversation().user({"type": "future_block", "n": [n]}),
            lambda n: Conversation().user(Text("x", extra={"n": n})),
            lambda n: Conversation(metadata={"n": n}).user("x"),
            lambda n: Conversation().user("q").fold({"content": [], "x_new": n}),
        ],
        ids=["tool-input", "tool-input-dict", "unknown-block", "extra", "metadata", "reply-extra"],
    )
    @pytest.mark.parametrize(
        "number", [2**64, -(2**63) - 1, 10**30], ids=["2^64", "-2^63-1", "1e30"]
    )
    def test_integer_beyond_64_bits(
        self, build: Callable[[int], Conversation], number: int
    ) -> None:
        """An integer orjson cannot write is refused with a ConversationError on the way in or
        when sent or saved, never a bare TypeError."""
        # Regression: freeze() accepts any int, and orjson.dumps once raised its
        # JSONEncodeError (a TypeError, "Integer exceeds 64-bit range") out of to_json()/dumps().
        attempt(lambda: _send_and_save(build(number)))

    @pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
    def test_non_finite_float_in_a_block_is_refused(self, number: float) -> None:
        """A NaN or infinity in a block has no JSON form and is refused with MalformedInputError."""
        # Regression: once accepted and silently written by orjson as null: the payload and the
        # save differed from the conversation (lossy), and loads(dumps(c)) != c.
        try:
            c = Conversation().user("q").assistant(ToolUse("toolu_1", "f", {"x": number}))
        except MalformedInputError:
            return
        with pytest.raises(MalformedInputError):
            c.to_json()
        with pytest.raises(MalformedInputError):
            c.dumps()

    def test_non_finite_float_option_is_refused(self) -> None:
        """A NaN option (temperature=nan) is refused rather than sent as null."""
        # Regression: to_payload(temperature=nan) once sent "temperature": null.
        with pytest.raises(MalformedInputError):
            Conversation().user("x").to_json(temperature=math.nan)

    @pytest.mark.parametrize(
        "build",
        [
            lambda: Conversation().user("\ud800"),
            lambda: Conversation(system="\udfff").user("x"),
            lambda: Conversation().user({"type": "future", "\ud800": 1}),
            lambda: Conversation().user(Text("x", extra={"k": "\ud83d"})),
            lambda: Conversation(metadata={"a": "\ud800"}).user("x"),
        ],
        ids=["user", "system", "unknown-key", "extra", "metadata"],
    )
    def test_lone_surrogates(self, build: Callable[[], Conversation]) -> None:
        """A str holding a lone surrogate (not encodable as UTF-8) raises a ConversationError
        on the way in or when sent or saved, never a bare TypeError."""
        # Regression: accepted by user()/Conversation(), then to_json() and dumps() once raised
        # orjson's JSONEncodeError (a TypeError: "str is not valid UTF-8: surrogates not allowed").
        attempt(lambda: _send_and_save(build()))

    @pytest.mark.parametrize("role", [[], {}, ["user"]], ids=["list", "dict", "list-user"])
    def test_unhashable_role_in_save(self, role: Any) -> None:
        """A saved turn whose role is a list or object raises SaveFormatError."""
        # Regression: _save._load_turns once tested ``record.get("role") in _ROLES`` (a dict) on
        # its fast path, so an unhashable role raised a bare TypeError: unhashable type: 'list'.
        doc = {**SAVE_HEADER, "turns": [{"role": role, "content": "x"}]}
        with pytest.raises(SaveFormatError):
            Conversation.loads(dumps(doc))


# --- deep nesting ---------------------------------------------------------------------------

DEPTH = 10_000


def nested_lists(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def nested_json(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_tool_results(depth: int) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": "x"}
    for _ in range(depth):
        block = {"type": "tool_result", "tool_use_id": "t", "content": [block]}
    return block


def _deep_payload(depth: int) -> dict[str, Any]:
    tool_use = {"type": "tool_use", "id": "t", "name": "f", "input": {"x": nested_lists(depth)}}
    return {
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": [tool_use]}]
    }


def _deep_payload_json(depth: int) -> bytes:
    return (
        b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": '
        b'[{"type": "tool_use", "id": "t", "name": "f", "input": {"x": '
        + nested_json(depth)
        + b"}}]}]}"
    )


def _deep_reply_json(depth: int) -> bytes:
    return (
        b'{"content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"x": '
        + nested_json(depth)
        + b"}}]}"
    )


DEEP_INPUTS: dict[str, Callable[[int], Any]] = {
    "user-dict": lambda d: Conversation().user({"type": "future", "x": nested_lists(d)}),
    "assistant-tool-use-dict": lambda d: (
        Conversation()
        .user("q")
        .assistant({"type": "tool_use", "id": "t", "name": "f", "input": {"x": nested_lists(d)}})
    ),
    "assistant-ToolUse": lambda d: (
        Conversation().user("q").assistant(ToolUse("t", "f", {"x": nested_lists(d)}))
    ),
    "from_payload-dict": lambda d: Conversation.from_payload(_deep_payload(d)),
    "fold-dict": lambda d: (
        Conversation()
        .user("q")
        .fold(
            {
                "content": [
                    {"type": "tool_use", "id": "t", "name": "f", "input": {"x": nested_lists(d)}}
                ]
            }
        )
    ),
    "metadata": lambda d: Conversation(metadata={"x": nested_lists(d)}),
    "system-citations": lambda d: Conversation(
        system=[{"type": "text", "text": "s", "citations": nested_lists(d)}]
    ),
    "nested-tool-results": lambda d: Conversation().user(nested_tool_results(d)),
}


def _outcome(call: Callable[[], Any]) -> str | None:
    """None when ``call`` succeeds (and its result is usable) or raises a ConversationError;
    else a short description of what went wrong (kept short: no 10,000-level repr)."""
    try:
        result = call()
        if isinstance(result, Conversation):
            _send_and_save(result)
    except ConversationError:
        return None
    except RecursionError:
        return "bare RecursionError"
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return None


class TestDeepNesting:
    # Regression (every test of this class failed before 2e1d9f7): freeze(), structure_block()
    # and the FrozenList/FrozenDict hashes recursed once per level, so input nested ~1,000
    # deep raised a bare RecursionError (even JSON text, which orjson parses up to 1,024
    # levels); input 254..~1,000 deep was accepted, but orjson writes at most 254 levels, so
    # to_json()/dumps() raised a bare TypeError ("Recursion limit reached").

    @pytest.mark.parametrize("build", DEEP_INPUTS.values(), ids=DEEP_INPUTS.keys())
    def test_ten_thousand_levels(self, build: Callable[[int], Any]) -> None:
        """Input nested 10,000 levels deep raises a ConversationError, not RecursionError."""
        outcome = _outcome(lambda: build(DEPTH))
        assert outcome is None, outcome

    @pytest.mark.parametrize(
        ("read", "body"),
        [
            (Conversation.from_payload, _deep_payload_json),
            (lambda body: Conversation().user("q").fold(body), _deep_reply_json),
        ],
        ids=["from_payload", "fold"],
    )
    @pytest.mark.parametrize("depth", [300, 1000], ids=["300", "1000"])
    def test_deep_json_text(
        self, read: Callable[[bytes], Any], body: Callable[[int], bytes], depth: int
    ) -> None:
        """JSON text nested as deep as the JSON parser allows is read and written, or refused
        with a ConversationError; never a RecursionError or TypeError."""
        outcome = _outcome(lambda: read(body(depth)))
        assert outcome is None, outcome

    @pytest.mark.parametrize("depth", [300, 1000], ids=["300", "1000"])
    def test_deep_save(self, depth: int) -> None:
        """A saved conversation nested as deep as the JSON parser allows loads and saves, or is
        refused with SaveFormatError."""
        doc = (
            b'{"format": "conversation-state", "version": 1, "turns": [{"role": "user", '
            b'"content": [{"type": "future", "x": ' + nested_json(depth) + b"}]}]}"
        )
        outcome = _outcome(lambda: Conversation.loads(doc))
        assert outcome is None, outcome

    def test_moderately_deep_input_still_works(self) -> None:
        """A tool input nested 100 levels deep round-trips through payload and save."""
        c = Conversation.from_payload(_deep_payload(100))
        assert Conversation.from_payload(c.to_payload()) == c
        assert Conversation.loads(c.dumps()) == c


# --- what the seeded fuzzer found (tests/conversation/test_fuzz.py draws the inputs) -------------


def _nested_dicts(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"k": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


def _calls_made(run: Callable[[], Any]) -> int:
    """How many Python functions ``run`` calls, counted by the profiler (no clock)."""
    count = 0

    def profile(frame: types.FrameType, event: str, arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        run()
    finally:
        sys.setprofile(None)
    return count


class TestEqualityIsLinear:
    # Regression: json_equal called dict.__eq__, which called FrozenDict.__eq__ on every
    # child, which called json_equal on it again: each level doubled the work, so a tool input
    # nested 22 deep took seconds to compare and one nested 60 deep would never finish.

    def test_calls_grow_with_size_not_exponentially(self) -> None:
        """Comparing values twice as deep makes about twice the calls, not the square."""

        def compare(depth: int) -> Callable[[], Any]:
            a, b = freeze(_nested_dicts(depth)), freeze(_nested_dicts(depth))
            return lambda: (a == b, json_equal(a, b), a != b)

        small, large = _calls_made(compare(12)), _calls_made(compare(24))
        assert large <= 2 * small + 10, (small, large)

    @pytest.mark.timeout(20)
    def test_sixty_levels_deep(self) -> None:
        """A save of a tool input nested 60 deep loads back equal (exponential: never)."""
        c = Conversation().user("q").assistant(ToolUse("t", "f", _nested_dicts(60)))
        again = Conversation.loads(c.dumps())
        assert again == c
        assert hash(again) == hash(c)
        assert again != Conversation().user("q").assistant(ToolUse("t", "f", _nested_dicts(59)))

    def test_json_rules_kept(self) -> None:
        """Equality still tells true from 1, 1 from 1.0, -0.0 from 0.0, and a missing key."""
        assert FrozenDict({"a": [1]}) == {"a": [1]}
        assert FrozenDict({"a": [True]}) != {"a": [1]}
        assert FrozenDict({"a": 1}) != {"a": 1.0}
        assert FrozenList([-0.0]) != [0.0]
        assert FrozenDict({"a": None}) != {"b": None}
        assert FrozenDict({"a": {"b": [1, {"c": 2}]}}) == {"a": {"b": [1, {"c": 2}]}}


class TestInterruptedIsABool:
    @pytest.mark.parametrize("flag", [[], "yes", 1, 0, None], ids=repr)
    def test_fold_refuses_anything_but_a_bool(self, flag: Any) -> None:
        """fold(interrupted=...) takes True or False; a list (unhashable) or "yes" (not
        saved as a bool) is refused, naming the argument."""
        # Regression: interrupted=[] was accepted and hash(c) raised TypeError;
        # interrupted="yes" made a conversation that loads(dumps(c)) did not give back.
        with pytest.raises(MalformedInputError, match=r"^interrupted: .*True or False"):
            Conversation().user("q").fold({"content": []}, interrupted=flag)

    def test_provenance_refuses_anything_but_a_bool(self) -> None:
        with pytest.raises(MalformedInputError, match="interrupted"):
            Provenance(interrupted="yes")  # type: ignore[arg-type]


class _Tone(enum.StrEnum):
    CALM = "calm"


class _Role(enum.StrEnum):
    USER = "user"


class _Rank(enum.IntEnum):
    THREE = 3


class _Half(float):
    pass


class TestPlainScalars:
    # Regression: values of str/int/float subclasses were kept as the subclass, which JSON
    # equality tells from the plain value a round trip gives back.

    def test_strenum_in_a_tool_input(self) -> None:
        c = Conversation().user("q").assistant(ToolUse("t", "f", {"tone": _Tone.CALM}))
        assert type(c[1].blocks[0].input["tone"]) is str  # type: ignore[union-attr]
        assert Conversation.loads(c.dumps()) == c
        assert Conversation.from_payload(c.to_payload()) == c

    def test_intenum_in_usage(self) -> None:
        reply = {"content": [{"type": "text", "text": "a"}], "usage": {"input_tokens": _Rank.THREE}}
        c = Conversation().user("q").fold(reply)
        usage = c[1].provenance.replies[0].usage  # type: ignore[union-attr]
        assert type(usage.input_tokens) is int
        assert Conversation.loads(c.dumps()) == c

    def test_every_entry_point(self) -> None:
        """Keys, block fields, metadata, roles, content, system and reply metadata."""
        value: dict[str, Any] = {_Tone.CALM: [_Rank.THREE, _Half(0.5), True, False, None]}
        role: Any = _Role.USER
        plain = {"calm": [3, 0.5, True, False, None]}
        made = (
            Conversation(system=_Tone.CALM, metadata={"m": value})
            .user(_Tone.CALM)
            .user(Text(_Tone.CALM, extra={"x": value}))
            .user({"type": "future", "v": value})
            .assistant(ToolUse(_Tone.CALM, _Tone.CALM, value))
            .fold({"content": [], "model": _Tone.CALM, "usage": {"x": value}})
            .append(Turn(role, [_Tone.CALM]))
        )
        expected = (
            Conversation(system="calm", metadata={"m": plain})
            .user("calm")
            .user(Text("calm", extra={"x": plain}))
            .user({"type": "future", "v": plain})
            .assistant(ToolUse("calm", "calm", plain))
            .fold({"content": [], "model": "calm", "usage": {"x": plain}})
            .append(Turn("user", "calm"))
        )
        assert made == expected
        assert Conversation.loads(made.dumps()) == made
        provenance = made[3].provenance
        assert provenance is not None
        kept = [made.system, made[-1].role, made[0].content, provenance.model]
        assert [type(value) for value in kept] == [str] * 4

    def test_bool_stays_bool(self) -> None:
        """True is not normalized to 1 (bool is an int subclass, and a JSON type of its own)."""
        block = ToolUse("t", "f", {"a": True, "b": [False]})
        assert block.input["a"] is True
        assert block.input["b"][0] is False


def _deep_tool_results(depth: int) -> ToolResult:
    block = ToolResult("t", "x")
    for _ in range(depth - 1):
        block = ToolResult("t", [block])
    return block


class TestBlockNesting:
    # Regression: a ToolResult in a ToolResult 400 deep passed user() and then raised a bare
    # RecursionError in dumps, to_json, hash and resumable(); the readers refused it as dicts.

    def test_objects_deeper_than_the_limit_are_refused(self) -> None:
        with pytest.raises(MalformedInputError, match="nest deeper than"):
            _deep_tool_results(400)

    def test_the_limit_is_the_same_for_objects_and_dicts(self) -> None:
        """MAX_BLOCK_DEPTH levels are accepted, built or read, and round-trip; one more is
        refused either way."""
        deepest = _deep_tool_results(MAX_BLOCK_DEPTH)
        c = Conversation().user([deepest])
        assert Conversation.loads(c.dumps()) == c
        assert Conversation().user(converter.unstructure(deepest)) == c
        hash(c)
        with pytest.raises(MalformedInputError, match="nest deeper than"):
            ToolResult("t", [deepest])
        with pytest.raises(MalformedInputError, match="nest deeper than"):
            Conversation().user({"type": "tool_result", "tool_use_id": "t", "content": [deepest]})
        with pytest.raises(MalformedInputError):
            Conversation().user(nested_tool_results(MAX_BLOCK_DEPTH))

    def test_documents_and_search_results_count(self) -> None:
        """A document of content blocks and a search result nest as a tool result does."""
        inner: Any = Text("x")
        for level in range(MAX_BLOCK_DEPTH - 1):
            inner = Document.from_blocks([inner]) if level % 2 else SearchResult("s", "t", [inner])
        with pytest.raises(MalformedInputError, match="nest deeper than"):
            ToolResult("t", [inner])
        attempt(lambda: Conversation().user([ToolResult("t", [SearchResult("s", "t", [inner])])]))


class TestBoundedMessages:
    # Regression: messages repr()'d the offending value whole: a role given as a dict nested
    # 5,000 deep raised RecursionError while the message was being built.

    @pytest.mark.parametrize(
        "call",
        [
            lambda bad: Turn(bad, "x"),
            lambda bad: Conversation.from_payload({"messages": [{"role": bad, "content": "x"}]}),
            lambda bad: Conversation().fold({"content": [], "role": bad}),
            lambda bad: Conversation().fold({"content": [], "type": bad}),
            lambda bad: Conversation().fold({"type": "error", "error": {"message": bad}}),
            lambda bad: Text([bad]),  # type: ignore[arg-type]
            lambda bad: ServerToolResult(bad, "t"),
            lambda bad: Conversation().with_metadata(bad),
            lambda bad: Conversation().user("q").fold({"content": []}, interrupted=bad),
        ],
        ids=[
            "turn",
            "payload",
            "reply-role",
            "reply-type",
            "api-error",
            "text",
            "server",
            "meta",
            "interrupted",
        ],
    )
    @pytest.mark.parametrize(
        "bad",
        [_nested_dicts(5000), "x" * 100_000, [[0] * 1000]],
        ids=["5000-deep", "100k-chars", "wide"],
    )
    def test_a_quoted_value_is_clipped(self, call: Callable[[Any], Any], bad: Any) -> None:
        with pytest.raises(MalformedInputError) as info:
            call(bad)
        assert len(str(info.value)) < 400

    def test_quote(self) -> None:
        assert quote("abc") == "'abc'"
        assert quote(None) == "None"
        assert quote({"a": [1, {"b": 2}]}) == "{'a': [1, {...}]}"
        assert len(quote(10**10_000)) < 40
        assert len(quote("x" * 1000)) <= 80


class TestWithMetadataArgument:
    @pytest.mark.parametrize("bad", ["x", 5, ["a", "b"], [("a", 1)]], ids=repr)
    def test_not_a_mapping(self, bad: Any) -> None:
        # Regression: with_metadata("x") raised ValueError, with_metadata(5) TypeError.
        with pytest.raises(MalformedInputError, match=r"^metadata: with_metadata takes a mapping"):
            Conversation().with_metadata(bad)

    def test_mapping_and_keywords(self) -> None:
        c = Conversation().with_metadata({"a": 1}, b=2)
        assert c.metadata == {"a": 1, "b": 2}


class TestWrittenIsReadable:
    # Regression: Image(UnknownSource({})) was accepted and written as "source": {}, which
    # from_payload and loads then refused.

    @pytest.mark.parametrize(
        "raw", [{}, {"type": 5}, {"type": None}, {"type": "base64"}, {"type": "content"}], ids=repr
    )
    def test_unknown_source_needs_an_unknown_string_type(self, raw: dict[str, Any]) -> None:
        with pytest.raises(MalformedInputError, match="source"):
            UnknownSource(raw)

    def test_unknown_source_round_trips(self) -> None:
        c = Conversation().user([Image(UnknownSource({"type": "future", "ref": 1})), "what?"])
        assert Conversation.loads(c.dumps()) == c
        assert Conversation.from_payload(c.to_payload()) == c

    def test_hand_built_frozen_values_are_checked(self) -> None:
        """A FrozenDict or FrozenList built by hand is checked like a dict or list: a set in
        it is refused (it would make hash() raise TypeError), a StrEnum made a str."""
        with pytest.raises(MalformedInputError, match="set"):
            ToolUse("t", "f", FrozenDict({"a": {1, 2}}))
        block = ToolUse("t", "f", FrozenDict({"a": FrozenList([_Tone.CALM])}))
        assert type(block.input["a"][0]) is str
        c = Conversation().user("q").assistant(block)
        assert Conversation.loads(c.dumps()) == c

    def test_server_tool_result_type_not_hashable(self) -> None:
        with pytest.raises(MalformedInputError, match=r"ServerToolResult\.type"):
            ServerToolResult([], "t")  # type: ignore[arg-type]


class TestMessageWording:
    def test_the_argument_itself_has_no_dollar_prefix(self) -> None:
        """An error about the argument itself reads as a sentence, not "$: ..."."""
        calls: list[Callable[[], Any]] = [
            lambda: Conversation.from_payload(5),  # type: ignore[arg-type]
            lambda: Conversation().append(5),  # type: ignore[arg-type]
            lambda: Conversation().fold([]),  # type: ignore[arg-type]
            lambda: Conversation.loads(b"[]"),
        ]
        for call in calls:
            with pytest.raises(MalformedInputError) as info:
                call()
            assert not str(info.value).startswith("$"), str(info.value)

    def test_none_for_python_null_for_json(self) -> None:
        """A Python None is called None; a JSON null is called null."""
        body = {"messages": [{"role": "user", "content": None}]}
        with pytest.raises(MalformedInputError, match=r"got None$"):
            Conversation.from_payload(body)
        with pytest.raises(MalformedInputError, match=r"got null$"):
            Conversation.from_payload(orjson.dumps(body))
        reply = {"content": [{"type": "text", "text": "a"}], "id": None, "usage": None, "model": 5}
        with pytest.raises(MalformedReplyError, match="got int"):
            Conversation().fold(reply)
        with pytest.raises(MalformedReplyError, match=r"got None$"):
            Conversation().fold({"content": [None]})
        with pytest.raises(MalformedReplyError, match=r"got null$"):
            Conversation().fold(b'{"content": [null]}')
        doc = {**SAVE_HEADER, "turns": [{"role": "user", "content": None}]}
        with pytest.raises(SaveFormatError, match=r"got null$"):
            Conversation.loads(orjson.dumps(doc))

    def test_articles(self) -> None:
        c = Conversation().user("q").assistant(ToolResult("t", "x"))
        (violation,) = c.violations()
        assert "in an assistant turn" in violation.message
        with pytest.raises(MalformedInputError, match="an image needs the field 'source'"):
            Conversation().user({"type": "image"})

    def test_repr_of_a_block_only_turn(self) -> None:
        """A conversation ending in a tool_result turn shows the block, not ''."""
        c = Conversation().user("q").assistant(ToolUse("t", "f", {})).user(ToolResult("t", "ok"))
        assert "last=user:[tool_result]" in repr(c)
        assert "ToolResult" in repr(c[-1])


class TestReplyValuesBuiltByHand:
    # Regression: Usage, ReplyInfo, Reply and Provenance took anything, so a Reply or a
    # Provenance built with junk was folded or appended and then raised a bare TypeError or
    # AttributeError in fold, hash, usage or dumps.

    @pytest.mark.parametrize(
        "build",
        [
            lambda: Reply(content="x"),  # type: ignore[arg-type]
            lambda: Reply(content=[{"type": "text", "text": "a"}]),  # type: ignore[arg-type]
            lambda: Reply(content=(), usage=5),  # type: ignore[arg-type]
            lambda: Reply(content=(), id=5),  # type: ignore[arg-type]
            lambda: Usage(input_tokens="x"),  # type: ignore[arg-type]
            lambda: Usage(output_tokens=True),
            lambda: ReplyInfo(usage=5),  # type: ignore[arg-type]
            lambda: Provenance(replies=5),  # type: ignore[arg-type]
            lambda: Provenance(replies=(5,)),  # type: ignore[arg-type]
            lambda: Provenance(prefill="x"),  # type: ignore[arg-type]
            lambda: Usage(extra=5),  # type: ignore[arg-type]
            lambda: Reply((), extra=[1]),  # type: ignore[arg-type]
        ],
        ids=[
            "reply-str",
            "reply-list",
            "reply-usage",
            "reply-id",
            "usage-str",
            "usage-bool",
            "info-usage",
            "replies-int",
            "replies-items",
            "prefill",
            "usage-extra",
            "reply-extra",
        ],
    )
    def test_junk_is_refused(self, build: Callable[[], Any]) -> None:
        with pytest.raises(MalformedInputError, match="must be"):
            build()

    def test_what_is_accepted_folds_and_saves(self) -> None:
        usage = Usage(_Rank.THREE, 1)
        assert type(usage.input_tokens) is int
        reply = Reply((Text("a"),), id=_Tone.CALM, usage=usage)
        c = Conversation().user("q").fold(reply)
        assert Conversation.loads(c.dumps()) == c
        assert c.usage.input_tokens == 3
        # Found by the fuzzer: Usage(extra=None) was kept as None and dumps() raised TypeError.
        c = Conversation().user("q").fold(Reply((Text("a"),), usage=Usage(1, 2, extra=None)))
        assert Conversation.loads(c.dumps()) == c
