"""conversation-state: the history of a dialogue with a chat model, as a value.

>>> from conversation import Conversation
>>> c = Conversation().user("Hello, Claude").assistant("Hello!").user("Describe LLMs?")
>>> c.to_payload(model="claude-3-5-sonnet-20241022", max_tokens=1024)["messages"][1]
{'role': 'assistant', 'content': 'Hello!'}
"""

from importlib import metadata as _metadata

from ._blocks import (
    Base64Source,
    Block,
    ContentSource,
    Document,
    FileSource,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Source,
    Text,
    TextSource,
    Thinking,
    ToolResult,
    ToolUse,
    UnknownBlock,
    UnknownSource,
    URLSource,
)
from ._conversation import Conversation, split_payload
from ._diff import Diff
from ._json import FrozenDict, FrozenList
from ._provenance import Provenance
from ._reply import Reply, ReplyInfo, Usage
from ._trim import estimate_tokens
from ._turn import Role, Turn
from ._wire import converter
from .errors import (
    ActionError,
    AdapterError,
    ArgumentError,
    BudgetError,
    ContinuationError,
    ConversationError,
    CorruptStoreError,
    ExtractionError,
    ImportFormatError,
    MalformedInputError,
    MalformedReplyError,
    NotAStoreError,
    RuleViolationError,
    SaveFormatError,
    SchemaError,
    StoreBusyError,
    StoreConnectionError,
    StoreError,
    StoreNotFoundError,
    StoreVersionError,
    ToolCallError,
    ToolLoopError,
    TurnIndexError,
    UnsupportedVersionError,
    Violation,
)

try:
    __version__ = _metadata.version("conversation-state")
except _metadata.PackageNotFoundError:  # a source tree used without being installed
    __version__ = "0+unknown"

__all__ = [
    "ActionError",
    "AdapterError",
    "ArgumentError",
    "Base64Source",
    "Block",
    "BudgetError",
    "ContentSource",
    "ContinuationError",
    "Conversation",
    "ConversationError",
    "CorruptStoreError",
    "Diff",
    "Document",
    "ExtractionError",
    "FileSource",
    "FrozenDict",
    "FrozenList",
    "Image",
    "ImportFormatError",
    "MalformedInputError",
    "MalformedReplyError",
    "NotAStoreError",
    "Provenance",
    "RedactedThinking",
    "Reply",
    "ReplyInfo",
    "Role",
    "RuleViolationError",
    "SaveFormatError",
    "SchemaError",
    "SearchResult",
    "ServerToolResult",
    "ServerToolUse",
    "Source",
    "StoreBusyError",
    "StoreConnectionError",
    "StoreError",
    "StoreNotFoundError",
    "StoreVersionError",
    "Text",
    "TextSource",
    "Thinking",
    "ToolCallError",
    "ToolLoopError",
    "ToolResult",
    "ToolUse",
    "Turn",
    "TurnIndexError",
    "URLSource",
    "UnknownBlock",
    "UnknownSource",
    "UnsupportedVersionError",
    "Usage",
    "Violation",
    "converter",
    "estimate_tokens",
    "split_payload",
]
