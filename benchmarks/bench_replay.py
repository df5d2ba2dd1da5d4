"""Figure 10: ReplayAdapter serving a large cassette: a lookup is O(1), loading linear once.

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
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _data
from _timing import Calls, Config, Entry, Row, fmt_time, main, measure, size_label, time_entries

if str(_data._REPO_ROOT) not in sys.path:  # for tests.adapters.fake_api
    sys.path.insert(1, str(_data._REPO_ROOT))

from tests.adapters.fake_api import FakeMessagesAPI, Reply

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


if __name__ == "__main__":
    sys.exit(main("bench_replay (figure 10)", [run]))
