"""The library's own save format: versioned JSON that keeps everything.

::

    {"format": "conversation-state", "version": 1,
     "system": <as on the wire, or absent>,
     "metadata": {...},                                  (absent when empty)
     "turns": [{"role": "user", "content": <as on the wire>},
               {"role": "assistant", "content": ...,
                "provenance": {"replies": [{"id", "model", "stop_reason",
                                            "stop_sequence", "usage", "extra"}],
                               "prefill": [<blocks>]}}]}  (absent when synthetic)

Content is written exactly as on the wire, so a saved conversation is also
readable by anything that knows the Messages API. A reader meeting a newer
``version`` refuses it with :class:`UnsupportedVersionError` rather than guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from ._blocks import Text
from ._json import EMPTY, FrozenDict, freeze
from ._provenance import SYNTHETIC, Provenance
from ._turn import Stored as Content
from ._turn import Turn
from ._wire import (
    content_from_wire,
    info_from_wire,
    info_to_wire,
    json_text_error,
    load_json,
    message_to_wire,
    system_from_wire,
    system_to_wire,
    turn_from_wire,
    unstructure_block,
)
from .errors import MalformedInputError, SaveFormatError, UnsupportedVersionError, quote

__all__ = [
    "FORMAT",
    "VERSION",
    "dump_conversation",
    "load_conversation",
    "provenance_record",
    "read_turn",
    "turn_record",
]

FORMAT = "conversation-state"
VERSION = 1


def dump_conversation(
    system: str | tuple[Text, ...] | None,
    metadata: FrozenDict,
    contents: Iterable[Content],
    provenances: Iterable[Provenance | None],
) -> bytes:
    """The save format of a conversation's parts (its turns as their contents and
    provenances), as UTF-8 JSON bytes."""
    records = list(map(turn_record, contents, provenances))
    doc: dict[str, Any] = {"format": FORMAT, "version": VERSION}
    if system is not None:
        doc["system"] = system_to_wire(system)
    if metadata:
        doc["metadata"] = metadata
    doc["turns"] = records
    try:
        return orjson.dumps(doc)
    except TypeError as exc:
        raise MalformedInputError(
            f"the conversation cannot be saved as JSON ({exc}): text must be valid "
            "Unicode (no lone surrogates) and integers must fit in 64 bits"
        ) from None


def turn_record(content: Content, provenance: Provenance | None) -> dict[str, Any]:
    """One turn as the save format writes it: its wire message, and its provenance
    unless the turn is synthetic (a user turn, or an assistant turn the program wrote)."""
    record = message_to_wire("user" if provenance is None else "assistant", content)
    written = provenance_record(provenance)
    if written is not None:
        record["provenance"] = written
    return record


def provenance_record(provenance: Provenance | None) -> dict[str, Any] | None:
    """A provenance as the save format writes it; None for a turn no model wrote."""
    if provenance is None or not (
        provenance.replies or provenance.prefill or provenance.interrupted
    ):
        return None
    return _provenance_to_wire(provenance)


def _provenance_to_wire(provenance: Provenance) -> dict[str, Any]:
    out: dict[str, Any] = {"replies": [info_to_wire(r) for r in provenance.replies]}
    if provenance.prefill:
        out["prefill"] = [unstructure_block(b) for b in provenance.prefill]
    if provenance.interrupted:
        out["interrupted"] = True
    return out


Loaded = tuple[str | tuple[Text, ...] | None, FrozenDict, list[Content], list[Provenance | None]]
"""A conversation read from the save format: system, metadata, contents, provenances."""


def load_conversation(text: str | bytes) -> Loaded:
    """Read the save format: (system, metadata, and the turns' contents and provenances)."""
    try:
        return _load(text)
    except SaveFormatError:
        raise
    except MalformedInputError as exc:
        # A save is JSON text: what Python calls None, the message calls null.
        raise SaveFormatError(json_text_error(exc).reason, exc.path) from None


def _load(text: str | bytes) -> Loaded:
    if not isinstance(text, str | bytes | bytearray | memoryview):
        raise SaveFormatError(f"expected saved JSON text, got {type(text).__name__}")
    doc = load_json(text, "the saved conversation")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise SaveFormatError(
            f'not a conversation saved by Conversation.dumps() (no "format": {FORMAT!r}); '
            "for a request body use Conversation.from_payload"
        )
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SaveFormatError(
            f"the save format version must be a positive integer, got {quote(version)}"
        )
    if version > VERSION:
        raise UnsupportedVersionError(
            f"this conversation was saved in format version {version}, newer than this "
            f"library reads (up to {VERSION}); upgrade conversation-state to load it",
            "$.version",
        )
    system = system_from_wire(doc.get("system"))
    metadata = doc.get("metadata")
    if metadata is None:
        metadata = EMPTY
    elif not isinstance(metadata, dict):
        raise SaveFormatError("metadata must be a JSON object", "$.metadata")
    else:
        metadata = freeze(metadata, "$.metadata")
    turns = doc.get("turns")
    if not isinstance(turns, list):
        raise SaveFormatError("a saved conversation needs 'turns', a list", "$.turns")
    contents, provenances = _load_turns(turns)
    return system, metadata, contents, provenances


def _load_turns(records: list[Any]) -> tuple[list[Content], list[Provenance | None]]:
    contents: list[Content] = []
    provenances: list[Provenance | None] = []
    for index, record in enumerate(records):
        # The common case inline: a plain text turn with no provenance.
        content: Any = record.get("content") if type(record) is dict else None
        role = record.get("role") if type(content) is str and len(record) == 2 else None
        if role == "user":
            provenance = None
        elif role == "assistant":
            provenance = SYNTHETIC
        else:
            turn = read_turn(record, f"$.turns[{index}]")
            content, provenance = turn.content, turn.provenance
        contents.append(content)
        provenances.append(provenance)
    return contents, provenances


def read_turn(record: Any, path: str) -> Turn:
    """One saved turn record as a Turn; ``path`` names it in errors."""
    provenance = None
    if isinstance(record, dict) and "provenance" in record:
        if record.get("role") != "assistant":
            raise SaveFormatError("only assistant turns have a provenance", f"{path}.provenance")
        provenance = _provenance_from_wire(record["provenance"], f"{path}.provenance")
    return turn_from_wire(record, path, provenance)


def _provenance_from_wire(data: Any, path: str) -> Provenance:
    if not isinstance(data, dict):
        raise SaveFormatError("a provenance must be a JSON object", path)
    replies = data.get("replies", [])
    if not isinstance(replies, list):
        raise SaveFormatError("provenance replies must be a list", f"{path}.replies")
    infos = tuple(info_from_wire(r, f"{path}.replies[{i}]") for i, r in enumerate(replies))
    prefill = data.get("prefill")
    blocks = content_from_wire(prefill, f"{path}.prefill") if prefill is not None else ()
    interrupted = data.get("interrupted", False)
    if not isinstance(interrupted, bool):
        raise SaveFormatError("provenance interrupted must be true or false", f"{path}.interrupted")
    return Provenance(infos, blocks, interrupted)
