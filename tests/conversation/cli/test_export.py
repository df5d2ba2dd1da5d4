"""``export``: the save format reads back equal, the payload is the request body, Markdown reads."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversation import Conversation
from conversation.cli import run
from conversation.store import SQLiteStore
from tests.conversation.cli.running import Tree, cli


def test_json_is_the_save_format_and_the_default(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "export", "trip")
    assert done.returncode == 0, done.stderr
    assert Conversation.loads(done.stdout) == tree.trip
    explicit = cli("--db", str(tree.path), "export", "trip", "--format", "json")
    assert explicit.stdout == done.stdout


def test_payload_is_the_request_body(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "export", tree.week.id[:10], "--format", "payload")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == tree.week.to_payload()


def test_markdown_has_a_heading_per_turn_in_order(tree: Tree) -> None:
    done = cli("--db", str(tree.path), "export", "trip", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    headings = [line for line in done.stdout.splitlines() if line.startswith("## ")]
    assert headings == [
        "## system",
        "## user · turn 1",
        "## assistant · turn 2 · synthetic",
        "## user · turn 3",
        "## assistant · turn 4 · synthetic",
    ]
    assert "Day 1: Alfama" in done.stdout


def test_a_payload_the_api_would_refuse_is_an_error(tmp_path: Path) -> None:
    """A conversation ending in a reply with trailing space breaks a rule: exit 1, stderr."""
    path = tmp_path / "bad.db"
    bad = Conversation().user("Hi").assistant("Hello ")
    assert bad.violations()
    with SQLiteStore(path) as store:
        store.save(bad, name="bad")
    done = cli("--db", str(path), "export", "bad", "--format", "payload")
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.strip()
    assert cli("--db", str(path), "export", "bad").returncode == 0  # the save format keeps it


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(texts=st.lists(st.text(min_size=1), min_size=1, max_size=4))
def test_any_text_exports_and_reads_back(tmp_path: Path, texts: list[str]) -> None:
    """Whatever people wrote (any unicode) comes back equal through ``export``, and
    Markdown has a heading per turn."""
    c = Conversation()
    for index, text in enumerate(texts):
        c = c.user(text) if index % 2 == 0 else c.assistant(text)
    path = tmp_path / f"{c.id[:16]}.db"
    with SQLiteStore(path) as store:
        store.save(c, name="any")
    for form in ("json", "markdown"):  # in-process: run() writes to the sys.stdout of now
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert run(["--db", str(path), "export", "any", "--format", form]) == 0
        if form == "json":
            assert Conversation.loads(out.getvalue()) == c
        else:
            assert out.getvalue().count("\n## ") >= len(texts) - 1
