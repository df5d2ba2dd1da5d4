"""Recognise media types and read image dimensions from raw bytes.

The Messages API accepts images and PDFs as base64 blocks whose declared media type must
match the content, and it resizes large images; knowing the real type and pixel size up
front lets callers fail early and estimate cost. Only the file headers are read, with
plain byte arithmetic, so no imaging library is needed. Every function returns None for
anything it does not understand and never raises for any ``bytes`` input.
"""

from typing import Final

__all__ = ["IMAGE_MEDIA_TYPES", "image_size", "pdf_problem", "sniff_media_type"]

IMAGE_MEDIA_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PNG_MAX_DIMENSION: Final = 2**31 - 1

# JPEG markers that stand alone (no length field): TEM, RST0-RST7 and SOI.
_JPEG_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})
# Start-of-frame markers SOF0-SOF15; C4 (DHT), C8 (JPG) and CC (DAC) share the range.
_JPEG_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_SOS: Final = 0xDA
_JPEG_EOI: Final = 0xD9
# Length (2) + sample precision (1) + height (2) + width (2) + component count (1).
_JPEG_SOF_MIN_LENGTH: Final = 8


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type named by the magic bytes at the start of ``data``, or None.

    Declared media types are often wrong (a ".png" that is really a JPEG), and the API
    rejects a mismatch, so the content itself is the reliable source.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


_PDF_EOF: Final = b"%%EOF"
# PDF readers look for the end-of-file marker within the last 1024 bytes (PDF 1.7, 7.5.5).
_PDF_TAIL: Final = 1024


def pdf_problem(data: bytes) -> str | None:
    """What makes ``data`` not a whole PDF, or None when it looks whole.

    A PDF starts with ``%PDF-`` and a ``major.minor`` version and ends with
    ``%%EOF`` (within its last 1024 bytes, after which readers stop looking);
    a file cut short in transfer or on disk has no such end. Only these two
    marks are checked, not the body.
    """
    if not data.startswith(b"%PDF-"):
        return "it does not start with %PDF-"
    version = data[5:8]
    if len(version) < 3 or not (
        version[:1].isdigit() and version[1:2] == b"." and version[2:3].isdigit()
    ):
        return "its header has no version after %PDF- (such as %PDF-1.7)"
    if _PDF_EOF not in data[-_PDF_TAIL:]:
        return "it is cut short: there is no %%EOF marker at its end"
    return None


def image_size(data: bytes, media_type: str) -> tuple[int, int] | None:
    """Return ``(width, height)`` in pixels from the header of an image of ``media_type``.

    Returns None for a non-image media type, for data that does not carry that type's
    signature, and for a header that is truncated or inconsistent; dimensions returned
    are always positive.
    """
    match media_type:
        case "image/png":
            return _png_size(data)
        case "image/gif":
            return _gif_size(data)
        case "image/jpeg":
            return _jpeg_size(data)
        case "image/webp":
            return _webp_size(data)
        case _:
            return None


def _positive(width: int, height: int) -> tuple[int, int] | None:
    """Return the pair if both dimensions are positive, since zero means "unknown" or bad."""
    return (width, height) if width > 0 and height > 0 else None


def _png_size(data: bytes) -> tuple[int, int] | None:
    """Read the size from the IHDR chunk, which the PNG spec requires to come first."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE):
        return None
    if data[8:12] != b"\x00\x00\x00\x0d" or data[12:16] != b"IHDR":
        return None
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    if width > _PNG_MAX_DIMENSION or height > _PNG_MAX_DIMENSION:
        return None
    return _positive(width, height)


def _gif_size(data: bytes) -> tuple[int, int] | None:
    """Read the size from the logical screen descriptor right after the 6-byte signature."""
    if len(data) < 10 or not data.startswith((b"GIF87a", b"GIF89a")):
        return None
    return _positive(int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little"))


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Walk the marker segments from SOI to the first start-of-frame and read its size.

    Fill bytes (0xFF runs) and standalone markers are skipped, other segments are jumped
    over by their length. Every step moves strictly forward, so the walk ends after at most
    ``len(data)`` steps whatever the input. Reaching scan data (SOS) or EOI first, a
    missing marker where one is due, or a bad length gives None.
    """
    if not data.startswith(b"\xff\xd8"):
        return None
    end = len(data)
    pos = 2
    while pos < end:
        if data[pos] != 0xFF:
            return None
        while pos < end and data[pos] == 0xFF:
            pos += 1
        if pos >= end:
            return None
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0x00, _JPEG_SOS, _JPEG_EOI) or pos + 2 > end:
            return None
        length = int.from_bytes(data[pos : pos + 2], "big")
        if marker in _JPEG_SOF:
            if length < _JPEG_SOF_MIN_LENGTH or pos + 7 > end:
                return None
            height = int.from_bytes(data[pos + 3 : pos + 5], "big")
            width = int.from_bytes(data[pos + 5 : pos + 7], "big")
            return _positive(width, height)
        if length < 2:
            return None
        pos += length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    """Read the size from the first chunk of a RIFF/WEBP file, whichever of the three kinds.

    VP8 (lossy) and VP8L (lossless) hold a single image; VP8X (extended) announces the
    canvas size of an animated or layered image.
    """
    if len(data) < 20 or not data.startswith(b"RIFF") or data[8:12] != b"WEBP":
        return None
    payload = data[20:]
    match data[12:16]:
        case b"VP8 ":
            return _vp8_size(payload)
        case b"VP8L":
            return _vp8l_size(payload)
        case b"VP8X":
            return _vp8x_size(payload)
        case _:
            return None


def _vp8_size(payload: bytes) -> tuple[int, int] | None:
    """Read the 14-bit dimensions after a key frame's 3-byte tag and 9D 01 2A start code.

    The top two bits of each 16-bit field are an upscaling hint, not part of the size.
    """
    if len(payload) < 10 or payload[0] & 0x01 or payload[3:6] != b"\x9d\x01\x2a":
        return None
    width = int.from_bytes(payload[6:8], "little") & 0x3FFF
    height = int.from_bytes(payload[8:10], "little") & 0x3FFF
    return _positive(width, height)


def _vp8l_size(payload: bytes) -> tuple[int, int] | None:
    """Read width-1 and height-1 (14 bits each) packed after the 0x2F signature byte.

    The 32-bit little-endian field is width-1, height-1, one alpha bit and a 3-bit version
    that must be zero.
    """
    if len(payload) < 5 or payload[0] != 0x2F:
        return None
    bits = int.from_bytes(payload[1:5], "little")
    if bits >> 29:
        return None
    return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1


def _vp8x_size(payload: bytes) -> tuple[int, int] | None:
    """Read the 24-bit canvas width-1 and height-1 that follow 4 bytes of flags."""
    if len(payload) < 10:
        return None
    width = int.from_bytes(payload[4:7], "little") + 1
    height = int.from_bytes(payload[7:10], "little") + 1
    return width, height
