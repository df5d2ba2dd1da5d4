"""Reading Claude.ai exports: a flat list in order, attachments as documents, trees when linked."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import Conversation, Document, ImportFormatError, Text, TextSource
from conversation.imports import Dialogue, read_claude
from tests.conversation.imports.exports import claude_conversation, text_turns

TRIP = Conversation().user("Plan a trip").assistant("Where to?").user("Lisbon")


def only(export: Any) -> Dialogue:
    """The one dialogue of ``export``."""
    [dialogue] = list(read_claude(export))
    return dialogue


def message(ident: str, sender: str, text: str, **more: Any) -> dict[str, Any]:
    """A legacy (2024) message: text, no content blocks."""
    stamp = "2024-10-18T05:30:20.458713Z"
    found: dict[str, Any] = {"uuid": ident, "text": text, "sender": sender, "created_at": stamp}
    found.update(updated_at=stamp, attachments=[], files=[])
    found.update(more)
    return found


def conversation(*messages: dict[str, Any], **more: Any) -> dict[str, Any]:
    """A conversation object holding ``messages``."""
    found: dict[str, Any] = {
        "uuid": "c-1",
        "name": "Trip",
        "created_at": "2024-10-18T05:30:10.325754Z",
    }
    found.update(updated_at="2024-10-18T05:30:22.223181Z", chat_messages=list(messages))
    found.update(more)
    return found


def test_a_conversation_reads_in_list_order_with_its_title_and_times() -> None:
    """One branch, the list's order; title and times on the dialogue and in metadata."""
    dialogue = only([claude_conversation(TRIP, "abc", "Trip")])
    assert text_turns(dialogue.active) == text_turns(TRIP)
    assert dialogue.conversations == (dialogue.active,)
    assert (dialogue.name, dialogue.title) == ("claude/abc", "Trip")
    assert dialogue.created is not None
    assert dialogue.created.isoformat().startswith("2025-02-24")
    info = dialogue.active.metadata["import"]
    assert info["conversation"] == {"account": {"uuid": "acct-1"}}
    assert [[r["id"] for r in turn] for turn in info["turns"]] == [
        ["abc-m0"],
        ["abc-m1"],
        ["abc-m2"],
    ]
    assert not dialogue.active.violations()


def test_messages_of_one_side_in_a_row_merge_by_the_rule() -> None:
    """An edited prompt flattened after the first (human, human) is one turn, both kept."""
    c = only(
        conversation(
            message("m1", "human", "Hello"),
            message("m2", "human", "Hello again"),
            message("m3", "assistant", " Hi!"),
            message("m4", "assistant", " Hi there! "),
        )
    ).active
    assert [t.blocks for t in c] == [
        (Text("Hello"), Text("Hello again")),
        (Text(" Hi!"), Text(" Hi there!")),
    ]
    assert c[1].provenance is not None
    assert [r.id for r in c[1].provenance.replies] == ["m3", "m4"]


def test_attachments_become_documents_and_files_references() -> None:
    """Pasted text is a plain-text document; a file known only by name is a [file: ...] text."""
    pasted = {
        "file_name": "notes.txt",
        "file_size": 5,
        "file_type": "txt",
        "extracted_content": "Hi",
    }
    empty = {"file_name": "stub.pdf", "file_size": 10, "file_type": "pdf", "extracted_content": ""}
    c = only(
        conversation(
            message(
                "m1",
                "human",
                "Read these",
                attachments=[pasted, empty],
                files=[{"file_name": "notes.txt"}, {"file_name": "photo.png"}],
            )
        )
    ).active
    assert c[0].blocks == (
        Document(TextSource("Hi"), title="notes.txt"),
        Text("[file: stub.pdf]"),
        Text("[file: photo.png]"),
        Text("Read these"),
    )
    record = c.metadata["import"]["turns"][0][0]
    assert record["attachments"][0] == {
        "file_name": "notes.txt",
        "file_size": 5,
        "file_type": "txt",
    }
    assert not c.user("Go on").violations()


def test_content_blocks_win_over_text_and_the_rest_is_kept() -> None:
    """Thinking (unsigned) and artifact tool calls are records; the text blocks are the turn."""
    blocks = [
        {"type": "thinking", "thinking": "Hmm.", "summaries": [], "cut_off": False},
        {"type": "text", "text": "Here you go.", "citations": []},
        {"type": "tool_use", "name": "artifacts", "input": {"id": "a", "content": "<p>"}},
        {"type": "tool_result", "name": "artifacts", "content": [{"type": "text", "text": "OK"}]},
        {"type": "text", "text": " ", "citations": []},
    ]
    c = only(
        conversation(
            message("m1", "human", "Make a page"),
            message("m2", "assistant", "Hmm.Here you go.", content=blocks),
        )
    ).active
    assert c[1].content == "Here you go."
    kept = c.metadata["import"]["turns"][1][0]["content"]
    assert [b["type"] for b in kept] == ["thinking", "tool_use", "tool_result"]
    assert not c.violations()


def test_an_empty_conversation_is_one_empty_branch() -> None:
    """No messages and no name (seen in real exports): a dialogue with an empty conversation."""
    dialogue = only(conversation(name="", chat_messages=[]))
    assert dialogue.title == ""
    assert len(dialogue.active) == 0
    assert not dialogue.active.user("Hello").violations()


def test_parent_links_make_a_tree_and_the_newest_leaf_is_active() -> None:
    """Newer exports link messages: every leaf a branch; the newest message's branch is active."""
    root = "00000000-0000-4000-8000-000000000000"
    linked = [
        message("q", "human", "Plan a trip", parent_message_uuid=root),
        message("a1", "assistant", "Where?", parent_message_uuid="q"),
        message(
            "a2",
            "assistant",
            "Where to?",
            parent_message_uuid="q",
            created_at="2024-10-19T00:00:00Z",
        ),
        message("u", "human", "Lisbon", parent_message_uuid="a1"),
    ]
    dialogue = only(conversation(*linked))
    assert [text_turns(c) for c in dialogue.conversations] == [
        [("user", "Plan a trip"), ("assistant", "Where?"), ("user", "Lisbon")],
        [("user", "Plan a trip"), ("assistant", "Where to?")],
    ]
    assert dialogue.active is dialogue.conversations[1]
    named = only(conversation(*linked, current_leaf_message_uuid="u"))
    assert named.active is named.conversations[0]


@pytest.mark.parametrize(
    ("change", "words", "node"),
    [
        (lambda c: c.update(chat_messages={}), "chat_messages must be a list", None),
        (lambda c: c["chat_messages"][1].update(sender="robot"), "sender must be", "m2"),
        (lambda c: c["chat_messages"][1].update(created_at="yesterday"), "ISO 8601", "m2"),
        (lambda c: c["chat_messages"][1].update(uuid="m1"), "an earlier message", "#1"),
        (lambda c: c["chat_messages"][1].update(content="text"), "content must be", "m2"),
        (lambda c: c.update(uuid=7), "has no uuid", None),
    ],
)
def test_a_malformed_conversation_names_itself_and_the_message(
    change: Any, words: str, node: str | None
) -> None:
    """The error names the conversation and message, after the good conversations were read."""
    good = conversation(message("m1", "human", "Hi"), message("m2", "assistant", "Hello"))
    bad = conversation(
        message("m1", "human", "Hi"), message("m2", "assistant", "Hello"), uuid="bad"
    )
    change(bad)
    dialogues = iter(read_claude([good, bad]))
    assert next(dialogues).source_id == "c-1"
    with pytest.raises(ImportFormatError, match=words) as caught:
        next(dialogues)
    assert caught.value.node == node
    assert caught.value.conversation == ("#1" if words == "has no uuid" else "'bad'")


texts = st.text(st.characters(codec="utf-8"), min_size=1).filter(lambda t: t.strip() == t)


@given(st.lists(texts, min_size=1, max_size=8))
def test_round_trip_through_an_export(said: list[str]) -> None:
    """A conversation written as a Claude.ai export reads back with the same turns."""
    c = Conversation()
    for index, text in enumerate(said):
        c = c.user(text) if index % 2 == 0 else c.assistant(text)
    dialogue = only([claude_conversation(c)])
    assert text_turns(dialogue.active) == text_turns(c)
    assert not dialogue.active.violations()
