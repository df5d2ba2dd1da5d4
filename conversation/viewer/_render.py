"""Turns and their blocks as HTML: text with its code, images, tool traffic, thinking.

Everything a model or a person wrote goes through :func:`~._html.tag` as
text, so it is escaped; the only values that reach an attribute unescaped
in meaning are an image's ``data:`` URL, built here from a media type on a
short list and base64 checked to be base64, and a link's URL, kept only
when it is http or https.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from .._blocks import (
    Block,
    ContentSource,
    Document,
    Image,
    RedactedThinking,
    SearchResult,
    ServerToolResult,
    ServerToolUse,
    Text,
    Thinking,
    ToolResult,
    ToolUse,
    UnknownBlock,
)
from .._json import thaw
from .._sources import Base64Source, FileSource, TextSource, URLSource
from .._turn import Turn
from ._html import Markup, join, tag

__all__ = ["SAFE_IMAGE_TYPES", "render_block", "render_text", "render_turn", "turn_badges"]

SAFE_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""The media types shown as pictures (no SVG: it can hold script when opened on its own)."""

_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_PRIVATE = re.compile("[\ue000-\uf8ff]")
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^`]*$")
_INLINE_CODE = re.compile(r"`([^`\n]+)`")


def _json(value: Any) -> str:
    """A JSON value indented for reading (anything orjson cannot write, as its repr)."""
    return orjson.dumps(thaw(value), option=orjson.OPT_INDENT_2, default=repr).decode()


def _paragraph(text: str) -> Markup:
    """Prose with its line breaks kept and `inline code` set as code."""
    parts: list[Markup | str] = []
    at = 0
    for match in _INLINE_CODE.finditer(text):
        parts += [text[at : match.start()], tag("code", match.group(1))]
        at = match.end()
    parts.append(text[at:])
    return tag("p", parts)


def _closes(line: str, fence: str) -> bool:
    """True when ``line`` closes a code block opened by ``fence``: the same mark, as long."""
    mark = line.strip()
    return len(mark) >= len(fence) and set(mark) == {fence[0]}


def render_text(text: str) -> Markup:
    """Text as a person reads it: fenced code blocks as ``<pre><code>``, the rest as prose.

    A fence (```` ``` ```` or ``~~~``, with an optional language) opens a
    code block that runs to the same fence or to the end of the text.
    Private-use characters (ChatGPT's citation marks), which no font draws,
    are left out of what is shown.
    """
    text = _PRIVATE.sub("", text)
    out: list[Markup] = []
    prose: list[str] = []
    code: list[str] | None = None
    fence, language = "", ""

    def flush_prose() -> None:
        """The prose gathered so far as paragraphs (a blank line between two)."""
        for chunk in re.split(r"\n\s*\n", "\n".join(prose)):
            if chunk.strip():
                out.append(_paragraph(chunk.strip("\n")))
        prose.clear()

    def flush_code(lines: list[str]) -> None:
        """A fenced block as code, labelled with its language when the fence names one."""
        label = tag("span", language, class_="lang") if language else None
        out.append(
            tag("pre", label, tag("code", "\n".join(lines)), class_="code", data_lang=language)
        )

    for line in text.split("\n"):
        match = _FENCE.match(line)
        if code is None and match:
            flush_prose()
            fence, language, code = match.group(1), match.group(2), []
        elif code is not None and _closes(line, fence):
            flush_code(code)
            code = None
        elif code is not None:
            code.append(line)
        else:
            prose.append(line)
    if code is not None:
        flush_code(code)
    flush_prose()
    return tag("div", out, class_="text")


def _link(address: str, label: str) -> Markup:
    """A link to ``address`` when it is http(s); other schemes (javascript:...) as text."""
    if re.match(r"https?://", address, re.IGNORECASE):
        return tag("a", label, href=address, rel="noopener noreferrer nofollow", target="_blank")
    return tag("span", f"{label} ({address})", class_="unsafe-url")


def _image(block: Image) -> Markup:
    """An image: drawn from a ``data:`` URL when it is a safe type in base64, else named."""
    source = block.source
    if isinstance(source, Base64Source):
        kind = source.media_type.lower()
        data = "".join(source.data.split())
        if kind in SAFE_IMAGE_TYPES and _BASE64.fullmatch(data):
            picture = tag("img", src=f"data:{kind};base64,{data}", alt=f"image ({kind})")
            return tag("figure", picture, class_="block image")
        note = f"an image of type {source.media_type!r}, not shown (only PNG, JPEG, GIF, WebP)"
        return tag("div", note, class_="block image unsafe")
    if isinstance(source, URLSource):
        caption = tag("figcaption", "image at ", _link(source.url, source.url))
        return tag("figure", caption, class_="block image url")
    if isinstance(source, FileSource):
        return tag("div", f"image: uploaded file {source.file_id}", class_="block image file")
    return tag("div", f"image from a {source.type} source", class_="block image")


def _document(block: Document) -> Markup:
    """A document block: its title, then its text, a link, or what kind of file it is."""
    source = block.source
    title = tag("div", "document", ": " + block.title if block.title else "", class_="label")
    if isinstance(source, TextSource):
        body: Markup = tag("pre", source.data)
    elif isinstance(source, ContentSource):
        content = source.content
        body = render_text(content) if isinstance(content, str) else _blocks(content)
    elif isinstance(source, URLSource):
        body = tag("p", _link(source.url, source.url))
    elif isinstance(source, Base64Source):
        body = tag("p", f"{source.media_type}, {len(source.data) * 3 // 4:,} bytes (not shown)")
    elif isinstance(source, FileSource):
        body = tag("p", f"uploaded file {source.file_id}")
    else:
        body = tag("pre", _json(source.raw))
    return tag("div", title, body, class_="block document")


def _tool_result(block: ToolResult) -> Markup:
    """A tool's result: which call it answers, marked when it is an error, then its content."""
    error = bool(block.is_error)
    label = tag(
        "div",
        "tool result (error)" if error else "tool result",
        tag("span", " for ", tag("code", block.tool_use_id), class_="muted"),
        class_="label",
    )
    content = block.content
    if content is None:
        body = tag("p", "(no content)", class_="muted")
    elif isinstance(content, str):
        body = tag("pre", content)
    else:
        body = _blocks(content)
    return tag("div", label, body, class_="block tool-result" + (" error" if error else ""))


def render_block(block: Block) -> Markup:
    """One content block as HTML."""
    if isinstance(block, Text):
        return render_text(block.text)
    if isinstance(block, Image):
        return _image(block)
    if isinstance(block, ToolUse | ServerToolUse):
        kind = "server tool call" if isinstance(block, ServerToolUse) else "tool call"
        label = tag(
            "div",
            f"{kind} ",
            tag("strong", block.name),
            tag("span", " ", tag("code", block.id), class_="muted"),
            class_="label",
        )
        return tag("div", label, tag("pre", _json(block.input)), class_="block tool-use")
    if isinstance(block, ToolResult):
        return _tool_result(block)
    if isinstance(block, Thinking):
        summary = tag("summary", f"thinking ({len(block.thinking):,} characters)")
        return tag("details", summary, render_text(block.thinking), class_="block thinking")
    if isinstance(block, RedactedThinking):
        summary = tag("summary", "redacted thinking")
        note = tag("p", f"encrypted by the API ({len(block.data):,} characters)", class_="muted")
        return tag("details", summary, note, class_="block thinking redacted")
    if isinstance(block, Document):
        return _document(block)
    if isinstance(block, SearchResult):
        label = tag("div", "search result: ", tag("strong", block.title), class_="label")
        return tag(
            "div",
            label,
            tag("p", _link(block.source, block.source)),
            _blocks(block.content),
            class_="block search-result",
        )
    if isinstance(block, ServerToolResult):
        summary = tag("summary", f"{block.type} for ", tag("code", block.tool_use_id))
        return tag("details", summary, tag("pre", _json(block.content)), class_="block server")
    assert isinstance(block, UnknownBlock)
    summary = tag("summary", f"a {block.type} block (kept as it came)")
    return tag("details", summary, tag("pre", _json(block.raw)), class_="block unknown")


def _blocks(blocks: tuple[Block, ...]) -> Markup:
    """Blocks one after another, each as :func:`render_block` draws it."""
    return join(render_block(block) for block in blocks)


def turn_badges(turn: Turn) -> Markup:
    """What is known of who wrote the turn: the model, tokens, stop reason; or "synthetic"."""
    provenance = turn.provenance
    if provenance is None:
        return Markup()
    badges: list[Markup] = []
    if provenance.synthetic:
        badges.append(
            tag("span", "synthetic", class_="badge synthetic", title="written by the program")
        )
    else:
        last = provenance.replies[-1]
        if last.model:
            badges.append(tag("span", last.model, class_="badge model"))
        usage = provenance.usage
        if usage.total_input_tokens or usage.output_tokens:  # an import has no counts
            tokens = f"{usage.total_input_tokens:,} in · {usage.output_tokens:,} out"
            if usage.cache_read_input_tokens:
                tokens += f" · {usage.cache_read_input_tokens:,} cached"
            badges.append(tag("span", tokens, class_="badge usage", title="tokens of this reply"))
        if last.stop_reason:
            badges.append(tag("span", last.stop_reason, class_="badge stop"))
        if len(provenance.replies) > 1:
            badges.append(tag("span", f"{len(provenance.replies)} replies", class_="badge"))
    if provenance.prefill:
        badges.append(tag("span", "prefilled", class_="badge"))
    if provenance.interrupted:
        badges.append(tag("span", "interrupted", class_="badge warn"))
    return tag("span", badges, class_="badges")


def render_turn(
    turn: Turn, number: int, *, extra_class: str = "", body: Markup | None = None
) -> Markup:
    """A turn as an article: who wrote it (and how), then its blocks.

    ``body`` replaces the blocks (a comparison passes the word-diffed text);
    the header and the ``#turn-N`` anchor are the same either way.
    """
    synthetic = " synthetic" if turn.synthetic else ""
    header = tag(
        "header",
        tag("span", turn.role, class_="role"),
        tag("a", f"#{number}", href=f"#turn-{number}", class_="number"),
        turn_badges(turn),
    )
    return tag(
        "article",
        header,
        tag("div", _blocks(turn.blocks) if body is None else body, class_="blocks"),
        class_=f"turn {turn.role}{synthetic}{extra_class}",
        id=f"turn-{number}",
    )
