"""Save and load: a stored conversation, and every prefix of it, loads back equal.

The protocol suite: every test runs over every backend (see conftest.py).
"""

from __future__ import annotations

from contextlib import closing

from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import Conversation, ToolUse
from conversation._chain import CHUNK
from conversation.store import Store
from tests.conversation.store.backends import Places
from tests.conversation.store.model import (
    StoreModel,
    Tree,
    all_ids,
    assert_matches,
    conversation_trees,
    metadatas,
    walk,
)
from tests.strategies import stored_conversations


def test_a_store_is_a_store(store: Store) -> None:
    """Every backend is an instance of the runtime-checkable Store protocol."""
    assert isinstance(store, Store)


class TestRoundTrip:
    @given(stored_conversations())
    def test_load_of_save_is_equal(self, places: Places, c: Conversation) -> None:
        """save returns c.id, and load(c.id) is c: system, turns, provenance, metadata."""
        with closing(places.store()) as store:
            assert store.save(c) == c.id
            back = store.load(c.id)
            assert back == c
            assert back.system == c.system
            assert back.metadata == c.metadata
            assert [t.provenance for t in back] == [t.provenance for t in c]
            assert back.id == c.id

    @given(stored_conversations())
    @settings(max_examples=50)
    def test_every_prefix_loads_with_the_metadata_of_its_save(
        self, places: Places, c: Conversation
    ) -> None:
        """c[:k] is stored by saving c, and loads as c[:k] (the metadata of the save that
        stored it), with the ids of its own prefixes."""
        with closing(places.store()) as store:
            store.save(c)
            for k in range(len(c) + 1):
                back = store.load(c[:k].id)
                assert back == c[:k]
                assert back.metadata == c.metadata
                assert [back[:j].id for j in range(k + 1)] == [c[:j].id for j in range(k + 1)]

    @given(stored_conversations(max_steps=4), st.sampled_from(["user", "assistant"]))
    @settings(max_examples=50)
    def test_a_loaded_conversation_grows_and_saves_like_any_other(
        self, places: Places, c: Conversation, role: str
    ) -> None:
        """A loaded conversation's id state carries on: one more turn saves and loads equal."""
        grow = Conversation.user if role == "user" else Conversation.assistant
        expected = grow(c, "more")
        with closing(places.store()) as store:
            store.save(c)
            longer = grow(store.load(c.id), "more")
            assert longer == expected
            assert longer.id == expected.id
            assert store.save(longer) == expected.id
            assert store.load(expected.id) == expected
            assert store.children(c.id) == [expected.id]

    @given(conversation_trees(), st.data())
    @settings(max_examples=60)
    def test_every_node_of_a_tree_loads_equal(
        self, places: Places, tree: Tree, data: st.DataObject
    ) -> None:
        """Save some nodes of a random tree (every leaf among them) with random metadata, in
        random order: every node loads as the model says, with its children and leaves."""
        leaves = tree.leaves()
        others = [i for i in range(len(tree.nodes)) if i not in leaves]
        chosen = leaves + (
            data.draw(st.lists(st.sampled_from(others), unique=True)) if others else []
        )
        order = data.draw(st.permutations(chosen))
        model = StoreModel()
        with closing(places.store()) as store:
            for i in order:
                saved = model.save(tree.nodes[i], data.draw(metadatas))
                assert store.save(saved) == saved.id
            assert_matches(store, model, tree.nodes)


class TestContentAddressing:
    def test_one_turn_longer_adds_one_node(self, store: Store) -> None:
        """Saving a conversation one turn longer than a stored one stores that one turn."""
        c = Conversation(system="s").user("a").assistant("b").user("c")
        store.save(c)
        before = walk(store, c[:0].id)
        assert len(before) == len(c) + 1
        longer = c.assistant("d")
        store.save(longer)
        after = walk(store, c[:0].id)
        assert set(after) - set(before) == {longer.id}
        assert len(after) == len(set(after)) == len(before) + 1
        assert store.children(c.id) == [longer.id]
        assert store.leaves() == [longer.id]

    def test_saving_twice_stores_nothing_new(self, store: Store) -> None:
        c = Conversation().user("a").assistant("b")
        assert store.save(c) == store.save(c) == c.id
        assert walk(store, c[:0].id) == [c[:i].id for i in range(3)]
        assert store.leaves() == [c.id]

    def test_saving_a_prefix_of_a_stored_conversation_stores_nothing_new(
        self, store: Store
    ) -> None:
        c = Conversation().user("a").assistant("b").user("c")
        store.save(c)
        assert store.save(c[:2]) == c[:2].id
        assert walk(store, c[:0].id) == [c[:i].id for i in range(4)]
        assert store.leaves() == [c.id]

    def test_a_turn_is_stored_once_however_many_branches_share_it(self, store: Store) -> None:
        """1,000 one-turn branches off a 200-turn history: 200 + 1,000 turns under one root."""
        history = Conversation(system="long")
        for k in range(200):
            history = history.user(f"q{k}") if k % 2 == 0 else history.assistant(f"a{k}")
        store.save(history)
        tips = [history.user(f"branch {k}") for k in range(1000)]
        for tip in tips:
            assert store.save(tip) == tip.id
        stored = walk(store, history[:0].id)
        assert len(stored) == len(set(stored)) == 1 + 200 + 1000
        assert set(stored) == all_ids(tips)
        assert store.children(history.id) == [tip.id for tip in tips]
        assert set(store.leaves()) == {tip.id for tip in tips}
        assert store.load(tips[500].id) == tips[500]

    def test_trees_with_different_systems_are_apart(self, store: Store) -> None:
        """The same turns under another system prompt are another conversation."""
        a = Conversation(system="A").user("hi")
        b = Conversation(system="B").user("hi")
        store.save(a)
        store.save(b)
        assert store.load(a.id) == a
        assert store.load(b.id) == b
        assert set(store.leaves()) == {a.id, b.id}
        assert store.children(a[:0].id) == [a.id]

    def test_turns_shared_by_two_systems_store_apart(self, store: Store) -> None:
        """with_system shares the turns' objects (and their cached hash states) between two
        conversations: each saves and extends under its own system, past several checkpoints."""
        a = Conversation(system="A")
        for k in range(3 * CHUNK + 5):
            a = a.user(f"q{k}") if k % 2 == 0 else a.assistant(f"a{k}")
        b = a.with_system("B")
        for c in (a, b, b.user("more"), a.user("more"), a[: 2 * CHUNK].user("x")):
            assert store.save(c) == c.id
            assert store.load(c.id) == c
        assert store.load(a[:CHUNK].id) == a[:CHUNK]
        assert store.load(b[:CHUNK].id) == b[:CHUNK]
        assert set(store.leaves()) == {
            b.user("more").id,
            a.user("more").id,
            a[: 2 * CHUNK].user("x").id,
        }

    def test_equal_values_with_other_json_are_other_conversations(self, store: Store) -> None:
        """1 and 1.0 compare equal in Python but differ on the wire: two ids, each loads as
        itself."""
        one = Conversation().assistant(ToolUse("toolu_1", "f", {"x": 1}))
        other = Conversation().assistant(ToolUse("toolu_1", "f", {"x": 1.0}))
        assert one.id != other.id
        store.save(one)
        store.save(other)
        for c, kind in ((one, int), (other, float)):
            block = store.load(c.id)[0].content[0]
            assert isinstance(block, ToolUse)
            assert type(block.input["x"]) is kind


class TestMetadata:
    def test_saving_again_changes_the_metadata(self, store: Store) -> None:
        c = Conversation().user("a")
        store.save(c.with_metadata(title="first"))
        store.save(c.with_metadata(title="second"))
        assert store.load(c.id).metadata == {"title": "second"}

    def test_a_prefix_keeps_the_metadata_of_the_save_that_stored_it(self, store: Store) -> None:
        """A prefix never saved itself has the metadata of the save that stored it first; a
        prefix saved itself has its own."""
        c = Conversation().user("a").assistant("b").user("c")
        store.save(c[:2].with_metadata(n=1))
        store.save(c.with_metadata(n=2))
        assert store.load(c[:1].id).metadata == {"n": 1}
        assert store.load(c[:2].id).metadata == {"n": 1}
        assert store.load(c.id).metadata == {"n": 2}
        store.save(c[:1].with_metadata(n=3))
        assert store.load(c[:1].id).metadata == {"n": 3}
        assert store.load(c[:2].id).metadata == {"n": 1}

    def test_empty_metadata_is_kept_empty(self, store: Store) -> None:
        c = Conversation().user("a")
        store.save(c.with_metadata(n=1).user("b"))
        store.save(c)
        assert store.load(c.id).metadata == {}
