"""Names and ids: names point at stored conversations and move like git branches; an id
loads by a unique prefix of 6 or more hex digits.

The protocol suite: every test runs over every backend (see conftest.py).
"""

from __future__ import annotations

from contextlib import closing

import pytest
from hypothesis import given, settings

from conversation import Conversation, MalformedInputError
from conversation.store import NotFoundError, Store
from tests.conversation.store.backends import Places
from tests.conversation.store.model import names_and_ids

# Two conversations whose ids share their first 7 hex digits, "9a69717" (found by search).
TWIN_A = Conversation().user("probe 22451")
TWIN_B = Conversation().user("probe 23896")


class TestNames:
    def test_a_name_points_at_what_was_saved_under_it(self, store: Store) -> None:
        c = Conversation().user("a").assistant("b")
        assert store.save(c, name="main") == c.id
        assert store.names() == {"main": c.id}
        assert store.load("main") == c
        assert "main" in store

    def test_saving_under_a_name_again_moves_it(self, store: Store) -> None:
        """Like a git branch: the name follows the latest save, the old head stays stored."""
        c = Conversation().user("a")
        longer = c.assistant("b")
        store.save(c, name="main")
        store.save(longer, name="main")
        assert store.names() == {"main": longer.id}
        assert store.load("main") == longer
        assert store.load(c.id) == c
        store.save(c, name="main")  # and back
        assert store.load("main") == c

    def test_names_lists_every_name(self, store: Store) -> None:
        a = Conversation().user("a")
        b = Conversation().user("b")
        store.save(a, name="one")
        store.save(a, name="two")
        store.save(b, name="three")
        store.save(b)  # without a name, names stay as they are
        assert store.names() == {"one": a.id, "two": a.id, "three": b.id}

    def test_names_is_a_copy(self, store: Store) -> None:
        store.save(Conversation().user("a"), name="one")
        store.names().clear()
        assert list(store.names()) == ["one"]

    def test_a_name_that_spells_an_id_is_refused(self, store: Store) -> None:
        """A name of 64 hex digits would read as an id: refused, and nothing is saved."""
        c = Conversation().user("a")
        other = Conversation().user("b")
        for name in (other.id, other.id.upper(), "0" * 64):
            with pytest.raises(MalformedInputError, match="id"):
                store.save(c, name=name)
        assert store.names() == {}
        assert c.id not in store

    @pytest.mark.parametrize("name", ["", "   ", "\n", "\ud800", "a\udfff"])
    def test_a_blank_or_broken_name_is_refused(self, store: Store, name: str) -> None:
        """Blank, or not valid Unicode (a lone surrogate cannot be stored as text)."""
        with pytest.raises(MalformedInputError, match="name"):
            store.save(Conversation().user("a"), name=name)
        assert store.names() == {}

    @given(names_and_ids)
    @settings(max_examples=50)
    def test_any_name_is_kept_or_refused_clearly(self, places: Places, name: str) -> None:
        """Any text is a name that round-trips through names() and load, or is refused with
        MalformedInputError (blank, not valid Unicode, or spelling an id)."""
        c = Conversation().user("a")
        with closing(places.store()) as store:
            try:
                store.save(c, name=name)
            except MalformedInputError:
                assert c.id not in store
                assert store.names() == {}
                return
            assert store.names() == {name: c.id}
            assert store.load(name) == c
            assert name in store

    def test_a_name_comes_before_an_id_prefix(self, store: Store) -> None:
        """A name that looks like an id prefix still names what it was saved with."""
        c = Conversation().user("a")
        other = Conversation().user("b")
        store.save(c)
        store.save(other, name=c.id[:8])
        assert store.load(c.id[:8]) == other
        assert store.load(c.id) == c


class TestIdPrefixes:
    def test_a_unique_prefix_of_six_or_more_digits_loads(self, store: Store) -> None:
        c = Conversation().user("a").assistant("b")
        store.save(c)
        for size in (6, 7, 12, 63):
            assert store.load(c.id[:size]) == c
            assert c.id[:size] in store
            assert store.children(c[:1].id[:size]) == [c.id]

    def test_a_prefix_of_a_stored_prefix_loads(self, store: Store) -> None:
        c = Conversation().user("a").assistant("b")
        store.save(c)
        assert store.load(c[:1].id[:10]) == c[:1]

    def test_a_shorter_prefix_is_not_an_id(self, store: Store) -> None:
        c = Conversation().user("a")
        store.save(c)
        for size in (1, 5):
            with pytest.raises(NotFoundError):
                store.load(c.id[:size])
            assert c.id[:size] not in store

    def test_an_ambiguous_prefix_is_a_clear_error(self, store: Store) -> None:
        assert TWIN_A.id[:7] == TWIN_B.id[:7]
        store.save(TWIN_A)
        store.save(TWIN_B)
        for size in (6, 7):
            with pytest.raises(MalformedInputError, match="several"):
                store.load(TWIN_A.id[:size])
        assert store.load(TWIN_A.id[:8]) == TWIN_A
        assert store.load(TWIN_B.id[:8]) == TWIN_B

    def test_a_prefix_of_nothing_stored_is_not_found(self, store: Store) -> None:
        store.save(TWIN_A)
        missing = TWIN_B.id[:8]
        with pytest.raises(NotFoundError, match=missing):
            store.load(missing)
