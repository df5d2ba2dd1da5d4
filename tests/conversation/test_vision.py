"""Tests for image dimensions: ``Image.size`` and the two dimension rules.

The images are real file headers (PNG, JPEG, GIF and the three WebP kinds) built
here at any size, with no pixel data: the size is read from the header alone, so
a "9000 px" image costs a few dozen bytes.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from conversation import (
    Base64Source,
    Conversation,
    Image,
    RuleViolationError,
    ToolResult,
    ToolUse,
)
from conversation._chain import CHUNK
from conversation._sources import _HEAD_CHARS, _MAX_HEAD_CHARS, _UNREAD
from tests import images

OPTS = {"model": "claude-sonnet-4-20250514", "max_tokens": 1024}

# -- header builders --------------------------------------------------------------


def png(width: int, height: int) -> bytes:
    """A PNG: signature, IHDR (8-bit RGB) with its CRC, an empty IDAT and IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def jpeg(width: int, height: int, *, app_bytes: int = 0) -> bytes:
    """A baseline JPEG: SOI, JFIF APP0, ``app_bytes`` of APP1 (EXIF-like) segments,
    an SOF0 frame header for 3 components, then EOI."""
    jfif = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    apps = b""
    while app_bytes > 0:
        size = min(app_bytes, 65533)
        apps += b"\xff\xe1" + struct.pack(">H", size + 2) + b"E" * size
        app_bytes -= size
    components = b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + components
    return b"\xff\xd8" + jfif + apps + sof + b"\xff\xd9"


def gif(width: int, height: int) -> bytes:
    """A GIF89a: logical screen descriptor, no colour table, trailer."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + b";"


def _riff(kind: bytes, payload: bytes) -> bytes:
    body = b"WEBP" + kind + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8x(width: int, height: int) -> bytes:
    """An extended WebP: flags, then 24-bit canvas width-1 and height-1."""
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _riff(b"VP8X", b"\x00\x00\x00\x00" + size)


def webp_vp8l(width: int, height: int) -> bytes:
    """A lossless WebP: 0x2F, then width-1 and height-1 in 14 bits each."""
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(b"VP8L", b"\x2f" + struct.pack("<I", bits))


def webp_vp8(width: int, height: int) -> bytes:
    """A lossy WebP key frame: frame tag, start code 9D 01 2A, 14-bit sizes."""
    return _riff(b"VP8 ", b"\x10\x00\x00\x9d\x01\x2a" + struct.pack("<HH", width, height))


BUILDERS: dict[str, Callable[[int, int], bytes]] = {
    "png": png,
    "jpeg": jpeg,
    "gif": gif,
    "webp-vp8x": webp_vp8x,
    "webp-vp8l": webp_vp8l,
    "webp-vp8": webp_vp8,
}
MEDIA = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp-vp8x": "image/webp",
    "webp-vp8l": "image/webp",
    "webp-vp8": "image/webp",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def wire_image(data: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return images.wire_image(b64(data), media_type)


def cached_size(source: Base64Source) -> object:
    """The size a source has cached (read anew each call, not narrowed by an earlier check)."""
    return source._size


def where(c: Conversation) -> list[tuple[str, int | None, int | None]]:
    return [(v.rule, v.turn, v.block) for v in c.violations(**OPTS)]


# -- Image.size ---------------------------------------------------------------------


class TestSize:
    @pytest.mark.parametrize("kind", list(BUILDERS))
    @pytest.mark.parametrize("size", [(1, 1), (640, 480), (2001, 17), (8001, 3)])
    def test_from_bytes_reads_the_header(self, kind: str, size: tuple[int, int]) -> None:
        """Every format gives its size, and from_bytes names the right media type."""
        image = Image.from_bytes(BUILDERS[kind](*size))
        assert image.size == size
        assert isinstance(image.source, Base64Source)
        assert image.source.media_type == MEDIA[kind]

    @pytest.mark.parametrize("kind", list(BUILDERS))
    def test_read_from_the_wire_is_lazy_then_cached(self, kind: str) -> None:
        """An image read from a dict reads its size on first use, once."""
        c = Conversation().user([wire_image(BUILDERS[kind](300, 200), MEDIA[kind])])
        image = c[0].blocks[0]
        assert isinstance(image, Image)
        assert isinstance(image.source, Base64Source)
        source = image.source
        assert source._size is _UNREAD
        assert image.size == (300, 200)
        assert cached_size(source) == (300, 200)

    def test_from_bytes_caches_at_construction(self) -> None:
        image = Image.from_bytes(png(10, 20))
        assert isinstance(image.source, Base64Source)
        assert image.source._size == (10, 20)

    def test_url_and_file_images_have_no_size(self) -> None:
        assert Image.from_url("https://example.com/cat.jpg").size is None
        assert Image.from_file_id("file_011CNha8iCJcU1wXNR6q4V8w").size is None

    @pytest.mark.parametrize(
        "data",
        ["", "not base64 at all!", b64(b"\x89PNG\r\n\x1a\n"), b64(b"%PDF-1.7 ..."), "iVBORw0K="],
    )
    def test_unreadable_data_has_no_size(self, data: str) -> None:
        """Truncated, non-image or broken base64 gives None, never an exception."""
        assert Image(Base64Source("image/png", data)).size is None

    def test_a_declared_type_that_lies_still_reads_the_bytes(self) -> None:
        """The size comes from what the bytes are, not from the declared media type."""
        assert Image(Base64Source("image/png", b64(gif(33, 44)))).size == (33, 44)

    def test_a_late_jpeg_frame_header_is_found(self) -> None:
        """A JPEG whose SOF lies past the first 64 KiB (big EXIF) is read further."""
        data = jpeg(4000, 9000, app_bytes=200_000)
        assert len(b64(data)) > _HEAD_CHARS
        assert Image(Base64Source("image/jpeg", b64(data))).size == (4000, 9000)

    def test_reading_is_bounded(self) -> None:
        """A frame header beyond the bound is not looked for: size None."""
        data = jpeg(9000, 9000, app_bytes=_MAX_HEAD_CHARS)
        assert len(b64(data)) > _MAX_HEAD_CHARS
        assert Image(Base64Source("image/jpeg", b64(data))).size is None

    def test_the_cache_is_not_part_of_the_value(self) -> None:
        """Eq, hash, repr, the wire and the save format ignore the cached size."""
        data = png(120, 80)
        built = Image.from_bytes(data)
        read = Conversation().user([wire_image(data)])[0].blocks[0]
        assert isinstance(read, Image)
        assert isinstance(read.source, Base64Source)
        assert read.source._size is _UNREAD
        assert built == read
        assert hash(built) == hash(read)
        assert repr(built) == repr(read)
        assert "120" not in repr(built)
        c = Conversation().user([built, "What is this?"])
        assert c.to_payload(**OPTS)["messages"][0]["content"][0] == wire_image(data)
        assert Conversation.loads(c.dumps()) == c

    def test_the_cache_field_is_not_an_argument(self) -> None:
        with pytest.raises(TypeError):
            Base64Source("image/png", b64(png(1, 1)), size=(1, 1))  # type: ignore[call-arg]


# -- the rules --------------------------------------------------------------------


class TestTooLargeDimensions:
    @pytest.mark.parametrize("kind", list(BUILDERS))
    @pytest.mark.parametrize("size", [(8001, 10), (10, 8001)])
    def test_a_side_over_8000_is_refused(self, kind: str, size: tuple[int, int]) -> None:
        c = Conversation().user(["Look:", Image.from_bytes(BUILDERS[kind](*size))])
        assert where(c) == [("image_too_large_dimensions", 0, 1)]
        with pytest.raises(RuleViolationError) as info:
            c.to_payload(**OPTS)
        assert "image_too_large_dimensions" in str(info.value)
        assert f"{size[0]} x {size[1]} px" in str(info.value)

    def test_8000_is_fine(self) -> None:
        c = Conversation().user([Image.from_bytes(png(8000, 8000)), "ok?"])
        assert where(c) == []

    def test_turn_and_block_index_in_a_later_turn(self) -> None:
        c = (
            Conversation()
            .user("hi")
            .assistant("hello")
            .user(["a", Image.from_bytes(gif(1, 1)), Image.from_bytes(jpeg(9000, 9000))])
        )
        assert where(c) == [("image_too_large_dimensions", 2, 2)]

    def test_inside_a_tool_result_it_is_reported_at_the_tool_result(self) -> None:
        c = (
            Conversation()
            .user("take a screenshot")
            .assistant([ToolUse("toolu_1", "computer", {"action": "screenshot"})])
            .user([ToolResult("toolu_1", [Image.from_bytes(png(8192, 100))])])
        )
        assert where(c) == [("image_too_large_dimensions", 2, 0)]

    def test_url_and_file_images_are_not_checked(self) -> None:
        c = Conversation().user(
            [Image.from_url("https://example.com/huge.png"), Image.from_file_id("file_1"), "?"]
        )
        assert where(c) == []


def images_turn(count: int, size: tuple[int, int]) -> list[Any]:
    return [Image.from_bytes(png(*size)) for _ in range(count)] + ["Compare them."]


class TestOver2000InMany:
    def test_21_images_of_2001_px_are_refused(self) -> None:
        c = Conversation().user(images_turn(21, (2001, 2001)))
        assert where(c) == [("image_over_2000px_in_many", 0, b) for b in range(21)]
        with pytest.raises(RuleViolationError, match="image_over_2000px_in_many"):
            c.to_json(**OPTS)

    def test_20_images_of_2001_px_are_fine(self) -> None:
        assert where(Conversation().user(images_turn(20, (2001, 2001)))) == []

    def test_21_images_of_2000_px_are_fine(self) -> None:
        assert where(Conversation().user(images_turn(21, (2000, 2000)))) == []

    def test_only_the_wide_ones_are_named(self) -> None:
        blocks = images_turn(20, (100, 100))
        blocks.insert(7, Image.from_bytes(webp_vp8x(640, 2001)))
        assert where(Conversation().user(blocks)) == [("image_over_2000px_in_many", 0, 7)]

    def test_url_images_count_toward_the_20(self) -> None:
        """Images whose size is unknown still count as images of the request."""
        blocks: list[Any] = [Image.from_url(f"https://example.com/{i}.png") for i in range(20)]
        c = Conversation().user([*blocks, Image.from_bytes(jpeg(3000, 100))])
        assert where(c) == [("image_over_2000px_in_many", 0, 20)]

    def test_across_turns_and_checkpoints(self) -> None:
        """An early wide image is reported once enough images arrive, many turns later,
        through the cached incremental scan and on a fresh rebuild alike."""
        c = Conversation().user([Image.from_bytes(png(2500, 10)), "first"])
        for i in range(CHUNK * 2):
            c = c.assistant(f"reply {i}").user(f"turn {i}")
        assert where(c) == []
        before = c
        for _ in range(20):
            c = c.assistant("ok").user([Image.from_bytes(gif(10, 10)), "another"])
        assert where(c) == [("image_over_2000px_in_many", 0, 0)]
        rebuilt = Conversation.from_payload(_body(c))
        assert where(rebuilt) == [("image_over_2000px_in_many", 0, 0)]
        assert where(before) == []  # the branch it grew from is unchanged


def _body(c: Conversation) -> dict[str, Any]:
    """The messages of ``c`` without running the rules (to rebuild from scratch)."""
    return {"messages": [_turn_dict(t) for t in c]}


def _turn_dict(turn: Any) -> dict[str, Any]:
    from conversation._wire import unstructure_block

    content = turn.content
    return {
        "role": turn.role,
        "content": content if isinstance(content, str) else [unstructure_block(b) for b in content],
    }


# -- the wire ---------------------------------------------------------------------


class TestVisionPayload:
    def test_several_images_then_text_is_the_api_example(self) -> None:
        """Image blocks then the question, exactly as the API's vision example sends it."""
        cat, ant = jpeg(1024, 768), png(800, 600)
        c = Conversation().user(
            [Image.from_bytes(cat), Image.from_bytes(ant), "How are these images different?"]
        )
        assert c.to_payload(**OPTS) == {
            **OPTS,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        wire_image(cat, "image/jpeg"),
                        wire_image(ant),
                        {"type": "text", "text": "How are these images different?"},
                    ],
                }
            ],
        }

    def test_labelled_images_keep_their_order(self) -> None:
        one, two = gif(5, 5), webp_vp8l(7, 9)
        c = Conversation().user(
            ["Image 1:", Image.from_bytes(one), "Image 2:", Image.from_bytes(two), "Differences?"]
        )
        content = c.to_payload(**OPTS)["messages"][0]["content"]
        assert [b["type"] for b in content] == ["text", "image", "text", "image", "text"]
        assert content[1]["source"]["data"] == b64(one)
        assert content[3]["source"]["media_type"] == "image/webp"

    def test_url_and_file_images_are_unaffected(self) -> None:
        c = Conversation().user(
            [
                Image.from_url("https://upload.wikimedia.org/ant.jpg"),
                Image.from_file_id("file_011CNha8iCJcU1wXNR6q4V8w"),
                "Describe both.",
            ]
        )
        assert c.to_payload(**OPTS)["messages"][0]["content"] == [
            {
                "type": "image",
                "source": {"type": "url", "url": "https://upload.wikimedia.org/ant.jpg"},
            },
            {
                "type": "image",
                "source": {"type": "file", "file_id": "file_011CNha8iCJcU1wXNR6q4V8w"},
            },
            {"type": "text", "text": "Describe both."},
        ]
