"""Importing dialogues into a store: each branch saved once, the active one named.

A branch is saved under its content id, so a branch of a dialogue imported
before (from an older export) that is already in the store is skipped, and a
branch that grew since is saved as its new turns only. The active branch gets the name
``"<app>/<source_id>"`` (moved when the app's active branch changed). Every
dialogue is saved (committed) before the next is read, so an error in the
export leaves every dialogue before it imported, and the error's ``report``
says what was.
"""

from __future__ import annotations

from collections.abc import Iterable, Sized

import attrs

from .._replay_progress import Progress
from ..errors import ImportFormatError, MalformedInputError, type_name
from ..store import Store
from ._dialogue import Dialogue

__all__ = ["ImportReport", "import_into"]


@attrs.frozen
class ImportReport:
    """What :func:`import_into` did: ids of the branches saved and of those already stored.

    ``names`` are the names set or moved (one per dialogue whose active
    branch was not already under its name).
    """

    dialogues: int
    added: tuple[str, ...]
    skipped: tuple[str, ...]
    names: tuple[str, ...]


def import_into(
    store: Store, dialogues: Iterable[Dialogue], *, progress: bool = False
) -> ImportReport:
    """Save every branch of ``dialogues`` in ``store``; see the module for the rules.

    ``progress``: a tqdm bar on stderr when tqdm is installed (the
    ``progress`` extra) and stderr is a terminal. A malformed dialogue raises
    :class:`ImportFormatError` whose ``report`` is the report of the dialogues
    saved before it.
    """
    if not isinstance(progress, bool):
        raise MalformedInputError(
            f"progress must be True or False, got {type_name(progress)}", "progress"
        )
    total = len(dialogues) if isinstance(dialogues, Sized) else 0
    bar = Progress(total, progress)
    names = store.names()
    added: list[str] = []
    skipped: list[str] = []
    moved: list[str] = []
    count = 0
    try:
        for dialogue in dialogues:
            name = dialogue.name
            # A dialogue never imported before is saved whole, without asking first.
            seen = name in names
            for c in dialogue.conversations:
                if c is dialogue.active:
                    continue
                ident = c.id
                if seen and ident in store:
                    skipped.append(ident)
                else:
                    added.append(store.save(c))
            ident = dialogue.active.id
            if names.get(name) == ident:
                skipped.append(ident)
            else:
                (skipped if seen and ident in store else added).append(ident)
                store.save(dialogue.active, name=name)
                names[name] = ident
                moved.append(name)
            count += 1
            bar.advance()
    except ImportFormatError as error:  # raised reading the next dialogue: say what was saved
        error.report = ImportReport(count, tuple(added), tuple(skipped), tuple(moved))
        raise
    finally:
        bar.close()
    return ImportReport(count, tuple(added), tuple(skipped), tuple(moved))
