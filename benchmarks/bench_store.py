"""Figures 9-15: the SQLite store (``conversation.store.SQLiteStore``), beside LangChain's.

Every contender writes SQLite files in one temporary folder (deleted after),
with the store's own settings (journal mode, synchronous, page and cache size;
the output says which). The peer is LangChain's ``SQLChatMessageHistory``
(langchain-community, on SQLite through SQLAlchemy), doing the same work where
it can: a session per conversation, ``add_messages`` to save, ``add_message``
for one more turn, ``.messages`` to load. The histories are the agent history
of ``_data`` (every 10th exchange a ``tool_use`` answered by a ``tool_result``;
timed with the GC on, as programs run) and plain text turns.

Figures 11, 13 and 14 also run ``PostgresStore`` (rows ``postgres``, ratios
over the same SQLite floor) on a throwaway PostgreSQL server on 127.0.0.1
that ``_postgres.py`` starts with ``.ci/postgres`` (fsync on, commits not
waiting for their WAL flush, like the SQLite store's ``synchronous=NORMAL``);
figure 13 runs it one round. Without PostgreSQL or psycopg those rows say why.

9. Save a 10k-turn conversation into an empty store: ``store.save(c)`` on a
   fresh store and a freshly built ``c``. Floor: ``executemany`` of the same
   turns' JSON rows (``orjson.dumps`` of each wire message) into a bare table,
   one transaction. Target: at most 3x. Each contender's fastest call counts
   (tens of milliseconds a call, which a busy machine stretches at random).
10. Save one more turn: a conversation of 1k or 100k turns is saved, then each
    timed call saves it one turn longer (a chat growing turn by turn, the turn
    appended untimed), and, apart, a one-turn branch off it. Floor: one row
    inserted and committed. Target: the time at 100k at most 1.5x the time at
    1k (O(1)).
11. Load the conversation of 9: ``store.load(id)``. Floor: selecting its rows
    from the bare table and ``orjson.loads`` of each. Targets: at most 3x, and
    at most 0.1 s.
12. 1,000 one-turn branches off a 2,000-turn history, each saved: the file's
    growth (WAL checkpointed into the file) over the history's own bytes.
    Target: at most 1.5x. LangChain keeps a session per branch, each a copy.
13. A tree of 1M turns: 1,000 conversations of 1,000 turns, each branching off
    a random earlier one at a random turn. Saved in order into a fresh store,
    then each loaded by id: turns per second (1M over the time). Floor: the
    distinct turns' rows, one transaction per conversation; loading 1,000
    runs of 1,000 rows. No target.
14. 32 writers (4 processes x 8 threads, a connection each) growing branches
    off one trunk in one file, saving every 10 turns: turns per second, and
    what was lost, counted by loading every save back after. Target: 0 lost.
15. ``c.id`` of a fresh 10k-turn conversation. Floor: ``orjson.dumps`` of its
    payload. Target: at most 3x. Calls of a few milliseconds, near a busy
    machine's noise: on both sides the fastest call of three times the usual
    rounds counts. Then ``c.user("x").id`` on a hashed ``c`` of
    1k and 100k turns: the time at 100k at most 1.5x the time at 1k (O(1)).

With ``--quick`` the sizes shrink (1k turns, +1 turn at 100 and 10k, branches
100 off 200, a tree of 100 x 100, writers 32 x 40 turns); a smoke check only.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import itertools
import random
import sys
from collections.abc import Callable
from typing import Any

import _data
import _postgres
import _stores
import _writers
import orjson
from _stores import Scratch, Settings
from _timing import (
    Calls,
    Config,
    Entry,
    FreshCalls,
    Row,
    clock,
    fmt_bytes,
    fmt_time,
    main,
    size_label,
    time_entries,
)

TARGET_SAVE = 3.0
TARGET_LOAD = 3.0
TARGET_LOAD_SECONDS = 0.1
TARGET_FLAT = 1.5
TARGET_BRANCHES = 1.5
TARGET_ID = 3.0
TARGET_LOST = 0.0

Messages = list[dict[str, Any]]


def mixed(n: int) -> Messages:
    """The wire messages of an ``n``-turn agent history (tool calls and their results)."""
    return _data.mixed_message_dicts(_data.mixed_pairs(n, seed=9))


def text(n: int) -> Messages:
    return _data.message_dicts(_data.text_pairs(n, seed=9))


def histories(cfg: Config) -> list[tuple[str, Messages, bool]]:
    """(label, messages, whether to time with the GC on) of the two kinds of history."""
    n = 1_000 if cfg.quick else 10_000
    return [("agent", mixed(n), True), ("text", text(n), False)]


def build(messages: Messages) -> Any:
    conversation_cls, _ = _data.load_conversation()
    c = conversation_cls()
    for m in messages:
        c = _stores.grow(c, m)
    return c


def turns_label(messages: Messages, kind: str) -> str:
    return f"{size_label(len(messages))} {kind} turns"


class Contenders:
    """What can run here: the store, LangChain, the store on PostgreSQL; why not, when not."""

    def __init__(self, postgres: bool = False) -> None:
        self.store_cls, self.store_missing = _stores.load_store()
        self.langchain_missing = _stores.langchain_missing()
        self.postgres_missing = "not in this figure"
        if postgres:
            self.postgres_missing = self.store_missing or _postgres.server()[1]

    @property
    def postgres(self) -> bool:
        """Whether PostgresStore runs (on a throwaway server, see _postgres.py)."""
        return not self.postgres_missing

    @property
    def ours(self) -> bool:
        return self.store_cls is not None

    @property
    def langchain(self) -> bool:
        return not self.langchain_missing

    def notes(self) -> list[str]:
        found = [f"store: {why}" for why in (self.store_missing, self.langchain_missing) if why]
        if self.postgres_missing and self.postgres_missing != "not in this figure":
            found.append(f"postgres: {self.postgres_missing}")
        return found


def postgres_store(scratch: Scratch, kind: str) -> tuple[Any, str]:
    """A PostgresStore on a new schema (and its scratch path), dropped when ``kind`` is
    replaced or the figure ends."""
    path = scratch.path("postgres")
    store = _postgres.store(path)

    def close() -> None:
        store.close()
        _postgres.drop(path)

    scratch.replace(kind, path, close)
    return store, path


# --------------------------------------------------------------------------- 9 and 11


def run_save(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 9: save a long conversation into an empty store."""
    who = Contenders()
    entries: list[Entry] = []
    notes = who.notes()
    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        notes.append(settings.describe(scratch.folder))
        for kind, messages, gc_on in histories(cfg):
            fig = f"9. save {turns_label(messages, kind)} into an empty store"
            rows = _stores.floor_rows(messages)

            def make_floor() -> Any:
                path = scratch.path("floor")
                db = _stores.bare(path, settings)
                scratch.replace("floor", path, db.close)
                return db

            entries.append(
                Entry(
                    fig,
                    "floor",
                    "executemany of the JSON rows, bare table",
                    FreshCalls(
                        make_floor,
                        lambda db, r=rows: _stores.floor_save(db, r),
                        100,
                        gc_on,
                        steady=True,
                    ),
                )
            )
            ours = None
            if who.ours:
                check_round_trip(who.store_cls, scratch, messages, notes)

                def make_ours(messages: Messages = messages) -> Any:
                    path = scratch.path("ours")
                    store = who.store_cls(path)
                    scratch.replace("ours", path, store.close)
                    return store, build(messages)

                ours = FreshCalls(make_ours, lambda x: x[0].save(x[1]), 100, gc_on, steady=True)
            entries.append(
                Entry(fig, "ours", "store.save(c)", ours, TARGET_SAVE, missing=who.store_missing)
            )
            theirs = None
            if who.langchain:
                lc_messages = _stores.langchain_messages(messages)

                def make_theirs() -> Any:
                    path = scratch.path("langchain")
                    engine = _stores.langchain_engine(path, settings)
                    scratch.replace("langchain", path, engine.dispose)
                    return _stores.langchain_history(engine, "session")

                theirs = FreshCalls(
                    make_theirs, lambda h, m=lc_messages: h.add_messages(m), 100, gc_on, steady=True
                )
            entries.append(
                Entry(
                    fig,
                    "langchain",
                    "history.add_messages(messages)",
                    theirs,
                    missing=who.langchain_missing,
                )
            )
        with _stores.quiet():
            return time_entries(entries, cfg)[0], notes


def check_round_trip(
    store_cls: Any, scratch: Scratch, messages: Messages, notes: list[str]
) -> None:
    path = scratch.path("check")
    with store_cls(path) as store:
        c = build(messages)
        if store.load(store.save(c)) != c:
            notes.append(f"store: {len(c)} turns saved did not load back equal")
    _stores.remove(path)


def run_load(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 11: load the conversation of figure 9 (PostgresStore too: one query)."""
    who = Contenders(postgres=True)
    entries: list[Entry] = []
    notes = who.notes()
    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        for kind, messages, gc_on in histories(cfg):
            fig = f"11. load {turns_label(messages, kind)}"
            n = len(messages)
            path = scratch.path("floor")
            db = _stores.bare(path, settings)
            scratch.replace(f"floor {kind}", path, db.close)
            _stores.floor_save(db, _stores.floor_rows(messages))
            entries.append(
                Entry(
                    fig,
                    "floor",
                    "select the rows, orjson.loads each",
                    Calls(lambda db=db, n=n: _stores.floor_load(db, 1, n), True, gc_on=gc_on),
                )
            )
            ours = None
            if who.ours:
                path = scratch.path("ours")
                store = who.store_cls(path)
                scratch.replace(f"ours {kind}", path, store.close)
                c = build(messages)
                cid = store.save(c)
                if store.load(cid) != c:
                    notes.append(f"load: {kind} history did not load back equal")
                ours = Calls(lambda s=store, i=cid: s.load(i), True, gc_on=gc_on)
            entries.append(
                Entry(fig, "ours", "store.load(id)", ours, TARGET_LOAD, missing=who.store_missing)
            )
            on_postgres = None
            if who.postgres:
                store, _ = postgres_store(scratch, f"postgres {kind}")
                c = build(messages)
                cid = store.save(c)
                if store.load(cid) != c:
                    notes.append(f"load: {kind} history did not load back equal from PostgreSQL")
                on_postgres = Calls(lambda s=store, i=cid: s.load(i), True, gc_on=gc_on)
            entries.append(
                Entry(
                    fig,
                    "postgres",
                    "PostgresStore: store.load(id)",
                    on_postgres,
                    missing=who.postgres_missing,
                )
            )
            theirs = None
            if who.langchain:
                path = scratch.path("langchain")
                engine = _stores.langchain_engine(path, settings)
                scratch.replace(f"langchain {kind}", path, engine.dispose)
                history = _stores.langchain_history(engine, "session")
                history.add_messages(_stores.langchain_messages(messages))
                if len(history.messages) != n:
                    notes.append(f"load: LangChain's {kind} history lost messages")
                theirs = Calls(lambda h=history: h.messages, True, gc_on=gc_on)
            entries.append(
                Entry(fig, "langchain", "history.messages", theirs, missing=who.langchain_missing)
            )
        with _stores.quiet():
            rows, seconds = time_entries(entries, cfg)
    out: list[Row] = []
    for row, sec in zip(rows, seconds, strict=True):
        out.append(row)
        if row.who in ("ours", "postgres") and sec is not None:
            out.append(
                Row(
                    row.figure,
                    row.who,
                    "store.load(id), in seconds",
                    fmt_time(sec),
                    sec,
                    TARGET_LOAD_SECONDS if row.who == "ours" else None,
                )
            )
    return out, notes


# --------------------------------------------------------------------------- 10


class Turns:
    """Fresh turns to append: distinct texts, alternating roles after a history ending on the assistant."""

    def __init__(self, seed: int) -> None:
        self._texts = _data.turn_texts(256, seed=seed)
        self._count = itertools.count()

    def next(self) -> dict[str, Any]:
        i = next(self._count)
        role = "user" if i % 2 == 0 else "assistant"
        return {"role": role, "content": f"one more, {i}: {self._texts[i % len(self._texts)]}"}


def run_append(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 10: save one more turn onto a stored conversation, at two sizes."""
    who = Contenders()
    notes = who.notes()
    sizes = (100, 10_000) if cfg.quick else (1_000, 100_000)
    entries: list[Entry] = []
    checks: list[Callable[[], None]] = []
    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        for n in sizes:
            fig = f"10. save +1 turn onto {size_label(n)} agent turns"
            messages = mixed(n)
            path = scratch.path("floor")
            db = _stores.bare(path, settings)
            scratch.replace(f"floor {n}", path, db.close)
            _stores.floor_save(db, _stores.floor_rows(messages))
            row = _stores.floor_rows([Turns(10).next()])
            entries.append(
                Entry(
                    fig,
                    "floor",
                    "insert one JSON row, commit",
                    Calls(lambda db=db, r=row: _stores.floor_save(db, r)),
                )
            )
            grow_case = branch_case = None
            if who.ours:
                path = scratch.path("ours")
                store = who.store_cls(path)
                scratch.replace(f"ours {n}", path, store.close)
                base = build(messages)
                store.save(base)
                grow_case, check = growing(store, base, Turns(n))
                checks.append(check)
                branch_case = branching(store, base, Turns(n + 1))
            entries.append(
                Entry(
                    fig,
                    "ours",
                    "store.save(c), c one turn longer each call",
                    grow_case,
                    missing=who.store_missing,
                )
            )
            entries.append(
                Entry(
                    fig,
                    "ours",
                    "store.save(base.user(...)), a new branch",
                    branch_case,
                    missing=who.store_missing,
                )
            )
            theirs = None
            if who.langchain:
                path = scratch.path("langchain")
                engine = _stores.langchain_engine(path, settings)
                scratch.replace(f"langchain {n}", path, engine.dispose)
                history = _stores.langchain_history(engine, "session")
                history.add_messages(_stores.langchain_messages(messages))
                more = Turns(n)
                theirs = Calls(
                    lambda h=history, t=more: h.add_message(
                        _stores.langchain_messages([t.next()])[0]
                    )
                )
            entries.append(
                Entry(
                    fig,
                    "langchain",
                    "history.add_message(message)",
                    theirs,
                    missing=who.langchain_missing,
                )
            )
        with _stores.quiet():
            rows, seconds = time_entries(entries, cfg)
        for check in checks:
            check()
    per_size = len(entries) // len(sizes)
    small, large = seconds[:per_size], seconds[per_size:]
    fig = f"10. save +1 turn, {size_label(sizes[1])} / {size_label(sizes[0])}"
    for e, s, t in zip(entries[:per_size], small, large, strict=True):
        if s is None or t is None:
            continue
        target = TARGET_FLAT if e.who == "ours" else None
        rows.append(Row(fig, e.who, e.what, f"{fmt_time(s)} -> {fmt_time(t)}", t / s, target))
    notes.append(
        "save +1 turn: the growing conversation gains at most ~150 turns over the run "
        "(at most 20 timed calls a sample); LangChain's session, ~1,000"
    )
    return rows, notes


def growing(store: Any, base: Any, turns: Turns) -> tuple[FreshCalls, Callable[[], None]]:
    """Save a chat one turn longer each call; the check loads the last one back."""
    state = {"c": base}

    def make_input() -> Any:
        state["c"] = _stores.grow(state["c"], turns.next())
        return state["c"]

    def check() -> None:
        if store.load(state["c"].id) != state["c"]:
            raise AssertionError("the grown conversation did not load back equal")

    return FreshCalls(make_input, store.save, max_number=20, gc_on=True), check


def branching(store: Any, base: Any, turns: Turns) -> FreshCalls:
    """Save a new one-turn branch off ``base`` each call."""
    return FreshCalls(
        lambda: _stores.grow(base, {**turns.next(), "role": "user"}),
        store.save,
        max_number=200,
        gc_on=True,
    )


# --------------------------------------------------------------------------- 12


def run_branches(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 12: the file's growth for one-turn branches off a long history."""
    who = Contenders()
    notes = who.notes()
    n, k = (200, 100) if cfg.quick else (2_000, 1_000)
    k_langchain = k if cfg.quick else 50
    messages = mixed(n)
    fig = f"12. {k} branches off {size_label(n)} agent turns, file growth"
    rows: list[Row] = []
    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        if who.ours:
            path = scratch.path("ours")
            store = who.store_cls(path)
            scratch.replace("ours", path, store.close)
            empty = _stores.file_bytes(path)
            history = build(messages)
            store.save(history)
            one = _stores.file_bytes(path) - empty
            started = clock()
            branches = [store.save(history.user(f"branch {i}")) for i in range(k)]
            seconds = clock() - started
            grown = _stores.file_bytes(path) - empty - one
            if store.leaves() != branches:
                notes.append("branches: the store's leaves are not the branches saved")
            rows.append(
                Row(
                    fig,
                    "ours",
                    f"{k} x store.save(h.user(...))",
                    growth(one, grown, k, seconds),
                    grown / one,
                    TARGET_BRANCHES,
                )
            )
        else:
            rows.append(
                Row(fig, "ours", "store.save", "n/a", None, TARGET_BRANCHES, who.store_missing)
            )
        if who.langchain:
            path = scratch.path("langchain")
            engine = _stores.langchain_engine(path, settings)
            scratch.replace("langchain", path, engine.dispose)
            lc_messages = _stores.langchain_messages(messages)
            with _stores.quiet():
                history = _stores.langchain_history(engine, "history")
                engine.dispose()
                empty = _stores.file_bytes(path)
                history.add_messages(lc_messages)
                engine.dispose()
                one = _stores.file_bytes(path) - empty
                started = clock()
                for i in range(k_langchain):
                    branch = _stores.langchain_history(engine, f"branch {i}")
                    more = _stores.langchain_messages([{"role": "user", "content": f"branch {i}"}])
                    branch.add_messages(lc_messages + more)
                seconds = clock() - started
                engine.dispose()
            grown = (_stores.file_bytes(path) - empty - one) * k / k_langchain
            scaled = (
                ""
                if k_langchain == k
                else f"measured over {k_langchain} branches, x {k // k_langchain}"
            )
            rows.append(
                Row(
                    fig,
                    "langchain",
                    "a session per branch, add_messages(copy)",
                    growth(one, int(grown), k, seconds * k / k_langchain),
                    grown / one,
                    note=scaled,
                )
            )
    return rows, notes


def growth(one: int, grown: int, k: int, seconds: float) -> str:
    return (
        f"history {fmt_bytes(one)}, +{fmt_bytes(grown)} ({grown / k:.0f} B/branch) "
        f"in {fmt_time(seconds)}"
    )


# --------------------------------------------------------------------------- 13


class Tree:
    """Conversations on a random tree of shared prefixes, each ``length`` turns long.

    Conversation ``i`` grows off the first ``starts[i]`` turns of conversation
    ``parents[i]`` (a random earlier one, at a random turn) with ``new[i]``.
    """

    def __init__(self, count: int, length: int, seed: int = 13) -> None:
        rng = random.Random(seed)
        texts = _data.turn_texts(4096, seed=seed)
        self.count, self.length = count, length
        self.parents: list[int] = []
        self.starts: list[int] = []
        self.new: list[Messages] = []
        made = 0
        for i in range(count):
            start = 0 if i == 0 else rng.randrange(length)
            self.parents.append(0 if i == 0 else rng.randrange(i))
            self.starts.append(start)
            messages = []
            for depth in range(start, length):
                role = "user" if depth % 2 == 0 else "assistant"
                messages.append({"role": role, "content": f"{made}: {texts[made % len(texts)]}"})
                made += 1
            self.new.append(messages)
        self.distinct = made

    def conversations(self) -> list[Any]:
        """The conversations, built afresh (no id computed yet)."""
        conversation_cls, _ = _data.load_conversation()
        built: list[Any] = []
        for parent, start, new in zip(self.parents, self.starts, self.new, strict=True):
            c = built[parent][:start] if built else conversation_cls()
            for m in new:
                c = _stores.grow(c, m)
            built.append(c)
        return built

    def histories(self, count: int) -> list[Messages]:
        """The whole wire history of each of the first ``count`` conversations."""
        whole: list[Messages] = []
        for i in range(count):
            prefix = whole[self.parents[i]][: self.starts[i]] if i else []
            whole.append(prefix + self.new[i])
        return whole


def timed(fn: Callable[[], object]) -> float:
    """Seconds of one call of ``fn``, the GC off (the whole figure is one long call)."""
    gc.collect()
    gc.disable()
    try:
        started = clock()
        fn()
        return clock() - started
    finally:
        gc.enable()


def run_tree(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 13: save and load throughput on a tree of many long conversations."""
    who = Contenders(postgres=True)
    notes = who.notes()
    count, length = (100, 100) if cfg.quick else (1_000, 1_000)
    rounds = 1 if cfg.quick else 3
    lc_count = count if cfg.quick else 50
    tree = Tree(count, length)
    total = count * length
    label = f"13. tree of {count} x {length} turns"
    best: dict[str, float] = {}
    sizes: dict[str, int] = {}

    def keep(name: str, seconds: float) -> None:
        best[name] = min(best.get(name, seconds), seconds)

    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        floor_rows = [_stores.floor_rows(m) for m in tree.new]
        span = max(1, tree.distinct - length + 1)
        for _ in range(rounds):
            path = scratch.path("floor")
            db = _stores.bare(path, settings)
            scratch.replace("floor", path, db.close)
            keep("floor save", timed(lambda db=db: [_stores.floor_save(db, r) for r in floor_rows]))
            firsts = [1 + (i * 7919) % span for i in range(count)]
            keep(
                "floor load",
                timed(
                    lambda db=db, fs=firsts: [_stores.floor_load(db, f, f + length - 1) for f in fs]
                ),
            )
            sizes["floor"] = _stores.file_bytes(path)
            if who.ours:
                conversations = tree.conversations()
                path = scratch.path("ours")
                store = who.store_cls(path)
                scratch.replace("ours", path, store.close)
                ids: list[str] = []
                keep(
                    "ours save",
                    timed(lambda s=store, i=ids, cs=conversations: i.extend(s.save(c) for c in cs)),
                )
                keep("ours load", timed(lambda s=store, cids=ids: [s.load(i) for i in cids]))
                for i in range(0, count, max(1, count // 10)):
                    if store.load(ids[i]) != conversations[i]:
                        notes.append(f"tree: conversation {i} did not load back equal")
                sizes["ours"] = _stores.file_bytes(path)
                del conversations
        if who.postgres:  # one round: a million rows take a while to write on a server
            conversations = tree.conversations()
            store, path = postgres_store(scratch, "postgres")
            pg_ids: list[str] = []
            keep(
                "postgres save",
                timed(lambda s=store, i=pg_ids, cs=conversations: i.extend(s.save(c) for c in cs)),
            )
            keep("postgres load", timed(lambda s=store, cids=pg_ids: [s.load(i) for i in cids]))
            for i in range(0, count, max(1, count // 10)):
                if store.load(pg_ids[i]) != conversations[i]:
                    notes.append(f"tree: conversation {i} did not load back equal from PostgreSQL")
            sizes["postgres"] = _postgres.size(path)
            del conversations
        if who.langchain:
            path = scratch.path("langchain")
            engine = _stores.langchain_engine(path, settings)
            scratch.replace("langchain", path, engine.dispose)
            with _stores.quiet():
                sessions = [
                    _stores.langchain_history(engine, f"conversation {i}") for i in range(lc_count)
                ]
                copies = [_stores.langchain_messages(m) for m in tree.histories(lc_count)]
                keep(
                    "langchain save",
                    timed(
                        lambda: [h.add_messages(m) for h, m in zip(sessions, copies, strict=True)]
                    ),
                )
                keep("langchain load", timed(lambda: [h.messages for h in sessions]))
            engine.dispose()
            sizes["langchain"] = _stores.file_bytes(path)

    rows: list[Row] = []
    for step, floor_what, ours_what in (
        ("save", "the distinct rows, a transaction per conversation", "store.save(c) of each"),
        (
            "load",
            f"{count} range reads of {length} rows, orjson.loads each",
            "store.load(id) of each",
        ),
    ):
        fig = f"{label}, {step}"
        floor = best[f"floor {step}"]
        rows.append(Row(fig, "floor", floor_what, rate(total, floor), 1.0))
        if who.ours:
            ours = best[f"ours {step}"]
            rows.append(Row(fig, "ours", ours_what, rate(total, ours), ours / floor))
        else:
            rows.append(Row(fig, "ours", ours_what, "n/a", None, None, who.store_missing))
        if who.postgres:
            on_postgres = best[f"postgres {step}"]
            rows.append(
                Row(
                    fig,
                    "postgres",
                    "PostgresStore: " + ours_what,
                    rate(total, on_postgres),
                    on_postgres / floor,
                )
            )
        if who.langchain:
            theirs = best[f"langchain {step}"]
            what = f"first {lc_count}: a session each, " + (
                "add_messages(a copy)" if step == "save" else ".messages"
            )
            rows.append(
                Row(
                    fig,
                    "langchain",
                    what,
                    rate(lc_count * length, theirs),
                    theirs / floor * total / (lc_count * length),
                )
            )
    notes.append(
        f"tree: {tree.distinct:,} distinct turns of {total:,}; turns/s counts all {total:,}; "
        f"best of {rounds} rounds, each on conversations built afresh; files: "
        + ", ".join(f"{k} {fmt_bytes(v)}" for k, v in sizes.items())
    )
    if who.langchain and lc_count < count:
        notes.append(
            f"tree: LangChain ran on the first {lc_count} conversations only ({lc_count * length:,} "
            "turns, a copy each); its table has no index on session_id, so each load scans every row"
        )
    return rows, notes


def rate(turns: int, seconds: float) -> str:
    return f"{turns / seconds:,.0f} turns/s"


# --------------------------------------------------------------------------- 14


def run_writers(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 14: many writers, threads and processes, saving branches of one tree."""
    who = Contenders(postgres=True)
    notes = who.notes()
    processes, threads = 4, 8
    trunk, branches, turns, every = (20, 2, 20, 5) if cfg.quick else (200, 10, 100, 10)
    rounds = 1 if cfg.quick else 3
    kinds = ["floor"] + (["ours"] if who.ours else []) + (["langchain"] if who.langchain else [])
    kinds += ["postgres"] if who.postgres else []
    best: dict[str, float] = {}
    lost: dict[str, int] = dict.fromkeys(kinds, 0)
    plan = None
    with Scratch() as scratch:
        settings = Settings.of_store(who.store_cls, scratch.folder)
        for _ in range(rounds):
            for kind in kinds:
                path = scratch.path(kind)
                scratch.replace(
                    kind, path, (lambda p=path: _postgres.drop(p)) if kind == "postgres" else str
                )
                plan = _writers.Plan(
                    kind, path, settings, trunk, branches, turns, every, processes, threads
                )
                prepare_writers(plan, who)
                seconds, saved, errors = _writers.run_writers(plan)
                best[kind] = min(best.get(kind, seconds), seconds)
                lost[kind] += count_lost(plan, who, saved)
                notes += [f"writers: {kind}: {e}" for e in errors[:3]]
    assert plan is not None
    fig = f"14. {plan.writers} writers ({processes} processes x {threads} threads)"
    whats = {
        "floor": "executemany of the new rows, bare table",
        "ours": "store.save(c), a store per thread",
        "postgres": "PostgresStore: store.save(c), a store per thread",
        "langchain": "add_messages, a session per branch",
    }
    rows = [
        Row(
            fig,
            kind,
            whats[kind],
            f"{rate(plan.new_turns, best[kind])}, {lost[kind]} lost",
            best[kind] / best["floor"],
        )
        for kind in kinds
    ]
    saves = plan.saves * rounds
    for kind in ("ours", "postgres"):
        if kind in kinds:
            rows.append(
                Row(
                    fig,
                    kind,
                    "saves lost (each loaded back after)",
                    f"{lost[kind]} of {saves}",
                    lost[kind],
                    TARGET_LOST,
                )
            )
    notes.append(
        f"writers: each writer grows {branches} branches of {turns} turns off a {trunk}-turn "
        f"trunk, saving every {every} turns ({plan.saves} saves, {plan.new_turns:,} turns a "
        f"round); best of {rounds} rounds; 'lost' counts saves (rows for the floor) that did "
        "not load back whole, over all rounds"
    )
    return rows, notes


def prepare_writers(plan: _writers.Plan, who: Contenders) -> None:
    """The file of a round, holding the trunk every writer branches off."""
    trunk = _writers.trunk_messages(plan.trunk)
    if plan.kind == "floor":
        db = _stores.bare(plan.path, plan.settings)
        _stores.floor_save(db, _stores.floor_rows(trunk))
        db.close()
    elif plan.kind in ("ours", "postgres"):
        opener = who.store_cls if plan.kind == "ours" else _postgres.store
        with opener(plan.path) as store:
            store.save(build(trunk))
    else:
        engine = _stores.langchain_engine(plan.path, plan.settings)
        with _stores.quiet():
            _stores.langchain_history(engine, "trunk").add_messages(
                _stores.langchain_messages(trunk)
            )
        engine.dispose()


def count_lost(plan: _writers.Plan, who: Contenders, saved: list[tuple[str, int]]) -> int:
    """Saves that do not load back whole (for the floor: rows missing)."""
    if plan.kind == "floor":
        db = _stores.bare_connect(plan.path, plan.settings)
        (found,) = db.execute("SELECT COUNT(*) FROM turns").fetchone()
        db.close()
        return plan.trunk + plan.new_turns - found
    if plan.kind in ("ours", "postgres"):
        whole = 0
        opener = who.store_cls if plan.kind == "ours" else _postgres.store
        with opener(plan.path) as store:
            for cid, total in saved:
                try:
                    whole += len(store.load(cid)) == total
                except Exception:  # a save that cannot be loaded is lost
                    continue
        return plan.saves - whole
    finals: dict[str, int] = {}
    for session, total in saved:
        finals[session] = max(finals.get(session, 0), total)
    engine = _stores.langchain_engine(plan.path, plan.settings)
    with _stores.quiet():
        wrong = sum(
            len(_stores.langchain_history(engine, session).messages) != total
            for session, total in finals.items()
        )
    engine.dispose()
    return plan.saves - len(saved) + wrong


# --------------------------------------------------------------------------- 15


def run_ids(cfg: Config) -> tuple[list[Row], list[str]]:
    """Figure 15: the content id, the first time and after one more turn."""
    who = Contenders()
    notes = who.notes()
    entries: list[Entry] = []
    for kind, messages, gc_on in histories(cfg):
        fig = f"15. c.id of {turns_label(messages, kind)}, first time"
        floor = FreshCalls(
            lambda m=messages: _data.payload(list(m)), orjson.dumps, 100, gc_on, steady=True
        )
        entries.append(Entry(fig, "floor", "orjson.dumps(payload)", floor))
        if who.ours:  # the least an id can cost: SHA-256 of its input, for the reader
            source = id_input(messages)
            entries.append(
                Entry(
                    fig,
                    "sha256",
                    f"hashlib.sha256 of the id's input ({len(source) / 1e6:.1f} MB)",
                    FreshCalls(lambda b=source: b, hashlib.sha256, 100, gc_on, steady=True),
                )
            )
        ours = (
            FreshCalls(lambda m=messages: build(m), lambda c: c.id, 100, gc_on, steady=True)
            if who.ours
            else None
        )
        entries.append(Entry(fig, "ours", "fresh c.id", ours, TARGET_ID, missing=who.store_missing))
    # A few milliseconds a call, near the machine's noise: the fastest calls of more rounds.
    rows = time_entries(entries, dataclasses.replace(cfg, repeat=3 * cfg.repeat))[0]

    sizes = (100, 10_000) if cfg.quick else (1_000, 100_000)
    entries = []
    message = {"role": "user", "content": "x"}
    for n in sizes:
        fig = f"15. c.id after +1 turn, {size_label(n)} agent turns"
        entries.append(
            Entry(
                fig, "floor", "orjson.dumps(the new message)", Calls(lambda: orjson.dumps(message))
            )
        )
        ours = None
        if who.ours:
            base = build(mixed(n))
            _ = base.id
            ours = Calls(lambda b=base: b.user("x").id)
        entries.append(
            Entry(fig, "ours", 'c.user("x").id, c hashed', ours, missing=who.store_missing)
        )
    more, seconds = time_entries(entries, cfg)
    rows += more
    if seconds[1] is not None and seconds[3] is not None:
        fig = f"15. c.id after +1 turn, {size_label(sizes[1])} / {size_label(sizes[0])}"
        rows.append(
            Row(
                fig,
                "ours",
                'c.user("x").id',
                f"{fmt_time(seconds[1])} -> {fmt_time(seconds[3])}",
                seconds[3] / seconds[1],
                TARGET_FLAT,
            )
        )
    return rows, notes


def id_input(messages: Messages) -> bytes:
    """The bytes an id of these turns hashes (the documented input; no system, no provenance)."""
    items = [item for m in messages for item in (m["role"], m["content"])]
    return orjson.dumps(["conversation-state/1", None, *items], option=orjson.OPT_SORT_KEYS)[:-1]


FIGURES = [run_save, run_append, run_load, run_branches, run_tree, run_writers, run_ids]

if __name__ == "__main__":
    sys.exit(main("bench_store (figures 9-15)", FIGURES))
