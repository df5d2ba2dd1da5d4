"""RecordingAdapter and ReplayAdapter: any adapter's exchanges, recorded to a cassette and replayed.

Both are one kind of adapter: a cassette, a record mode, and maybe an adapter
behind it that answers what the cassette lacks. They differ in what they are
for, and so in their defaults: a :class:`RecordingAdapter` wraps a live
adapter and records every exchange (mode ``all``); a :class:`ReplayAdapter`
serves a cassette offline (mode ``none``), or with a ``fallback`` adapter
records only what is new (mode ``new_episodes``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

from adapters._base import Adapter, check_defaults
from conversation import Conversation, MalformedInputError

from ._cassette import Cassette, RecordMode, check_mode
from ._engine import Call, Engine
from ._streams import AsyncCassetteStream, CassetteStream

__all__ = ["RecordingAdapter", "ReplayAdapter"]


class _CassetteAdapter:
    """send/asend/stream/astream/count_tokens/acount_tokens over a cassette and an adapter."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        upstream: Adapter | None,
        mode: RecordMode,
        *,
        default_options: Mapping[str, Any] | None,
        allow_repeats: bool,
    ) -> None:
        if not isinstance(path, str | os.PathLike):
            raise MalformedInputError(
                f"the cassette path must be a str or a path, got {type(path).__name__}", "path"
            )
        checked = check_mode(mode)
        defaults = check_defaults(default_options)
        cassette = Cassette(Path(path), checked, allow_repeats=allow_repeats)
        if cassette.records and upstream is None:
            raise MalformedInputError(
                f"mode {checked!r} records what the cassette {cassette.path} lacks, so it needs "
                "an adapter to ask: ReplayAdapter(path, fallback=adapter, mode=...), or "
                "mode='none' to replay only",
                "mode",
            )
        self._engine = Engine(cassette, upstream, defaults)

    @property
    def path(self) -> Path:
        """The cassette file."""
        return self._engine.cassette.path

    @property
    def mode(self) -> RecordMode:
        """The record mode (see :mod:`adapters.record`)."""
        return self._engine.cassette.mode

    @property
    def default_options(self) -> dict[str, Any]:
        """The options every request starts from (a copy); they are part of what is matched."""
        return dict(self._engine.defaults)

    def __len__(self) -> int:
        """How many exchanges the cassette holds (read, and recorded in this run)."""
        return len(self._engine.cassette)

    # -- one request: only the call to the adapter behind differs between the twins ------

    def _answer(self, call: Call) -> Any:
        exchange = self._engine.lookup(call)
        if exchange is not None:
            return self._engine.replay(call, exchange)
        method = self._engine.method(call, sync=True)
        try:
            result = method(call.conversation, **call.options)
        except Exception as exc:
            self._engine.failed(call, exc)
            raise
        return self._engine.keep(call, result)

    async def _aanswer(self, call: Call) -> Any:
        exchange = self._engine.lookup(call)
        if exchange is not None:
            return self._engine.replay(call, exchange)
        method = self._engine.method(call, sync=False)
        try:
            result = await method(call.conversation, **call.options)
        except Exception as exc:
            self._engine.failed(call, exc)
            raise
        return self._engine.keep(call, result)

    # -- the adapter ------------------------------------------------------------------------

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """``conversation`` with the reply folded in: the recorded one, or a new one recorded.

        Raises :class:`~conversation.RuleViolationError` before anything else,
        the recorded error if the recorded exchange failed, and
        :class:`~adapters.CassetteMissError` for a request the cassette lacks
        when the mode does not record.
        """
        return cast(Conversation, self._answer(self._engine.call("send", conversation, options)))

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation:
        """Like :meth:`send`, for ``await``."""
        call = self._engine.call("send", conversation, options)
        return cast(Conversation, await self._aanswer(call))

    def count_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """The count of input tokens: recorded, or asked of the adapter behind and recorded."""
        return cast(int, self._answer(self._engine.call("count_tokens", conversation, options)))

    async def acount_tokens(self, conversation: Conversation, /, **options: Any) -> int:
        """Like :meth:`count_tokens`, for ``await``."""
        call = self._engine.call("count_tokens", conversation, options)
        return cast(int, await self._aanswer(call))

    def stream(self, conversation: Conversation, /, **options: Any) -> CassetteStream:
        """The reply as a stream of events: the recorded ones, or the live ones, recorded.

        The request is checked now, and looked up (or sent) when the stream is
        entered or first read.
        """
        return CassetteStream(self._engine, self._engine.call("stream", conversation, options))

    def astream(self, conversation: Conversation, /, **options: Any) -> AsyncCassetteStream:
        """Like :meth:`stream`, for ``async with`` / ``async for`` (not awaited itself)."""
        call = self._engine.call("stream", conversation, options)
        return AsyncCassetteStream(self._engine, call)

    def __repr__(self) -> str:
        upstream = self._engine.upstream
        behind = "" if upstream is None else f" over {type(upstream).__name__}"
        return (
            f"<{type(self).__name__} {str(self.path)!r} mode={self.mode!r}{behind}: "
            f"{len(self)} exchanges>"
        )


class RecordingAdapter(_CassetteAdapter):
    """Passes every request through to ``inner`` and records each exchange to ``path``.

    ``mode`` is ``"all"`` by default: every request goes to ``inner``, and the
    cassette is written anew from the first exchange on. ``"new_episodes"``
    replays what is recorded and records the rest; ``"once"`` records only if
    the cassette does not exist yet. ``default_options`` are merged under each
    call's options, as any adapter's are, and are part of the recorded
    request; ``inner``'s own defaults are not seen (nor recorded).

    >>> import tempfile, pathlib
    >>> from adapters.scripted import ScriptedAdapter
    >>> from conversation import Conversation
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "hello.jsonl"
    >>> live = RecordingAdapter(ScriptedAdapter(["Hi!"]), path)
    >>> live.send(Conversation().user("Hello"), max_tokens=64).last.text
    'Hi!'
    >>> ReplayAdapter(path).send(Conversation().user("Hello"), max_tokens=64).last.text
    'Hi!'
    """

    def __init__(
        self,
        inner: Adapter,
        path: str | os.PathLike[str],
        *,
        mode: RecordMode = "all",
        default_options: Mapping[str, Any] | None = None,
        allow_repeats: bool = False,
    ) -> None:
        if inner is None:
            raise MalformedInputError("RecordingAdapter needs an adapter to record", "inner")
        super().__init__(
            path, inner, mode, default_options=default_options, allow_repeats=allow_repeats
        )

    @property
    def inner(self) -> Adapter:
        """The adapter whose exchanges are recorded."""
        return cast(Adapter, self._engine.upstream)


class ReplayAdapter(_CassetteAdapter):
    """Serves the exchanges recorded in the cassette at ``path``, offline.

    Requests are matched by content (their kind and body), not order; a
    request recorded several times is answered in recorded order, and after
    that (unless ``allow_repeats``) counts as not recorded. A request the
    cassette lacks raises :class:`~adapters.CassetteMissError` naming the
    closest recorded one, unless ``fallback`` (an adapter) may answer it: then
    its exchange is recorded. ``mode`` is ``"none"`` (replay only) without a
    fallback and ``"new_episodes"`` with one; see :mod:`adapters.record` for
    the others. ``default_options`` are merged under each call's options and
    are part of the request matched: give the ones the recording had.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fallback: Adapter | None = None,
        *,
        mode: RecordMode | None = None,
        default_options: Mapping[str, Any] | None = None,
        allow_repeats: bool = False,
    ) -> None:
        if mode is None:
            mode = "none" if fallback is None else "new_episodes"
        super().__init__(
            path, fallback, mode, default_options=default_options, allow_repeats=allow_repeats
        )

    @property
    def fallback(self) -> Adapter | None:
        """The adapter that answers (and has recorded) what the cassette lacks, if any."""
        return cast("Adapter | None", self._engine.upstream)
