"""Figures 6-8: our Anthropic adapter against the official SDK, over HTTP on loopback.

Both clients talk to the same fake Messages API (``tests/adapters/fake_api.py``)
on 127.0.0.1, so what is measured is each client's own cost per request:
building the body, the HTTP round trip through httpx, reading the reply and
putting it back into the history.

6. 500 sequential sends of a 10-turn history plus a new question, the reply
   being a ~2 KB Message (text + tool_use, usage with cache fields):
   - floor: ``httpx.Client.post`` of the same body bytes, response read;
   - ours: ``adapter.send(history.user(q), model=.., max_tokens=..)``;
   - SDK: ``client.messages.create(..)``, then ``[*messages, resp.to_param()]``.
   Target: ours at most the SDK's time.
7. 32 concurrent async requests (``asyncio.gather``), time per batch: the same
   three with ``httpx.AsyncClient``, ``adapter.asend`` and ``AsyncAnthropic``.
   Target: ours at most the SDK's time.
8. One streamed reply of 10,000 text deltas, time per SSE event:
   - floor: ``httpx.Client.stream`` + ``iter_lines()`` (the bytes, split in lines);
   - ours: ``with adapter.stream(..) as s: for e in s: ...`` then ``s.conversation``;
   - SDK: ``with client.messages.stream(..) as s: for e in s: ...`` then
     ``s.get_final_message()``.
   Target: ours at least 1.5x the SDK's events per second.

The ``ratio`` column of the floor, ours and SDK rows is time / floor time, as in
the other scripts; the targets compare ours with the SDK, on a row of their own
(``ours/sdk``: our time over the SDK's). anthropic 2.x sends through ``httpx2``
(pydantic's fork of httpx), our adapter through ``httpx``: an informational
``httpx2`` row sends the floor's request through ``httpx2``, which tells the
transports apart from the code on top of them.

The server runs in a child process by default (``--server process``), as the
real API runs on another machine: its CPU time then neither counts as the
client's nor competes with it for the GIL. ``--server thread`` runs it in a
thread of this process instead, as the tests do.

When ``adapters.anthropic`` cannot be imported (or fails its first request),
the floor and SDK rows still run and ours print ``n/a``.

    python benchmarks/bench_http.py            # full run
    python benchmarks/bench_http.py --quick    # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import _data
import anthropic
import httpx
import orjson
from _serving import WHERE, serving
from _timing import (
    Calls,
    Case,
    Config,
    Entry,
    FixedCalls,
    Report,
    Row,
    clock,
    fmt_time,
    header,
    settle,
    time_entries,
)

if str(_data._REPO_ROOT) not in sys.path:  # for tests.adapters.fake_api
    sys.path.insert(1, str(_data._REPO_ROOT))

from tests.adapters.fake_api import (
    Reply,
    Stream,
    many_deltas_message,
    stream_events,
)

TITLE = "bench_http (figures 6-8)"
MODEL = _data.MODEL
MAX_TOKENS = _data.MAX_TOKENS
QUESTION = "What is the weather in Paris and Berlin for the next three days?"
HISTORY_TURNS = 10
CONCURRENT = 32
SEND_TARGET = 1.0  # ours / SDK time
BATCH_TARGET = 1.0
STREAM_TARGET = 1 / 1.5  # ours at least 1.5x the SDK's events/s
# The SDK warns about deprecated model ids on every call; the id here is only a label.
warnings.filterwarnings(
    "ignore", message=r"The model .* is deprecated", category=DeprecationWarning
)

HEADERS = {
    "content-type": "application/json",
    "x-api-key": "test",
    "anthropic-version": "2023-06-01",
}


@dataclass(frozen=True)
class Sizes:
    sends: int  # sequential requests per sample (figure 6)
    deltas: int  # text deltas of the streamed reply (figure 8)

    @classmethod
    def make(cls, cfg: Config) -> Sizes:
        return cls(sends=50, deltas=1000) if cfg.quick else cls(sends=500, deltas=10_000)


# --------------------------------------------------------------------------- our adapter


def load_adapter() -> tuple[type[Any] | None, str]:
    """``AnthropicAdapter``, or ``(None, why)`` while it cannot be imported."""
    conversation_cls, why = _data.load_conversation()
    if conversation_cls is None:
        return None, why
    try:
        from adapters.anthropic import AnthropicAdapter
    except Exception as exc:  # not written yet, or half-written: any import failure
        return None, f"adapters.anthropic not available yet ({type(exc).__name__}: {exc})"
    return AnthropicAdapter, ""


# --------------------------------------------------------------------------- workloads


@dataclass
class Workload:
    """The history, the question and the request body: the same for every contender."""

    messages: list[dict[str, Any]]  # the history as wire messages
    asked: list[Any]  # the history plus the question (the SDK's MessageParam dicts)
    body: bytes  # the request body (no "stream")
    stream_body: bytes

    @classmethod
    def make(cls) -> Workload:
        messages = _data.message_dicts(_data.text_pairs(HISTORY_TURNS))
        asked = [*messages, {"role": "user", "content": QUESTION}]
        payload = _data.payload(asked)
        return cls(
            messages, asked, orjson.dumps(payload), orjson.dumps({**payload, "stream": True})
        )

    def conversation(self) -> Any:
        """The same history as our Conversation (only called once the core is importable)."""
        conversation_cls, _ = _data.load_conversation()
        assert conversation_cls is not None
        return _data.build_conversation(conversation_cls, _data.text_pairs(HISTORY_TURNS))

    @staticmethod
    def answered(history: Any) -> bool:
        """Whether a history (ours or the SDK's list) is the question's plus the reply."""
        return len(history) == HISTORY_TURNS + 2


def sdk_fold(asked: list[Any], message: Any) -> list[Any]:
    """The SDK's way to put a reply back into the history."""
    return [*asked, message.to_param()]


# --------------------------------------------------------------------------- figures


@dataclass
class Figure:
    """The contenders of one figure, collected, then timed together (interleaved)."""

    name: str
    key: str  # prefix of its notes
    unit: str
    per: int = 1
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, who: str, what: str, case: Case | None, missing: str = "") -> None:
        self.entries.append(
            Entry(self.name, who, what, case, per=self.per, unit=self.unit, missing=missing)
        )

    def add_checked(
        self,
        who: str,
        what: str,
        fn: Callable[[], object],
        check: Callable[[Any], bool],
        case: Callable[[Callable[[], object]], Case] = Calls,
    ) -> None:
        """Run ``fn`` once untimed, and time it only if ``check`` finds its result right."""
        try:
            why = "" if check(fn()) else "wrong result"
        except Exception as exc:  # our adapter, being written, may fail in any way
            why = f"{type(exc).__name__}: {exc}"[:300]
        if why:
            self.notes.append(f"{self.key}: {what} not timed: {why}")
            self.add(who, what, None, missing="failed, see notes")
        else:
            self.add(who, what, case(fn))

    def run(self, cfg: Config, target: float, events: int = 0) -> tuple[list[Row], list[str]]:
        rows, seconds = time_entries(self.entries, cfg)
        timed = {e.who: s for e, s in zip(self.entries, seconds, strict=True)}
        judged = versus(self.name, timed.get("ours"), timed.get("sdk"), target, events)
        return [*rows, judged], self.notes


def transport_row(
    fig: Figure,
    make: Callable[[Any], Callable[[], object]],
    case: Callable[[Callable[[], object]], Case] = Calls,
) -> None:
    """An informational row: the floor's bare request sent through ``httpx2``.

    anthropic 2.x sends through ``httpx2`` (pydantic's fork of httpx), our
    adapter through ``httpx``; this row tells the two transports apart from the
    code on top of them. Left out when ``httpx2`` is not installed.
    """
    try:
        import httpx2
    except ImportError:
        return
    fig.add(
        "httpx2", "the floor's request through httpx2 (the SDK's transport)", case(make(httpx2))
    )


def fig_send(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    sizes = Sizes.make(cfg)
    fig = Figure(f"6. {sizes.sends} sequential sends", "send", "/req")
    work = Workload.make()
    adapter_cls, why = load_adapter()
    with ExitStack() as stack:
        url = stack.enter_context(serving(Reply(_data.reply_dict()), where))
        http = stack.enter_context(httpx.Client(base_url=url))
        sdk = stack.enter_context(anthropic.Anthropic(api_key="test", base_url=url))

        def fixed(fn: Callable[[], object]) -> Case:
            return FixedCalls(fn, number=sizes.sends)

        def floor() -> bytes:
            return http.post("/v1/messages", content=work.body, headers=HEADERS).content

        def sdk_send() -> list[Any]:
            message = sdk.messages.create(model=MODEL, max_tokens=MAX_TOKENS, messages=work.asked)
            return sdk_fold(work.asked, message)

        fig.add("floor", "httpx.Client.post(body)", fixed(floor))
        if adapter_cls is None:
            fig.add("ours", "adapter.send(h.user(q), ..)", None, missing=why)
        else:
            adapter = stack.enter_context(adapter_cls(api_key="test", base_url=url))
            history = work.conversation()

            def ours_send() -> Any:
                return adapter.send(history.user(QUESTION), model=MODEL, max_tokens=MAX_TOKENS)

            fig.add_checked("ours", "adapter.send(h.user(q), ..)", ours_send, work.answered, fixed)
        fig.add_checked("sdk", "messages.create(..) + to_param()", sdk_send, work.answered, fixed)

        def through(module: Any) -> Callable[[], object]:
            client = stack.enter_context(module.Client(base_url=url))
            return lambda: client.post("/v1/messages", content=work.body, headers=HEADERS).content

        transport_row(fig, through, fixed)
        return fig.run(cfg, SEND_TARGET)


def fig_batch(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    fig = Figure(f"7. {CONCURRENT} concurrent asends", "batch", "/batch")
    work = Workload.make()
    adapter_cls, why = load_adapter()
    loop = asyncio.new_event_loop()
    with ExitStack() as stack:
        stack.callback(loop.close)
        url = stack.enter_context(serving(Reply(_data.reply_dict()), where))

        def later(close: Callable[[], Awaitable[object]]) -> None:
            stack.callback(lambda: loop.run_until_complete(close()))

        def batch(one: Callable[[], Awaitable[Any]]) -> Callable[[], list[Any]]:
            async def gather() -> list[Any]:
                return await asyncio.gather(*(one() for _ in range(CONCURRENT)))

            return lambda: loop.run_until_complete(gather())

        def bare(module: Any) -> Callable[[], list[Any]]:
            limits = module.Limits(max_connections=1000, max_keepalive_connections=100)
            client = module.AsyncClient(base_url=url, limits=limits)
            later(client.aclose)

            async def one() -> bytes:
                response = await client.post("/v1/messages", content=work.body, headers=HEADERS)
                return bytes(response.content)

            return batch(one)

        sdk = anthropic.AsyncAnthropic(api_key="test", base_url=url)
        later(sdk.close)

        async def sdk_one() -> list[Any]:
            message = await sdk.messages.create(
                model=MODEL, max_tokens=MAX_TOKENS, messages=work.asked
            )
            return sdk_fold(work.asked, message)

        fig.add("floor", f"gather {CONCURRENT} httpx.AsyncClient.post", Calls(bare(httpx)))
        what = f"gather {CONCURRENT} adapter.asend(h.user(q), ..)"
        if adapter_cls is None:
            fig.add("ours", what, None, missing=why)
        else:
            adapter = adapter_cls(api_key="test", base_url=url)
            later(adapter.aclose)
            history = work.conversation()

            async def ours_one() -> Any:
                return await adapter.asend(
                    history.user(QUESTION), model=MODEL, max_tokens=MAX_TOKENS
                )

            fig.add_checked("ours", what, batch(ours_one), lambda cs: all(map(work.answered, cs)))
        fig.add_checked(
            "sdk",
            f"gather {CONCURRENT} AsyncAnthropic create + to_param()",
            batch(sdk_one),
            lambda hs: all(map(work.answered, hs)),
        )
        transport_row(fig, bare)
        return fig.run(cfg, BATCH_TARGET)


def fig_stream(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    sizes = Sizes.make(cfg)
    message = many_deltas_message(sizes.deltas, model=MODEL)
    text = message["content"][0]["text"]
    events = len(stream_events(message))  # SSE events on the wire, pings included
    fig = Figure(f"8. stream {sizes.deltas:,} deltas", "stream", "/event", per=events)
    work = Workload.make()
    adapter_cls, why = load_adapter()
    with ExitStack() as stack:
        url = stack.enter_context(serving(Stream(message), where))
        sdk = stack.enter_context(anthropic.Anthropic(api_key="test", base_url=url))

        def bare(module: Any) -> Callable[[], int]:
            client = stack.enter_context(module.Client(base_url=url))

            def lines() -> int:
                n = 0
                with client.stream(
                    "POST", "/v1/messages", content=work.stream_body, headers=HEADERS
                ) as r:
                    for _ in r.iter_lines():
                        n += 1
                return n

            return lines

        def sdk_stream() -> Any:
            with sdk.messages.stream(model=MODEL, max_tokens=MAX_TOKENS, messages=work.asked) as s:
                for _ in s:
                    pass
                return s.get_final_message()

        fig.add("floor", "httpx stream + iter_lines()", Calls(bare(httpx)))
        what = "adapter.stream: iterate, .conversation"
        if adapter_cls is None:
            fig.add("ours", what, None, missing=why)
        else:
            adapter = stack.enter_context(adapter_cls(api_key="test", base_url=url))
            history = work.conversation()

            def ours_stream() -> Any:
                asked = history.user(QUESTION)
                with adapter.stream(asked, model=MODEL, max_tokens=MAX_TOKENS) as s:
                    for _ in s:
                        pass
                    return s.conversation

            fig.add_checked("ours", what, ours_stream, lambda c: c.last.text == text)
        fig.add_checked(
            "sdk",
            "messages.stream: iterate, get_final_message()",
            sdk_stream,
            lambda m: m.content[0].text == text,
        )
        transport_row(fig, bare)
        return fig.run(cfg, STREAM_TARGET, events)


# --------------------------------------------------------------------------- report


def versus(fig: str, ours: float | None, sdk: float | None, target: float, events: int = 0) -> Row:
    """The row a target is judged on: our time over the SDK's (events/s for a stream)."""
    what = "time ours / time SDK"
    if ours is None or sdk is None:
        return Row(fig, "ours/sdk", what, "n/a", None, target, "ours not timed")
    if events:
        value = f"{events / ours:,.0f} vs {events / sdk:,.0f} events/s ({sdk / ours:.2f}x)"
    else:
        value = f"{fmt_time(ours)} vs {fmt_time(sdk)}"
    return Row(fig, "ours/sdk", what, value, ours / sdk, target)


FIGURES = [fig_send, fig_batch, fig_stream]


def run(
    title: str,
    figures: list[Callable[[Config, str], tuple[list[Row], list[str]]]],
    argv: list[str] | None,
    versions: str,
) -> int:
    """Parse ``--quick`` / ``--server``, run ``figures`` and print one table.

    ``versions`` says which clients were measured (added to the header).
    """
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, few repeats")
    parser.add_argument(
        "--server",
        choices=WHERE,
        default="process",
        help="run the fake API in a child process (default) or in a thread of this one",
    )
    args = parser.parse_args(argv)
    cfg = Config.make(args.quick)
    print(header(cfg, title) + f"fake API in a {args.server}, {versions}\n")
    settle()
    report = Report(cfg)
    started = clock()
    for figure in figures:
        rows, notes = figure(cfg, args.server)
        report.add(rows)
        report.notes.extend(notes)
    report.print()
    print(f"\n(ran in {clock() - started:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(TITLE, FIGURES, argv, f"httpx {httpx.__version__}")


if __name__ == "__main__":
    sys.exit(main())
