"""Reading ChatGPT exports: every branch, the active one, hidden messages kept, sendable turns."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import Conversation, Image, ImportFormatError, Text
from conversation.imports import Dialogue, read_chatgpt
from tests.conversation.imports.exports import (
    BASE_TIME,
    chatgpt_conversation,
    chatgpt_node,
    text_turns,
)
from tests.images import png

BASE = Conversation().user("Plan a trip").assistant("Where to?")
LISBON = BASE.user("Lisbon").assistant("Three days in Lisbon.")
PORTO = BASE.user("Porto").assistant("Two days in Porto.")
PORTO_AGAIN = BASE.user("Porto").assistant("A weekend in Porto.")


def only(export: Any) -> Dialogue:
    """The one dialogue of ``export``."""
    [dialogue] = list(read_chatgpt(export))
    return dialogue


def sendable(c: Conversation) -> bool:
    """True when ``c`` passes the pre-send rules, as it is and continued by the user."""
    return not c.user("Go on").violations() and (len(c) == 0 or not c.violations())


def test_every_branch_is_a_conversation_and_the_current_one_is_active() -> None:
    """An edited prompt and a regenerated answer are forks; current_node picks the active one."""
    dialogue = only([chatgpt_conversation([LISBON, PORTO, PORTO_AGAIN], active=1)])
    assert [text_turns(c) for c in dialogue.conversations] == [
        text_turns(LISBON),
        text_turns(PORTO),
        text_turns(PORTO_AGAIN),
    ]
    assert dialogue.active is dialogue.conversations[1]
    assert [c.metadata["import"]["active"] for c in dialogue.conversations] == [
        False,
        True,
        False,
    ]
    assert dialogue.conversations[0][:2].id == dialogue.conversations[1][:2].id  # shared prefix


def test_title_times_and_ids_are_kept() -> None:
    """Title and timestamps on the dialogue and in metadata; the app's ids per turn."""
    dialogue = only(chatgpt_conversation([LISBON], "abc-123", "Trip"))
    assert (dialogue.source_id, dialogue.title, dialogue.name) == (
        "abc-123",
        "Trip",
        "chatgpt/abc-123",
    )
    assert dialogue.created is not None
    assert dialogue.created.timestamp() == BASE_TIME
    info = dialogue.active.metadata["import"]
    assert info["app"] == "chatgpt"
    assert info["title"] == "Trip"
    assert info["created"] == dialogue.created.isoformat()
    assert info["conversation"]["default_model_slug"] == "gpt-4o"
    first = info["turns"][0]
    assert first[0]["role"] == "system"  # the hidden preamble
    assert first[0]["shown"] is False
    assert [r["id"] for r in first[1:]] == ["abc-123-n0"]
    assert info["leaf"] == "abc-123-n3"


def test_assistant_turns_carry_the_apps_message_id_and_model() -> None:
    """Provenance: one reply per app message, its id and model slug; stop maps to end_turn."""
    export = chatgpt_conversation([BASE])
    message = export["mapping"]["conv-1-n1"]["message"]
    message["metadata"] = {"model_slug": "gpt-5", "finish_details": {"type": "stop"}}
    turn = only(export).active[1]
    assert turn.provenance is not None
    assert (turn.provenance.id, turn.provenance.model) == ("conv-1-n1", "gpt-5")
    assert turn.provenance.stop_reason == "end_turn"


def python_run(parent: str) -> list[dict[str, Any]]:
    """A code-interpreter step after ``parent``: code to python, its output, the answer."""
    code = {"content_type": "code", "language": "unknown", "text": "print(6 * 7)"}
    output = {"content_type": "execution_output", "text": "42"}
    return [
        chatgpt_node("call", parent, "assistant", code, recipient="python"),
        chatgpt_node("out", "call", "tool", output, name="python"),
        chatgpt_node("answer", "out", "assistant", text="It is 42.\n\n"),
    ]


def test_tool_traffic_merges_into_one_assistant_turn_and_is_kept() -> None:
    """Code to a tool and its output show nothing; they join the answer's turn as records."""
    start = Conversation().user("What is 6 * 7?")
    export = chatgpt_conversation([start], extra_nodes=python_run("conv-1-n0"))
    export["current_node"] = "answer"
    c = only(export).active
    assert text_turns(c) == [("user", "What is 6 * 7?"), ("assistant", "It is 42.")]
    records = c.metadata["import"]["turns"][1]
    assert [r["id"] for r in records] == ["call", "out", "answer"]
    assert records[0]["content"]["text"] == "print(6 * 7)"
    assert records[0]["recipient"] == "python"
    assert records[1]["content"]["text"] == "42"
    assert sendable(c)


def test_hidden_messages_are_records_not_turns() -> None:
    """Custom instructions, hidden system text, thoughts: in metadata, never on the wire."""
    context = {"content_type": "user_editable_context", "user_profile": "I like maps"}
    thoughts = {"content_type": "thoughts", "thoughts": [], "source_analysis_msg_id": "x"}
    extra = [
        chatgpt_node("ctx", "conv-1-sys", "user", context),
        chatgpt_node("q", "ctx", "user", text="Hi"),
        chatgpt_node("think", "q", "assistant", thoughts),
        chatgpt_node(
            "recap",
            "think",
            "assistant",
            {"content_type": "reasoning_recap", "content": "Thought for 2s"},
        ),
        chatgpt_node("a", "recap", "assistant", text="Hello!"),
    ]
    export = chatgpt_conversation([], extra_nodes=extra)
    export["current_node"] = "a"
    c = only(export).active
    assert text_turns(c) == [("user", "Hi"), ("assistant", "Hello!")]
    kept = [r for turn in c.metadata["import"]["turns"] for r in turn]
    assert [r["id"] for r in kept] == ["conv-1-sys", "ctx", "q", "think", "recap", "a"]
    assert kept[1]["content"]["user_profile"] == "I like maps"
    assert kept[3]["content"]["content_type"] == "thoughts"


def test_a_trailing_placeholder_is_kept_after_the_last_turn() -> None:
    """An empty assistant leaf (an image-generation turn) makes no turn; its record is 'after'."""
    export = chatgpt_conversation([BASE.user("Draw a cat")])
    export["mapping"]["conv-1-n2"]["children"] = ["empty"]
    export["mapping"]["empty"] = chatgpt_node("empty", "conv-1-n2", "assistant", text="")
    export["current_node"] = "empty"
    c = only(export).active
    assert text_turns(c)[-1] == ("user", "Draw a cat")
    assert [r["id"] for r in c.metadata["import"]["after"]] == ["empty"]


def test_consecutive_user_messages_merge_into_one_turn() -> None:
    """Two shown messages of one side in a row are one turn, blocks in order."""
    extra = [
        chatgpt_node("u1", "conv-1-sys", "user", text="First"),
        chatgpt_node("u2", "u1", "user", text="Second"),
    ]
    export = chatgpt_conversation([], extra_nodes=extra)
    export["current_node"] = "u2"
    c = only(export).active
    assert len(c) == 1
    assert c[0].blocks == (Text("First"), Text("Second"))


def test_answers_ending_in_whitespace_are_stripped_so_the_branch_is_sendable() -> None:
    """The API refuses a final assistant turn ending in whitespace; imports end clean."""
    export = chatgpt_conversation([BASE])
    export["mapping"]["conv-1-n1"]["message"]["content"]["parts"] = ["Where to?  \n", "   "]
    c = only(export).active
    assert c[1].content == "Where to?"
    assert not c.violations()


def image_part(pointer: str) -> dict[str, Any]:
    """A multimodal part pointing at an uploaded image."""
    return {"content_type": "image_asset_pointer", "asset_pointer": pointer, "size_bytes": 10}


def image_export() -> dict[str, Any]:
    """A conversation whose first prompt is an image and a question."""
    export = chatgpt_conversation([BASE])
    content = {
        "content_type": "multimodal_text",
        "parts": [image_part("file-service://file-Cat1"), "What is this?"],
    }
    message = export["mapping"]["conv-1-n0"]["message"]
    message["content"] = content
    message["metadata"] = {
        "attachments": [
            {"id": "file-Cat1", "name": "cat.png", "mimeType": "image/png"},
            {"id": "file-Doc2", "name": "notes.pdf", "mime_type": "application/pdf"},
        ]
    }
    return export


def test_images_without_their_files_stand_as_text_and_are_kept() -> None:
    """No bytes in the export: a [image: ...] text, the part itself kept in the record."""
    c = only(image_export()).active
    assert c[0].blocks == (
        Text("[image: file-service://file-Cat1]"),
        Text("What is this?"),
        Text("[file: notes.pdf]"),
    )
    record = c.metadata["import"]["turns"][0][-1]
    assert record["content"]["parts"][0]["asset_pointer"] == "file-service://file-Cat1"
    assert record["metadata"]["attachments"][1]["name"] == "notes.pdf"


def zipped(export: list[dict[str, Any]], files: dict[str, bytes]) -> bytes:
    """An export .zip: conversations.json and the uploaded files beside it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("conversations.json", orjson.dumps(export))
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_images_in_the_zip_are_inlined(tmp_path: Path) -> None:
    """With the export's .zip, an uploaded image becomes an Image block of its bytes."""
    path = tmp_path / "export.zip"
    path.write_bytes(zipped([image_export()], {"file-Cat1-cat.png": png(4, 3)}))
    with read_chatgpt(path) as dialogues:
        c = next(iter(dialogues)).active
    image = c[0].blocks[0]
    assert isinstance(image, Image)
    assert image.size == (4, 3)
    assert sendable(c)


def test_an_image_the_api_refuses_stays_a_reference() -> None:
    """Bytes that are not an image the API takes (here: not an image at all) stay text."""
    data = zipped([image_export()], {"file-Cat1-cat.png": b"not an image"})
    c = next(iter(read_chatgpt(data))).active
    assert c[0].blocks[0] == Text("[image: file-service://file-Cat1]")


def test_generated_images_on_the_assistant_side_stay_references() -> None:
    """An image in a tool's reply (DALL-E) cannot be an assistant block: it stays text."""
    result = {"content_type": "multimodal_text", "parts": [image_part("sediment://file_00ab")]}
    extra = [
        chatgpt_node("gen", "conv-1-n0", "tool", result, name="dalle.text2im"),
        chatgpt_node("done", "gen", "assistant", text="Here it is."),
    ]
    export = chatgpt_conversation([Conversation().user("Draw")], extra_nodes=extra)
    export["current_node"] = "done"
    data = zipped([export], {"file_00ab-1c2d.png": png(2, 2)})
    c = next(iter(read_chatgpt(data))).active
    assert c[1].blocks == (Text("[image: sediment://file_00ab]"), Text("Here it is."))
    assert sendable(c)


def test_the_root_need_not_come_first_and_current_may_be_inner() -> None:
    """Mapping order means nothing; a current_node with children still marks its branch."""
    export = chatgpt_conversation([LISBON])
    export["mapping"] = dict(reversed(list(export["mapping"].items())))
    export["current_node"] = "conv-1-n1"
    dialogue = only(export)
    assert text_turns(dialogue.active) == text_turns(BASE)
    assert len(dialogue.conversations) == 2


def test_voice_transcripts_are_text() -> None:
    """Voice mode's transcripts are what was said: text blocks."""
    export = chatgpt_conversation([BASE])
    spoken = {"content_type": "audio_transcription", "text": "Plan a trip", "direction": "in"}
    export["mapping"]["conv-1-n0"]["message"]["content"] = {
        "content_type": "multimodal_text",
        "parts": [spoken, {"content_type": "audio_asset_pointer", "asset_pointer": "x"}],
    }
    c = only(export).active
    assert c[0].blocks == (Text("Plan a trip"),)
    assert c.metadata["import"]["turns"][0][-1]["content"]["parts"][1]["asset_pointer"] == "x"


@pytest.mark.parametrize(
    ("change", "words", "node"),
    [
        (lambda e: e.update(mapping=[]), "mapping must be an object", None),
        (lambda e: e["mapping"]["bad-n1"].update(parent="ghost"), "'ghost' is not in", "bad-n1"),
        (lambda e: e.update(current_node="ghost"), "current_node names this", "ghost"),
        (lambda e: e["mapping"]["bad-n1"]["message"].update(author=None), "author must", "bad-n1"),
        (lambda e: e["mapping"]["bad-n1"]["message"]["content"].update(parts=3), "parts", "bad-n1"),
        (lambda e: e["mapping"]["bad-n1"]["message"].update(create_time="x"), "Unix sec", "bad-n1"),
        (lambda e: e["mapping"]["bad-n1"]["message"].update(content=[]), "content must", "bad-n1"),
        (lambda e: e.pop("id") and e.pop("conversation_id"), "has no id", None),
    ],
)
def test_a_malformed_conversation_names_itself_and_the_message(
    change: Any, words: str, node: str | None
) -> None:
    """The error says which conversation and message, and comes after the good ones."""
    good = chatgpt_conversation([BASE], "good")
    bad = chatgpt_conversation([BASE], "bad")
    change(bad)
    dialogues = iter(read_chatgpt([good, bad, good]))
    assert next(dialogues).source_id == "good"
    with pytest.raises(ImportFormatError, match=words) as caught:
        next(dialogues)
    assert caught.value.app == "chatgpt"
    assert caught.value.conversation == ("#1" if words == "has no id" else "'bad'")
    assert caught.value.node == node
    if node is not None:
        assert f"message '{node}'" in str(caught.value)


def test_a_cycle_of_parents_is_an_error_not_a_hang() -> None:
    """Parent links that go round never reach a root: said, naming a node on the cycle."""
    export = chatgpt_conversation([BASE])
    export["mapping"]["conv-1-sys"]["parent"] = "conv-1-n1"
    export["mapping"]["client-created-root"]["children"] = []
    with pytest.raises(ImportFormatError, match="cycle"):
        only(export)


@st.composite
def trees(draw: st.DrawFn) -> list[Conversation]:
    """Branches of one dialogue: text conversations, alternating, sharing random prefixes."""
    texts = st.text(st.characters(codec="utf-8"), min_size=1).filter(
        lambda t: t.strip() == t and bool(t)
    )
    branches: list[Conversation] = []
    for _ in range(draw(st.integers(1, 4))):
        start = branches[draw(st.integers(0, len(branches) - 1))] if branches else Conversation()
        c = start[: draw(st.integers(0, len(start)))]
        for _ in range(draw(st.integers(1, 4))):
            role = "user" if len(c) % 2 == 0 else "assistant"
            c = c.user(draw(texts)) if role == "user" else c.assistant(draw(texts))
        branches.append(c)
    return branches


@given(trees(), st.data())
def test_round_trip_through_an_export(branches: list[Conversation], data: st.DataObject) -> None:
    """Conversations written as an export read back: the same branches, the active one marked."""
    leaves = [
        c
        for c in branches
        if not any(len(o) > len(c) and text_turns(o)[: len(c)] == text_turns(c) for o in branches)
    ]
    unique = list({tuple(text_turns(c)): c for c in leaves}.values())
    active = data.draw(st.integers(0, len(unique) - 1))
    export = chatgpt_conversation(unique, active=active)
    dialogue = only(export)
    assert only(export) == dialogue  # the same export reads the same, metadata and all
    got = sorted(tuple(text_turns(c)) for c in dialogue.conversations)
    assert got == sorted(tuple(text_turns(c)) for c in unique)
    assert text_turns(dialogue.active) == text_turns(unique[active])
    assert all(sendable(c) for c in dialogue.conversations)


def test_a_zip_can_be_read_twice_and_a_damaged_image_stays_a_reference(tmp_path: Path) -> None:
    """Iterating again reopens the .zip; a member that cannot be read counts as absent."""
    path = tmp_path / "export.zip"
    path.write_bytes(zipped([image_export()], {"file-Cat1-cat.png": png(4, 3)}))
    dialogues = read_chatgpt(path)
    first = [d.active for d in dialogues]
    assert [d.active for d in dialogues] == first
    data = bytearray(path.read_bytes())
    at = data.index(png(4, 3))
    data[at : at + 8] = b"XXXXXXXX"  # the member's bytes no longer match its CRC
    path.write_bytes(bytes(data))
    c = next(iter(read_chatgpt(path))).active
    assert c[0].blocks[0] == Text("[image: file-service://file-Cat1]")


def test_a_null_part_shows_nothing_and_is_kept() -> None:
    """A ``null`` among the parts is not an error: the rest shows, the content is kept."""
    export = chatgpt_conversation([BASE])
    export["mapping"]["conv-1-n1"]["message"]["content"]["parts"] = [None, "Where to?"]
    c = only(export).active
    assert c[1].content == "Where to?"
    assert c.metadata["import"]["turns"][1][-1]["content"]["parts"] == [None, "Where to?"]
