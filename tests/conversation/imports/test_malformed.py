"""Damaged exports always end in ImportFormatError (or read), never a bare KeyError or a hang.

Each example takes a valid export built in the test (hidden messages, tool
traffic, images, attachments, branches), changes or removes one value
anywhere in it, and reads it all. What reads must still be sendable.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conversation import Conversation, ImportFormatError
from conversation.imports import Dialogues, read_chatgpt, read_claude
from tests.conversation.imports.exports import (
    chatgpt_conversation,
    chatgpt_node,
    claude_conversation,
)

TRIP = Conversation().user("Plan a trip").assistant("Where to?")
CODE = {"content_type": "code", "language": "unknown", "text": "print(1)"}
IMAGE = {
    "content_type": "multimodal_text",
    "parts": [{"content_type": "image_asset_pointer", "asset_pointer": "sediment://file_1"}, "Hi"],
}
EXTRA = [
    chatgpt_node("call", "conv-1-n1", "assistant", CODE, recipient="python"),
    chatgpt_node("out", "call", "tool", {"content_type": "execution_output", "text": "1"}),
    chatgpt_node("img", "out", "user", IMAGE, metadata={"attachments": [{"id": "file_1"}]}),
]
CHATGPT = [chatgpt_conversation([TRIP.user("Lisbon"), TRIP.user("Porto")], extra_nodes=EXTRA)]
CLAUDE_ONE = claude_conversation(TRIP.user("Lisbon"))
CLAUDE_ONE["chat_messages"][0]["attachments"] = [{"file_name": "a.txt", "extracted_content": "x"}]
CLAUDE_ONE["chat_messages"][1]["content"].append({"type": "thinking", "thinking": "hm"})
CLAUDE = [CLAUDE_ONE]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["conv-1-n0", "conv-1-n2", "client-created-root", "human", "text"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def places(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    found = [at]
    if isinstance(value, dict):
        for key, inner in value.items():
            found.extend(places(inner, (*at, key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found.extend(places(inner, (*at, index)))
    return found


def damaged(export: list[Any], data: st.DataObject) -> list[Any]:
    """A copy of ``export`` with one value replaced by random JSON, or removed."""
    found = copy.deepcopy(export)
    path = data.draw(st.sampled_from(places(found)[1:]))
    parent: Any = found
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(json_values)
    return found


def read_all(reader: Callable[[Any], Dialogues], export: Any) -> None:
    """Read every dialogue; whatever reads must pass the pre-send rules, continued."""
    failed: ImportFormatError | None = None
    try:
        for dialogue in reader(export):
            for c in dialogue.conversations:
                assert not c.user("Go on").violations()
    except ImportFormatError as error:
        failed = error
    if failed is not None:
        assert failed.app in ("chatgpt", "claude")
        assert str(failed)


@given(st.data())
def test_damaged_chatgpt_exports(data: st.DataObject) -> None:
    """One value changed anywhere in a ChatGPT export: read, or ImportFormatError."""
    read_all(read_chatgpt, damaged(CHATGPT, data))


@given(st.data())
def test_damaged_claude_exports(data: st.DataObject) -> None:
    """One value changed anywhere in a Claude.ai export: read, or ImportFormatError."""
    read_all(read_claude, damaged(CLAUDE, data))


@given(json_values)
def test_any_json_at_all(value: Any) -> None:
    """Whatever JSON is given as the export, both readers answer with their own error."""
    read_all(read_chatgpt, value if isinstance(value, list | dict) else [value])
    read_all(read_claude, value if isinstance(value, list | dict) else [value])
