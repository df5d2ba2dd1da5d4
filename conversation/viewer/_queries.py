"""What the pages show, read from a store: dialogues, the tree of one, a search.

A *dialogue* is every stored branch that begins with the same first turn
(under the same system prompt): the store keeps them as one tree, the tree
``conversation show`` draws. Its id is the id of that first turn,
``c[:1].id``. Conversations are loaded by content id, which never changes
what it names, so a :class:`Reader` keeps the ones it loaded for later pages;
the store's names and leaves are read afresh on every page, so a dialogue
imported while the viewer runs shows up on the next one.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Literal

import attrs

from .._conversation import Conversation
from .._titles import imported_title, summary
from .._turn import Turn
from ..errors import CorruptStoreError
from ..store import Store

__all__ = [
    "Branch",
    "Dialogue",
    "Facts",
    "Hit",
    "Reader",
    "Run",
    "Scope",
    "match_spans",
    "root_of",
    "snippet",
]

Scope = Literal["all", "title", "text"]

_log = logging.getLogger(__name__)

_CACHE_SIZE = 4096  # conversations kept loaded (each shares its turns with its prefixes)


def root_of(c: Conversation) -> str:
    """The id of ``c``'s dialogue: its first turn's id (its own when it has no turns)."""
    return c[:1].id if len(c) else c.id


@attrs.frozen
class Facts:
    """What the list shows of one stored conversation, kept without the conversation.

    A few hundred bytes where a conversation may hold megabytes, so a
    :class:`Reader` keeps these for every id it has read (by content id) and
    a list of any length loads no conversation twice.
    """

    root: str  # its dialogue's id: its first turn's
    turns: int
    last: str  # its last turn in a line of 50 ("" without turns)
    prompt: str  # its first prompt (else its last turn) in a line of 80: the title at worst
    title: str | None  # the chat app's title, when imported
    app: str | None
    updated: str | None
    imported: bool

    @classmethod
    def of(cls, c: Conversation) -> Facts:
        """The facts of ``c``, read once from the whole conversation."""
        info = _info(c)
        prompt = next((turn for turn in c if turn.role == "user"), c.last)
        return cls(
            root_of(c),
            len(c),
            summary(c.last, 50) if c.last is not None else "",
            summary(prompt, 80) if prompt is not None else "(empty conversation)",
            imported_title(c),
            _text(info.get("app")),
            _text(info.get("updated")) or _text(info.get("created")),
            bool(info),
        )


@attrs.frozen
class Branch:
    """A stored conversation nothing extends (a leaf), with the names pointing at it."""

    id: str
    facts: Facts
    names: tuple[str, ...]

    @property
    def turns(self) -> int:
        """How many turns it has."""
        return self.facts.turns


@attrs.frozen
class Dialogue:
    """The branches that share one first turn; ``title`` is the app's, else the first prompt."""

    id: str
    branches: tuple[Branch, ...]
    names: tuple[str, ...]
    title: str
    imported: bool
    app: str | None
    updated: str | None

    @property
    def main(self) -> Branch:
        """The branch to open first: a named one (the app's active branch), else the newest."""
        named = [branch for branch in self.branches if branch.names]
        return named[0] if named else self.branches[-1]

    @property
    def turns(self) -> int:
        """The turns of its longest branch."""
        return max(branch.turns for branch in self.branches)


@attrs.frozen
class Hit:
    """A dialogue a search found, and where: its title, or a line of text in a turn."""

    dialogue: Dialogue
    in_title: bool
    snippet: str | None
    branch: str | None
    turn: int | None  # 1-based


@attrs.frozen
class Run:
    """Turns ``first``..``last`` (1-based) of the tree with no fork, ending at id ``end``.

    ``turn`` is the run's last turn; ``children`` are the runs after the fork
    it ends at (none at a leaf).
    """

    first: int
    last: int
    end: str
    turn: Turn | None
    names: tuple[str, ...]
    children: tuple[Run, ...]


def match_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` occurs in ``text``, case ignored (casefolded), as spans of ``text``.

    Casefolding can change a text's length (``ß`` folds to ``ss``), so the
    search runs on the folded text and each match is mapped back to the
    characters of ``text`` it covers: the search and the highlighting of what
    it found agree on every script.
    """
    wanted = query.casefold().strip()
    if not wanted or wanted not in text.casefold():
        return []
    owner: Sequence[int]  # the index in ``text`` of each character of ``folded``
    starts: Sequence[int]  # the index in ``folded`` where each character of ``text`` begins
    if text.isascii():  # folding keeps every offset
        folded, owner, starts = text.casefold(), range(len(text)), range(len(text) + 1)
    else:
        parts = [char.casefold() for char in text]
        folded = "".join(parts)
        owner = [index for index, part in enumerate(parts) for _ in part]
        starts = list(itertools.accumulate(map(len, parts), initial=0))
    spans: list[tuple[int, int]] = []
    at = folded.find(wanted)
    while at >= 0:
        first, last = owner[at], owner[at + len(wanted) - 1] + 1
        spans.append((first, last))
        at = folded.find(wanted, starts[last])
    return spans


def _info(c: Conversation) -> Mapping[str, object]:
    """The import metadata of ``c`` (app, title, dates), empty when it was not imported."""
    info = c.metadata.get("import")
    return info if isinstance(info, Mapping) else {}


def _text(value: object) -> str | None:
    """A metadata value as text, or None when it is not a non-empty str (metadata is free)."""
    return value if isinstance(value, str) and value else None


class Reader:
    """Reads a store for the pages, keeping loaded conversations (by content id) for reuse.

    Safe to share between the server's threads: the cache has a lock, and
    the stores lock their own connections.
    """

    def __init__(self, store: Store) -> None:
        """A reader of ``store`` with an empty cache."""
        self.store = store
        self._cache: OrderedDict[str, Conversation] = OrderedDict()
        self._facts: dict[str, Facts] = {}  # by id; as many as the store has ids, small each
        self._lock = threading.Lock()

    def load(self, id_or_name: str) -> Conversation:
        """The stored conversation with this id (from the cache when loaded before) or name."""
        with self._lock:
            cached = self._cache.get(id_or_name)
            if cached is not None:
                self._cache.move_to_end(id_or_name)
                return cached
        c = self.store.load(id_or_name)
        if c.id == id_or_name:  # a name or an id prefix may point elsewhere later
            with self._lock:
                self._cache[id_or_name] = c
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.popitem(last=False)
        return c

    def facts(self, ident: str) -> Facts:
        """The :class:`Facts` of the stored conversation with id ``ident`` (loaded once)."""
        with self._lock:
            known = self._facts.get(ident)
        if known is not None:
            return known
        found = Facts.of(self.load(ident))
        with self._lock:
            self._facts[ident] = found
        return found

    def named(self) -> dict[str, tuple[str, ...]]:
        """Each named id and its names, sorted.

        The names are read in one go, so one damaged name row would fail every
        page: then the pages are shown without names (the error is logged).
        """
        try:
            names = self.store.names()
        except CorruptStoreError as error:
            _log.error("conversation viewer: showing no names: %s", error)
            return {}
        named: dict[str, list[str]] = {}
        for name, ident in sorted(names.items()):
            named.setdefault(ident, []).append(name)
        return {ident: tuple(names) for ident, names in named.items()}

    def dialogues(self) -> list[Dialogue]:
        """Every dialogue in the store, the one with the newest branch first."""
        named = self.named()
        groups: dict[str, list[Branch]] = {}
        for ident in self.store.leaves():  # oldest first
            facts = self.facts(ident)
            groups.setdefault(facts.root, []).append(Branch(ident, facts, named.get(ident, ())))
        names_under: dict[str, list[str]] = {}
        for ident, names in named.items():
            if ident not in self.store:
                continue
            names_under.setdefault(self.facts(ident).root, []).extend(names)
        found = [
            _dialogue(root, tuple(branches), tuple(names_under.get(root, ())))
            for root, branches in groups.items()
        ]
        return found[::-1]

    def dialogue(self, root: str) -> Dialogue:
        """The dialogue whose first turn has id ``root`` (any id of it is accepted too)."""
        c = self.load(root)
        root = root_of(c)
        named = self.named()
        branches = tuple(
            Branch(ident, self.facts(ident), named.get(ident, ()))
            for ident in self.store.leaves(root)
        )
        names = tuple(
            name
            for ident, names in named.items()
            if ident in self.store and self.facts(ident).root == root
            for name in names
        )
        only = (Branch(c.id, Facts.of(c), named.get(c.id, ())),)
        return _dialogue(root, branches or only, names)

    def tree(self, root: str) -> Run | None:
        """The tree of runs from the dialogue's first turn (None for an empty conversation).

        Built without recursion, so a tree forked at every turn of a long
        dialogue is as fine as a shallow one.
        """
        c = self.load(root)
        if not len(c):
            return None
        named = self.named()
        first = c[:1].id
        spans: dict[str, tuple[int, int, str, list[str]]] = {}  # start -> first, last, end, kids
        order: list[str] = []  # each run before the runs after its fork
        pending = [(first, 1)]
        while pending:
            start, depth = pending.pop()
            end, last, kids = self._follow(start, depth, named)
            spans[start] = (depth, last, end, kids)
            order.append(start)
            pending.extend((kid, last + 1) for kid in kids)
        # children first; a run's last turn is read from a branch through it (a leaf, loaded
        # for the dialogue anyway), not by loading each prefix again
        built: dict[str, tuple[Run, Conversation]] = {}
        for start in reversed(order):
            depth, last, end, kids = spans[start]
            through = built[kids[0]][1] if kids else self.load(end)
            children = tuple(built[kid][0] for kid in kids)
            run = Run(depth, last, end, through[last - 1], named.get(end, ()), children)
            built[start] = (run, through)
        return built[first][0]

    def _follow(
        self, start: str, depth: int, named: dict[str, tuple[str, ...]]
    ) -> tuple[str, int, list[str]]:
        """From ``start`` (turn ``depth``) along single children to a fork, a leaf or a name:
        the id there, its turn number and its children."""
        ident, last = start, depth
        while True:
            kids = self.store.children(ident)
            if len(kids) != 1 or ident in named:
                return ident, last, kids
            ident, last = kids[0], last + 1

    def search(self, query: str, scope: Scope = "all") -> list[Hit]:
        """The dialogues whose title or names (``title``), or turns' text (``text``), hold
        ``query``, case ignored; ``all`` looks in both. An empty query finds every one."""
        hits: list[Hit] = []
        for dialogue in self.dialogues():
            if not query.strip():
                hits.append(Hit(dialogue, False, None, None, None))
                continue
            titled = scope != "text" and any(
                match_spans(text, query) for text in (dialogue.title, *dialogue.names)
            )
            found = self._find_text(dialogue, query) if scope != "title" else None
            if titled or found is not None:
                branch, turn, snippet = found or (None, None, None)
                hits.append(Hit(dialogue, titled, snippet, branch, turn))
        return hits

    def _find_text(self, dialogue: Dialogue, query: str) -> tuple[str, int, str] | None:
        """The first branch and turn whose text holds ``query``, with the text around it
        (the one search that loads whole conversations)."""
        for branch in dialogue.branches:
            for number, turn in enumerate(self.load(branch.id), 1):
                found = snippet(turn.text, query)
                if found is not None:
                    return branch.id, number, found
        return None


def _dialogue(root: str, branches: tuple[Branch, ...], names: tuple[str, ...]) -> Dialogue:
    """A dialogue's row: its title and dates from the import metadata when it was imported."""
    imported = [b.facts for b in branches if b.facts.imported]
    title = next(filter(None, (b.facts.title for b in branches)), None)
    first = imported[0] if imported else None
    return Dialogue(
        root,
        branches,
        names,
        title or branches[0].facts.prompt,
        bool(imported),
        first.app if first else None,
        first.updated if first else None,
    )


def snippet(text: str, query: str, around: int = 60) -> str | None:
    """The text around the first match of ``query`` in ``text`` (None when there is none).

    Its characters are the text's own (a page collapses its white space), so
    the same query highlights the match in it.
    """
    spans = match_spans(text, query)
    if not spans:
        return None
    first, last = spans[0]
    start, end = max(0, first - around), min(len(text), last + around)
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return prefix + text[start:end] + suffix
