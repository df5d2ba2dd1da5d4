"""Delete: a branch goes with what only it holds; every other stored conversation stays.

The protocol suite: every test runs over every backend (see conftest.py).
"""

from __future__ import annotations

from contextlib import closing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import Conversation
from conversation.store import NotFoundError, Store
from tests.conversation.store.backends import Places
from tests.conversation.store.model import (
    StoreModel,
    Tree,
    assert_matches,
    conversation_trees,
    metadatas,
    walk,
)

BASE = Conversation(system="s").user("Where to?").assistant("Lisbon or Porto?")


class TestDelete:
    def test_deleting_a_leaf_drops_only_what_only_it_holds(self, store: Store) -> None:
        a = BASE.user("Lisbon").assistant("Trams!")
        b = BASE.user("Porto")
        store.save(a)
        store.save(b)
        store.delete(a.id)
        for gone in (a, a[:-1]):
            assert gone.id not in store
            with pytest.raises(NotFoundError):
                store.load(gone.id)
        assert store.load(b.id) == b
        assert store.load(BASE.id) == BASE
        assert walk(store, BASE[:0].id) == [BASE[:k].id for k in range(3)] + [b.id]
        assert store.leaves() == [b.id]

    def test_deleting_the_last_branch_empties_the_store(self, store: Store) -> None:
        store.save(BASE, name="trip")
        store.delete("trip")
        assert store.leaves() == []
        assert store.names() == {}
        for k in range(len(BASE) + 1):
            assert BASE[:k].id not in store

    def test_deleting_a_conversation_others_extend_keeps_every_turn(self, store: Store) -> None:
        longer = BASE.user("Lisbon")
        store.save(BASE.with_metadata(saved="base"))
        store.save(longer.with_metadata(saved="longer"))
        store.delete(BASE.id)
        assert store.load(longer.id) == longer.with_metadata(saved="longer")
        assert BASE.id in store  # still a prefix of what is kept
        assert list(store.load(BASE.id)) == list(BASE)
        assert store.children(BASE.id) == [longer.id]
        # No longer saved itself: it loads as a prefix does, and goes with its last branch.
        store.delete(longer.id)
        assert BASE.id not in store
        assert store.leaves() == []

    def test_deleting_a_prefix_nobody_saved_changes_nothing(self, store: Store) -> None:
        store.save(BASE)
        store.delete(BASE[:1].id)
        assert walk(store, BASE[:0].id) == [BASE[:k].id for k in range(3)]
        assert store.load(BASE.id) == BASE

    def test_names_pointing_at_it_go(self, store: Store) -> None:
        a = BASE.user("Lisbon")
        store.save(a, name="one")
        store.save(a, name="two")
        store.save(BASE, name="base")
        store.delete("one")
        assert store.names() == {"base": BASE.id}
        with pytest.raises(NotFoundError):
            store.load("two")

    def test_deleting_what_is_not_stored_is_not_found(self, store: Store) -> None:
        store.save(BASE)
        for missing in (BASE.user("x").id, "no such name"):
            with pytest.raises(NotFoundError):
                store.delete(missing)
        store.delete(BASE.id)
        with pytest.raises(NotFoundError):
            store.delete(BASE.id)

    def test_a_deleted_branch_saves_again(self, store: Store) -> None:
        a = BASE.user("Lisbon").with_metadata(n=1)
        store.save(a, name="a")
        store.delete("a")
        store.save(a.with_metadata(n=2))
        assert store.load(a.id) == a.with_metadata(n=2)
        assert store.load(BASE.id).metadata == {"n": 2}

    @given(conversation_trees(max_steps=10), st.data())
    @settings(max_examples=60)
    def test_random_deletes_keep_everything_else(
        self, places: Places, tree: Tree, data: st.DataObject
    ) -> None:
        """Save nodes of a random tree (names on some), delete saved heads and other nodes in
        random order, saving some again: after each step the store is what the model says."""
        model = StoreModel()
        nodes = range(len(tree.nodes))
        with closing(places.store()) as store:
            for i in data.draw(st.permutations([*tree.leaves(), *some_nodes(data, nodes)])):
                name = data.draw(st.none() | st.sampled_from(["main", "side"]))
                store.save(model.save(tree.nodes[i], data.draw(metadatas), name), name=name)
            for _ in range(data.draw(st.integers(1, len(tree.nodes)))):
                i = data.draw(st.sampled_from(nodes))
                if data.draw(st.integers(0, 4)) == 0:  # now and then, a save in between
                    store.save(model.save(tree.nodes[i], data.draw(metadatas)))
                    continue
                if model.delete(tree.nodes[i].id):
                    store.delete(tree.nodes[i].id)
                else:
                    with pytest.raises(NotFoundError):
                        store.delete(tree.nodes[i].id)
                assert_matches(store, model, tree.nodes)


def some_nodes(data: st.DataObject, nodes: range) -> list[int]:
    """Some nodes besides the leaves (saved heads in the middle of the tree)."""
    return data.draw(st.lists(st.sampled_from(nodes), unique=True, max_size=4))
