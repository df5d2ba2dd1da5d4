"""ChatGPT's data export: ``conversations.json``, a tree of messages per conversation.

Each conversation's ``mapping`` is a tree (parent links); every leaf is a
branch, and ``current_node`` marks the one the app showed last. Shown are the
user's and the assistant's text (``text``, ``multimodal_text``, voice
transcripts) addressed to everyone; tool calls and results, reasoning, hidden
system and context messages are kept as records in metadata. Images are
inlined from the export's ``.zip`` (or folder) when they are there and the API
accepts them, else a ``[image: ...]`` text stands in for them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._blocks import Block, Image
from .._reply import ReplyInfo
from .._rules import MANY_IMAGES, MANY_IMAGES_MAX_SIDE, MAX_IMAGE_BYTES
from ..errors import MalformedInputError, quote, type_name
from ._dialogue import (
    Dialogue,
    Message,
    Side,
    Where,
    branch,
    clean_text,
    dialogue_header,
    end_clean,
    from_seconds,
    identify,
    iso,
    placeholder,
)
from ._source import Export

__all__ = ["convert"]

_OWN = frozenset(
    {"title", "create_time", "update_time", "mapping", "current_node", "id", "conversation_id"}
)
_SHOWN_TYPES = frozenset({"text", "multimodal_text"})
_KEPT_METADATA = (
    "model_slug",
    "finish_details",
    "attachments",
    "citations",
    "content_references",
    "canvas",
    "aggregate_result",
    "dalle",
    "reasoning_status",
    "finished_duration_sec",
    "paragen_variants_info",
    "paragen_variant_choice",
    "targeted_reply",
    "voice_mode_message",
    "branching_from_conversation_id",
    "is_visually_hidden_from_conversation",
    "is_user_system_message",
    "user_context_message_data",
)
"""Message metadata kept in a record; the rest (request ids, classifier results) is not."""

_STOP_REASONS = {"stop": "end_turn", "max_tokens": "max_tokens"}


def convert(raw: Any, index: int, export: Export, where: Where) -> Dialogue:
    """The dialogue of one conversation object of the export."""
    raw, source_id, title = identify(raw, where, "id", "title", or_key="conversation_id")
    created = from_seconds(raw.get("create_time"), "create_time", where)
    updated = from_seconds(raw.get("update_time"), "update_time", where)
    tree = _Tree(raw.get("mapping"), where)
    current = raw.get("current_node")
    if current is not None and not isinstance(current, str):
        raise where.error(f"current_node must be a node id or null, got {quote(current)}")
    if current is not None and current not in tree.parent:
        raise where.error("current_node names this message, but the mapping has none", current)
    leaves = tree.leaves()
    active_leaf = current if current is not None else (leaves[-1] if leaves else None)
    if active_leaf is not None and active_leaf not in leaves:
        leaves.append(active_leaf)  # the app showed a branch that stops at an inner message
    header = dialogue_header("chatgpt", raw, source_id, title, (created, updated), _OWN)
    reader = _Reader(tree, export, where)
    conversations = []
    active = None
    for leaf in leaves:
        path = tree.path(leaf)
        messages = [m for m in map(reader.message, path) if m is not None]
        is_active = leaf == active_leaf
        c = branch(messages, {**header, "leaf": leaf, "active": is_active})
        conversations.append(c)
        if is_active:
            active = c
    if active is None:  # a mapping of only the root: one empty branch
        active = branch([], {**header, "leaf": None, "active": True})
        conversations.append(active)
    return Dialogue(
        "chatgpt", source_id, title or "", created, updated, tuple(conversations), active
    )


class _Tree:
    """The mapping's parent links, checked: one tree (or several), no cycles, no dangling ids."""

    def __init__(self, mapping: Any, where: Where) -> None:
        if not isinstance(mapping, Mapping):
            raise where.error(f"mapping must be an object of messages, got {type_name(mapping)}")
        self.where = where
        self.nodes: dict[str, Mapping[str, Any]] = {}
        self.parent: dict[str, str | None] = {}
        for key, node in mapping.items():
            if not isinstance(node, Mapping):
                raise where.error(f"the node is {type_name(node)}, not an object", key)
            parent = node.get("parent")
            if parent is not None and not isinstance(parent, str):
                raise where.error(f"parent must be a node id or null, got {quote(parent)}", key)
            self.nodes[key] = node
            self.parent[key] = parent
        self.children: dict[str, list[str]] = {key: [] for key in self.nodes}
        roots: list[str] = []
        for key, parent in self.parent.items():
            if parent is None:
                roots.append(key)
            elif parent not in self.nodes:
                raise where.error(f"its parent {quote(parent)} is not in the mapping", key)
        for key in self.nodes:  # children in the app's order (creation), then any it left out
            listed = self.nodes[key].get("children") or []
            if not isinstance(listed, list):
                raise where.error(f"children must be a list, got {type_name(listed)}", key)
            kids = self.children[key]
            for kid in listed:
                if isinstance(kid, str) and self.parent.get(kid) == key and kid not in kids:
                    kids.append(kid)
        for key, parent in self.parent.items():
            if parent is not None and key not in self.children[parent]:
                self.children[parent].append(key)
        self.roots = roots
        self._check_reachable()

    def _check_reachable(self) -> None:
        seen = 0
        stack = list(self.roots)
        while stack:
            key = stack.pop()
            seen += 1
            stack.extend(self.children[key])
        if seen != len(self.nodes):
            lost = next(k for k in self.nodes if not self._reaches_root(k))
            raise self.where.error("its parent links go round in a cycle (no root)", lost)

    def _reaches_root(self, key: str) -> bool:
        seen: set[str] = set()
        at: str | None = key
        while at is not None:
            if at in seen:
                return False
            seen.add(at)
            at = self.parent[at]
        return True

    def leaves(self) -> list[str]:
        """Every node without children, in tree order (each parent's children in order)."""
        found: list[str] = []
        stack = list(reversed(self.roots))
        while stack:
            key = stack.pop()
            kids = self.children[key]
            if not kids:
                found.append(key)
            stack.extend(reversed(kids))
        return found

    def path(self, leaf: str) -> list[str]:
        """The node ids from the root to ``leaf``."""
        path: list[str] = []
        at: str | None = leaf
        while at is not None:
            path.append(at)
            at = self.parent[at]
        path.reverse()
        return path


class _Reader:
    """Messages of one conversation, each read once however many branches share it."""

    def __init__(self, tree: _Tree, export: Export, where: Where) -> None:
        self.tree = tree
        self.export = export
        self.where = where
        self.read: dict[str, Message | None] = {}
        self.images: dict[str, int] = {}  # images inlined on the path to each node

    def message(self, key: str) -> Message | None:
        if key in self.read:
            return self.read[key]
        parent = self.tree.parent[key]
        above = 0 if parent is None else self.images.get(parent, 0)
        self.where.node = key
        found = self._message(key, self.tree.nodes[key].get("message"), above)
        self.where.node = None
        self.read[key] = found
        self.images[key] = above + (0 if found is None else _count_images(found.blocks))
        return found

    def _message(self, key: str, raw: Any, above: int) -> Message | None:
        if raw is None:
            return None
        where = self.where
        if not isinstance(raw, Mapping):
            raise where.error(f"message must be an object or null, got {type_name(raw)}")
        author = raw.get("author")
        if not isinstance(author, Mapping) or not isinstance(author.get("role"), str):
            raise where.error(f"author must be an object with a role, got {quote(author)}")
        role: str = author["role"]
        content = raw.get("content")
        if not isinstance(content, Mapping) or not isinstance(content.get("content_type"), str):
            raise where.error(
                f"content must be an object with a content_type, got {quote(content)}"
            )
        meta = raw.get("metadata") or {}
        if not isinstance(meta, Mapping):
            raise where.error(f"metadata must be an object, got {type_name(meta)}")
        created = from_seconds(raw.get("create_time"), "create_time", where)
        recipient = raw.get("recipient", "all")
        record: dict[str, Any] = {"id": key, "role": role, "created": iso(created)}
        if author.get("name") is not None:
            record["name"] = author["name"]
        for field in ("recipient", "channel", "status", "end_turn"):
            value = raw.get(field)
            if value is not None and not (field == "recipient" and value == "all"):
                record[field] = value
        kept = {k: meta[k] for k in _KEPT_METADATA if meta.get(k) not in (None, [], {})}
        if kept:
            record["metadata"] = kept
        side: Side = "user" if role == "user" else "assistant"
        hidden = meta.get("is_visually_hidden_from_conversation") is True
        ctype = content["content_type"]
        shown = (
            ctype in _SHOWN_TYPES
            and not hidden
            and recipient == "all"
            and role in ("user", "assistant", "tool")
        )
        blocks: list[Block] = []
        if shown:
            blocks, whole = self._parts(content.get("parts"), side, role == "tool", above)
            if side == "user":
                blocks.extend(_attachments(meta, content))
            end_clean(blocks, side)
            if not whole:
                record["content"] = dict(content)
        else:
            record["content"] = dict(content)
        if not blocks:
            record["shown"] = False
        reply = None
        if role == "assistant" and blocks:
            finish = meta.get("finish_details")
            kind = finish.get("type") if isinstance(finish, Mapping) else None
            slug = meta.get("model_slug")
            reply = ReplyInfo(
                id=key,
                model=slug if isinstance(slug, str) else None,
                stop_reason=_STOP_REASONS.get(kind) if isinstance(kind, str) else None,
            )
        return Message(side, tuple(blocks), record, reply)

    def _parts(self, parts: Any, side: Side, tool: bool, above: int) -> tuple[list[Block], bool]:
        """The blocks of ``parts``, and whether they say all the parts did."""
        if not isinstance(parts, list):
            raise self.where.error(f"content.parts must be a list, got {type_name(parts)}")
        blocks: list[Block] = []
        whole = True
        for part in parts:
            if isinstance(part, str):
                if not tool:
                    text = clean_text(part)
                    if text is not None:
                        blocks.append(text)
                else:
                    whole = False
                continue
            whole = False
            if part is None:  # nothing to show; kept with the content
                continue
            if not isinstance(part, Mapping):
                raise self.where.error(f"a content part is {type_name(part)}, not text or object")
            kind = part.get("content_type")
            if kind == "image_asset_pointer":
                blocks.append(self._image(part, side, above + _count_images(blocks)))
            elif kind == "audio_transcription" and isinstance(part.get("text"), str) and not tool:
                text = clean_text(part["text"])
                if text is not None:
                    blocks.append(text)
        return blocks, whole

    def _image(self, part: Mapping[str, Any], side: Side, above: int) -> Block:
        pointer = part.get("asset_pointer")
        if not isinstance(pointer, str):
            raise self.where.error(f"an image part has no asset_pointer, got {quote(pointer)}")
        if side == "user" and above < MANY_IMAGES:
            image = _inline(self.export.find(_file_id(pointer)))
            if image is not None:
                return image
        return placeholder("image", pointer)


def _inline(data: bytes | None) -> Image | None:
    """An image block of ``data`` when the API takes it in any request, else None.

    At most 5 MB and 2000 px a side: with at most 20 of them a branch, neither
    the size rules nor the many-images rule can refuse it.
    """
    if data is None or len(data) > MAX_IMAGE_BYTES:
        return None
    try:
        image = Image.from_bytes(data)
    except MalformedInputError:
        return None
    size = image.size
    return image if size is not None and max(size) <= MANY_IMAGES_MAX_SIDE else None


def _count_images(blocks: Sequence[Block]) -> int:
    return sum(1 for b in blocks if type(b) is Image)


def _file_id(pointer: str) -> str:
    """``file-AbC`` of ``file-service://file-AbC``, ``file_00ab`` of ``sediment://file_00ab``."""
    tail = pointer.split("://", 1)[-1]
    for piece in tail.split("#"):
        if piece.startswith(("file-", "file_")):
            return piece
    return tail


def _attachments(meta: Mapping[str, Any], content: Mapping[str, Any]) -> list[Block]:
    """A ``[file: name]`` text for each upload that is not an image shown in the parts."""
    found = meta.get("attachments")
    if not isinstance(found, list):
        return []
    pointers = " ".join(
        str(p.get("asset_pointer")) for p in content.get("parts") or () if isinstance(p, Mapping)
    )
    blocks: list[Block] = []
    for item in found:
        if not isinstance(item, Mapping):
            continue
        ident, name = item.get("id"), item.get("name")
        if isinstance(ident, str) and ident and ident in pointers:
            continue
        blocks.append(placeholder("file", name if isinstance(name, str) and name else str(ident)))
    return blocks
