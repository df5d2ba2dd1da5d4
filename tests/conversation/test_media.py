"""Tests for conversation._media: media-type sniffing and header-only image sizes."""

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversation._media import IMAGE_MEDIA_TYPES, image_size, sniff_media_type
from tests.images import (
    APP0_JFIF,
    APP1_EXIF,
    DHT,
    DQT,
    JPEG_SOF_MARKERS,
    PNG_SIGNATURE,
    SOS_AND_EOI,
    gif,
    jpeg,
    jpeg_header_length,
    png,
    png_chunk,
    riff_webp,
    segment,
    sof,
    webp_vp8,
    webp_vp8l,
    webp_vp8x,
)


@dataclass(frozen=True)
class Format:
    """One image format under test: how to build it and what a reader needs."""

    build: Callable[[int, int], bytes]
    media_type: str
    header_length: Callable[[bytes], int]  # leading bytes needed to read the size
    limit: int  # largest dimension the header can encode


FORMATS = [
    pytest.param(Format(png, "image/png", lambda _: 24, 2**31 - 1), id="png"),
    pytest.param(Format(gif, "image/gif", lambda _: 10, 2**16 - 1), id="gif"),
    pytest.param(Format(jpeg, "image/jpeg", jpeg_header_length, 2**16 - 1), id="jpeg"),
    pytest.param(Format(webp_vp8, "image/webp", lambda _: 30, 2**14 - 1), id="vp8"),
    pytest.param(Format(webp_vp8l, "image/webp", lambda _: 25, 2**14), id="vp8l"),
    pytest.param(Format(webp_vp8x, "image/webp", lambda _: 30, 2**24), id="vp8x"),
]
MEDIA_TYPES = [*sorted(IMAGE_MEDIA_TYPES), "application/pdf", "text/plain", ""]


def assert_none_or_positive(result: tuple[int, int] | None) -> None:
    """Check the result contract: None, or a pair of positive ints."""
    if result is not None:
        width, height = result
        assert width > 0
        assert height > 0


# --- sniff_media_type --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg(1, 1), "image/jpeg"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (png(1, 1), "image/png"),
        (gif(1, 1, b"87a"), "image/gif"),
        (gif(1, 1, b"89a"), "image/gif"),
        (webp_vp8(1, 1), "image/webp"),
        (webp_vp8l(1, 1), "image/webp"),
        (webp_vp8x(1, 1), "image/webp"),
        (b"RIFF\x00\x00\x00\x00WEBP", "image/webp"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    ],
)
def test_sniff_recognises_magic_bytes(data: bytes, expected: str) -> None:
    """Each supported format is identified from its magic bytes alone."""
    assert sniff_media_type(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",
        b"\xff\xd8\x00",
        PNG_SIGNATURE[:-1],
        b"\x89PNG\r\n\x00\n",
        b"GIF88a",
        b"GIF8",
        b"RIFF\x00\x00\x00\x00WAVE",
        b"RIFF\x00\x00\x00\x00WEB",
        b"RIFF",
        b"%PDF",
        b"%PDF1.7",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"\x00\x00\x00\x0cjP  \r\n\x87\n",
    ],
)
def test_sniff_returns_none_for_unknown_or_short_data(data: bytes) -> None:
    """Data that does not carry a complete supported signature is not identified."""
    assert sniff_media_type(data) is None


def test_image_media_types_are_exactly_the_four_image_formats() -> None:
    """The exported constant names the four image types and is immutable."""
    assert frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}) == IMAGE_MEDIA_TYPES
    assert isinstance(IMAGE_MEDIA_TYPES, frozenset)


@pytest.mark.parametrize("fmt", FORMATS)
def test_sniffed_image_types_are_image_media_types(fmt: Format) -> None:
    """Every image format sniffs to a member of IMAGE_MEDIA_TYPES; PDF does not."""
    assert sniff_media_type(fmt.build(3, 4)) == fmt.media_type
    assert fmt.media_type in IMAGE_MEDIA_TYPES
    assert "application/pdf" not in IMAGE_MEDIA_TYPES


@given(st.binary(max_size=64))
def test_sniff_never_raises(data: bytes) -> None:
    """Any bytes sniff to None or one of the five known media types."""
    assert sniff_media_type(data) in {*IMAGE_MEDIA_TYPES, "application/pdf", None}


# --- image_size on valid files -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=st.data())
def test_size_round_trips_for_every_format(fmt: Format, data: st.DataObject) -> None:
    """The size written into a header is the size read back, for 1..20000 or the format limit."""
    width = data.draw(st.integers(1, min(fmt.limit, 20000)), label="width")
    height = data.draw(st.integers(1, min(fmt.limit, 20000)), label="height")
    assert image_size(fmt.build(width, height), fmt.media_type) == (width, height)


@pytest.mark.parametrize("fmt", FORMATS)
def test_size_at_format_limits(fmt: Format) -> None:
    """The smallest and largest encodable sizes are read without overflow or off-by-one."""
    assert image_size(fmt.build(1, 1), fmt.media_type) == (1, 1)
    assert image_size(fmt.build(fmt.limit, 1), fmt.media_type) == (fmt.limit, 1)
    assert image_size(fmt.build(1, fmt.limit), fmt.media_type) == (1, fmt.limit)


@pytest.mark.parametrize("marker", JPEG_SOF_MARKERS, ids=hex)
def test_jpeg_size_from_every_sof_kind(marker: int) -> None:
    """Baseline, progressive, lossless and arithmetic SOF markers all carry the size."""
    data = jpeg(640, 480, marker)
    assert image_size(data, "image/jpeg") == (640, 480)


@pytest.mark.parametrize("marker", [0xC4, 0xC8, 0xCC], ids=hex)
def test_jpeg_dht_jpg_dac_are_not_frames(marker: int) -> None:
    """C4, C8 and CC lie in the SOF range but are skipped, so their bytes are not a size."""
    decoy = segment(marker, struct.pack(">BHHB", 8, 111, 222, 1) + b"\x01\x11\x00")
    assert image_size(jpeg(640, 480, before=decoy), "image/jpeg") == (640, 480)


def test_jpeg_fill_bytes_before_markers_are_skipped() -> None:
    """Runs of 0xFF fill bytes before a marker are allowed and ignored."""
    data = b"\xff\xd8" + b"\xff" * 5 + APP0_JFIF + b"\xff\xff" + sof(800, 600) + SOS_AND_EOI
    assert image_size(data, "image/jpeg") == (800, 600)


def test_jpeg_exif_app1_before_sof() -> None:
    """A camera-style EXIF APP1 segment (containing 0xFF bytes) is jumped over by length."""
    data = jpeg(4032, 3024, 0xC0, before=APP1_EXIF + APP0_JFIF + DQT)
    assert image_size(data, "image/jpeg") == (4032, 3024)


def test_jpeg_standalone_markers_before_sof_are_skipped() -> None:
    """TEM, RST0-RST7 and a repeated SOI carry no length and are stepped over."""
    standalone = b"".join(bytes([0xFF, m]) for m in [0x01, *range(0xD0, 0xD8), 0xD8])
    data = jpeg(320, 200, before=APP0_JFIF + standalone + DQT)
    assert image_size(data, "image/jpeg") == (320, 200)


NON_SOF_SEGMENT_MARKERS = [0xC4, 0xC8, 0xCC, 0xDB, 0xDD, 0xFE, *range(0xE0, 0xF0)]
STANDALONE_MARKERS = [0x01, *range(0xD0, 0xD9)]


@given(
    parts=st.lists(
        st.one_of(
            st.tuples(st.sampled_from(NON_SOF_SEGMENT_MARKERS), st.binary(max_size=40)),
            st.tuples(st.sampled_from(STANDALONE_MARKERS), st.none()),
        ),
        max_size=8,
    ),
    fill=st.integers(0, 3),
    sof_marker=st.sampled_from(JPEG_SOF_MARKERS),
    width=st.integers(1, 20000),
    height=st.integers(1, 20000),
)
def test_jpeg_size_found_after_arbitrary_segments(
    parts: list[tuple[int, bytes | None]], fill: int, sof_marker: int, width: int, height: int
) -> None:
    """Whatever non-frame segments, standalone markers and fill precede the SOF, it is found."""
    before = b"".join(
        b"\xff" * fill + (bytes([0xFF, m]) if payload is None else segment(m, payload))
        for m, payload in parts
    )
    data = b"\xff\xd8" + before + b"\xff" * fill + sof(width, height, sof_marker)
    assert image_size(data, "image/jpeg") == (width, height)


def test_vp8_scale_bits_are_not_part_of_the_size() -> None:
    """The two upscaling bits above each 14-bit VP8 dimension are masked off."""
    data = webp_vp8(0xC000 | 300, 0x4000 | 200)
    assert image_size(data, "image/webp") == (300, 200)


# --- image_size on malformed input -------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_truncation_is_none_until_the_size_is_complete(fmt: Format) -> None:
    """Each prefix shorter than the size fields gives None; each longer one gives the size."""
    data = fmt.build(1234, 567)
    cut = fmt.header_length(data)
    for length in range(len(data) + 1):
        expected = (1234, 567) if length >= cut else None
        assert image_size(data[:length], fmt.media_type) == expected, length


@pytest.mark.parametrize("fmt", FORMATS)
def test_mismatched_or_non_image_media_type_gives_none(fmt: Format) -> None:
    """A valid image read as another type, or as a non-image type, has no size."""
    data = fmt.build(10, 20)
    for other in MEDIA_TYPES:
        if other != fmt.media_type:
            assert image_size(data, other) is None, other


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(0, 5), "image/png"),
        (png(5, 0), "image/png"),
        (png(2**31, 5), "image/png"),
        (png(5, 2**32 - 1), "image/png"),
        (PNG_SIGNATURE + png_chunk(b"sRGB", b"\x00") + png(5, 5)[8:], "image/png"),
        (PNG_SIGNATURE + png_chunk(b"IHDR", struct.pack(">II", 5, 5)), "image/png"),
        (gif(0, 5), "image/gif"),
        (gif(5, 0), "image/gif"),
        (gif(5, 5, b"88a"), "image/gif"),
        (jpeg(0, 480), "image/jpeg"),
        (jpeg(640, 0), "image/jpeg"),
        (
            b"\xff\xd8" + APP0_JFIF + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + sof(5, 5),
            "image/jpeg",
        ),
        (b"\xff\xd8\xff\xd9" + sof(5, 5), "image/jpeg"),
        (b"\xff\xd8" + APP0_JFIF + b"\x00" + sof(5, 5), "image/jpeg"),
        (b"\xff\xd8\xff\x00" + sof(5, 5), "image/jpeg"),
        (b"\xff\xd8\xff\xe0\x00\x01" + sof(5, 5), "image/jpeg"),
        (b"\xff\xd8\xff\xe0\x00\x00" + sof(5, 5), "image/jpeg"),
        (b"\xff\xd8\xff\xc0\x00\x07\x08\x00\x05\x00\x05", "image/jpeg"),
        (b"\xff\xd8" + APP0_JFIF + DQT + DHT, "image/jpeg"),
        (webp_vp8(0, 5), "image/webp"),
        (webp_vp8(5, 0x4000), "image/webp"),
        (webp_vp8(5, 5).replace(b"\x9d\x01\x2a", b"\x9d\x01\x2b"), "image/webp"),
        (riff_webp(b"VP8 ", b"\x01\x00\x00\x9d\x01\x2a\x05\x00\x05\x00"), "image/webp"),
        (riff_webp(b"VP8L", b"\x2e" + struct.pack("<I", 0)), "image/webp"),
        (riff_webp(b"VP8L", b"\x2f" + struct.pack("<I", 1 << 29)), "image/webp"),
        (riff_webp(b"VP8L", b"\x2f" + struct.pack("<I", 1 << 31)), "image/webp"),
        (riff_webp(b"VP8Z", b"\x10\x00\x00\x00" + bytes(6)), "image/webp"),
        (riff_webp(b"ALPH", b"\x00" * 10), "image/webp"),
        (webp_vp8x(5, 5).replace(b"WEBP", b"WAVE"), "image/webp"),
        (webp_vp8x(5, 5).replace(b"RIFF", b"RIFX"), "image/webp"),
    ],
)
def test_inconsistent_headers_give_none(data: bytes, media_type: str) -> None:
    """Zero or out-of-range sizes, wrong chunk order, bad codes and bad lengths give None."""
    assert image_size(data, media_type) is None


def test_malformed_case_fixtures_parse_once_the_defect_is_removed() -> None:
    """The building blocks of the malformed cases are valid on their own, so None above is
    caused by the defect alone."""
    assert image_size(b"\xff\xd8" + sof(5, 5), "image/jpeg") == (5, 5)
    minimal_sof = b"\xff\xd8\xff\xc0\x00\x08\x08\x00\x05\x00\x05\x01"
    assert image_size(minimal_sof, "image/jpeg") == (5, 5)
    version_zero_vp8l = riff_webp(b"VP8L", b"\x2f" + struct.pack("<I", 1 << 28))
    assert image_size(version_zero_vp8l, "image/webp") == (1, 1)


@given(data=st.binary(max_size=128), media_type=st.sampled_from(MEDIA_TYPES))
def test_random_bytes_never_raise(data: bytes, media_type: str) -> None:
    """Arbitrary bytes under any media type give None or a positive size, never an error."""
    assert_none_or_positive(image_size(data, media_type))


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=st.data())
def test_valid_prefix_with_random_tail_never_raises(fmt: Format, data: st.DataObject) -> None:
    """A valid file cut anywhere plus random bytes never raises, and keeps its size if the
    cut left the whole header."""
    valid = fmt.build(77, 66)
    cut = data.draw(st.integers(0, len(valid)), label="cut")
    tail = data.draw(st.binary(max_size=64), label="tail")
    result = image_size(valid[:cut] + tail, fmt.media_type)
    assert_none_or_positive(result)
    if cut >= fmt.header_length(valid):
        assert result == (77, 66)


@pytest.mark.parametrize("fmt", FORMATS)
@given(data=st.data())
def test_single_byte_corruption_never_raises(fmt: Format, data: st.DataObject) -> None:
    """Overwriting any one byte of a valid file gives None or a positive size, never an error."""
    valid = bytearray(fmt.build(77, 66))
    index = data.draw(st.integers(0, len(valid) - 1), label="index")
    valid[index] = data.draw(st.integers(0, 255), label="value")
    assert_none_or_positive(image_size(bytes(valid), fmt.media_type))


@given(st.binary(max_size=256))
def test_jpeg_walk_on_random_segments_never_raises(tail: bytes) -> None:
    """The JPEG segment walker survives arbitrary bytes after a SOI marker."""
    assert_none_or_positive(image_size(b"\xff\xd8" + tail, "image/jpeg"))


# --- the JPEG walk is bounded ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8" + b"\xff\xfe\x00\x02" * 250_000 + sof(9, 7), (9, 7)),
        (b"\xff\xd8" + b"\xff\xfe\x00\x02" * 250_000, None),
        (b"\xff\xd8" + b"\xff" * 1_000_000, None),
        (b"\xff\xd8" + b"\xff\xd0" * 500_000, None),
    ],
    ids=["empty-comments-then-sof", "empty-comments-only", "fill-only", "restart-markers-only"],
)
def test_jpeg_walk_is_linear_on_pathological_input(
    data: bytes, expected: tuple[int, int] | None
) -> None:
    """A megabyte of tiny segments, fill bytes or standalone markers gives the right answer
    after reading each byte at most a few times (a walk that rescans or copies the rest of
    the data at each step reads it a million times over)."""
    counted = CountingBytes(data)
    assert image_size(counted, "image/jpeg") == expected
    assert counted.read <= 3 * len(data)


class CountingBytes(bytes):
    """Bytes that count how many bytes indexing and slicing read from them."""

    read = 0

    def __getitem__(self, index: Any) -> Any:
        value = super().__getitem__(index)
        self.read += len(value) if isinstance(value, bytes) else 1
        return value
