"""Trees of conversations for the store tests, and a model of what a store must hold.

- :func:`conversation_trees` (hypothesis) grows a random tree from one root:
  each step picks a node and adds one turn to it.
- :func:`branches` grows a tree from a seed, the same in every process, for the
  tests where several writers (threads, processes, a killed writer) save it.
- :data:`names_and_ids` draws any text a caller might pass as a name or an id.
- :class:`StoreModel` follows saves and deletes as the Store protocol
  documents them, and :func:`assert_matches` compares a store with it through
  the protocol only: ``in``, ``load``, ``children``, ``leaves`` and ``names``.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import pytest
from hypothesis import strategies as st

from conversation import Conversation
from conversation.store import NotFoundError, Store
from tests.strategies import assistant_block_cases, json_objects, reply_dicts, user_block_cases

__all__ = [
    "StoreModel",
    "Tree",
    "all_ids",
    "assert_matches",
    "branches",
    "conversation_trees",
    "metadatas",
    "names_and_ids",
    "walk",
]

# -- trees ---------------------------------------------------------------------------------

_short_text = st.sampled_from(["yes", "no", "go on"]) | st.text(max_size=12)
_turns = st.one_of(
    st.tuples(st.just("user"), _short_text),
    st.tuples(st.just("assistant"), _short_text),
    st.tuples(st.just("user"), st.lists(user_block_cases().map(lambda c: c.obj), min_size=1)),
    st.tuples(
        st.just("assistant"), st.lists(assistant_block_cases().map(lambda c: c.obj), min_size=1)
    ),
    st.tuples(st.just("fold"), reply_dicts(min_blocks=1, max_blocks=2)),
)
"""One turn to add: a role and its content, or a reply to fold (a turn with provenance)."""

_some_metadata: list[dict[str, Any]] = [{}, {"title": "a"}, {"title": "b", "tags": ["x"]}]
metadatas = st.sampled_from(_some_metadata) | json_objects(max_size=2)
"""Metadata to save a conversation with: often repeated, so rows are shared."""


names_and_ids = st.text(
    st.characters(exclude_categories=()) | st.sampled_from("0123456789abcdefABCDEF \x00\ud800"),
    max_size=70,
)
"""Any text, hex-looking and not valid Unicode (lone surrogates) included."""


def _grow(parent: Conversation, turn: tuple[str, Any]) -> Conversation:
    """``parent`` and one more turn (a reply folds onto a user turn only, so it adds one)."""
    kind, content = turn
    if kind == "fold" and (parent.last is None or parent.last.role == "user"):
        return parent.fold(content)
    if kind == "assistant":
        return parent.assistant(content)
    if kind == "user":
        return parent.user(content)
    return parent.user("a reply follows")


@attrs.frozen
class Tree:
    """Distinct conversations: ``nodes[0]`` the root, each other one turn longer than a parent."""

    nodes: tuple[Conversation, ...]
    parents: tuple[int, ...]  # parents[0] is -1

    def leaves(self) -> list[int]:
        """The nodes no other node extends."""
        extended = set(self.parents)
        return [i for i in range(len(self.nodes)) if i not in extended]


@st.composite
def conversation_trees(draw: st.DrawFn, *, max_steps: int = 12) -> Tree:
    """A random tree of conversations grown from one root (no metadata on any node)."""
    system = draw(st.none() | st.sampled_from(["Be brief.", "Answer in French."]))
    nodes = [Conversation(system=system)]
    parents = [-1]
    seen = {nodes[0].id}
    for _ in range(draw(st.integers(1, max_steps))):
        parent = draw(st.integers(0, len(nodes) - 1))
        child = _grow(nodes[parent], draw(_turns))
        assert len(child) == len(nodes[parent]) + 1
        if child.id not in seen:  # the same turn drawn twice is one node
            seen.add(child.id)
            nodes.append(child)
            parents.append(parent)
    return Tree(tuple(nodes), tuple(parents))


def branches(seed: int, count: int, *, longest: int = 6) -> list[Conversation]:
    """``count`` branches of one tree, the same for a seed in every process.

    A trunk of 8 turns first; then each branch starts at a random prefix of an
    earlier one and adds 1 to ``longest`` turns (every branch is new).
    """
    rng = random.Random(seed)
    trunk = Conversation(system="You test stores.")
    for k in range(8):
        trunk = trunk.user(f"trunk {k}") if k % 2 == 0 else trunk.assistant(f"answer {k}")
    made = [trunk]
    while len(made) < count:
        base = rng.choice(made)
        c = base[: rng.randint(0, len(base))]
        for k in range(rng.randint(1, longest)):
            said = f"branch {len(made)} turn {k}"
            c = c.user(said) if c.last is None or c.last.role == "assistant" else c.assistant(said)
        made.append(c)
    return made


def all_ids(conversations: Iterable[Conversation]) -> set[str]:
    """The ids of every prefix (root included) of these conversations: the nodes they make."""
    return {c[:k].id for c in conversations for k in range(len(c) + 1)}


def walk(store: Store, root: str) -> list[str]:
    """Every id stored under ``root`` (itself included), found through ``children``."""
    found = [root]
    for id in found:
        found.extend(store.children(id))
    return found


# -- the model -----------------------------------------------------------------------------


class StoreModel:
    """What a store holds after saves and deletes, as the Store protocol documents it.

    A stored node is every prefix of a saved conversation; a node's metadata is
    the one it was last saved with, or, for a node never saved itself, that of
    the save that stored it; ``children`` come oldest first.
    """

    def __init__(self) -> None:
        self._order = itertools.count()
        self.bare: dict[str, Conversation] = {}  # id -> the conversation, without metadata
        self.present: dict[str, int] = {}  # id -> when it was stored (for "oldest first")
        self.node_metadata: dict[str, Mapping[str, Any]] = {}
        self.heads: dict[str, Mapping[str, Any]] = {}  # saved ids -> their metadata
        self.names: dict[str, str] = {}

    def save(
        self, bare: Conversation, metadata: Mapping[str, Any], name: str | None = None
    ) -> Conversation:
        """Follow ``store.save`` of ``bare`` with ``metadata``; returns what to save."""
        for k in range(len(bare) + 1):
            prefix = bare[:k]
            if prefix.id not in self.present:
                self.present[prefix.id] = next(self._order)
                self.node_metadata[prefix.id] = metadata
                self.bare[prefix.id] = prefix
        self.heads[bare.id] = metadata
        if name is not None:
            self.names[name] = bare.id
        return bare.with_metadata(metadata)

    def delete(self, id: str) -> bool:
        """Follow ``store.delete(id)``; False when the store must refuse (nothing there)."""
        if id not in self.present:
            return False
        self.heads.pop(id, None)
        self.names = {name: to for name, to in self.names.items() if to != id}
        kept = all_ids(self.bare[head] for head in self.heads)
        for gone in set(self.present) - kept:
            del self.present[gone], self.node_metadata[gone]
        return True

    def expected(self, id: str) -> Conversation:
        """What ``store.load(id)`` must return."""
        metadata = self.heads.get(id, self.node_metadata[id])
        return self.bare[id].with_metadata(metadata)

    def children(self, id: str) -> list[str]:
        """Ids one turn longer than ``id``, oldest first."""
        size = len(self.bare[id])
        found = [
            other
            for other in self.present
            if len(self.bare[other]) == size + 1 and self.bare[other][:size].id == id
        ]
        return sorted(found, key=self.present.__getitem__)

    def leaves(self, under: str | None = None) -> set[str]:
        """Stored ids nothing stored extends (under ``under``, itself included, or all)."""
        parents = {self.bare[id][:-1].id for id in self.present if len(self.bare[id])}
        found = set(self.present) - parents
        if under is None:
            return found
        size = len(self.bare[under])
        return {id for id in found if self.bare[id][:size].id == under}


def assert_matches(store: Store, model: StoreModel, known: Sequence[Conversation]) -> None:
    """The store holds what the model says, seen through the protocol only.

    ``known`` are conversations (without metadata) the test made: each must be
    stored or not found, as the model says.
    """
    for c in known:
        if c.id in model.present:
            assert c.id in store
            got = store.load(c.id)
            assert got == model.expected(c.id), c.id
            assert got.metadata == model.expected(c.id).metadata
            assert store.children(c.id) == model.children(c.id), c.id
            assert set(store.leaves(c.id)) == model.leaves(c.id)
        else:
            assert c.id not in store
            with pytest.raises(NotFoundError):
                store.load(c.id)
            with pytest.raises(NotFoundError):
                store.children(c.id)
    leaves = store.leaves()
    assert len(leaves) == len(set(leaves))
    assert set(leaves) == model.leaves()
    assert store.names() == model.names
