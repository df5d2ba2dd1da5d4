"""The real sample exports, damaged at random, imported into a real SQLite file.

Each example removes a field anywhere in one conversation of a
multi-conversation export, or gives it a value of another type (or another
string: a broken reference), and imports the export. Either everything is
imported, or the import ends in :class:`ImportFormatError` that names the
damaged conversation (and the message, when the damage is inside one), with
exactly the conversations before it in the store and in its report. Skips
when ``../shared/exports`` is not here (see test_samples.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conversation import ImportFormatError
from conversation.errors import quote
from conversation.imports import Dialogues, import_into, read_chatgpt, read_claude
from conversation.store import SQLiteStore
from tests.conversation.imports.test_malformed import places
from tests.conversation.imports.test_samples import SHARED, raw

pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/exports is not here")

FILES = {
    "chatgpt": ["single-simple-text.json", "single-with-code.json", "single-with-images.json"],
    "claude": [
        "export-2025-02",
        "export-2025-07/conversations.json",
        "legacy-2024-10-example.json",
        "legacy-2024-10-artifacts.json",
    ],
}
READERS: dict[str, Callable[[Any], Dialogues]] = {"chatgpt": read_chatgpt, "claude": read_claude}
ID_KEYS = {"chatgpt": "id", "claude": "uuid"}
NODES = {"chatgpt": "mapping", "claude": "chat_messages"}
OTHER_TYPES = [None, True, 0, 2.5, "zz-unknown", [], {}, ["zz"], {"zz": 1}]


@cache
def export(app: str) -> list[Any]:
    """The app's samples as one export of several conversations."""
    found: list[Any] = []
    for name in FILES[app]:
        found += raw(SHARED / app / name)
    return found


@cache
def fields(app: str, index: int) -> list[tuple[Any, ...]]:
    """Every place inside conversation ``index`` of the export (``()``: the object itself)."""
    return places(export(app)[index])


def edited(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> Any:
    """``value`` with the field at ``path`` removed (``delete``, in an object) or set to ``new``;
    only the containers on the path are copied."""
    key, rest = path[0], path[1:]
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    if rest:
        copy[key] = edited(value[key], rest, new, delete)
    elif delete and isinstance(copy, dict):
        del copy[key]
    else:
        copy[key] = new
    return copy


def source_id(app: str, conversation: Any) -> str | None:
    """The app's id of a conversation object, when it has a usable one."""
    if not isinstance(conversation, dict):
        return None
    found = conversation.get(ID_KEYS[app])
    if app == "chatgpt" and ID_KEYS[app] not in conversation:
        found = conversation.get("conversation_id")
    return found if isinstance(found, str) and found else None


def node_names(app: str, conversation: Any) -> set[str]:
    """What an error may call a message of the conversation: its id, or its place."""
    nodes = conversation.get(NODES[app]) if isinstance(conversation, dict) else None
    if isinstance(nodes, dict):
        return set(nodes)
    if not isinstance(nodes, list):
        return set()
    found = {f"#{position}" for position in range(len(nodes))}
    found |= {n["uuid"] for n in nodes if isinstance(n, dict) and isinstance(n.get("uuid"), str)}
    return found


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
@pytest.mark.parametrize("app", ["chatgpt", "claude"])
def test_a_damaged_sample_imports_whole_or_stops_at_the_damage(
    app: str, data: st.DataObject
) -> None:
    """Read whole, or ImportFormatError naming the damaged conversation (and message), with
    the conversations before it, and only those, imported and reported."""
    original = export(app)
    index = data.draw(st.integers(0, len(original) - 1), label="conversation")
    inner = data.draw(st.sampled_from(fields(app, index)), label="field")
    path = (index, *inner)
    old: Any = original
    for key in path:
        old = old[key]
    delete = bool(inner) and data.draw(st.booleans(), label="delete")
    new = data.draw(st.sampled_from([v for v in OTHER_TYPES if type(v) is not type(old)]))
    damaged = orjson.loads(orjson.dumps(edited(original, path, new, delete)))
    before = {f"{app}/{source_id(app, c)}" for c in damaged[:index]}
    failed: ImportFormatError | None = None  # any other exception fails the test
    with tempfile.TemporaryDirectory() as folder, SQLiteStore(Path(folder) / "s.db") as store:
        try:
            report = import_into(store, READERS[app](damaged))
        except ImportFormatError as error:
            failed = error
        names = set(store.names())
    if failed is None:
        event("imported whole")
        assert report.dialogues == len(damaged)
        return
    event("stopped at the damage")
    ident = source_id(app, damaged[index])
    assert failed.conversation == (f"#{index}" if ident is None else quote(ident))
    assert str(failed).startswith(f"{'ChatGPT' if app == 'chatgpt' else 'Claude.ai'} export")
    if len(inner) >= 2 and inner[0] == NODES[app]:  # inside a message: it is named
        named = node_names(app, damaged[index]) | node_names(app, original[index])
        assert failed.node in named, failed
    assert failed.report is not None
    assert failed.report.dialogues == index
    assert set(failed.report.names) == before
    assert names == before
