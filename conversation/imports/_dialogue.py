"""A dialogue read from an export, and the one rule that turns app messages into turns.

Both readers reduce an app's message to a :class:`Message`: the side it is on
(user or assistant), the blocks it shows, and a JSON record of everything else
about it. :func:`branch` then walks one root-to-leaf path of messages and
builds a Conversation by the rule the README documents:

* a turn is every shown message of one side until the other side shows one:
  messages of one side in a row (a tool call, its result and the answer; a
  prompt sent twice) merge into one turn, their blocks in order;
* a message that shows nothing (hidden system and context messages, tool
  traffic, thinking, empty placeholders) makes no turn; its record joins the
  next turn's records (or the last turn's, at the end of the branch);
* every message's record, shown or not, is kept in the conversation's
  metadata under ``"import"``, turn by turn: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

import attrs

from .._blocks import Block, Text
from .._closing import Closing
from .._conversation import Conversation
from .._provenance import Provenance
from .._reply import ReplyInfo
from .._turn import Turn
from ..errors import ConversationError, ImportFormatError, quote, type_name
from ._source import Export

__all__ = [
    "Dialogue",
    "Dialogues",
    "Message",
    "Where",
    "branch",
    "clean_text",
    "dialogue_header",
    "identify",
    "iso",
    "placeholder",
]

Side = Literal["user", "assistant"]


@attrs.frozen
class Dialogue:
    """One conversation of an export, with every branch the app kept.

    ``conversations`` holds one Conversation per branch (root to leaf, in the
    app's order); ``active`` is the one the app showed last (one of them).
    ``source_id`` is the app's id of the conversation; ``created`` and
    ``updated`` are its timestamps (UTC), ``None`` when the export has none.
    Each Conversation's metadata holds the same under ``"import"``, with the
    app's message records turn by turn (see the README).
    """

    app: str
    source_id: str
    title: str
    created: datetime | None
    updated: datetime | None
    conversations: tuple[Conversation, ...]
    active: Conversation

    @property
    def name(self) -> str:
        """The store name of the active branch: ``"chatgpt/<source_id>"`` or ``"claude/..."``."""
        return f"{self.app}/{self.source_id}"


@attrs.define
class Where:
    """Where a reader is, for an error's message: the conversation (and its title) and
    the message."""

    app: str
    conversation: str | None = None
    node: str | None = None
    title: str | None = None

    def error(self, reason: str, node: str | None = None) -> ImportFormatError:
        """An :class:`ImportFormatError` at this place (or at ``node`` in it)."""
        return ImportFormatError(
            reason,
            app=self.app,
            conversation=self.conversation,
            node=self.node if node is None else node,
            title=self.title,
        )


class Dialogues(Closing):
    """The dialogues of one export, built one at a time as they are iterated.

    ``len()`` is the number of conversations in the file. Iterating converts
    each in turn, so a malformed one raises :class:`ImportFormatError` after
    every one before it was yielded. Close it (or use ``with``) to release a
    ``.zip`` it reads images from; iterating to the end closes it too.
    """

    def __init__(
        self,
        export: Export,
        convert: Callable[[Any, int, Export, Where], Dialogue],
        app: str,
    ) -> None:
        self._export = export
        self._convert = convert
        self._app = app

    def __len__(self) -> int:
        return len(self._export.items)

    def __iter__(self) -> Iterator[Dialogue]:
        try:
            for index, raw in enumerate(self._export.items):
                where = Where(self._app, f"#{index}")
                try:
                    dialogue = self._convert(raw, index, self._export, where)
                except ImportFormatError:
                    raise
                except (ConversationError, LookupError, TypeError, ValueError, AttributeError) as e:
                    # A shape no check above foresaw: still the library's error, placed.
                    raise where.error(f"cannot be read ({type(e).__name__}: {e})") from e
                except RecursionError as e:
                    raise where.error("is nested too deeply to read") from e
                yield dialogue
        finally:
            self._export.close()

    def close(self) -> None:
        """Release the export's ``.zip``, if it was read from one."""
        self._export.close()


@attrs.frozen
class Message:
    """One app message: its side, the blocks it shows, its record, and its reply info.

    ``reply`` is set on an assistant message that shows blocks: it becomes one
    :class:`ReplyInfo` of the turn's provenance (the app's message id and model).
    """

    side: Side
    blocks: tuple[Block, ...]
    record: dict[str, Any]
    reply: ReplyInfo | None = None


def branch(messages: Sequence[Message], header: dict[str, Any]) -> Conversation:
    """The Conversation of one path of messages, its records in metadata (see the module)."""
    turns: list[Turn] = []
    records: list[list[dict[str, Any]]] = []
    pending: list[dict[str, Any]] = []
    side: Side | None = None
    blocks: list[Block] = []
    replies: list[ReplyInfo] = []

    def close() -> None:
        if side is not None:
            provenance = Provenance(tuple(replies)) if side == "assistant" else None
            turns.append(Turn(side, tuple(blocks), provenance))

    for message in messages:
        if not message.blocks:
            pending.append(message.record)
            continue
        if message.side != side:
            close()
            side, blocks, replies = message.side, [], []
            records.append([])
        blocks.extend(message.blocks)
        if message.reply is not None:
            replies.append(message.reply)
        records[-1].extend(pending)
        records[-1].append(message.record)
        pending = []
    close()
    info = dict(header)
    info["turns"] = records
    if pending:
        info["after"] = pending
    return Conversation(metadata={"import": info}).extend(turns)


def identify(
    raw: Any, where: Where, id_key: str, title_key: str, *, or_key: str | None = None
) -> tuple[Mapping[str, Any], str, str | None]:
    """A conversation object, its app id (``id_key``, else ``or_key``) and title, checked.

    From here on ``where`` names the conversation (and its title) in every error.
    """
    if not isinstance(raw, Mapping):
        raise where.error(f"expected a conversation object, got {type_name(raw)} {quote(raw)}")
    source_id = raw.get(id_key) if or_key is None else raw.get(id_key, raw.get(or_key))
    if not isinstance(source_id, str) or not source_id:
        raise where.error(f"has no {id_key} (a non-empty string), got {quote(source_id)}")
    where.conversation = quote(source_id)
    title = raw.get(title_key)
    if title is not None and not isinstance(title, str):
        raise where.error(f"{title_key} must be a string, got {type_name(title)}")
    where.title = title
    return raw, source_id, title


def dialogue_header(
    app: str,
    raw: Mapping[str, Any],
    source_id: str,
    title: str | None,
    times: tuple[datetime | None, datetime | None],
    own: frozenset[str],
) -> dict[str, Any]:
    """What every branch of a dialogue keeps in its import metadata: the app's own fields
    of the conversation object, besides those read into turns (``own``)."""
    created, updated = times
    return {
        "app": app,
        "source_id": source_id,
        "title": title or "",
        "created": iso(created),
        "updated": iso(updated),
        "conversation": {k: v for k, v in raw.items() if k not in own},
    }


def iso(moment: datetime | None) -> str | None:
    """``moment`` as ISO 8601 text for metadata, or None."""
    return None if moment is None else moment.isoformat()


def from_seconds(value: Any, what: str, where: Where) -> datetime | None:
    """A ChatGPT timestamp (float Unix seconds, or null) as a UTC datetime."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise where.error(f"{what} must be Unix seconds or null, got {quote(value)}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise where.error(f"{what} {quote(value)} is not a time ({exc})") from exc


def from_text(value: Any, what: str, where: Where) -> datetime | None:
    """A Claude.ai timestamp (ISO 8601 text ending in ``Z`` or an offset, or null)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.error(f"{what} must be an ISO 8601 time or null, got {type_name(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise where.error(f"{what} {quote(value)} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def clean_text(text: str) -> Text | None:
    """A text block of ``text``, or None when it is empty or only whitespace.

    Whitespace-only text is refused by the API (``empty_text``).
    """
    return Text(text) if text.strip() else None


def end_clean(blocks: list[Block], side: Side) -> None:
    """Strip the trailing whitespace of an assistant message's last text block, in place.

    The API refuses a final assistant turn that ends in whitespace (and never
    returns one), so an imported branch can be sent, or continued, at once.
    """
    if side != "assistant":
        return
    while blocks and type(blocks[-1]) is Text:
        last = blocks[-1]
        assert isinstance(last, Text)
        stripped = last.text.rstrip()
        if stripped == last.text:
            return
        if stripped:
            blocks[-1] = Text(stripped)
            return
        blocks.pop()


def placeholder(kind: str, name: str) -> Text:
    """The text block standing for an image or file the export holds no bytes of."""
    return Text(f"[{kind}: {name}]")
