"""README.md opens with the two set-up commands, and they stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conversation import Conversation
from conversation.__main__ import run

ROOT = Path(__file__).resolve().parent.parent


def _commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_opens_with_demo_then_tests() -> None:
    """The first two code blocks of the README run the demo, then the tests."""
    demo, tests = _commands()[:2]
    assert demo.endswith("python -m conversation demo")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run ends by running the README's test command, character for character."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == _commands()[1]


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


def test_offline_examples_run() -> None:
    """Every README snippet that plays the model with a ScriptedAdapter runs as written."""
    blocks = re.findall(
        r"```python\n(.+?)\n```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S
    )
    offline = [b for b in blocks if "ScriptedAdapter(" in b]
    assert len(offline) >= 4
    for block in offline:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme_example"})
