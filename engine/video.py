"""Frames to an H.264 MP4 that plays inline in Telegram and Discord, plus a poster JPEG."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from PIL import Image

from engine.spec.errors import InternalError, Rejected
from engine.spec.units import mib
from engine.spec.work import Video

logger = logging.getLogger(__name__)

CRF = 18  # visually near-lossless; a byte budget switches to a computed bitrate
BUDGET_TRIES = (0.90, 0.70, 0.50)  # fractions of the budget's bitrate, tried in turn
CONTAINER_BYTES = 4096  # MP4 boxes and the faststart index, outside the video bitrate
MIN_BITRATE = 20_000  # bits/s: below this x264 output is unwatchable


def even_frames(frames: np.ndarray) -> np.ndarray:
    """yuv420p needs even sides: drop a last odd row/column (one pixel is never missed)."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise InternalError(f"expected uint8 frames x H x W x 3, got {frames.dtype} "
                            f"{frames.shape}")
    _, height, width, _ = frames.shape
    if height < 2 or width < 2:
        raise InternalError(f"frames too small to encode: {width}x{height}")
    return np.ascontiguousarray(frames[:, : height - height % 2, : width - width % 2])


def _write(frames: np.ndarray, fps: int, path: Path, bitrate: int | None,
           tags: Mapping[str, str]) -> None:
    _, height, width, _ = frames.shape
    rate = ["-crf", str(CRF)] if bitrate is None else [
        "-b:v", str(bitrate), "-maxrate", str(bitrate), "-bufsize", str(bitrate)]
    metadata = [part for key, value in tags.items() for part in ("-metadata", f"{key}={value}")]
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p", quality=None, macro_block_size=2, ffmpeg_log_level="error",
        output_params=[*rate, "-preset", "medium", *metadata, "-movflags", "+faststart",
                       "-f", "mp4"])
    try:
        writer.send(None)  # starts ffmpeg
        for frame in frames:
            writer.send(frame)
    except (OSError, RuntimeError) as e:
        raise InternalError(f"ffmpeg failed to encode the video: {e}") from e
    finally:
        writer.close()


def encode_mp4(frames: np.ndarray, fps: int, path: Path, max_bytes: int | None = None,
               tags: Mapping[str, str] | None = None, headroom: int = 0) -> Video:
    """Encode and write atomically: the final name appears only for a complete file.
    `max_bytes`: the upload limit, of which `headroom` bytes stay free (for what is added
    to the file afterwards: its signature). `tags`: MP4 metadata, written as they are."""
    frames = even_frames(frames)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    count, height, width, _ = frames.shape
    duration = count / fps
    try:
        _write(frames, fps, tmp, None, tags or {})
        size = tmp.stat().st_size
        if max_bytes is not None and size > max_bytes - headroom:
            size = _fit_budget(frames, fps, tmp, size, max_bytes, headroom, duration,
                               tags or {})
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    poster = path.with_suffix(".jpg")
    poster_tmp = poster.with_name(f".{poster.name}.part")
    Image.fromarray(frames[0]).save(poster_tmp, "JPEG", quality=90)
    os.replace(poster_tmp, poster)
    return Video(path=path, poster=poster, width=width, height=height, frames=count,
                 fps=fps, duration=duration, size_bytes=size)


def _fit_budget(frames: np.ndarray, fps: int, tmp: Path, size: int, max_bytes: int,
                headroom: int, duration: float, tags: Mapping[str, str]) -> int:
    budget = max_bytes - headroom
    budget_bits = (budget - CONTAINER_BYTES) * 8 / duration
    for fraction in BUDGET_TRIES:
        bitrate = int(budget_bits * fraction)
        if bitrate < MIN_BITRATE:
            break
        logger.info("video is %d bytes, over the %d budget: re-encoding at %d bit/s",
                    size, budget, bitrate)
        _write(frames, fps, tmp, bitrate, tags)
        size = tmp.stat().st_size
        if size <= budget:
            return size
    raise Rejected("video_too_large",
                   f"The video does not fit the {mib(max_bytes)} MiB upload limit here. Ask "
                   "for fewer frames, a lower resolution, or a lower fps.",
                   limit_mib=mib(max_bytes))


def read_video(path: Path) -> tuple[np.ndarray, float]:
    """Decode an MP4 back to uint8 frames and its frame rate (for tests and checks)."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader]
    return np.stack(frames), float(meta["fps"])
