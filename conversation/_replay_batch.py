"""Replaying many dialogues through a batch engine (``replay_many(..., batch=True)``).

The replay plans (``conversation._replay_plan``) advance a round at a time:
the next request of every unfinished dialogue goes out in one batch
(``adapter.asend_batch``, such as the Anthropic adapter's Message Batches),
each reply is sent back to its plan, and the rounds go on until every plan
has finished or failed. A dialogue whose request came back errored, canceled
or expired fails with that error; the others go on. Tools are not run here
(a tool loop sends as many requests as the model asks for), so a dialogue
that used tools replays with its recorded results.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeAlias, runtime_checkable

from ._conversation import Conversation
from ._replay_plan import ReplayPlan, SendStep
from .errors import AdapterError

__all__ = ["BatchOutcome", "BatchSender", "Finished", "replay_in_batches"]

Finished: TypeAlias = "tuple[Conversation, str | None] | Exception"
"""How a dialogue's replay ended: (the branch, why it stopped early), or the error."""


class BatchOutcome(Protocol):
    """One result of a batch, as a :class:`BatchSender` gives it back."""

    @property
    def custom_id(self) -> str: ...

    @property
    def conversation(self) -> Conversation: ...

    @property
    def status(self) -> str: ...

    @property
    def error(self) -> Exception | None: ...

    @property
    def ok(self) -> bool: ...


@runtime_checkable
class BatchSender(Protocol):
    """What a batched replay needs of an adapter: ``asend_batch`` of a mapping of
    custom_id to Conversation, one result per request back."""

    async def asend_batch(
        self, conversations: Mapping[str, Conversation], /, **options: Any
    ) -> Sequence[BatchOutcome]: ...


async def replay_in_batches(
    plans: Mapping[int, ReplayPlan],
    adapter: BatchSender,
    options: Mapping[str, Any],
    done: Callable[[int, Finished], None],
) -> None:
    """Run every plan, a batch a round; ``done(index, how)`` as each one ends."""
    waiting: dict[int, SendStep] = {}

    def advance(index: int, outcome: Conversation | None) -> None:
        plan = plans[index]
        try:
            step = next(plan) if outcome is None else plan.send(outcome)
        except StopIteration as finished:
            done(index, finished.value)
            return
        except Exception as error:
            plan.close()
            done(index, error)
            return
        assert isinstance(step, SendStep)  # no tools, no tool loop
        waiting[index] = step

    def fail(index: int, error: Exception) -> None:
        plans[index].close()
        done(index, error)

    for index in plans:
        advance(index, None)
    while waiting:
        sent = {f"r{index}": step.conversation for index, step in waiting.items()}
        waiting.clear()
        try:
            results = await adapter.asend_batch(sent, **options)
        except Exception as error:
            for custom_id in sent:
                fail(int(custom_id[1:]), error)
            return
        for result in results:
            index = int(result.custom_id[1:])
            if result.ok:
                advance(index, result.conversation)
            else:
                fail(index, result.error or _not_done(result.status))


def _not_done(status: str) -> AdapterError:
    return AdapterError(
        f"the dialogue's batch request came back {status}, with no reply; replay it again"
    )
