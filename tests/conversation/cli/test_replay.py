"""``replay``: a stored dialogue sent again, offline or to the fake Anthropic API over a
real socket, and the new branch checked in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.store import SQLiteStore
from tests.adapters.fake_api import Error, FakeMessagesAPI, Reply, make_message
from tests.conversation.cli.running import Tree, cli

KEY = "sk-ant-fake-key-for-the-replay-tests-00"


def _reply(text: str) -> dict[str, object]:
    return {"content": [{"type": "text", "text": text}], "model": "an-old-model"}


@pytest.fixture
def old(tmp_path: Path) -> tuple[Path, Conversation]:
    """A store holding ``trip``: two exchanges whose replies a model wrote."""
    trip = Conversation(system="Be brief").user("Plan a trip to Lisbon").fold(_reply("Days?"))
    trip = trip.user("Yes, three").fold(_reply("Day 1: Alfama"))
    path = tmp_path / "chats.db"
    with SQLiteStore(path) as store:
        store.save(trip, name="trip")
    return path, trip


def test_offline_replay_stores_a_new_branch_and_says_it_is_offline(
    old: tuple[Path, Conversation],
) -> None:
    """No key: stderr says the model is offline; the branch keeps the user turns, has the
    model's replies written anew, and is named trip/replay-1 (by the name given), or
    ID/replay-1 (by the id given)."""
    path, trip = old
    done = cli("--db", str(path), "replay", "trip")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("offline: no ANTHROPIC_API_KEY")
    assert done.stderr.count("\n") == 1
    with SQLiteStore(path) as store:
        branch = store.load("trip/replay-1")
    assert done.stdout.splitlines()[0] == f"trip/replay-1  {branch.id[:12]}"
    assert "2 turns written again by scripted (4 turns in all)" in done.stdout
    assert [turn.text for turn in branch] == [
        "Plan a trip to Lisbon",
        "You said: Plan a trip to Lisbon",
        "Yes, three",
        "You said: Yes, three",
    ]
    assert branch.system == trip.system
    infos = [turn.provenance.last for turn in list(branch)[1::2] if turn.provenance]
    models = [info.model for info in infos if info is not None]
    assert models == ["scripted", "scripted"]
    again = cli("--db", str(path), "replay", trip.id[:8])
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"{trip.id[:12]}/replay-1  ")


def test_replay_json_reports_what_was_stored(old: tuple[Path, Conversation]) -> None:
    """--json: the branch's id and name, the turns, and the usage summed from its replies;
    a second replay is the next name."""
    path, trip = old
    first = cli("--db", str(path), "replay", "trip", "--json")
    second = cli("--db", str(path), "replay", "trip", "--json")
    assert first.returncode == second.returncode == 0
    row = json.loads(second.stdout)
    with SQLiteStore(path) as store:
        branch = store.load(row["name"])
    assert row["name"] == "trip/replay-2"
    assert row["id"] == branch.id
    assert row["original"] == trip.id
    assert (row["turns"], row["replayed"], row["complete"], row["reason"]) == (4, 2, True, None)
    assert (row["adapter"], row["model"]) == ("scripted", "scripted")
    assert row["usage"]["input_tokens"] == branch.usage.input_tokens > 0
    assert row["usage"]["output_tokens"] == branch.usage.output_tokens > 0


def test_synthetic_turns_are_kept_unless_asked_to_regenerate(tree: Tree) -> None:
    """A dialogue whose replies a program wrote: kept as they are (and the output says
    how to have them written), or written by the model with --regenerate-synthetic."""
    kept = cli("--db", str(tree.path), "replay", "trip")
    assert kept.returncode == 0, kept.stderr
    assert "0 turns written again" in kept.stdout
    assert "--regenerate-synthetic has the model write them" in kept.stdout
    done = cli("--db", str(tree.path), "replay", "trip", "--regenerate-synthetic")
    assert done.returncode == 0, done.stderr
    assert "2 turns written again" in done.stdout
    with SQLiteStore(tree.path) as store:
        assert list(store.load("trip/replay-1")) == list(tree.trip)
        assert store.load("trip/replay-2")[3].text == "You said: Yes, three"


def test_replay_with_anthropic_sends_each_turn_and_counts_its_tokens(
    old: tuple[Path, Conversation], fake_anthropic: FakeMessagesAPI
) -> None:
    """With a key (here the fake API): one request per model turn, each the branch so far;
    the summary's tokens are those the replies' usage gave."""
    fake_anthropic.queue(
        Reply(make_message("Three days is right.", input_tokens=30, output_tokens=7)),
        Reply(make_message("Day 1: Sintra", input_tokens=50, output_tokens=5)),
    )
    path, _ = old
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": fake_anthropic.base_url}
    done = cli("--db", str(path), "replay", "trip", "--model", "claude-x", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # not offline: nothing to say
    assert "2 turns written again by claude-x (4 turns in all); 80 input and 12 output" in (
        done.stdout
    )
    bodies = [request.json for request in fake_anthropic.requests]
    assert [body["model"] for body in bodies] == ["claude-x", "claude-x"]
    assert [len(body["messages"]) for body in bodies] == [1, 3]
    assert bodies[1]["messages"][1] == {"role": "assistant", "content": "Three days is right."}
    with SQLiteStore(path) as store:
        branch = store.load("trip/replay-1")
    assert [turn.text for turn in branch][1::2] == ["Three days is right.", "Day 1: Sintra"]


def test_a_refused_replay_is_one_sentence_and_stores_nothing(
    old: tuple[Path, Conversation], fake_anthropic: FakeMessagesAPI
) -> None:
    path, _ = old
    fake_anthropic.queue(Error(401, "authentication_error", "invalid x-api-key"))
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": fake_anthropic.base_url}
    done = cli("--db", str(path), "replay", "trip", env=env)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "401 authentication_error" in done.stderr
    assert KEY not in done.stderr
    with SQLiteStore(path) as store:
        assert list(store.names()) == ["trip"]


def test_an_adapter_that_is_not_installed_or_has_no_model_is_refused(tree: Tree) -> None:
    unknown = cli("--db", str(tree.path), "replay", "trip", "--adapter", "nope")
    assert unknown.returncode == 1
    assert "no adapter named 'nope' is installed" in unknown.stderr
    openai = {"OPENAI_API_KEY": "sk-fake-openai-key"}
    no_model = cli("--db", str(tree.path), "replay", "trip", "--adapter", "openai", env=openai)
    assert no_model.returncode == 1
    assert "name one with --model M" in no_model.stderr
    no_key = cli("--db", str(tree.path), "replay", "trip", "--adapter", "anthropic")
    assert no_key.returncode == 1
    assert "ANTHROPIC_API_KEY" in no_key.stderr
    for done in (unknown, no_model, no_key):
        assert done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
