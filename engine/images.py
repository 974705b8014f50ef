"""Turn the bytes someone sent into a clean RGB photo, and frame it for the model. The
header rules are engine/spec/photos.py's, checked again here before decoding.

Decoding has a memory bound: a JPEG is decoded at a reduced scale where the video it feeds
is smaller (the DCT does it for free: 1/2, 1/4 or 1/8 of the size, never below what the
video needs), and wide samples (16-bit and float greys) become 8-bit a band of rows at a
time, so the peak stays within about twice the 8-bit RGB frame the photo becomes (a 77 KB,
40-megapixel 16-bit grey PNG once took a GB)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from functools import cache

import numpy as np
from PIL import Image, ImageOps

from engine.spec.errors import Rejected
from engine.spec.photos import SEND_INSTEAD, SIDEWAYS, open_photo, too_large

logger = logging.getLogger(__name__)

FACE_DETECT_SIDE = 480  # faces are found on a copy this big: fast, and faces stay visible
BAND_ROWS = 256  # rows of a wide grey photo made 8-bit at a time

Box = tuple[int, int, int, int]  # left, top, right, bottom


def load_photo(data: bytes, fit: tuple[int, int] | None = None) -> Image.Image:
    """Decode, check and normalise a photo: upright, 8-bit RGB, alpha flattened on white.
    `fit`: the (width, height) it will be framed to; a JPEG is then decoded no larger than
    it needs to be to cover it. Every problem a person can fix is `Rejected` with a code
    saying what to send instead."""
    image = open_photo(data)
    if fit is not None and image.format in ("JPEG", "MPO"):
        width, height = fit
        if image.getexif().get(0x0112) in SIDEWAYS:  # turned upright after decoding
            width, height = height, width
        image.draft(None, (width, height))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image.load()
        except Image.DecompressionBombError as e:
            raise too_large() from e
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise Rejected("image_damaged", "The photo looks damaged or cut off. Send it "
                           "again, or send another one.") from e
    image = ImageOps.exif_transpose(image) or image
    try:
        return to_rgb(image)
    except ValueError as e:  # a colour mode Pillow cannot turn into RGB
        raise Rejected("image_unreadable",
                       f"This photo's colour format ({image.mode}) is not supported; "
                       f"{SEND_INSTEAD}.") from e


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode Pillow decodes: 16-bit and float greys are scaled rather
    than clipped, transparency is laid on white (what a chat shows behind it)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16-bit PNGs decode as I;16 or I: scale 0..65535 to 0..255 instead of clipping.
        image = _grey_to_l(image, lambda band: band.astype(np.float32) / 257.0)
    elif image.mode == "F":
        top = image.getextrema()[1]
        scale = 255.0 if isinstance(top, float | int) and top <= 1.0 else 1.0
        image = _grey_to_l(image, lambda band: band * scale)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _grey_to_l(image: Image.Image, scale: Callable[[np.ndarray], np.ndarray]) -> Image.Image:
    """A wide grey image as 8-bit, `BAND_ROWS` rows at a time: the float copy of a whole
    40-megapixel photo alone would be 160 MB."""
    samples = np.asarray(image)
    grey = np.empty(samples.shape, dtype=np.uint8)
    for top in range(0, samples.shape[0], BAND_ROWS):
        band = scale(samples[top:top + BAND_ROWS])
        grey[top:top + BAND_ROWS] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(grey, "L")


def crop_box(image_size: tuple[int, int], target_aspect: float,
             face: Box | None = None) -> Box:
    """The largest box of `target_aspect` (width / height) inside the image, centred on
    the face when there is one (shifted only as far as the edges allow), else centred."""
    width, height = image_size
    if width / height > target_aspect:
        crop_w, crop_h = max(1, round(height * target_aspect)), height
    else:
        crop_w, crop_h = width, max(1, round(width / target_aspect))
    crop_w, crop_h = min(crop_w, width), min(crop_h, height)
    if face is None:
        cx, cy = width / 2, height / 2
    else:
        cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    left = min(max(round(cx - crop_w / 2), 0), width - crop_w)
    top = min(max(round(cy - crop_h / 2), 0), height - crop_h)
    return left, top, left + crop_w, top + crop_h


@cache
def _face_cascade():  # type: ignore[no-untyped-def]
    import cv2

    # OpenCV 5 dropped the Haar cascades: then crops are centred rather than failing.
    factory = getattr(cv2, "CascadeClassifier", None)
    data = getattr(getattr(cv2, "data", None), "haarcascades", "")
    cascade = factory(data + "haarcascade_frontalface_default.xml") if factory else None
    if cascade is None or cascade.empty():
        logger.warning("OpenCV %s has no frontal-face cascade; crops will be centred",
                       cv2.__version__)
        return None
    return cascade


def find_face(image: Image.Image) -> Box | None:
    """The largest frontal face, in the image's own pixel coordinates, or None."""

    cascade = _face_cascade()
    if cascade is None:
        return None
    scale = min(1.0, FACE_DETECT_SIDE / max(image.size))
    small = image.convert("L")
    if scale < 1.0:
        small = small.resize((max(1, round(image.width * scale)),
                             max(1, round(image.height * scale))), Image.Resampling.BILINEAR)
    grey = np.asarray(small)  # the cascade normalises contrast per window itself
    min_side = max(24, min(small.size) // 10)  # ignore tiny faces in the background
    faces = cascade.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5,
                                    minSize=(min_side, min_side))
    if len(faces) == 0:
        return None
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    return (round(x / scale), round(y / scale), round((x + w) / scale), round((y + h) / scale))


def prepare_image(image: Image.Image, width: int, height: int) -> Image.Image:
    """Crop to the video's shape around the subject (a face when one is found), then
    resize to exactly width x height. The pipeline gets this, never the raw photo: it
    would otherwise crop every image in a batch by the first one's geometry."""
    if image.mode != "RGB":
        image = to_rgb(image)
    box = crop_box(image.size, width / height, find_face(image))
    # Cropping and resizing in one call lets Pillow reduce large photos cheaply first.
    return image.resize((width, height), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
