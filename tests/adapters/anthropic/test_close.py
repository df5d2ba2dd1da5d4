"""An adapter closes every connection it opened, sync and async, and none of yours.

Counted on the server: the fake API's open TCP connections once the adapter
is closed (a close reaches the server a moment later, so the count is waited
for, never slept for).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
import pytest

from adapters.anthropic import AnthropicAdapter
from conversation import Conversation
from tests.adapters.fake_api import FakeMessagesAPI

KEY = "sk-ant-api03-CLOSE-TEST-KEY-0123456789"
OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64}
HELLO = Conversation().user("Hello")


def _asend(adapter: AnthropicAdapter) -> Conversation:
    """``adapter.asend`` on an event loop of its own (started and ended here)."""

    async def send() -> Conversation:
        return await adapter.asend(HELLO, **OPTIONS)

    return anyio.run(send)


class TestOwnClients:
    def test_with_closes_sync_and_async(self, fake_api: FakeMessagesAPI) -> None:
        """Leaving a with block leaves no connection open, though both ways were used."""
        with AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url) as adapter:
            adapter.send(HELLO, **OPTIONS)
            _asend(adapter)
        assert fake_api.connections == 2
        assert fake_api.wait_open(0) == 0

    def test_close_closes_sync_and_async(self, fake_api: FakeMessagesAPI) -> None:
        """close() releases the sync pool and the async one; the adapter works again after."""
        adapter = AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url)
        _asend(adapter)
        adapter.send(HELLO, **OPTIONS)
        adapter.close()
        assert fake_api.wait_open(0) == 0
        assert adapter.send(HELLO, **OPTIONS).last is not None
        adapter.close()
        assert fake_api.wait_open(0) == 0

    def test_a_new_event_loop_gets_a_new_client(self, fake_api: FakeMessagesAPI) -> None:
        """asend from a second event loop works (the first loop's connections are not reused)."""
        with AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url) as adapter:
            for _ in range(3):
                assert _asend(adapter).last is not None
        assert fake_api.connections == 3
        assert fake_api.wait_open(0) == 0

    def test_close_reaches_a_loop_in_another_thread(self, fake_api: FakeMessagesAPI) -> None:
        """close() closes the client of a loop still running in another thread, there."""
        adapter = AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url)
        with anyio.from_thread.start_blocking_portal() as portal:
            portal.call(partial(adapter.asend, HELLO, **OPTIONS))
            assert fake_api.open_connections == 1
            adapter.close()
            assert fake_api.wait_open(0) == 0
            assert portal.call(partial(adapter.asend, HELLO, **OPTIONS)).last is not None
        assert fake_api.wait_open(0) == 0  # the loop's end closed the new one

    @pytest.mark.anyio
    async def test_async_with_closes_both(self, fake_api: FakeMessagesAPI) -> None:
        """async with closes the async pool and the sync one."""
        async with AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url) as adapter:
            adapter.send(HELLO, **OPTIONS)
            await adapter.asend(HELLO, **OPTIONS)
            assert fake_api.open_connections == 2
        assert await anyio.to_thread.run_sync(fake_api.wait_open, 0) == 0

    @pytest.mark.anyio
    async def test_sync_with_inside_async_code(self, fake_api: FakeMessagesAPI) -> None:
        """A sync with block in async code hands the async pool's close to the running loop."""
        with AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url) as adapter:
            await adapter.asend(HELLO, **OPTIONS)
            await adapter.asend(HELLO, **OPTIONS)
        assert fake_api.connections == 1
        assert await anyio.to_thread.run_sync(fake_api.wait_open, 0) == 0

    @pytest.mark.anyio
    async def test_aclose_closes_a_pool_of_an_ended_loop(self, fake_api: FakeMessagesAPI) -> None:
        """aclose also releases what the adapter opened on another loop."""
        adapter = AnthropicAdapter(api_key=KEY, base_url=fake_api.base_url)
        await anyio.to_thread.run_sync(_asend, adapter)
        await adapter.asend(HELLO, **OPTIONS)
        await adapter.aclose()
        assert await anyio.to_thread.run_sync(fake_api.wait_open, 0) == 0


class TestYourClients:
    def test_left_open(self, fake_api: FakeMessagesAPI) -> None:
        """Clients passed in are used and left open by with/close; closing them is yours."""
        client = httpx.Client()

        async def use_both() -> None:
            async with httpx.AsyncClient() as mine:
                with AnthropicAdapter(
                    api_key=KEY,
                    base_url=fake_api.base_url,
                    http_client=client,
                    async_http_client=mine,
                ) as adapter:
                    adapter.send(HELLO, **OPTIONS)
                    await adapter.asend(HELLO, **OPTIONS)
                adapter.close()
                assert not mine.is_closed
                assert not client.is_closed
                assert fake_api.wait_open(2) == 2
                client.close()
                assert fake_api.wait_open(1) == 1

        anyio.run(use_both)
        assert fake_api.wait_open(0) == 0

    @pytest.mark.anyio
    async def test_left_open_by_async_with(self, fake_api: FakeMessagesAPI) -> None:
        """async with leaves a client passed in open, connection and all."""
        async with httpx.AsyncClient() as mine:
            async with AnthropicAdapter(
                api_key=KEY, base_url=fake_api.base_url, async_http_client=mine
            ) as adapter:
                await adapter.asend(HELLO, **OPTIONS)
            assert not mine.is_closed
            assert fake_api.open_connections == 1
            assert (await mine.get(fake_api.base_url + "/v1/messages")).status_code
        assert await anyio.to_thread.run_sync(fake_api.wait_open, 0) == 0
