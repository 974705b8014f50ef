"""What happens to a clip's frames after the model and before the MP4: a seamless loop,
smoother motion at a higher frame rate, the visible label, and the join of an extension onto
the video it continues. All on the CPU; none costs GPU time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np

from engine.marks import ai_tags, label_frames
from engine.spec.errors import InternalError
from engine.spec.params import LOOP_MODES, GenParams
from engine.spec.work import RenderSpec, Video
from engine.video import encode_mp4, read_video

CROSSFADE_FRAMES = 4  # blended frames at a loop's or an extension's seam


def ping_pong(frames: np.ndarray) -> np.ndarray:
    """Forward, then backward to the first frame: the end meets the start exactly."""
    if len(frames) < 2:
        return frames
    return np.concatenate([frames, frames[-2::-1]])


def crossfade_loop(frames: np.ndarray, blend: int = CROSSFADE_FRAMES) -> np.ndarray:
    """The last `blend` frames faded into the first ones, then dropped: playing the result
    in a loop goes from its last frame to its first as from one frame to the next."""
    count = len(frames)
    blend = min(blend, count // 3)
    if blend < 1:
        return frames
    out = frames[: count - blend].astype(np.float32)
    tail = frames[count - blend:].astype(np.float32)
    for i in range(blend):
        weight = (i + 1) / (blend + 1)  # how much of the clip's own start shows
        out[i] = (1 - weight) * tail[i] + weight * out[i]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def loop(frames: np.ndarray, mode: str) -> np.ndarray:
    if mode == "pingpong":
        return ping_pong(frames)
    if mode == "crossfade":
        return crossfade_loop(frames)
    raise InternalError(f"unknown loop mode {mode!r}: use one of {', '.join(LOOP_MODES)}")


def join(previous: np.ndarray, clip: np.ndarray, blend: int = CROSSFADE_FRAMES) -> np.ndarray:
    """An extension onto the video it continues. The clip was made from the previous
    video's last frame, so its own first frame is that frame again: it is dropped, and the
    next few fade in from the previous video's last frame, so the seam does not jump."""
    if previous.shape[1:] != clip.shape[1:]:
        raise InternalError(f"an extension of {previous.shape[2]}x{previous.shape[1]} cannot "
                            f"join a clip of {clip.shape[2]}x{clip.shape[1]}")
    rest = clip[1:].astype(np.float32)
    last = previous[-1].astype(np.float32)
    for i in range(min(blend, len(rest))):
        weight = (i + 1) / (blend + 1)  # how much of the new clip shows
        rest[i] = (1 - weight) * last + weight * rest[i]
    joined = np.clip(np.rint(rest), 0, 255).astype(np.uint8)
    return np.concatenate([previous, joined])


def smooth(frames: np.ndarray, fps: int, target_fps: int) -> np.ndarray:
    """Motion-interpolated frames at `target_fps` (ffmpeg's minterpolate, motion-compensated),
    the clip's duration kept: `frames × target_fps / fps` of them."""
    if target_fps <= fps:
        return frames
    count, height, width, _ = frames.shape
    wanted = round(count * target_fps / fps)
    with tempfile.TemporaryDirectory(prefix="i2v-smooth-") as folder:
        source = Path(folder) / "clip.mkv"
        writer = imageio_ffmpeg.write_frames(
            str(source), (width, height), fps=fps, codec="ffv1", pix_fmt_in="rgb24",
            pix_fmt_out="bgr0", macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-f", "matroska"])
        writer.send(None)
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
        # The last frame held on for two more (minterpolate stops at the last frame's
        # start, not its end), then trimmed to exactly the clip's duration.
        interpolate = (f"tpad=stop_mode=clone:stop=2,minterpolate=fps={target_fps}:"
                       "mi_mode=mci:mc_mode=aobmc:vsbmc=1:scd=none")
        reader = imageio_ffmpeg.read_frames(str(source), output_params=["-vf", interpolate])
        next(reader)  # the stream's description
        out = [np.frombuffer(f, np.uint8).reshape(height, width, 3) for f in reader][:wanted]
    if not out:
        raise InternalError("ffmpeg's frame interpolation produced no frames")
    while len(out) < wanted:
        out.append(out[-1])
    return np.stack(out)


def finish(frames: np.ndarray, params: GenParams, extends: Path | None = None,
           label: str = "") -> tuple[np.ndarray, int]:
    """The clip as it goes into the MP4, and its frame rate: smoothed, labelled, joined onto
    the video it extends, looped, in that order (an extension is smoothed like the video it
    continues; the video it continues carries its label already; a loop closes the whole
    joined video)."""
    fps = params.fps
    if params.smooth_fps:
        frames, fps = smooth(frames, fps, params.smooth_fps), params.smooth_fps
    frames = label_frames(frames, label)
    if extends is not None:
        previous, previous_fps = read_video(extends)
        if round(previous_fps) != fps:
            raise InternalError(f"{extends} runs at {previous_fps} fps, its extension at {fps}")
        frames = join(previous, frames)
    if params.loop:
        frames = loop(frames, params.loop)
    return frames, fps


def encode(spec: RenderSpec, frames: np.ndarray, params: GenParams) -> Video:
    """A clip's frames to its MP4 as `spec` asks: finished (above), then encoded with the
    tags that say a model made it (engine/marks.py)."""
    frames, fps = finish(frames, params, spec.extends, label=spec.label)
    return encode_mp4(frames, fps, spec.output, max_bytes=spec.max_bytes,
                      tags=ai_tags(params), headroom=spec.headroom)


def last_frame(path: Path) -> np.ndarray:
    """The final frame of an MP4 (the photo an extension starts from)."""
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    width, height = meta["size"]
    frame = None
    for frame in reader:  # noqa: B007 (the loop keeps the last one)
        continue
    if frame is None:
        raise InternalError(f"{path} has no frames")
    return np.frombuffer(frame, np.uint8).reshape(height, width, 3).copy()
