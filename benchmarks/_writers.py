"""Figure 14's writers: processes of threads saving branches of one tree into one file.

Each writer (a thread, with its own connection) grows branches off a shared
trunk, saving each branch every few turns, as a chat server saves its
sessions. Everything a writer saves is built before the clock starts; the
clock runs from the moment every process is ready to the last one's report.
Each writer reports what it saved, and the parent loads it all back to count
what was lost.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from dataclasses import dataclass
from typing import Any

import _data
import _postgres
import _stores
from _stores import Settings
from _timing import clock

TRUNK_SEED = 14


@dataclass(frozen=True)
class Plan:
    """What every writer does: ``branches`` branches of ``turns`` new turns, a save every ``every``."""

    kind: str  # "floor", "ours", "langchain" or "postgres" (the store on PostgreSQL)
    path: str
    settings: Settings
    trunk: int  # turns of the shared trunk, saved before the clock starts
    branches: int
    turns: int
    every: int
    processes: int
    threads: int

    @property
    def writers(self) -> int:
        return self.processes * self.threads

    @property
    def saves(self) -> int:
        return self.writers * self.branches * -(-self.turns // self.every)

    @property
    def new_turns(self) -> int:
        return self.writers * self.branches * self.turns


@dataclass(frozen=True)
class Save:
    """One save of a writer: the branch's session, its turns after it, its new messages."""

    session: str
    start: int  # turns of the trunk the branch grew from
    total: int  # turns of the branch after this save
    new: list[dict[str, Any]]  # the wire messages this save adds


def trunk_messages(n: int) -> list[dict[str, Any]]:
    return _data.message_dicts(_data.text_pairs(n, seed=TRUNK_SEED))


def writer_saves(plan: Plan, writer: int) -> list[Save]:
    """The saves of writer number ``writer``, in order (deterministic)."""
    rng = random.Random(writer)
    texts = _data.turn_texts(64, seed=1000 + writer)
    saves = []
    for b in range(plan.branches):
        start = 2 * rng.randrange(plan.trunk // 2 + 1)  # after an assistant turn
        session = f"writer {writer} branch {b}"
        messages = [
            {
                "role": "user" if j % 2 == 0 else "assistant",
                "content": f"{session} turn {j}: {texts[j % len(texts)]}",
            }
            for j in range(plan.turns)
        ]
        for done in range(0, plan.turns, plan.every):
            new = messages[done : done + plan.every]
            saves.append(Save(session, start, start + done + len(new), new))
    return saves


# --------------------------------------------------------------------------- one writer


class Writer:
    """One thread's work: its saves, prepared for its kind of store, and what it saved."""

    def __init__(self, plan: Plan, writer: int, engine: Any) -> None:
        self.plan = plan
        self.saves = writer_saves(plan, writer)
        self.saved: list[tuple[str, int]] = []  # (id or session, turns) of each save that returned
        self.errors: list[str] = []
        trunk = trunk_messages(plan.trunk)
        if plan.kind in ("ours", "postgres"):
            store_cls, _ = _stores.load_store()
            conversation_cls, _ = _data.load_conversation()
            opener = store_cls if plan.kind == "ours" else _postgres.store
            self.store = opener(plan.path)
            base = conversation_cls()
            for m in trunk:
                base = _stores.grow(base, m)
            self.work: list[Any] = []
            current: dict[str, Any] = {}
            for save in self.saves:
                c = current.get(save.session, base[: save.start])
                for m in save.new:
                    c = _stores.grow(c, m)
                current[save.session] = c
                self.work.append(c)
        elif plan.kind == "floor":
            self.db = _stores.bare_connect(plan.path, plan.settings)
            self.work = [_stores.floor_rows(save.new) for save in self.saves]
        else:
            self.work = []
            for save in self.saves:
                first = save.total - len(save.new) == save.start
                messages = (trunk[: save.start] if first else []) + save.new
                history = _stores.langchain_history(engine, save.session)
                self.work.append((history, _stores.langchain_messages(messages)))

    def run(self) -> None:
        for save, work in zip(self.saves, self.work, strict=True):
            try:
                if self.plan.kind in ("ours", "postgres"):
                    self.saved.append((self.store.save(work), save.total))
                elif self.plan.kind == "floor":
                    _stores.floor_save(self.db, work)
                    self.saved.append((save.session, save.total))
                else:
                    history, messages = work
                    history.add_messages(messages)
                    self.saved.append((save.session, save.total))
            except Exception as exc:  # a lost save: counted, and the writer goes on
                self.errors.append(f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        if self.plan.kind in ("ours", "postgres"):
            self.store.close()
        elif self.plan.kind == "floor":
            self.db.close()


def run_process(plan: Plan, first_writer: int, ready: Any, results: Any) -> None:
    """One process: ``plan.threads`` writers, started together once every process is ready."""
    with _stores.quiet():
        engine = (
            _stores.langchain_engine(plan.path, plan.settings) if plan.kind == "langchain" else None
        )
        writers = [Writer(plan, first_writer + i, engine) for i in range(plan.threads)]
        go = threading.Barrier(plan.threads + 1)

        def work(writer: Writer) -> None:
            go.wait()
            writer.run()

        threads = [threading.Thread(target=work, args=(w,)) for w in writers]
        for t in threads:
            t.start()
        ready.wait()
        go.wait()
        for t in threads:
            t.join()
        for w in writers:
            w.close()
        if engine is not None:
            engine.dispose()
    results.put(([s for w in writers for s in w.saved], [e for w in writers for e in w.errors]))


def run_writers(plan: Plan) -> tuple[float, list[tuple[str, int]], list[str]]:
    """Run every writer of ``plan``: the seconds they took, what they saved, their errors."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(plan.processes + 1)
    results = context.Queue()
    processes = [
        context.Process(target=run_process, args=(plan, p * plan.threads, ready, results))
        for p in range(plan.processes)
    ]
    for p in processes:
        p.start()
    ready.wait(timeout=600)
    started = clock()
    reports = [results.get(timeout=1800) for _ in processes]
    seconds = clock() - started
    for p in processes:
        p.join()
    saved = [s for report in reports for s in report[0]]
    errors = [e for report in reports for e in report[1]]
    return seconds, saved, errors
