"""README.md opens with the two set-up commands, and every example in it runs as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conversation import Conversation
from conversation.__main__ import run
from tests.adapters.fake_api import FakeMessagesAPI
from tests.adapters.fake_batches import FakeBatches
from tests.adapters.openai.fake_chat import install
from tests.postgres import PostgresServer
from tests.readme import EXAMPLES, FENCES, README, ROOT, Fence


def _commands() -> list[str]:
    return [f.code for f in FENCES if f.lang == "sh"]


def test_readme_opens_with_demo_then_tests() -> None:
    """The first two code blocks of the README run the demo, then the tests."""
    assert [f.lang for f in FENCES[:2]] == ["sh", "sh"]
    demo, tests = _commands()[:2]
    assert demo.endswith("python -m conversation demo")
    assert "pytest" in tests


def test_readme_opens_with_a_title_and_one_paragraph() -> None:
    """Before the commands: a title and one paragraph saying what the library is."""
    before = README[: README.index("```")].strip().split("\n\n")
    assert before[0].startswith("# ")
    assert len(before) == 3  # the title, the paragraph, "Run the offline demo ..."


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends by running the README's test command, character for character."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == _commands()[1]


def test_ci_type_checks_the_tests_and_the_examples_first() -> None:
    """Before the tests run, CI checks the tests and the README's examples with mypy --strict."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ".venv/bin/mypy --strict tests" in ci[:-1]
    assert ".venv/bin/python -m pytest -q tests/test_typing.py" in ci[:-1]


def test_install_note_comes_before_the_examples() -> None:
    """An installer meets the note about the unrelated ``adapters`` distribution early."""
    install = README.index("## Install")
    note = README.index("unrelated PyPI distribution")
    assert install < note < README.index("```python")


def test_every_code_block_is_python_sh_or_plain() -> None:
    """No example hides from the tests below under another fence name (py, python3...)."""
    assert {f.lang for f in FENCES} <= {"python", "sh", ""}
    assert len(EXAMPLES) >= 8


def test_one_model_name_across_the_examples() -> None:
    """Every example, and the demo, names the same model."""
    from conversation import _demo

    models = set(re.findall(r"claude-[a-z0-9.-]+", README))
    assert models == {"claude-sonnet-4-5"}
    assert _demo.MODEL == "claude-sonnet-4-5"


def test_demo_runs_offline_and_shows_each_example() -> None:
    """The demo walks through multi-turn, prefill, vision, tools, branching and saving."""
    from conversation._demo import main

    lines: list[str] = []
    result = main(lines.append)
    text = "\n".join(lines)
    for marker in ("multi-turn", "prefill", "vision", "tool loop", "branches", "saved"):
        assert marker in text
    assert "'The answer is (C'" in text
    assert "caught before sending" in text
    assert Conversation.loads(result.dumps()) == result


def test_module_entry_point() -> None:
    """`python -m conversation demo` exits 0; anything else prints usage and exits 2."""
    assert run(["nonsense"]) == 2
    done = subprocess.run(
        [sys.executable, "-m", "conversation", "demo"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "loads(dumps(c)) == c: True" in done.stdout


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_python_example_runs_as_written(
    example: Fence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Each ```python block runs on its own, as a file of a user's would.

    It runs in an empty directory (a file it needs, it writes), with a fake
    Messages API on 127.0.0.1 standing in for the real one through the
    variables the adapter and the official SDK both read (the same server
    answers Chat Completions, for the OpenAI adapter's examples), and the
    tests' PostgreSQL server as ``DATABASE_URL``.
    """
    monkeypatch.chdir(tmp_path)
    if "DATABASE_URL" in example.code:  # a PostgreSQL example: the tests' server
        server: PostgresServer = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("DATABASE_URL", server.url)
    with install(FakeMessagesAPI()) as api:
        FakeBatches(api).polls_to_end = -1  # a batch ends at once: nothing waits
        monkeypatch.setenv("ANTHROPIC_BASE_URL", api.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-readme-example")
        monkeypatch.setenv("OPENAI_BASE_URL", api.base_url + "/v1")
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        # Padded so that a traceback names the README's own line numbers.
        source = "\n" * (example.line - 1) + example.code
        exec(compile(source, str(ROOT / "README.md"), "exec"), {"__name__": "__main__"})
    assert not api.errors
