"""Misspelt block types and request options are refused before sending, new ones pass.

The closeness rule is :mod:`conversation._suggest`; block dicts the program
writes (``user()``, ``assistant()``, ``Turn``, block constructors) are checked;
what the API sends back (``fold``), what was saved (``loads``) and request
bodies (``from_payload``, which reads back whatever ``to_payload`` wrote) are
not. Real block types and request fields are taken from
the wire reference and the recorded replies in ``../shared/`` (skipped when
that folder is not there).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import ScriptedAdapter
from conversation import (
    Conversation,
    Document,
    MalformedInputError,
    SearchResult,
    ToolResult,
    Turn,
    UnknownBlock,
)
from conversation._conversation import REQUEST_FIELDS
from conversation._suggest import _family, misspelling_of, osa_distance
from conversation._wire import BLOCK_TYPE_NAMES, block_type_typo

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
REFERENCE = SHARED / "anthropic-messages-api.md"
FIXTURES = SHARED / "wire-fixtures"
needs_shared = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/ is not here")

OPTS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64}


# --- the rule ----------------------------------------------------------------------


def _reference_distance(a: str, b: str) -> int:
    """The optimal string alignment distance, computed in full (no limit)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[-1][-1]


_names = st.text(alphabet="abcdeilmnorstux_", max_size=12)


@given(_names, _names, st.integers(0, 4))
def test_bounded_distance_agrees_with_the_full_one(a: str, b: str, limit: int) -> None:
    assert osa_distance(a, b, limit) == min(_reference_distance(a, b), limit + 1)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("txt", "text"),
        ("tex", "text"),
        ("texts", "text"),
        ("Text", "text"),
        (" text ", "text"),
        ("imag", "image"),
        ("imgae", "image"),
        ("documnet", "document"),
        ("tool-use", "tool_use"),
        ("tooluse", "tool_use"),
        ("tool_results", "tool_result"),
        ("tool_reslt", "tool_result"),
        ("thinkng", "thinking"),
        ("seach_result", "search_result"),
        ("server_tool_usee", "server_tool_use"),
        ("web_search_tool_results", "web_search_tool_result"),
        ("mcp_tool_uses", "mcp_tool_use"),
        ("compation", "compaction"),
    ],
)
def test_close_block_types_are_misspellings(typed: str, meant: str) -> None:
    assert block_type_typo(typed) == meant


@pytest.mark.parametrize(
    "name",
    [
        "x_tool_result",  # a family member: a whole word added
        "agent_tool_use",
        "tool_result_x",
        "web_fetch_result",
        "fallback",
        "refusal",
        "future_block",
        "brand_new_block",
        "video",
        "audio",
        "tool_reference",
    ],
)
def test_new_block_types_are_not_misspellings(name: str) -> None:
    assert block_type_typo(name) is None


@given(st.sampled_from(BLOCK_TYPE_NAMES), st.data())
def test_one_edit_of_a_known_type_is_caught(known: str, data: st.DataObject) -> None:
    """Any one-letter slip (not a whole ``_word`` added or dropped) is a misspelling."""
    i = data.draw(st.integers(0, len(known) - 1))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    edits = [
        known[:i] + known[i + 1 :],
        known[:i] + letter + known[i:],
        known[:i] + letter + known[i + 1 :],
    ]
    if i + 1 < len(known):
        edits.append(known[:i] + known[i + 1] + known[i] + known[i + 2 :])
    for typed in edits:
        if typed in BLOCK_TYPE_NAMES or "__" in typed or typed.startswith("_"):
            continue
        assert block_type_typo(typed) is not None, typed


def _naive_misspelling_of(name: str, known: tuple[str, ...]) -> str | None:
    """The rule of the module, spelt out with no shortcut (full distances, no bounds)."""
    if name in known:
        return None
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in known:
        return normal
    close = [
        (_reference_distance(normal, k), i, k)
        for i, k in enumerate(known)
        if _reference_distance(normal, k) <= (1 if len(k) <= 5 else 2) and not _family(normal, k)
    ]
    return min(close)[2] if close else None


_near_names = st.sampled_from(BLOCK_TYPE_NAMES + REQUEST_FIELDS).flatmap(
    lambda known: (
        st.lists(st.sampled_from(["", "x", "_", "-", "e", "s", "T"]), max_size=3).map(
            lambda bits: (known + "".join(bits))[: len(known) + 2]
        )
        | st.integers(0, max(len(known) - 1, 0)).map(lambda i: known[:i] + known[i + 1 :])
    )
)


@given(_near_names | _names)
def test_the_shortcuts_do_not_change_the_answer(name: str) -> None:
    """Length and letter bounds skip only names the full rule would skip too."""
    assert block_type_typo(name) == _naive_misspelling_of(name, BLOCK_TYPE_NAMES)
    assert misspelling_of(name, REQUEST_FIELDS) == _naive_misspelling_of(name, REQUEST_FIELDS)


@given(st.text(max_size=30))
def test_the_rule_answers_a_known_name_or_none(name: str) -> None:
    meant = block_type_typo(name)
    assert meant is None or meant in BLOCK_TYPE_NAMES
    assert misspelling_of(name, REQUEST_FIELDS) in (None, *REQUEST_FIELDS)


# --- block types: refused where the program wrote them -----------------------------

TYPO = {"type": "txt", "text": "hi"}

WRITERS: dict[str, Callable[[], object]] = {
    "user(dict)": lambda: Conversation().user(TYPO),
    "user(list)": lambda: Conversation().user(["look", TYPO]),
    "assistant": lambda: Conversation().user("hi").assistant([TYPO]),
    "Turn": lambda: Turn("user", [TYPO]),
    "append(Turn)": lambda: Conversation().append(Turn("user", [TYPO])),
    "ToolResult": lambda: ToolResult("toolu_1", [TYPO]),
    "ToolResult in user": lambda: Conversation().user(
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": [TYPO]}
    ),
    "Document.from_blocks": lambda: Document.from_blocks([TYPO]),
    "document dict": lambda: Conversation().user(
        {"type": "document", "source": {"type": "content", "content": [TYPO]}}
    ),
    "SearchResult": lambda: SearchResult("https://kb.example/7", "Refunds", [TYPO]),
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_a_misspelt_block_type_the_program_wrote_is_refused(write: Callable[[], object]) -> None:
    with pytest.raises(MalformedInputError, match="did you mean 'text'") as caught:
        write()
    assert caught.value.path.endswith(".type")
    assert "UnknownBlock" in caught.value.reason  # how to send it anyway


@pytest.mark.parametrize(
    ("write", "path"),
    [
        (lambda: Conversation().user(["a", "b", TYPO]), "$[2].type"),
        (
            lambda: Conversation().user(
                {"type": "tool_result", "tool_use_id": "t", "content": ["x", TYPO]}
            ),
            "$.content[1].type",
        ),
    ],
)
def test_the_refusal_names_the_path(write: Callable[[], object], path: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        write()
    assert caught.value.path == path


def test_what_the_api_sent_and_what_was_saved_keep_any_type() -> None:
    """fold, loads and from_payload read a close type as an UnknownBlock: not the program's typo."""
    c = Conversation().user("hi").fold({"content": [{"type": "txt", "text": "x"}]})
    block = c[1].blocks[0]
    assert isinstance(block, UnknownBlock)
    assert block.type == "txt"
    assert Conversation.loads(c.dumps()) == c
    body = c.to_payload(**OPTS)  # provenance is not on the wire: compare bodies
    assert Conversation.from_payload(body).to_payload(**OPTS) == body


@pytest.mark.parametrize("kind", ["txt", " server_tool_use", "Text", "tool-use"])
def test_from_payload_reads_back_an_unknown_block_of_any_type(kind: str) -> None:
    """Whatever to_payload writes, from_payload reads back: a block built on purpose too."""
    c = Conversation().user([UnknownBlock({"type": kind, "v": 1}), "hi"])
    assert Conversation.from_payload(c.to_payload(**OPTS)) == c


def test_an_unknown_block_built_on_purpose_passes() -> None:
    c = Conversation().user([UnknownBlock(TYPO), "hi"])
    assert c.to_payload(**OPTS)["messages"][0]["content"][0] == TYPO


def test_new_block_types_pass_as_unknown_blocks() -> None:
    raw = {"type": "video", "source": {"type": "url", "url": "https://example.com/v.mp4"}}
    c = Conversation().user([raw, "what happens here?"])
    assert c.to_payload(**OPTS)["messages"][0]["content"][0] == raw
    assert Conversation.from_payload(c.to_payload(**OPTS)) == c


# --- every real block type passes ---------------------------------------------------


def _fixture_objects() -> Iterator[Any]:
    for path in sorted(FIXTURES.rglob("*")):
        if not path.is_file() or path.name.startswith("README"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        try:
            yield json.loads(text)
        except ValueError:
            for line in text.splitlines():
                if line.startswith("data:") and line[5:].strip().startswith("{"):
                    yield json.loads(line[5:])


def _types(value: Any) -> Iterator[str]:
    """Every ``type`` string anywhere in a JSON value."""
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str):
            yield kind
        for item in value.values():
            yield from _types(item)
    elif isinstance(value, list):
        for item in value:
            yield from _types(item)


def _content_blocks(value: Any) -> Iterator[dict[str, Any]]:
    """The content blocks of replies and streamed ``content_block_start`` events."""
    if not isinstance(value, dict):
        return
    if value.get("type") == "message_start":
        value = value.get("message")
    if isinstance(value, dict) and value.get("type") == "content_block_start":
        yield value["content_block"]
    elif isinstance(value, dict) and value.get("type") == "message":
        yield from (b for b in value.get("content") or [] if isinstance(b, dict))


def _reference_types() -> set[str]:
    text = REFERENCE.read_text(encoding="utf-8")
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", text)) | set(
        re.findall(r'"type"\s*:\s*"([a-z0-9_]+)"', text)
    )


@needs_shared
def test_every_type_in_the_reference_and_the_recorded_replies_is_not_a_typo() -> None:
    """Block types (mcp_tool_use, compaction, container_upload, *_tool_result...) and every
    other ``type`` value the API uses are told apart from misspellings."""
    found = _reference_types()
    for value in _fixture_objects():
        found.update(_types(value))
    assert {"mcp_tool_use", "mcp_tool_result", "compaction", "container_upload"} <= found
    assert {"fallback", "advisor_tool_result", "web_fetch_tool_result"} <= found
    typos = {kind: block_type_typo(kind) for kind in found}
    assert {kind: meant for kind, meant in typos.items() if meant not in (None, kind)} == {}


@needs_shared
def test_every_recorded_block_can_be_written_by_the_program() -> None:
    """Each real block, as a dict, goes through user()/assistant() and from_payload."""
    blocks = [block for value in _fixture_objects() for block in _content_blocks(value)]
    kinds = {block["type"] for block in blocks}
    assert {"mcp_tool_use", "mcp_tool_result", "compaction", "server_tool_use"} <= kinds
    for block in blocks:
        c = Conversation().user("hi").assistant([block])
        body = {
            "messages": [
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": [block]},
            ]
        }
        assert Conversation.from_payload(body) == c
        Conversation().user([block])  # the type is accepted whatever the role


# --- request options ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("sytem", "system"),
        ("max_token", "max_tokens"),
        ("maxtokens", "max_tokens"),
        ("temprature", "temperature"),
        ("Temperature", "temperature"),
        ("tool", "tools"),
        ("tool_choise", "tool_choice"),
        ("stop_sequence", "stop_sequences"),
        ("modle", "model"),
        ("metdata", "metadata"),
        ("top-k", "top_k"),
        ("thinkng", "thinking"),
        ("beta", "betas"),
    ],
)
def test_a_misspelt_option_is_refused_before_sending(typed: str, meant: str) -> None:
    c = Conversation().user("hi")
    calls: list[Callable[[], object]] = [
        lambda: c.to_payload(**OPTS, **{typed: 1}),
        lambda: c.to_json(**OPTS, **{typed: 1}),
        lambda: c.violations(**OPTS, **{typed: 1}),
        lambda: ScriptedAdapter(["ok"]).send(c, **OPTS, **{typed: 1}),
        lambda: ScriptedAdapter(["ok"], default_options={typed: 1}).send(c, **OPTS),
    ]
    for call in calls:
        with pytest.raises(MalformedInputError, match=f"did you mean '{meant}'") as caught:
            call()
        assert caught.value.path == f"$.{typed}"


def test_a_misspelt_system_says_where_the_system_prompt_goes() -> None:
    with pytest.raises(MalformedInputError, match=r"with_system\(\)"):
        Conversation().user("hi").to_payload(**OPTS, sytem="Be brief.")


@pytest.mark.parametrize(
    "name", ["reasoning_effort", "response_format", "prompt_cache_key", "user_location", "region"]
)
def test_a_new_field_that_resembles_none_passes(name: str) -> None:
    payload = Conversation().user("hi").to_payload(**OPTS, **{name: "x"})
    assert payload[name] == "x"


@needs_shared
def test_the_known_fields_are_those_of_the_reference() -> None:
    """Every top-level body field the reference names (its table and its list of newer
    fields) is known, so none of them is ever refused."""
    text = REFERENCE.read_text(encoding="utf-8")
    section = text.split("### 1.2 Top-level body fields", 1)[1].split("### 1.3", 1)[0]
    table = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.MULTILINE))
    newer = section.split("Newer/optional top-level fields", 1)[1].split("Interactions", 1)[0]
    listed = set(re.findall(r"`([a-z_]+)`", newer)) - {"standard", "fast", "previous_message_id"}
    assert {"model", "max_tokens", "messages", "mcp_servers"} <= table
    assert {"output_config", "context_management", "inference_geo"} <= listed
    assert (table | listed) <= set(REQUEST_FIELDS)


@pytest.mark.parametrize("name", sorted(set(REQUEST_FIELDS) - {"system", "messages"}))
def test_every_known_field_passes(name: str) -> None:
    assert misspelling_of(name, REQUEST_FIELDS) is None
    Conversation().user("hi").violations(**{**OPTS, name: 1})  # rules may object; no refusal
