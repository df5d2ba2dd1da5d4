"""Messages API response bodies built by hand, for the tests that fold them."""

from __future__ import annotations

from typing import Any

__all__ = ["message_body"]


def message_body(*content: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Messages API response with ``content`` blocks; ``fields`` (``model`` among them)
    override the defaults."""
    body: dict[str, Any] = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "content": list(content),
        "model": "claude-sonnet-4-5",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 6},
    }
    body.update(fields)
    return body
