"""The tree of stored conversations: children (oldest first), leaves, and ``in``.

The protocol suite: every test runs over every backend (see conftest.py).
"""

from __future__ import annotations

from conversation import Conversation
from conversation.store import Store

BASE = Conversation(system="s").user("Where to?").assistant("Lisbon or Porto?")


class TestChildren:
    def test_children_are_one_turn_longer_oldest_first(self, store: Store) -> None:
        kids = [BASE.user(f"option {k}") for k in range(5)]
        for kid in (kids[2], kids[0], kids[4], kids[1], kids[3]):
            store.save(kid.assistant("noted"))
        assert store.children(BASE.id) == [kids[k].id for k in (2, 0, 4, 1, 3)]
        assert store.children(kids[0].id) == [kids[0].assistant("noted").id]

    def test_a_leaf_has_no_children(self, store: Store) -> None:
        store.save(BASE)
        assert store.children(BASE.id) == []

    def test_children_of_the_root_and_of_a_middle_node(self, store: Store) -> None:
        """Nodes inside a saved conversation have children too (the next turn of it)."""
        store.save(BASE)
        assert store.children(BASE[:0].id) == [BASE[:1].id]
        assert store.children(BASE[:1].id) == [BASE.id]
        other = BASE[:1].assistant("Somewhere warm?")
        store.save(other)
        assert store.children(BASE[:1].id) == [BASE.id, other.id]

    def test_a_child_saved_after_a_sibling_was_deleted_comes_last(self, store: Store) -> None:
        """Oldest first still holds when a branch is deleted and another takes its place."""
        first, second, third = (BASE.user(f"option {k}") for k in range(3))
        store.save(first)
        store.save(second)
        store.delete(first.id)
        store.save(third)
        assert store.children(BASE.id) == [second.id, third.id]
        store.save(first)
        assert store.children(BASE.id) == [second.id, third.id, first.id]


class TestLeaves:
    def test_leaves_of_the_whole_store(self, store: Store) -> None:
        a = BASE.user("Lisbon")
        b = BASE.user("Porto").assistant("Good choice")
        c = Conversation(system="other").user("hi")
        for conversation in (a, b, c, BASE):
            store.save(conversation)
        assert sorted(store.leaves()) == sorted([a.id, b.id, c.id])

    def test_leaves_under_a_node(self, store: Store) -> None:
        a = BASE.user("Lisbon")
        b = BASE.user("Porto").assistant("Good choice")
        side = BASE[:1].assistant("Hmm?")
        for conversation in (a, b, side):
            store.save(conversation)
        assert sorted(store.leaves(BASE.id)) == sorted([a.id, b.id])
        assert sorted(store.leaves(BASE[:1].id)) == sorted([a.id, b.id, side.id])
        assert store.leaves(b[:4].id) == [b.id]
        assert store.leaves(side.id) == [side.id]  # a leaf is its own only leaf

    def test_an_empty_store_has_no_leaves(self, store: Store) -> None:
        assert store.leaves() == []

    def test_the_empty_conversation_is_a_leaf_until_extended(self, store: Store) -> None:
        empty = Conversation(system="s")
        store.save(empty)
        assert store.leaves() == [empty.id]
        assert store.load(empty.id) == empty
        store.save(BASE)
        assert store.leaves() == [BASE.id]
        assert store.children(empty.id) == [BASE[:1].id]


class TestContains:
    def test_in_is_true_for_every_stored_id_and_name(self, store: Store) -> None:
        store.save(BASE, name="trip")
        for k in range(len(BASE) + 1):
            assert BASE[:k].id in store
        assert "trip" in store
        assert BASE.user("more").id not in store
        assert "other" not in store

    def test_in_is_false_for_anything_else(self, store: Store) -> None:
        store.save(BASE)
        for thing in (None, 3, BASE, b"trip", BASE.id.encode()):
            assert thing not in store
