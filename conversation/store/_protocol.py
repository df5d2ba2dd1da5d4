"""The Store protocol: what every conversation store offers, whatever holds its data."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .._conversation import Conversation

__all__ = ["Store"]


@runtime_checkable
class Store(Protocol):
    """A tree of conversations kept by content id, with names for heads.

    A store is content-addressed: each turn is kept once however many stored
    conversations share it, under the id of the conversation it ends (see
    :attr:`Conversation.id`), so every prefix of a saved conversation is
    stored too and loads by its id. Names point at ids and move like git
    branches. ``children`` and ``leaves`` walk the tree; ``delete`` removes a
    branch and only what nothing else holds.
    """

    def save(self, conversation: Conversation, name: str | None = None) -> str:
        """Store ``conversation`` (writing only turns not yet held) and return its id.

        With ``name``, the name is set (or moved) to point at it.
        """
        ...

    def load(self, id_or_name: str) -> Conversation:
        """The stored conversation with this id (or name), equal to the one saved."""
        ...

    def children(self, id: str) -> list[str]:
        """Ids of the stored conversations one turn longer than ``id``, oldest first."""
        ...

    def leaves(self, id: str | None = None) -> list[str]:
        """Ids of the stored conversations nothing extends: under ``id``, or all."""
        ...

    def names(self) -> dict[str, str]:
        """Every name and the id it points at."""
        ...

    def delete(self, id_or_name: str) -> None:
        """Remove a stored conversation and what only it holds; shared turns stay."""
        ...

    def __contains__(self, id_or_name: object) -> bool:
        """True when a conversation with this id, or this name, is stored."""
        ...

    def close(self) -> None:
        """Release the store's connections; later calls raise :class:`StoreError`."""
        ...
