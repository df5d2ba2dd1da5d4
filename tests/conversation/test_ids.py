"""Content ids: the documented algorithm, golden values, prefixes, and their cost."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import conversation._ids as ids
from conversation import (
    Conversation,
    MalformedInputError,
    Text,
    ToolResult,
    ToolUse,
)
from conversation._chain import CHUNK
from tests.strategies import json_values, reply_dicts, stored_conversations

# -- an independent implementation of the algorithm in conversation/_ids.py ---------------


def _number(x: float) -> str:
    """A float as the canonical JSON writes it (Python's repr, but positional from 1e-5)."""
    text = repr(x)
    small = re.fullmatch(r"(-?)(\d)(?:\.(\d+))?e-05", text)
    if small:
        return f"{small[1]}0.0000{small[2]}{small[3] or ''}"
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)


def _json(value: Any) -> str:
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_json(k)}:{_json(v)}" for k, v in items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_json(v) for v in value) + "]"
    if isinstance(value, float):
        return _number(value)
    return json.dumps(value, ensure_ascii=False)


def reference_id(c: Conversation) -> str:
    """The id as the module docstring defines it, from the save format's records."""
    saved = json.loads(c.dumps())
    items: list[Any] = ["conversation-state/1", saved.get("system")]
    for turn in saved["turns"]:
        items += [turn["role"], turn["content"]]
        if "provenance" in turn:
            items.append(turn["provenance"])
    text = _json(items)[:-1]
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_reference_writes_floats_as_the_library_does() -> None:
    for x in (0.1, 1e16, 1.5e-7, 1e-5, 2.5e-5, 0.0001, -0.0, 1e22, 123456789.0, 5e-324):
        c = Conversation().assistant(ToolUse("toolu_1", "f", {"x": x}))
        assert c.id == reference_id(c), x


# -- golden ids ------------------------------------------------------------------------

_REPLY = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Paris."}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 12, "output_tokens": 3},
}


def _golden_cases() -> dict[str, Conversation]:
    tool = ToolUse("toolu_01", "get_weather", {"city": "Paris", "days": 2, "units": "°C"})
    return {
        "empty": Conversation(),
        "system only": Conversation(system="Be brief."),
        "one turn": Conversation().user("Hello"),
        "two turns": Conversation(system="Be brief.").user("Hello").assistant("Hi!"),
        "system blocks": Conversation(system=[Text("A"), Text("B")]).user("x"),
        "folded reply": Conversation().user("Capital of France?").fold(_REPLY),
        "tool loop": Conversation()
        .user("Weather?")
        .assistant([Text("Let me look."), tool])
        .user(ToolResult("toolu_01", "Sunny, 21 °C\n")),
        "escapes": Conversation().user('quote " backslash \\ tab \t nul \x00 é 😀'),
    }


GOLDEN = {
    "empty": "e72e9105d8bc437a043e76b1d7d3ef475a20a63b89ab26c4a53d4541f477d121",
    "escapes": "b8a4c226edc33bd50f53677b8c01e2a5e3316c40020d5387239c9600175874f5",
    "folded reply": "38639be7f014d02bbb1e0ea426f77e23258f2fe332ba83c139e615aaf45aceee",
    "one turn": "e98f6378d527f41518beec673014f8acb7a9d2db1fb7e83109be5dc59d3b69b5",
    "system blocks": "cd9c7632d90d0b2f30756ef2afbaee4d600b5bec6d3f45d03b2f3b0495979a81",
    "system only": "400f118c44bcf88b4f27a42828602a0a0d5d29eca747a188d0fe35d4ff49aac9",
    "tool loop": "e277462050900d3d51c8e93d7456c2a4dc5ac9fe9718c1b6d531da1bf6477359",
    "two turns": "a79351fb5bb02700a81321d4b34efd680df306eff90299faaec6dfb6931a8f9e",
}


def test_the_hashed_input_spelled_out() -> None:
    c = Conversation(system="Be brief.").user("Hello").assistant("Hi!")
    text = '["conversation-state/1","Be brief.","user","Hello","assistant","Hi!"'
    assert c.id == hashlib.sha256(text.encode()).hexdigest() == GOLDEN["two turns"]
    assert Conversation().id == hashlib.sha256(b'["conversation-state/1",null').hexdigest()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_ids(name: str) -> None:
    """Pinned: ids must never change, in this or any later version."""
    c = _golden_cases()[name]
    assert c.id == GOLDEN[name]
    assert reference_id(c) == GOLDEN[name]


# -- what takes part ----------------------------------------------------------------------


def test_an_id_is_lowercase_hex_sha256() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", Conversation().user("x").id)


def test_metadata_takes_no_part_and_system_does() -> None:
    c = Conversation(system="S").user("hi")
    assert c.with_metadata(title="t").id == c.id
    assert c.with_system("T").id != c.id
    assert c.with_system(None).id != c.id
    assert c.with_system([Text("S")]).id != c.id  # a block list is not the bare string


def test_provenance_takes_part() -> None:
    synthetic = Conversation().user("Capital of France?").assistant("Paris.")
    folded = Conversation().user("Capital of France?").fold(_REPLY)
    assert synthetic.last is not None
    assert folded.last is not None
    assert synthetic.last.content == folded.last.content
    assert synthetic.id != folded.id
    other_usage = Conversation().user("Capital of France?").fold({**_REPLY, "usage": {}})
    assert other_usage.id != folded.id


def test_roles_and_turn_boundaries_take_part() -> None:
    assert Conversation().user("ab").id != Conversation().assistant("ab").id
    assert Conversation().user("ab").id != Conversation().user("a").user("b").id


def test_equal_content_built_differently_has_one_id() -> None:
    objects = Conversation().assistant(ToolUse("toolu_1", "f", {"a": 1, "b": [1, 2]}))
    wire = Conversation().assistant(
        [{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"b": [1, 2], "a": 1}}]
    )
    assert objects == wire
    assert objects.id == wire.id
    one_block = Conversation().user([Text("hi")])
    assert one_block.id == Conversation().user("hi").id  # one plain text block is a string


@given(stored_conversations())
def test_ids_follow_the_documented_algorithm(c: Conversation) -> None:
    assert c.id == reference_id(c)


@given(stored_conversations())
def test_a_saved_conversation_keeps_its_id(c: Conversation) -> None:
    assert Conversation.loads(c.dumps()).id == c.id


def _content(c: Conversation) -> Conversation:
    return Conversation(system=c.system, turns=c.turns)


@given(stored_conversations(), stored_conversations())
def test_equal_ids_for_equal_conversations_and_only_for_them(
    a: Conversation, b: Conversation
) -> None:
    if _content(a) != _content(b):
        assert a.id != b.id
    elif a.id != b.id:
        # Python equality is looser than JSON's (1 == 1.0 == True): then the JSON differs.
        assert _content(a).dumps() != _content(b).dumps()
    assert _content(a).id == a.id


@given(stored_conversations(max_steps=8))
def test_every_prefix_has_the_id_of_the_same_turns_built_afresh(c: Conversation) -> None:
    for k in range(len(c) + 1):
        fresh = Conversation(system=c.system, turns=list(c)[:k])
        assert c[:k].id == fresh.id
    assert c[: len(c)].id == c.id


@given(json_values())
def test_tool_input_values_of_every_json_kind(value: Any) -> None:
    c = Conversation().user("go").assistant(ToolUse("toolu_1", "f", {"v": value}))
    assert c.id == reference_id(c)


def test_a_lone_surrogate_is_the_librarys_error_naming_the_turn() -> None:
    c = Conversation().user("fine").assistant("broken \ud800")
    with pytest.raises(MalformedInputError, match=r"turn 1") as info:
        _ = c.id
    assert info.value.path == "$.messages[1]"


# -- cost: one turn per turn added ---------------------------------------------------------


class _Counting:
    """Counts the turns the id module encodes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.turns = 0
        encode = ids._encode

        def counting(contents: list[Any], provenances: list[Any], start: int) -> bytes:
            self.turns += len(contents)
            return encode(contents, provenances, start)

        monkeypatch.setattr(ids, "_encode", counting)


def _history(n: int) -> Conversation:
    c = Conversation(system="S")
    for i in range(n // 2):
        c = c.user(f"question {i}").assistant(f"answer {i}")
    return c


def test_one_more_turn_costs_one_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _Counting(monkeypatch)
    c = _history(10_000)
    first = c.id
    assert counter.turns == 10_000
    assert c.id == first
    assert counter.turns == 10_000
    d = c.user("one more")
    counter.turns = 0
    assert d.id == reference_id(d)
    assert counter.turns == 1
    e = d.assistant("and its answer").user("and another")
    counter.turns = 0
    _ = e.id
    assert counter.turns == 2


def test_a_branch_or_a_prefix_costs_at_most_a_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _Counting(monkeypatch)
    c = _history(10_000)
    _ = c.id
    for k in (9_999, 5_000, 1_234, 1):
        counter.turns = 0
        branch = c[:k].user("another way")
        assert branch.id == reference_id(branch)
        assert counter.turns <= CHUNK + 1, k


def test_one_turn_branches_cost_a_turn_each_in_time_and_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """1,000 answers to one question: each id hashes one turn, and the history keeps hash
    states at its checkpoints and its newest turns only (each branch keeps its own)."""
    counter = _Counting(monkeypatch)
    c = _history(2_000)
    _ = c.id
    counter.turns = 0
    branches = [c.user(f"branch {i}") for i in range(1_000)]
    found = [b.id for b in branches]
    assert counter.turns == 1_000
    assert found[::100] == [reference_id(b) for b in branches[::100]]
    kept = 0
    run = c._at[0]
    while run is not None:
        learnt = getattr(run, "memo", None)
        idents = {} if learnt is None else learnt.idents
        kept += sum(state[2] is not None for state in idents.values())
        run = run.parent
    assert kept <= 2_000 // CHUNK + 2


def test_ids_under_another_system_are_not_confused(monkeypatch: pytest.MonkeyPatch) -> None:
    c = _history(300)
    other = c.with_system("T")
    assert c.id != other.id
    assert c.id == reference_id(c)
    assert other.id == reference_id(other)
    assert c[:150].id == reference_id(c[:150])
    assert other[:150].id == reference_id(other[:150])


def test_threads_computing_ids_of_branches_agree() -> None:
    base = _history(2_000)
    branches = [base[: 100 * i + 7].user(f"branch {i}") for i in range(16)]
    expected = [reference_id(b) for b in branches]
    results: list[list[str]] = []

    def work() -> None:
        results.append([b.id for b in branches] + [base.id])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == [*expected, reference_id(base)] for r in results)


def test_reply_dicts_are_hashed_as_saved() -> None:
    c = Conversation().user("q").fold(_REPLY)
    with_extra = Conversation().user("q").fold({**_REPLY, "container": {"id": "c1"}})
    assert c.id != with_extra.id
    assert with_extra.id == reference_id(with_extra)


@given(reply_dicts(), st.booleans())
def test_folded_replies_follow_the_algorithm(reply: dict[str, Any], prefill: bool) -> None:
    c = Conversation().user("q")
    if prefill:
        c = c.assistant("Sure:")
    c = c.fold(reply)
    assert c.id == reference_id(c)
