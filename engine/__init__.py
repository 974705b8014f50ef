"""The GPU side of i2v-bot: photo checks and framing, the I2VGen-XL pipeline, MP4 output.

Imports nothing from `bot/` or `adapters/`; they import from here.
"""

from engine.config import EngineConfig
from engine.generator import Clip, Engine, VideoJob, batch_key, compatible
from engine.images import load_photo, prepare_image
from engine.params import PRESETS, GenParams
from engine.video import VideoFile, encode_mp4, read_video

__all__ = [
    "PRESETS", "Clip", "Engine", "EngineConfig", "GenParams", "VideoFile", "VideoJob",
    "batch_key", "compatible", "encode_mp4", "load_photo", "prepare_image", "read_video",
]
