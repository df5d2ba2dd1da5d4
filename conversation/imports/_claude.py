"""Claude.ai's data export: ``conversations.json``, a list of messages per conversation.

Exports up to 2025 keep no tree: ``chat_messages`` is one flat list (edited
prompts and regenerated answers flattened into it, not always in time order),
so it is read as one branch in list order. When the messages carry
``parent_message_uuid`` (newer exports), the tree is rebuilt from it: every
leaf is a branch, and the active one is ``current_leaf_message_uuid`` when
the conversation names it, else the branch of the newest message.

Shown are text blocks (or the message's ``text`` when it has no ``content``)
and, in the user's turn, pasted attachments as plain-text documents; thinking
(unsigned here, so not sendable), artifact tool calls and their results are
kept as records in metadata. Files the export holds only by name become a
``[file: name]`` text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._blocks import Block, Document
from .._reply import ReplyInfo
from .._sources import TextSource
from ..errors import quote, type_name
from ._dialogue import (
    Dialogue,
    Message,
    Side,
    Where,
    branch,
    clean_text,
    dialogue_header,
    end_clean,
    from_text,
    identify,
    iso,
    placeholder,
)
from ._source import Export

__all__ = ["convert"]

_OWN = frozenset({"uuid", "name", "created_at", "updated_at", "chat_messages"})
_SIDES: dict[str, Side] = {"human": "user", "assistant": "assistant"}


def convert(raw: Any, index: int, export: Export, where: Where) -> Dialogue:
    """The dialogue of one conversation object of the export."""
    raw, source_id, title = identify(raw, where, "uuid", "name")
    created = from_text(raw.get("created_at"), "created_at", where)
    updated = from_text(raw.get("updated_at"), "updated_at", where)
    listed = raw.get("chat_messages", [])
    if not isinstance(listed, list):
        raise where.error(f"chat_messages must be a list, got {type_name(listed)}")
    header = dialogue_header("claude", raw, source_id, title, (created, updated), _OWN)
    ids: list[str] = []
    messages: dict[str, Message] = {}
    parents: dict[str, str | None] = {}
    times: dict[str, str] = {}
    for position, item in enumerate(listed):
        key = item.get("uuid") if isinstance(item, Mapping) else None
        if not isinstance(key, str) or not key or key in messages:
            where.node = f"#{position}"
            problem = "has the uuid of an earlier message" if key in messages else "has no uuid"
            raise where.error(f"{problem}: {quote(key)}")
        where.node = key
        messages[key] = _message(key, item, where)
        ids.append(key)
        parent = item.get("parent_message_uuid")
        if parent is not None and not isinstance(parent, str):
            raise where.error(f"parent_message_uuid must be a uuid, got {quote(parent)}")
        parents[key] = parent
        stamp = item.get("created_at")
        times[key] = stamp if isinstance(stamp, str) else ""
    where.node = None
    active_leaf: str | None
    if ids and all(parents[k] is not None for k in ids):
        paths, active_leaf = _tree(ids, parents, times, raw.get("current_leaf_message_uuid"))
    else:
        paths, active_leaf = [ids], (ids[-1] if ids else None)
    conversations = []
    active = None
    for path in paths:
        leaf = path[-1] if path else None
        is_active = leaf == active_leaf
        c = branch([messages[k] for k in path], {**header, "leaf": leaf, "active": is_active})
        conversations.append(c)
        if is_active:
            active = c
    assert active is not None
    return Dialogue(
        "claude", source_id, title or "", created, updated, tuple(conversations), active
    )


def _tree(
    ids: list[str], parents: dict[str, str | None], times: dict[str, str], current: Any
) -> tuple[list[list[str]], str]:
    """Root-to-leaf paths by ``parent_message_uuid`` (a parent not in the list is the root)."""
    children: dict[str | None, list[str]] = {}
    for key in ids:
        parent = parents[key]
        children.setdefault(parent if parent in parents else None, []).append(key)
    paths: list[list[str]] = []
    stack: list[tuple[str, list[str]]] = [(k, []) for k in reversed(children.get(None, []))]
    while stack:
        key, above = stack.pop()
        path = [*above, key]
        kids = children.get(key, [])
        if not kids:
            paths.append(path)
        stack.extend((kid, path) for kid in reversed(kids))
    reached = {k for p in paths for k in p}
    if len(reached) != len(ids):  # parent links in a cycle: read as the list, in order
        return [ids], ids[-1]
    leaves = [p[-1] for p in paths]
    if isinstance(current, str) and current in leaves:
        active = current
    else:  # the newest message's branch; ISO times in one format sort as text
        newest = max(range(len(ids)), key=lambda i: (times[ids[i]], i))
        active = next(p[-1] for p in paths if ids[newest] in p)
    return paths, active


def _message(key: str, raw: Mapping[str, Any], where: Where) -> Message:
    sender = raw.get("sender")
    side = _SIDES.get(sender) if isinstance(sender, str) else None
    if side is None:
        raise where.error(f"sender must be 'human' or 'assistant', got {quote(sender)}")
    created = from_text(raw.get("created_at"), "created_at", where)
    record: dict[str, Any] = {"id": key, "role": sender, "created": iso(created)}
    blocks: list[Block] = []
    attachments = raw.get("attachments") or []
    files = raw.get("files") or []
    if not isinstance(attachments, list) or not isinstance(files, list):
        raise where.error("attachments and files must be lists")
    named: set[str] = set()
    shown_attachments = []
    for item in attachments:
        if not isinstance(item, Mapping):
            raise where.error(f"an attachment is {type_name(item)}, not an object")
        name = str(item.get("file_name") or "attachment")
        named.add(name)
        body = item.get("extracted_content")
        if side == "user" and isinstance(body, str) and body.strip():
            blocks.append(Document(TextSource(body), title=name))
        else:
            blocks.append(placeholder("file", name))
        shown_attachments.append({k: v for k, v in item.items() if k != "extracted_content"})
    for item in files:
        file_name = item.get("file_name") if isinstance(item, Mapping) else None
        if isinstance(file_name, str) and file_name not in named:
            blocks.append(placeholder("file", file_name))
    if shown_attachments:
        record["attachments"] = shown_attachments
    if files:
        record["files"] = files
    content = raw.get("content")
    if isinstance(content, list) and content:
        kept = []
        for block in content:
            if not isinstance(block, Mapping):
                raise where.error(f"a content block is {type_name(block)}, not an object")
            kind = block.get("type")
            text = block.get("text")
            if kind == "text" and isinstance(text, str):
                found = clean_text(text)
                if found is not None:
                    blocks.append(found)
                if block.get("citations"):
                    kept.append(dict(block))
            else:
                kept.append(dict(block))
        if kept:
            record["content"] = kept
    elif content is not None and not isinstance(content, list):
        raise where.error(f"content must be a list of blocks, got {type_name(content)}")
    else:
        text = raw.get("text") or ""
        if not isinstance(text, str):
            raise where.error(f"text must be a string, got {type_name(text)}")
        found = clean_text(text)
        if found is not None:
            blocks.append(found)
    end_clean(blocks, side)
    if not blocks:
        record["shown"] = False
    reply = ReplyInfo(id=key) if side == "assistant" and blocks else None
    return Message(side, tuple(blocks), record, reply)
