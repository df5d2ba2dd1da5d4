"""Bad input through the Store protocol: each a clear ConversationError, never a bare one.

The protocol suite: every test runs over every backend (see conftest.py). Damaged
files and databases are the SQLite store's own (test_sqlite.py).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing, suppress
from typing import Any

import pytest
from hypothesis import example, given, settings

from conversation import Conversation, ConversationError, MalformedInputError
from conversation.store import NotFoundError, Store, StoreError
from tests.conversation.store.backends import Places
from tests.conversation.store.model import names_and_ids

BASE = Conversation(system="s").user("Where to?").assistant("Lisbon or Porto?")

LOOKUPS = ("load", "children", "leaves", "delete")
"""The methods that take an id or a name."""


def look_up(store: Store, method: str, id_or_name: Any) -> object:
    """``store.<method>(id_or_name)``."""
    found: Callable[[Any], object] = getattr(store, method)
    return found(id_or_name)


class TestUnknown:
    def test_an_id_prefix_several_ids_share_is_not_in_the_store(self, store: Store) -> None:
        """``in`` answers whether ``load`` finds one conversation: a shared prefix is refused
        by ``load`` (give more of the id), so it is not in the store."""
        first, second = two_sharing_a_prefix(6)
        store.save(first)
        store.save(second)
        prefix = first.id[:6]
        assert (prefix in store) is False
        with pytest.raises(MalformedInputError, match="several"):
            store.load(prefix)
        assert first.id[:12] in store  # more of it finds one
        assert store.load(first.id[:12]) == first

    @pytest.mark.parametrize("method", LOOKUPS)
    def test_an_unknown_id_or_name_is_not_found(self, store: Store, method: str) -> None:
        """NotFoundError, a StoreError and a LookupError, naming what was asked for."""
        store.save(BASE, name="trip")
        for missing in (BASE.user("x").id, "holiday", BASE.user("x").id[:10]):
            with pytest.raises(NotFoundError, match=missing) as caught:
                look_up(store, method, missing)
            assert isinstance(caught.value, StoreError)
            assert isinstance(caught.value, LookupError)
            assert isinstance(caught.value, ConversationError)

    def test_an_empty_store_finds_nothing(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.load(BASE.id)
        with pytest.raises(NotFoundError):
            store.children(BASE[:0].id)
        assert BASE[:0].id not in store

    @given(names_and_ids)
    @example("\ud800")
    @example("\x00")
    @settings(max_examples=50)
    def test_any_text_is_found_or_refused_clearly(self, places: Places, text: str) -> None:
        """Whatever text is looked up: a result, NotFoundError, or MalformedInputError."""
        with closing(places.store()) as store:
            store.save(BASE)
            assert isinstance(text in store, bool)
            for method in LOOKUPS:
                with suppress(NotFoundError, MalformedInputError):
                    look_up(store, method, text)


class TestWrongTypes:
    @pytest.mark.parametrize("method", LOOKUPS)
    @pytest.mark.parametrize("value", [3, b"abc", None, ["a"], BASE])
    def test_an_id_that_is_not_a_str_is_refused(
        self, store: Store, method: str, value: object
    ) -> None:
        if method == "leaves" and value is None:
            return  # leaves(None): the whole store
        store.save(BASE)
        with pytest.raises(MalformedInputError, match="str"):
            look_up(store, method, value)

    @pytest.mark.parametrize("value", [None, "text", BASE.to_payload(model="m", max_tokens=1), 3])
    def test_save_takes_a_conversation(self, store: Store, value: Any) -> None:
        with pytest.raises(MalformedInputError, match="Conversation"):
            store.save(value)
        assert store.leaves() == []

    @pytest.mark.parametrize("name", [3, b"main", ["main"]])
    def test_a_name_is_a_str(self, store: Store, name: Any) -> None:
        with pytest.raises(MalformedInputError, match="name"):
            store.save(BASE, name=name)
        assert BASE.id not in store

    def test_metadata_json_cannot_hold_is_refused_clearly(self, store: Store) -> None:
        """Metadata a Conversation accepts but JSON cannot write: refused, nothing saved."""
        for metadata in ({"big": 2**70}, {"text": "\ud800"}):
            with pytest.raises(MalformedInputError):
                store.save(BASE.with_metadata(metadata))
        assert BASE.id not in store
        assert store.save(BASE) == BASE.id  # and the store works on

    def test_turns_json_cannot_hold_are_refused_clearly(self, store: Store) -> None:
        with pytest.raises(MalformedInputError, match="turn 2"):
            store.save(BASE.user("\ud800"))
        assert BASE[:0].id not in store
        assert store.save(BASE) == BASE.id


class TestClosed:
    @pytest.mark.parametrize(
        "call",
        [
            lambda s: s.save(BASE),
            lambda s: s.load(BASE.id),
            lambda s: s.children(BASE.id),
            lambda s: s.leaves(),
            lambda s: s.leaves(BASE.id),
            lambda s: s.names(),
            lambda s: s.delete(BASE.id),
            lambda s: BASE.id in s,
        ],
        ids=["save", "load", "children", "leaves", "leaves-under", "names", "delete", "in"],
    )
    def test_a_closed_store_refuses_every_call(
        self, store: Store, call: Callable[[Store], object]
    ) -> None:
        store.save(BASE)
        store.close()
        with pytest.raises(StoreError, match="closed"):
            call(store)

    def test_closing_twice_is_fine(self, store: Store) -> None:
        store.close()
        store.close()


def two_sharing_a_prefix(digits: int) -> tuple[Conversation, Conversation]:
    """Two one-turn conversations whose ids start with the same ``digits`` hex digits
    (found by trying: some thousands of ids for 6 digits, by the birthday bound)."""
    seen: dict[str, Conversation] = {}
    k = 0
    while True:
        c = BASE[:0].user(f"try {k}")
        k += 1
        other = seen.setdefault(c.id[:digits], c)
        if other is not c:
            return other, c
