"""Running a plan of requests: the decisions written once, the I/O twice.

A loop that sends (the tool loop, ``continue_reply``) is written as a
generator, its *plan*: it yields each step it needs done (a conversation to
send, tool calls to run) and is sent the step's outcome back, deciding
everything else itself; it returns the final result. :func:`drive` does the
steps with blocking calls and :func:`adrive` awaits them, so the sync and
async twins of a loop differ only in how a step is done, as tenacity's
``Retrying`` and ``AsyncRetrying`` differ only in how they sleep.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from ._conversation import Conversation

__all__ = ["AsyncSender", "Plan", "Sender", "adrive", "drive"]


@runtime_checkable
class Sender(Protocol):
    """What a sending loop needs of an adapter: ``send``."""

    def send(self, conversation: Conversation, /, **options: Any) -> Conversation: ...


@runtime_checkable
class AsyncSender(Protocol):
    """What an async sending loop needs of an adapter: ``asend``."""

    async def asend(self, conversation: Conversation, /, **options: Any) -> Conversation: ...


Step = TypeVar("Step")
Outcome = TypeVar("Outcome")
Result = TypeVar("Result")

Plan = Generator[Step, Outcome, Result]
"""A loop's decisions: yields steps, is sent their outcomes, returns its result."""


def drive(plan: Generator[Step, Outcome, Result], do: Callable[[Step], Outcome]) -> Result:
    """Run ``plan``, doing each step it yields with ``do``; its return value.

    An exception raised by ``do`` propagates unchanged (the plan is closed).
    """
    try:
        step = next(plan)
        while True:
            step = plan.send(do(step))
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        plan.close()


async def adrive(
    plan: Generator[Step, Outcome, Result], do: Callable[[Step], Awaitable[Outcome]]
) -> Result:
    """Like :func:`drive`, awaiting each step."""
    try:
        step = next(plan)
        while True:
            step = plan.send(await do(step))
    except StopIteration as finished:
        return finished.value  # type: ignore[no-any-return]
    finally:
        plan.close()
