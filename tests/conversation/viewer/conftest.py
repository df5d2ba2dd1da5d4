"""Fixtures of the viewer tests: a sample store file, the real server over it, Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import pytest

from tests.conversation.viewer.data import Sample, build
from tests.conversation.viewer.serving import ENV_REQUIRE, Server, chromium_missing, launch

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    """The sample store (tests/conversation/viewer/data.py) in a fresh SQLite file."""
    return build(tmp_path_factory.mktemp("viewer") / "chats.db")


@pytest.fixture(scope="module")
def server(sample: Sample) -> Iterator[Server]:
    """``conversation serve --port 0`` over the sample store, stopped after the module."""
    running = Server.start(sample.path)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless: skips without it, unless CONVERSATION_REQUIRE_CHROMIUM."""
    missing = chromium_missing()
    if missing:
        if os.environ.get(ENV_REQUIRE):  # CI: never skipped in silence
            pytest.fail(f"{ENV_REQUIRE} is set, but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


@attrs.define
class Tab:
    """A browser page, with what it said on its console and every dialog it tried to open."""

    page: Page
    base: str
    console: list[str] = attrs.field(factory=list)
    dialogs: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)

    def open(self, path: str) -> Page:
        """Go to ``path`` of the viewer and wait for the page to load."""
        response = self.page.goto(self.base + path.lstrip("/"))
        assert response is not None
        assert response.status == 200, (path, response.status)
        return self.page

    def shot(self, folder: Path, name: str) -> None:
        """A full-page screenshot in ``folder`` (pytest's tmp_path), to look at by hand."""
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def tab(browser: Browser, server: Server) -> Iterator[Tab]:
    """A new page in its own browser context; records console messages and dialogs."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    opened = Tab(page, server.url)
    page.on("console", lambda message: opened.console.append(message.text))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))

    def dialog(shown: object) -> None:
        opened.dialogs.append(str(getattr(shown, "message", shown)))
        shown.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dialog)
    yield opened
    context.close()
