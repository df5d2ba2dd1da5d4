"""A fake Chat Completions API on 127.0.0.1: the Messages fake, answering Chat Completions.

The server is :class:`tests.adapters.fake_api.FakeMessagesAPI` (a real HTTP/1.1
server in a thread, with its injected faults: ``Reset``, ``Malformed``,
``delay``, a ``Stream`` cut after N frames); :func:`install` routes
``POST .../chat/completions`` to answers built here, and the builders below
make the answers to queue:

- :func:`completion` a ``chat.completion`` object (text, tool calls, usage);
- :func:`reply` it as a JSON answer, :func:`stream` as a streamed one
  (``chat.completion.chunk`` frames, text in ``text_chunk``-character deltas,
  tool-call arguments in pieces, usage in the last chunk, ``data: [DONE]``),
  ``cut_after=N`` sending only the first N frames and then dropping the
  connection; ``error_chunk=`` an ``{"error": ...}`` object mid-stream;
- :func:`error` an OpenAI error body (``{"error": {"message", "type",
  "param", "code"}}``) with ``retry-after`` when asked.

With nothing queued, a request is answered by its body: ``"stream": true``
gets :func:`stream` of ``completion("ok")``, anything else :func:`reply`,
with the request's model.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tests.adapters.fake_api import Error, FakeMessagesAPI, Raw, Response, Stream

__all__ = ["CHAT_PATH", "completion", "error", "frames", "install", "reply", "stream"]

CHAT_PATH = "/v1/chat/completions"
CREATED = 1_700_000_000


def _dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def completion(
    text: str | None = "ok",
    *,
    tool_calls: Sequence[tuple[str, str, dict[str, Any]]] = (),
    model: str = "gpt-fake",
    id: str = "chatcmpl-fake",
    finish_reason: str | None = None,
    prompt_tokens: int = 11,
    completion_tokens: int = 7,
    cached_tokens: int = 0,
) -> dict[str, Any]:
    """A ``chat.completion``: ``text``, then ``tool_calls`` as ``(id, name, arguments)``."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
            for call_id, name, arguments in tool_calls
        ]
    usage: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    return {
        "id": id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason or ("tool_calls" if tool_calls else "stop"),
            }
        ],
        "usage": usage,
    }


def reply(data: dict[str, Any] | None = None, **headers: str) -> Raw:
    """``data`` (a completion; ``completion()`` if None) as a JSON answer."""
    return Raw(_dumps(data if data is not None else completion()), headers=headers)


def _frame(data: Any) -> bytes:
    return b"data: " + _dumps(data) + b"\n\n"


def frames(data: dict[str, Any], text_chunk: int = 8, args_chunk: int = 7) -> list[bytes]:
    """The SSE frames that stream the completion ``data``, ``[DONE]`` last."""
    head = {
        "id": data["id"],
        "object": "chat.completion.chunk",
        "created": data["created"],
        "model": data["model"],
        "system_fingerprint": data.get("system_fingerprint"),
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _frame({**head, "choices": [choice]})

    choice = data["choices"][0]
    message = choice["message"]
    out = [chunk({"role": "assistant", "content": ""})]
    text = message.get("content") or ""
    out += [chunk({"content": text[i : i + text_chunk]}) for i in range(0, len(text), text_chunk)]
    for index, call in enumerate(message.get("tool_calls") or ()):
        function = call["function"]
        start = {"index": index, "id": call["id"], "type": "function"}
        out.append(
            chunk(
                {"tool_calls": [{**start, "function": {"name": function["name"], "arguments": ""}}]}
            )
        )
        arguments = function["arguments"]
        for i in range(0, len(arguments), args_chunk):
            piece = {"index": index, "function": {"arguments": arguments[i : i + args_chunk]}}
            out.append(chunk({"tool_calls": [piece]}))
    out.append(chunk({}, choice["finish_reason"]))
    out.append(_frame({**head, "choices": [], "usage": data.get("usage")}))
    out.append(b"data: [DONE]\n\n")
    return out


def stream(
    data: dict[str, Any] | None = None,
    *,
    cut_after: int | None = None,
    error_chunk: dict[str, Any] | None = None,
    text_chunk: int = 8,
    pause: float = 0.0,
) -> Stream:
    """``data`` (a completion; ``completion()`` if None) as a streamed answer.

    ``cut_after=N`` sends N frames and drops the connection; ``error_chunk``
    (``{"message": ..., "type": ...}``) is sent as ``{"error": ...}`` after
    ``cut_after`` frames (all of them but ``[DONE]`` if None), and the body ends.
    """
    sent = frames(data if data is not None else completion(), text_chunk)
    if error_chunk is not None:
        keep = cut_after if cut_after is not None else len(sent) - 1
        return Stream(frames=[*sent[:keep], _frame({"error": error_chunk})], pause=pause)
    return Stream(frames=sent, cut_after=cut_after, pause=pause)


def error(
    status: int,
    type: str = "server_error",
    message: str | None = None,
    *,
    retry_after: float | None = None,
    code: str | None = None,
) -> Error:
    """An OpenAI error answer: ``{"error": {"message", "type", "param", "code"}}``."""
    text = message or f"fake {type}"
    body = {"error": {"message": text, "type": type, "param": None, "code": code}}
    return Error(
        status,
        type,
        text,
        retry_after=retry_after,
        raw_body=_dumps(body),
        headers={"content-type": "application/json"},
    )


def _answer(method: str, path: str, body: bytes) -> Response:
    try:
        request = json.loads(body)
    except ValueError:
        return error(400, "invalid_request_error", "the body is not JSON")
    model = request.get("model") if isinstance(request, dict) else None
    data = completion(model=model if isinstance(model, str) else "gpt-fake")
    return stream(data) if request.get("stream") is True else reply(data)


def install(api: FakeMessagesAPI) -> FakeMessagesAPI:
    """Route ``api``'s Chat Completions requests to default answers; returns ``api``."""
    api.route(CHAT_PATH, _answer)
    return api
