"""Tiny valid image files, built by hand from the format specs, for the media tests."""

from __future__ import annotations

import struct
import zlib
from typing import Any

__all__ = [
    "APP0_JFIF",
    "APP1_EXIF",
    "DHT",
    "DQT",
    "JPEG_SOF_MARKERS",
    "PNG_SIGNATURE",
    "SOS_AND_EOI",
    "gif",
    "jpeg",
    "jpeg_header_length",
    "png",
    "png_chunk",
    "riff_webp",
    "segment",
    "sof",
    "webp_vp8",
    "webp_vp8l",
    "webp_vp8x",
    "wire_image",
]


def wire_image(data: str, media_type: str = "image/png") -> dict[str, Any]:
    """The wire form of a base64 image block holding ``data`` (base64 text)."""
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOF_MARKERS = [m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    """Return a PNG chunk: length, type, payload and CRC over type + payload."""
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def png(width: int, height: int) -> bytes:
    """Return a minimal PNG: signature, IHDR (8-bit RGB) and IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def gif(width: int, height: int, version: bytes = b"89a") -> bytes:
    """Return a GIF header with a logical screen descriptor and no global colour table."""
    return b"GIF" + version + struct.pack("<HHBBB", width, height, 0, 0, 0) + b";"


def segment(marker: int, payload: bytes) -> bytes:
    """Return a JPEG marker segment whose length field counts itself plus the payload."""
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


APP0_JFIF = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
APP1_EXIF = segment(0xE1, b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + b"\x00\xff" * 300)
DQT = segment(0xDB, b"\x00" + bytes(range(64)))
DHT = segment(0xC4, b"\x00" + b"\x01" * 16 + b"\x00")
SOS_AND_EOI = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00") + b"\x12\x34\xff\x00\x56" + b"\xff\xd9"


def sof(width: int, height: int, marker: int = 0xC0) -> bytes:
    """Return a start-of-frame segment for a 3-component, 8-bit image."""
    components = b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return segment(marker, struct.pack(">BHHB", 8, height, width, 3) + components)


def jpeg(width: int, height: int, marker: int = 0xC0, before: bytes = APP0_JFIF + DQT) -> bytes:
    """Return SOI, the ``before`` segments, a SOF, a DHT, a short scan and EOI."""
    return b"\xff\xd8" + before + sof(width, height, marker) + DHT + SOS_AND_EOI


def riff_webp(fourcc: bytes, payload: bytes) -> bytes:
    """Return a RIFF/WEBP file holding one chunk, padded to an even size as RIFF requires."""
    chunk = fourcc + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_vp8(width: int, height: int) -> bytes:
    """Return a lossy WebP: key-frame tag (shown, partition size 7), start code, sizes."""
    tag = ((7 << 5) | (1 << 4)).to_bytes(3, "little")
    return riff_webp(b"VP8 ", tag + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(9))


def webp_vp8l(width: int, height: int) -> bytes:
    """Return a lossless WebP: 0x2F signature, packed width-1/height-1, alpha bit set."""
    bits = (width - 1) | (height - 1) << 14 | 1 << 28
    return riff_webp(b"VP8L", b"\x2f" + struct.pack("<I", bits) + bytes(4))


def webp_vp8x(width: int, height: int) -> bytes:
    """Return an extended WebP: flags, reserved bytes, 24-bit canvas width-1/height-1."""
    canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return riff_webp(b"VP8X", b"\x10\x00\x00\x00" + canvas)


def jpeg_header_length(data: bytes) -> int:
    """Return how many leading bytes of a built JPEG are needed to reach the SOF width."""
    return data.index(b"\xff\xc0") + 2 + 7
