"""Listening: the socket bound before uvicorn starts, and the Host headers answered."""

from __future__ import annotations

import socket

import pytest

from conversation.viewer import LOCAL_HOSTS
from conversation.viewer._serve import address, hosts, listen


def test_port_0_listens_on_a_free_port_and_says_which() -> None:
    with listen("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        assert port > 0
        assert address(sock) == f"http://127.0.0.1:{port}/"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # it accepts connections before any server runs


def test_an_ipv6_address_is_written_in_brackets() -> None:
    try:
        sock = listen("::1", 0)
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    with sock:
        assert address(sock) == f"http://[::1]:{sock.getsockname()[1]}/"


def test_a_port_in_use_is_an_os_error() -> None:
    with listen("127.0.0.1", 0) as taken, pytest.raises(OSError, match="in use"):
        listen("127.0.0.1", taken.getsockname()[1])


def test_a_loopback_bind_answers_the_loopback_names_and_its_own_with_the_port() -> None:
    answered = hosts("127.0.0.1", 8765)
    for name in LOCAL_HOSTS:
        assert name in answered
        assert f"{name}:8765" in answered
    assert hosts("192.168.1.5", 80)[-2:] == ["192.168.1.5", "192.168.1.5:80"]
    assert "[fe80::1]:80" in hosts("fe80::1", 80)  # an IPv6 address in brackets
    assert socket.gethostname().lower() not in answered  # only a wildcard bind adds it


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::"])
def test_a_wildcard_bind_keeps_the_host_check_on(wildcard: str) -> None:
    """Listening on every interface never means "any Host": DNS rebinding is refused there
    too. This machine's names answer, and the names given with --allow-host."""
    answered = hosts(wildcard, 8000, ["Viewer.Example"])
    assert "*" not in answered
    assert "attacker.example:8000" not in answered
    assert "localhost:8000" in answered
    assert f"{socket.gethostname().lower()}:8000" in answered
    assert f"{socket.getfqdn().lower()}:8000" in answered
    assert "viewer.example:8000" in answered


def test_a_wildcard_bind_answers_this_machines_addresses() -> None:
    infos = socket.getaddrinfo(socket.gethostname(), None, family=socket.AF_INET)
    answered = hosts("0.0.0.0", 8000)
    for info in infos:
        assert f"{info[4][0]}:8000" in answered
