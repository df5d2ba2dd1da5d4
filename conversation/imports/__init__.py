"""Past dialogues from ChatGPT and Claude.ai data exports, as trees of Conversations.

:func:`read_chatgpt` and :func:`read_claude` read an export (its ``.zip``,
folder or ``conversations.json``; an open file; or the parsed JSON) and yield
one :class:`Dialogue` per conversation, every branch a Conversation that
passes the library's pre-send rules. :func:`import_into` saves them in a store
so that importing a newer export later adds only what is new.

>>> dialogues = read_claude([{"uuid": "c1", "name": "Hi", "chat_messages": [
...     {"uuid": "m1", "sender": "human", "text": "Hello"},
...     {"uuid": "m2", "sender": "assistant", "text": " Hello! How can I help? "}]}])
>>> [(d.name, d.active.to_payload()["messages"][1]) for d in dialogues]
[('claude/c1', {'role': 'assistant', 'content': ' Hello! How can I help?'})]
"""

from __future__ import annotations

from ..errors import ImportFormatError
from . import _chatgpt, _claude
from ._dialogue import Dialogue, Dialogues
from ._source import Source, open_export
from ._store import ImportReport, import_into

__all__ = [
    "Dialogue",
    "Dialogues",
    "ImportFormatError",
    "ImportReport",
    "Source",
    "import_into",
    "read_chatgpt",
    "read_claude",
]


def read_chatgpt(source: Source) -> Dialogues:
    """The dialogues of a ChatGPT export, built one at a time as they are iterated.

    Raises :class:`ImportFormatError` at once when ``source`` is not an export
    at all, and while iterating at the first conversation that cannot be read.
    """
    return Dialogues(open_export(source, "chatgpt"), _chatgpt.convert, "chatgpt")


def read_claude(source: Source) -> Dialogues:
    """The dialogues of a Claude.ai export, built one at a time as they are iterated.

    Raises :class:`ImportFormatError` at once when ``source`` is not an export
    at all, and while iterating at the first conversation that cannot be read.
    """
    return Dialogues(open_export(source, "claude"), _claude.convert, "claude")
