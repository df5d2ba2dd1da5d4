"""``ls`` and ``show`` over a real store file: the text, the JSON, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.cli import run
from tests.conversation.cli.running import Tree, cli


def test_ls_lists_names_first_then_every_leaf(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "ls")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3  # trip (named, a leaf), then the two unnamed leaves
    assert lines[0].split()[:4] == ["trip", tree.trip.id[:12], "4", "turns"]
    assert lines[0].endswith("assistant: Day 1: Alfama")
    assert {line.split()[1] for line in lines[1:]} == {tree.belem.id[:12], tree.week.id[:12]}
    assert all(line.startswith("-  ") for line in lines[1:])


def test_ls_json_is_an_array_a_script_reads(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "ls", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert isinstance(rows, list)
    by_id = {row["id"]: row for row in rows}
    assert set(by_id) == {tree.trip.id, tree.belem.id, tree.week.id}
    assert by_id[tree.trip.id] == {
        "id": tree.trip.id,
        "names": ["trip"],
        "title": None,
        "turns": 4,
        "leaf": True,
        "last": {"role": "assistant", "text": "Day 1: Alfama"},
    }
    assert by_id[tree.week.id]["names"] == []
    assert by_id[tree.week.id]["last"] == {"role": "user", "text": "No, a week"}


def test_ls_of_an_empty_store_prints_nothing_and_json_an_empty_array(tmp_path: Path) -> None:
    from conversation.store import SQLiteStore

    path = tmp_path / "empty.db"
    SQLiteStore(path).close()
    assert cli("--db", str(path), "ls").stdout == ""
    assert json.loads(cli("--db", str(path), "ls", "--json").stdout) == []


@pytest.mark.parametrize("how", ["name", "id", "prefix"])
def test_show_finds_a_conversation_by_name_id_or_prefix(tree: Tree, how: str) -> None:
    key = {"name": "trip", "id": tree.trip.id, "prefix": tree.trip.id[:8]}[how]
    done = cli("--db", str(tree.path), "show", key)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.splitlines()[0] == f"conversation {tree.trip.id}"
    # the transcript: the system prompt, then each turn under a rule naming its writer
    order = [
        "── system ──",
        "Be brief",
        "── user · turn 1 ──",
        "Plan a trip to Lisbon",
        "── assistant · turn 2 · synthetic ──",
        "Three days?",
        "Yes, three",
        "Day 1: Alfama",
        "tree (* = this conversation)",
    ]
    places = [out.index(text) for text in order]
    assert places == sorted(places)
    assert "Day 1: Belém" in out.split("tree (")[1]  # a sibling only in the tree


def test_show_json_is_the_saved_form(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "show", "trip", "--json")
    assert done.returncode == 0, done.stderr
    assert Conversation.loads(done.stdout) == tree.trip
    assert done.stdout.strip() == tree.trip.dumps()


def test_show_of_an_unknown_id_says_how_to_find_one(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "show", "lisbon")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "'lisbon'" in done.stderr
    assert "conversation ls" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_show_of_a_prefix_several_ids_share_asks_for_more(
    tree: Tree, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (run): a too-short prefix is refused, not guessed; exit 1."""
    assert run(["--db", str(tree.path), "show", "12345"]) == 1  # under 6 digits: no prefix
    assert "no stored conversation" in capsys.readouterr().err


def test_show_marks_imported_titles(tmp_path: Path) -> None:
    from conversation.store import SQLiteStore

    path = tmp_path / "t.db"
    titled = Conversation(metadata={"import": {"title": "Lisbon plans"}}).user("Hi")
    with SQLiteStore(path) as store:
        store.save(titled, name="x")
    out = cli("--db", str(path), "show", "x").stdout
    assert out.splitlines()[0] == f"Lisbon plans {titled.id}"
    rows = json.loads(cli("--db", str(path), "ls", "--json").stdout)
    assert rows[0]["title"] == "Lisbon plans"
