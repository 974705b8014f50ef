"""Photos made in memory for tests: real encoders, no files from the network."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def gradient(width: int, height: int) -> np.ndarray:
    """RGB pixels whose red grows left to right and green top to bottom, so a crop's
    position can be read back from its colours."""
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    r = np.broadcast_to(x, (height, width))
    g = np.broadcast_to(y, (height, width))
    b = np.full((height, width), 128, np.float32)
    return np.stack([r, g, b], axis=-1).round().astype(np.uint8)


def make_image(width: int, height: int, mode: str = "RGB") -> Image.Image:
    image = Image.fromarray(gradient(width, height), "RGB")
    return image if mode == "RGB" else image.convert(mode)


def make_photo(width: int, height: int, fmt: str = "JPEG", mode: str = "RGB",
               orientation: int | None = None, **save: object) -> bytes:
    """Encoded bytes of a gradient photo; `orientation` writes an EXIF Orientation tag."""
    image = make_image(width, height, mode)
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def raw_png(width: int, height: int, bit_depth: int, color_type: int, rows: bytes) -> bytes:
    """A PNG written by hand: for layouts Pillow will not write (16-bit RGB) and for a
    decompression bomb whose pixels compress to almost nothing."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows, 9)) + png_chunk(b"IEND", b""))


def png_bomb(side: int = 20000) -> bytes:
    """A valid side x side 1-bit PNG of zeros: tens of KB on disk, 400 MP decoded."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + packed bits
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))


def make_face_photo(unit: int = 200) -> Image.Image:
    """A drawn face (3*unit x 2*unit, face centred at x = 2.2*unit) that OpenCV's frontal
    face cascade finds: a light oval, dark brows and eyes, a lighter nose, a mouth, hair."""
    from PIL import ImageDraw, ImageFilter

    image = Image.new("L", (unit * 3, unit * 2), 90)
    draw = ImageDraw.Draw(image)
    cx, cy, w, h = unit * 2.2, unit * 0.9, unit * 0.42, unit * 0.55
    draw.ellipse([cx - w, cy - h, cx + w, cy + h], fill=200)
    for side in (-1, 1):
        ex, ey = cx + side * w * 0.42, cy - h * 0.15
        draw.ellipse([ex - w * 0.22, ey - h * 0.30, ex + w * 0.22, ey - h * 0.22], fill=70)
        draw.ellipse([ex - w * 0.2, ey - h * 0.08, ex + w * 0.2, ey + h * 0.08], fill=40)
    draw.polygon([(cx, cy - h * 0.05), (cx - w * 0.12, cy + h * 0.3),
                  (cx + w * 0.12, cy + h * 0.3)], fill=170)
    draw.ellipse([cx - w * 0.35, cy + h * 0.45, cx + w * 0.35, cy + h * 0.6], fill=90)
    draw.rectangle([cx - w * 0.5, 0, cx + w * 0.5, cy - h * 0.8], fill=50)
    return image.filter(ImageFilter.GaussianBlur(unit / 60)).convert("RGB")


def red_left(width: int, height: int, fraction: float, fmt: str = "JPEG") -> bytes:
    """A photo red on its left `fraction`, green on the rest. The tiny moderation classifier
    (engine/moderation/tiny.py) refuses a picture about 85% red or more: all red is refused,
    70% red passes, and a camera panning onto its red side makes frames it refuses."""
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[..., 1] = 200
    pixels[:, : round(width * fraction)] = (200, 0, 0)
    out = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(out, fmt)
    return out.getvalue()
