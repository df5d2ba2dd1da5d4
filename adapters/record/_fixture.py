"""What the pytest plugin hands a test: its cassette's path and mode, and an adapter over it.

Kept apart from :mod:`adapters.record.pytest_plugin` so that it can be
imported (and named in a test's type hints) without pytest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, cast

import attrs

from adapters._base import Adapter

from ._adapters import ReplayAdapter
from ._cassette import RecordMode, check_mode, needs_adapter

__all__ = ["DEFAULT_MODE", "MODE_VARIABLE", "CassetteFixture", "mode_from"]

MODE_VARIABLE: Final = "CONVERSATION_RECORD_MODE"
"""The environment variable read for the record mode when ``--record-mode`` is not given."""

DEFAULT_MODE: Final[RecordMode] = "once"

_ALIASES: Final[Mapping[str, RecordMode]] = {"rewrite": "all"}
"""pytest-recording's names for a mode, where they differ from ours."""


def mode_from(option: str | None, environ: Mapping[str, str] = os.environ) -> RecordMode:
    """The record mode: ``option`` (``--record-mode``), else the environment, else ``once``."""
    chosen = option or environ.get(MODE_VARIABLE, "").strip() or DEFAULT_MODE
    return check_mode(_ALIASES.get(chosen, chosen))


@attrs.frozen
class CassetteFixture:
    """One test's cassette: where it is, the record mode, and :meth:`adapter` to use it."""

    path: Path
    mode: RecordMode

    @property
    def records(self) -> bool:
        """Whether this run may record (so needs an adapter to ask)."""
        return needs_adapter(self.mode, self.path)

    def adapter(
        self,
        inner: Adapter | Callable[[], Adapter] | None = None,
        *,
        default_options: Mapping[str, Any] | None = None,
        allow_repeats: bool = False,
    ) -> ReplayAdapter:
        """A :class:`ReplayAdapter` over this cassette, in this run's mode.

        ``inner`` answers what is recorded: an adapter, or a callable that
        makes one (``AnthropicAdapter`` itself, a lambda), called only when
        this run records, so a replaying run needs no API key and no network.
        """
        fallback = _made(inner) if self.records and inner is not None else None
        return ReplayAdapter(
            self.path,
            fallback,
            mode=self.mode,
            default_options=default_options,
            allow_repeats=allow_repeats,
        )


def _made(inner: Adapter | Callable[[], Adapter]) -> Adapter:
    """``inner`` if it is an adapter, else what calling it makes (a class is called)."""
    if isinstance(inner, type) or not hasattr(inner, "send"):
        return cast("Callable[[], Adapter]", inner)()
    return cast(Adapter, inner)
