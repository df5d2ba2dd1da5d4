"""The SQLite store's own behaviour: its file, schema and rows, locks, and damaged files.

The rest of its behaviour is the protocol suite's (the other modules here). These
tests open the file with the stdlib ``sqlite3`` module to count, read and damage
rows, and never go through the store to check what it wrote.
"""

from __future__ import annotations

import resource
import signal
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from functools import partial
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conversation import Conversation, ConversationError, MalformedInputError
from conversation.store import (
    CorruptStoreError,
    NotAStoreError,
    NotFoundError,
    SQLiteStore,
    Store,
    StoreBusyError,
    StoreError,
    StoreVersionError,
)
from conversation.store._schema import FORMAT, SCHEMA_VERSION
from tests.conversation.store.model import StoreModel, Tree, conversation_trees, metadatas
from tests.limits import time_limit

TABLES = ("store_info", "segments", "nodes", "metadata", "heads", "names")
SQLITE_HEADER = b"SQLite format 3\x00"

BASE = Conversation(system="Be brief.").user("Where to?").assistant("Lisbon or Porto?")
LONG = BASE.user("Lisbon").assistant("Trams!").user("And food?").assistant("Pastéis.")
TRIP = LONG.with_metadata(title="trip")


# A hang inside SQLite's C code is beyond time_limit (a signal handler runs between Python
# steps): pytest-timeout's thread method ends the run there, with every thread's stack.
HANG_GUARD = pytest.mark.timeout(120, method="thread")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """Where a test's store file goes (not made yet)."""
    return tmp_path / "store.db"


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """The store's file opened with the stdlib sqlite3 module, committed on leaving."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def count(path: Path, table: str) -> int:
    with raw(path) as db:
        found: int = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return found


def counts(path: Path) -> dict[str, int]:
    return {table: count(path, table) for table in TABLES}


def saved(path: Path, *conversations: Conversation) -> None:
    """A store file at ``path`` holding ``conversations``."""
    with SQLiteStore(path) as store:
        for c in conversations:
            store.save(c)


def files_at(path: Path) -> dict[str, bytes]:
    """The bytes of the file at ``path`` and of any journal SQLite keeps beside it."""
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


# -- the file ------------------------------------------------------------------------------


class TestFile:
    def test_a_file_store_runs_in_wal_mode(self, path: Path) -> None:
        """WAL: readers never wait for a writer (see TestLocks)."""
        saved(path, BASE)
        with raw(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    def test_the_format_and_schema_version_are_recorded(self, path: Path) -> None:
        saved(path)
        with raw(path) as db:
            info = dict(db.execute("SELECT key, value FROM store_info"))
        assert info == {"format": FORMAT, "schema": str(SCHEMA_VERSION)}
        assert SCHEMA_VERSION == 1

    def test_a_reopened_store_holds_everything(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            store.save(LONG.with_metadata(title="trip"), name="trip")
            store.save(BASE.user("Porto"))
        with SQLiteStore(str(path)) as store:
            assert store.load("trip") == LONG.with_metadata(title="trip")
            assert store.load(BASE.user("Porto").id) == BASE.user("Porto")
            assert store.names() == {"trip": LONG.id}

    def test_as_a_context_manager_it_closes(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            store.save(BASE)
        with pytest.raises(StoreError, match="closed"):
            store.load(BASE.id)
        assert "closed" in repr(store)
        assert str(path) in repr(store)

    def test_memory_stores_are_apart(self) -> None:
        with SQLiteStore() as one, SQLiteStore(":memory:") as two:
            one.save(BASE)
            assert BASE.id not in two

    @pytest.mark.parametrize("timeout", [-1, "5", True, None])
    def test_a_timeout_is_seconds(self, path: Path, timeout: object) -> None:
        with pytest.raises(MalformedInputError, match="timeout"):
            SQLiteStore(path, timeout=timeout)  # type: ignore[arg-type]
        assert not path.exists()

    @pytest.mark.parametrize("where", [3, None, b"store.db"])
    def test_a_path_is_a_path(self, where: object) -> None:
        with pytest.raises(MalformedInputError, match="path"):
            SQLiteStore(where)  # type: ignore[arg-type]

    def test_a_directory_is_not_a_store(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match=str(tmp_path)):
            SQLiteStore(tmp_path)

    def test_mypy_and_isinstance_see_a_store(self, path: Path) -> None:
        store: Store = SQLiteStore(path)  # mypy checks the assignment
        assert isinstance(store, Store)
        store.close()


# -- rows ------------------------------------------------------------------------------------


class TestRows:
    def test_one_turn_longer_writes_one_node_and_at_most_one_segment(self, path: Path) -> None:
        saved(path, LONG)
        before = counts(path)
        saved(path, LONG.user("More?"))
        after = counts(path)
        assert after["nodes"] == before["nodes"] + 1
        assert after["segments"] == before["segments"]  # it continues the segment
        saved(path, LONG.user("Else?"))  # a branch: one node, one new segment
        assert count(path, "nodes") == before["nodes"] + 2
        assert count(path, "segments") == before["segments"] + 1

    def test_saving_twice_writes_nothing(self, path: Path) -> None:
        saved(path, LONG.with_metadata(n=1))
        before = counts(path)
        saved(path, LONG.with_metadata(n=1), LONG[:2])
        assert counts(path) == {**before, "heads": before["heads"] + 1}  # LONG[:2] a head now
        saved(path, LONG[:2], LONG.with_metadata(n=1))
        assert counts(path) == {**before, "heads": before["heads"] + 1}

    def test_a_root_and_each_turn_is_one_row(self, path: Path) -> None:
        saved(path, LONG)
        assert count(path, "nodes") == 1 + len(LONG)
        assert count(path, "segments") == 1

    def test_branches_share_their_history(self, path: Path) -> None:
        """1,000 one-turn branches off a 200-turn history: 1 root + 200 + 1,000 rows."""
        history = Conversation(system="long")
        for k in range(200):
            history = history.user(f"q{k}") if k % 2 == 0 else history.assistant(f"a{k}")
        saved(path, history, *(history.user(f"branch {k}") for k in range(1000)))
        assert count(path, "nodes") == 1 + 200 + 1000
        with raw(path) as db:
            deepest = db.execute("SELECT max(depth + last) FROM segments").fetchone()
            assert deepest == (201,)

    def test_metadata_is_kept_once(self, path: Path) -> None:
        saved(path, *(BASE.user(f"q{k}").with_metadata(title="same") for k in range(5)))
        assert count(path, "metadata") == 1
        saved(path, BASE.user("other"))  # no metadata: no row
        assert count(path, "metadata") == 1

    def test_delete_drops_metadata_nobody_uses(self, path: Path) -> None:
        a = BASE.user("a")
        with SQLiteStore(path) as store:
            store.save(BASE.with_metadata(n=0))
            store.save(a.with_metadata(n=1))
            store.save(a.user("b").with_metadata(n=2))
            assert count(path, "metadata") == 3
            store.delete(a.user("b").id)
            assert count(path, "metadata") == 2
            store.delete(a.id)
            assert count(path, "metadata") == 1
            store.delete(BASE.id)
        assert {t: n for t, n in counts(path).items() if n} == {"store_info": 2}

    def test_saving_again_with_other_metadata_keeps_no_stale_row(self, path: Path) -> None:
        with SQLiteStore(path) as store:
            store.save(BASE.with_metadata(n=0))
            for k in range(1, 5):
                store.save(BASE.with_metadata(n=k))
            assert store.load(BASE.id).metadata == {"n": 4}
        assert count(path, "metadata") == 2  # the node's (n=0) and the head's (n=4)

    @given(conversation_trees(max_steps=10), st.data())
    @settings(max_examples=40)
    def test_no_row_outlives_its_use(
        self, tmp_path_factory: pytest.TempPathFactory, tree: Tree, data: st.DataObject
    ) -> None:
        """After saves and deletes: a node row per stored node, no empty segment, no metadata
        or head row that nothing refers to, every segment's last node stored."""
        path = tmp_path_factory.mktemp("rows") / "store.db"
        model = StoreModel()
        nodes = range(len(tree.nodes))
        with SQLiteStore(path) as store:
            for i in data.draw(st.lists(st.sampled_from(nodes), min_size=1)):
                store.save(model.save(tree.nodes[i], data.draw(metadatas)))
            for i in data.draw(st.lists(st.sampled_from(nodes))):
                if model.delete(tree.nodes[i].id):
                    store.delete(tree.nodes[i].id)
        with raw(path) as db:
            assert count(path, "nodes") == len(model.present)
            assert count(path, "heads") == len(model.heads)
            unused = db.execute(
                "SELECT count(*) FROM metadata WHERE meta NOT IN (SELECT meta FROM nodes"
                " WHERE meta IS NOT NULL UNION SELECT meta FROM heads WHERE meta IS NOT NULL)"
            ).fetchone()
            assert unused == (0,)
            broken = db.execute(
                "SELECT count(*) FROM segments AS s WHERE NOT EXISTS"
                " (SELECT 1 FROM nodes AS n WHERE n.key = (s.seg << 32) + s.last)"
            ).fetchone()
            assert broken == (0,)


# -- locks -----------------------------------------------------------------------------------


@contextmanager
def writer_holding_the_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection inside a write transaction on the file, until the block ends."""
    with raw(path) as db:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO names (name, id) VALUES ('held', x'00')")
        yield db
        db.execute("ROLLBACK")


@contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Writes past ``size`` bytes of any file fail (EFBIG) in this process, for the block."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


class TestLocks:
    def test_a_save_while_another_writer_holds_the_lock_is_busy(self, path: Path) -> None:
        with SQLiteStore(path, timeout=0) as store:
            store.save(BASE)
            with writer_holding_the_lock(path):
                with pytest.raises(StoreBusyError, match="locked") as caught:
                    store.save(LONG)
                assert str(path) in str(caught.value)
                with pytest.raises(StoreBusyError):
                    store.delete(BASE.id)
                # Readers do not wait for a writer.
                assert store.load(BASE.id) == BASE
                assert store.leaves() == [BASE.id]
            assert store.save(LONG) == LONG.id  # the lock gone, the store works on
            assert store.load(LONG.id) == LONG

    def test_a_save_failing_at_its_last_statement_leaves_the_store_usable(self, path: Path) -> None:
        """Another program's trigger refuses the save's last write: nothing of that save is
        kept, and the next calls work (the transaction was rolled back)."""
        with SQLiteStore(path, timeout=0) as store:
            store.save(BASE)
            with raw(path) as db:
                db.execute(
                    "CREATE TRIGGER refuse AFTER INSERT ON heads"
                    " BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )
            with pytest.raises(StoreError, match="refused by a trigger"):
                store.save(LONG)
            assert LONG.id not in store
            assert store.load(BASE.id) == BASE
            with raw(path) as db:
                db.execute("DROP TRIGGER refuse")
            assert store.save(LONG) == LONG.id
            assert store.load(LONG.id) == LONG
            assert store.leaves() == [LONG.id]

    def test_a_failed_commit_leaves_the_store_usable(self, path: Path) -> None:
        """The disk fills up at COMMIT (a file size limit: writing the WAL fails): the save
        raises a StoreError, keeps nothing, and the next save works."""
        with SQLiteStore(path) as store:
            store.save(BASE)
            big = BASE
            for k in range(60):
                big = big.user(f"{k} " + "many words " * 100)
            limit = max(p.stat().st_size for p in path.parent.iterdir())
            with (
                file_size_limit(limit),
                pytest.raises(StoreError, match="disk is full or failing"),
            ):
                store.save(big)
            assert big.id not in store
            assert store.load(BASE.id) == BASE
            assert store.save(big) == big.id
            assert store.load(big.id) == big

    def test_opening_a_store_does_not_wait_for_a_writer(self, path: Path) -> None:
        saved(path, BASE)
        with writer_holding_the_lock(path), SQLiteStore(path, timeout=0) as store:
            assert store.load(BASE.id) == BASE


# -- files that are not stores ---------------------------------------------------------------


def assert_refused_untouched(path: Path, *errors: type[StoreError]) -> StoreError:
    """Opening ``path`` raises one of ``errors``, and leaves the file as it was."""
    before = path.read_bytes()
    with time_limit(), pytest.raises(errors) as caught:
        SQLiteStore(path)
    assert path.read_bytes() == before
    return caught.value


@HANG_GUARD
class TestNotAStore:
    def test_an_empty_file_becomes_a_store(self, path: Path) -> None:
        path.touch()
        saved(path, BASE)
        with SQLiteStore(path) as store:
            assert store.load(BASE.id) == BASE

    @given(st.binary(min_size=1, max_size=5000))
    @example(b"x")
    @example(b"\x00" * 4096)
    @example(SQLITE_HEADER)
    @settings(max_examples=60)
    def test_a_file_of_random_bytes_is_refused(
        self, tmp_path_factory: pytest.TempPathFactory, data: bytes
    ) -> None:
        """NotAStoreError (or CorruptStoreError), never another error, never a hang, and the
        file is left as it was."""
        path = tmp_path_factory.mktemp("bytes") / "random.db"
        path.write_bytes(data)
        error = assert_refused_untouched(path, NotAStoreError, CorruptStoreError)
        assert str(path) in str(error)

    @given(st.binary(min_size=1, max_size=8000))
    @settings(max_examples=60)
    def test_a_sqlite_header_over_random_bytes_is_refused(
        self, tmp_path_factory: pytest.TempPathFactory, data: bytes
    ) -> None:
        path = tmp_path_factory.mktemp("header") / "random.db"
        path.write_bytes(SQLITE_HEADER + data)
        assert_refused_untouched(path, NotAStoreError, CorruptStoreError)

    def test_a_database_of_another_application_is_refused(self, path: Path) -> None:
        with raw(path) as db:
            db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, body TEXT)")
            db.execute("INSERT INTO messages (body) VALUES ('hello')")
        error = assert_refused_untouched(path, NotAStoreError)
        assert "messages" in str(error)

    def test_another_applications_store_info_table_is_refused(self, path: Path) -> None:
        with raw(path) as db:
            db.execute("CREATE TABLE store_info (id INTEGER PRIMARY KEY, data BLOB)")
        assert_refused_untouched(path, NotAStoreError)

    def test_a_store_info_of_another_format_is_refused(self, path: Path) -> None:
        with raw(path) as db:
            db.execute("CREATE TABLE store_info (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            db.execute("INSERT INTO store_info VALUES ('format', 'other'), ('schema', '1')")
        assert_refused_untouched(path, NotAStoreError)

    def test_a_store_of_a_newer_schema_is_refused(self, path: Path) -> None:
        saved(path, BASE)
        with raw(path) as db:
            db.execute("UPDATE store_info SET value = '99' WHERE key = 'schema'")
        error = assert_refused_untouched(path, StoreVersionError)
        assert "99" in str(error)
        assert "upgrade" in str(error)

    @given(st.text(max_size=8) | st.integers(-5, 5).map(str) | st.just("9" * 5000))
    @example("0")
    @example("²")
    @example("01")
    @settings(max_examples=60)
    def test_any_schema_value_opens_or_is_refused_clearly(
        self, tmp_path_factory: pytest.TempPathFactory, value: str
    ) -> None:
        path = tmp_path_factory.mktemp("schema") / "store.db"
        saved(path, BASE)
        with raw(path) as db:
            db.execute("UPDATE store_info SET value = ? WHERE key = 'schema'", (value,))
        if value.isascii() and value.isdigit() and value.lstrip("0") == str(SCHEMA_VERSION):
            with SQLiteStore(path) as store:
                assert store.load(BASE.id) == BASE
            return
        assert_refused_untouched(path, StoreVersionError, CorruptStoreError)


# -- damaged rows ----------------------------------------------------------------------------


def damaged(path: Path, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    """Store TRIP and BASE.user("Porto") at ``path``, then run ``statements`` on the file."""
    with SQLiteStore(path) as store:
        store.save(TRIP, name="trip")
        store.save(BASE.user("Porto"))
    with raw(path) as db:
        for statement in statements:
            db.execute(statement, parameters if "?" in statement else ())


def node_id(c: Conversation) -> bytes:
    return bytes.fromhex(c.id)


NODE = "substr(data, 1, 32) = ?"
"""Where a node's row is: its data starts with its id."""


def node_data(c: Conversation, data: bytes) -> bytes:
    """The row data of ``c``'s last node holding ``data`` as its JSON."""
    return node_id(c) + data


@HANG_GUARD
class TestDamagedRows:
    def test_a_changed_turn_is_found_and_named(self, path: Path) -> None:
        """The row of turn 3 says something else: LONG no longer hashes to its id."""
        damaged(
            path,
            f"UPDATE nodes SET data = ? WHERE {NODE}",
            parameters=(node_data(LONG[:4], b'["assistant","Buses!"]'), node_id(LONG[:4])),
        )
        with SQLiteStore(path) as store:
            with pytest.raises(CorruptStoreError, match=f"turn 3 \\(id {LONG[:4].id}\\)"):
                store.load(LONG.id)
            with pytest.raises(CorruptStoreError):
                store.load(LONG[:4].id)
            assert store.load(LONG[:3].id) == TRIP[:3]  # what comes before is whole
            assert store.load(BASE.user("Porto").id) == BASE.user("Porto")

    def test_a_changed_system_prompt_is_found(self, path: Path) -> None:
        damaged(
            path,
            f"UPDATE nodes SET data = ? WHERE {NODE}",
            parameters=(node_data(LONG[:0], b'"Be long."'), node_id(LONG[:0])),
        )
        with SQLiteStore(path) as store, pytest.raises(CorruptStoreError, match="root"):
            store.load(LONG.id)

    @pytest.mark.parametrize(
        "value",
        [
            "x" * 32 + '["assistant","Trams!"]',
            5,
            1.5,
            b"",
            b"short",
            node_data(LONG[:4], b""),
            node_data(LONG[:4], b"["),
            node_data(LONG[:4], b"not json"),
        ],
        ids=repr,
    )
    def test_a_turn_row_of_another_type_or_shape_is_found(self, path: Path, value: object) -> None:
        """Text where bytes belong, numbers, bytes too short for an id or not a turn's JSON."""
        damaged(
            path, f"UPDATE nodes SET data = ? WHERE {NODE}", parameters=(value, node_id(LONG[:4]))
        )
        with SQLiteStore(path) as store, pytest.raises(CorruptStoreError):
            store.load(LONG.id)

    def test_a_missing_middle_row_is_found(self, path: Path) -> None:
        damaged(path, f"DELETE FROM nodes WHERE {NODE}", parameters=(node_id(LONG[:3]),))
        with SQLiteStore(path) as store:
            with pytest.raises(CorruptStoreError, match="turns"):
                store.load(LONG.id)
            with pytest.raises(CorruptStoreError):
                store.load("trip")
            with pytest.raises(NotFoundError):
                store.load(LONG[:3].id)

    def test_a_missing_root_row_is_found(self, path: Path) -> None:
        damaged(path, f"DELETE FROM nodes WHERE {NODE}", parameters=(node_id(LONG[:0]),))
        with SQLiteStore(path) as store, pytest.raises(CorruptStoreError):
            store.load(LONG.id)

    def test_a_missing_segment_is_found(self, path: Path) -> None:
        damaged(path, "DELETE FROM segments WHERE parent_seg IS NOT NULL")
        with SQLiteStore(path) as store, pytest.raises(CorruptStoreError):
            store.load(BASE.user("Porto").id)

    def test_segments_in_a_loop_are_found_without_a_hang(self, path: Path) -> None:
        damaged(path, "UPDATE segments SET parent_seg = seg, parent_pos = 0")
        with SQLiteStore(path) as store, time_limit():
            with pytest.raises(CorruptStoreError):
                store.load(BASE.user("Porto").id)
            with suppress(CorruptStoreError):  # a loop is ignored, or found
                store.leaves(BASE[:0].id)
            with suppress(CorruptStoreError):
                store.leaves()

    def test_changed_metadata_is_found(self, path: Path) -> None:
        damaged(path, "UPDATE metadata SET data = ?", parameters=(b'{"title":"work"}',))
        with SQLiteStore(path) as store:
            with pytest.raises(CorruptStoreError, match="metadata"):
                store.load("trip")
            assert store.load(BASE.user("Porto").id) == BASE.user("Porto")

    def test_missing_metadata_is_found(self, path: Path) -> None:
        damaged(path, "DELETE FROM metadata")
        with SQLiteStore(path) as store, pytest.raises(CorruptStoreError, match="metadata"):
            store.load("trip")


# -- damaged files ---------------------------------------------------------------------------


class Image:
    """A small store file's bytes (checkpointed: one file) and the conversations it holds."""

    def __init__(self, data: bytes, kept: list[Conversation]) -> None:
        self.data = data
        self.kept = kept

    def __repr__(self) -> str:  # short, for hypothesis's report of a failing example
        return f"<Image of {len(self.data)} bytes>"


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    path = tmp_path_factory.mktemp("image") / "image.db"
    kept = [
        TRIP,
        BASE.user("Porto"),
        Conversation(system=[{"type": "text", "text": "Other"}]).user("x" * 3000),
    ]
    kept += [BASE.user(f"branch {k}").assistant("ok" * k) for k in range(30)]
    with SQLiteStore(path) as store:
        for c in kept:
            store.save(c, name=f"n{len(c)}")
    assert not path.with_name("image.db-wal").exists()
    return Image(path.read_bytes(), kept)


def every_call(store: SQLiteStore, kept: list[Conversation]) -> Iterator[Callable[[], object]]:
    """Every read and write a program might make on the store."""
    for c in kept:
        for k in (len(c), len(c) // 2):
            yield partial(store.load, c[:k].id)
            yield partial(store.children, c[:k].id)
            yield partial(store.leaves, c[:k].id)
    yield store.leaves
    yield store.names
    yield lambda: [store.load(name) for name in store.names()]
    yield lambda: store.save(BASE.user("new"))
    yield lambda: store.delete(kept[1].id)


@HANG_GUARD
def assert_answers_truly_or_fails_clearly(path: Path, kept: list[Conversation]) -> None:
    """Open the damaged store at ``path`` (which held ``kept``) and make every call: each
    answers truly (a conversation's turns and system as saved) or raises a StoreError."""
    truth = {c.id: c for c in kept} | {c[: len(c) // 2].id: c[: len(c) // 2] for c in kept}
    with time_limit():
        try:
            store = SQLiteStore(path)
        except StoreError:
            return
        with closing(store):
            for call in every_call(store, kept):
                try:
                    found = call()
                except StoreError:
                    continue
                except ConversationError as exc:  # pragma: no cover - the test fails
                    raise AssertionError(f"not a StoreError: {exc!r}") from exc
                if isinstance(found, Conversation) and found.id in truth:
                    assert list(found) == list(truth[found.id])
                    assert found.system == truth[found.id].system


@HANG_GUARD
class TestDamagedFiles:
    @given(st.lists(st.tuples(st.integers(0, 2**31), st.integers(1, 255)), min_size=1))
    @settings(max_examples=60)
    def test_flipped_bytes_end_in_a_store_error_or_the_truth(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        image: Image,
        flips: list[tuple[int, int]],
    ) -> None:
        """Damage anywhere in a store file: every call answers truly (a load equal to what was
        saved) or raises a StoreError, never another error, never hangs."""
        data, kept = image.data, image.kept
        damaged_data = bytearray(data)
        for where, mask in flips:
            damaged_data[where % len(data)] ^= mask
        path = tmp_path_factory.mktemp("flips") / "store.db"
        path.write_bytes(bytes(damaged_data))
        assert_answers_truly_or_fails_clearly(path, kept)


COLUMNS = {
    "segments": ("seg", "parent_seg", "parent_pos", "depth", "last"),
    "nodes": ("key", "data", "meta"),
    "metadata": ("meta", "digest", "data"),
    "heads": ("head", "id", "meta"),
    "names": ("name", "id"),
    "store_info": ("key", "value"),
}
sqlite_values = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 40),
    st.floats(allow_nan=False),
    st.text(max_size=70),
    st.binary(max_size=70),
    st.sampled_from([b"[]", b'["user"]', b'["user","hi"]', b"{}", b"null", "1", "[]"]),
)
"""Any value a SQLite cell can hold, and a few a store's cells nearly hold."""


def set_cell(path: Path, table: str, column: str, row: int, value: object) -> bool:
    """Set one cell (of the row at offset ``row``) to ``value``; False when SQLite refuses."""
    with raw(path) as db:
        rows = db.execute(f"SELECT rowid FROM {table} ORDER BY rowid").fetchall()
        if not rows:
            return False
        try:
            db.execute(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, *rows[row % len(rows)])
            )
        except sqlite3.IntegrityError:
            return False
    return True


@HANG_GUARD
class TestDamagedCells:
    @given(
        st.sampled_from(sorted(COLUMNS)).flatmap(
            lambda table: st.tuples(st.just(table), st.sampled_from(COLUMNS[table]))
        ),
        st.integers(0, 100),
        sqlite_values,
    )
    @settings(max_examples=150)
    def test_any_cell_changed_ends_in_a_store_error_or_the_truth(
        self,
        tmp_path_factory: pytest.TempPathFactory,
        image: Image,
        cell: tuple[str, str],
        row: int,
        value: object,
    ) -> None:
        """One cell of any row set to any value, as another program could: every call answers
        truly or raises a StoreError, never another error, never hangs."""
        path = tmp_path_factory.mktemp("cells") / "store.db"
        path.write_bytes(image.data)
        if not set_cell(path, *cell, row, value):
            return
        assert_answers_truly_or_fails_clearly(path, image.kept)
