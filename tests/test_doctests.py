"""The examples in the packages' docstrings run with the test suite, and none is skipped."""

from __future__ import annotations

import tomllib

from tests.readme import ROOT

PACKAGES = ("conversation", "adapters")


def test_the_test_command_runs_the_docstring_examples() -> None:
    """pytest's own configuration collects both packages with --doctest-modules, so the
    README's test command (a bare ``pytest -q``) runs every docstring example."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = config["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in pytest_options["addopts"].split()
    assert set(PACKAGES) <= set(pytest_options["testpaths"])


def test_no_docstring_example_is_skipped() -> None:
    """An example that cannot run is written as a plain code block, not a skipped doctest:
    a skipped one looks tested and checks nothing."""
    skipped = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "+SKIP" in path.read_text(encoding="utf-8")
    ]
    assert skipped == []
