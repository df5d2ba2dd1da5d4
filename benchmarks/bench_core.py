"""All five figures of the core, in one run and one table.

    python benchmarks/bench_core.py            # full run
    python benchmarks/bench_core.py --quick    # smoke run, a few seconds

Each figure is also a script of its own (bench_append.py, bench_branches.py,
bench_to_json.py, bench_fold.py, bench_save.py); see README.md.
"""

from __future__ import annotations

import sys

import bench_append
import bench_branches
import bench_fold
import bench_save
import bench_to_json
from _timing import main

FIGURES = [
    bench_append.run,
    bench_branches.run,
    bench_to_json.run,
    bench_to_json.run_branches,
    bench_fold.run,
    bench_save.run,
]

if __name__ == "__main__":
    sys.exit(main("bench_core (figures 1-5)", FIGURES))
