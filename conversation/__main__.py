"""``python -m conversation``: the command line (today one command, the offline demo)."""

from __future__ import annotations

import argparse
import sys

from . import __version__


def _parser() -> argparse.ArgumentParser:
    """The command line's parser: one subcommand per thing to run."""
    parser = argparse.ArgumentParser(
        prog="python -m conversation",
        description="conversation-state: the history of a dialogue with a chat model, as a value.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser(
        "demo",
        help="walk through the Messages API guide's examples, offline",
        description=(
            "Run the Messages API guide's examples (multi-turn, prefill, vision, a tool "
            "loop, branches, saving) through a Conversation and print each request. "
            "Canned replies stand in for the model: no API key, no network."
        ),
    )
    return parser


def run(argv: list[str]) -> int:
    """Run the command line ``argv``; return the exit status.

    0 when a command ran or help was asked for, 2 for a usage error (argparse's
    message on stderr).
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error
        return exit_.code if isinstance(exit_.code, int) else 0
    if args.command == "demo":
        from ._demo import main

        main()
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1:]))
