"""The command-line package's own promises: its docstring lists every command, and the
modules of ``chat`` and ``replay`` say what each function is for."""

from __future__ import annotations

import argparse
import ast
import inspect
from types import ModuleType

import pytest

import conversation.cli
from conversation.cli import _adapter, _chat, _chat_commands, _replay, _secrets
from conversation.cli._app import _parser


def test_the_package_docstring_names_every_command() -> None:
    (commands,) = [
        action
        for action in _parser("conversation")._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    assert set(commands.choices) == {
        "demo", "ls", "show", "export", "import", "chat", "replay", "serve",
    }  # fmt: skip
    doc = conversation.cli.__doc__ or ""
    missing = [name for name in commands.choices if f"``{name}``" not in doc]
    assert not missing, f"conversation/cli/__init__.py does not name {missing}"


@pytest.mark.parametrize("module", [_adapter, _chat, _chat_commands, _replay, _secrets])
def test_every_function_says_what_it_is_for(module: ModuleType) -> None:
    """Each function and class (``__init__`` aside: its class says it) has a docstring;
    each public name of the module is in ``__all__``."""
    tree = ast.parse(inspect.getsource(module))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    bare = [
        f"{node.name} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, kinds) and node.name != "__init__" and not ast.get_docstring(node)
    ]
    assert not bare, f"{module.__name__}: no docstring on {bare}"
    public = [
        node.name for node in tree.body if isinstance(node, kinds) and not node.name.startswith("_")
    ]
    assert set(public) <= set(module.__all__)
