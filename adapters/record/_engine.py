"""What a cassette adapter does around each request, sync or async alike.

:class:`Engine` builds the request's key, looks it up, replays a recorded
outcome, and records a new one; the adapters and streams around it only make
the call to the adapter behind (blocking or awaited) and hand over what it
returned or raised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, cast

import attrs

from adapters._base import build_payload, merge_options
from adapters._events import StreamEvent
from adapters._secrets import scrub_fields
from conversation import AdapterError, Conversation

from ._cassette import Cassette
from ._failures import Failure, capture, restore
from ._format import Exchange, Kind
from ._match import request_key
from ._replies import reply_of

__all__ = ["Call", "Engine"]

_METHODS: Final[Mapping[Kind, tuple[str, str]]] = {
    "send": ("send", "asend"),
    "stream": ("stream", "astream"),
    "count_tokens": ("count_tokens", "acount_tokens"),
}


@attrs.frozen
class Call:
    """One request: its kind, the conversation and options given, the body and its key.

    ``options`` are what the adapter behind is called with: the cassette
    adapter's defaults under the call's, a ``None`` kept (it unsets a default
    of that adapter too); ``body`` is the recorded request body.
    """

    kind: Kind
    conversation: Conversation
    options: dict[str, Any] = attrs.field(repr=False)
    body: dict[str, Any] = attrs.field(repr=False)
    key: str


class Engine:
    """A cassette, the adapter that answers what it lacks (if any), and the default options."""

    def __init__(self, cassette: Cassette, upstream: object | None, defaults: dict[str, Any]):
        self.cassette = cassette
        self.upstream = upstream
        self.defaults = defaults

    def call(self, kind: Kind, conversation: Conversation, options: Mapping[str, Any]) -> Call:
        """The request: checked now (RuleViolationError before anything else happens)."""
        merged = merge_options(self.defaults, options)
        body = scrub_fields(build_payload(conversation, merged))
        return Call(kind, conversation, {**self.defaults, **options}, body, request_key(kind, body))

    def lookup(self, call: Call) -> Exchange | None:
        """The recorded exchange to replay; None to ask the adapter behind (and record).

        Raises :class:`~adapters.CassetteMissError` when there is none and the
        mode does not record.
        """
        exchange = self.cassette.take(call.key)
        if exchange is not None or self.cassette.records:
            return exchange
        raise self.cassette.miss(call.kind, call.body, call.key)

    def method(self, call: Call, *, sync: bool) -> Callable[..., Any]:
        """The method of the adapter behind that answers ``call`` (``send``, ``astream``...)."""
        name = _METHODS[call.kind][0 if sync else 1]
        method = getattr(self.upstream, name, None)
        if not callable(method):
            raise AdapterError(
                f"{type(self.upstream).__name__} has no {name}() method, so this {call.kind} "
                "request can be neither replayed (it is not in the cassette) nor recorded"
            )
        return cast("Callable[..., Any]", method)

    def replay(self, call: Call, exchange: Exchange) -> Any:
        """The recorded outcome of a send or count_tokens: the conversation, or the count."""
        if exchange.error is not None:
            raise self.restored(call, exchange.error)
        if exchange.reply is not None:
            return call.conversation.fold(exchange.reply)
        return exchange.input_tokens

    def restored(self, call: Call, failure: Failure) -> BaseException:
        """The recorded error, made again for this call's conversation."""
        return restore(failure, call.conversation)

    def keep(self, call: Call, result: object) -> Any:
        """Record what the adapter behind returned for a send or count_tokens; return it."""
        if call.kind == "send":
            if not isinstance(result, Conversation):
                raise self._odd(call, result, "a Conversation")
            reply = reply_of(call.conversation, result)
            self.cassette.add(call.key, Exchange("send", call.body, reply=reply))
        else:
            if type(result) is not int:
                raise self._odd(call, result, "an int")
            self.cassette.add(call.key, Exchange("count_tokens", call.body, input_tokens=result))
        return result

    def keep_stream(self, call: Call, events: tuple[StreamEvent, ...]) -> None:
        """Record a stream that ended (its last event is ``MessageStop``)."""
        self.cassette.add(call.key, Exchange("stream", call.body, events=events))

    def failed(
        self, call: Call, exc: BaseException, events: tuple[StreamEvent, ...] | None = None
    ) -> None:
        """Record the error the adapter behind raised (after ``events``, for a stream that broke).

        Errors that are not a request's outcome (a RuleViolationError before
        sending, a bug) are not recorded: the next run asks again.
        """
        failure = capture(exc, call.conversation)
        if failure is not None:
            self.cassette.add(
                call.key, Exchange(call.kind, call.body, events=events, error=failure)
            )

    def _odd(self, call: Call, result: object, expected: str) -> AdapterError:
        name = _METHODS[call.kind][0]
        return AdapterError(
            f"{type(self.upstream).__name__}.{name}() returned {type(result).__name__}, "
            f"not {expected}; nothing was recorded"
        )
