"""The one error tree: every public exception of both packages is defined and drawn once.

Each public module of ``conversation`` and ``adapters`` is imported (found by
walking the packages), and every exception class it defines or exports is
checked: it derives from ``ConversationError``, it is defined in its package's
errors module, and it sits in the tree drawn in ``conversation.errors`` (and in
README.md's copy) under its real base class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import adapters
import conversation
from conversation import ConversationError
from conversation import errors as core_errors

ROOT = Path(conversation.__file__).resolve().parent.parent
OURS = ("conversation", "adapters")
ERRORS_MODULE = {
    "conversation": "conversation.errors",
    "adapters": "adapters.errors",
    "adapters.anthropic": "adapters.anthropic._errors",
    "adapters.openai": "adapters.openai._errors",
}
"""Each package's errors module: where every exception class of that package is defined."""

Tree = dict[str, tuple[str | None, tuple[str, ...]]]
"""A drawn tree: each class's path (its name after its ancestors', dotted) to its parent's
name and the second bases in parentheses. Paths, not names: two providers' adapters
name their errors alike (``RateLimitError``), each under its own base."""

_NODE = re.compile(r"(?P<name>[A-Za-z_]\w*)(?: \((?P<also>\w+(?:, \w+)*)\))?")


def parse_tree(text: str) -> Tree:
    """The tree drawn in ``text``: the lines from ``ConversationError`` to the next blank line.

    A node is the root line or a line whose name follows ``├── `` or ``└── ``;
    its depth is the name's column over four. Other lines continue a description.
    """
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("ConversationError"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    tree: Tree = {}
    parents: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            break
        body = line[indent:]
        column = len(body) - len(body.lstrip(" │├└─"))
        is_root = not tree
        if not is_root and body[column - 4 : column - 1] not in ("├──", "└──"):
            continue
        match = _NODE.match(body, column)
        assert match is not None, f"no class name on tree line {line!r}"
        depth = column // 4
        assert depth <= len(parents), f"{match['name']} is drawn deeper than its parent"
        del parents[depth:]
        also = tuple(match["also"].split(", ")) if match["also"] else ()
        path = ".".join([*parents, match["name"]])
        assert path not in tree, f"{path} is drawn twice"
        tree[path] = (parents[-1] if parents else None, also)
        parents.append(match["name"])
    return tree


def public_modules() -> list[ModuleType]:
    """Both packages and every module in them whose dotted name has no private part."""
    found: list[ModuleType] = []
    for package in (conversation, adapters):
        found.append(package)
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                found.append(importlib.import_module(info.name))
    return found


def exported_exceptions(module: ModuleType) -> set[type[BaseException]]:
    """The exception classes ``module`` offers users: in ``__all__``, or public and ours."""
    exported = set(getattr(module, "__all__", ()))
    found: set[type[BaseException]] = set()
    for name, value in vars(module).items():
        if not (inspect.isclass(value) and issubclass(value, BaseException)):
            continue
        if name in exported or (not name.startswith("_") and value.__module__.startswith(OURS)):
            found.add(value)
    return found


def public_exceptions() -> list[type[BaseException]]:
    found: set[type[BaseException]] = set()
    for module in public_modules():
        found |= exported_exceptions(module)
    return sorted(found, key=lambda cls: (cls.__name__, cls.__module__))


def package_of(cls: type) -> str:
    """The package a class's defining module belongs to (``adapters.anthropic`` for its modules)."""
    module = importlib.import_module(cls.__module__)
    return module.__name__ if hasattr(module, "__path__") else cls.__module__.rpartition(".")[0]


def path_of(cls: type) -> str:
    """``cls``'s place in the tree: its first bases' names from ConversationError down, dotted."""
    names = [cls.__name__]
    while cls is not ConversationError and cls.__bases__[0] is not Exception:
        cls = cls.__bases__[0]
        names.append(cls.__name__)
    return ".".join(reversed(names))


def readme_tree() -> Tree:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Errors", 1)[1]
    block = section.split("```", 2)[1]
    return parse_tree(block)


EXCEPTIONS = public_exceptions()
DRAWN = parse_tree(core_errors.__doc__ or "")


def test_walk_finds_both_packages() -> None:
    """The walk reaches the exceptions of every package (a broken walk would pass the rest)."""
    packages = {package_of(cls) for cls in EXCEPTIONS}
    assert packages >= set(ERRORS_MODULE)
    names = {cls.__name__ for cls in EXCEPTIONS}
    assert {"ActionError", "ToolCallError", "ScriptExhaustedError", "ConflictError"} <= names


@pytest.mark.parametrize("cls", EXCEPTIONS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
class TestEachPublicException:
    def test_is_a_conversation_error(self, cls: type[BaseException]) -> None:
        """One ``except ConversationError`` catches everything the library raises on purpose."""
        assert issubclass(cls, ConversationError)

    def test_defined_in_its_packages_errors_module(self, cls: type[BaseException]) -> None:
        """Every exception class of a package lives in that package's errors module."""
        assert cls.__module__ == ERRORS_MODULE[package_of(cls)]

    def test_drawn_under_its_base(self, cls: type[BaseException]) -> None:
        """The drawn tree puts it under its real base, naming any second base in parentheses."""
        path = path_of(cls)
        assert path in DRAWN, f"{path} is not drawn in conversation.errors"
        parent, also = DRAWN[path]
        bases = tuple(base.__name__ for base in cls.__bases__)
        if cls is ConversationError:
            assert parent is None
        else:
            assert (parent, *also) == bases

    def test_listed_in_readme(self, cls: type[BaseException]) -> None:
        """README.md's Errors tree lists it too."""
        assert path_of(cls) in readme_tree()


def test_tree_draws_only_real_classes() -> None:
    """No drawn name is stale: each is a public exception found by the walk."""
    assert set(DRAWN) == {path_of(cls) for cls in EXCEPTIONS}


def test_readme_tree_is_the_drawn_tree() -> None:
    """README.md shows the same tree, parent for parent, as conversation.errors draws."""
    assert readme_tree() == DRAWN


def test_private_module_exceptions_stay_private() -> None:
    """An exception class of a private module outside the errors modules is never exported.

    Such classes are signals caught inside the package, not errors a user sees.
    """
    offered = {cls for module in public_modules() for cls in exported_exceptions(module)}
    for package in (conversation, adapters):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if info.name in ERRORS_MODULE.values() or info.name.endswith("__main__"):
                continue
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == info.name
                ):
                    assert value not in offered, f"{info.name}.{value.__name__} is public"


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("conversation.tools", ["ArgumentError", "SchemaError", "ToolCallError", "ToolLoopError"]),
        ("conversation.structured", ["ExtractionError"]),
        ("conversation.computer", ["ActionError"]),
        ("adapters.scripted", ["ScriptExhaustedError"]),
        (
            "adapters",
            [
                "AdapterError",
                "ScriptExhaustedError",
                "StreamInterruptedError",
                "StreamNotConsumedError",
            ],
        ),
    ],
)
def test_old_import_places_still_work(module: str, names: list[str]) -> None:
    """The modules users imported each exception from still export the same class."""
    imported = importlib.import_module(module)
    for name in names:
        assert name in imported.__all__
        cls = getattr(imported, name)
        assert cls.__module__ in ERRORS_MODULE.values()


@pytest.mark.parametrize(("package", "errors_module"), sorted(ERRORS_MODULE.items()))
def test_each_package_exports_its_errors(package: str, errors_module: str) -> None:
    """Each package exports every error its errors module defines."""
    exported = set(importlib.import_module(package).__all__)
    for cls in EXCEPTIONS:
        if cls.__module__ == errors_module:
            assert cls.__name__ in exported, f"{package} does not export {cls.__name__}"
