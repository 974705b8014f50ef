"""The cheap check of a photo made when a job is accepted: its type, animation, size and
pixel count, read from the header without decoding the pixels (Pillow only, no torch). The
worker decodes it later (engine/images.py) with the same rules."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from engine.spec.errors import Rejected

ACCEPTED = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}  # MPO: phone JPEGs
ACCEPTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")  # what uploads may be named
ACCEPTED_TYPES = ("image/jpeg", "image/png", "image/webp")
MIN_SIDE = 128
MAX_PIXELS = 40_000_000
SEND_INSTEAD = "send a JPEG, PNG or WebP photo"
SIDEWAYS = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def check_photo(data: bytes) -> tuple[int, int]:
    """Refuse what no decoding could fix; returns the upright width and height."""
    image = open_photo(data)
    orientation = image.getexif().get(0x0112)
    width, height = image.size
    return (height, width) if orientation in SIDEWAYS else (width, height)


def open_photo(data: bytes) -> Image.Image:
    """Open lazily (the header only) and refuse what no decoding could fix."""
    if not data:
        raise Rejected("image_empty", "The file is empty. Send the photo again.")
    with warnings.catch_warnings():
        # Our own pixel limit below is stricter; Pillow's warning would only add noise.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError as e:
            raise too_large() from e
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
            raise Rejected("image_unreadable",
                           f"This file is not an image I can read; {SEND_INSTEAD}.") from e
    _check_header(image)
    return image


def _check_header(image: Image.Image) -> None:
    kind = ACCEPTED.get(image.format or "")
    if kind is None:
        name = image.format or "This kind of"
        raise Rejected("image_format", f"{name} images are not supported; {SEND_INSTEAD}.",
                        format=image.format or "unknown")
    if getattr(image, "is_animated", False) and image.format != "MPO":
        raise Rejected("image_animated",
                        f"Animated images are not supported; {SEND_INSTEAD} (a single frame).")
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise too_large(width, height)
    if min(width, height) < MIN_SIDE:
        raise Rejected("image_too_small",
                        f"The photo is {width}x{height}; it needs at least {MIN_SIDE} pixels "
                        "on the short side. Send a larger photo.",
                        size=f"{width}x{height}", min_side=MIN_SIDE)


def too_large(width: int | None = None, height: int | None = None) -> Rejected:
    size = f" ({width}x{height})" if width else ""
    return Rejected("image_too_large",
                     f"The photo is too large{size}: the limit is "
                     f"{MAX_PIXELS // 1_000_000} megapixels. Send a smaller photo.",
                     size=f"{width}x{height}" if width else "", max_megapixels=MAX_PIXELS // 10**6)
