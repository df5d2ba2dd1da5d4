"""Figures 16-17: our OpenAI adapter against the official ``openai`` SDK, over HTTP on loopback.

Both clients talk to the same fake Chat Completions API (the fake of
``tests/adapters/fake_api.py`` answering with the Chat Completions bodies of
``tests/adapters/openai/fake_chat.py``) on 127.0.0.1, so what is measured is
each client's own cost per request: building the body, the HTTP round trip
through httpx, reading the reply and putting it back into the history.

16. 500 sequential sends of a 10-turn history plus a new question, the reply
   being a ~2 KB chat completion (text + a tool call with nested arguments):
   - floor: ``httpx.Client.post`` of the same body bytes, response read;
   - ours: ``adapter.send(history.user(q), model=.., max_tokens=..)``;
   - SDK: ``client.chat.completions.create(..)``, then the reply's message
     appended to the history (``message.to_dict()``).
   Target: ours at most the SDK's time.
17. One streamed reply of 10,000 text deltas (chunks), time per chunk:
   - floor: ``httpx.Client.stream`` + ``iter_lines()``;
   - ours: ``with adapter.stream(..) as s: for e in s: ...`` then ``s.conversation``;
   - SDK: ``client.chat.completions.create(.., stream=True)``, each chunk's
     text delta appended (the SDK's cheapest way to the reply's text; its
     ``chat.completions.stream`` helper, which builds the final message as we
     do, is an informational row).
   Target: ours at least 1.5x the SDK's chunks per second.

Ratios and the ``ours/sdk`` rows are as in ``bench_http.py`` (whose server
and figure helpers are used here). The server runs in a child process by
default (``--server thread``: in a thread of this process).

    python benchmarks/bench_openai.py            # full run
    python benchmarks/bench_openai.py --quick    # smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import _data
import httpx
import openai
import orjson
from _timing import Calls, Case, Config, Row
from bench_http import QUESTION, Figure, FixedCalls, Sizes, Workload, run, serving

if str(_data._REPO_ROOT) not in sys.path:  # for tests.adapters.openai.fake_chat
    sys.path.insert(1, str(_data._REPO_ROOT))

from tests.adapters.openai.fake_chat import CHAT_PATH, completion, frames, reply, stream

TITLE = "bench_openai (figures 16-17)"
MODEL = "gpt-4o-mini"
MAX_TOKENS = _data.MAX_TOKENS
SEND_TARGET = 1.0  # ours / SDK time
STREAM_TARGET = 1 / 1.5  # ours at least 1.5x the SDK's chunks/s
HEADERS = {"content-type": "application/json", "authorization": "Bearer test"}


def load_adapter() -> tuple[type[Any] | None, str]:
    """``OpenAIAdapter``, or ``(None, why)`` while it cannot be imported."""
    try:
        from adapters.openai import OpenAIAdapter
    except Exception as exc:  # not written yet, or half-written: any import failure
        return None, f"adapters.openai not available ({type(exc).__name__}: {exc})"
    return OpenAIAdapter, ""


def reply_completion() -> dict[str, Any]:
    """A chat completion of about 2 KB: the text and tool call of ``_data.reply_dict``."""
    message = _data.reply_dict()
    text, call = message["content"]
    return completion(
        text["text"],
        tool_calls=[(call["id"], call["name"], call["input"])],
        model=MODEL,
        prompt_tokens=2095,
        completion_tokens=503,
        cached_tokens=1024,
    )


def many_deltas(n: int) -> dict[str, Any]:
    """A completion whose text streams as exactly ``n`` chunks of 8 characters."""
    return completion("abcdefg " * n, model=MODEL)


def chat_workload() -> Workload:
    """``bench_http``'s workload (history, question) with Chat Completions request bodies."""
    work = Workload.make()
    body = {"model": MODEL, "messages": work.asked, "max_tokens": MAX_TOKENS}
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    return Workload(work.messages, work.asked, orjson.dumps(body), orjson.dumps(stream_body))


def fig_send(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    sizes = Sizes.make(cfg)
    fig = Figure(f"16. {sizes.sends} sequential sends", "send", "/req")
    work = chat_workload()
    adapter_cls, why = load_adapter()
    with ExitStack() as stack:
        url = stack.enter_context(serving(reply(reply_completion()), where))
        http = stack.enter_context(httpx.Client(base_url=url))
        sdk = stack.enter_context(openai.OpenAI(api_key="test", base_url=url + "/v1"))

        def fixed(fn: Callable[[], object]) -> Case:
            return FixedCalls(fn, number=sizes.sends)

        def floor() -> bytes:
            return http.post(CHAT_PATH, content=work.body, headers=HEADERS).content

        def sdk_send() -> list[Any]:
            made = sdk.chat.completions.create(
                model=MODEL, max_tokens=MAX_TOKENS, messages=work.asked
            )
            return [*work.asked, made.choices[0].message.to_dict()]

        fig.add("floor", "httpx.Client.post(body)", fixed(floor))
        what = "adapter.send(h.user(q), ..)"
        if adapter_cls is None:
            fig.add("ours", what, None, missing=why)
        else:
            adapter = stack.enter_context(adapter_cls(api_key="test", base_url=url + "/v1"))
            history = work.conversation()

            def ours_send() -> Any:
                return adapter.send(history.user(QUESTION), model=MODEL, max_tokens=MAX_TOKENS)

            fig.add_checked("ours", what, ours_send, work.answered, fixed)
        fig.add_checked(
            "sdk", "chat.completions.create(..) + to_dict()", sdk_send, work.answered, fixed
        )
        return fig.run(cfg, SEND_TARGET)


def fig_stream(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    sizes = Sizes.make(cfg)
    data = many_deltas(sizes.deltas)
    text = data["choices"][0]["message"]["content"]
    chunks = len(frames(data))  # SSE frames on the wire, [DONE] included
    fig = Figure(f"17. stream {sizes.deltas:,} deltas", "stream", "/chunk", per=chunks)
    work = chat_workload()
    adapter_cls, why = load_adapter()
    with ExitStack() as stack:
        url = stack.enter_context(serving(stream(data), where))
        http = stack.enter_context(httpx.Client(base_url=url))
        sdk = stack.enter_context(openai.OpenAI(api_key="test", base_url=url + "/v1"))

        def lines() -> int:
            n = 0
            with http.stream("POST", CHAT_PATH, content=work.stream_body, headers=HEADERS) as r:
                for _ in r.iter_lines():
                    n += 1
            return n

        def sdk_stream() -> str:
            pieces = []
            for chunk in sdk.chat.completions.create(
                model=MODEL,
                max_tokens=MAX_TOKENS,
                messages=work.asked,
                stream=True,
                stream_options={"include_usage": True},
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    pieces.append(chunk.choices[0].delta.content)
            return "".join(pieces)

        def sdk_helper() -> str:
            with sdk.chat.completions.stream(
                model=MODEL, max_tokens=MAX_TOKENS, messages=work.asked
            ) as s:
                for _ in s:
                    pass
                final = s.get_final_completion()
            return final.choices[0].message.content or ""

        fig.add("floor", "httpx stream + iter_lines()", Calls(lines))
        what = "adapter.stream: iterate, .conversation"
        if adapter_cls is None:
            fig.add("ours", what, None, missing=why)
        else:
            adapter = stack.enter_context(adapter_cls(api_key="test", base_url=url + "/v1"))
            history = work.conversation()

            def ours_stream() -> Any:
                with adapter.stream(
                    history.user(QUESTION), model=MODEL, max_tokens=MAX_TOKENS
                ) as s:
                    for _ in s:
                        pass
                    return s.conversation

            fig.add_checked("ours", what, ours_stream, lambda c: c.last.text == text)
        fig.add_checked(
            "sdk", "create(stream=True): iterate, join deltas", sdk_stream, lambda t: t == text
        )
        fig.add_checked(
            "sdk-helper",
            "chat.completions.stream: iterate, final",
            sdk_helper,
            lambda t: t == text,
        )
        return fig.run(cfg, STREAM_TARGET, chunks)


FIGURES = [fig_send, fig_stream]


def main(argv: list[str] | None = None) -> int:
    return run(TITLE, FIGURES, argv, f"openai {openai.__version__}, httpx {httpx.__version__}")


if __name__ == "__main__":
    sys.exit(main())
