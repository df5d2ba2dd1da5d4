"""Where ``replay_many`` keeps finished replays in a store, so a second run resumes.

Each replayed branch is saved under the name ``replay/<settings>/<original id>``:
``<settings>`` is 16 hex digits of the SHA-256 of the replay's settings (the
request options over the adapter's ``default_options``, the tool definitions,
and ``regenerate_synthetic``, as JSON with sorted keys), so a run with other settings
replays again instead of loading what another model wrote. The branch's
metadata notes the original's id and why the replay stopped early (see
``NOTE_KEY``), so a loaded branch is the whole result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from ._conversation import Conversation
from ._replay_plan import NOTE_KEY
from .store import Store

__all__ = ["load_done", "replay_name", "settings_key"]


def settings_key(request: Mapping[str, Any], regenerate_synthetic: bool) -> str:
    """16 hex digits naming the replay's settings: its requests' options (the adapter's
    defaults under the call's, the tool definitions) and ``regenerate_synthetic``."""
    settings = {"request": dict(request), "regenerate_synthetic": regenerate_synthetic}
    text = orjson.dumps(settings, option=orjson.OPT_SORT_KEYS, default=repr)
    return hashlib.sha256(text).hexdigest()[:16]


def replay_name(key: str, original: Conversation) -> str:
    """The store name of the replay of ``original`` with the settings ``key``."""
    return f"replay/{key}/{original.id}"


def load_done(store: Store, name: str) -> tuple[Conversation, str | None] | None:
    """The branch saved under ``name`` and its stop reason; None when not done yet."""
    if name not in store:
        return None
    branch = store.load(name)
    note = branch.metadata.get(NOTE_KEY)
    reason = note.get("reason") if isinstance(note, Mapping) else None
    return branch, reason if isinstance(reason, str) else None
