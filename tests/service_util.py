"""Small image makers shared by the service tests (unit and integration)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str = "JPEG", size=(40, 30), color=(10, 120, 200), exif=None, **kw) -> bytes:
    img = Image.new("RGB", size, color)
    # a left/right difference so orientation is checkable
    img.paste((250, 250, 0), (0, 0, size[0] // 4, size[1]))
    buf = io.BytesIO()
    if exif is not None:
        kw["exif"] = exif
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_with_gps_and_rotation() -> bytes:
    ex = Image.Exif()
    ex[0x0112] = 6  # orientation: rotate 90 CW to view
    ex[0x010F] = "CameraMaker"
    ex.get_ifd(0x8825)[2] = (51.0, 30.0, 0.0)  # GPSLatitude
    return ex.tobytes()


def png_header_only(w: int, h: int) -> bytes:
    """A PNG whose header claims w x h (a decompression bomb by its size) with a tiny IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + \
        chunk(b"IEND", b"")


def gif_two_frames() -> bytes:
    a = Image.new("P", (20, 20), 1)
    b = Image.new("P", (20, 20), 2)
    buf = io.BytesIO()
    a.save(buf, "GIF", save_all=True, append_images=[b])
    return buf.getvalue()


def heic_bytes() -> bytes:
    from pillow_heif import register_heif_opener
    register_heif_opener()
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 160, 90)).save(buf, "HEIF", quality=90)
    return buf.getvalue()
