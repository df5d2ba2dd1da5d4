"""The replay's decisions, written once: which turns to keep, which to regenerate, when to stop.

:func:`plan` walks a past dialogue turn by turn and yields a step for each
turn a model wrote: :class:`SendStep` (send the branch so far, one reply
back) or, when tools are given, :class:`LoopStep` (let the tool loop answer,
running the calls the model asks for). ``replay`` and ``areplay`` only do
those steps, blocking or awaited (see ``conversation._steps``).

Without tools, the recorded ``tool_result`` turns are reused while the model
asks for the same calls (same names, same inputs, in order); the new calls'
ids replace the recorded ones in the reused results. The first call that
differs ends the replay with the branch so far and the reason.

A plan knows nothing of how its steps are done, so a driver may also advance
many plans a round at a time (every plan's next request in one batch).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, TypeAlias

import attrs

from ._blocks import ToolResult, ToolUse
from ._conversation import Conversation
from ._replay_cache import mark_system, mark_turn
from ._steps import Plan
from ._turn import Turn
from .errors import quote
from .tools import asked_calls

__all__ = ["NOTE_KEY", "LoopStep", "ReplayPlan", "SendStep", "plan", "regenerated", "stable_length"]

NOTE_KEY: Final = "conversation.replay"
"""The metadata entry of a replayed branch: ``{"original": id, "reason": str | None}``."""


ReplayPlan: TypeAlias = "Plan[SendStep | LoopStep, Conversation, tuple[Conversation, str | None]]"
"""The replay's plan: yields steps, is sent their outcomes, returns (branch, reason)."""


@attrs.frozen
class SendStep:
    """Send ``conversation``; the outcome is it with the reply folded in."""

    conversation: Conversation


@attrs.frozen
class LoopStep:
    """Run the tool loop from ``conversation``; the outcome is the loop's conversation."""

    conversation: Conversation


def regenerated(turn: Turn, regenerate_synthetic: bool) -> bool:
    """Whether a replay writes ``turn`` anew (an assistant turn a model wrote, or any with
    ``regenerate_synthetic``) rather than keeping it."""
    return turn.role == "assistant" and (regenerate_synthetic or not turn.synthetic)


def stable_length(original: Conversation, regenerate_synthetic: bool) -> int:
    """How many leading turns every request of the replay of ``original`` carries unchanged."""
    for index, turn in enumerate(original):
        if regenerated(turn, regenerate_synthetic):
            return index
    return len(original)


def plan(
    original: Conversation,
    *,
    tools: bool,
    regenerate_synthetic: bool,
    cache_at: int | None = None,
) -> ReplayPlan:
    """Replay ``original``: yields each step, returns (the new branch, why it stopped early).

    ``cache_at`` (at most the :func:`stable_length`) puts a cache breakpoint in
    every request at the end of its first ``cache_at`` turns (0: the system
    prompt). The mark is on the requests only; the branch returned has none.
    """
    turns = original.turns
    kept = original[:0]
    sent = mark_system(kept) if cache_at == 0 else kept
    ids: dict[str, str] = {}  # recorded tool_use id -> the regenerated call's id
    index = 0
    while index < len(turns):
        turn = turns[index]
        if not regenerated(turn, regenerate_synthetic):
            turn = _with_ids(turn, ids)
            kept = kept.append(turn)
            sent = sent.append(mark_turn(turn) if cache_at == index + 1 else turn)
            index += 1
            continue
        assert turn.provenance is not None  # an assistant turn always has one
        prefill = () if regenerate_synthetic else turn.provenance.prefill
        request = sent.assistant(list(prefill)) if prefill else sent
        if tools:
            outcome = yield LoopStep(request)
            end = _loop_end(turns, index)
        else:
            outcome = yield SendStep(request)
            end = index + 1
        for position in range(len(sent), len(outcome)):
            new = outcome[position]
            kept, sent = kept.append(new), sent.append(new)
        if not tools:
            reason = _diverged(turns, index, kept[-1], ids)
            if reason is not None:
                return kept, reason
        index = end
    return kept, None


def _loop_end(turns: tuple[Turn, ...], start: int) -> int:
    """The index after the tool loop that began with the model's turn at ``start``: its
    rounds of calls, results and replies, which the tool loop writes anew."""
    end = start + 1
    while end < len(turns) and asked_calls(turns[end - 1]) and _answers(turns[end]):
        end += 1
        if end < len(turns) and turns[end].role == "assistant" and not turns[end].synthetic:
            end += 1
        else:
            break
    return end


def _answers(turn: Turn) -> bool:
    """True for a user turn holding tool results."""
    return turn.role == "user" and any(type(b) is ToolResult for b in turn.blocks)


def _diverged(turns: tuple[Turn, ...], index: int, new: Turn, ids: dict[str, str]) -> str | None:
    """Why the regenerated turn ``new`` cannot go on with the recorded tool results, or None
    (then the new calls' ids are noted in ``ids``)."""
    recorded, asked = asked_calls(turns[index]), asked_calls(new)
    if _same_calls(recorded, asked):
        ids.update((old.id, call.id) for old, call in zip(recorded, asked, strict=True))
        return None
    where = f"at turn {index} the model"
    if not recorded:
        return (
            f"{where} asked for {_calls(asked)}, which the recorded dialogue did not call; "
            "replay with tools=[...] to run them"
        )
    if not asked:
        return f"{where} answered without the calls the recorded dialogue made: {_calls(recorded)}"
    return (
        f"{where} asked for {_calls(asked)} where the recorded dialogue asked for "
        f"{_calls(recorded)}; replay with tools=[...] to run the new calls"
    )


def _same_calls(recorded: tuple[ToolUse, ...], asked: tuple[ToolUse, ...]) -> bool:
    return len(recorded) == len(asked) and all(
        old.name == new.name and old.input == new.input
        for old, new in zip(recorded, asked, strict=True)
    )


def _calls(calls: tuple[ToolUse, ...]) -> str:
    return ", ".join(f"{call.name}({quote(dict(call.input), 60)})" for call in calls)


def _with_ids(turn: Turn, ids: Mapping[str, str]) -> Turn:
    """``turn`` with each tool result's ``tool_use_id`` mapped through ``ids``."""
    if not ids or turn.role != "user":
        return turn
    blocks = turn.blocks
    mapped = tuple(
        attrs.evolve(block, tool_use_id=ids[block.tool_use_id])
        if type(block) is ToolResult and block.tool_use_id in ids
        else block
        for block in blocks
    )
    return turn if mapped == blocks else Turn("user", mapped)
