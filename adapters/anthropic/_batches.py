"""Message Batches: many conversations sent as one batch, at half the price, answered later.

``AnthropicAdapter.send_batch(conversations, **options)`` does it all: it
submits the requests (``submit_batch``), polls until every one has ended
(``wait_batch``, waiting longer between polls up to a limit, through the
adapter's ``RetryPolicy.sleep``), then reads the results file line by line
(``batch_results``) and folds each reply into its conversation by
``custom_id``. It returns one :class:`BatchResult` per conversation, in the
order given. A request that came back ``errored``, ``canceled`` or
``expired`` keeps its conversation untouched (``result.original``), so the
ones that did not succeed can be submitted again::

    results = adapter.send_batch(conversations, model="claude-sonnet-4-5", max_tokens=1024)
    again = [r.original for r in results if not r.ok]

``custom_id`` is ``c<index>-<the first 24 hex digits of the conversation's
content id>`` unless ``conversations`` is a mapping of custom_id to
Conversation. A batch over the API's limits (100,000 requests or 256 MB) is
sent as several batches, one :class:`Batch` for them all (``limits=``
changes the limits). ``poll_batch`` asks once, ``cancel_batch`` cancels.
Each has an async twin (``asubmit_batch``, ``apoll_batch``, ``await_batch``,
``acancel_batch``, ``abatch_results``, ``asend_batch``); the twins share
everything here but the I/O. Requests are retried, and errors raised and
scrubbed of the key, as for ``send``; a results line that cannot be read
raises :class:`~conversation.MalformedReplyError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import TYPE_CHECKING, Any, Final, Literal

import attrs
import orjson

from adapters._secrets import redact
from conversation import (
    Conversation,
    MalformedInputError,
    MalformedReplyError,
)
from conversation.errors import clip

from ._errors import APIStatusError, error_from_result

if TYPE_CHECKING:
    import httpx

    from adapters._http import Call as _Call
    from adapters._http import RetryPolicy

__all__ = ["Batch", "BatchLimits", "BatchMethods", "BatchPart", "BatchResult"]

BATCHES_PATH: Final = "/v1/messages/batches"
MAX_REQUESTS: Final = 100_000
MAX_BYTES: Final = 256 * 1024 * 1024
_CUSTOM_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_OUTCOMES: Final = ("succeeded", "errored", "canceled", "expired")
_ENVELOPE: Final = len(b'{"requests":[]}')

Outcome = Literal["succeeded", "errored", "canceled", "expired"]


def _positive(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or value < 1:
        raise MalformedInputError(f"{attribute.name} must be an int >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class BatchLimits:
    """The most one API batch may hold: requests, and bytes of its create body."""

    max_requests: int = attrs.field(default=MAX_REQUESTS, validator=_positive)
    max_bytes: int = attrs.field(default=MAX_BYTES, validator=_positive)


@attrs.frozen
class BatchPart:
    """One batch as the API knows it: its id, ``processing_status`` (``in_progress``,
    ``canceling``, ``ended``), ``request_counts`` and the custom_ids it holds."""

    id: str
    processing_status: str
    request_counts: Mapping[str, int]
    custom_ids: tuple[str, ...] = attrs.field(repr=False)

    @property
    def ended(self) -> bool:
        """True once the API has ended it: every request has its result."""
        return self.processing_status == "ended"


@attrs.frozen
class Batch:
    """What ``submit_batch`` sent: one :class:`BatchPart` per API batch, and each
    request's conversation by custom_id, in the order given. A value: polling
    returns a new one."""

    parts: tuple[BatchPart, ...]
    conversations: Mapping[str, Conversation] = attrs.field(repr=False)

    @property
    def ids(self) -> tuple[str, ...]:
        """The API's batch ids (``msgbatch_...``), one per part."""
        return tuple(part.id for part in self.parts)

    @property
    def ended(self) -> bool:
        """True once every part has ended: its results can be read."""
        return all(part.ended for part in self.parts)

    def _with(self, parts: Iterable[BatchPart]) -> Batch:
        return attrs.evolve(self, parts=tuple(parts))


@attrs.frozen
class BatchResult:
    """The result of one request of a batch.

    ``status`` is the API's result type; ``conversation`` has the reply folded
    in when it ``succeeded``, else it is ``original`` as it was; ``error`` is
    the :class:`APIStatusError` of an ``errored`` request.
    """

    custom_id: str
    original: Conversation = attrs.field(repr=False)
    conversation: Conversation = attrs.field(repr=False)
    status: Outcome
    error: APIStatusError | None = None

    @property
    def ok(self) -> bool:
        """True when the request succeeded: ``conversation`` holds its reply."""
        return self.status == "succeeded"


# -- the logic both twins share --------------------------------------------------------


def _custom_ids(conversations: object) -> dict[str, Conversation]:
    """Each conversation by its custom_id, in the order given; checked."""
    if isinstance(conversations, Mapping):
        pairs = list(conversations.items())
    elif isinstance(conversations, Iterable) and not isinstance(conversations, str | bytes):
        pairs = [(f"c{i}-{c.id[:24]}", c) for i, c in enumerate(_conversations(conversations))]
    else:
        raise MalformedInputError(
            "conversations must be a sequence of Conversation or a mapping of custom_id "
            f"to Conversation, got {type(conversations).__name__}"
        )
    if not pairs:
        raise MalformedInputError("a batch needs at least one conversation; got none")
    by_id: dict[str, Conversation] = {}
    for custom_id, conversation in pairs:
        where = f"conversations[{custom_id!r}]"
        if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
            raise MalformedInputError(
                f"custom_id {custom_id!r} is not 1 to 64 of the characters A-Z a-z 0-9 _ -; "
                "rename it",
                where,
            )
        if not isinstance(conversation, Conversation):
            raise MalformedInputError(f"not a Conversation: a {type(conversation).__name__}", where)
        by_id[custom_id] = conversation
    return by_id


def _conversations(items: Iterable[object]) -> list[Conversation]:
    checked = list(items)
    for index, item in enumerate(checked):
        if not isinstance(item, Conversation):
            raise MalformedInputError(
                f"not a Conversation: a {type(item).__name__}", f"conversations[{index}]"
            )
    return checked  # type: ignore[return-value]


def _split(sizes: Sequence[int], limits: BatchLimits) -> list[range]:
    """Runs of consecutive requests, each within ``limits`` (``sizes``: encoded bytes)."""
    runs: list[range] = []
    start, total = 0, _ENVELOPE
    for index, size in enumerate(sizes):
        if _ENVELOPE + size > limits.max_bytes:
            raise MalformedInputError(
                f"request {index} alone is {size} bytes, over the batch limit of "
                f"{limits.max_bytes}; send it with send() instead, or shorten it"
            )
        full = index - start == limits.max_requests or total + size + 1 > limits.max_bytes
        if full:
            runs.append(range(start, index))
            start, total = index, _ENVELOPE
        total += size + (1 if index > start else 0)
    runs.append(range(start, len(sizes)))
    return runs


def _part(content: bytes, custom_ids: tuple[str, ...]) -> BatchPart:
    """A batch object (create, retrieve, cancel) read into a :class:`BatchPart`."""
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise MalformedReplyError(f"the batch object is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedReplyError("the batch object is not a JSON object")
    batch_id, status = data.get("id"), data.get("processing_status")
    if not isinstance(batch_id, str) or not _CUSTOM_ID.fullmatch(batch_id):
        raise MalformedReplyError("the batch object has no usable id", "$.id")
    if not isinstance(status, str):
        raise MalformedReplyError(
            "the batch object has no processing_status", "$.processing_status"
        )
    counts = data.get("request_counts")
    safe = {k: v for k, v in counts.items() if type(v) is int} if isinstance(counts, dict) else {}
    return BatchPart(batch_id, status, safe, custom_ids)


def _results_path(part: BatchPart) -> str:
    return f"{BATCHES_PATH}/{part.id}/results"


class _Results:
    """Reads a results file line by line, folding each result by custom_id."""

    def __init__(self, batch: Batch, secrets: tuple[str, ...]) -> None:
        if not batch.ended:
            raise MalformedInputError(
                f"batch {', '.join(batch.ids)} has not ended: wait_batch(batch) first"
            )
        self._batch = batch
        self._secrets = secrets
        self._found: dict[str, BatchResult] = {}
        self._part_of = {cid: part.id for part in batch.parts for cid in part.custom_ids}

    def add(self, line: str, number: int, part: BatchPart) -> None:
        if not line.strip():
            return
        where = f"results line {number} of batch {part.id}"
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise MalformedReplyError(
                f"{where} is not JSON: {clip(redact(line, self._secrets), 80)!r}"
            ) from None
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        result = data.get("result") if isinstance(data, dict) else None
        kind = result.get("type") if isinstance(result, dict) else None
        if (
            not isinstance(custom_id, str)
            or self._part_of.get(custom_id) != part.id
            or custom_id in self._found
        ):
            raise MalformedReplyError(
                f"{where} has a custom_id this batch did not send, or sent once already: "
                f"{clip(redact(repr(custom_id), self._secrets), 80)}"
            )
        if not isinstance(result, dict) or kind not in _OUTCOMES:
            raise MalformedReplyError(
                f"{where} ({custom_id}) has no result of a known type ({', '.join(_OUTCOMES)})",
                "$.result.type",
            )
        original = self._batch.conversations[custom_id]
        self._found[custom_id] = self._result(custom_id, original, kind, result, where)

    def _result(
        self,
        custom_id: str,
        original: Conversation,
        kind: Outcome,
        result: dict[str, Any],
        where: str,
    ) -> BatchResult:
        if kind == "succeeded":
            message = result.get("message")
            try:
                folded = original.fold(message if isinstance(message, dict) else b"")
            except MalformedReplyError as exc:
                raise MalformedReplyError(
                    f"{where} ({custom_id}): its message cannot be folded: {exc.reason}",
                    exc.path,
                ) from None
            return BatchResult(custom_id, original, folded, kind)
        error = None
        if kind == "errored":
            raw = result.get("error")
            error = error_from_result(
                raw if isinstance(raw, Mapping) else {}, custom_id, secrets=self._secrets
            )
        return BatchResult(custom_id, original, original, kind, error)

    def in_order(self) -> list[BatchResult]:
        missing = [cid for cid in self._batch.conversations if cid not in self._found]
        if missing:
            raise MalformedReplyError(
                f"the results of batch {', '.join(self._batch.ids)} have no line for "
                f"{len(missing)} request(s), {', '.join(missing[:5])}"
                + (" ..." if len(missing) > 5 else "")
            )
        return [self._found[cid] for cid in self._batch.conversations]


def _delays(interval: float, max_interval: float) -> Iterator[float]:
    """The waits between polls: ``interval``, doubled each time up to ``max_interval``."""
    for name, value in (("interval", interval), ("max_interval", max_interval)):
        if type(value) not in (int, float) or not value >= 0:
            raise MalformedInputError(f"{name} must be a number of seconds >= 0, got {value!r}")
    return _doubling(float(interval), float(max_interval))


def _doubling(delay: float, most: float) -> Iterator[float]:
    while True:
        yield delay
        delay = min(delay * 2, most)


# -- the I/O ---------------------------------------------------------------------------


class BatchMethods:
    """The Message Batches methods of :class:`~adapters.anthropic.AnthropicAdapter`."""

    if TYPE_CHECKING:

        @property
        def _secrets(self) -> tuple[str, ...]: ...

        _retry: RetryPolicy

        def _message_call(
            self, conversation: Conversation, options: Mapping[str, Any], *, stream: bool = False
        ) -> _Call: ...
        def _batch_call(
            self,
            method: str,
            path: str,
            body: bytes = b"",
            *,
            headers: Mapping[str, str] | None = None,
        ) -> _Call: ...
        def _perform(self, call: _Call) -> httpx.Response: ...
        async def _aperform(self, call: _Call) -> httpx.Response: ...
        def _open_stream(self, call: _Call) -> AbstractContextManager[httpx.Response]: ...
        def _aopen_stream(self, call: _Call) -> AbstractAsyncContextManager[httpx.Response]: ...
        def _transport_errors(self, call: _Call) -> AbstractContextManager[None]: ...

    def _creates(
        self, conversations: object, limits: BatchLimits, options: Mapping[str, Any]
    ) -> tuple[dict[str, Conversation], list[tuple[_Call, tuple[str, ...]]]]:
        """The create requests (one per part, with its custom_ids); rules checked first."""
        if not isinstance(limits, BatchLimits):
            raise MalformedInputError(f"limits must be a BatchLimits, got {type(limits).__name__}")
        by_id = _custom_ids(conversations)
        ids = list(by_id)
        calls = [self._message_call(by_id[cid], options) for cid in ids]
        encoded = [
            b'{"custom_id":%s,"params":%s}' % (orjson.dumps(cid), call.body)
            for cid, call in zip(ids, calls, strict=True)
        ]
        creates = []
        for run in _split([len(e) for e in encoded], limits):
            body = b'{"requests":[' + b",".join(encoded[run.start : run.stop]) + b"]}"
            call = self._batch_call("POST", BATCHES_PATH, body, headers=calls[0].headers)
            creates.append((call, tuple(ids[run.start : run.stop])))
        return by_id, creates

    def _send(self, call: _Call) -> bytes:
        return self._perform(call).content

    async def _asend(self, call: _Call) -> bytes:
        response = await self._aperform(call)
        return response.content

    def submit_batch(
        self,
        conversations: Sequence[Conversation] | Mapping[str, Conversation],
        /,
        *,
        limits: BatchLimits = BatchLimits(),
        **options: Any,
    ) -> Batch:
        """Create the batch(es) asking a reply to each conversation with ``options``.

        The rules are checked for every conversation before anything is sent.
        """
        by_id, creates = self._creates(conversations, limits, options)
        return Batch(tuple(_part(self._send(c), ids) for c, ids in creates), by_id)

    async def asubmit_batch(
        self,
        conversations: Sequence[Conversation] | Mapping[str, Conversation],
        /,
        *,
        limits: BatchLimits = BatchLimits(),
        **options: Any,
    ) -> Batch:
        """Like :meth:`submit_batch`, for ``await``."""
        by_id, creates = self._creates(conversations, limits, options)
        return Batch(tuple([_part(await self._asend(c), ids) for c, ids in creates]), by_id)

    def _update(self, part: BatchPart, action: str = "") -> _Call | None:
        """The request refreshing ``part`` (GET, or POST .../cancel); None once it ended."""
        if part.ended:
            return None
        path = f"{BATCHES_PATH}/{part.id}{action}"
        return self._batch_call("POST" if action else "GET", path)

    def poll_batch(self, batch: Batch, /) -> Batch:
        """``batch`` as the API sees it now (one GET per part that has not ended)."""
        return batch._with(self._refresh(batch, ""))

    async def apoll_batch(self, batch: Batch, /) -> Batch:
        """Like :meth:`poll_batch`, for ``await``."""
        return batch._with(await self._arefresh(batch, ""))

    def cancel_batch(self, batch: Batch, /) -> Batch:
        """Ask the API to cancel every part that has not ended; the requests not yet
        processed come back ``canceled`` once it has (:meth:`wait_batch`)."""
        return batch._with(self._refresh(batch, "/cancel"))

    async def acancel_batch(self, batch: Batch, /) -> Batch:
        """Like :meth:`cancel_batch`, for ``await``."""
        return batch._with(await self._arefresh(batch, "/cancel"))

    def _refresh(self, batch: Batch, action: str) -> list[BatchPart]:
        calls = [(self._update(part, action), part) for part in batch.parts]
        return [p if c is None else _part(self._send(c), p.custom_ids) for c, p in calls]

    async def _arefresh(self, batch: Batch, action: str) -> list[BatchPart]:
        calls = [(self._update(part, action), part) for part in batch.parts]
        return [p if c is None else _part(await self._asend(c), p.custom_ids) for c, p in calls]

    def wait_batch(
        self, batch: Batch, /, *, interval: float = 5.0, max_interval: float = 60.0
    ) -> Batch:
        """Poll until every part has ended, sleeping ``interval`` seconds first, twice
        as long each time after, up to ``max_interval`` (with ``RetryPolicy.sleep``)."""
        delays = _delays(interval, max_interval)
        while not batch.ended:
            self._retry.sleep(next(delays))
            batch = self.poll_batch(batch)
        return batch

    async def await_batch(
        self, batch: Batch, /, *, interval: float = 5.0, max_interval: float = 60.0
    ) -> Batch:
        """Like :meth:`wait_batch`, for ``await`` (with ``RetryPolicy.async_sleep``)."""
        delays = _delays(interval, max_interval)
        while not batch.ended:
            await self._retry.async_sleep(next(delays))
            batch = await self.apoll_batch(batch)
        return batch

    def batch_results(self, batch: Batch, /) -> list[BatchResult]:
        """One :class:`BatchResult` per request of an ended batch, in the order given.

        Each part's results file is streamed and read a line at a time.
        """
        results = _Results(batch, self._secrets)
        for part in batch.parts:
            call = self._batch_call("GET", _results_path(part))
            with self._open_stream(call) as response, self._transport_errors(call):
                for number, line in enumerate(response.iter_lines(), 1):
                    results.add(line, number, part)
        return results.in_order()

    async def abatch_results(self, batch: Batch, /) -> list[BatchResult]:
        """Like :meth:`batch_results`, for ``await``."""
        results = _Results(batch, self._secrets)
        for part in batch.parts:
            call = self._batch_call("GET", _results_path(part))
            async with self._aopen_stream(call) as response:
                with self._transport_errors(call):
                    number = 0
                    async for line in response.aiter_lines():
                        number += 1
                        results.add(line, number, part)
        return results.in_order()

    def send_batch(
        self,
        conversations: Sequence[Conversation] | Mapping[str, Conversation],
        /,
        *,
        limits: BatchLimits = BatchLimits(),
        interval: float = 5.0,
        max_interval: float = 60.0,
        **options: Any,
    ) -> list[BatchResult]:
        """Submit, wait and read the results: one :class:`BatchResult` per conversation."""
        batch = self.submit_batch(conversations, limits=limits, **options)
        batch = self.wait_batch(batch, interval=interval, max_interval=max_interval)
        return self.batch_results(batch)

    async def asend_batch(
        self,
        conversations: Sequence[Conversation] | Mapping[str, Conversation],
        /,
        *,
        limits: BatchLimits = BatchLimits(),
        interval: float = 5.0,
        max_interval: float = 60.0,
        **options: Any,
    ) -> list[BatchResult]:
        """Like :meth:`send_batch`, for ``await``."""
        batch = await self.asubmit_batch(conversations, limits=limits, **options)
        batch = await self.await_batch(batch, interval=interval, max_interval=max_interval)
        return await self.abatch_results(batch)
