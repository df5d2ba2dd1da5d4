"""What the pages read from a store: dialogues, trees, search (over a real SQLite file)."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversation import Conversation
from conversation.store import SQLiteStore
from conversation.viewer._html import tag
from conversation.viewer._pages import _highlight, dialogue_page
from conversation.viewer._queries import Reader, Run, match_spans, snippet
from tests.conversation.viewer.data import HOSTILE_TITLE, Sample, build


@pytest.fixture
def built(tmp_path: Path) -> Sample:
    return build(tmp_path / "chats.db")


@pytest.fixture
def reader(built: Sample) -> Iterator[Reader]:
    with SQLiteStore(built.path) as store:
        yield Reader(store)


def test_branches_that_share_a_first_turn_are_one_dialogue(reader: Reader, built: Sample) -> None:
    dialogues = reader.dialogues()
    assert [d.title for d in dialogues] == [  # the newest saved first
        "Sourdough starter",
        HOSTILE_TITLE,
        "What is in this picture? And write me a greeting function.",
        "Plan a trip to Lisbon",
    ]
    trip = dialogues[-1]
    assert trip.id == built.trip[:1].id
    assert [b.id for b in trip.branches] == [built.trip.id, built.belem.id, built.week.id]
    assert trip.main.id == built.trip.id  # the named branch
    assert trip.names == ("trip",)
    assert trip.turns == 4
    assert not trip.imported
    sourdough = dialogues[0]
    assert sourdough.imported
    assert (sourdough.app, sourdough.updated) == ("claude", "2025-02-03T10:00:00+00:00")
    assert reader.dialogue(built.belem.id) == trip  # any id of it finds it


def test_the_tree_is_runs_of_turns_split_at_forks_and_names(reader: Reader, built: Sample) -> None:
    def shape(run: Run) -> object:
        return (run.first, run.last, run.end, run.names, [shape(kid) for kid in run.children])

    tree = reader.tree(built.trip[:1].id)
    assert tree is not None
    assert shape(tree) == (
        1,
        2,
        built.trip[:2].id,
        (),
        [
            (3, 3, built.trip[:3].id, (), [
                (4, 4, built.trip.id, ("trip",), []),
                (4, 4, built.belem.id, (), []),
            ]),
            (3, 3, built.week.id, (), []),
        ],
    )  # fmt: skip
    assert tree.turn == built.trip[1]


def test_search_in_titles_in_text_or_both(reader: Reader, built: Sample) -> None:
    def found(query: str, scope: str = "all") -> list[str]:
        return [hit.dialogue.title for hit in reader.search(query, scope)]  # type: ignore[arg-type]

    assert len(found("")) == 4
    assert found("SOURDOUGH", "title") == ["Sourdough starter"]
    assert found("sourdough", "text") == []
    assert found("flour", "text") == ["Sourdough starter"]
    assert found("flour", "title") == []
    assert found("trip", "title") == ["Plan a trip to Lisbon"]  # by its name
    assert found("belém") == ["Plan a trip to Lisbon"]
    hit = reader.search("belém", "text")[0]
    assert (hit.branch, hit.turn, hit.in_title) == (built.belem.id, 4, False)
    assert hit.snippet == "Day 1: Belém and the tower.\nDay 2: Sintra."  # the text's own
    long = reader.search("castle")[0]
    assert long.snippet is not None
    assert "castle" in long.snippet


def test_a_long_text_is_cut_around_what_was_found(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "long.db") as store:
        store.save(Conversation().user("x" * 200 + " needle " + "y" * 200))
        hit = Reader(store).search("needle")[0]
    assert hit.snippet is not None
    assert hit.snippet.startswith("…x")
    assert hit.snippet.endswith("y…")
    assert len(hit.snippet) < 140


def test_what_changes_in_the_store_shows_on_the_next_read(built: Sample) -> None:
    with SQLiteStore(built.path) as store:
        reader = Reader(store)
        assert reader.load("trip") == built.trip
        before = len(reader.dialogues())
        with SQLiteStore(built.path) as other:  # another program, say an import
            other.save(built.week.assistant("A week: Lisbon, Porto."), name="trip")
            other.save(Conversation().user("Something new"))
        assert reader.load("trip") == built.week.assistant("A week: Lisbon, Porto.")
        assert len(reader.dialogues()) == before + 1
        assert reader.dialogues()[0].title == "Something new"


def test_an_empty_conversation_is_a_dialogue_with_no_tree(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "empty.db") as store:
        ident = store.save(Conversation(system="Only a prompt"), name="blank")
        reader = Reader(store)
        [dialogue] = reader.dialogues()
        assert (dialogue.id, dialogue.title, dialogue.turns) == (ident, "(empty conversation)", 0)
        assert reader.tree(ident) is None


def test_a_tree_forked_at_every_turn_of_a_long_dialogue(tmp_path: Path) -> None:
    """No recursion: 700 nested forks read and render (the page's tree is nested lists)."""
    depth = 700
    c = Conversation()
    with SQLiteStore(tmp_path / "deep.db") as store:
        for number in range(depth):
            role = c.user if number % 2 == 0 else c.assistant
            store.save(role(f"other {number}"))  # a branch that ends here
            c = role(f"turn {number}")
        store.save(c, name="main")
        reader = Reader(store)
        tree = reader.tree("main")
        dialogue = reader.dialogue("main")
        main = reader.load(dialogue.main.id)
    assert tree is not None
    levels = 0
    run: Run | None = tree
    while run is not None and run.children:
        levels += 1
        assert [kid.first for kid in run.children] == [run.last + 1, run.last + 1]
        assert run.turn is not None
        assert run.turn.text == f"turn {run.last - 1}"
        run = run.children[1]  # the "other" branch is the older one
    assert levels == depth - 1
    page = dialogue_page(dialogue, tree, main, store="deep.db")
    assert page.count("<ul>") == depth - 1
    assert page.count("<li>") == page.count("</li>") == 2 * depth - 1


# -- search and highlighting agree on any text ----------------------------------------------

_FOLDS = "ßİıſﬁΣσςÅåK\u212aǅ"  # characters whose casefold changes length or merges others


@given(
    st.text(alphabet=st.sampled_from(_FOLDS + "abcsk SI\n") | st.characters(), max_size=80),
    st.data(),
)
@settings(max_examples=300)
def test_what_the_search_finds_in_a_text_is_what_the_page_marks(
    text: str, data: st.DataObject
) -> None:
    """Casefolding changes lengths (ß is ss, İ is i̇): the spans are of the original text,
    cover a match, and the snippet of the first holds a match the page highlights."""
    start = data.draw(st.integers(0, len(text)))
    query = data.draw(st.sampled_from([text[start : start + size] for size in (1, 2, 5)]))
    query = data.draw(st.sampled_from([query, query.upper(), query.casefold()]))
    wanted = query.casefold().strip()
    spans = match_spans(text, query)
    assert bool(spans) == bool(wanted and wanted in text.casefold())
    for first, last in spans:
        assert wanted in text[first:last].casefold()
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # never overlapping
    found = snippet(text, query)
    assert (found is None) == (not spans)
    if found is not None:
        marked = _highlight(found, query)
        assert "<mark>" in marked
        first, last = match_spans(found, query)[0]
        assert str(tag("mark", found[first:last])) in marked


def test_a_search_in_text_that_folds_longer_snippets_and_marks_the_match(tmp_path: Path) -> None:
    """Before the fix, "ß" shifted the snippet off the match and the page marked nothing."""
    text = "ß" * 70 + " Straße İstanbul STRASSE"
    with SQLiteStore(tmp_path / "fold.db") as store:
        store.save(Conversation().user("q").assistant(text))
        [hit] = Reader(store).search("strasse", "text")
        assert hit.snippet is not None
        assert "Straße" in hit.snippet
        assert hit.snippet.endswith("STRASSE")
        marked = _highlight(hit.snippet, "strasse")
        assert "<mark>Straße</mark>" in marked
        assert "<mark>STRASSE</mark>" in marked
        [found] = Reader(store).search("i̇stanbul", "text")
        assert found.snippet is not None
        assert "<mark>İstanbul</mark>" in _highlight(found.snippet, "i̇stanbul")


def test_one_damaged_name_row_leaves_the_pages_working(built: Sample) -> None:
    """A name that is not text (changed outside the library): pages show no names, not a 500."""
    with sqlite3.connect(built.path) as db:
        db.execute("UPDATE names SET name = X'FF00' WHERE name = 'trip'")
    db.close()
    with SQLiteStore(built.path) as store:
        reader = Reader(store)
        assert reader.named() == {}
        titles = [d.title for d in reader.dialogues()]
        assert "Plan a trip to Lisbon" in titles
        assert reader.search("lisbon")[0].dialogue.names == ()


def test_a_list_of_more_branches_than_the_cache_holds_loads_each_once(tmp_path: Path) -> None:
    """Past the cache of loaded conversations (4,096), a list used to load every branch on
    every request: now each id's facts are kept, so a second list loads none."""

    class Counting(SQLiteStore):
        """A real SQLite store that counts the conversations loaded from it."""

        loads = 0

        def load(self, id_or_name: str) -> Conversation:
            Counting.loads += 1
            return super().load(id_or_name)

    with Counting(tmp_path / "many.db") as store:
        for number in range(5000):
            store.save(Conversation().user(f"question {number}"))
        reader = Reader(store)
        assert len(reader.dialogues()) == 5000
        first = Counting.loads
        assert first == 5000
        assert [d.title for d in reader.dialogues()][:2] == ["question 4999", "question 4998"]
        assert Counting.loads == first  # nothing loaded again
        assert reader.search("question 17", "title")[-1].dialogue.title == "question 17"
        assert Counting.loads == first
