"""How an Image or a Document is made from bytes, a file, a URL or an uploaded file id.

Each builds the block's source (checking the bytes, the URL or the id, see
``_sources.py``) and then the block. They are the classes' alternative
constructors, written here as mixins so that ``_blocks.py`` holds the fields.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Self

from ._sources import (
    FileSource,
    TextSource,
    URLSource,
    checked_file_id,
    checked_url,
    document_file,
    image_source,
    pdf_source,
    read_file,
)
from .errors import MalformedInputError

__all__ = ["DocumentConstructors", "ImageConstructors"]


class ImageConstructors:
    """The ways to make an :class:`~conversation.Image` other than from its source."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __init__(self, source: Any, **kw: Any) -> None: ...

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None, **kw: Any) -> Self:
        """An inline image; the media type is read from the magic bytes.

        Raises :class:`MalformedInputError` for anything but JPEG, PNG, GIF or
        WebP, when ``media_type`` contradicts the bytes, or when the header is
        cut short or damaged so that the image's pixel size cannot be read.
        """
        return cls(image_source(data, media_type), **kw)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **kw: Any) -> Self:
        """An inline image read from a file; the type comes from its bytes."""
        return cls.from_bytes(read_file(path), **kw)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> Self:
        """An image the API fetches from ``url`` (an http:// or https:// URL; else refused)."""
        return cls(URLSource(checked_url(url, "Image.from_url", "Image")), **kw)

    @classmethod
    def from_file_id(cls, file_id: str, **kw: Any) -> Self:
        """An image uploaded with the Files API (needs its beta header)."""
        return cls(FileSource(checked_file_id(file_id, "Image.from_file_id")), **kw)


class DocumentConstructors:
    """The ways to make a :class:`~conversation.Document` from bytes, text, a file or a URL."""

    __slots__ = ()

    if TYPE_CHECKING:

        def __init__(self, source: Any, **kw: Any) -> None: ...

    @classmethod
    def from_bytes(cls, data: bytes, **kw: Any) -> Self:
        """An inline PDF; anything that is not a whole PDF is refused.

        Whole means its ``%PDF-x.y`` header and its closing ``%%EOF`` are there
        (see :func:`~conversation._media.pdf_problem`).
        """
        return cls(pdf_source(data), **kw)

    @classmethod
    def from_text(cls, text: str, **kw: Any) -> Self:
        """A plain-text document; empty or whitespace-only text is refused."""
        if isinstance(text, str) and not text.strip():
            raise MalformedInputError(
                f"Document.from_text needs some text, got {text!r:.40}: the API refuses an "
                "empty document; leave the document out, or give it its text"
            )
        return cls(TextSource(text), **kw)

    @classmethod
    def from_path(cls, path: str | os.PathLike[str], **kw: Any) -> Self:
        """A PDF, or a UTF-8 text file, read from disk."""
        content = document_file(path)
        if isinstance(content, bytes):
            return cls.from_bytes(content, **kw)
        return cls.from_text(content, **kw)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> Self:
        """A PDF the API fetches from ``url`` (an http:// or https:// URL; else refused)."""
        return cls(URLSource(checked_url(url, "Document.from_url", "Document")), **kw)

    @classmethod
    def from_file_id(cls, file_id: str, **kw: Any) -> Self:
        """A document uploaded with the Files API."""
        return cls(FileSource(checked_file_id(file_id, "Document.from_file_id")), **kw)
