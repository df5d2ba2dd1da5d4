"""``replay``: a stored dialogue's user turns sent again to a model, kept as a new branch.

The replay is :func:`conversation.replay.replay`; the new branch is saved
beside the original under ``<the name or short id given>/replay-N`` (N one
more than the replays before it), and the command prints its name and id,
how many turns the model wrote, and the tokens the replies used.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import orjson

from .._titles import short
from ..replay import replay
from ._adapter import add_model_args, close, pick
from ._context import Context, add_db

__all__ = ["add"]


def add(commands: Any) -> None:
    """Register ``replay`` on the program's subcommands."""
    parser = commands.add_parser(
        "replay",
        help="send a stored dialogue's user turns to a model again, as a new branch",
        description=(
            "Replay a stored conversation: keep its system prompt and user turns, have the "
            "model write each of its replies again, and store the result as a new branch "
            "named ID/replay-N. Prints the branch's name and id, the turns the model "
            "wrote and the tokens used. With no ANTHROPIC_API_KEY (and no --adapter) an "
            "offline model answers, and stderr says so."
        ),
    )
    add_db(parser)
    parser.add_argument("id", metavar="ID", help="a name, an id, or a unique id prefix")
    add_model_args(parser)
    parser.add_argument(
        "--regenerate-synthetic",
        action="store_true",
        help="have the model write the assistant turns a program wrote too (kept otherwise)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON object, for scripts")
    parser.set_defaults(handler=_replay)


def _free_name(names: dict[str, str], base: str) -> str:
    """``base/replay-N``, N one more than the highest replay of ``base`` stored."""
    pattern = re.compile(re.escape(base) + r"/replay-(\d{1,9})")
    found = [int(match[1]) for name in names if (match := pattern.fullmatch(name))]
    return f"{base}/replay-{max(found, default=0) + 1}"


def _replay(args: argparse.Namespace, context: Context) -> int:
    """Run ``replay``: send the stored dialogue's user turns to the model again, save the
    result as a new branch beside it, and print what it became (or a JSON row)."""
    model = pick(args)
    if model.notice:
        print(model.notice, file=sys.stderr)
    try:
        with context.open() as store:
            original = store.load(args.id)
            result = replay(
                original,
                model.adapter,
                regenerate_synthetic=args.regenerate_synthetic,
                **model.options,
            )
            names = store.names()
            base = args.id if args.id in names else short(original.id)
            name = _free_name(names, base)
            ident = store.save(result.conversation, name=name)
    finally:
        close(model)
    branch = result.conversation
    written = sum(1 for turn in branch if turn.role == "assistant" and not turn.synthetic)
    usage = branch.usage
    row = {
        "id": ident,
        "name": name,
        "original": original.id,
        "turns": len(branch),
        "replayed": written,
        "complete": result.complete,
        "reason": result.reason,
        "adapter": model.adapter_name,
        "model": model.name,
        "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens},
    }
    if args.json:
        context.print(orjson.dumps(row, option=orjson.OPT_INDENT_2).decode())
        return 0
    style = context.style
    context.print(f"{style('name', name)}  {style('id', short(ident))}")
    context.print(
        f"{written} turn{'' if written == 1 else 's'} written again by {model.name} "
        f"({len(branch)} turns in all); {usage.input_tokens} input and "
        f"{usage.output_tokens} output tokens"
    )
    if result.reason is not None:
        context.print(f"stopped early: {result.reason}")
    if not written and not args.regenerate_synthetic:
        context.print(
            "its assistant turns were written by a program (synthetic), so they were kept: "
            "--regenerate-synthetic has the model write them"
        )
    return 0
