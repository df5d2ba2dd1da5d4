"""Listening: the socket bound before uvicorn starts, and the Host headers answered."""

from __future__ import annotations

import socket

import pytest

from conversation.viewer import LOCAL_HOSTS
from conversation.viewer._serve import _hosts, address, listen


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


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1", [*LOCAL_HOSTS, "127.0.0.1"]),
        ("localhost", [*LOCAL_HOSTS, "localhost"]),
        ("192.168.1.5", [*LOCAL_HOSTS, "192.168.1.5"]),
        ("0.0.0.0", ["*"]),  # listening everywhere: any name may reach it
        ("::", ["*"]),
    ],
)
def test_the_host_headers_answered_follow_the_address(host: str, answered: list[str]) -> None:
    assert _hosts(host) == answered
