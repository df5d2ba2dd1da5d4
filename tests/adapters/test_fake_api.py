"""Tests of the fake Messages API server itself, through plain httpx (sync and async).

The adapter tests trust this server to speak HTTP/1.1 and the Messages API
wire format the way the real one does, so it is checked here on its own:
every kind of answer, the SSE stream parsed back into the Message it came
from, keep-alive, concurrency and the record of requests.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.adapters.fake_api import (
    DEFAULT_MODEL,
    UNTIL_STOPPED,
    CountTokens,
    Error,
    FakeMessagesAPI,
    Malformed,
    Reply,
    Reset,
    Stream,
    make_message,
    many_deltas_message,
    stream_events,
)

MODEL = "claude-sonnet-4-5"
BODY = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
STREAM_BODY = {**BODY, "stream": True}
HEADERS = {"x-api-key": "test", "anthropic-version": "2023-06-01"}

RICH_MESSAGE: dict[str, Any] = {
    "id": "msg_rich",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [
        {"type": "thinking", "thinking": "Let me look that up, carefully.", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy"},
        {
            "type": "text",
            "text": "Paris is the capital of France (“Île-de-France”).",
            "citations": [
                {
                    "type": "char_location",
                    "cited_text": "Paris is the capital",
                    "document_index": 0,
                    "document_title": None,
                    "start_char_index": 0,
                    "end_char_index": 20,
                },
                {
                    "type": "char_location",
                    "cited_text": "France",
                    "document_index": 0,
                    "document_title": "atlas",
                    "start_char_index": 30,
                    "end_char_index": 36,
                },
            ],
        },
        {
            "type": "server_tool_use",
            "id": "srvtoolu_1",
            "name": "web_search",
            "input": {"query": "weather Paris"},
        },
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://example.com",
                    "title": "Weather",
                    "encrypted_content": "abc",
                    "page_age": None,
                }
            ],
        },
        {
            "type": "tool_use",
            "id": "toolu_1",
            "name": "get_weather",
            "input": {"city": 'Pa"ris\\', "days": [1, 2, 3], "opts": {"unit": "°C", "x": None}},
        },
        {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 412,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 1800,
        "output_tokens": 57,
        "server_tool_use": {"web_search_requests": 1},
        "service_tier": "standard",
    },
}


# --------------------------------------------------------------------------- helpers


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """A minimal SSE parser: ``event:`` and ``data:`` lines, frames ended by a blank line."""
    events = []
    for frame in text.split("\n\n"):
        if not frame.strip():
            continue
        name, data = "message", []
        for line in frame.split("\n"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
        events.append((name, json.loads("\n".join(data))))
    return events


def accumulate(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Fold stream events into the final Message, as the official SDK accumulates them."""
    name, first = events[0]
    assert name == "message_start"
    message: dict[str, Any] = json.loads(json.dumps(first["message"]))
    buffers: dict[int, str] = {}
    for name, data in events[1:]:
        assert data["type"] == name
        if name == "content_block_start":
            assert data["index"] == len(message["content"])
            message["content"].append(data["content_block"])
        elif name == "content_block_delta":
            block, delta = message["content"][data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "input_json_delta":
                buffers[data["index"]] = buffers.get(data["index"], "") + delta["partial_json"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "citations_delta":
                block["citations"] = [*(block.get("citations") or []), delta["citation"]]
            else:
                raise AssertionError(f"unknown delta {delta}")
        elif name == "content_block_stop":
            buffer = buffers.pop(data["index"], "")
            if buffer:
                message["content"][data["index"]]["input"] = json.loads(buffer)
        elif name == "message_delta":
            message.update(data["delta"])
            message["usage"].update(data["usage"])
        elif name == "message_stop":
            return message
        elif name != "ping":
            raise AssertionError(f"unexpected event {name}")
    raise AssertionError("no message_stop")


@pytest.fixture
def client(fake_api: FakeMessagesAPI) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake_api.base_url, headers=HEADERS, timeout=5) as c:
        yield c


def post(client: httpx.Client, body: Any = BODY, path: str = "/v1/messages") -> httpx.Response:
    return client.post(path, json=body)


# --------------------------------------------------------------------------- JSON replies


def test_default_reply_is_a_valid_message_echoing_the_model(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    r = post(client, {**BODY, "model": "claude-opus-4-1"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["request-id"] == "req_fake_0001"
    message = r.json()
    assert message["id"] == "msg_fake_0001"
    assert message["model"] == "claude-opus-4-1"
    assert message["content"] == [{"type": "text", "text": "ok"}]
    assert (message["type"], message["role"], message["stop_reason"]) == (
        "message",
        "assistant",
        "end_turn",
    )
    assert message["stop_sequence"] is None
    assert set(message["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert post(client).headers["request-id"] == "req_fake_0002"


def test_reply_with_text_message_status_and_headers(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    given = make_message("fixed", model="m", id="msg_given")
    fake_api.queue(
        Reply(text="Hello!"),
        Reply(given, headers={"anthropic-ratelimit-requests-remaining": "7"}),
        Reply(status=201, headers={"Content-Type": "application/vnd.test+json"}),
    )
    assert post(client).json()["content"][0]["text"] == "Hello!"
    r = post(client)
    assert r.json() == given
    assert r.headers["anthropic-ratelimit-requests-remaining"] == "7"
    assert r.headers["request-id"] == "req_fake_0002"
    r = post(client)
    assert r.status_code == 201
    assert r.headers["content-type"] == "application/vnd.test+json"
    assert fake_api.pending == 0


def test_a_request_without_model_gets_the_default_model(client: httpx.Client) -> None:
    assert client.post("/v1/messages", content=b"not json").json()["model"] == DEFAULT_MODEL


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (402, "billing_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "timeout_error"),
        (409, "conflict_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_bodies(
    fake_api: FakeMessagesAPI, client: httpx.Client, status: int, kind: str
) -> None:
    fake_api.queue(Error(status, kind))
    r = post(client)
    assert r.status_code == status
    body = r.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == kind
    assert body["error"]["message"]
    assert body["request_id"] == r.headers["request-id"] == "req_fake_0001"
    for name in ("retry-after", "retry-after-ms", "x-should-retry"):
        assert name not in r.headers


def test_error_retry_headers(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(
        Error(429, "rate_limit_error", "slow down", retry_after=2),
        Error(529, "overloaded_error", retry_after=0.25, retry_after_ms=250, should_retry=True),
        Error(500, "api_error", should_retry=False, headers={"retry-after": "Wed, 21 Oct 2015"}),
    )
    r = post(client)
    assert r.json()["error"] == {"type": "rate_limit_error", "message": "slow down"}
    assert r.headers["retry-after"] == "2"
    r = post(client)
    assert r.status_code == 529
    assert r.reason_phrase == "Overloaded"
    assert (r.headers["retry-after"], r.headers["retry-after-ms"]) == ("0.25", "250")
    assert r.headers["x-should-retry"] == "true"
    r = post(client)
    assert r.headers["x-should-retry"] == "false"
    assert r.headers["retry-after"] == "Wed, 21 Oct 2015"


def test_error_raw_body(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    page = b"<html><body>413 Request Entity Too Large</body></html>"
    fake_api.queue(Error(413, "request_too_large", raw_body=page))
    r = post(client)
    assert (r.status_code, r.content) == (413, page)
    assert r.headers["content-type"].startswith("text/html")


def test_malformed(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(Malformed(), Malformed(b"<html>oops</html>", 502, "text/html"))
    r = post(client)
    assert (r.status_code, r.content) == (200, b'{"id": "msg_')
    assert r.headers["content-type"] == "application/json"
    r = post(client)
    assert (r.status_code, r.content, r.headers["content-type"]) == (
        502,
        b"<html>oops</html>",
        "text/html",
    )


def test_count_tokens(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 400}]}
    r = post(client, body, "/v1/messages/count_tokens")
    assert r.json() == {"input_tokens": len(r.request.content) // 4}
    fake_api.queue(CountTokens(2095))
    assert post(client, body, "/v1/messages/count_tokens?beta=true").json() == {
        "input_tokens": 2095
    }


def test_the_queue_is_served_in_order_then_the_default() -> None:
    with FakeMessagesAPI(default=Error(500, "api_error")) as api:
        api.queue(Reply(text="one"), CountTokens(3))
        assert api.pending == 2
        with httpx.Client(base_url=api.base_url) as c:
            assert post(c).json()["content"][0]["text"] == "one"
            assert post(c).json() == {"input_tokens": 3}  # the queue ignores the path
            assert post(c).status_code == 500
            assert post(c, path="/v1/messages/count_tokens").status_code == 500
            api.queue(Reply())
            api.clear()
            assert (api.pending, api.requests) == (0, [])
            assert post(c).headers["request-id"] == "req_fake_0005"  # ids keep counting
        assert api.errors == []


def test_queue_refuses_what_is_not_an_answer(fake_api: FakeMessagesAPI) -> None:
    with pytest.raises(TypeError, match="not a Response"):
        fake_api.queue({"type": "message"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="default must be a Response"):
        FakeMessagesAPI(default="ok")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- requests


def test_requests_are_recorded_with_headers_body_and_time(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    before = time.monotonic()
    post(client)
    client.post(
        "/v1/messages/count_tokens?beta=true",
        json={"model": MODEL},
        headers={"Anthropic-Beta": "a-1", "X-Custom": "Yes"},
    )
    after = time.monotonic()
    first, second = fake_api.requests
    assert (first.method, first.path) == ("POST", "/v1/messages")
    assert first.json == BODY
    assert first.headers["x-api-key"] == "test"
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == str(len(first.body))
    assert all(name == name.lower() for name in first.headers)
    assert second.path == "/v1/messages/count_tokens?beta=true"
    assert (second.headers["anthropic-beta"], second.headers["x-custom"]) == ("a-1", "Yes")
    assert before <= first.at <= second.at <= after
    assert fake_api.requests is not fake_api.requests  # a snapshot each time


def test_a_chunked_request_body_is_recorded_whole(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    def parts() -> Iterator[bytes]:
        yield b'{"model": "chunky", '
        yield b'"max_tokens": 1}'

    r = client.post("/v1/messages", content=parts())
    assert r.json()["model"] == "chunky"
    (request,) = fake_api.requests
    assert request.headers["transfer-encoding"] == "chunked"
    assert request.json == {"model": "chunky", "max_tokens": 1}


def test_repeated_request_headers_are_joined(fake_api: FakeMessagesAPI) -> None:
    client = httpx.Client(base_url=fake_api.base_url)
    with client:
        client.post("/v1/messages", headers=[("anthropic-beta", "a"), ("anthropic-beta", "b")])
    assert fake_api.requests[0].headers["anthropic-beta"] == "a, b"


def test_a_request_that_is_not_http_gets_a_400(fake_api: FakeMessagesAPI) -> None:
    port = int(fake_api.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"HELLO\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 ")
    assert fake_api.requests == []


# --------------------------------------------------------------------------- connections


def test_keep_alive_serves_many_requests_on_one_connection(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    fake_api.queue(Error(529, "overloaded_error"), Stream(text="streamed"), Malformed())
    for _ in range(3):
        post(client)
    with client.stream("POST", "/v1/messages", json=STREAM_BODY) as r:
        r.read()
    post(client)
    assert len(fake_api.requests) == 5
    assert fake_api.connections == 1


def test_connection_close_is_honoured(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    for _ in range(2):
        r = client.post("/v1/messages", json=BODY, headers={"connection": "close"})
        assert r.headers["connection"] == "close"
    assert fake_api.connections == 2


def test_reset_closes_the_connection_without_a_response(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    fake_api.queue(Reset())
    with pytest.raises(httpx.TransportError):
        post(client)
    assert post(client).status_code == 200  # on a new connection
    assert len(fake_api.requests) == 2
    assert fake_api.connections == 2


def test_delay_holds_the_response_back(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(Reply(delay=0.15), Reply(delay=2))
    started = time.monotonic()
    assert post(client).status_code == 200
    assert time.monotonic() - started >= 0.15
    with pytest.raises(httpx.ReadTimeout):
        client.post("/v1/messages", json=BODY, timeout=0.1)
    # the fixture's teardown then stops the server with that answer still pending


def test_until_stopped_holds_the_rest_of_a_stream_until_stop() -> None:
    """pause=UNTIL_STOPPED: the first event arrives, the rest never; stop ends the body."""
    api = FakeMessagesAPI(default=Stream(text="abcdefgh", pause=UNTIL_STOPPED))
    api.start()
    first = threading.Event()
    lines: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with httpx.stream("POST", f"{api.base_url}/v1/messages", json=STREAM_BODY) as r:
                for line in r.iter_lines():
                    lines.append(line)
                    if line == "":
                        first.set()
        except httpx.TransportError as error:
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert first.wait(5)
        assert reader.is_alive()  # held: nothing more comes while the server runs
    finally:
        api.stop()
        reader.join(5)
    assert not reader.is_alive()
    assert [line for line in lines if line.startswith("event:")] == ["event: message_start"]
    assert len(errors) == 1  # the body was cut when the server stopped
    assert not api.errors


def test_stop_is_prompt_with_a_delayed_answer_and_idle_connections() -> None:
    api = FakeMessagesAPI(default=Reply(delay=30))
    api.start()
    idle = httpx.Client(base_url=api.base_url)
    with pytest.raises(httpx.ReadTimeout):
        idle.post("/v1/messages", json=BODY, timeout=0.05)
    api.stop()  # waiting for the 30 s answer would fail: stop gives up after 10 s
    api.stop()  # twice is fine
    idle.close()
    with pytest.raises(httpx.ConnectError):
        httpx.post(f"{api.base_url}/v1/messages", json=BODY)
    with pytest.raises(RuntimeError, match="already running"), api:
        api.start()


# --------------------------------------------------------------------------- streams


def test_stream_events_shape() -> None:
    events = stream_events(RICH_MESSAGE, text_chunk=5)
    names = [name for name, _ in events]
    assert names[0] == "message_start"
    assert names[-2:] == ["message_delta", "message_stop"]
    assert names.count("ping") == 1
    assert all(data["type"] == name for name, data in events)
    start = events[0][1]["message"]
    assert (start["content"], start["stop_reason"], start["stop_sequence"]) == ([], None, None)
    assert start["usage"]["output_tokens"] == 1
    assert start["usage"]["input_tokens"] == 412
    deltas = [data["delta"] for name, data in events if name == "content_block_delta"]
    kinds = [d["type"] for d in deltas]
    assert kinds.count("signature_delta") == 1
    assert kinds.count("citations_delta") == 2
    assert all(len(d["text"]) <= 5 for d in deltas if d["type"] == "text_delta")
    starts = {
        data["index"]: data["content_block"]
        for name, data in events
        if name == "content_block_start"
    }
    assert starts[0] == {"type": "thinking", "thinking": "", "signature": ""}
    assert starts[1] == RICH_MESSAGE["content"][1]  # redacted thinking arrives whole
    assert starts[2]["text"] == ""
    assert starts[3]["input"] == starts[5]["input"] == {}
    assert starts[4] == RICH_MESSAGE["content"][4]  # server tool results arrive whole
    fragments = [
        d["partial_json"]
        for name, data in events
        if name == "content_block_delta"
        and data["index"] == 5
        and (d := data["delta"])["type"] == "input_json_delta"
    ]
    assert fragments[0] == ""
    assert len(fragments) > 2
    tool_2 = [data for name, data in events if data.get("index") == 6]
    assert [d["delta"]["partial_json"] for d in tool_2 if "delta" in d] == [""]
    final = events[-2][1]
    assert final["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert final["usage"]["output_tokens"] == 57
    assert accumulate(events) == RICH_MESSAGE


def test_stream_events_of_an_empty_reply_and_bad_chunk() -> None:
    message = {**make_message(), "content": [], "stop_reason": "max_tokens"}
    events = stream_events(message)
    assert [n for n, _ in events] == ["message_start", "ping", "message_delta", "message_stop"]
    assert accumulate(events) == message
    with pytest.raises(ValueError, match="text_chunk"):
        stream_events(message, text_chunk=0)


def test_many_deltas_message_streams_as_exactly_n_text_deltas() -> None:
    for n, chunk in ((1, 8), (10_000, 8), (33, 3)):
        message = many_deltas_message(n, text_chunk=chunk)
        events = stream_events(message, text_chunk=chunk)
        text_deltas = [d for name, d in events if name == "content_block_delta"]
        assert len(text_deltas) == n
        assert accumulate(events) == message


def read_stream(client: httpx.Client, body: Any = STREAM_BODY) -> tuple[httpx.Response, str]:
    with client.stream("POST", "/v1/messages", json=body) as r:
        return r, r.read().decode()


def test_stream_parsed_back_equals_the_message(
    fake_api: FakeMessagesAPI, client: httpx.Client
) -> None:
    fake_api.queue(Stream(RICH_MESSAGE))
    r, text = read_stream(client)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.headers["request-id"] == "req_fake_0001"
    events = parse_sse(text)
    assert events == stream_events(RICH_MESSAGE)
    assert accumulate(events) == RICH_MESSAGE


def test_default_stream_echoes_the_model(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    _, text = read_stream(client, {**STREAM_BODY, "model": "claude-x"})
    message = accumulate(parse_sse(text))
    assert (message["id"], message["model"]) == ("msg_fake_0001", "claude-x")
    assert message["content"] == [{"type": "text", "text": "ok"}]
    fake_api.queue(Stream(text="a longer streamed text", text_chunk=4, pings=False))
    _, text = read_stream(client)
    events = parse_sse(text)
    assert "ping" not in [n for n, _ in events]
    assert accumulate(events)["content"][0]["text"] == "a longer streamed text"
    assert sum(n == "content_block_delta" for n, _ in events) == 6


def test_stream_of_given_events(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    given: list[tuple[str, dict[str, Any]]] = [
        ("ping", {"type": "ping"}),
        ("custom", {"type": "custom", "x": 1}),
    ]
    fake_api.queue(Stream(events=given))
    assert parse_sse(read_stream(client)[1]) == given


def test_close_delimited_stream(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(Stream(RICH_MESSAGE, chunked=False))
    r, text = read_stream(client)
    assert "transfer-encoding" not in r.headers
    assert "content-length" not in r.headers
    assert r.headers["connection"] == "close"
    assert accumulate(parse_sse(text)) == RICH_MESSAGE
    post(client)
    assert fake_api.connections == 2


def test_an_http_10_client_gets_a_close_delimited_stream(fake_api: FakeMessagesAPI) -> None:
    port = int(fake_api.base_url.rsplit(":", 1)[1])
    body = json.dumps(STREAM_BODY).encode()
    head = b"POST /v1/messages HTTP/1.0\r\ncontent-length: %d\r\n\r\n" % len(body)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    response_head, _, sse = data.partition(b"\r\n\r\n")
    assert response_head.startswith(b"HTTP/1.1 200 ")
    assert b"transfer-encoding" not in response_head.lower()
    assert accumulate(parse_sse(sse.decode()))["content"] == [{"type": "text", "text": "ok"}]


def test_cut_after_ends_the_body_abruptly(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(Stream(RICH_MESSAGE, cut_after=4))
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
        client.stream("POST", "/v1/messages", json=STREAM_BODY) as r,
    ):
        received.extend(r.iter_text())
    assert parse_sse("".join(received)) == stream_events(RICH_MESSAGE)[:4]
    assert post(client).status_code == 200  # the client recovers on a new connection
    fake_api.queue(Stream(cut_after=2, chunked=False))
    events = parse_sse(read_stream(client)[1])  # close-delimited: just a short body
    assert [n for n, _ in events] == ["message_start", "content_block_start"]


def test_error_event_after_cut_after(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    overloaded = {"type": "overloaded_error", "message": "Overloaded"}
    fake_api.queue(
        Stream(RICH_MESSAGE, cut_after=3, error_event=overloaded),
        Stream(error_event={"type": "error", "error": {"type": "api_error", "message": "x"}}),
    )
    events = parse_sse(read_stream(client)[1])
    assert events[:3] == stream_events(RICH_MESSAGE)[:3]
    assert events[3:] == [("error", {"type": "error", "error": overloaded})]
    events = parse_sse(read_stream(client)[1])
    assert events[-2][0] == "message_stop"
    assert events[-1] == (
        "error",
        {"type": "error", "error": {"type": "api_error", "message": "x"}},
    )
    assert fake_api.connections == 1  # a stream ending in an error event ends cleanly


def test_pause_spaces_the_events(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    fake_api.queue(Stream(text="abcdefgh" * 2, pause=0.02, delay=0.05))
    arrivals = []
    started = time.monotonic()
    with client.stream("POST", "/v1/messages", json=STREAM_BODY) as r:
        for line in r.iter_lines():
            if line.startswith("event:"):
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 8
    assert arrivals[0] >= 0.05
    assert arrivals[-1] - arrivals[0] >= 7 * 0.02 * 0.9


def test_a_stream_of_ten_thousand_deltas(fake_api: FakeMessagesAPI, client: httpx.Client) -> None:
    message = many_deltas_message(10_000)
    fake_api.queue(Stream(message), Stream(message))
    for _ in range(2):  # the second time from the answer's cache
        events = parse_sse(read_stream(client)[1])
        assert sum(n == "content_block_delta" for n, _ in events) == 10_000
        assert accumulate(events) == message


# --------------------------------------------------------------------------- async


@pytest.mark.anyio
async def test_32_concurrent_async_requests(fake_api: FakeMessagesAPI) -> None:
    fake_api.queue(*(Reply(text=f"r{i}", delay=0.1) for i in range(32)))
    limits = httpx.Limits(max_connections=64)
    async with httpx.AsyncClient(base_url=fake_api.base_url, limits=limits, timeout=5) as c:
        started = time.monotonic()
        replies = await asyncio.gather(*(c.post("/v1/messages", json=BODY) for _ in range(32)))
        elapsed = time.monotonic() - started
    assert elapsed < 1.5  # served side by side, not one after another (3.2 s)
    assert sorted(r.json()["content"][0]["text"] for r in replies) == sorted(
        f"r{i}" for i in range(32)
    )
    assert len({r.headers["request-id"] for r in replies}) == 32
    assert len(fake_api.requests) == 32
    assert fake_api.connections == 32


@pytest.mark.anyio
async def test_async_stream_and_errors(fake_api: FakeMessagesAPI) -> None:
    fake_api.queue(Error(429, "rate_limit_error", retry_after_ms=10), Stream(RICH_MESSAGE))
    async with httpx.AsyncClient(base_url=fake_api.base_url, timeout=5) as c:
        r = await c.post("/v1/messages", json=BODY)
        assert (r.status_code, r.headers["retry-after-ms"]) == (429, "10")
        async with c.stream("POST", "/v1/messages", json=STREAM_BODY) as s:
            text = (await s.aread()).decode()
    assert accumulate(parse_sse(text)) == RICH_MESSAGE
    assert fake_api.connections == 1
