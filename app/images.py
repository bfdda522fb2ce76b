"""Uploaded images: sniff by decoding with an allow-list, refuse bombs, apply EXIF orientation, re-encode clean.

The client's file name and declared type are ignored; the bytes decide. What gets stored is a fresh RGB PNG
with no metadata (no EXIF, GPS, ICC or text chunks), downscaled once at the door to the largest side any job
can use (MAX_SIZE: no engine runs an input larger than its output, and upscaling comes after the engine), so
memory per request and disk per upload stay bounded. JPEGs are decoded at a reduced scale directly (draft).
"""
from __future__ import annotations

import io
import warnings

from flask import current_app, has_app_context
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from app.errors import APIError
from worker import params

register_heif_opener()

ALLOWED = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF")


def decode(data: bytes, field: str, max_pixels: int) -> Image.Image:
    """Bytes -> a metadata-free RGB image, upright per EXIF; APIError (413/415/422) for anything else."""
    if not data:
        raise APIError(422, "empty_file", f"{field}: the file is empty")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=ALLOWED)
        except UnidentifiedImageError:
            raise APIError(415, "unsupported_image",
                           f"{field}: not an image in an allowed format ({', '.join(ALLOWED)})")
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many(field, max_pixels)
        except Exception:
            raise APIError(422, "invalid_image", f"{field}: the image header is corrupt")
        w, h = img.size
        if w < 1 or h < 1 or w * h > max_pixels:
            raise too_many(field, max_pixels, w, h)
        side = max_side()
        try:
            img.seek(0)  # GIF/WebP/TIFF: the first frame
            if side and max(w, h) > side:
                img.draft("RGB", (side, side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still >= side
            img.load()
            img = upright(img)
            return shrink(flatten(img), side)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise too_many(field, max_pixels)
        except Exception:
            raise APIError(422, "invalid_image", f"{field}: the image data is truncated or corrupt")


def max_side() -> int | None:
    """The largest long side any job can use: the output cap (the contract's MAX_SIZE, or a deployment's lower
    one). Style images are capped the same (size x style_scale <= MAX_SIZE)."""
    if not has_app_context():
        return None
    return min(int(current_app.config["MAX_SIZE"]), params.MAX_SIZE)


def shrink(img: Image.Image, side: int | None) -> Image.Image:
    if side and max(img.size) > side:
        img.thumbnail((side, side), Image.Resampling.LANCZOS)  # in place, keeps the aspect
    return img


def too_many(field: str, max_pixels: int, w: int = 0, h: int = 0) -> APIError:
    size = f" ({w}x{h})" if w else ""
    return APIError(413, "too_many_pixels", f"{field}: the image is too large{size}; "
                    f"at most {max_pixels} pixels decoded")


def upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block: keep the pixels as stored
        return img


def flatten(img: Image.Image) -> Image.Image:
    """Any mode -> a fresh RGB image (alpha composited on white) carrying no metadata."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        out = Image.new("RGB", img.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    out = Image.new("RGB", img.size)
    out.paste(img.convert("RGB"))
    return out


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)  # transient upload: speed over size
    return buf.getvalue()


def png_to_jpeg(data: bytes, quality: int = 92) -> bytes:
    img = Image.open(io.BytesIO(data), formats=["PNG"])
    buf = io.BytesIO()
    flatten(img).save(buf, "JPEG", quality=quality)
    return buf.getvalue()
