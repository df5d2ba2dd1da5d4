"""Adapters by name: the entry points of the ``conversation.adapters`` group.

A distribution offers an adapter by declaring an entry point in that group,
its name the adapter's and its object what makes one (a class, or any
callable taking the settings as keywords)::

    [project.entry-points."conversation.adapters"]
    myprovider = "myprovider_adapter:MyAdapter"

This library registers its own the same way (``anthropic``, ``openai``,
``scripted``), so ``load("openai", base_url=...)`` and
``OpenAIAdapter(base_url=...)`` are the same thing, and a program can pick
its provider from configuration without importing it.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any, Final

from conversation import AdapterError

from ._base import Adapter
from .errors import UnknownAdapterError

__all__ = ["GROUP", "available", "load"]

GROUP: Final = "conversation.adapters"
"""The entry-point group adapters are registered in."""


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for point in entry_points(group=GROUP):
        found.setdefault(point.name, point)  # the first distribution on sys.path wins
    return found


def available() -> tuple[str, ...]:
    """The names of the adapters installed, sorted.

    >>> {"anthropic", "openai", "scripted"} <= set(available())
    True
    """
    return tuple(sorted(_entry_points()))


def load(name: str, /, **settings: Any) -> Adapter:
    """A new adapter of the installed kind ``name``, made with ``settings``.

    ``load("openai", base_url="http://localhost:11434/v1")`` imports the
    entry point's object and calls it with the settings. Raises
    :class:`~adapters.UnknownAdapterError` (listing what is installed) for a
    name no installed distribution registers, and
    :class:`~conversation.AdapterError` if what it made is not an adapter.

    >>> adapter = load("scripted", replies=["Hi!"])
    >>> type(adapter).__name__
    'ScriptedAdapter'
    """
    points = _entry_points()
    point = points.get(name) if isinstance(name, str) else None
    if point is None:
        raise UnknownAdapterError(str(name), sorted(points))
    made = point.load()(**settings)
    if not isinstance(made, Adapter):
        raise AdapterError(
            f"the adapter entry point {name!r} ({point.value}) made a {type(made).__name__}, "
            "which has no send and asend; register a class (or factory) of adapters"
        )
    return made
