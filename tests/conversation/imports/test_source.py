"""An export can be given as a path, a folder, a .zip, a file object, bytes or parsed JSON."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from conversation import Conversation, ImportFormatError
from conversation.imports import read_chatgpt, read_claude
from tests.conversation.imports.exports import chatgpt_conversation, text_turns

C = Conversation().user("Hello").assistant("Hi!")
EXPORT = [chatgpt_conversation([C], "one"), chatgpt_conversation([C], "two")]
DATA = orjson.dumps(EXPORT)


def zip_bytes(prefix: str = "") -> bytes:
    """The export as a .zip, conversations.json under ``prefix``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(prefix + "conversations.json", DATA)
        archive.writestr(prefix + "chat.html", b"<html></html>")
    return buffer.getvalue()


def ids(source: Any) -> list[str]:
    """The source ids read from ``source``, each dialogue's active branch checked."""
    found = []
    for dialogue in read_chatgpt(source):
        assert text_turns(dialogue.active) == text_turns(C)
        found.append(dialogue.source_id)
    return found


def test_every_kind_of_source_reads_the_same(tmp_path: Path) -> None:
    """Path (str or Path), folder, .zip (path or bytes), file objects, bytes, parsed JSON."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "conversations.json").write_bytes(DATA)
    archive = tmp_path / "export.zip"
    archive.write_bytes(zip_bytes("export-2026/"))
    sources: list[Any] = [
        folder / "conversations.json",
        str(folder / "conversations.json"),
        folder,
        archive,
        zip_bytes(),
        io.BytesIO(DATA),
        io.StringIO(DATA.decode()),
        DATA,
        orjson.loads(DATA),
    ]
    for source in sources:
        assert ids(source) == ["one", "two"]
    assert ids(EXPORT[0]) == ["one"]  # one conversation object, not a list


def test_python_style_json_with_escapes_reads() -> None:
    """Exports are written like json.dumps: ', ' separators, every non-ASCII char escaped."""
    import json

    c = Conversation().user("Café 😀 고정").assistant("Oui")
    text = json.dumps([chatgpt_conversation([c])])
    assert "\\ud83d\\ude00" in text
    [dialogue] = read_chatgpt(text.encode())
    assert dialogue.active[0].text == "Café 😀 고정"


@pytest.mark.parametrize(
    ("source", "words"),
    [
        (b"{not json", "not JSON"),
        (b'"a string"', "expected a JSON array"),
        (zip_bytes()[:40], "cannot be read"),
        (42, "cannot read an export from int"),
    ],
)
def test_what_is_not_an_export_fails_at_once(source: Any, words: str) -> None:
    """Not JSON, not a list, a broken .zip, a number: ImportFormatError before any dialogue."""
    with pytest.raises(ImportFormatError, match=words):
        read_claude(source)


def test_a_zip_or_folder_without_conversations_json_says_so(tmp_path: Path) -> None:
    """The message names the missing file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("users.json", b"[]")
    with pytest.raises(ImportFormatError, match=r"no conversations\.json"):
        read_claude(buffer.getvalue())
    with pytest.raises(ImportFormatError, match=r"no conversations\.json"):
        read_claude(tmp_path)


def test_dialogues_know_their_count_before_they_are_built() -> None:
    """len() is the number of conversations in the file (for a progress bar)."""
    assert len(read_chatgpt(DATA)) == 2
