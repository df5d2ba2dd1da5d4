"""Transports that send a Conversation and fold the model's reply back in.

Every adapter has ``send(conversation, **options)`` and ``asend``; streaming
ones also ``stream`` and ``astream``, which yield the events of
``adapters._events``. :mod:`adapters.scripted` answers without a network, for
tests; ``adapters.anthropic`` speaks to the Anthropic Messages API;
:mod:`adapters.record` records any adapter's exchanges to a cassette and
replays them offline; ``adapters.openai`` speaks Chat Completions (OpenAI and
the servers that copy its wire). :func:`load` makes any installed adapter by
name (the entry points of the ``conversation.adapters`` group, listed by
:func:`available`); :mod:`adapters.testing` is the conformance kit an
adapter's author runs.

>>> from conversation import Conversation
>>> from adapters import ScriptedAdapter
>>> ScriptedAdapter(["Hi!"]).send(Conversation().user("Hello")).last.text
'Hi!'
"""

from ._base import Adapter, AsyncMessageStream, MessageStream, StreamingAdapter
from ._events import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageStart,
    MessageStop,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
)
from ._registry import available, load
from .errors import (
    AdapterError,
    APIError,
    CassetteFormatError,
    CassetteMissError,
    ScriptExhaustedError,
    StreamInterruptedError,
    StreamNotConsumedError,
    UnknownAdapterError,
)
from .scripted import FunctionAdapter, ScriptedAdapter

__all__ = [
    "APIError",
    "Adapter",
    "AdapterError",
    "AsyncMessageStream",
    "BlockStart",
    "BlockStop",
    "CassetteFormatError",
    "CassetteMissError",
    "FunctionAdapter",
    "InputJsonDelta",
    "MessageStart",
    "MessageStop",
    "MessageStream",
    "ScriptExhaustedError",
    "ScriptedAdapter",
    "StreamEvent",
    "StreamInterruptedError",
    "StreamNotConsumedError",
    "StreamingAdapter",
    "TextDelta",
    "ThinkingDelta",
    "UnknownAdapterError",
    "available",
    "load",
]
