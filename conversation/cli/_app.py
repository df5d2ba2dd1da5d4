"""The program: its parser, one command group per module, and the exit statuses."""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from ..errors import ConversationError, ImportFormatError, StoreNotFoundError
from . import _browse, _chat, _export, _import, _replay, _serve
from ._context import Context, add_db

__all__ = ["main", "run"]

PROG = "python -m conversation"


def _parser(prog: str) -> argparse.ArgumentParser:
    """The command line's parser: one subcommand per thing to do."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="conversation-state: the history of a dialogue with a chat model, as a value.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_db(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="walk through the Messages API guide's examples, offline",
        description=(
            "Run the Messages API guide's examples (multi-turn, prefill, vision, a tool "
            "loop, branches, saving) through a Conversation and print each request. "
            "Canned replies stand in for the model: no API key, no network."
        ),
    )
    demo.set_defaults(handler=_demo)
    _browse.add(commands)
    _export.add(commands)
    _import.add(commands)
    _chat.add(commands)
    _replay.add(commands)
    _serve.add(commands)
    return parser


def _demo(args: argparse.Namespace, context: Context) -> int:
    from .._demo import main

    main()
    return 0


def _message(error: ConversationError) -> str:
    """What to print for a refusal: the library's sentence, or one for the command line."""
    if isinstance(error, StoreNotFoundError):
        return (
            f"{str(error).split(';')[0]}; 'conversation ls' lists the names and ids in this "
            "store (pick another with --db)"
        )
    if isinstance(error, ImportFormatError) and error.report is not None:
        return f"{error}; fix the export and import it again (what came before it is kept)"
    return str(error)


def run(argv: list[str], prog: str = PROG) -> int:
    """Run the command line ``argv``; return the exit status.

    0 when a command ran or help was asked for, 1 when the library refused
    (:class:`~conversation.ConversationError`: one sentence on stderr, no
    traceback), 2 for a usage error (argparse's message on stderr).
    """
    try:
        args = _parser(prog).parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error
        return exit_.code if isinstance(exit_.code, int) else 0
    try:
        return int(args.handler(args, Context.from_args(args)))
    except ConversationError as error:
        print(f"{prog}: error: {_message(error)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader left (| head): nothing more to say
        sys.stderr.close()
        return 0
    except OSError as error:  # a file named on the command line that cannot be read
        where = f" {error.filename!r}" if error.filename else ""
        print(
            f"{prog}: error: cannot open{where}: {error.strerror or error}; check the path",
            file=sys.stderr,
        )
        return 1


def main() -> None:
    """The ``conversation`` console script."""
    raise SystemExit(run(sys.argv[1:], "conversation"))
