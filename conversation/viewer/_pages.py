"""The viewer's pages as HTML: the list of dialogues, a dialogue's tree, a branch, a comparison.

Each function takes what :mod:`._queries` read and returns a whole page;
none of them touches the store. Links and forms are plain HTML, so every
page works without script.
"""

from __future__ import annotations

from .._conversation import Conversation
from .._titles import imported_title, short, summary, system_text
from ._compare import compare
from ._html import Child, Markup, tag, url
from ._queries import Branch, Dialogue, Facts, Hit, Run, Scope, match_spans, root_of
from ._render import render_text, render_turn

__all__ = [
    "branch_page",
    "compare_page",
    "dialogue_page",
    "error_page",
    "list_page",
]

_SCOPES: tuple[tuple[Scope, str], ...] = (
    ("all", "titles and text"),
    ("title", "titles"),
    ("text", "text"),
)


def _search_form(query: str, hint: str, kind: str, choices: Markup | None = None) -> Markup:
    """A search box (GET /?q=...), with the choice of where to look on the list page."""
    box = tag("input", type="search", name="q", value=query, placeholder=hint, aria_label=hint)
    button = tag("button", "Search", type="submit")
    return tag("form", box, choices, button, action="/", method="get", class_=kind, role="search")


def _layout(title: str, body: Child, *, store: str, query: str = "") -> Markup:
    """A whole page: the header with the search box, then ``body``."""
    search = _search_form(query, "Search dialogues", "search")
    header = tag(
        "header",
        tag("a", "conversation viewer", href="/", class_="home"),
        search,
        class_="top",
    )
    footer = tag("footer", f"Read-only view of {store}")
    document = tag(
        "html",
        tag(
            "head",
            tag("meta", charset="utf-8"),
            tag("meta", name="viewport", content="width=device-width, initial-scale=1"),
            tag("meta", name="referrer", content="no-referrer"),
            tag("title", f"{title} · conversation viewer"),
            tag("link", rel="stylesheet", href="/static/viewer.css"),
            tag("script", src="/static/viewer.js", defer=True),
        ),
        tag("body", header, tag("main", body), footer),
        lang="en",
    )
    return Markup("<!doctype html>\n" + document)


def _names(names: tuple[str, ...]) -> Markup:
    """The names pointing at a conversation, each as a tag beside its title."""
    return tag("span", [tag("span", name, class_="name") for name in names], class_="names")


def _highlight(text: str, query: str) -> Markup:
    """``text`` with each occurrence of ``query`` in ``<mark>``: the search's own matches
    (:func:`match_spans`, casefolded), so what was found is what is marked."""
    parts: list[Markup | str] = []
    at = 0
    for first, last in match_spans(text, query):
        parts += [text[at:first], tag("mark", text[first:last])]
        at = last
    parts.append(text[at:])
    return tag("span", parts)


def _row(hit: Hit, query: str) -> Markup:
    """One dialogue in the list: its title and facts, and where the search found it."""
    dialogue = hit.dialogue
    count = len(dialogue.branches)
    facts = [
        f"{count} branch" + ("es" if count != 1 else ""),
        f"{dialogue.turns} turns",
        dialogue.app or "",
        (dialogue.updated or "")[:10],
    ]
    found = None
    if hit.snippet is not None and hit.branch is not None and hit.turn is not None:
        found = tag(
            "a",
            f"turn {hit.turn}: ",
            _highlight(hit.snippet, query),
            href=url("c", hit.branch) + f"#turn-{hit.turn}",
            class_="snippet",
        )
    return tag(
        "li",
        tag("a", _highlight(dialogue.title, query), href=url("d", dialogue.id), class_="title"),
        _names(dialogue.names),
        tag("span", " · ".join(fact for fact in facts if fact), class_="facts"),
        tag("a", "open", href=url("c", dialogue.main.id), class_="open"),
        found,
        class_="dialogue",
    )


PAGE_SIZE = 100
"""Dialogues listed per page."""


def _pager(count: int, page: int, query: str, scope: Scope) -> Markup | None:
    """Links to the pages before and after ``page`` (1-based) of ``count`` rows."""
    last = max(1, -(-count // PAGE_SIZE))
    if last == 1:
        return None

    def link(number: int, label: str) -> Markup:
        """A link to page ``number`` of the same search."""
        where = url("", q=query, **{"in": scope if scope != "all" else ""}, page=str(number))
        return tag("a", label, href=where, rel="prev" if number < page else "next")

    return tag(
        "nav",
        link(page - 1, "← newer") if page > 1 else None,
        tag("span", f" page {page} of {last} ", class_="muted"),
        link(page + 1, "older →") if page < last else None,
        class_="pager",
    )


def list_page(hits: list[Hit], query: str, scope: Scope, *, store: str, page: int = 1) -> Markup:
    """The dialogues of the store, or those a search found: page ``page`` of them."""
    choices = tag(
        "fieldset",
        tag("legend", "Search in"),
        [
            tag(
                "label",
                tag("input", type="radio", name="in", value=value, checked=value == scope),
                " " + label,
            )
            for value, label in _SCOPES
        ],
        class_="scope",
    )
    form = _search_form(query, "words in a title or turn", "search-full", choices)
    if query.strip():
        heading = f"{len(hits)} dialogue{'s' if len(hits) != 1 else ''} matching “{query}”"
    else:
        heading = f"{len(hits)} dialogue{'s' if len(hits) != 1 else ''}"
    page = min(max(1, page), max(1, -(-len(hits) // PAGE_SIZE)))
    start = (page - 1) * PAGE_SIZE
    rows = [_row(hit, query) for hit in hits[start : start + PAGE_SIZE]]
    pager = _pager(len(hits), page, query, scope)
    body = [
        tag("h1", heading),
        form,
        tag("ol", rows, class_="dialogues", start=start + 1)
        if rows
        else tag("p", "Nothing found.", class_="muted"),
        pager,
    ]
    return _layout("Dialogues", body, store=store, query=query)


def _node(run: Run, mine: bool) -> Markup:
    """One line of the tree: the run's turns (a link to its branch), who spoke last, names."""
    span = f"turn {run.first}" if run.first == run.last else f"turns {run.first}–{run.last}"
    turn = run.turn
    label = [
        tag("a", span, href=url("c", run.end), class_="span"),
        tag("span", turn.role, class_=f"role {turn.role}") if turn else None,
        tag("span", summary(turn, 70), class_="said") if turn else None,
        _names(run.names),
        tag("span", "leaf", class_="badge leaf") if not run.children else None,
    ]
    return tag("div", label, class_="node mine" if mine else "node")


def _tree(root: Run, path: set[str]) -> Markup:
    """The runs as nested lists, each fork a list of the runs after it (built without
    recursion: a tree may fork at every turn)."""
    parts: list[Markup] = []
    pending: list[Run | None] = [root]  # None closes the list of a fork
    while pending:
        run = pending.pop()
        if run is None:
            parts.append(Markup("</ul></li>"))
            continue
        parts.append(Markup("<li>" + _node(run, run.end in path)))
        if run.children:
            parts.append(Markup("<ul>"))
            pending.append(None)
            pending.extend(reversed(run.children))
        else:
            parts.append(Markup("</li>"))
    return tag("ul", parts, class_="tree")


def _compare_form(branches: tuple[Branch, ...], left: str, right: str) -> Markup:
    """Two pickers of branches and a button: GET /compare?a=...&b=..."""

    def picker(name: str, label: str, chosen: str) -> Markup:
        """A labelled list of the branches, ``chosen`` selected."""
        options = [
            tag(
                "option",
                f"{short(b.id)} · {b.turns} turns · "
                + (", ".join(b.names) + " · " if b.names else "")
                + b.facts.last,
                value=b.id,
                selected=b.id == chosen,
            )
            for b in branches
        ]
        return tag("label", label, " ", tag("select", options, name=name))

    return tag(
        "form",
        tag("h2", "Compare two branches"),
        picker("a", "Left", left),
        picker("b", "Right", right),
        tag("button", "Compare side by side", type="submit"),
        action="/compare",
        method="get",
        class_="compare-form",
    )


def dialogue_page(
    dialogue: Dialogue, tree: Run | None, main: Conversation, *, store: str
) -> Markup:
    """A dialogue as the tree of its branches, each run of turns a link to its branch.

    ``main`` is its main branch, loaded: its path through the tree is marked.
    """
    path = {main[:k].id for k in range(1, len(main) + 1)}
    branches = dialogue.branches
    second = next((b.id for b in branches if b.id != main.id), main.id)
    body = [
        tag("nav", tag("a", "Dialogues", href="/"), " › tree", class_="crumbs"),
        tag("h1", dialogue.title),
        tag(
            "p",
            _names(dialogue.names),
            f" {len(branches)} branches, root ",
            tag("code", short(dialogue.id)),
            class_="facts",
        ),
        tag(
            "p",
            "Each line is a run of turns with no fork; follow a link to read that branch. "
            "The marked path is the main branch.",
            class_="muted",
        ),
        _tree(tree, path) if tree else tag("p", "(no turns)"),
        _compare_form(branches, main.id, second) if len(branches) > 1 else None,
    ]
    return _layout(dialogue.title, body, store=store)


def _crumbs(c: Conversation, here: str) -> Markup:
    """Where a page of one dialogue is: the list, the dialogue's tree, this page."""
    tree = tag("a", "tree", href=url("d", root_of(c)))
    return tag("nav", tag("a", "Dialogues", href="/"), " › ", tree, f" › {here}", class_="crumbs")


def _system(c: Conversation) -> Markup | None:
    """The system prompt, open above the transcript (nothing when there is none)."""
    text = system_text(c.system)
    if text is None:
        return None
    return tag(
        "details", tag("summary", "system prompt"), render_text(text), class_="system", open=True
    )


def branch_page(
    c: Conversation, names: tuple[str, ...], dialogue: Dialogue, *, store: str
) -> Markup:
    """A branch as a transcript: every turn, who wrote it and how, and its blocks.

    ``dialogue`` is the one ``c`` belongs to: its title, and its branches to compare with.
    """
    title = imported_title(c) or dialogue.title
    usage = c.usage
    branches = dialogue.branches
    if all(b.id != c.id for b in branches):  # an inner id: offer it beside the leaves
        branches = (Branch(c.id, Facts.of(c), names), *branches)
    others = [b for b in branches if b.id != c.id]
    body = [
        _crumbs(c, "branch"),
        tag("h1", title),
        tag(
            "p",
            _names(names),
            f" {len(c)} turns · ",
            f"{usage.total_input_tokens:,} tokens in, {usage.output_tokens:,} out · "
            if usage.total_input_tokens or usage.output_tokens
            else None,
            "id ",
            tag("code", c.id, class_="id"),
            " · ",
            tag("a", "JSON", href=url("api", "conversations", c.id)),
            class_="facts",
        ),
        tag("button", "Expand all", type="button", class_="toggle-all", hidden=True),
        _system(c),
        tag("div", [render_turn(turn, n) for n, turn in enumerate(c, 1)], class_="transcript"),
        _compare_form(branches, c.id, others[0].id) if others else None,
    ]
    return _layout(title, body, store=store)


def _side(c: Conversation, names: tuple[str, ...], side: str) -> Markup:
    """The heading of one column of a comparison: which branch it is, with a link to it."""
    return tag(
        "div",
        tag("span", side, class_="side-name"),
        tag("a", short(c.id), href=url("c", c.id)),
        _names(names),
        tag("span", f"{len(c)} turns", class_="muted"),
        class_=f"cell {side.lower()}",
    )


def compare_page(
    left: Conversation,
    right: Conversation,
    names: dict[str, tuple[str, ...]],
    *,
    store: str,
) -> Markup:
    """Two branches side by side from their fork, what differs highlighted."""
    body = [
        _crumbs(left, "compare"),
        tag("h1", "Two branches side by side"),
        tag(
            "div",
            _side(left, names.get(left.id, ()), "Left"),
            _side(right, names.get(right.id, ()), "Right"),
            class_="row heads",
        ),
        compare(left, right),
    ]
    return _layout("Compare", body, store=store)


def error_page(status: int, title: str, detail: str, *, store: str) -> Markup:
    """A page saying what was not found (or wrong), and where to go instead."""
    body = [
        tag("h1", f"{status}: {title}"),
        tag("p", detail, class_="error-detail"),
        tag("p", tag("a", "Back to the list of dialogues", href="/")),
    ]
    return _layout(title, body, store=store)
