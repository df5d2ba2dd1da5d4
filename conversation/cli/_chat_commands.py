"""The commands typed inside ``chat``: lines that begin with ``/``.

Each takes the chat and the rest of its line and returns True to leave the
chat. Turn numbers are those the prompts show (``[3] you>``), the same as
``/tree`` and ``conversation show`` count. Nothing a command does deletes
a turn: undone and edited-away branches stay in the store, and ``/tree``
shows their ids for ``/switch``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from .._titles import short
from ..errors import MalformedInputError
from ._chat import Chat
from ._tree import draw_tree

__all__ = ["COMMANDS", "HELP"]

HELP = """\
/help             this list
/undo             drop the last exchange (it stays stored: /tree shows it, /switch goes back)
/retry            ask again for a reply to your last turn, or let a stopped reply go on
/edit N TEXT      write your turn N again as TEXT (a new branch from there) and get a reply
/branch NAME      name this branch NAME; the name follows the chat from here on
/switch NAME|ID   go to another stored branch (a name, an id or an id prefix)
/tree             draw the tree of this dialogue's branches (* marks where you are)
/save NAME        name the conversation as it is now (the name stays here)
/quit             leave the chat (so do Ctrl-D, and Ctrl-C at the prompt)
//TEXT            say TEXT that begins with a /
Ctrl-C while a reply streams stops it; what arrived is kept."""


def _help(chat: Chat, rest: str) -> bool:
    """Print the list of commands."""
    chat.context.print(HELP)
    return False


def _quit(chat: Chat, rest: str) -> bool:
    """Leave the chat: everything said is already stored."""
    return True


def _undo(chat: Chat, rest: str) -> bool:
    """Move the head back to before the last user turn."""
    head = chat.head
    users = [index for index, turn in enumerate(head) if turn.role == "user"]
    if not users:
        chat.error("there is nothing to undo yet")
        return False
    dropped = head
    chat.move(head[: users[-1]])
    span = len(dropped) - users[-1]
    chat.note(
        f"undone: {span} turn{'s' if span > 1 else ''} (still stored as {short(dropped.id)}: "
        f"/switch {short(dropped.id)} goes back)"
    )
    return False


def _retry(chat: Chat, rest: str) -> bool:
    """Ask again: for a reply to a last user turn, or to go on with a stopped reply."""
    last = chat.head.last
    provenance = last.provenance if last is not None else None
    if last is not None and last.role == "user":
        chat.ask()
    elif provenance is not None and provenance.interrupted:
        chat.ask(chat.head.resumable())
    else:
        chat.error("the last reply is whole: /undo and say it again, or /edit N, for another")
    return False


def _edit(chat: Chat, rest: str) -> bool:
    """A new branch from user turn N, holding the new text; then its reply."""
    number, _, text = rest.partition(" ")
    text = text.strip()
    if not number.isdigit() or not text:
        chat.error("/edit takes the number of one of your turns and the new text: /edit 1 Hi")
        return False
    index = int(number) - 1
    head = chat.head
    yours = [str(i + 1) for i, turn in enumerate(head) if turn.role == "user"]
    if not 0 <= index < len(head) or head[index].role != "user":
        which = ", ".join(yours) if yours else "none yet"
        chat.error(f"turn {number} is not one of yours: /edit takes one of {which}")
        return False
    chat.move(head.edit(index, text))
    where = "/tree shows both" if index else f"/switch {short(head.id)} goes back"
    chat.note(f"edited turn {number}: a new branch (the old one stays: {where})")
    chat.show_turn(index + 1)
    chat.ask()
    return False


def _taken(chat: Chat, name: str) -> bool:
    """Refuse a name that already points elsewhere (a chat never moves another's name)."""
    held = chat.store.names().get(name)
    if held is not None and held != chat.head.id:
        chat.error(f"the name {name!r} is taken: /switch {name} goes there; pick another")
        return True
    return False


def _named(chat: Chat, name: str, command: str) -> bool:
    """Whether ``name`` can be given to the head now; says why not."""
    if not name or " " in name:
        chat.error(f"/{command} takes one name without spaces: /{command} lisbon-trip")
        return False
    if not len(chat.head):
        chat.error(f"there is nothing to name yet: say something first, then /{command}")
        return False
    return not _taken(chat, name)


def _name_head(chat: Chat, name: str, command: str) -> str | None:
    """Save the head under ``name``: its id, or None (said why) when the store refuses
    the name. Nothing of the chat changes before the store has taken it."""
    try:
        return chat.store.save(chat.head, name=name)
    except MalformedInputError as error:  # e.g. 64 hex digits, which would read as an id
        chat.error(f"{error.reason.split('; ')[0]}: /{command} takes another name")
        return None


def _branch(chat: Chat, rest: str) -> bool:
    """Name the head and follow that name from now on."""
    if _named(chat, rest, "branch") and _name_head(chat, rest, "branch") is not None:
        before = chat.branch
        chat.branch = rest
        stays = f" ({before} stays where it was)" if before and before != rest else ""
        chat.note(f"on branch {rest} now{stays}")
    return False


def _save(chat: Chat, rest: str) -> bool:
    """Name the head as it is; the chat's own branch name goes on moving."""
    if _named(chat, rest, "save") and (ident := _name_head(chat, rest, "save")) is not None:
        chat.note(f"saved as {rest} ({short(ident)}, {len(chat.head)} turns)")
    return False


def _switch(chat: Chat, rest: str) -> bool:
    """Go to another stored conversation; follow its name if it was given by name."""
    if not rest:
        chat.error("/switch takes a name or an id: /tree and 'conversation ls' show them")
        return False
    head = chat.store.load(rest)
    named = rest in chat.store.names()
    chat.head, chat.branch = head, rest if named else None  # together, once both are known
    chat.note(f"switched to {chat.branch or short(head.id)} ({len(head)} turns)")
    chat.show_recent()
    return False


def _tree(chat: Chat, rest: str) -> bool:
    """The tree of branches under the dialogue's first turn, the head's path marked."""
    lines = draw_tree(chat.store, chat.head, chat.context.style)
    if not lines:
        chat.note("nothing to draw yet: say something first")
    for line in lines:
        chat.context.print(line)
    return False


COMMANDS: Mapping[str, Callable[[Chat, str], bool]] = MappingProxyType(
    {
        "help": _help,
        "undo": _undo,
        "retry": _retry,
        "edit": _edit,
        "branch": _branch,
        "switch": _switch,
        "tree": _tree,
        "save": _save,
        "quit": _quit,
    }
)
