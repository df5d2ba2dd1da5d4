"""No API key reaches a cassette: not from headers, not from request fields, not from errors.

The autouse fixture of this directory searches every file each test wrote for
the live adapter's key; these tests make sure the key was really in play
(sent to the fake API, echoed back in an error) while the cassette was written.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import StreamInterruptedError
from adapters.anthropic import AnthropicAdapter, AuthenticationError
from adapters.record import RecordingAdapter, ReplayAdapter
from adapters.scripted import ScriptedAdapter
from conversation import Conversation
from tests.adapters import fake_api as fake
from tests.adapters.fake_api import FakeMessagesAPI
from tests.adapters.record.conftest import KEY, OPTIONS

CHAT = Conversation().user("Hello")


def test_the_key_sent_in_headers_is_never_recorded(
    fake_api: FakeMessagesAPI, live: AnthropicAdapter, cassette_path: Path
) -> None:
    fake_api.queue(
        fake.Reply(text="Hi"),
        fake.Stream(text="streamed"),
        fake.CountTokens(12),
        fake.Error(401, "authentication_error", message=f"invalid x-api-key: {KEY}"),
        fake.Stream(text="cut off here", cut_after=4),
    )
    rec = RecordingAdapter(live, cassette_path, default_options=OPTIONS)
    rec.send(CHAT)
    with rec.stream(CHAT.user("Stream")) as stream:
        list(stream)
    rec.count_tokens(CHAT)
    with pytest.raises(AuthenticationError):
        rec.send(CHAT.user("Fail"))
    with pytest.raises(StreamInterruptedError), rec.stream(CHAT.user("Cut")) as stream:
        list(stream)
    assert all(request.headers["x-api-key"] == KEY for request in fake_api.requests)
    assert len(ReplayAdapter(cassette_path)) == 5
    assert KEY not in cassette_path.read_text(encoding="utf-8")


def test_secret_named_fields_of_a_request_are_redacted_and_still_match(
    cassette_path: Path,
) -> None:
    metadata = {"user_id": "u-1", "api_key": KEY, "nested": {"Authorization": f"Bearer {KEY}"}}
    recorded = RecordingAdapter(ScriptedAdapter(["ok"]), cassette_path).send(
        CHAT, max_tokens=64, metadata=metadata
    )
    text = cassette_path.read_text(encoding="utf-8")
    assert '"api_key":"[redacted]"' in text
    assert '"Authorization":"[redacted]"' in text
    assert '"user_id":"u-1"' in text
    replayed = ReplayAdapter(cassette_path).send(CHAT, max_tokens=64, metadata=metadata)
    assert replayed == recorded


def test_text_shaped_like_an_anthropic_key_is_redacted_anywhere(cassette_path: Path) -> None:
    leaked = "sk-ant-api03-" + "Xy7" * 12
    RecordingAdapter(ScriptedAdapter([f"Your key is {leaked}"]), cassette_path).send(
        CHAT.user(f"My key is {leaked}"), max_tokens=64
    )
    text = cassette_path.read_text(encoding="utf-8")
    assert leaked not in text
    assert text.count("[redacted]") == 2
