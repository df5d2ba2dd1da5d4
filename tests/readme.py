"""The README's fenced code blocks, read once for the tests that check or run them."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

__all__ = ["EXAMPLES", "FENCES", "README", "ROOT", "Fence", "fences"]

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


@attrs.frozen
class Fence:
    """One fenced code block of the README."""

    lang: str  # what follows the opening ```, e.g. "python" ("" for none)
    line: int  # the README line of its first line of code
    heading: str  # the section it is in
    code: str

    @property
    def id(self) -> str:
        """A readable test id: line and section, e.g. ``L85-a-tour``."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"L{self.line}-{slug}"


def fences(text: str = README) -> list[Fence]:
    """Every fenced code block of ``text``, in order (headings read outside them only)."""
    found: list[Fence] = []
    heading = "top"
    opened: tuple[str, int] | None = None  # the open block's language and first line
    body: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if opened is None:
            if line.startswith("```"):
                opened, body = (line[3:].strip(), number + 1), []
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
        elif line.startswith("```"):
            found.append(Fence(opened[0], opened[1], heading, "\n".join(body)))
            opened = None
        else:
            body.append(line)
    assert opened is None, f"README.md: the code block opened at line {opened[1] - 1} never closes"
    return found


FENCES = fences()
EXAMPLES = [f for f in FENCES if f.lang == "python"]
