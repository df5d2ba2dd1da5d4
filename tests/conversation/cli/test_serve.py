"""``serve``: the viewer's command, run as a person runs it (a child process, real sockets)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation.cli._secrets import masked_url
from conversation.store import SQLiteStore, open_store
from tests.conversation.cli.running import Tree, cli
from tests.conversation.viewer.serving import Server
from tests.postgres import PostgresServer


def test_serve_has_help_that_says_how_to_install_the_extra() -> None:
    done = cli("serve", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m conversation serve")
    for option in ("--db", "--port", "--host"):
        assert option in done.stdout
    assert "conversation-state[viewer]" in " ".join(done.stdout.split())
    assert "    serve " in cli("--help").stdout


def test_serve_listens_on_loopback_and_stops_cleanly_on_ctrl_c(tree: Tree) -> None:
    server = Server.start(tree.path)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.banner == f"Serving {tree.path} read-only at {server.url} (Ctrl+C to stop)"
        page = httpx.get(server.url + "c/trip", timeout=30)
        assert page.status_code == 200
        assert "Day 1: Alfama" in page.text
    finally:
        status = server.stop()
    assert status == 0


def test_serve_without_a_store_says_so_and_makes_no_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    done = cli("serve", "--db", str(missing), "--port", "0")
    assert done.returncode == 1
    assert done.stderr.startswith("python -m conversation: error: there is no store at ")
    assert not missing.exists()


def test_serve_on_a_port_in_use_says_to_pick_another(tree: Tree) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = cli("serve", "--db", str(tree.path), "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.startswith(f"conversation serve: error: cannot listen on 127.0.0.1:{port}")
    assert "pick another with --port" in done.stderr
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("port", ["99999", "65536", "-1", "http"])
def test_serve_refuses_a_port_out_of_range_before_starting(tree: Tree, port: str) -> None:
    """--port 99999 once listened on 34463 (the number wrapped): a usage error now."""
    done = cli("serve", "--db", str(tree.path), "--port", port)
    assert done.returncode == 2
    assert "argument --port:" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("host", ["no-such-host.invalid", "192.0.2.1"])
def test_serve_on_a_host_that_is_not_this_machine_says_to_change_the_host(
    tree: Tree, host: str
) -> None:
    """A name that does not resolve, or an address of no interface here (TEST-NET-1)."""
    done = cli("serve", "--db", str(tree.path), "--port", "0", "--host", host)
    assert done.returncode == 1
    assert done.stderr.startswith(f"conversation serve: error: cannot listen on {host}:0")
    assert "give an address of this machine with --host" in done.stderr
    assert "--port" not in done.stderr.split(";", 1)[1]
    assert len(done.stderr.splitlines()) == 1


def test_serve_on_every_interface_warns_and_keeps_the_host_check(tree: Tree) -> None:
    """0.0.0.0 once turned the Host check off: now this machine's names, the loopback ones
    and --allow-host names answer, another site's name is refused, and stderr warns."""
    server = Server.start(tree.path, "--host", "0.0.0.0", "--allow-host", "viewer.test")
    try:
        port = urlsplit(server.url).port
        assert server.url == f"http://0.0.0.0:{port}/"
        local = f"http://127.0.0.1:{port}/"
        for host, status in [
            (f"localhost:{port}", 200),
            (f"viewer.test:{port}", 200),
            (f"{socket.gethostname()}:{port}", 200),
            (f"attacker.example:{port}", 400),
        ]:
            answer = httpx.get(local, headers={"host": host}, timeout=30)
            assert answer.status_code == status, host
    finally:
        server.stop()
    warnings = [line for line in server.stderr.splitlines() if "warning" in line]
    assert warnings == [
        "conversation serve: warning: listening on 0.0.0.0, beyond this machine: anyone who "
        "can reach this port can read the whole store"
    ]


def test_serve_on_loopback_does_not_warn(tree: Tree) -> None:
    server = Server.start(tree.path)
    server.stop()
    assert "warning" not in server.stderr


@pytest.mark.parametrize(
    ("db", "named"),
    [
        ("postgresql:///chats?host=/tmp", "postgresql:///chats?host=/tmp"),
        ("postgresql:///chats?host=/tmp&password=pw", "postgresql:///chats?host=/tmp&password=***"),
        (
            "postgresql://me:pw@db/chats?PASSWORD=pw#x",
            "postgresql://me:***@db/chats?PASSWORD=***",  # libpq reads no fragment: all masked
        ),
        ("postgresql://me@db:5432/chats", "postgresql://me@db:5432/chats"),
        ("sqlite:///tmp/chats.db", "sqlite:///tmp/chats.db"),
        ("chats.db", "chats.db"),
    ],
)
def test_masked_url_masks_passwords_and_keeps_the_rest_as_written(db: str, named: str) -> None:
    assert masked_url(db) == named


@given(
    st.sampled_from(["postgresql", "postgres", "sqlite"]),
    st.text(alphabet="abc/._-=&?", max_size=20),
    st.text(alphabet=st.characters(blacklist_characters="@/?#&:%", min_codepoint=33), min_size=3),
)
def test_masked_url_never_shows_a_password(scheme: str, rest: str, password: str) -> None:
    for db in (
        f"{scheme}://me:{password}@host/{rest}",
        f"{scheme}:///db?password={password}&{rest}",
    ):
        named = masked_url(db)
        assert "***" in named
        assert named.replace("***", "").count(password) < db.count(password)
        assert named.startswith(f"{scheme}://")


def test_serve_without_the_viewer_extra_says_how_to_install_it(tree: Tree) -> None:
    """Starlette missing (its import blocked in the child): one sentence, exit 1."""
    program = (
        "import sys; sys.modules['starlette'] = None; "
        "from conversation.cli import run; "
        f"raise SystemExit(run(['serve', '--db', {str(tree.path)!r}, '--port', '0']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "conversation serve: error: the web viewer needs Starlette and uvicorn, which are not "
        "installed; install them with: pip install 'conversation-state[viewer]'\n"
    )


def test_serve_over_postgresql_never_shows_the_password(
    postgres_server: PostgresServer, tree: Tree
) -> None:
    """``--db postgresql://user:password@...``: the pages and the first line name the
    store without its password (the test server trusts local users: any password does)."""
    database = postgres_server.schema(901)
    parts = urlsplit(postgres_server.url)
    user = parts.username or "postgres"
    netloc = f"{user}:s3cret-pw@{parts.hostname}:{parts.port}"
    url = parts._replace(netloc=netloc, path=f"/{database}").geturl()
    with postgres_server.connect() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        with open_store(url) as store, SQLiteStore(tree.path) as local:
            store.save(local.load("trip"), name="trip")
        server = Server.start(url)
        try:
            page = httpx.get(server.url + "c/trip", timeout=30).text
        finally:
            server.stop()
        assert "Day 1: Alfama" in page
        assert "s3cret-pw" not in page
        assert f"{user}:***@" in page
        assert server.banner.startswith(f"Serving postgresql://{user}:***@{parts.hostname}:")
    finally:
        with postgres_server.connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
