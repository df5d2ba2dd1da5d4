"""The sources of images and documents that hold no blocks, and the checks of
what the media constructors are given (bytes, a path, a URL, a file id).

A source is where the bytes of an image or document are: inline base64, a URL,
an uploaded file, inline text. The source that holds content blocks, and the
one for unknown source types, stay with the blocks (``_blocks.py``), since
both read block dicts.
"""

from __future__ import annotations

import base64
import os
import urllib.parse
from typing import Any, ClassVar

import attrs

from ._fields import as_extra as _extra
from ._fields import as_text as _text
from ._fields import must_be as _is
from ._fields import no_known_keys as _no_known_keys
from ._json import EMPTY, FrozenDict
from ._media import IMAGE_MEDIA_TYPES, image_size, pdf_problem, sniff_media_type
from ._read import WIRE_ORDER, WIRE_REQUIRED
from .errors import MalformedInputError, quote, type_name

__all__ = [
    "Base64Source",
    "FileSource",
    "TextSource",
    "URLSource",
    "b64",
    "checked_file_id",
    "checked_url",
    "document_file",
    "image_source",
    "pdf_source",
    "read_file",
]


# Base64 characters decoded to read an image header: 64 KiB of bytes holds the
# header of any PNG, GIF or WebP, and the start-of-frame of almost every JPEG.
_HEAD_CHARS = 65536 // 3 * 4
# A JPEG whose frame header comes later (large EXIF or ICC segments) is read again
# up to this many characters (about 1.5 MiB of bytes), no further.
_MAX_HEAD_CHARS = 2**21


class _Unread:
    """The type of :data:`_UNREAD`: "the image size has not been read yet"."""

    def __repr__(self) -> str:
        return "<unread>"


_UNREAD = _Unread()


def _head_size(data: str) -> tuple[int, int] | None:
    """The pixel size from the header of base64 ``data``, decoding only its start.

    Reads :data:`_HEAD_CHARS` characters first and more (bounded) only for a
    JPEG whose frame header lies beyond them; None for anything unreadable.
    """
    limit = _HEAD_CHARS
    while True:
        try:
            head = base64.b64decode(data[:limit])
        except ValueError:  # binascii.Error: a stray character shifted the quads
            return None
        kind = sniff_media_type(head)
        if kind not in IMAGE_MEDIA_TYPES:
            return None
        size = image_size(head, kind)
        if size is not None or kind != "image/jpeg" or limit >= min(len(data), _MAX_HEAD_CHARS):
            return size
        limit = min(limit * 8, _MAX_HEAD_CHARS)


@attrs.frozen
class Base64Source:
    """Inline bytes, base64-encoded, of an image or a PDF."""

    type: ClassVar[str] = "base64"
    media_type: str = attrs.field(converter=_text, validator=_is(str, "a media type string"))
    data: str = attrs.field(
        converter=_text, validator=_is(str, "a base64 string"), repr=lambda d: f"<{len(d)} chars>"
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )
    # The image's pixel size, read once from the header and kept: a cache, not a
    # field (never compared, hashed, shown, saved or sent).
    _size: tuple[int, int] | _Unread | None = attrs.field(
        default=_UNREAD, init=False, eq=False, hash=False, repr=False
    )

    @property
    def raw(self) -> bytes:
        """The decoded bytes."""
        return base64.b64decode(self.data)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """``(width, height)`` from the image header, or None if not a readable image.

        Decodes only the start of ``data`` (see :func:`_head_size`), once per source.
        """
        size = self._size
        if isinstance(size, _Unread):
            size = _head_size(self.data)
            object.__setattr__(self, "_size", size)
        return size


@attrs.frozen
class URLSource:
    """A file the API fetches from a URL."""

    type: ClassVar[str] = "url"
    url: str = attrs.field(converter=_text, validator=_is(str, "a URL string"))
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


@attrs.frozen
class FileSource:
    """A file uploaded through the Files API (beta)."""

    type: ClassVar[str] = "file"
    file_id: str = attrs.field(converter=_text, validator=_is(str, "a file id string"))
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


@attrs.frozen
class TextSource:
    """A plain-text document, inline."""

    type: ClassVar[str] = "text"
    data: str = attrs.field(converter=_text, validator=_is(str, "a string"))
    media_type: str = attrs.field(
        default="text/plain",
        converter=_text,
        validator=_is(str, "a media type string"),
        # written before ``data``, as the API's examples do; the wire always has it
        metadata={WIRE_ORDER: -1, WIRE_REQUIRED: True},
    )
    extra: FrozenDict = attrs.field(
        default=EMPTY, converter=_extra, validator=_no_known_keys, kw_only=True, repr=False
    )


def read_file(path: str | os.PathLike[str]) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise MalformedInputError(f"cannot read {os.fspath(path)!r}: {exc.strerror}") from exc


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checked_url(url: Any, where: str, kind: str) -> str:
    """``url`` if the API can fetch it (an http or https URL with a host), else raise.

    ``where`` names the constructor and ``kind`` what it makes, for the message.
    """
    if not isinstance(url, str):
        raise MalformedInputError(f"{where} takes a URL string, got {type(url).__name__}")
    try:
        parts = urllib.parse.urlsplit(url) if url.isprintable() and url == url.strip() else None
        host = parts.hostname if parts is not None else None
    except ValueError:  # a malformed authority, such as "http://[::1"
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host or " " in url:
        hint = (
            f"pass the decoded bytes to {kind}.from_bytes instead"
            if url.startswith("data:")
            else f"for a file on disk use {kind}.from_path, for bytes {kind}.from_bytes"
        )
        raise MalformedInputError(
            f"{where} needs an http:// or https:// URL the API can fetch "
            f"(such as 'https://example.com/file'), got {url!r:.100}; {hint}"
        )
    return url


def checked_file_id(file_id: Any, where: str) -> str:
    """``file_id`` if it can name an uploaded file (non-empty, no whitespace), else raise."""
    if not isinstance(file_id, str):
        raise MalformedInputError(f"{where} takes a file id string, got {type(file_id).__name__}")
    if not file_id or not file_id.isprintable() or any(c.isspace() for c in file_id):
        raise MalformedInputError(
            f"{where} needs the id the Files API gave the upload (such as 'file_011C...'), "
            f"got {file_id!r:.100}"
        )
    return file_id


def image_source(data: bytes, media_type: str | None) -> Base64Source:
    """The source of :meth:`Image.from_bytes <conversation.Image.from_bytes>`, its
    pixel size kept; raises for anything but a whole JPEG, PNG, GIF or WebP."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInputError(f"image data must be bytes, got {type_name(data)}")
    data = bytes(data)
    sniffed = sniff_media_type(data)
    if sniffed not in IMAGE_MEDIA_TYPES:
        raise MalformedInputError(
            f"not a JPEG, PNG, GIF or WebP image (starts with {data[:8]!r}); "
            "the API accepts only these four image types"
        )
    if media_type is not None and media_type != sniffed:
        raise MalformedInputError(
            f"media_type {quote(media_type)} was given but the bytes are {sniffed}; "
            "omit media_type to use what the bytes say"
        )
    size = image_size(data, sniffed)
    if size is None:
        kind = sniffed.removeprefix("image/").upper()
        raise MalformedInputError(
            f"Image.from_bytes: this {kind} image is cut short or damaged: its header does "
            f"not give its size in pixels ({len(data):,} bytes given), and the API refuses "
            "an image it cannot decode; pass the whole file"
        )
    source = Base64Source(sniffed, b64(data))
    # The raw bytes are at hand: keep the size rather than decode again later.
    object.__setattr__(source, "_size", size)
    return source


def pdf_source(data: bytes) -> Base64Source:
    """The source of :meth:`Document.from_bytes <conversation.Document.from_bytes>`;
    raises for anything but a whole PDF."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInputError(f"document data must be bytes, got {type_name(data)}")
    data = bytes(data)
    if sniff_media_type(data) != "application/pdf":
        raise MalformedInputError(
            f"not a PDF (starts with {data[:8]!r}); use Document.from_text for plain text"
        )
    problem = pdf_problem(data)
    if problem is not None:
        raise MalformedInputError(
            f"Document.from_bytes: not a whole PDF: {problem} ({len(data):,} bytes given), "
            "and the API refuses a PDF it cannot read; pass the whole file"
        )
    return Base64Source("application/pdf", b64(data))


def document_file(path: str | os.PathLike[str]) -> bytes | str:
    """What :meth:`Document.from_path <conversation.Document.from_path>` reads: a PDF's
    bytes, or the file's UTF-8 text (not empty); raises for anything else."""
    data = read_file(path)
    if sniff_media_type(data) == "application/pdf":
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInputError(f"{os.fspath(path)!r} is neither a PDF nor UTF-8 text") from exc
    if not text.strip():
        raise MalformedInputError(
            f"{os.fspath(path)!r} is empty (or only whitespace): the API refuses an empty "
            "document; leave it out, or check that the file was written"
        )
    return text
