"""``chat`` as a person uses it: typed into a real terminal (tmux), the screen read back,
and the store checked after each step (SQLiteStore on the same file)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from conversation import Conversation
from conversation.cli._style import Style
from conversation.cli._tree import draw_tree
from conversation.store import SQLiteStore, open_store
from tests.adapters.fake_api import (
    UNTIL_STOPPED,
    Error,
    FakeMessagesAPI,
    Stream,
    make_message,
    stream_events,
)
from tests.adapters.openai.fake_chat import completion, install, stream
from tests.conversation.cli.running import Terminal, Tree, cli, need_tmux

KEY = "sk-ant-fake-key-for-the-chat-tests-0000"
MODEL = "claude-sonnet-4-5"


def start(folder: Path, *args: str, env: dict[str, str] | None = None) -> Terminal:
    """``chat`` over ``folder/chats.db`` in a terminal of its own, at its first prompt."""
    need_tmux()
    return Terminal(folder, "--db", str(folder / "chats.db"), "chat", *args, env=env)


def stored(folder: Path, name: str = "chat/1") -> Conversation:
    with SQLiteStore(folder / "chats.db") as store:
        return store.load(name)


def texts(c: Conversation) -> list[str]:
    return [turn.text for turn in c]


def online(api: FakeMessagesAPI) -> dict[str, str]:
    """The environment that makes the chat pick Anthropic, reached at the fake API."""
    return {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": api.base_url}


def test_offline_it_says_so_streams_replies_and_saves_each_turn(tmp_path: Path) -> None:
    """No API key: one line says the model is offline; each exchange is in the store as
    soon as the next prompt shows; Up recalls a line (readline); Ctrl-D leaves, status 0."""
    with start(tmp_path) as chat:
        opening = chat.wait("[1] you>")
        assert "offline: no ANTHROPIC_API_KEY" in opening
        assert "--adapter NAME" in opening
        assert "as chat/1" in opening
        chat.enter("Hello there", "[2] scripted> You said: Hello there")
        chat.wait("[3] you>")
        first = stored(tmp_path)
        assert texts(first) == ["Hello there", "You said: Hello there"]
        assert first[1].provenance is not None
        assert not first[1].synthetic
        chat.enter("How   are you?", "[4] scripted> You said: How are you?")
        chat.wait("[5] you>")
        assert "\x1b[" in chat.screen(colour=True)  # a terminal, NO_COLOR unset: colour
        chat.keys("Up", "Enter")  # readline: the line before, said again
        chat.wait("[6] scripted> You said: How are you?")
        chat.wait("[7] you>")
        chat.keys("C-d")
        assert chat.status() == 0
    both = stored(tmp_path)
    assert texts(both)[2:] == ["How   are you?", "You said: How are you?"] * 2
    assert both[:2] == first  # the second exchange went on from the first, as saved


def test_undo_drops_the_last_exchange_and_tree_draws_the_fork(tmp_path: Path) -> None:
    """/undo moves back before the last user turn (the exchange stays stored); what is
    said next forks there, and /tree draws that as ``show`` does."""
    with start(tmp_path) as chat:
        chat.enter("one", "[3] you>")
        chat.enter("two", "[5] you>")
        four = stored(tmp_path)
        undone = chat.enter("/undo", "[3] you>")
        assert f"still stored as {four.id[:12]}" in undone
        assert stored(tmp_path) == four[:2]
        with SQLiteStore(tmp_path / "chats.db") as store:
            assert four.id in store.leaves()
        chat.enter("three", "[5] you>")
        drawn = chat.enter("/tree", "[5] you>")
        chat.enter("/quit")
        assert chat.status() == 0
    with SQLiteStore(tmp_path / "chats.db") as store:
        lines = draw_tree(store, store.load("chat/1"), Style(False))
    assert len(lines) == 3
    assert lines[1].startswith("├── ")
    assert lines[2].startswith("└── ")
    for line in lines:
        assert line in drawn
    assert lines[1].endswith("assistant: You said: two")  # oldest first
    assert lines[2].endswith("assistant: You said: three [chat/1]")


def test_edit_writes_a_user_turn_again_on_a_new_branch(tmp_path: Path) -> None:
    """/edit N TEXT: a new branch from turn N with its own reply; the old branch stays."""
    with start(tmp_path) as chat:
        chat.enter("Plan a trip", "[3] you>")
        chat.enter("Three days", "[5] you>")
        old = stored(tmp_path)
        chat.enter("/edit 3 A week", "[4] scripted> You said: A week")
        chat.wait("[5] you>")
        edited = stored(tmp_path)
        assert texts(edited)[2:] == ["A week", "You said: A week"]
        assert edited[:2] == old[:2]
        with SQLiteStore(tmp_path / "chats.db") as store:
            assert store.children(old[:2].id) == [old[:3].id, edited[:3].id]
        refused = chat.enter("/edit 2 not mine", "[5] you>")
        assert "error: turn 2 is not one of yours: /edit takes one of 1, 3" in refused
        fresh = chat.enter("/edit 1 Hello", "[3] you>")
        assert f"/switch {edited.id[:12]} goes back" in fresh
        chat.keys("C-d")
        assert chat.status() == 0
    assert texts(stored(tmp_path)) == ["Hello", "You said: Hello"]


def test_branch_switch_and_save_name_where_the_chat_is(tmp_path: Path) -> None:
    """/branch names the head and follows the chat; /switch goes to another branch (by
    name: following it; by id: on no name); /save names the head and stays; a taken name
    is refused."""
    with start(tmp_path) as chat:
        chat.enter("Hi", "[3] you>")
        chat.enter("/branch alt", "on branch alt now (chat/1 stays where it was)")
        chat.enter("On alt", "[5] you>")
        alt = stored(tmp_path, "alt")
        assert texts(alt)[2] == "On alt"
        assert len(stored(tmp_path)) == 2
        chat.enter("/switch chat/1", "switched to chat/1 (2 turns)")
        chat.wait("[3] you>")
        chat.enter("On main", "[5] you>")
        chat.enter("/save keep", "saved as keep")
        chat.enter("later", "[7] you>")
        switched = chat.enter(f"/switch {alt.id[:10]}", "[5] you>")
        assert "[4] scripted> You said: On alt" in switched
        assert "not on a named branch: /branch NAME names it" in switched
        refused = chat.enter("/branch keep", "[5] you>")
        assert "error: the name 'keep' is taken: /switch keep goes there" in refused
        chat.enter("/quit")
        assert chat.status() == 0
    assert stored(tmp_path, "alt") == alt
    assert texts(stored(tmp_path, "keep"))[2:] == ["On main", "You said: On main"]
    assert texts(stored(tmp_path))[4:] == ["later", "You said: later"]


def test_resume_goes_on_with_a_stored_branch(tree: Tree) -> None:
    """--resume NAME shows the last exchange and carries on; the name follows the chat.
    (With NO_COLOR set: no colour, though this is a terminal.)"""
    folder = tree.path.parent
    with start(folder, "--resume", "trip", env={"NO_COLOR": "1"}) as chat:
        opening = chat.wait("[5] you>")
        assert "as trip;" in opening
        assert "(turns 1-2 before: /tree draws the branches)" in opening
        assert "[3] you> Yes, three" in opening
        assert "[4] assistant> Day 1: Alfama" in opening  # a synthetic turn: no model
        chat.enter("And day 2?", "[6] scripted> You said: And day 2?")
        chat.wait("[7] you>")
        assert "\x1b[" not in chat.screen(colour=True)
        chat.keys("C-c")  # at the prompt: leaves
        assert chat.status() == 0
    resumed = stored(folder, "trip")
    assert resumed[:4] == tree.trip
    assert texts(resumed)[4:] == ["And day 2?", "You said: And day 2?"]


def test_resuming_what_is_not_stored_is_one_sentence(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "chat", "--resume", "nowhere", input="")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1
    assert "conversation ls" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_api_error_is_one_sentence_and_the_chat_goes_on(
    tmp_path: Path, fake_anthropic: FakeMessagesAPI
) -> None:
    """With a key, Anthropic answers (here the fake API over a real socket): a streamed
    reply, then a refused request (400): one line on how to go on, the user's turn kept;
    /retry sends it again."""
    fake_anthropic.queue(
        Stream(text="Hello from the fake model", text_chunk=4),
        Error(400, "invalid_request_error", "messages: too long, somehow"),
        Stream(text="Second try"),
    )
    with start(tmp_path, env=online(fake_anthropic)) as chat:
        opening = chat.wait("[1] you>")
        assert f"chat with {MODEL} (anthropic)" in opening
        assert "offline" not in opening
        chat.enter("Hi", f"[2] {MODEL}> Hello from the fake model")
        chat.wait("[3] you>")
        failed = chat.enter("Again", "[4] you>")
        (line,) = [line for line in failed.splitlines() if line.startswith("error:")]
        assert "the model did not answer (400 invalid_request_error" in line
        assert line.endswith("/retry asks again, /undo drops your message")
        assert texts(stored(tmp_path))[2:] == ["Again"]  # saved before it was sent
        chat.enter("/retry", f"[4] {MODEL}> Second try")
        chat.wait("[5] you>")
        chat.keys("C-d")
        assert chat.status() == 0
        assert KEY not in chat.screen()
    assert texts(stored(tmp_path)) == ["Hi", "Hello from the fake model", "Again", "Second try"]
    bodies = [request.json for request in fake_anthropic.requests]
    assert [body["stream"] for body in bodies] == [True] * 3
    assert {body["model"] for body in bodies} == {MODEL}
    assert bodies[1]["messages"] == bodies[2]["messages"]  # /retry sent the same again
    assert all(request.headers["x-api-key"] == KEY for request in fake_anthropic.requests)


def test_a_reply_cut_off_mid_stream_is_kept_and_retry_lets_it_go_on(
    tmp_path: Path, fake_anthropic: FakeMessagesAPI
) -> None:
    """An error event after the reply began: what arrived is saved (marked interrupted);
    /retry sends it back as a prefill, and the continuation joins the same turn."""
    fake_anthropic.queue(
        Stream(
            text="The first half and the second half",
            cut_after=5,  # message_start, block start, ping, two deltas
            error_event={"type": "overloaded_error", "message": "Overloaded"},
        ),
        Stream(text="nd the second half"),
    )
    with start(tmp_path, env=online(fake_anthropic)) as chat:
        cut = chat.enter("Tell me", "[3] you>")
        assert "error: the reply was cut off (" in cut
        assert "what arrived is kept: /retry lets it go on" in cut
        partial = stored(tmp_path)
        assert partial[1].text == "The first half a"
        assert partial[1].provenance is not None
        assert partial[1].provenance.interrupted
        chat.enter("/retry", f"[2] {MODEL}> nd the second half")
        chat.wait("[3] you>")
        chat.enter("/quit")
        assert chat.status() == 0
    whole = stored(tmp_path)
    assert texts(whole) == ["Tell me", "The first half and the second half"]
    retried = fake_anthropic.requests[1].json["messages"]
    assert retried[-1] == {"role": "assistant", "content": "The first half a"}


def _hanging_stream(text: str, shown: int) -> Stream:
    """A stream that sends its first ``shown`` text deltas at once and the rest never
    (not before the server stops): a reply caught mid-way, whatever the timing."""
    events = stream_events(make_message(text, model=MODEL, id="msg_slow"), text_chunk=16)
    frames = [f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events]
    first = 3 + shown  # message_start, content_block_start, ping, the deltas shown
    return Stream(frames=[b"".join(frames[:first]), *frames[first:]], pause=UNTIL_STOPPED)


def test_ctrl_c_stops_a_streaming_reply_and_keeps_what_arrived(
    tmp_path: Path, fake_anthropic: FakeMessagesAPI
) -> None:
    """Ctrl-C while a reply streams: the reply stops, what was shown is saved as an
    interrupted turn, and the chat goes on with the whole history."""
    fake_anthropic.queue(
        _hanging_stream("Once upon a time, there was a store of conversations.", 1),
        Stream(text="Gladly."),
    )
    with start(tmp_path, env=online(fake_anthropic)) as chat:
        chat.enter("A story, please", f"[2] {MODEL}> Once upon a time")
        chat.keys("C-c")
        stopped = chat.wait("[3] you>")
        assert "stopped: what arrived is kept" in stopped
        cut = stored(tmp_path)
        assert cut[1].text == "Once upon a time"
        assert cut[1].provenance is not None
        assert cut[1].provenance.interrupted
        assert cut[1].provenance.id == "msg_slow"
        chat.enter("Go on", f"[4] {MODEL}> Gladly.")
        chat.wait("[5] you>")
        chat.keys("C-d")
        assert chat.status() == 0
    assert texts(stored(tmp_path)) == ["A story, please", "Once upon a time", "Go on", "Gladly."]
    sent = fake_anthropic.requests[1].json["messages"]
    assert sent[1] == {"role": "assistant", "content": "Once upon a time"}


def test_chat_reads_piped_lines_without_colour(tmp_path: Path) -> None:
    """Lines piped in (no terminal): the same chat, plain text, and end of input leaves."""
    db = tmp_path / "chats.db"
    done = cli("--db", str(db), "chat", "--system", "Be brief", input="Hi\n/tree\n")
    assert done.returncode == 0, done.stderr
    assert "You said: Hi" in done.stdout
    assert "\x1b" not in done.stdout
    with SQLiteStore(db) as store:
        c = store.load("chat/1")
    assert c.system == "Be brief"
    assert texts(c) == ["Hi", "You said: Hi"]


def test_chat_keeps_its_history_in_a_postgresql_store(postgres_url: str) -> None:
    """``--db postgresql://...``: the turns go to a real server, the password never shown."""
    done = cli("--db", postgres_url, "chat", input="Hi\n/save pg\n")
    assert done.returncode == 0, done.stderr
    with open_store(postgres_url) as store:
        assert texts(store.load("chat/1")) == ["Hi", "You said: Hi"]
        assert store.names()["pg"] == store.names()["chat/1"]
    password = urlsplit(postgres_url).password
    assert not password or password not in done.stdout + done.stderr


def _with_password(url: str, password: str) -> list[str]:
    """``url`` (a server's, no password) given ``password`` in each place a URL holds one:
    in its userinfo, and as the ``password=`` query parameter."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.netloc.rpartition("@")[2]
    return [
        parts._replace(netloc=f"{user}:{password}@{host}").geturl(),
        parts._replace(netloc=f"{user}@{host}", query=f"password={password}").geturl(),
    ]


def test_the_chat_never_shows_the_store_password_in_either_place(postgres_url: str) -> None:
    """The greeting names the store with its password masked, given in the userinfo or in
    the query (the test server trusts local users, so any password is let in)."""
    password = "s3cret-chat-pw"
    for db in _with_password(postgres_url, password):
        done = cli("--db", db, "chat", input="Hi\n")
        assert done.returncode == 0, done.stderr
        assert "saved in postgresql://" in done.stdout
        assert "***" in done.stdout
        assert password not in done.stdout + done.stderr


def test_a_store_that_cannot_be_reached_is_named_without_its_password(tmp_path: Path) -> None:
    """A server that is not there (a closed port on this machine): ``chat`` and ``replay``
    say so in one sentence on stderr, and the password, in either place, is in none of it."""
    password = "s3cret-unreachable"
    for db in _with_password("postgresql://me@127.0.0.1:1/chats", password):
        for command in (("chat",), ("replay", "trip")):
            done = cli("--db", db, *command, input="Hi\n")
            assert done.returncode == 1
            assert done.stderr.splitlines()[-1].startswith("python -m conversation: error:")
            assert password not in done.stdout + done.stderr


def test_adapter_picks_any_installed_adapter_by_name(tmp_path: Path) -> None:
    """--adapter openai --model M: the registry's OpenAI adapter, here talking to a fake
    Chat Completions server over a real socket (OPENAI_BASE_URL, no key needed there)."""
    with install(FakeMessagesAPI()) as api:
        api.queue(stream(completion("Bonjour!", model="gpt-fake")))
        env = {"OPENAI_BASE_URL": api.base_url + "/v1"}
        args = ("--adapter", "openai", "--model", "gpt-fake")
        done = cli("--db", str(tmp_path / "chats.db"), "chat", *args, input="Salut\n", env=env)
        sent = api.requests[0].json
    assert done.returncode == 0, done.stderr
    assert "chat with gpt-fake (openai)" in done.stdout
    assert "[2] gpt-fake> Bonjour!" in done.stdout
    assert sent["model"] == "gpt-fake"
    assert sent["stream"] is True
    assert texts(stored(tmp_path)) == ["Salut", "Bonjour!"]


def test_resuming_by_id_a_turn_with_no_reply_says_how_to_get_one(tree: Tree) -> None:
    """--resume ID of a branch that ends with the user's turn: no name follows the chat,
    and /retry asks for the missing reply (the new turn stored under the old branch)."""
    week = tree.week.id[:10]
    done = cli("--db", str(tree.path), "chat", "--resume", week, input="/retry\n")
    assert done.returncode == 0, done.stderr
    assert "(no name: /branch NAME)" in done.stdout
    assert "your last turn has no reply yet: /retry asks for one" in done.stdout
    with SQLiteStore(tree.path) as store:
        (leaf,) = store.children(tree.week.id)
        assert store.load(leaf)[-1].text == "You said: No, a week"


def test_a_name_the_store_refuses_leaves_the_chat_working(tmp_path: Path) -> None:
    """/branch with a name the store refuses (64 hex digits read as an id): one sentence,
    the chat stays on its branch, and what is said next is saved and answered."""
    db = tmp_path / "chats.db"
    refused = "ab" * 32
    lines = f"Hi\n/branch {refused}\nAfter\n/save {refused}\nLast\n"
    done = cli("--db", str(db), "chat", input=lines)
    assert done.returncode == 0, done.stderr
    errors = done.stderr.splitlines()
    assert len(errors) == 2
    for line, command in zip(errors, ("branch", "save"), strict=True):
        assert line.startswith(f"error: the name '{refused}' would read as a conversation id")
        assert line.endswith(f": /{command} takes another name")
    assert "on branch" not in done.stdout
    assert "You said: Last" in done.stdout
    with SQLiteStore(db) as store:
        assert set(store.names()) == {"chat/1"}
        assert texts(store.load("chat/1")) == [
            "Hi", "You said: Hi", "After", "You said: After", "Last", "You said: Last",
        ]  # fmt: skip


FLAKY = """\
\"\"\"A third party's adapter: it streams part of a reply, then its connection drops.\"\"\"

from adapters import MessageStart, TextDelta
from conversation import AdapterError


class FlakyError(AdapterError):
    \"\"\"The provider's connection dropped (an AdapterError of the third party's own).\"\"\"


class FlakyStream:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def close(self):
        return None

    def __iter__(self):
        yield MessageStart(id="msg_flaky", model="flaky-1")
        yield TextDelta(index=0, text="Half of ")
        yield TextDelta(index=0, text="a reply")
        raise FlakyError("the connection to flaky.example dropped")


class FlakyAdapter:
    def send(self, conversation, /, **options):
        raise FlakyError("the connection to flaky.example dropped")

    async def asend(self, conversation, /, **options):
        raise FlakyError("the connection to flaky.example dropped")

    def stream(self, conversation, /, **options):
        return FlakyStream()
"""


def _install_flaky(folder: Path) -> dict[str, str]:
    """Install :data:`FLAKY` in ``folder`` as a distribution registering the adapter
    ``flaky`` (an entry point, as a third party declares one); the environment that
    puts it on the program's path."""
    folder.mkdir()
    (folder / "flaky_adapter.py").write_text(FLAKY)
    info = folder / "flaky_adapter-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flaky-adapter\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[conversation.adapters]\nflaky = flaky_adapter:FlakyAdapter\n"
    )
    return {"PYTHONPATH": str(folder)}


def test_a_third_party_error_mid_stream_keeps_what_arrived(tmp_path: Path) -> None:
    """An installed adapter whose stream raises its own AdapterError after some text: the
    text is saved as an interrupted reply (its id and model kept), the error is one
    sentence saying so, and the chat goes on."""
    env = _install_flaky(tmp_path / "site")
    db = tmp_path / "chats.db"
    args = ("--adapter", "flaky", "--model", "flaky-1")
    done = cli("--db", str(db), "chat", *args, input="Hi\nAgain\n", env=env)
    assert done.returncode == 0, done.stderr
    assert "[2] flaky-1> Half of a reply" in done.stdout
    errors = done.stderr.splitlines()
    assert len(errors) == 2
    for line in errors:
        assert line.startswith("error: the reply was cut off (the connection to flaky.example")
        assert line.endswith("what arrived is kept: /retry lets it go on")
    with SQLiteStore(db) as store:
        kept = store.load("chat/1")
    assert texts(kept) == ["Hi", "Half of a reply", "Again", "Half of a reply"]
    for turn in (kept[1], kept[3]):
        assert turn.provenance is not None
        assert turn.provenance.interrupted
        assert turn.provenance.id == "msg_flaky"
