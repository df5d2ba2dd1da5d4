"""Replay past dialogues: the same user turns, the assistant turns written again by a model.

:func:`replay` re-runs a stored dialogue turn by turn from its system prompt
(give it another one with ``c.with_system(...)``): it keeps each user turn,
sends the branch so far for each turn a model wrote, and keeps the program's
own (synthetic) assistant turns and prefills, a prefill being sent for the
model to continue as before (``regenerate_synthetic=True`` has a model write
those too). The result is a new branch beside the original, with the same
system prompt: ``result.diff`` is ``original.diff(result.conversation)``.

A dialogue that used tools replays with ``tools=[...]`` run by the tool loop
(:func:`~conversation.tools.run_tools`). Without them, the recorded tool
results are reused while the model asks for the same calls (same names and
inputs; the new calls' ids go into the reused results); the first call that
differs, or a recorded call the model no longer makes, ends the replay with
the branch so far and ``reason`` saying what happened.

:func:`replay_many` replays many dialogues at once (async underneath, at most
``concurrency`` in flight): one :class:`ReplayResult` per input, in order,
a failed dialogue reporting its ``error`` while the rest go on. With
``store=``, each finished branch is saved as it completes and a later run
loads it instead of replaying again, so an interrupted run resumes where it
stopped (the names are described in ``conversation._replay_store``). When
dialogues share a prefix (a system prompt, opening turns), their requests
carry a cache breakpoint at its end, so they read it from the prompt cache.
With ``batch=True`` the requests go through the adapter's batch engine
instead (``asend_batch``), a round of every dialogue's next request at a time.

>>> from adapters.scripted import ScriptedAdapter
>>> from conversation import Conversation
>>> old = Conversation(system="Be brief.").user("Hi").assistant("Hello").user("Bye")
>>> old = old.fold({"content": [{"type": "text", "text": "Ciao"}], "model": "old-model"})
>>> result = replay(old, ScriptedAdapter(["Hello"]), max_tokens=64)
>>> result.conversation[-1].text, result.complete, len(result.diff.common)
('Hello', True, 3)

The decisions are one plan (``conversation._replay_plan``); :func:`replay`
and :func:`areplay` only send, blocking or awaited.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import anyio
import attrs

from ._conversation import Conversation
from ._diff import Diff
from ._replay_batch import BatchSender, Finished, replay_in_batches
from ._replay_cache import cache_points
from ._replay_plan import NOTE_KEY, LoopStep, ReplayPlan, SendStep, plan, stable_length
from ._replay_progress import Progress
from ._replay_store import load_done, replay_name, settings_key
from ._steps import AsyncSender, Sender, adrive, drive
from .errors import MalformedInputError, quote, type_name
from .store import Store
from .tools import ToolLike, _Toolbox, arun_tools, run_tools

__all__ = [
    "NOTE_KEY",
    "ReplayResult",
    "Replayed",
    "areplay",
    "areplay_many",
    "replay",
    "replay_many",
]


@attrs.frozen
class Replayed:
    """A replayed dialogue: the ``original`` and the new branch, ``conversation``.

    ``reason`` says why the replay stopped before the end of the original
    (the model asked for other tool calls than the recorded ones), None when
    it went through. The branch's metadata notes the same under
    :data:`NOTE_KEY` (``{"original": id, "reason": ...}``).
    """

    original: Conversation
    conversation: Conversation
    reason: str | None = None

    @property
    def complete(self) -> bool:
        """True when every turn of the original was replayed."""
        return self.reason is None

    @property
    def diff(self) -> Diff:
        """``original.diff(conversation)``: the turns kept, then each side's own."""
        return self.original.diff(self.conversation)


@attrs.frozen
class ReplayResult:
    """One dialogue of :func:`replay_many`: the new branch, or the error that stopped it.

    ``conversation`` is the new branch (None when ``error`` is set), ``reason``
    why it stopped early (see :class:`Replayed`), and ``resumed`` is True when
    the branch was loaded from the store, replayed by an earlier run.
    """

    original: Conversation
    conversation: Conversation | None = None
    error: Exception | None = None
    reason: str | None = None
    resumed: bool = False

    @property
    def complete(self) -> bool:
        """True when the dialogue was replayed to its end."""
        return self.error is None and self.reason is None


def replay(
    conversation: Conversation,
    adapter: Sender,
    *,
    tools: Iterable[ToolLike] | None = None,
    regenerate_synthetic: bool = False,
    **options: Any,
) -> Replayed:
    """Replay ``conversation`` with ``adapter``, each request carrying ``options``.

    See the module doc. Adapter and tool-loop errors propagate unchanged.
    """
    return _replay(conversation, adapter, tools, regenerate_synthetic, None, options)


async def areplay(
    conversation: Conversation,
    adapter: AsyncSender,
    *,
    tools: Iterable[ToolLike] | None = None,
    regenerate_synthetic: bool = False,
    **options: Any,
) -> Replayed:
    """:func:`replay` with ``await adapter.asend`` (and :func:`arun_tools`)."""
    return await _areplay(conversation, adapter, tools, regenerate_synthetic, None, options)


def _replay(
    original: Conversation,
    adapter: Sender,
    tools: Iterable[ToolLike] | None,
    regenerate_synthetic: bool,
    cache_at: int | None,
    options: dict[str, Any],
) -> Replayed:
    tool_list, steps = _planned(original, tools, regenerate_synthetic, cache_at)

    def do(step: SendStep | LoopStep) -> Conversation:
        if isinstance(step, LoopStep):
            assert tool_list is not None
            return run_tools(step.conversation, adapter, tool_list, **options)
        return adapter.send(step.conversation, **options)

    return _result(original, *drive(steps, do))


async def _areplay(
    original: Conversation,
    adapter: AsyncSender,
    tools: Iterable[ToolLike] | None,
    regenerate_synthetic: bool,
    cache_at: int | None,
    options: dict[str, Any],
) -> Replayed:
    tool_list, steps = _planned(original, tools, regenerate_synthetic, cache_at)

    async def do(step: SendStep | LoopStep) -> Conversation:
        if isinstance(step, LoopStep):
            assert tool_list is not None
            return await arun_tools(step.conversation, adapter, tool_list, **options)
        return await adapter.asend(step.conversation, **options)

    return _result(original, *await adrive(steps, do))


def _planned(
    original: Conversation,
    tools: Iterable[ToolLike] | None,
    regenerate_synthetic: bool,
    cache_at: int | None,
) -> tuple[list[ToolLike] | None, ReplayPlan]:
    """The tools as a list (None: reuse the recorded results) and the replay's plan,
    once the arguments are checked."""
    _check(original, regenerate_synthetic)
    tool_list = _tool_list(tools)
    steps = plan(
        original,
        tools=tool_list is not None,
        regenerate_synthetic=regenerate_synthetic,
        cache_at=cache_at,
    )
    return tool_list, steps


def _tool_list(tools: Iterable[ToolLike] | None) -> list[ToolLike] | None:
    """``tools`` as a list, checked as the tool loop checks them (before anything is sent)."""
    if tools is None:
        return None
    if isinstance(tools, Iterator):
        tools = list(tools)
    _Toolbox.of(tools)  # refuses one tool, a dict, or an item that is no tool
    return list(tools)


def _check(original: object, regenerate_synthetic: object) -> None:
    if not isinstance(original, Conversation):
        raise MalformedInputError(
            f"replay takes a Conversation, got {type_name(original)} {quote(original)}",
            "conversation",
        )
    if type(regenerate_synthetic) is not bool:
        raise MalformedInputError(
            f"regenerate_synthetic must be True or False, got {quote(regenerate_synthetic)}",
            "regenerate_synthetic",
        )


def _result(original: Conversation, branch: Conversation, reason: str | None) -> Replayed:
    note = {"original": original.id, "reason": reason}
    return Replayed(original, branch.with_metadata({NOTE_KEY: note}), reason)


# -- many at once ----------------------------------------------------------------------


def replay_many(
    conversations: Iterable[Conversation],
    adapter: AsyncSender,
    *,
    concurrency: int = 8,
    store: Store | None = None,
    progress: bool = True,
    tools: Iterable[ToolLike] | None = None,
    regenerate_synthetic: bool = False,
    cache_shared: bool = True,
    batch: bool = False,
    **options: Any,
) -> list[ReplayResult]:
    """Replay every conversation, at most ``concurrency`` at once; one result each, in order.

    Runs :func:`areplay_many` in a fresh event loop (``anyio.run``), so the
    adapter's ``asend`` does the sending. See :func:`areplay_many`.
    """

    async def run() -> list[ReplayResult]:
        return await areplay_many(
            conversations,
            adapter,
            concurrency=concurrency,
            store=store,
            progress=progress,
            tools=tools,
            regenerate_synthetic=regenerate_synthetic,
            cache_shared=cache_shared,
            batch=batch,
            **options,
        )

    return anyio.run(run)


async def areplay_many(
    conversations: Iterable[Conversation],
    adapter: AsyncSender,
    *,
    concurrency: int = 8,
    store: Store | None = None,
    progress: bool = True,
    tools: Iterable[ToolLike] | None = None,
    regenerate_synthetic: bool = False,
    cache_shared: bool = True,
    batch: bool = False,
    **options: Any,
) -> list[ReplayResult]:
    """Replay every conversation as :func:`areplay` does, at most ``concurrency`` at once.

    Returns one :class:`ReplayResult` per conversation, in the order given.
    An ``Exception`` replaying one dialogue is kept as its result's ``error``
    and the others go on; retrying is the adapter's job. Anything else (a
    ``KeyboardInterrupt``, a cancellation) stops the run and is raised as
    itself (the first one, when several dialogues stopped at once).

    ``store``: each finished branch is saved as it completes, under
    ``replay/<settings>/<original id>`` (see ``conversation._replay_store``),
    and a dialogue whose branch is there already is loaded, not replayed
    (``resumed=True``); a failed one is not saved, so it is tried again.
    ``progress``: a tqdm bar on stderr when tqdm is installed (the
    ``progress`` extra) and stderr is a terminal. ``cache_shared``: put a
    cache breakpoint at the end of the prefix a dialogue shares with others
    (see ``conversation._replay_cache``); False sends the turns unmarked.
    ``batch``: send through the adapter's ``asend_batch`` (Message Batches:
    half the price, answers within hours), every dialogue's next request in
    one batch a round (see ``conversation._replay_batch``); ``concurrency``
    and ``tools`` do not apply.
    """
    originals = _originals(conversations)
    _check_many(concurrency, store, progress, cache_shared)
    _check_batch(batch, adapter, tools)
    tool_list = _tool_list(tools)
    request = _request_options(adapter, tool_list, options)
    points: Sequence[int | None] = [None] * len(originals)
    if cache_shared:
        stable = [stable_length(c, regenerate_synthetic) for c in originals]
        points = cache_points(originals, stable, request)
    key = settings_key(request, regenerate_synthetic)
    results: list[ReplayResult | None] = [None] * len(originals)
    bar = Progress(len(originals), progress)

    def resumed(index: int) -> ReplayResult | None:
        done = None if store is None else load_done(store, replay_name(key, originals[index]))
        if done is None:
            return None
        return ReplayResult(originals[index], done[0], reason=done[1], resumed=True)

    def finished(index: int, how: Replayed | Exception) -> ReplayResult:
        original = originals[index]
        if isinstance(how, Exception):
            return ReplayResult(original, error=how)
        try:
            if store is not None:
                store.save(how.conversation, replay_name(key, original))
        except Exception as error:
            return ReplayResult(original, error=error)
        return ReplayResult(original, how.conversation, reason=how.reason)

    async def one(index: int) -> ReplayResult:
        done = resumed(index)
        if done is not None:
            return done
        try:
            replayed = await _areplay(
                originals[index], adapter, tool_list, regenerate_synthetic, points[index], options
            )
        except Exception as error:
            return finished(index, error)
        return finished(index, replayed)

    if batch:
        assert isinstance(adapter, BatchSender)  # checked above

        def ended(index: int, how: Finished) -> None:
            replayed = how if isinstance(how, Exception) else _result(originals[index], *how)
            results[index] = finished(index, replayed)
            bar.advance()

        plans: dict[int, ReplayPlan] = {}
        for index in range(len(originals)):
            results[index] = resumed(index)
            if results[index] is None:
                plans[index] = _planned(
                    originals[index], None, regenerate_synthetic, points[index]
                )[1]
            else:
                bar.advance()
        try:
            await replay_in_batches(plans, adapter, options, ended)
        finally:
            bar.close()
        return [result for result in results if result is not None]

    async def worker(queue: Iterable[int]) -> None:
        for index in queue:
            results[index] = await one(index)
            bar.advance()

    try:
        queue = iter(range(len(originals)))
        async with anyio.create_task_group() as group:
            for _ in range(min(concurrency, len(originals))):
                group.start_soon(worker, queue)
    except BaseExceptionGroup as group_error:
        # What stopped the run, as itself: the first, when several workers stopped at once.
        raise group_error.exceptions[0] from None
    finally:
        bar.close()
    return [result for result in results if result is not None]


def _request_options(
    adapter: object, tools: list[ToolLike] | None, options: dict[str, Any]
) -> dict[str, Any]:
    """The options of a replay's requests (the adapter's defaults under the call's, and the
    tool definitions): the breakpoints they hold are counted, and they name the settings."""
    defaults = getattr(adapter, "default_options", None)
    merged = {**(defaults if isinstance(defaults, Mapping) else {}), **options}
    return merged if tools is None else _Toolbox.of(tools).options(merged)


def _originals(conversations: object) -> list[Conversation]:
    if isinstance(conversations, Conversation) or not isinstance(conversations, Iterable):
        raise MalformedInputError(
            f"replay_many takes a list of conversations, got {type_name(conversations)}; "
            "for one write [conversation], or use replay()",
            "conversations",
        )
    originals = list(conversations)
    for index, item in enumerate(originals):
        if not isinstance(item, Conversation):
            raise MalformedInputError(
                f"expected a Conversation, got {type_name(item)} {quote(item)}",
                f"conversations[{index}]",
            )
    return originals


def _check_batch(batch: object, adapter: object, tools: object) -> None:
    if type(batch) is not bool:
        raise MalformedInputError(f"batch must be True or False, got {quote(batch)}", "batch")
    if batch and not isinstance(adapter, BatchSender):
        raise MalformedInputError(
            f"batch=True needs an adapter with asend_batch (such as AnthropicAdapter), got "
            f"{type_name(adapter)}",
            "adapter",
        )
    if batch and tools is not None:
        raise MalformedInputError(
            "batch=True replays without tools= (a tool loop sends as many requests as the "
            "model asks for): leave tools out to reuse the recorded results, or batch=False",
            "tools",
        )


def _check_many(concurrency: object, store: object, progress: object, cache_shared: object) -> None:
    if type(concurrency) is not int or concurrency < 1:
        raise MalformedInputError(
            f"concurrency must be an int of at least 1, got {quote(concurrency)}", "concurrency"
        )
    if store is not None and not isinstance(store, Store):
        raise MalformedInputError(
            f"store must be a conversation.store.Store (such as SQLiteStore), got "
            f"{type_name(store)}",
            "store",
        )
    for name, value in (("progress", progress), ("cache_shared", cache_shared)):
        if type(value) is not bool:
            raise MalformedInputError(f"{name} must be True or False, got {quote(value)}", name)
