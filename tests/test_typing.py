"""A user's code type-checks against the library under ``mypy --strict``.

The README's examples and ``tests/test_typed_usage.py`` are copied into an
empty directory and checked there as a user's project would be: no project
config, the library found as the installed distribution (so its ``py.typed``
markers decide whether mypy reads it at all).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.readme import EXAMPLES

HERE = Path(__file__).resolve().parent


@pytest.mark.timeout(600)  # a first, cold run analyses the SDK and httpx too
def test_user_code_type_checks_strict(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """mypy --strict reports nothing for the README's examples and the typed usage file."""
    project = tmp_path / "project"
    project.mkdir()
    for example in EXAMPLES:
        name = "readme_" + example.id.replace("-", "_") + ".py"
        (project / name).write_text(example.code + "\n", encoding="utf-8")
    usage = (HERE / "test_typed_usage.py").read_text(encoding="utf-8")
    (project / "typed_usage.py").write_text(usage, encoding="utf-8")
    # Kept between runs when pytest's cache is on: a warm check is fast.
    kept: pytest.Cache | None = getattr(pytestconfig, "cache", None)  # off with -p no:cacheprovider
    cache = kept.mkdir("mypy-user-code") if kept is not None else tmp_path / "mypy-cache"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "."],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
