"""The Conversation: an immutable value holding a system prompt, turns and metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, overload

import orjson

from ._blocks import Block, Text
from ._build import new as _new
from ._chain import Header, Node, chain_equal, chain_hash, make_node, node_of, under
from ._diff import Diff, common_node, turns_after
from ._ids import conversation_id
from ._json import EMPTY, FrozenDict, freeze
from ._options import NOT_OPTIONS, REQUEST_FIELDS, encode_front
from ._prefill import folded, resumed
from ._provenance import SYNTHETIC, Provenance
from ._reply import Reply, ReplyModel, Usage
from ._rules import INITIAL, finish, in_payload_order
from ._trim import trim
from ._turn import Turn, stored_content
from ._wire import (
    json_text_error,
    load_json,
    system_from_wire,
    turn_from_wire,
)
from .errors import (
    MalformedInputError,
    RuleViolationError,
    TurnIndexError,
    Violation,
    quote,
    type_name,
)

__all__ = ["REQUEST_FIELDS", "Conversation", "split_payload"]

Content = str | Block | Mapping[str, Any] | Iterable[Any]
"""What :meth:`Conversation.user` and :meth:`Conversation.assistant` take."""

_Append = Callable[["Conversation", Content], "Conversation"]


def _appending(role: str, provenance: Provenance | None, doc: str) -> _Append:
    """The method that appends a turn of ``role`` (an assistant turn written here is synthetic).

    Appending is the library's hottest path, so the method builds the node and
    the Conversation itself, in one call (``make_node`` does the same for
    other callers).
    """

    def append(self: Conversation, content: Content) -> Conversation:
        stored = content if type(content) is str else stored_content(content)
        parent = self._head
        if parent is None:
            return _make(make_node(stored, provenance, None, self._root), self._root)
        node = Node()
        node.content = stored
        node.provenance = provenance
        node.parent = parent
        node.length = parent.length + 1
        node.lineage = parent.lineage
        conversation: Conversation = _new(Conversation)
        _set_head(conversation, node)
        return conversation

    append.__name__ = role
    append.__qualname__ = f"Conversation.{role}"
    append.__doc__ = doc
    return append


class Conversation:
    """The history of a dialogue with a chat model, as a value.

    Every method that adds to it returns a new Conversation and leaves this one
    as it was; the new one shares all earlier turns with it, so appending is
    O(1) and branches are cheap. It is a sequence of :class:`Turn`, compares
    and hashes by value (system, turns, metadata), and serializes to the exact
    Messages API request body with :meth:`to_payload` / :meth:`to_json`.

    ``metadata`` is the program's own annotations (a title, tags, ids); it is
    saved by :meth:`dumps` and never sent. The API's ``metadata`` request field
    is a keyword of :meth:`to_payload` like every other request field.
    """

    # The system prompt and metadata live on the last turn's node (Node.lineage),
    # so appending sets one slot; ``_root`` holds them when there are no turns.
    __slots__ = ("_head", "_root")

    _head: Node | None
    _root: Header

    def __init__(
        self,
        system: str | Text | Iterable[str | Text | Mapping[str, Any]] | None = None,
        turns: Iterable[Turn] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        header = Header(system_from_wire(system), _metadata_arg(metadata))
        head = None
        for i, turn in enumerate(turns):
            if not isinstance(turn, Turn):
                raise MalformedInputError(
                    f"turns must be Turn objects, got {type(turn).__name__}; "
                    "use Conversation().user(...) / .assistant(...) to build from content",
                    f"$.turns[{i}]",
                )
            head = node_of(turn, head, header)
        _fill(self, head, header)

    # -- building -------------------------------------------------------------------

    if TYPE_CHECKING:  # their signatures; the methods are made by _appending

        def user(self, content: Content) -> Conversation: ...
        def assistant(self, content: Content) -> Conversation: ...

    else:
        user = _appending(
            "user",
            None,
            """A new Conversation with a user turn appended.

            ``content`` is a str, a content block, a wire-format block dict, or a
            sequence of them (``[Image.from_path("cat.jpg"), "What is this?"]``).
            A block dict whose type misspells a known one (``"txt"``) is refused
            with a suggestion; other unknown types are kept as :class:`UnknownBlock`.
            """,
        )

        assistant = _appending(
            "assistant",
            SYNTHETIC,
            """A new Conversation with a synthetic assistant turn appended.

            When the conversation ends with it, the turn is a prefill: the model's
            reply continues it, and :meth:`fold` joins the two into one turn.
            """,
        )

    def append(self, turn: Turn) -> Conversation:
        """A new Conversation with ``turn`` appended as it is."""
        if not isinstance(turn, Turn):
            raise MalformedInputError(f"append takes a Turn, got {type_name(turn)}", "turn")
        return self._with_head(node_of(turn, self._head))

    def extend(self, turns: Iterable[Turn]) -> Conversation:
        """A new Conversation with every turn of ``turns`` appended in order."""
        result = self
        for turn in turns:
            result = result.append(turn)
        return result

    def with_system(
        self, system: str | Text | Iterable[str | Text | Mapping[str, Any]] | None
    ) -> Conversation:
        """The same turns (shared, not copied) under another system prompt."""
        return _make(self._head, Header(system_from_wire(system), self._header.metadata))

    def with_metadata(
        self, metadata: Mapping[str, Any] | None = None, **entries: Any
    ) -> Conversation:
        """The same conversation with metadata entries added (or replaced)."""
        if metadata is not None and not isinstance(metadata, Mapping):
            raise MalformedInputError(
                f"with_metadata takes a mapping (or keyword entries), got {type_name(metadata)} "
                f"{quote(metadata)}; write with_metadata(name=value) or with_metadata({{...}})",
                "metadata",
            )
        merged = dict(self._header.metadata)
        merged.update(metadata or {})
        merged.update(entries)
        return _make(self._head, Header(self._header.system, _metadata_arg(merged)))

    def _with_head(self, head: Node | None) -> Conversation:
        return _make(head, self._header)

    @property
    def _header(self) -> Header:
        head = self._head
        return self._root if head is None else head.lineage.header

    # -- reading --------------------------------------------------------------------

    @property
    def system(self) -> str | tuple[Text, ...] | None:
        """The system prompt: None, a string, or text blocks."""
        return self._header.system

    @property
    def metadata(self) -> FrozenDict:
        """The program's own annotations; saved, never sent."""
        return self._header.metadata

    @property
    def id(self) -> str:
        """The content id: the hex SHA-256 of the system prompt and turns, chained turn by turn.

        Equal for equal content (provenance included) in any process and any
        later version; ``c[:k].id`` is the id of each prefix, and the id of a
        conversation one turn longer than one already hashed costs one turn.
        ``metadata`` takes no part. The algorithm is written in :mod:`conversation._ids`.
        """
        return conversation_id(self._header.system, self._head)

    @property
    def last(self) -> Turn | None:
        """The last turn, or None for an empty conversation."""
        return None if self._head is None else self._head.turn

    @property
    def turns(self) -> tuple[Turn, ...]:
        """All turns, oldest first."""
        return tuple(self)

    @property
    def usage(self) -> Usage:
        """The token usage of every model reply folded into this conversation, summed."""
        total = Usage()
        node = self._head
        while node is not None:
            provenance = node.provenance
            if provenance is not None and provenance.replies:
                total = total + provenance.usage
            node = node.parent
        return total

    def __len__(self) -> int:
        return 0 if self._head is None else self._head.length

    def __iter__(self) -> Iterator[Turn]:
        head = self._head
        if head is None:
            return iter(())
        return head.lineage.ledger.iter_turns(head)

    @overload
    def __getitem__(self, index: int) -> Turn: ...
    @overload
    def __getitem__(self, index: slice) -> Conversation: ...
    def __getitem__(self, index: int | slice) -> Turn | Conversation:
        """``c[i]`` is a turn; ``c[:k]`` is the Conversation of the first k turns (shared)."""
        head = self._head
        size = 0 if head is None else head.length
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if start != 0 or step != 1:
                raise MalformedInputError(
                    f"only prefixes can be sliced (c[:k]); got c[{index.start}:{index.stop}:"
                    f"{index.step}]; use list(c)[...] for other selections of turns"
                )
            if stop >= size:
                return self
            if head is None or stop <= 0:
                return self._with_head(None)
            return self._with_head(head.lineage.ledger.node_at(head, stop - 1))
        if not isinstance(index, int):
            raise TypeError(
                f"Conversation indices must be int or slice, not {type(index).__name__}"
            )
        return self._node_at(index, "c[i]").turn

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Conversation):
            return NotImplemented
        return self._header == other._header and chain_equal(self._head, other._head)

    def __hash__(self) -> int:
        return hash((self._header.system, self._header.metadata, chain_hash(self._head)))

    def __repr__(self) -> str:
        parts = [f"{len(self)} turns"]
        system, metadata = self._header.system, self._header.metadata
        if system is not None:
            parts.append(f"system={quote(system if isinstance(system, str) else '<blocks>', 40)}")
        last = self.last
        if last is not None:
            parts.append(f"last={last.role}:{_summary(last)}")
        if metadata:
            parts.append(f"metadata={quote(dict(metadata), 60)}")
        return f"<Conversation {', '.join(parts)}>"

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(
            "Conversation is immutable; user(), assistant(), fold() and with_*() return a new one"
        )

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Conversation is immutable")

    def __copy__(self) -> Conversation:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Conversation:
        return self

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (Conversation.loads, (self.dumps(),))

    # -- branches -------------------------------------------------------------------

    def edit(
        self, index: int, content: str | Block | Mapping[str, Any] | Iterable[Any]
    ) -> Conversation:
        """A new branch: ``c[:index]`` plus a turn of ``c[index]``'s role holding ``content``.

        ``content`` is taken as :meth:`user` / :meth:`assistant` take it; an
        assistant turn written here is synthetic. ``index`` counts from the end
        when negative; out of range it raises :class:`TurnIndexError`.
        """
        node = self._node_at(index, "edit")
        before = self._with_head(node.parent)
        return before.user(content) if node.role == "user" else before.assistant(content)

    def common_prefix(self, other: Conversation) -> Conversation:
        """The longest ``c[:k]`` whose turns ``other`` begins with too (shared, not copied).

        It keeps this conversation's system prompt and metadata, also when
        ``other``'s differ (:meth:`diff` shows a system prompt that differs).
        """
        return self._with_head(common_node(self._head, _other(other, "common_prefix")._head))

    def diff(self, other: Conversation) -> Diff:
        """How ``other`` differs from this conversation: the :class:`Diff` of the two.

        ``str()`` of it reads well: the shared part summarised, then each side's turns.
        """
        common = self.common_prefix(other)
        size = len(common)
        return Diff(
            common,
            turns_after(self._head, size),
            turns_after(other._head, size),
            left_system=self._header.system,
            right_system=other._header.system,
        )

    def trim(self, budget: int, count: Callable[[Conversation], int] | None = None) -> Conversation:
        """The latest part of this conversation that fits ``budget`` tokens by ``count``.

        Whole turns are dropped from the start; the result is this conversation
        when it fits, else it begins with a user turn that answers no tool call,
        so a tool_use keeps its tool_result and signed thinking blocks are kept
        as they are. The system prompt is kept, and counted. ``count`` takes a
        Conversation and returns its tokens (``partial(adapter.count_tokens,
        model=...)``), is called O(log n) times, and must grow with the turns
        kept; without one, :func:`estimate_tokens` counts offline. Raises
        :class:`BudgetError` when not even the shortest part it may keep fits.
        """
        head = self._head
        return trim(
            self,
            [] if head is None else head.lineage.ledger.path(head),
            self._with_head,
            budget,
            count,
        )

    def _node_at(self, index: int, where: str) -> Node:
        """The chain node of turn ``index`` (negative from the end), or TurnIndexError."""
        if not isinstance(index, int):
            raise MalformedInputError(
                f"{where} takes a turn index, an int, got {type_name(index)} {quote(index)}",
                "index",
            )
        head = self._head
        size = 0 if head is None else head.length
        at = index + size if index < 0 else index
        if head is None or not 0 <= at < size:
            raise TurnIndexError(index, size)
        return head if at == size - 1 else head.lineage.ledger.node_at(head, at)

    # -- the wire -------------------------------------------------------------------

    def violations(self, **options: Any) -> tuple[Violation, ...]:
        """Every reason the API would reject this conversation sent with ``options``."""
        return tuple(self._encode(options)[1])

    def to_json(self, **options: Any) -> bytes:
        """The request body as compact JSON bytes (``orjson.dumps(self.to_payload(...))``).

        Raises :class:`RuleViolationError` listing every problem the API would
        reject, before anything is sent, and :class:`MalformedInputError` for an
        option that misspells a request field (``sytem=``; see :data:`REQUEST_FIELDS`:
        names that resemble none pass through). Already-encoded turns are reused, so
        sending a long history again after one more turn costs about one turn, on
        every branch of it, in any order.
        """
        body, found = self._encode(options)
        if found:
            raise RuleViolationError(found)
        return body

    def to_payload(self, **options: Any) -> dict[str, Any]:
        """The request body as a dict: ``options`` (any request field), system, messages.

        Raises :class:`RuleViolationError` as :meth:`to_json` does.
        """
        return orjson.loads(self.to_json(**options))  # type: ignore[no-any-return]

    def _encode(self, options: dict[str, Any]) -> tuple[bytes, list[Violation]]:
        header = self._header
        front = encode_front(options, header.system)
        head = self._head
        found: list[Violation]
        if head is None:
            body, state, found, last, count = front + b"]}", INITIAL, [], None, 0
        else:
            body, state, found = head.lineage.ledger.encode(head, front, b"]}")
            last, count = head.turn, head.length
        found += finish(state, count, last, header.system, options)
        return body, in_payload_order(found) if found else found

    @classmethod
    def from_payload(cls, body: Mapping[str, Any] | bytes | str) -> Conversation:
        """Read a request body (dict or JSON) back into a Conversation.

        The system prompt and messages are read; other request fields are
        options, not part of a conversation (:func:`split_payload` returns both).
        A request body is the program's own input: a block type that misspells
        a known one is refused, as in :meth:`user` (``fold`` and ``loads`` keep it).
        """
        return split_payload(body)[0]

    def fold(
        self,
        reply: Reply | Mapping[str, Any] | bytes | bytearray | memoryview | str | ReplyModel,
        *,
        interrupted: bool = False,
    ) -> Conversation:
        """A new Conversation with a model's reply appended as an assistant turn.

        If this conversation ends with an assistant turn (a prefill), the reply
        continues it: the two become ONE assistant turn, the reply's first text
        joined to the prefill's last text, exactly as the model saw it.

        ``reply`` may also be the official SDK's ``Message`` (or ``BetaMessage``):
        any pydantic model, read through its ``model_dump`` as the JSON the API sent.

        ``interrupted=True`` folds what arrived of a reply that was cut off; the
        turn's provenance says so (see :meth:`resumable`).
        Raises :class:`MalformedReplyError` for anything that is not a reply.
        """
        if type(interrupted) is not bool:
            raise MalformedInputError(
                f"fold takes interrupted=True or False, got {type_name(interrupted)} "
                f"{quote(interrupted)}",
                "interrupted",
            )
        return self._with_head(folded(self._head, self._header, reply, interrupted))

    def resumable(self) -> Conversation:
        """This conversation ready to continue an interrupted last turn.

        A reply cut off mid-stream may end in a thinking block whose signature
        never arrived; the API rejects such a block (and any history holding
        it), so it is dropped here on purpose, as is a tool call cut inside its
        input (its arguments are unknown) and trailing whitespace that
        would make the turn an invalid prefill. Any other conversation comes
        back unchanged.
        """
        head = self._head
        if head is None or head.provenance is None or not head.provenance.interrupted:
            return self
        return self._with_head(resumed(head))

    # -- the save format --------------------------------------------------------------

    def dumps(self) -> str:
        """This conversation in the library's versioned save format (JSON text).

        Everything is kept: system, turns, metadata, and each assistant turn's
        provenance. :meth:`loads` reads it back, equal to this conversation.
        """
        from ._save import dump_conversation

        head = self._head
        nodes = [] if head is None else head.lineage.ledger.path(head)
        return dump_conversation(self._header.system, self._header.metadata, nodes).decode("utf-8")

    @classmethod
    def loads(cls, text: str | bytes) -> Conversation:
        """Read a conversation saved by :meth:`dumps`.

        Raises :class:`SaveFormatError` for anything else, and
        :class:`UnsupportedVersionError` for a format newer than this library.
        """
        from ._save import load_conversation

        system, metadata, nodes = load_conversation(text)
        head = nodes[-1] if nodes else None
        if head is not None:
            head.lineage.ledger.adopt(nodes)
        return _make(head, Header(system, metadata))


# -- construction helpers ------------------------------------------------------------


_Header = Header  # the name the store knows it by

_set_head = Conversation.__dict__["_head"].__set__
_set_root = Conversation.__dict__["_root"].__set__


def _fill(conversation: Conversation, head: Node | None, header: Header) -> None:
    """Set the slots of a new Conversation: ``head`` (under ``header``), or ``header`` alone."""
    if head is None:
        _set_root(conversation, header)
    else:
        head = under(head, header)
    _set_head(conversation, head)


def _make(head: Node | None, header: Header) -> Conversation:
    conversation: Conversation = _new(Conversation)
    _fill(conversation, head, header)
    return conversation


def _other(other: object, where: str) -> Conversation:
    """``other``, checked to be a Conversation (the argument of ``where``)."""
    if not isinstance(other, Conversation):
        raise MalformedInputError(
            f"{where} takes a Conversation, got {type_name(other)} {quote(other)}", "other"
        )
    return other


def _metadata_arg(metadata: Mapping[str, Any] | None) -> FrozenDict:
    if metadata is None:
        return EMPTY
    if not isinstance(metadata, Mapping):
        raise MalformedInputError(
            f"metadata must be a mapping, got {type_name(metadata)}", "$.metadata"
        )
    return freeze(dict(metadata), "$.metadata")  # type: ignore[no-any-return]


def _summary(turn: Turn) -> str:
    """A turn in a few words: its text, or the types of its blocks when it has no text
    (a tool_result turn reads ``[tool_result]``, not ``''``)."""
    text = turn.text
    if text or isinstance(turn.content, str):
        return quote(text, 40)
    kinds = [block.type for block in turn.blocks[:3]]
    more = len(turn.blocks) - len(kinds)
    return "[" + ", ".join(kinds) + (f", +{more}" if more > 0 else "") + "]"


def split_payload(body: Mapping[str, Any] | bytes | str) -> tuple[Conversation, dict[str, Any]]:
    """Read a request body into (the Conversation, the other request fields)."""
    if isinstance(body, bytes | bytearray | memoryview | str):
        try:
            return _split(load_json(body, "the request body"))
        except MalformedInputError as exc:
            error = json_text_error(exc)
            if error is exc:
                raise
            raise error from None
    return _split(body)


def _split(body: Any) -> tuple[Conversation, dict[str, Any]]:
    if not isinstance(body, Mapping):
        raise MalformedInputError(f"a request body must be a JSON object, got {type_name(body)}")
    messages = body.get("messages")
    if not isinstance(messages, list | tuple):
        raise MalformedInputError(
            "a request body needs 'messages', a list of messages"
            if messages is None
            else f"'messages' must be a list, got {type_name(messages)}",
            "$.messages",
        )
    nodes: list[Node] = []
    head = None
    for i, message in enumerate(messages):
        # Read as it is, typos included: from_payload reads back whatever
        # to_payload wrote (an UnknownBlock of any type, one folded from a reply).
        head = node_of(turn_from_wire(message, f"$.messages[{i}]"), head)
        nodes.append(head)
    if head is not None:
        head.lineage.ledger.adopt(nodes)
    system = system_from_wire(body.get("system"))
    options = {k: v for k, v in body.items() if k not in NOT_OPTIONS}
    return _make(head, Header(system, EMPTY)), options
