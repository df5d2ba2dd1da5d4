"""Shared timing, memory and reporting helpers for the benchmark scripts.

Every figure is a ratio against a floor measured in the same run, because the
machines these run on are noisy. Timing follows ``timeit``: the cyclic GC is
off inside the timed loop, each measurement is repeated and the minimum is kept.
Unlike ``timeit``, the helpers here can keep the results of the timed calls
alive until the clock has stopped (``keep=True``), so that tearing down a large
structure is not counted as the cost of building it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import math
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

clock = time.perf_counter


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Config:
    """How hard to measure: ``--quick`` is a smoke run of a few seconds."""

    quick: bool
    repeat: int
    min_time: float  # seconds one repeat should last, at least (when the data allows)

    @classmethod
    def make(cls, quick: bool) -> Config:
        if quick:
            return cls(quick=True, repeat=3, min_time=0.01)
        return cls(quick=False, repeat=7, min_time=0.2)


def parse_config(
    description: str, argv: list[str] | None = None
) -> tuple[Config, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: small sizes, few repeats, a few seconds"
    )
    args = parser.parse_args(argv)
    return Config.make(args.quick), args


# --------------------------------------------------------------------------- timing


def settle() -> None:
    """Collect, then move every object alive now out of the GC's reach (``gc.freeze``).

    Call it once the modules are imported and the data is built: a heap full of
    long-lived objects (the SDK's pydantic models) makes each ``gc.collect()``
    cost tens of milliseconds, which would otherwise dominate a quick run.
    """
    gc.collect()
    gc.freeze()


class _GcOff:
    """Disable the cyclic GC for the duration of a block, as ``timeit`` does."""

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self._was_enabled:
            gc.enable()


def _run(
    fn: Callable[[], object],
    number: int,
    keep: bool,
    gc_on: bool = False,
    meter: GcMeter | None = None,
) -> float:
    """Time ``number`` calls of ``fn`` with the GC off (on if ``gc_on``); one sample, in seconds.

    A ``meter`` counts the collections made while the calls run.
    """
    kept: list[object] = []
    keep_one = kept.append
    gc.collect()
    with _GcOn() if gc_on else _GcOff(), meter or contextlib.nullcontext():
        if keep:
            t0 = clock()
            for _ in itertools.repeat(None, number):
                keep_one(fn())
            t1 = clock()
        else:
            t0 = clock()
            for _ in itertools.repeat(None, number):
                fn()
            t1 = clock()
    del kept  # torn down outside the clock, with the GC back on
    return t1 - t0


class _GcOn:
    """Enable the cyclic GC for the duration of a block, as programs run."""

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.enable()

    def __exit__(self, *exc: object) -> None:
        if not self._was_enabled:
            gc.disable()


def _autorange(
    fn: Callable[[], object], min_time: float, keep: bool, max_number: int, gc_on: bool = False
) -> int:
    """The smallest ``number`` in 1, 2, 5, 10, 20, 50, ... whose loop lasts ``min_time``."""
    number = 1
    for exponent in itertools.count():
        for mantissa in (1, 2, 5):
            number = mantissa * 10**exponent
            if number >= max_number:
                return max_number
            if _run(fn, number, keep, gc_on) >= min_time:
                return number
    raise AssertionError("unreachable")


@dataclass
class Calls:
    """A case timed as ``number`` back-to-back calls of ``fn`` per sample.

    ``keep=True`` holds every result until the clock stops (use it when ``fn``
    builds something large, whose teardown is not what is being measured);
    ``max_number`` bounds the calls of one sample (and so the results held).
    """

    fn: Callable[[], object]
    keep: bool = False
    max_number: int = 10_000_000
    gc_on: bool = False  # time with the cyclic GC running, as programs run

    def calibrate(self, cfg: Config) -> int:
        return _autorange(self.fn, cfg.min_time, self.keep, self.max_number, self.gc_on)

    def sample(self, number: int) -> float:
        return _run(self.fn, number, self.keep, self.gc_on)


@dataclass
class FixedCalls(Calls):
    """Exactly ``number`` back-to-back calls per sample, uncalibrated: for a call that
    is a whole workload of its own (500 sequential sends, a replay of 1,000 dialogues)."""

    number: int = 1

    def calibrate(self, cfg: Config) -> int:
        return self.number


@dataclass
class FreshCalls:
    """A case timed as ``op(x)`` on a fresh ``x = make_input()`` for each call.

    For operations that may cache on their input (serializing a conversation the
    first time). Each input is made just before its call, untimed, as a program
    builds a conversation and then sends it; each call is timed on its own (the
    clock's resolution is far below the calls measured here) and its result is
    held until the clock stops. A sample is the sum of ``number`` calls.

    ``steady``: for calls of a few milliseconds on a busy machine, whose sums
    wander with the load: a sample is ``number`` times its fastest call.
    """

    make_input: Callable[[], Any]
    op: Callable[[Any], object]
    max_number: int = 1000
    gc_on: bool = False  # time with the cyclic GC running, as programs run
    steady: bool = False

    def calibrate(self, cfg: Config) -> int:
        first = _time_fresh(self.make_input, self.op, 1, self.gc_on, self.steady)
        return max(1, min(self.max_number, math.ceil(cfg.min_time / max(first, 1e-9))))

    def sample(self, number: int) -> float:
        return _time_fresh(self.make_input, self.op, number, self.gc_on, self.steady)


Case = Calls | FixedCalls | FreshCalls


def measure(cases: dict[str, Case], cfg: Config) -> dict[str, float]:
    """Seconds per call of every case: the minimum over ``cfg.repeat`` rounds.

    The cases are interleaved: each round samples every case once, so that a
    burst of load from elsewhere on the machine falls on the floor, our code and
    the SDK alike, instead of on whichever happened to be running.
    """
    numbers = {name: case.calibrate(cfg) for name, case in cases.items()}
    best = dict.fromkeys(cases, math.inf)
    for _ in range(cfg.repeat):
        for name, case in cases.items():
            best[name] = min(best[name], case.sample(numbers[name]))
    return {name: best[name] / numbers[name] for name in cases}


@dataclass
class Entry:
    """One contender of a timed figure: a row of the table once measured.

    The ratio of a row is its time over the time of the ``floor`` entry of the
    same figure. ``case=None`` is a contender that cannot run (its row says why).
    ``per`` divides the time shown in the value column (``per=n, unit="/turn"``).
    """

    figure: str
    who: str
    what: str
    case: Case | None
    target: float | None = None
    per: int = 1
    unit: str = ""
    missing: str = "core not importable"


def time_entries(entries: list[Entry], cfg: Config) -> tuple[list[Row], list[float | None]]:
    """Measure every entry in one interleaved run; the rows, and each entry's seconds."""
    settle()
    cases = {str(i): e.case for i, e in enumerate(entries) if e.case is not None}
    t = measure(cases, cfg)
    seconds = [t.get(str(i)) for i in range(len(entries))]
    floors = {e.figure: seconds[i] for i, e in enumerate(entries) if e.who == "floor"}
    rows = []
    for e, sec in zip(entries, seconds, strict=True):
        if sec is None:
            rows.append(Row(e.figure, e.who, e.what, "n/a", None, e.target, e.missing))
            continue
        floor = floors.get(e.figure)
        ratio = None if floor is None else sec / floor
        rows.append(Row(e.figure, e.who, e.what, fmt_time(sec / e.per) + e.unit, ratio, e.target))
    return rows, seconds


def _time_fresh(
    make_input: Callable[[], Any],
    op: Callable[[Any], object],
    number: int,
    gc_on: bool = False,
    steady: bool = False,
) -> float:
    total = 0.0
    fastest = math.inf
    for _ in range(number):
        x = make_input()
        with _GcOn() if gc_on else _GcOff():
            t0 = clock()
            out = op(x)
            t1 = clock()
        total += t1 - t0
        fastest = min(fastest, t1 - t0)
        del x, out  # torn down outside the clock
    return fastest * number if steady else total


# --------------------------------------------------------------------------- memory


class AllocMeter:
    """Net bytes allocated by a step and still alive after it (``tracemalloc``).

    Use as a context manager around the whole measurement; ``measure(fn)``
    returns ``(bytes, result)``, the result being kept alive by the caller.
    """

    def __enter__(self) -> AllocMeter:
        gc.collect()
        tracemalloc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        tracemalloc.stop()

    @staticmethod
    def measure(fn: Callable[[], Any]) -> tuple[int, Any]:
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        result = fn()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
        return after - before, result


class GcMeter:
    """Collections of the cyclic GC per generation, and the time spent in them.

    Use as a context manager around the calls measured (it adds itself to
    ``gc.callbacks`` for the block); read ``counts`` and ``seconds`` after.
    """

    def __init__(self) -> None:
        self.counts = [0, 0, 0]
        self.seconds = 0.0
        self._start = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = clock()
        else:
            self.seconds += clock() - self._start
            self.counts[info["generation"]] += 1

    def __enter__(self) -> GcMeter:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def run(self, fn: Callable[[], object], number: int) -> float:
        """Time ``number`` calls of ``fn`` with the GC on, results kept, as the figures do."""
        return _run(fn, number, True, True, self)


# --------------------------------------------------------------------------- formatting


def fmt_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_bytes(n: float) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def size_label(n: int) -> str:
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    """One line of the table.

    ``ratio`` is the figure compared with the target: usually time / floor time.
    ``target`` is the largest ratio allowed (None: the row is informational).
    """

    figure: str
    who: str  # "floor", "ours", "sdk"
    what: str  # the code measured, in a few words
    value: str
    ratio: float | None = None
    target: float | None = None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        if self.ratio is None:
            return "n/a"
        return "PASS" if self.ratio <= self.target else "FAIL"


@dataclass
class Report:
    cfg: Config
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, rows: Iterable[Row]) -> None:
        self.rows.extend(rows)

    def print(self, file: Any = None) -> None:
        out = file or sys.stdout
        headers = ("figure", "who", "code", "value", "ratio", "target", "result")
        table = [
            (
                r.figure,
                r.who,
                r.what,
                r.value,
                "" if r.ratio is None else f"{r.ratio:.3g}x",
                "" if r.target is None else f"<= {r.target:g}x",
                r.verdict + (f"  ({r.note})" if r.note else ""),
            )
            for r in self.rows
        ]
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]

        def line(cells: tuple[str, ...]) -> str:
            return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        print(line(headers), file=out)
        print("  ".join("-" * w for w in widths), file=out)
        previous = None
        for r, cells in zip(self.rows, table, strict=True):
            if previous is not None and r.figure.split(" ")[0] != previous:
                print(file=out)
            previous = r.figure.split(" ")[0]
            print(line(cells), file=out)
        judged = [r for r in self.rows if r.target is not None]
        passed = sum(r.verdict == "PASS" for r in judged)
        print(file=out)
        print(f"targets met: {passed} of {len(judged)}", file=out)
        if self.cfg.quick and judged:
            print(
                "(quick run: sizes are reduced, so the verdicts are a smoke check only)", file=out
            )
        for note in dict.fromkeys(self.notes):  # each note once, in order
            print(f"note: {note}", file=out)


def header(cfg: Config, title: str) -> str:
    import anthropic
    import orjson

    mode = "quick (smoke)" if cfg.quick else "full"
    return (
        f"{title}: {mode} run, min of {cfg.repeat} repeats, GC off while timing\n"
        f"python {platform.python_version()} ({platform.machine()}), "
        f"orjson {orjson.__version__}, anthropic {anthropic.__version__}\n"
    )


Figure = Callable[[Config], tuple[list[Row], list[str]]]


def main(title: str, figures: list[Figure], argv: list[str] | None = None) -> int:
    """Run ``figures`` (each returns its rows and notes) and print one table."""
    cfg, _ = parse_config(title, argv)
    print(header(cfg, title))
    settle()
    report = Report(cfg)
    started = clock()
    for figure in figures:
        rows, notes = figure(cfg)
        report.add(rows)
        report.notes.extend(notes)
    report.print()
    print(f"\n(ran in {clock() - started:.1f} s)")
    return 0
