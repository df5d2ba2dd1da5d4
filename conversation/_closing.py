"""``with`` and ``async with`` for what has a ``close`` and an ``aclose``, written once.

Stores, imported exports, adapters and streams let go of what they hold on
leaving the block; they give ``close``/``aclose`` and inherit the context
manager methods from here (the adapters package reuses this core module).
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["AsyncClosing", "Closing"]


class Closing:
    """``with obj:`` gives ``obj`` and calls ``obj.close()`` on leaving."""

    def close(self) -> None:
        """Let go of what this object holds."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class AsyncClosing:
    """``async with obj:`` gives ``obj`` and awaits ``obj.aclose()`` on leaving."""

    async def aclose(self) -> None:
        """Let go of what this object holds."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
