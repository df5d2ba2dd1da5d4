"""The Conversation: an immutable value holding a system prompt, turns and metadata."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, overload

import orjson

from ._blocks import Block, Text
from ._build import new as _new
from ._chain import (
    Header,
    Run,
    chain_equal,
    chain_hash,
    make_turn_at,
    prefix_run,
    turn_at,
    turns_after,
)
from ._chain import append as chain_append
from ._chain import build as build_chain
from ._diff import Diff, common_length
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

    Appending is the library's hottest path, so the method writes the turn
    into the run and builds the Conversation itself, in one call
    (``_chain.append`` does the same for other callers).
    """

    def append(self: Conversation, content: Content) -> Conversation:
        stored = content if type(content) is str else stored_content(content)
        run, length, header = self._at
        if run is not None:
            at = 2 * (length - run.base)
            items = run.items
            if len(items) == at and length < run.end:
                items += (stored, provenance)  # one call: see _chain.append
                if items[at] is stored and items[at + 1] is provenance:
                    conversation: Conversation = _new(Conversation)
                    _set_at(conversation, (run, length + 1, header))
                    return conversation
            run = Run(length, run, run.ledger, [stored, provenance])
        else:
            run = chain_append(None, 0, stored, provenance)
        return _make(run, length + 1, header)

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

    # One slot, so that appending sets one: the run holding the last turn (None
    # when there are none), the number of turns, and the system prompt and metadata.
    __slots__ = ("_at",)

    _at: tuple[Run | None, int, Header]

    def __init__(
        self,
        system: str | Text | Iterable[str | Text | Mapping[str, Any]] | None = None,
        turns: Iterable[Turn] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        header = Header(system_from_wire(system), _metadata_arg(metadata))
        contents: list[str | tuple[Block, ...]] = []
        provenances: list[Provenance | None] = []
        for i, turn in enumerate(turns):
            if not isinstance(turn, Turn):
                raise MalformedInputError(
                    f"turns must be Turn objects, got {type(turn).__name__}; "
                    "use Conversation().user(...) / .assistant(...) to build from content",
                    f"$.turns[{i}]",
                )
            contents.append(turn.content)
            provenances.append(turn.provenance)
        _set_at(self, (build_chain(contents, provenances), len(contents), header))

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
        run, length, header = self._at
        return _make(chain_append(run, length, turn.content, turn.provenance), length + 1, header)

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
        run, length, header = self._at
        return _make(run, length, Header(system_from_wire(system), header.metadata))

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
        run, length, header = self._at
        merged = dict(header.metadata)
        merged.update(metadata or {})
        merged.update(entries)
        return _make(run, length, Header(header.system, _metadata_arg(merged)))

    def _prefix(self, length: int) -> Conversation:
        """The Conversation of the first ``length`` turns (0 <= length <= len(self))."""
        run, size, header = self._at
        if length == size:
            return self
        return _make(None if run is None else prefix_run(run, length), length, header)

    @property
    def _header(self) -> Header:
        return self._at[2]

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
        run, length, header = self._at
        return conversation_id(header.system, run, length)

    @property
    def last(self) -> Turn | None:
        """The last turn, or None for an empty conversation."""
        run, length, _ = self._at
        return None if run is None else make_turn_at(run, length - 1)

    @property
    def turns(self) -> tuple[Turn, ...]:
        """All turns, oldest first."""
        return tuple(self)

    @property
    def usage(self) -> Usage:
        """The token usage of every model reply folded into this conversation, summed."""
        total = Usage()
        for provenance in self._path()[1]:
            if provenance is not None and provenance.replies:
                total = total + provenance.usage
        return total

    def _path(self) -> tuple[list[str | tuple[Block, ...]], list[Provenance | None]]:
        """The contents and provenances of the turns, oldest first (new lists)."""
        run, length, _ = self._at
        return ([], []) if run is None else run.ledger.path(run, length)

    def __len__(self) -> int:
        return self._at[1]

    def __iter__(self) -> Iterator[Turn]:
        run, length, _ = self._at
        if run is None:
            return iter(())
        return run.ledger.iter_turns(run, length)

    @overload
    def __getitem__(self, index: int) -> Turn: ...
    @overload
    def __getitem__(self, index: slice) -> Conversation: ...
    def __getitem__(self, index: int | slice) -> Turn | Conversation:
        """``c[i]`` is a turn; ``c[:k]`` is the Conversation of the first k turns (shared)."""
        size = self._at[1]
        if isinstance(index, slice):
            start, stop, step = index.indices(size)
            if start != 0 or step != 1:
                raise MalformedInputError(
                    f"only prefixes can be sliced (c[:k]); got c[{index.start}:{index.stop}:"
                    f"{index.step}]; use list(c)[...] for other selections of turns"
                )
            return self._prefix(max(0, stop))
        if not isinstance(index, int):
            raise TypeError(
                f"Conversation indices must be int or slice, not {type(index).__name__}"
            )
        run = self._at[0]
        at = self._index(index, "c[i]")
        assert run is not None  # _index found a turn
        return make_turn_at(run, at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Conversation):
            return NotImplemented
        run, length, header = self._at
        other_run, other_length, other_header = other._at
        return (
            length == other_length
            and header == other_header
            and chain_equal(run, other_run, length)
        )

    def __hash__(self) -> int:
        run, length, header = self._at
        return hash((header.system, header.metadata, chain_hash(run, length)))

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
        at = self._index(index, "edit")
        before = self._prefix(at)
        run = self._at[0]
        assert run is not None  # _index found a turn
        user = turn_at(run, at)[1] is None  # a user turn has no provenance
        return before.user(content) if user else before.assistant(content)

    def common_prefix(self, other: Conversation) -> Conversation:
        """The longest ``c[:k]`` whose turns ``other`` begins with too (shared, not copied).

        It keeps this conversation's system prompt and metadata, also when
        ``other``'s differ (:meth:`diff` shows a system prompt that differs).
        """
        run, length, _ = self._at
        other_run, other_length, _ = _other(other, "common_prefix")._at
        return self._prefix(common_length(run, length, other_run, other_length))

    def diff(self, other: Conversation) -> Diff:
        """How ``other`` differs from this conversation: the :class:`Diff` of the two.

        ``str()`` of it reads well: the shared part summarised, then each side's turns.
        """
        common = self.common_prefix(other)
        size = len(common)
        run, length, _ = self._at
        other_run, other_length, _ = other._at
        return Diff(
            common,
            turns_after(run, length, size),
            turns_after(other_run, other_length, size),
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
        header = self._header
        return trim(
            self,
            self._path(),
            lambda run, length: _make(run, length, header),
            budget,
            count,
        )

    def _index(self, index: int, where: str) -> int:
        """Turn ``index`` (negative from the end) as an index from the start, or TurnIndexError."""
        if not isinstance(index, int):
            raise MalformedInputError(
                f"{where} takes a turn index, an int, got {type_name(index)} {quote(index)}",
                "index",
            )
        size = self._at[1]
        at = index + size if index < 0 else index
        if not 0 <= at < size:
            raise TurnIndexError(index, size)
        return at

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
        run, count, header = self._at
        front = encode_front(options, header.system)
        found: list[Violation]
        if run is None:
            body, state, found, last = front + b"]}", INITIAL, [], None
        else:
            body, state, found = run.ledger.encode(run, count, front, b"]}")
            last = make_turn_at(run, count - 1)
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
        run, length, header = self._at
        return _make(*folded(run, length, reply, interrupted), header)

    def resumable(self) -> Conversation:
        """This conversation ready to continue an interrupted last turn.

        A reply cut off mid-stream may end in a thinking block whose signature
        never arrived; the API rejects such a block (and any history holding
        it), so it is dropped here on purpose, as is a tool call cut inside its
        input (its arguments are unknown) and trailing whitespace that
        would make the turn an invalid prefill. Any other conversation comes
        back unchanged.
        """
        run, length, header = self._at
        if run is None:
            return self
        provenance = turn_at(run, length - 1)[1]
        if provenance is None or not provenance.interrupted:
            return self
        return _make(*resumed(run, length), header)

    # -- the save format --------------------------------------------------------------

    def dumps(self) -> str:
        """This conversation in the library's versioned save format (JSON text).

        Everything is kept: system, turns, metadata, and each assistant turn's
        provenance. :meth:`loads` reads it back, equal to this conversation.
        """
        from ._save import dump_conversation

        header = self._header
        contents, provenances = self._path()
        return dump_conversation(header.system, header.metadata, contents, provenances).decode(
            "utf-8"
        )

    @classmethod
    def loads(cls, text: str | bytes) -> Conversation:
        """Read a conversation saved by :meth:`dumps`.

        Raises :class:`SaveFormatError` for anything else, and
        :class:`UnsupportedVersionError` for a format newer than this library.
        """
        from ._save import load_conversation

        system, metadata, contents, provenances = load_conversation(text)
        return _make(build_chain(contents, provenances), len(contents), Header(system, metadata))


# -- construction helpers ------------------------------------------------------------


_Header = Header  # the name the store knows it by

_set_at = Conversation.__dict__["_at"].__set__


def _make(run: Run | None, length: int, header: Header) -> Conversation:
    """A Conversation of the first ``length`` turns of ``run``'s chain, under ``header``."""
    conversation: Conversation = _new(Conversation)
    _set_at(conversation, (run, length, header))
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
    contents: list[str | tuple[Block, ...]] = []
    provenances: list[Provenance | None] = []
    for i, message in enumerate(messages):
        # Read as it is, typos included: from_payload reads back whatever
        # to_payload wrote (an UnknownBlock of any type, one folded from a reply).
        turn = turn_from_wire(message, f"$.messages[{i}]")
        contents.append(turn.content)
        provenances.append(turn.provenance)
    system = system_from_wire(body.get("system"))
    options = {k: v for k, v in body.items() if k not in NOT_OPTIONS}
    run = build_chain(contents, provenances)
    return _make(run, len(contents), Header(system, EMPTY)), options
