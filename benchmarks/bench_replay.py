"""Figure 10: replaying. A cassette lookup is O(1); replay_many keeps up with bare httpx.

Two cassettes are recorded first (untimed), of 100 and of 10,000 exchanges
(1,000 with ``--quick``): each exchange a question of its own (a system
prompt and one user turn of about 200 characters) and a short text reply,
recorded through ``RecordingAdapter`` over the fake Messages API on
127.0.0.1 (``tests/adapters/fake_api.py``).

- 10a, lookup: ``replay.send(c, **options)`` of a ``ReplayAdapter`` (no
  adapter behind it), cycling through 100 requests spread evenly over the
  cassette (every one of the 100, every 100th of the 10,000), so that each
  lookup finds a recorded exchange, and the request position in the file
  is the same spread for both. Time per request. The floor is the same call
  on the 100-exchange cassette; ours is on the large one, and the ratio is
  the O(1) check (target: at most 1.5x).
- The peer, side by side: vcrpy (pytest-recording's engine) replaying the
  same requests sent by ``AnthropicAdapter`` through httpx, with
  ``match_on=["method", "path", "body"]`` (requests told apart by their
  content, as ours are); its cassettes are what vcrpy records from the same
  fake API (one request recorded by vcrpy, the others written in its shape:
  see :func:`record_vcr`). Its rows
  are information: vcrpy scans its list of interactions for each request.
  They are measured apart from ours (vcrpy patches httpx for as long as a
  cassette is in use), their ratio against the floor of ours. When vcrpy is
  not installed (``pip install vcrpy``) the rows say so.
- 10b, loading: ``ReplayAdapter(path)``, time per exchange, at each size;
  the floor is the 100-exchange cassette, the ratio the linearity check
  (target: at most 1.5x per exchange).

10c, ``replay_many`` over HTTP: 1,000 dialogues (100 with ``--quick``) of five
exchanges each (five user turns, each answered by a model), sharing a system
prompt, replayed by ``replay_many(dialogues, AnthropicAdapter(base_url=..),
concurrency=64, progress=False)``: 5,000 requests. The fake Messages API
waits 20 ms (an asyncio sleep) before each answer, one short text Message.
The floor is a bare ``httpx.AsyncClient`` (the adapter's pool limits) sending
the very bodies the replay sent, recorded from an untimed replay first: 64
workers, each taking the next dialogue and posting its five bodies one after
another, as the replay does, each answer read. Each sample is one whole run on
a fresh event loop (``anyio.run``, as ``replay_many`` itself does), opening its
connections, with the GC on; the three are interleaved and the minimum of 3
repeats is kept. The target: our time at most 1.25x the floor's (throughput
at least 80% of the floor's). The latency alone bounds a run at 16 waves of
64 dialogues x 5 x 20 ms = 1.6 s; an informational row replays through an
adapter that builds each body, sleeps 20 ms and folds the same answer, with
no HTTP: what ``replay_many`` itself costs beside that bound.

The server of 10c runs in a child process by default (``--server process``):
both clients face the same server, and its work neither counts as the
client's nor competes with it for the GIL; ``--server thread`` runs it in a
thread of this process. ``--only lookup`` / ``--only many`` runs one part.

    python benchmarks/bench_replay.py            # full run
    python benchmarks/bench_replay.py --quick    # smoke run
    python benchmarks/bench_replay.py --only many
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _data
import anyio
import httpx
from _serving import WHERE, serving
from _timing import (
    Calls,
    Config,
    Entry,
    FixedCalls,
    Report,
    Row,
    clock,
    fmt_time,
    header,
    measure,
    settle,
    size_label,
    time_entries,
)

if str(_data._REPO_ROOT) not in sys.path:  # for tests.adapters.fake_api
    sys.path.insert(1, str(_data._REPO_ROOT))

from tests.adapters.fake_api import FakeMessagesAPI, Reply, make_message

TARGET = 1.5
SPREAD = 100  # distinct requests each timed loop cycles through
OPTIONS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 256}
SYSTEM = "You answer questions about the history of science in two sentences."
REPLY_TEXT = "Galileo observed the moons of Jupiter in 1610. It changed astronomy."


def question(i: int) -> str:
    return f"Question {i}: " + "what did the telescope show that the naked eye missed? " * 3


def conversations(cls: Any, n: int) -> list[Any]:
    return [cls(system=SYSTEM).user(question(i)) for i in range(n)]


def spread(n: int) -> list[int]:
    """``SPREAD`` request numbers spread evenly over ``n`` exchanges."""
    step = max(1, n // SPREAD)
    return list(range(0, n, step))[:SPREAD]


def record_ours(adapter_cls: Any, base_url: str, chats: list[Any], path: Path) -> None:
    from adapters.record import RecordingAdapter

    with adapter_cls(api_key="bench-key", base_url=base_url, max_retries=0) as live:
        recorder = RecordingAdapter(live, path, default_options=OPTIONS)
        for chat in chats:
            recorder.send(chat)


def record_vcr(adapter_cls: Any, base_url: str, chats: list[Any], path: Path) -> None:
    """vcrpy's cassette of ``chats``: one interaction recorded by vcrpy, copied per request.

    Recording thousands through vcrpy takes hours (each new request is first
    looked for among those recorded), so vcrpy records the first request, and
    the others are written in the very shape it gave that one, each with its
    own request body (the bytes ``AnthropicAdapter`` sends for it).
    """
    import vcr

    recorder = vcr.VCR(
        record_mode="all", match_on=["method", "path", "body"], filter_headers=["x-api-key"]
    )
    template = path.with_suffix(".template.json")
    with (
        recorder.use_cassette(str(template), serializer="json"),
        adapter_cls(api_key="bench-key", base_url=base_url, max_retries=0) as live,
    ):
        live.send(chats[0], **OPTIONS)
    cassette = json.loads(template.read_text(encoding="utf-8"))
    first = cassette["interactions"][0]
    interactions = []
    for chat in chats:
        body = chat.to_json(**OPTIONS).decode("utf-8")
        request = {**first["request"], "body": body}
        request["headers"] = {**request["headers"], "content-length": [str(len(body.encode()))]}
        interactions.append({"request": request, "response": first["response"]})
    cassette["interactions"] = interactions
    path.write_text(json.dumps(cassette), encoding="utf-8")


def cycling(send: Callable[[Any], object], chats: list[Any]) -> Callable[[], object]:
    """A call that sends the next of ``chats`` each time, round and round."""
    position = iter(range(sys.maxsize))

    def call() -> object:
        return send(chats[next(position) % len(chats)])

    return call


@contextlib.contextmanager
def vcr_replaying(path: Path) -> Iterator[None]:
    import vcr

    player = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    with player.use_cassette(str(path), serializer="json", allow_playback_repeats=True):
        yield


def run(cfg: Config) -> tuple[list[Row], list[str]]:
    conversation_cls, why = _data.load_conversation()
    sizes = (100, 1_000) if cfg.quick else (100, 10_000)
    small, large = sizes
    lookup = f"10a. lookup, cassette of {size_label(large)} vs {size_label(small)}"
    load = f"10b. load, per exchange, {size_label(large)} vs {size_label(small)}"
    notes: list[str] = []
    if conversation_cls is None:
        return [
            Row(lookup, "ours", "replay.send(c)", "n/a", note=why),
            Row(load, "ours", "ReplayAdapter(path)", "n/a", note=why),
        ], notes
    from adapters.anthropic import AnthropicAdapter
    from adapters.record import ReplayAdapter

    try:
        import vcr  # noqa: F401

        has_vcr = True
    except ImportError:
        has_vcr = False
        notes.append("vcrpy is not installed (pip install vcrpy): its rows are left out")

    folder = Path(tempfile.mkdtemp(prefix="bench_replay_"))
    chats = {n: conversations(conversation_cls, n) for n in sizes}
    ours = {n: folder / f"ours_{n}.jsonl" for n in sizes}
    theirs = {n: folder / f"vcr_{n}.json" for n in sizes}
    with FakeMessagesAPI(default=Reply(text=REPLY_TEXT)) as api:
        for n in sizes:
            record_ours(AnthropicAdapter, api.base_url, chats[n], ours[n])
            if has_vcr:
                record_vcr(AnthropicAdapter, api.base_url, chats[n], theirs[n])

        replays = {
            n: ReplayAdapter(ours[n], default_options=OPTIONS, allow_repeats=True) for n in sizes
        }
        timed = {n: [chats[n][i] for i in spread(n)] for n in sizes}
        for n in sizes:  # each contender once, checked, before it is timed
            answer = replays[n].send(timed[n][-1])
            if answer[-1].text != REPLY_TEXT:
                notes.append(f"lookup: the {n}-exchange replay answered {answer[-1].text!r}")
        entries = [
            Entry(
                lookup,
                "floor",
                f"replay.send(c), {size_label(small)} exchanges",
                Calls(cycling(replays[small].send, timed[small])),
            ),
            Entry(
                lookup,
                "ours",
                f"replay.send(c), {size_label(large)} exchanges",
                Calls(cycling(replays[large].send, timed[large])),
                TARGET,
            ),
        ]
        entries += [
            Entry(
                load,
                "floor",
                f"ReplayAdapter(path), {size_label(small)} exchanges",
                Calls(lambda: ReplayAdapter(ours[small]), keep=True),
                per=small,
                unit="/exchange",
            ),
            Entry(
                load,
                "ours",
                f"ReplayAdapter(path), {size_label(large)} exchanges",
                Calls(lambda: ReplayAdapter(ours[large]), keep=True, max_number=20),
                TARGET,
                per=large,
                unit="/exchange",
            ),
        ]
        rows, seconds = time_entries(entries, cfg)
        if seconds[2] is not None and seconds[3] is not None:  # load: compared per exchange
            rows[3].ratio = (seconds[3] / large) / (seconds[2] / small)
        floor = seconds[0]
        if has_vcr and floor is not None:
            for n in sizes:
                rows.insert(
                    2 + sizes.index(n),
                    vcr_row(lookup, n, theirs[n], timed[n], api.base_url, floor, cfg),
                )
    return rows, notes


def vcr_row(
    figure: str, n: int, path: Path, chats: list[Any], base_url: str, floor: float, cfg: Config
) -> Row:
    """vcrpy's time per request, replaying ``chats`` from its ``n``-interaction cassette."""
    from adapters.anthropic import AnthropicAdapter

    what = f"vcrpy + AnthropicAdapter.send(c), {size_label(n)} interactions"
    with ExitStack() as stack:
        stack.enter_context(vcr_replaying(path))
        live = stack.enter_context(
            AnthropicAdapter(api_key="bench-key", base_url=base_url, max_retries=0)
        )
        send = cycling(lambda c: live.send(c, **OPTIONS), chats)
        if send()[-1].text != REPLY_TEXT:  # type: ignore[index]
            return Row(figure, "peer", what, "n/a", note="its replay did not answer as recorded")
        seconds = measure({"vcr": Calls(send)}, cfg)["vcr"]
    return Row(figure, "peer", what, fmt_time(seconds), seconds / floor)


# --------------------------------------------------------------------------- 10c, replay_many

LATENCY = 0.020  # seconds the fake API waits before each answer
CONCURRENCY = 64
EXCHANGES = 5  # per dialogue: five user turns, each answered by a model
MANY_TARGET = 1 / 0.8  # our time over the floor's: throughput at least 80% of the floor's
NEW_TEXT = "Kepler's laws followed from Tycho's data. Newton explained them."
HEADERS = {
    "x-api-key": "bench-key",
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
    "accept": "application/json",
}
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)  # the adapter's
DIALOGUE = re.compile(rb"Dialogue (\d+),")


def old_reply(text: str) -> dict[str, Any]:
    """An earlier model's answer (model turns are what a replay writes again)."""
    return {"content": [{"type": "text", "text": text}], "model": "old-model", "id": "msg_old"}


def five_exchange_dialogues(cls: Any, n: int) -> list[Any]:
    """``n`` dialogues of ``EXCHANGES`` exchanges, each with questions of its own."""
    chats = []
    for d in range(n):
        chat = cls(system=SYSTEM)
        for k in range(EXCHANGES):
            chat = chat.user(f"Dialogue {d}, {question(k)}").fold(old_reply(REPLY_TEXT))
        chats.append(chat)
    return chats


def replayed_whole(results: list[Any], n: int) -> bool:
    """Whether each of the ``n`` dialogues was replayed to its end, every answer new."""
    return len(results) == n and all(
        r.complete and [t.text for t in list(r.conversation)[1::2]] == [NEW_TEXT] * EXCHANGES
        for r in results
    )


async def recorded_bodies(adapter_cls: Any, url: str, chats: list[Any]) -> list[list[bytes]]:
    """One untimed replay, checked: the bodies it sent, grouped by dialogue, in order."""
    from conversation.replay import areplay_many

    sent: list[bytes] = []

    async def keep(request: httpx.Request) -> None:
        sent.append(request.content)

    async with httpx.AsyncClient(limits=LIMITS, event_hooks={"request": [keep]}) as client:
        adapter = adapter_cls(api_key="bench-key", base_url=url, async_http_client=client)
        results = await areplay_many(
            chats, adapter, concurrency=CONCURRENCY, progress=False, **OPTIONS
        )
    if not replayed_whole(results, len(chats)):
        raise RuntimeError("the replay did not answer every turn as the fake API does")
    grouped: list[list[bytes]] = [[] for _ in chats]
    for body in sent:
        match = DIALOGUE.search(body)
        assert match is not None
        grouped[int(match[1])].append(body)
    if any(len(bodies) != EXCHANGES for bodies in grouped):
        raise RuntimeError("the replay did not send five requests a dialogue")
    return grouped


def bare_httpx(url: str, grouped: list[list[bytes]]) -> Callable[[], int]:
    """The floor: ``CONCURRENCY`` workers posting each dialogue's bodies in turn; the
    count of answers read."""

    async def run() -> int:
        answered = 0
        dialogues = iter(grouped)

        async def worker(client: httpx.AsyncClient) -> None:
            nonlocal answered
            for bodies in dialogues:
                for body in bodies:
                    response = await client.post("/v1/messages", content=body, headers=HEADERS)
                    if response.status_code == 200 and response.content:
                        answered += 1

        async with (
            httpx.AsyncClient(base_url=url, limits=LIMITS) as client,
            anyio.create_task_group() as group,
        ):
            for _ in range(CONCURRENCY):
                group.start_soon(worker, client)
        return answered

    return lambda: anyio.run(run)


class Latency:
    """An adapter without HTTP: builds the request body, waits ``LATENCY``, folds the
    fake API's answer. What ``replay_many`` costs apart from the HTTP client."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    async def asend(self, conversation: Any, /, **options: Any) -> Any:
        conversation.to_json(**options)
        await anyio.sleep(LATENCY)
        return conversation.fold(self.answer)


class Last:
    """Keeps the result of the latest call of ``fn``, to be checked once the clock stops."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.result: Any = None

    def __call__(self) -> None:
        self.result = self.fn()


def run_many(cfg: Config, where: str) -> tuple[list[Row], list[str]]:
    n = 100 if cfg.quick else 1000
    requests = n * EXCHANGES
    figure = f"10c. replay_many, {size_label(n)} x {EXCHANGES} exchanges, 20 ms, c={CONCURRENCY}"
    what = f"replay_many(.., AnthropicAdapter, concurrency={CONCURRENCY})"
    conversation_cls, why = _data.load_conversation()
    if conversation_cls is None:
        return [Row(figure, "ours", what, "n/a", note=why)], []
    from adapters.anthropic import AnthropicAdapter
    from conversation.replay import replay_many

    chats = five_exchange_dialogues(conversation_cls, n)
    message = make_message(NEW_TEXT, id="msg_bench")
    cfg = Config(cfg.quick, min(cfg.repeat, 3), cfg.min_time)  # a sample is a whole run
    notes: list[str] = []
    with ExitStack() as stack:
        url = stack.enter_context(serving(Reply(message, delay=LATENCY), where))
        grouped = anyio.run(recorded_bodies, AnthropicAdapter, url, chats)
        adapter = stack.enter_context(AnthropicAdapter(api_key="bench-key", base_url=url))

        def replaying(through: Any) -> Last:
            return Last(
                lambda: replay_many(
                    chats, through, concurrency=CONCURRENCY, progress=False, **OPTIONS
                )
            )

        floor, ours = Last(bare_httpx(url, grouped)), replaying(adapter)
        offline = replaying(Latency(json.dumps(message).encode()))
        entries = [
            Entry(
                figure,
                "floor",
                f"httpx.AsyncClient.post of the same {requests:,} bodies, {CONCURRENCY} workers",
                FixedCalls(floor, gc_on=True),
            ),
            Entry(figure, "ours", what, FixedCalls(ours, gc_on=True)),
            Entry(
                figure,
                "no HTTP",
                "the same, an adapter that sleeps 20 ms instead of HTTP",
                FixedCalls(offline, gc_on=True),
            ),
        ]
        rows, seconds = time_entries(entries, cfg)
    if floor.result != requests:
        notes.append("10c: the bare client did not get an answer to every request")
    for who in (ours, offline):
        if not replayed_whole(who.result, n):
            notes.append("10c: a replay did not answer every turn as the fake API does")
    bound = -(-n // CONCURRENCY) * EXCHANGES * LATENCY
    notes.append(f"10c: the 20 ms latency alone bounds a run at {bound:.2g} s")
    for row, sec in zip(rows, seconds, strict=True):
        if sec is not None:
            row.value = f"{n / sec:,.0f} dialogues/s, {requests / sec:,.0f} requests/s"
    floor_s, ours_s = seconds[:2]
    if floor_s is None or ours_s is None:
        return rows, notes
    value = (
        f"throughput {floor_s / ours_s:.0%} of the floor's; a run {ours_s:.2f} s vs {floor_s:.2f} s"
    )
    judged = Row(figure, "ours/floor", "time ours / time floor", value, ours_s / floor_s)
    judged.target = MANY_TARGET
    return [*rows, judged], notes


# --------------------------------------------------------------------------- main

TITLE = "bench_replay (figure 10)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=TITLE)
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, few repeats")
    parser.add_argument(
        "--server",
        choices=WHERE,
        default="process",
        help="10c: run the fake API in a child process (default) or in a thread of this one",
    )
    parser.add_argument(
        "--only", choices=("lookup", "many"), help="run 10a-b (lookup) or 10c (many) alone"
    )
    args = parser.parse_args(argv)
    cfg = Config.make(args.quick)
    print(
        header(cfg, TITLE) + f"10c: fake API in a {args.server}, httpx {httpx.__version__}, "
        "min of 3 whole runs, GC on\n"
    )
    settle()
    report = Report(cfg)
    started = clock()
    if args.only != "many":
        rows, notes = run(cfg)
        report.add(rows)
        report.notes.extend(notes)
    if args.only != "lookup":
        rows, notes = run_many(cfg, args.server)
        report.add(rows)
        report.notes.extend(notes)
    report.print()
    print(f"\n(ran in {clock() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
