"""Photos in: every bad file gets a clear refusal, every odd-but-valid one a clean RGB."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.images import crop_box, find_face, load_photo, prepare_image
from engine.models.i2vgen_xl.card import CARD
from engine.spec.errors import Rejected
from engine.spec.params import size_for
from tests.images import make_face_photo, make_image, make_photo, png_bomb, raw_png

RESOLUTIONS = CARD.resolutions


def refused(data: bytes) -> Rejected:
    with pytest.raises(Rejected) as info:
        load_photo(data)
    return info.value


# --- refusals -------------------------------------------------------------------------

def test_zero_bytes() -> None:
    err = refused(b"")
    assert err.code == "image_empty" and "Send the photo again" in err.message


def test_truncated_jpeg() -> None:
    data = make_photo(400, 300, "JPEG")
    err = refused(data[: len(data) // 2])
    assert err.code == "image_damaged" and "damaged or cut off" in err.message


def test_text_file_named_jpg() -> None:
    err = refused(b"This is a shopping list, not a photo.\n" * 20)
    assert err.code == "image_unreadable"
    assert "JPEG, PNG or WebP" in err.message


def test_one_pixel_png() -> None:
    err = refused(make_photo(1, 1, "PNG"))
    assert err.code == "image_too_small"
    assert "1x1" in err.message and "128" in err.message


def test_png_bomb_is_refused_from_its_header() -> None:
    data = png_bomb(20000)
    assert len(data) < 200_000  # small on disk, 400 MP decoded
    err = refused(data)
    assert err.code == "image_too_large" and "40 megapixels" in err.message


def test_over_40_megapixels_below_pillows_own_limit() -> None:
    # 8000x6000 = 48 MP: under Pillow's bomb threshold, over ours; refused before decoding.
    data = raw_png(8000, 6000, 1, 0, b"")  # no pixel data at all: only the header is read
    err = refused(data)
    assert err.code == "image_too_large" and "8000x6000" in err.message


def test_animated_gif_refused_by_name() -> None:
    out = io.BytesIO()
    frames = [make_image(200, 200), make_image(200, 200).transpose(Image.Transpose.ROTATE_90)]
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    err = refused(out.getvalue())
    assert err.code == "image_format"
    assert err.message.startswith("GIF images are not supported")


def test_animated_png_refused() -> None:
    out = io.BytesIO()
    frames = [make_image(200, 200), make_image(200, 200).transpose(Image.Transpose.ROTATE_90)]
    frames[0].save(out, "PNG", save_all=True, append_images=frames[1:], duration=100)
    err = refused(out.getvalue())
    assert err.code == "image_animated" and "single frame" in err.message


def test_other_formats_refused_by_name() -> None:
    err = refused(make_photo(200, 200, "BMP"))
    assert err.code == "image_format" and err.message.startswith("BMP images are not supported")


# --- conversions ----------------------------------------------------------------------

def test_cmyk_jpeg_becomes_rgb() -> None:
    out = io.BytesIO()
    Image.new("CMYK", (200, 160), (0, 255, 0, 0)).save(out, "JPEG", quality=95)
    image = load_photo(out.getvalue())
    assert image.mode == "RGB" and image.size == (200, 160)
    r, g, b = image.getpixel((100, 80))
    assert r > 240 and g < 15 and b > 240  # magenta ink -> magenta light


def test_16_bit_grey_png_is_scaled_not_clipped() -> None:
    grey = np.full((150, 200), 32896, np.uint16)  # 32896 / 257 = 128
    out = io.BytesIO()
    Image.fromarray(grey).save(out, "PNG")
    image = load_photo(out.getvalue())
    assert image.mode == "RGB" and image.getpixel((10, 10)) == (128, 128, 128)


def test_16_bit_rgb_png() -> None:
    pixel = struct.pack(">HHH", 65535, 0, 32896)
    rows = b"".join(b"\x00" + pixel * 200 for _ in range(150))
    image = load_photo(raw_png(200, 150, 16, 2, rows))
    assert image.mode == "RGB" and image.getpixel((5, 5)) == (255, 0, 128)


def test_transparent_png_is_flattened_on_white() -> None:
    rgba = np.zeros((150, 200, 4), np.uint8)
    rgba[..., 0] = 255  # red...
    rgba[:, 100:, 3] = 255  # ...opaque on the right half, fully transparent on the left
    out = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(out, "PNG")
    image = load_photo(out.getvalue())
    assert image.mode == "RGB"
    assert image.getpixel((10, 10)) == (255, 255, 255)
    assert image.getpixel((150, 10)) == (255, 0, 0)


@pytest.mark.parametrize("mode", ["L", "P", "1", "LA"])
def test_other_modes_become_rgb(mode: str) -> None:
    image = load_photo(make_photo(200, 150, "PNG", mode=mode))
    assert image.mode == "RGB" and image.size == (200, 150)


def test_webp_accepted() -> None:
    image = load_photo(make_photo(300, 200, "WEBP", quality=90))
    assert image.mode == "RGB" and image.size == (300, 200)


def test_exif_orientation_applied() -> None:
    # A phone held upright stores a landscape JPEG with "rotate 90 CW" in EXIF.
    image = load_photo(make_photo(400, 300, "JPEG", orientation=6, quality=95))
    assert image.size == (300, 400)
    # The left edge (red 0) of the stored pixels is now the top edge.
    top, bottom = np.asarray(image)[2, :, 0].mean(), np.asarray(image)[-3, :, 0].mean()
    assert top < 20 and bottom > 235


# --- geometry -------------------------------------------------------------------------

# (stored size, EXIF orientation) -> upright size the video follows.
PHOTOS = {
    "landscape 3:2": ((600, 400), None),
    "portrait 2:3": ((400, 600), None),
    "square": ((500, 500), None),
    "panorama 8:1": ((2400, 300), None),
    "exif-rotated": ((600, 400), 6),
}
# Sizes for each shape at each resolution: area within the budget, sides multiples of 64.
EXPECTED = {
    "landscape 3:2": {"256p": (320, 192), "512p": (640, 384), "768p": (896, 640),
                      "1024p": (1216, 832)},
    "portrait 2:3": {"256p": (192, 320), "512p": (384, 640), "768p": (640, 896),
                     "1024p": (832, 1216)},
    "square": {"256p": (256, 256), "512p": (512, 512), "768p": (768, 768),
               "1024p": (1024, 1024)},
    "panorama 8:1": {"256p": (512, 128), "512p": (1024, 256), "768p": (1536, 384),
                     "1024p": (2048, 512)},
    "exif-rotated": {"256p": (192, 320), "512p": (384, 640), "768p": (640, 896),
                     "1024p": (832, 1216)},
}


@pytest.mark.parametrize("name", list(PHOTOS))
def test_geometry_table(name: str) -> None:
    (width, height), orientation = PHOTOS[name]
    photo = load_photo(make_photo(width, height, "JPEG", orientation=orientation, quality=95))
    for resolution in RESOLUTIONS:
        w, h = size_for(resolution, photo.width / photo.height, CARD)
        assert (w, h) == EXPECTED[name][resolution], (name, resolution)
        assert w % 64 == 0 and h % 64 == 0 and w * h <= RESOLUTIONS[resolution] ** 2
        if resolution == "512p":
            framed = prepare_image(photo, w, h)
            assert framed.size == (w, h) and framed.mode == "RGB"


def test_panorama_is_cropped_to_4_to_1_around_the_centre() -> None:
    photo = make_image(2400, 300)  # 8:1; red encodes x
    box = crop_box(photo.size, 4.0)
    assert box == (600, 0, 1800, 300)
    framed = np.asarray(prepare_image(photo, 1024, 256)).astype(int)
    # Red across the result spans the middle half of the original's 0..255 ramp.
    assert abs(framed[128, 0, 0] - 64) <= 3 and abs(framed[128, -1, 0] - 191) <= 3


@pytest.mark.parametrize(("size", "aspect", "face", "box"), [
    ((1200, 800), 1.0, None, (200, 0, 1000, 800)),  # no face: centred
    ((1200, 800), 1.0, (100, 100, 200, 200), (0, 0, 800, 800)),  # face left: pinned left
    ((1200, 800), 1.0, (700, 300, 900, 500), (400, 0, 1200, 800)),  # face right: to the edge
    ((1200, 800), 1.0, (500, 300, 700, 500), (200, 0, 1000, 800)),  # face near centre
    ((800, 1200), 1.0, (300, 100, 500, 300), (0, 0, 800, 800)),  # portrait, face high
    ((800, 1200), 5 / 3, None, (0, 360, 800, 840)),  # landscape crop of a portrait
    ((1000, 1000), 1.0, (0, 0, 100, 100), (0, 0, 1000, 1000)),  # same shape: whole image
])
def test_crop_box(size: tuple[int, int], aspect: float,
                  face: tuple[int, int, int, int] | None,
                  box: tuple[int, int, int, int]) -> None:
    assert crop_box(size, aspect, face) == box


def test_no_face_means_centred_crop() -> None:
    photo = make_image(900, 600)  # a gradient has no face
    assert find_face(photo) is None
    framed = np.asarray(prepare_image(photo, 256, 256)).astype(int)
    # Centred square of a 900-wide ramp: red runs from 150/900 to 750/900 of 255.
    assert abs(framed[128, 0, 0] - 43) <= 3 and abs(framed[128, -1, 0] - 212) <= 3


def test_face_off_centre_pulls_the_crop_toward_it() -> None:
    photo = make_face_photo(300)  # 900x600, face centred near x = 660
    face = find_face(photo)
    assert face is not None
    left, top, right, bottom = face
    assert left < 660 < right and top < 270 < bottom
    assert crop_box(photo.size, 1.0, face) == (300, 0, 900, 600)  # centred would be 150
    framed = prepare_image(photo, 256, 256)
    assert find_face(framed) is not None  # the face is still in the picture


PEAK = """
import resource, sys
from engine.images import load_photo
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
image = load_photo(data, *([(640, 384)] if len(sys.argv) > 2 else []))
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(grown * 1024, image.width * image.height * 3)
"""
MAKE = """
import sys
import numpy as np
from PIL import Image
if sys.argv[2] == "grey16":  # 40 megapixels of 16-bit grey: 85 KB of PNG
    samples = np.zeros((6300, 6300), dtype=np.uint16)
    samples[::7, ::3] = 40000
    Image.fromarray(samples).save(sys.argv[1])
else:
    Image.new("RGB", (6000, 4000), (10, 200, 30)).save(sys.argv[1], quality=95)
"""


@pytest.mark.parametrize("kind", ["grey16", "jpeg"])
def test_decoding_a_photo_costs_a_small_multiple_of_its_rgb_frame(tmp_path, kind):
    """Measured in a process of its own (the peak of its resident memory): a decompression-
    heavy photo once grew the process by 921 MiB for its 114 MiB frame."""
    import subprocess
    import sys

    photo = tmp_path / ("photo.png" if kind == "grey16" else "photo.jpg")
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    subprocess.run([sys.executable, "-c", MAKE, str(photo), kind], check=True, env=env)
    done = subprocess.run([sys.executable, "-c", PEAK, str(photo)], check=True, env=env,
                          capture_output=True, text=True)
    grown, frame = map(int, done.stdout.split())
    assert grown < 3 * frame, (grown / 2**20, frame / 2**20)
    if kind == "jpeg":  # framed for a 640x384 video, it is decoded at an eighth of the size
        reduced = subprocess.run([sys.executable, "-c", PEAK, str(photo), "fit"], check=True,
                                 env=env, capture_output=True, text=True)
        grown, frame = map(int, reduced.stdout.split())
        assert frame == 750 * 500 * 3 and grown < 3 * frame
