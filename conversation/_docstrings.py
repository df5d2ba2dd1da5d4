"""What a function or a class says about itself in its docstrings.

A tool's description and its parameters' descriptions come from the function's
docstring (its first paragraph and a Google-style ``Args:`` section); a
record's from its class docstring and the docstrings written under its
attributes. Kept apart from the schema code, which only asks for the text.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import re
import textwrap

__all__ = ["attribute_docstrings", "class_docs", "parse_docstring"]

_SECTION = re.compile(r"^(\s*)(Args|Arguments|Parameters|Attributes|Fields):\s*$")
_ENTRY = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str | None, dict[str, str]]:
    """A docstring's first paragraph and its Google-style ``Args:`` descriptions.

    The first paragraph (its lines joined by spaces) is what a tool or a class
    is; ``Args:`` (also ``Arguments:``, ``Parameters:``, ``Attributes:``)
    entries ``name: text`` or ``name (type): text``, continued on deeper
    indented lines, describe parameters or fields.
    """
    if not doc:
        return None, {}
    lines = inspect.cleandoc(doc).splitlines()
    first: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line):
            break
        first.append(line.strip())
    described: dict[str, str] = {}
    index = 0
    while index < len(lines):
        header = _SECTION.match(lines[index])
        index += 1
        if header is None:
            continue
        base = len(header.group(1))
        entry_indent: int | None = None
        name: str | None = None
        while index < len(lines):
            line = lines[index]
            if not line.strip():
                index += 1
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= base:
                break
            index += 1
            if entry_indent is None:
                entry_indent = indent
            match = _ENTRY.match(line.strip())
            if indent == entry_indent and match:
                name = match.group(1).lstrip("*")
                described[name] = match.group(2).strip()
            elif name is not None:
                described[name] = f"{described[name]} {line.strip()}".strip()
    return (" ".join(first) or None), described


def attribute_docstrings(cls: type) -> dict[str, str]:
    """Docstrings written under a class's attributes (``x: int`` then ``\"\"\"text\"\"\"``).

    Python keeps no such docstrings at run time, so they are read from the
    source when it is available; without source there are none.
    """
    try:
        source = textwrap.dedent(inspect.getsource(cls))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return {}
    body = next((n.body for n in tree.body if isinstance(n, ast.ClassDef)), [])
    found: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[node.target.id] = inspect.cleandoc(after.value.value)
    return found


def class_docs(cls: type) -> tuple[str | None, dict[str, str]]:
    """A class's description and field descriptions, from its docstrings.

    The docstring a dataclass or a NamedTuple is given when it has none
    (``Point(x: int, y: int)``) describes nothing and is ignored.
    """
    doc = cls.__doc__
    if doc and _generated_doc(cls, doc):
        doc = None
    description, documented = parse_docstring(doc)
    return description, {**attribute_docstrings(cls), **documented}


def _generated_doc(cls: type, doc: str) -> bool:
    """True for the docstring dataclasses and namedtuple write: the class's signature."""
    text = doc.strip()
    return text.startswith(f"{cls.__name__}(") and text.endswith(")") and "\n" not in text
