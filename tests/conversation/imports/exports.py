"""Exports written from Conversations, in the apps' formats (as FORMATS.md describes them).

The writers are the inverse of the readers for text conversations: a ChatGPT
conversation object holding every given branch as a tree (shared turns once,
with the hidden preamble real exports begin with), and a Claude.ai
conversation object holding one conversation as its flat list. Node ids are
derived from the conversation id and a counter, so a later export of longer
branches keeps the ids of the nodes it shares with an earlier one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from conversation import Conversation

__all__ = ["chatgpt_conversation", "chatgpt_node", "claude_conversation", "text_turns"]

BASE_TIME = 1_760_000_000.0


def text_turns(c: Conversation) -> list[tuple[str, str]]:
    """``(role, text)`` of each turn: what a text-only export holds of a conversation."""
    return [(t.role, t.text) for t in c]


def chatgpt_node(
    ident: str,
    parent: str | None,
    role: str | None,
    content: dict[str, Any] | None = None,
    *,
    text: str = "",
    at: float | None = BASE_TIME,
    recipient: str = "all",
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    """One mapping node (children filled in by :func:`chatgpt_conversation`)."""
    if role is None:
        return {"id": ident, "message": None, "parent": parent, "children": []}
    message: dict[str, Any] = {
        "id": ident,
        "author": {"role": role, "name": name, "metadata": {}},
        "create_time": at,
        "update_time": None,
        "content": content or {"content_type": "text", "parts": [text]},
        "status": "finished_successfully",
        "end_turn": True if role == "assistant" else None,
        "weight": 1.0,
        "metadata": metadata or {},
        "recipient": recipient,
        "channel": None,
    }
    return {"id": ident, "message": message, "parent": parent, "children": []}


def chatgpt_conversation(
    branches: Sequence[Conversation],
    ident: str = "conv-1",
    title: str = "A title",
    *,
    active: int = -1,
    extra_nodes: Sequence[dict[str, Any]] = (),
    preamble: bool = True,
) -> dict[str, Any]:
    """A ChatGPT conversation object holding ``branches`` (``branches[active]`` current).

    Shared leading turns become shared nodes; ``extra_nodes`` are added to the
    mapping as they are (their parents must exist).
    """
    root = "client-created-root"
    nodes: dict[str, dict[str, Any]] = {root: chatgpt_node(root, None, None)}
    top = root
    if preamble:
        hidden = {"is_visually_hidden_from_conversation": True}
        nodes[f"{ident}-sys"] = chatgpt_node(f"{ident}-sys", root, "system", metadata=hidden)
        top = f"{ident}-sys"
    by_path: dict[tuple[tuple[str, str], ...], str] = {}
    leaves: list[str] = []
    for c in branches:
        parent = top
        path: tuple[tuple[str, str], ...] = ()
        for turn in c:
            path = (*path, (turn.role, turn.text))
            if path not in by_path:
                key = f"{ident}-n{len(by_path)}"
                at = BASE_TIME + len(by_path)
                nodes[key] = chatgpt_node(key, parent, turn.role, text=turn.text, at=at)
                by_path[path] = key
            parent = by_path[path]
        leaves.append(parent)
    for node in extra_nodes:
        nodes[node["id"]] = node
    for key, node in nodes.items():
        if node["parent"] is not None:
            nodes[node["parent"]]["children"].append(key)
    return {
        "title": title,
        "create_time": BASE_TIME,
        "update_time": BASE_TIME + len(nodes),
        "mapping": nodes,
        "moderation_results": [],
        "current_node": leaves[active] if leaves else top,
        "plugin_ids": None,
        "conversation_id": ident,
        "default_model_slug": "gpt-4o",
        "id": ident,
    }


def claude_conversation(
    c: Conversation, ident: str = "c-1", title: str = "A title"
) -> dict[str, Any]:
    """A Claude.ai conversation object (2025 format) holding ``c`` as its message list."""
    messages = []
    for index, turn in enumerate(c):
        stamp = f"2025-02-24T10:{index // 60:02d}:{index % 60:02d}.000000Z"
        messages.append(
            {
                "uuid": f"{ident}-m{index}",
                "text": turn.text,
                "content": [
                    {
                        "start_timestamp": stamp,
                        "stop_timestamp": stamp,
                        "type": "text",
                        "text": turn.text,
                        "citations": [],
                    }
                ],
                "sender": "human" if turn.role == "user" else "assistant",
                "created_at": stamp,
                "updated_at": stamp,
                "attachments": [],
                "files": [],
            }
        )
    return {
        "uuid": ident,
        "name": title,
        "created_at": "2025-02-24T10:00:00.000000Z",
        "updated_at": "2025-02-24T11:00:00.000000Z",
        "account": {"uuid": "acct-1"},
        "chat_messages": messages,
    }
