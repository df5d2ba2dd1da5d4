"""A pytest plugin: each test gets a cassette of its own, recorded once and replayed after.

It is opt-in; name it in a ``conftest.py``::

    pytest_plugins = ["adapters.record.pytest_plugin"]

and use the ``cassette`` fixture (a :class:`~adapters.record.CassetteFixture`)::

    def test_greeting(cassette):
        claude = cassette.adapter(AnthropicAdapter, default_options=OPTIONS)
        assert "Hello" in claude.send(Conversation().user("Say hello")).last.text

The cassette is ``cassettes/<test module>/<test name>.jsonl`` beside the test
file (a ``cassette_dir`` fixture of yours moves it). The record mode is
``--record-mode`` (``none``, ``once``, ``new_episodes``, ``all``; pytest-recording's
``rewrite`` means ``all``), else the ``CONVERSATION_RECORD_MODE`` environment
variable, else ``once``: the first run records, the next ones replay offline
and fail on a request that was not recorded. The adapter given to
``cassette.adapter`` (or the callable that makes it) is only used when the run
records. When pytest-recording is installed too, its ``--record-mode`` is read.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

from ._cassette import RECORD_MODES
from ._fixture import MODE_VARIABLE, CassetteFixture, mode_from

__all__ = ["cassette", "cassette_dir", "pytest_addoption"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--record-mode``, unless another plugin (pytest-recording) defines it already."""
    group = parser.getgroup("cassettes", "recording and replaying adapter exchanges")
    # pytest-recording defines an option of the same name: then that one is read.
    with contextlib.suppress(ValueError):
        group.addoption(
            "--record-mode",
            action="store",
            default=None,
            choices=[*RECORD_MODES, "rewrite"],
            help=f"how cassettes record: {', '.join(RECORD_MODES)} (default: ${MODE_VARIABLE}, "
            "else once)",
        )


@pytest.fixture
def cassette_dir(request: pytest.FixtureRequest) -> Path:
    """Where this test module's cassettes are: ``cassettes/<module>/`` beside its file."""
    module = Path(request.node.path)
    return module.parent / "cassettes" / module.stem


@pytest.fixture
def cassette(request: pytest.FixtureRequest, cassette_dir: Path) -> CassetteFixture:
    """This test's cassette, named after the test, in the run's record mode."""
    test = request.node.nodeid.split("::", 1)[-1].replace("::", ".")
    name = re.sub(r"[^\w.-]+", "_", test).strip("_") or "test"
    option = request.config.getoption("record_mode", default=None)
    return CassetteFixture(cassette_dir / f"{name}.jsonl", mode_from(option))
