"""``chat``: talk with a model in the terminal, every turn kept in the store as it is said.

The chat's state is a head (the Conversation so far) and the name of its
branch, which moves along as the chat goes on, the way a git branch does
(``chat/N`` for a new chat). Each user turn is saved before it is sent and
each reply once it has arrived (or as much of it as arrived, marked
interrupted), so a crash loses nothing said before it. Lines that begin with
``/`` are the commands of :mod:`._chat_commands`.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._conversation import Conversation
from .._turn import Turn
from ..errors import AdapterError, ConversationError, RuleViolationError, StoreNotFoundError
from ..store import PostgresStore, SQLiteStore
from ._adapter import Model, add_model_args, close, pick
from ._context import Context, add_db
from ._render import block_text
from ._secrets import masked_url

if TYPE_CHECKING:
    from adapters import MessageStream

__all__ = ["Chat", "add", "explain"]

CHAT_PREFIX = "chat/"


def add(commands: Any) -> None:
    """Register ``chat`` on the program's subcommands."""
    parser = commands.add_parser(
        "chat",
        help="chat with a model; the history is kept in the store",
        description=(
            "An interactive chat that streams each reply as it arrives and saves every "
            "turn in the store as it is said, on a branch named chat/N (or the one "
            "resumed). Type /help in it for its commands: /undo, /retry, /edit N TEXT, "
            "/branch NAME, /switch NAME|ID, /tree, /save NAME, /quit. Ctrl-C stops a "
            "reply (what arrived is kept); at the prompt Ctrl-C or Ctrl-D leaves."
        ),
    )
    add_db(parser)
    add_model_args(parser)
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--system", metavar="TEXT", help="the system prompt of a new chat")
    start.add_argument(
        "--resume",
        metavar="NAME",
        help="go on with a stored conversation (a name, an id or an id prefix)",
    )
    parser.set_defaults(handler=_chat)


def _chat(args: argparse.Namespace, context: Context) -> int:
    """Run ``chat``: pick the model, open (or make) the store, and talk until the person
    leaves; the adapter is closed however the chat ends."""
    from ._chat_commands import COMMANDS

    model = pick(args)
    try:
        with context.open(create=True) as store:
            if args.resume is not None:
                head = store.load(args.resume)
                branch = args.resume if args.resume in store.names() else None
            else:
                head, branch = Conversation(system=args.system), _next_chat(store.names())
            chat = Chat(context, store, model, head, branch, COMMANDS)
            return chat.run(resumed=args.resume is not None)
    finally:
        close(model)


def _next_chat(names: dict[str, str]) -> str:
    """``chat/N``, N one more than the highest number a chat was named with."""
    numbers = [int(n[len(CHAT_PREFIX) :]) for n in names if re.fullmatch(r"chat/\d{1,9}", n)]
    return f"{CHAT_PREFIX}{max(numbers, default=0) + 1}"


def _headline(error: BaseException) -> str:
    """The first clause of an error's message: what went wrong, without the library's advice
    (which names API calls, not chat commands)."""
    text = " ".join(str(error).split())
    return re.split(r"; |\. (?=[A-Z])", text, maxsplit=1)[0].rstrip(".")


def _carried(error: ConversationError) -> Conversation | None:
    """What arrived of a reply, as an adapter's error carries it (``StreamInterruptedError``
    and its like: an AdapterError with a ``.conversation``); None for any other error.

    Read by duck typing, so that the chat need not import ``adapters`` to know it.
    """
    carried = getattr(error, "conversation", None)
    if isinstance(error, AdapterError) and isinstance(carried, Conversation):
        return carried
    return None


def explain(error: ConversationError, *, kept: bool = False) -> str:
    """One sentence for a person in the chat: what went wrong and what to do about it.

    ``kept`` says a reply was under way and what arrived of it is saved.
    """
    what = _headline(error)
    if kept or _carried(error) is not None:
        return f"the reply was cut off ({what}); what arrived is kept: /retry lets it go on"
    if isinstance(error, RuleViolationError):
        return f"not sent, the API would refuse it: {what}; /undo or /edit N to change it"
    if isinstance(error, StoreNotFoundError):
        return f"{what}; /tree shows this dialogue's branches, 'conversation ls' every one"
    if isinstance(error, AdapterError):
        if getattr(error, "status_code", None) in (401, 403):
            return f"the model refused the key ({what}): check the API key, then /retry"
        return f"the model did not answer ({what}); /retry asks again, /undo drops your message"
    return what


class Chat:
    """One chat session: the store, the model, the head and its branch name.

    ``commands`` maps a command's name (``"undo"``) to what runs it, given
    this chat and the rest of the line; it returns True to leave the chat.
    """

    def __init__(
        self,
        context: Context,
        store: SQLiteStore | PostgresStore,
        model: Model,
        head: Conversation,
        branch: str | None,
        commands: Mapping[str, Callable[[Chat, str], bool]],
    ) -> None:
        self.context = context
        self.store = store
        self.model = model
        self.head = head
        self.branch = branch
        self.commands = commands
        self._readline = False

    # -- the loop ---------------------------------------------------------------------

    def run(self, *, resumed: bool) -> int:
        """Read lines until /quit, end of input or Ctrl-C at the prompt; exit status 0."""
        self._readline = _line_editing()
        self._greet(resumed)
        while True:
            try:
                line = input(self._prompt()).strip()
            except (EOFError, KeyboardInterrupt):
                self.context.print()
                return 0
            if not line:
                continue
            try:
                if line.startswith("/") and not line.startswith("//"):
                    name, _, rest = line[1:].partition(" ")
                    if self._command(name, rest.strip()):
                        return 0
                else:
                    self.say(line.removeprefix("/"))
            except KeyboardInterrupt:  # in a command: the chat goes on, as after a reply
                self.context.print()
                self.note("interrupted")
            except ConversationError as error:
                self.error(explain(error))

    def _command(self, name: str, rest: str) -> bool:
        """Run the command ``/name rest`` (or say there is none); True to leave the chat."""
        command = self.commands.get(name)
        if command is None:
            self.error(f"there is no command /{name}; /help lists the commands")
            return False
        return command(self, rest)

    def _greet(self, resumed: bool) -> None:
        """The opening lines: the model, where the turns are saved (never a password),
        and, for a resumed chat, its last exchange."""
        style = self.context.style
        where = f"saved in {masked_url(self.context.db)}"
        where += f" as {style('name', self.branch)}" if self.branch else " (no name: /branch NAME)"
        model = self.model
        via = "" if model.name == model.adapter_name else f" ({model.adapter_name})"
        self.context.print(
            f"chat with {model.name}{via}, {where}; /help lists the commands, Ctrl-D leaves"
        )
        if model.notice:
            self.context.print(style("dim", model.notice))
        if resumed:
            self.show_recent()
            last = self.head.last
            if last is not None and last.role == "user":
                self.note("your last turn has no reply yet: /retry asks for one")

    # -- the store and the screen -----------------------------------------------------

    def move(self, head: Conversation) -> None:
        """Make ``head`` the chat's head and save it (the branch name moves with it)."""
        self.store.save(head, name=self.branch)
        self.head = head

    def error(self, sentence: str) -> None:
        """Say what went wrong on stderr, in one line, and go on."""
        self.context.out.flush()
        print(f"error: {sentence}", file=sys.stderr, flush=True)

    def note(self, text: str) -> None:
        """Say something about the chat (not the dialogue itself) on stdout, dimmed."""
        self.context.print(self.context.style("dim", text))

    def _prompt(self) -> str:
        """``[N] you>``, N the number the next turn will have, coloured as the style says."""
        prompt = self.context.style("user", f"[{len(self.head) + 1}] you>") + " "
        if self._readline:  # readline counts the prompt's width without the colour codes
            prompt = re.sub(r"(\x1b\[[0-9;]*m)", "\x01\\1\x02", prompt)
        return prompt

    def _label(self, number: int, turn: Turn | None = None) -> str:
        """``[4] you>`` or ``[4] model>``: who says turn ``number``."""
        if turn is not None and turn.role == "user":
            return self.context.style("user", f"[{number}] you>") + " "
        name = self.model.name
        provenance = turn.provenance if turn is not None else None
        if provenance is not None:
            last = provenance.last
            name = last.model if last is not None and last.model else "assistant"
        return self.context.style("assistant", f"[{number}] {name}>") + " "

    def show_turn(self, number: int) -> None:
        """Print the head's turn ``number`` (counted from 1) after who said it."""
        turn = self.head[number - 1]
        text = "\n".join(block_text(block) for block in turn.blocks)
        self.context.print(self._label(number, turn) + text)

    def show_recent(self) -> None:
        """The last exchange of the head, as the chat showed it, and how to see the rest."""
        size = len(self.head)
        first = max(1, size - 1)
        if first > 1:
            self.note(f"(turns 1-{first - 1} before: /tree draws the branches)")
        for number in range(first, size + 1):
            self.show_turn(number)
        if self.branch is None:
            self.note("not on a named branch: /branch NAME names it")

    # -- talking ----------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Add the user's turn, save it, and ask for the reply."""
        self.move(self.head.user(text))
        self.ask()

    def ask(self, before: Conversation | None = None) -> None:
        """Stream the model's reply to ``before`` (the head) onto the screen, saving what
        arrived."""
        before = self.head if before is None else before
        last = before.last
        number = len(before) + (0 if last is not None and last.role == "assistant" else 1)
        self.context.out.write(self._label(number))
        self.context.out.flush()
        arrived = _Arrived()
        after: Conversation | None = None
        try:
            after = self._receive(before, arrived)
            self.context.print()
        except KeyboardInterrupt:
            self.context.print()
            after = arrived.partial(before)
            if after is None:
                self.note("stopped before any text arrived; /retry asks again")
            else:
                self.note("stopped: what arrived is kept; /retry lets it go on, /undo drops it")
        except ConversationError as error:  # the adapter's, or a third party's, mid-stream
            self.context.print()
            after = _carried(error)
            if after is None:
                after = arrived.partial(before)
            self.error(explain(error, kept=after is not None))
        if after is not None:
            self.move(after)
            self._stopped(after)

    def _receive(self, before: Conversation, arrived: _Arrived) -> Conversation:
        """The reply to ``before``, its text written out as it arrives (whole, from an
        adapter that does not stream)."""
        out, options = self.context.out, dict(self.model.options)
        stream: Callable[..., MessageStream] | None = getattr(self.model.adapter, "stream", None)
        if stream is None:
            after = self.model.adapter.send(before, **options)
            out.write(after.last.text if after.last is not None else "")
            return after
        with stream(before, **options) as events:
            for event in events:  # told apart by their type, as the Messages API names them
                kind = getattr(event, "type", None)
                if kind == "message_start":
                    arrived.id = getattr(event, "id", None)
                    arrived.model = getattr(event, "model", None)
                elif kind == "text_delta":
                    text = str(getattr(event, "text", ""))
                    arrived.text.append(text)
                    out.write(text)
                    out.flush()
                    if self.model.pace:
                        time.sleep(self.model.pace)
            return events.conversation

    def _stopped(self, after: Conversation) -> None:
        """Say why a whole reply ended early: the model declined, or ran out of tokens."""
        last = after.last
        info = last.provenance.last if last is not None and last.provenance else None
        reason = info.stop_reason if info is not None else None
        if reason == "refusal":
            self.error("the model declined to answer; /edit N rewrites your turn, /undo drops it")
        elif reason == "max_tokens":
            self.note(f"(the reply stopped at --max-tokens {self.model.options['max_tokens']})")


class _Arrived:
    """What has arrived of a reply being streamed: its id and model (from its start) and
    its text pieces."""

    def __init__(self) -> None:
        self.id: str | None = None
        self.model: str | None = None
        self.text: list[str] = []

    def partial(self, before: Conversation) -> Conversation | None:
        """``before`` with the text that arrived, marked interrupted; None when none did."""
        text = "".join(self.text)
        if not text.strip():
            return None
        reply: dict[str, Any] = {"content": [{"type": "text", "text": text}]}
        if self.id is not None:
            reply["id"] = self.id
        if self.model is not None:
            reply["model"] = self.model
        return before.fold(reply, interrupted=True)


def _line_editing() -> bool:
    """Turn on line editing and history (readline) for a terminal, where Python has it."""
    if not sys.stdin.isatty():
        return False
    try:
        import readline  # noqa: F401  (importing it is what turns it on for input())
    except ImportError:
        return False
    return True
