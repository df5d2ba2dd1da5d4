"""Tests for adapters.load / adapters.available: adapters by name, through entry points.

The third-party case is real: a tiny distribution (a module and its
``.dist-info`` with ``entry_points.txt``, as pip writes them) is put on
``sys.path`` for the test, so ``importlib.metadata`` finds it as it would an
installed package, and its adapter loads by name without this library
knowing of it.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import adapters
from adapters import AdapterError, ScriptedAdapter, UnknownAdapterError, available, load
from adapters.anthropic import AnthropicAdapter
from adapters.openai import OpenAIAdapter
from conversation import Conversation, ConversationError

ACME = '''
"""A third party's adapter: it answers every conversation with its greeting."""

from conversation import Conversation


class EchoAdapter:
    def __init__(self, greeting: str = "Hello") -> None:
        self.greeting = greeting

    def send(self, conversation: Conversation, /, **options: object) -> Conversation:
        return conversation.fold({"content": [{"type": "text", "text": self.greeting}]})

    async def asend(self, conversation: Conversation, /, **options: object) -> Conversation:
        return self.send(conversation, **options)


def not_an_adapter(**settings: object) -> object:
    return settings
'''


def install_distribution(
    root: Path, name: str, module: str, source: str, entry_points: str
) -> None:
    """Write the distribution ``name`` (module and dist-info) into ``root``, as pip would."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")
    (info / "RECORD").write_text("", encoding="utf-8")


@pytest.fixture
def acme(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The distribution ``acme-adapter`` installed on sys.path for this test."""
    install_distribution(
        tmp_path,
        "acme_adapter",
        "acme_adapter",
        ACME,
        """
        [conversation.adapters]
        acme = acme_adapter:EchoAdapter
        broken = acme_adapter:not_an_adapter
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "acme"
    sys.modules.pop("acme_adapter", None)


class TestBuiltIn:
    def test_available_lists_the_built_in_adapters(self) -> None:
        """The adapters of this library are registered like anyone's."""
        assert {"anthropic", "openai", "scripted"} <= set(available())
        assert list(available()) == sorted(available())

    @pytest.mark.parametrize(
        ("name", "settings", "cls"),
        [
            ("anthropic", {"api_key": "sk-ant-test-key-1234"}, AnthropicAdapter),
            ("openai", {"base_url": "http://127.0.0.1:9/v1"}, OpenAIAdapter),
            ("scripted", {"replies": ["Hi!"]}, ScriptedAdapter),
        ],
    )
    def test_load_makes_each(self, name: str, settings: dict[str, object], cls: type) -> None:
        """load(name, **settings) is the class called with the settings."""
        adapter = load(name, **settings)
        assert type(adapter) is cls
        assert isinstance(adapter, adapters.Adapter)

    def test_loaded_adapter_works(self) -> None:
        loaded = load("scripted", replies=["Paris."])
        last = loaded.send(Conversation().user("Capital of France?")).last
        assert last is not None
        assert last.text == "Paris."

    def test_unknown_name_lists_what_is_installed(self) -> None:
        """An unknown name is a clear LookupError naming every installed adapter."""
        with pytest.raises(UnknownAdapterError) as info:
            load("opneai")
        error = info.value
        assert isinstance(error, ConversationError)
        assert isinstance(error, LookupError)
        assert error.name == "opneai"
        assert {"anthropic", "openai", "scripted"} <= set(error.available)
        for name in ("'opneai'", "'anthropic'", "'openai'", "'scripted'", "conversation.adapters"):
            assert name in str(error)

    def test_settings_errors_are_the_adapters_own(self) -> None:
        """Bad settings fail as the adapter's constructor fails (here: no key)."""
        with pytest.raises(ConversationError, match="ANTHROPIC_API_KEY"):
            load("anthropic", api_key="")


class TestThirdParty:
    def test_installed_distribution_is_found(self, acme: str) -> None:
        assert acme in available()
        assert {"anthropic", "openai", "scripted"} <= set(available())

    def test_load_by_name(self, acme: str) -> None:
        """The third party's adapter loads by name and sends, this library untouched."""
        adapter = load(acme, greeting="Bonjour")
        assert type(adapter).__name__ == "EchoAdapter"
        last = adapter.send(Conversation().user("Hi")).last
        assert last is not None
        assert last.text == "Bonjour"

    def test_unknown_name_lists_it(self, acme: str) -> None:
        with pytest.raises(UnknownAdapterError, match="'acme'"):
            load("acne")

    def test_not_an_adapter_is_refused(self, acme: str) -> None:
        """An entry point that makes something without send/asend is refused, clearly."""
        with pytest.raises(AdapterError, match=r"'broken' \(acme_adapter:not_an_adapter\)"):
            load("broken")

    def test_gone_once_uninstalled(self, tmp_path: Path) -> None:
        """Without the distribution on sys.path, its name is unknown again."""
        assert "acme" not in available()
