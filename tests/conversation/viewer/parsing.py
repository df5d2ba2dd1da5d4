"""HTML the viewer wrote, read back with the standard library's parser, and held to rules."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import attrs

__all__ = ["ALLOWED_TAGS", "Parsed", "assert_safe", "parse"]

ALLOWED_TAGS = frozenset(
    [
        "a",
        "article",
        "code",
        "del",
        "details",
        "div",
        "figcaption",
        "figure",
        "header",
        "h1",
        "h2",
        "img",
        "ins",
        "mark",
        "p",
        "pre",
        "span",
        "strong",
        "summary",
    ]
)
"""The elements a rendered turn, block or text may hold: none runs script."""

_ATTRIBUTES = frozenset(
    {"class", "href", "src", "alt", "id", "rel", "target", "data-lang", "title"}
)
_SAFE_SRC = re.compile(r"data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}")
_SAFE_HREF = re.compile(r"(https?://|/|#turn-\d+$)", re.IGNORECASE)


@attrs.define
class Parsed:
    """Every start tag (with its attributes) and the text, entities decoded."""

    tags: list[tuple[str, list[tuple[str, str | None]]]] = attrs.field(factory=list)
    text: list[str] = attrs.field(factory=list)


class _Reader(HTMLParser):
    def __init__(self, into: Parsed) -> None:
        super().__init__(convert_charrefs=True)
        self.into = into

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.into.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.into.text.append(data)


def parse(markup: str) -> Parsed:
    parsed = Parsed()
    reader = _Reader(parsed)
    reader.feed(markup)
    reader.close()
    return parsed


def assert_safe(markup: str) -> Parsed:
    """Fail unless ``markup`` holds only allowed elements and attributes, and URLs that
    cannot run script (data: images of safe types, http(s), this site's paths)."""
    parsed = parse(markup)
    for tag, attributes in parsed.tags:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, value in attributes:
            assert name in _ATTRIBUTES, (tag, name, markup)
            if name == "src":
                assert _SAFE_SRC.fullmatch(value or ""), value
            if name == "href":
                assert _SAFE_HREF.match(value or ""), value
    return parsed
