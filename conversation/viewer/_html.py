"""A tiny HTML builder that escapes by default: text is text unless the code says otherwise.

Every string handed to :func:`tag` (as a child or an attribute value) is
escaped, so what a model or a person wrote can never become markup; only
:class:`Markup`, which this package's own code builds, goes out as it is.

>>> str(tag("p", "<script>alert(1)</script>", class_="x"))
'<p class="x">&lt;script&gt;alert(1)&lt;/script&gt;</p>'
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import TypeAlias
from urllib.parse import quote, urlencode

__all__ = ["Child", "Markup", "esc", "join", "tag", "url"]


class Markup(str):
    """HTML this package built: written out as it is, never escaped again."""

    __slots__ = ()


Child: TypeAlias = "Markup | str | int | Iterable[Child] | None"

# elements with no closing tag
_VOID = frozenset({"br", "hr", "img", "input", "link", "meta"})


def esc(value: Child) -> Markup:
    """``value`` as HTML: Markup as it is, text escaped, None as nothing, iterables joined."""
    if value is None:
        return Markup()
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return Markup(html.escape(value, quote=True))
    if isinstance(value, int):
        return Markup(str(value))
    return Markup("".join(esc(part) for part in value))


def join(parts: Iterable[Child]) -> Markup:
    """The parts one after another, each escaped unless it is Markup."""
    return esc(parts)


def tag(element: str, /, *children: Child, **attributes: str | int | bool | None) -> Markup:
    """``<element attributes>children</element>``: every value and child text escaped.

    An attribute's Python name loses a trailing ``_`` (``class_``) and turns
    ``_`` into ``-`` (``aria_label``); True writes it bare, False or None
    leaves it out. ``element`` and the attribute names come from this package's
    code, never from data.
    """
    parts = [element]
    for key, value in attributes.items():
        if value is None or value is False:
            continue
        attribute = key.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(attribute)
        else:
            parts.append(f'{attribute}="{html.escape(str(value), quote=True)}"')
    opening = "<" + " ".join(parts) + ">"
    if element in _VOID:
        return Markup(opening)
    return Markup(f"{opening}{esc(children)}</{element}>")


def url(*segments: str, **query: str) -> str:
    """A path of this site: each segment percent-encoded (``/`` in a name too), then the query."""
    path = "/" + "/".join(quote(segment, safe="") for segment in segments)
    shown = {key: value for key, value in query.items() if value}
    return path + ("?" + urlencode(shown) if shown else "")
