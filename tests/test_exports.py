"""Tests for the public names of each package: ``__all__`` is exact, sorted and importable."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import conversation
from conversation import errors

ROOT = Path(conversation.__file__).resolve().parent.parent


def public_names(module: ModuleType) -> list[str]:
    """The names a package defines for users: not private, not its submodules."""
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    )


def adapters_package() -> ModuleType:
    """The project's own adapters package, or skip when it does not exist yet."""
    if not (ROOT / "adapters" / "__init__.py").is_file():
        pytest.skip("adapters/__init__.py does not exist yet")
    spec = importlib.util.find_spec("adapters")
    assert spec is not None
    assert spec.origin is not None
    assert Path(spec.origin).resolve() == ROOT / "adapters" / "__init__.py"
    return importlib.import_module("adapters")


def test_conversation_all_is_exact_and_sorted() -> None:
    """conversation.__all__ is the sorted list of every public name the package defines."""
    assert conversation.__all__ == sorted(conversation.__all__)
    assert conversation.__all__ == public_names(conversation)
    assert len(set(conversation.__all__)) == len(conversation.__all__)


def test_conversation_names_importable() -> None:
    """Every name in conversation.__all__ can be imported from the package."""
    for name in conversation.__all__:
        namespace: dict[str, object] = {}
        exec(f"from conversation import {name}", namespace)
        assert namespace[name] is getattr(conversation, name)


def test_contract_names_exported() -> None:
    """The names design.md promises are exported from conversation."""
    promised = {
        "Conversation",
        "ConversationError",
        "Text",
        "Image",
        "Document",
        "ToolUse",
        "ToolResult",
        "Thinking",
        "RedactedThinking",
        "UnknownBlock",
    }
    assert promised <= set(conversation.__all__)


def test_errors_all_subclass_conversation_error() -> None:
    """Every exception class of the library subclasses ConversationError."""
    exported = [
        value
        for name in conversation.__all__
        if isinstance(value := getattr(conversation, name), type)
        and issubclass(value, BaseException)
    ]
    defined = [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, BaseException)
        and value.__module__ == errors.__name__
    ]
    assert len(exported) >= 7
    assert set(defined) <= set(exported)
    for cls in exported:
        assert issubclass(cls, conversation.ConversationError), cls
    assert errors.__all__ == sorted(errors.__all__)
    assert issubclass(conversation.MalformedInputError, ValueError)


def test_adapters_all_is_exact_and_sorted() -> None:
    """adapters.__all__ (when the package exists) is sorted, exact and importable."""
    adapters = adapters_package()
    names = adapters.__all__
    assert names == sorted(names)
    assert names == public_names(adapters)
    for name in names:
        namespace: dict[str, object] = {}
        exec(f"from adapters import {name}", namespace)
        assert namespace[name] is getattr(adapters, name)


def test_adapters_errors_subclass_conversation_error() -> None:
    """Every exception class adapters exports is a ConversationError (an AdapterError)."""
    adapters = adapters_package()
    for name in adapters.__all__:
        value = getattr(adapters, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, conversation.ConversationError), name
