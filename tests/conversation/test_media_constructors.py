"""The media constructors refuse what the API could not use, each with what to do.

An image whose header is cut short (a PNG of only its signature), a URL the
API cannot fetch, an empty text document, a PDF cut short: each is refused
when the block is made, and a base64 image built around the constructors is
caught by the ``image_unreadable`` rule before sending.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation import (
    Base64Source,
    Conversation,
    ConversationError,
    Document,
    Image,
    MalformedInputError,
)
from conversation._sources import _MAX_HEAD_CHARS
from tests.images import (
    PNG_SIGNATURE,
    gif,
    jpeg,
    jpeg_header_length,
    png,
    webp_vp8,
    webp_vp8l,
    webp_vp8x,
)

OPTS: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64}
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"

# (a whole small image, how many leading bytes its size needs)
IMAGES: dict[str, tuple[bytes, int]] = {
    "png": (png(40, 30), 24),
    "gif": (gif(40, 30), 10),
    "jpeg": (jpeg(40, 30), jpeg_header_length(jpeg(40, 30))),
    "webp-vp8": (webp_vp8(40, 30), 30),
    "webp-vp8l": (webp_vp8l(40, 30), 25),
    "webp-vp8x": (webp_vp8x(40, 30), 30),
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- images from bytes ------------------------------------------------------------------


def test_a_png_of_only_its_signature_is_refused() -> None:
    with pytest.raises(MalformedInputError) as caught:
        Image.from_bytes(PNG_SIGNATURE)
    message = str(caught.value)
    assert "PNG" in message
    assert "8 bytes" in message
    assert "whole file" in message


@pytest.mark.parametrize(("data", "needed"), IMAGES.values(), ids=IMAGES.keys())
def test_every_image_cut_before_its_size_is_refused(data: bytes, needed: int) -> None:
    """Each format, cut anywhere before its size is in: refused; from there on: accepted."""
    for length in range(len(data) + 1):
        if length < needed:
            with pytest.raises(MalformedInputError):
                Image.from_bytes(data[:length])
        else:
            assert Image.from_bytes(data[:length]).size == (40, 30)


def test_from_path_refuses_a_truncated_image(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    path.write_bytes(png(40, 30)[:20])
    with pytest.raises(MalformedInputError, match="cut short"):
        Image.from_path(path)


@given(st.binary(max_size=64), st.sampled_from(list(IMAGES.values())))
def test_an_accepted_image_always_has_a_size_and_round_trips(
    tail: bytes, whole: tuple[bytes, int]
) -> None:
    """Any bytes: refused with the library's error, or an image whose size is known."""
    data = whole[0][: len(tail)] + tail
    try:
        image = Image.from_bytes(data)
    except ConversationError:
        return
    assert image.size is not None
    c = Conversation().user([image, "What is this?"])
    assert Conversation.loads(c.dumps()) == c
    if not c.violations(**OPTS):  # (a header may claim a size the API refuses)
        assert Conversation.from_payload(c.to_payload(**OPTS)) == c


# --- the image rule ------------------------------------------------------------------


def _rules(source_data: str, media_type: str = "image/png") -> list[str]:
    image = Image(Base64Source(media_type, source_data))
    return [v.rule for v in Conversation().user([image, "What is this?"]).violations(**OPTS)]


@pytest.mark.parametrize(
    "data",
    [b64(PNG_SIGNATURE), b64(png(40, 30)[:20]), b64(gif(4, 4)[:8]), "", "not base64!", "iVBO="],
)
def test_an_unreadable_base64_image_breaks_image_unreadable(data: str) -> None:
    assert _rules(data) == ["image_unreadable"]


def test_a_readable_image_passes_the_rule() -> None:
    for data, _ in IMAGES.values():
        assert _rules(b64(data)) == []


def test_an_unsupported_type_is_reported_once() -> None:
    assert _rules(b64(PNG_SIGNATURE), "image/bmp") == ["unsupported_media_type"]


def test_a_jpeg_whose_frame_lies_beyond_the_bound_is_not_blamed() -> None:
    """The reader stops looking after a bound; past it, the image gets the benefit of the doubt."""
    data = b64(b"\xff\xd8" + b"\xff\xe1\xff\xff" + bytes(65533) * 30)
    assert len(data) > _MAX_HEAD_CHARS
    assert "image_unreadable" not in _rules(data, "image/jpeg")


# --- URLs and file ids ------------------------------------------------------------------

MAKERS: dict[str, Callable[[Any], object]] = {
    "Image.from_url": Image.from_url,
    "Document.from_url": Document.from_url,
}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "",
        "cat.jpg",
        "/tmp/cat.jpg",
        "file:///tmp/cat.jpg",
        "ftp://example.com/cat.jpg",
        "https://",
        "https:///cat.jpg",
        " https://example.com/cat.jpg",
        "https://example.com/a cat.jpg",
        "https://example.com/\ncat.jpg",
        "http://[::1",
        "data:image/png;base64,iVBORw0KGgo=",
        None,
        42,
    ],
)
def test_a_url_the_api_cannot_fetch_is_refused(make: Callable[[Any], object], url: Any) -> None:
    with pytest.raises(MalformedInputError) as caught:
        make(url)
    assert "URL" in str(caught.value)


def test_a_data_url_points_to_from_bytes() -> None:
    with pytest.raises(MalformedInputError, match=r"Image\.from_bytes"):
        Image.from_url("data:image/png;base64,iVBORw0KGgo=")


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/cat.jpg",
        "http://localhost:8000/a.pdf",
        "https://upload.wikimedia.org/x/y.jpg?width=300#top",
        "https://[::1]:8443/a.png",
    ],
)
def test_fetchable_urls_pass(make: Callable[[Any], object], url: str) -> None:
    block = make(url)
    assert Conversation().user([block, "?"]).to_payload(**OPTS)["messages"][0]["content"][0][
        "source"
    ] == {"type": "url", "url": url}


@pytest.mark.parametrize("make", [Image.from_file_id, Document.from_file_id])
@pytest.mark.parametrize("file_id", ["", "file 1", " file_1", "file_1\n", None])
def test_a_file_id_that_cannot_be_one_is_refused(
    make: Callable[[Any], object], file_id: Any
) -> None:
    with pytest.raises(MalformedInputError, match=r"file id|id the Files API gave"):
        make(file_id)


def test_a_file_id_passes() -> None:
    assert Image.from_file_id("file_011CNha8iCJcU1wXNR6q4V8w").source.type == "file"


# --- documents ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_an_empty_text_document_is_refused(text: str) -> None:
    with pytest.raises(MalformedInputError, match="needs some text"):
        Document.from_text(text)


def test_an_empty_text_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("\n")
    with pytest.raises(MalformedInputError, match=r"notes\.txt"):
        Document.from_path(path)


@pytest.mark.parametrize("content", ["", "  ", [], ()])
def test_an_empty_content_document_is_refused(content: Any) -> None:
    with pytest.raises(MalformedInputError, match="needs some content"):
        Document.from_blocks(content)


def test_a_whole_pdf_passes() -> None:
    assert Document.from_bytes(PDF).source == Base64Source("application/pdf", b64(PDF))
    assert Document.from_bytes(PDF + b"\n" * 500).source.type == "base64"  # trailing lines


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"%PDF-", "no version"),
        (b"%PDF-x.y\n%%EOF", "no version"),
        (b"%PDF-1.7\n", "cut short"),
        (PDF[:-7], "cut short"),
        (PDF + b" " * 2000, "cut short"),
    ],
)
def test_a_pdf_that_is_not_whole_is_refused(data: bytes, problem: str) -> None:
    with pytest.raises(MalformedInputError, match=problem) as caught:
        Document.from_bytes(data)
    assert "whole file" in str(caught.value)


def test_every_cut_of_a_pdf_is_refused() -> None:
    for length in range(len(PDF) - 6):
        with pytest.raises(MalformedInputError):
            Document.from_bytes(PDF[:length])


@given(st.text(max_size=40) | st.from_regex(r"https?://[a-z0-9.\[\]:@%/?#-]{0,30}", fullmatch=True))
def test_any_url_is_refused_with_our_error_or_accepted_whole(url: str) -> None:
    try:
        image = Image.from_url(url)
    except ConversationError:
        return
    assert url.startswith(("http://", "https://"))
    c = Conversation().user([image, "?"])
    assert Conversation.from_payload(c.to_payload(**OPTS)) == c
