"""Which model answers ``chat`` and ``replay``: an adapter picked by name, or the offline one.

``--adapter NAME`` loads an installed adapter through the registry
(:func:`adapters.load`). Without it, Anthropic answers when
``ANTHROPIC_API_KEY`` is set, and otherwise the offline model: a
:class:`~adapters.scripted.FunctionAdapter` that echoes the last user turn,
streamed word by word like any reply, so the tool works (and can be tried)
with no key and no network. The registry's own ``scripted`` entry needs its
replies written in advance, so ``--adapter scripted`` means this offline
model here. The command line's package imports ``adapters`` only in this
module, and only when a command needs a model.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._conversation import Conversation
from ..errors import MalformedInputError

if TYPE_CHECKING:
    from adapters import Adapter

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "OFFLINE",
    "Model",
    "add_model_args",
    "close",
    "close_adapter",
    "pick",
]

OFFLINE: Final = "scripted"
"""The adapter name of the offline model."""

DEFAULT_MODELS: Final[Mapping[str, str]] = MappingProxyType({"anthropic": "claude-sonnet-4-5"})
"""The model asked for when ``--model`` is not given; other adapters need ``--model``."""

DEFAULT_MAX_TOKENS: Final = 1024

_PACE: Final = 0.02
"""Seconds between the offline model's words on screen: its reply exists at once, but a
person should see it stream as a real one does."""


@attrs.frozen
class Model:
    """An adapter, the request options every call sends, and what to tell a person about it.

    ``notice`` is one line saying the model is offline (None for a real one);
    ``pace`` the seconds to wait between streamed pieces when showing them.
    """

    adapter: Adapter
    adapter_name: str
    options: Mapping[str, Any]
    notice: str | None = None
    pace: float = 0.0

    @property
    def name(self) -> str:
        """The model's name, as requests carry it."""
        return str(self.options["model"])


def add_model_args(parser: argparse.ArgumentParser) -> None:
    """``--adapter``, ``--model`` and ``--max-tokens``, shared by ``chat`` and ``replay``."""
    parser.add_argument(
        "--adapter",
        metavar="NAME",
        help=(
            "the adapter, by its registered name (anthropic, openai, scripted, or another "
            "installed one); default: anthropic when ANTHROPIC_API_KEY is set, else the "
            f"offline {OFFLINE} model, which echoes"
        ),
    )
    parser.add_argument(
        "--model",
        metavar="M",
        help=f"the model to ask (default for anthropic: {DEFAULT_MODELS['anthropic']})",
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        metavar="N",
        help=f"the longest reply, in tokens (default: {DEFAULT_MAX_TOKENS})",
    )


def _echo(conversation: Conversation, options: dict[str, Any]) -> str:
    """The offline model's reply: the last user turn, said back."""
    said = next((t.text for t in reversed(conversation.turns) if t.role == "user"), "")
    said = " ".join(said.split()) or "nothing I can read"
    return f"You said: {said}"


def pick(args: argparse.Namespace) -> Model:
    """The model the command line's ``--adapter``, ``--model`` and ``--max-tokens`` name.

    Raises :class:`~adapters.UnknownAdapterError` for a name that is not
    installed, the adapter's own error when it cannot be made (no API key),
    and :class:`~conversation.MalformedInputError` when no model is named for
    an adapter that has no default one.
    """
    name: str | None = args.adapter
    chosen = name is not None
    if name is None:
        name = "anthropic" if os.environ.get("ANTHROPIC_API_KEY") else OFFLINE
    if args.max_tokens < 1:
        raise MalformedInputError(
            f"--max-tokens must be at least 1, got {args.max_tokens}", "--max-tokens"
        )
    if name == OFFLINE:
        from adapters.scripted import FunctionAdapter

        why = "" if chosen else "no ANTHROPIC_API_KEY, so "
        notice = (
            f"offline: {why}a scripted model echoes you; set ANTHROPIC_API_KEY "
            "(or use --adapter NAME --model M) for a real model"
        )
        options = {"model": args.model or OFFLINE, "max_tokens": args.max_tokens}
        return Model(FunctionAdapter(_echo, model=OFFLINE), name, options, notice, _PACE)
    from adapters import load

    adapter = load(name)
    model = args.model or DEFAULT_MODELS.get(name)
    if model is None:
        close_adapter(adapter)
        raise MalformedInputError(
            f"the {name} adapter has no default model: name one with --model M", "--model"
        )
    return Model(adapter, name, {"model": model, "max_tokens": args.max_tokens})


def close(model: Model) -> None:
    """Close the model's adapter."""
    close_adapter(model.adapter)


def close_adapter(adapter: object) -> None:
    """Close an adapter's connections, for adapters that hold some."""
    closer = getattr(adapter, "close", None)
    if callable(closer):
        closer()
