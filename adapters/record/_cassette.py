"""A cassette file: its exchanges indexed by request, served in order, and new ones appended.

The record modes, as VCR-style tools name them, say what a cassette adapter
does with a request::

    none           replay only: a request not recorded raises CassetteMissError
    once           record every request if the cassette file does not exist yet,
                   else replay only (as "none")
    new_episodes   replay what is recorded; ask the adapter behind it for the
                   rest, and append those exchanges to the cassette
    all            never replay: ask the adapter behind it for every request,
                   and write the cassette anew (from the first exchange on)

Loading reads the file once, line by line (linear in its size); each request
is then found by one dict lookup (:func:`._match.request_key`). Identical
requests recorded several times are served in the order they were recorded.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias, get_args

from adapters.errors import CassetteFormatError, CassetteMissError
from conversation import MalformedInputError
from conversation.errors import quote

from ._format import Exchange, decode_exchange, decode_header, encode_exchange, encode_header
from ._match import closest, request_key

__all__ = ["RECORD_MODES", "Cassette", "RecordMode", "check_mode", "needs_adapter"]

RecordMode: TypeAlias = Literal["none", "once", "new_episodes", "all"]
"""What a cassette adapter does with a request: see the module docstring."""

RECORD_MODES: Final[tuple[RecordMode, ...]] = get_args(RecordMode)


def check_mode(mode: object) -> RecordMode:
    """``mode`` if it is a record mode; else :class:`~conversation.MalformedInputError`."""
    if isinstance(mode, str) and mode in RECORD_MODES:
        return mode
    names = ", ".join(repr(name) for name in RECORD_MODES)
    hint = ""
    if isinstance(mode, str):
        near = [m for m in RECORD_MODES if m.startswith(mode.strip().lower().replace("-", "_"))]
        if mode.strip() and len(near) == 1:
            hint = f" (did you mean {near[0]!r}?)"
    raise MalformedInputError(f"mode must be one of {names}, got {quote(mode)}{hint}", "mode")


def needs_adapter(mode: RecordMode, path: Path) -> bool:
    """Whether ``mode`` may ask an adapter (and record), for the cassette at ``path``."""
    return mode in ("new_episodes", "all") or (mode == "once" and not path.exists())


class Cassette:
    """The exchanges of one cassette file, and the file they are appended to.

    ``mode`` says whether it replays (``take``) and records (``add``); see the
    module docstring. Safe to use from several threads.
    """

    def __init__(self, path: Path, mode: RecordMode, *, allow_repeats: bool = False) -> None:
        self.path = path
        self.mode = mode
        self.records = needs_adapter(mode, path)
        self.replays = mode != "all" and path.exists()
        self._allow_repeats = allow_repeats
        self._index: dict[str, list[Exchange]] = {}
        self._served: dict[str, int] = {}
        self._lock = threading.Lock()
        self._started = False  # has this run written the header (mode "all", or a new file)?
        self._ends_open = False  # does the file end without a newline?
        if self.replays:
            self._load()

    # -- reading -------------------------------------------------------------------------

    def _load(self) -> None:
        where = str(self.path)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise CassetteFormatError(f"cannot read the cassette ({exc})", path=where) from None
        self._ends_open = bool(data) and not data.endswith(b"\n")
        self._started = bool(data.strip())
        header = True
        for number, text in enumerate(data.split(b"\n"), start=1):
            if not text.strip():
                continue
            if header:
                decode_header(text, where)
                header = False
                continue
            exchange = decode_exchange(text, where, number)
            key = request_key(exchange.kind, exchange.request)
            self._index.setdefault(key, []).append(exchange)

    def __len__(self) -> int:
        """How many exchanges are recorded (read and added)."""
        with self._lock:
            return sum(len(found) for found in self._index.values())

    def exchanges(self) -> Iterator[Exchange]:
        """Every exchange, grouped by request, the groups in the order each was first recorded."""
        with self._lock:
            groups = [list(found) for found in self._index.values()]
        for found in groups:
            yield from found

    def _distinct(self) -> list[Exchange]:
        """The first exchange of each distinct request."""
        with self._lock:
            return [found[0] for found in self._index.values()]

    def take(self, key: str) -> Exchange | None:
        """The next recorded answer to the request ``key`` that was not served yet, if any.

        With ``allow_repeats``, once all were served the last is served again.
        """
        if not self.replays:
            return None
        with self._lock:
            found = self._index.get(key)
            if not found:
                return None
            served = self._served.get(key, 0)
            if served < len(found):
                self._served[key] = served + 1
                return found[served]
            return found[-1] if self._allow_repeats else None

    # -- writing -------------------------------------------------------------------------

    def add(self, key: str, exchange: Exchange) -> None:
        """Append ``exchange`` to the file (served already: it answered the request it records).

        The first exchange of mode ``all`` starts the file anew; a missing file
        (and its directory) is created with the header first.
        """
        line = encode_exchange(exchange) + b"\n"
        with self._lock:
            if not self._started:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("wb") as file:
                    file.write(encode_header() + b"\n" + line)
                self._started = True
            else:
                with self.path.open("ab") as file:
                    file.write((b"\n" if self._ends_open else b"") + line)
            self._ends_open = False
            found = self._index.setdefault(key, [])
            found.append(exchange)
            self._served[key] = len(found)

    # -- missing ---------------------------------------------------------------------------

    def miss(self, kind: str, body: dict[str, Any], key: str) -> CassetteMissError:
        """The error for a request this cassette has no (more) answers to, saying what to do."""
        with self._lock:
            used = len(self._index.get(key, ()))
        head = f"no recorded answer to this {kind} request in the cassette {self.path}"
        if not self.path.exists():
            detail = "the cassette file does not exist"
            differ: list[str] = []
        elif used:
            times = "once" if used == 1 else f"{used} times"
            detail = (
                f"it was recorded {times}, and each answer was replayed already "
                "(pass allow_repeats=True to replay the last one again)"
            )
            differ = []
        else:
            near = closest(kind, body, self._distinct())
            if near is None:
                detail = "the cassette has no exchanges"
                differ = []
            else:
                exchange, differ = near
                shown = "; ".join(differ[:5]) + (
                    f"; and {len(differ) - 5} more" if len(differ) > 5 else ""
                )
                detail = (
                    f"the closest recorded request (line {exchange.line}, a {exchange.kind}) "
                    f"differs: {shown}"
                )
        message = (
            f"{head} (mode {self.mode!r}): {detail}. To record it, use mode='new_episodes' "
            "with an adapter to ask (ReplayAdapter(path, fallback=adapter, "
            "mode='new_episodes'); in pytest, --record-mode=new_episodes), or mode='all' to "
            "record the whole cassette again."
        )
        return CassetteMissError(
            message, kind=kind, request=body, path=str(self.path), differences=tuple(differ)
        )
