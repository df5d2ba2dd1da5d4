"""The Message Batches endpoints of the fake API (``FakeMessagesAPI.batches``).

``POST /v1/messages/batches`` creates a batch (checked as the API checks it:
custom_ids unique and well-formed, no streaming params, at most
``max_requests`` requests and ``max_bytes`` bytes, else a 400 or a 413);
``GET /v1/messages/batches/{id}`` polls it; ``POST .../cancel`` cancels it;
``GET .../results`` serves its results file (JSONL), in the reverse of the
order the requests were sent, since the API promises no order. Unknown ids
get a 404. Answers queued on the server come first, whatever the path, so a
batch endpoint can be made to fail like any other.

A batch stays ``in_progress`` for ``polls_to_end`` polls (the poll after
that sees it ``ended``; with ``-1`` it is created ended), so a test counts
polls instead of waiting. Each
request succeeds with the reply ``"reply to <custom_id>"`` unless
``outcomes[custom_id]`` says otherwise (an :class:`Outcome`); a canceled
batch ends at the next poll with every request still succeeding by default
``canceled`` instead.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any

import attrs

from tests.adapters.fake_api import (
    DEFAULT_MODEL,
    Error,
    FakeMessagesAPI,
    Raw,
    Reply,
    Response,
    make_message,
)

__all__ = ["BATCHES_PATH", "FakeBatches", "Outcome"]

BATCHES_PATH = "/v1/messages/batches"
_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TYPES = ("succeeded", "errored", "canceled", "expired")


@attrs.frozen
class Outcome:
    """The result of one request: its ``type`` (``succeeded``, ``errored``, ``canceled``,
    ``expired``), the reply ``text`` of a success, the ``error_type`` of an error, or
    ``line``: the results line as is (a malformed one)."""

    type: str = "succeeded"
    text: str | None = None
    error_type: str = "invalid_request_error"
    line: bytes | None = None


@attrs.define
class _Batch:
    id: str
    requests: list[tuple[str, dict[str, Any]]]
    polls_left: int
    status: str = "in_progress"
    canceled: bool = False

    def poll(self) -> None:
        """One poll: ``in_progress`` counts down to ``ended``; ``canceling`` ends now."""
        if self.status == "canceling":
            self.status, self.canceled = "ended", True
        elif self.status == "in_progress":
            self.polls_left -= 1
            if self.polls_left < 0:
                self.status = "ended"

    def counts(self, outcomes: Mapping[str, Outcome]) -> dict[str, int]:
        counts = dict.fromkeys(("processing", *_TYPES), 0)
        if self.status != "ended":
            counts["processing"] = len(self.requests)
            return counts
        for custom_id, _ in self.requests:
            counts[self.outcome(custom_id, outcomes).type] += 1
        return counts

    def outcome(self, custom_id: str, outcomes: Mapping[str, Outcome]) -> Outcome:
        outcome = outcomes.get(custom_id, Outcome())
        if self.canceled and outcome.type == "succeeded":
            return Outcome("canceled")  # canceled before it was processed
        return outcome

    def as_json(self, outcomes: Mapping[str, Outcome], base_url: str) -> dict[str, Any]:
        ended = self.status == "ended"
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": self.counts(outcomes),
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2026-01-02T00:00:00Z",
            "ended_at": "2026-01-01T01:00:00Z" if ended else None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": f"{base_url}{BATCHES_PATH}/{self.id}/results" if ended else None,
        }


def _bad(message: str, status: int = 400) -> Error:
    kind = "request_too_large" if status == 413 else "invalid_request_error"
    return Error(status, kind, message)


class FakeBatches:
    """The batches of a started fake API, and how they turn out (set before the requests).

    ``FakeBatches(api)`` routes the batch paths of ``api`` here.
    """

    def __init__(self, api: FakeMessagesAPI) -> None:
        self.outcomes: dict[str, Outcome] = {}
        self.polls_to_end = 0
        self.max_requests = 100_000
        self.max_bytes = 256 * 1024 * 1024
        self.base_url = api.base_url
        self._lock = threading.Lock()
        self._batches: dict[str, _Batch] = {}
        api.route(BATCHES_PATH, self.answer)

    @property
    def created(self) -> list[list[str]]:
        """The custom_ids of each batch created so far, in order of creation."""
        with self._lock:
            return [[cid for cid, _ in b.requests] for b in self._batches.values()]

    def params(self, custom_id: str) -> dict[str, Any]:
        """The Messages body sent for ``custom_id`` (in any batch)."""
        with self._lock:
            for batch in self._batches.values():
                for cid, params in batch.requests:
                    if cid == custom_id:
                        return params
        raise KeyError(custom_id)

    def answer(self, method: str, path: str, body: bytes) -> Response:
        """The answer to a request under ``/v1/messages/batches``."""
        with self._lock:
            if (method, path) == ("POST", BATCHES_PATH):
                return self._create(body)
            batch_id, _, action = path[len(BATCHES_PATH) + 1 :].partition("/")
            batch = self._batches.get(batch_id)
            if batch is None:
                return Error(404, "not_found_error", f"no batch {batch_id!r}")
            if (method, action) == ("GET", ""):
                batch.poll()
            elif (method, action) == ("POST", "cancel"):
                if batch.status == "in_progress":
                    batch.status = "canceling"
            elif (method, action) == ("GET", "results"):
                return self._results(batch)
            else:
                return Error(404, "not_found_error", f"no endpoint {method} {path}")
            return Reply(batch.as_json(self.outcomes, self.base_url))

    def _create(self, body: bytes) -> Response:
        if len(body) > self.max_bytes:
            return _bad(f"a batch is at most {self.max_bytes} bytes", 413)
        try:
            requests = json.loads(body)["requests"]
        except (ValueError, KeyError, TypeError):
            return _bad("the body must be {'requests': [...]}")
        if not isinstance(requests, list) or not 0 < len(requests) <= self.max_requests:
            return _bad(f"requests must be a list of 1 to {self.max_requests} requests")
        seen: list[tuple[str, dict[str, Any]]] = []
        for request in requests:
            custom_id, params = request.get("custom_id"), request.get("params")
            if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
                return _bad(f"bad custom_id {custom_id!r}")
            if custom_id in (cid for cid, _ in seen):
                return _bad(f"custom_id {custom_id!r} is not unique")
            if not isinstance(params, dict) or params.get("stream") is True:
                return _bad(f"{custom_id}: params must be a Messages body that does not stream")
            seen.append((custom_id, params))
        batch_id = f"msgbatch_fake_{len(self._batches) + 1:04d}"
        batch = _Batch(batch_id, seen, self.polls_to_end)
        if self.polls_to_end < 0:
            batch.status = "ended"
        self._batches[batch_id] = batch
        return Reply(batch.as_json(self.outcomes, self.base_url))

    def _results(self, batch: _Batch) -> Response:
        if batch.status != "ended":
            return _bad(f"batch {batch.id} has not ended; its results are not ready")
        lines = [self._line(batch, cid, params) for cid, params in reversed(batch.requests)]
        return Raw(b"".join(line + b"\n" for line in lines), content_type="application/binary")

    def _line(self, batch: _Batch, custom_id: str, params: dict[str, Any]) -> bytes:
        outcome = batch.outcome(custom_id, self.outcomes)
        if outcome.line is not None:
            return outcome.line
        result: dict[str, Any] = {"type": outcome.type}
        if outcome.type == "succeeded":
            model = params.get("model")
            text = outcome.text if outcome.text is not None else f"reply to {custom_id}"
            result["message"] = make_message(
                text,
                model=model if isinstance(model, str) else DEFAULT_MODEL,
                id=f"msg_fake_{custom_id}",
            )
        elif outcome.type == "errored":
            error = {"type": outcome.error_type, "message": f"fake {outcome.error_type}"}
            result["error"] = {"type": "error", "error": error}
        data = {"custom_id": custom_id, "result": result}
        return json.dumps(data, separators=(",", ":")).encode()
