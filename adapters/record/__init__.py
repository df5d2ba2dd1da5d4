"""Record any adapter's exchanges to a cassette, and replay them offline.

::

    from adapters.record import RecordingAdapter, ReplayAdapter
    live = RecordingAdapter(AnthropicAdapter(), "calls.jsonl")   # records every exchange
    fake = ReplayAdapter("calls.jsonl")                           # serves them, no network

A cassette is a text file of JSON Lines: a header, then one exchange per line
(the request body, and the reply, the streamed events, the token count or the
error), in a format documented in :mod:`adapters.record._format`. Requests are
matched by content: a request the cassette lacks raises
:class:`~adapters.CassetteMissError`, naming the closest recorded request and
what differs. Streams replay as streams, event by event, and a recorded error
(a 429, a 500, a stream cut off) replays as the same error.

Record modes, as VCR-style tools name them::

    none           replay only (ReplayAdapter's default without a fallback)
    once           record if the cassette does not exist yet, else replay only
    new_episodes   replay what is recorded, record what is new (with a fallback)
    all            record everything anew (RecordingAdapter's default)

Nothing from HTTP headers is recorded, so no API key is; request fields named
like secrets (``api_key``, ``authorization``...) and text shaped like an
Anthropic key are replaced by ``[redacted]``. For pytest, the opt-in plugin
:mod:`adapters.record.pytest_plugin` gives each test a cassette of its own.
"""

from adapters.errors import CassetteFormatError, CassetteMissError

from ._adapters import RecordingAdapter, ReplayAdapter
from ._cassette import RECORD_MODES, RecordMode
from ._fixture import CassetteFixture
from ._format import FORMAT, VERSION
from ._streams import AsyncCassetteStream, CassetteStream

__all__ = [
    "FORMAT",
    "RECORD_MODES",
    "VERSION",
    "AsyncCassetteStream",
    "CassetteFixture",
    "CassetteFormatError",
    "CassetteMissError",
    "CassetteStream",
    "RecordMode",
    "RecordingAdapter",
    "ReplayAdapter",
]
