"""What the benchmark runs: the stock diffusers pipeline or this engine, one video shape at a
time, with the time of each part and the peak GPU memory."""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from benchmarks.shapes import Shape
from engine.base import Engine, VideoJob
from engine.config import EngineConfig
from engine.frames import to_uint8
from engine.loader import pick_device
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.i2vgen_xl.prompts import PromptEncoder
from engine.models.i2vgen_xl.tiny import RANDOM_MODELS, random_pipeline
from engine.spec.params import GenParams

PROMPT = "Papers were floating in the air on a table in the library"
# The negative prompt of diffusers' I2VGenXLPipeline example.
NEGATIVE = ("Distorted, discontinuous, Ugly, blurry, low resolution, motionless, static, "
            "disfigured, disconnected limbs, Ugly faces, incomplete arms")
_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}


@dataclass
class Timing:
    """Seconds of one run (one pipeline call, however many videos it made)."""

    encoders: float = 0.0  # prompt and image encoders, image latents: everything before step 1
    denoising: float = 0.0  # first UNet call to the end of the last
    decode: float = 0.0  # VAE decode and conversion to uint8 frames
    mp4: float | None = None  # None: no ffmpeg on this machine (imageio-ffmpeg missing)
    unet_calls: int = 0
    peak_bytes: int | None = None  # CUDA only
    frames: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def total(self) -> float:
        return self.encoders + self.denoising + self.decode + (self.mp4 or 0.0)


def photo(width: int, height: int) -> Image.Image:
    """A smooth synthetic photo at exactly the video's size, so that neither side crops."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / width, y / height, 1 - x / width / 2], axis=-1) * 255
    image = Image.fromarray(rgb.astype(np.uint8))
    r = min(width, height) // 4
    ImageDraw.Draw(image).ellipse((width // 2 - r, height // 2 - r, width // 2 + r,
                                   height // 2 + r), fill=(230, 190, 150))
    return image


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class UNetClock:
    """Marks the start of the first and the end of the last UNet call of a run with forward
    hooks (the UNet runs once per step), synchronising CUDA only at those two points."""

    def __init__(self, unet: torch.nn.Module, device: torch.device, steps: int) -> None:
        self.device, self.steps = device, steps
        self.calls = 0
        self.first: float | None = None
        self.last: float | None = None
        self._hooks = [unet.register_forward_pre_hook(self._before),
                       unet.register_forward_hook(self._after)]

    def _before(self, module: Any, args: Any) -> None:
        if self.calls == 0:
            sync(self.device)
            self.first = time.perf_counter()

    def _after(self, module: Any, args: Any, output: Any) -> None:
        self.calls += 1
        if self.calls == self.steps:
            sync(self.device)
            self.last = time.perf_counter()

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()


@contextlib.contextmanager
def measured(unet: torch.nn.Module, device: torch.device, steps: int) -> Iterator[UNetClock]:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    clock = UNetClock(unet, device, steps)
    try:
        yield clock
    finally:
        clock.remove()


def split(timing: Timing, clock: UNetClock, start: float, end: float) -> Timing:
    if clock.first is None or clock.last is None:
        raise RuntimeError(f"the UNet ran {clock.calls} times, expected {clock.steps}")
    timing.encoders += clock.first - start
    timing.denoising += clock.last - clock.first
    timing.decode += end - clock.last
    timing.unet_calls = clock.calls
    return timing


def encode_all(timing: Timing, fps: int) -> None:
    """H.264 as the bot sends it; skipped (mp4 None) where imageio-ffmpeg is missing."""
    try:
        from engine.video import encode_mp4
    except ImportError:
        return
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        for i, frames in enumerate(timing.frames):
            encode_mp4(frames, fps, Path(folder) / f"{i}.mp4")
    timing.mp4 = time.perf_counter() - start


def peak(timing: Timing, device: torch.device) -> Timing:
    if device.type == "cuda":
        timing.peak_bytes = torch.cuda.max_memory_allocated(device)
    return timing


class StockRunner:
    """diffusers' I2VGenXLPipeline called as its documentation's example does, except: it
    runs with a plain `.to(device)` rather than the example's `enable_model_cpu_offload()`
    (offload moves every sub-model across PCIe on each call: plain is the stronger
    baseline), and the prompts go in as embeddings when transformers >= 5.6 would crash on
    the example's `clip_skip=1` (encoded anew on every call, as the pipeline would)."""

    def __init__(self, name: str, model: str, device: str, dtype: str | None = None) -> None:
        from diffusers import I2VGenXLPipeline

        self.name = name
        self.device = pick_device(device)
        default = "fp16" if self.device.type == "cuda" else "fp32"  # the example's
        self.dtype = _DTYPES[dtype or default]
        start = time.perf_counter()
        if model in RANDOM_MODELS:  # the same seeded weights as the engine builds
            self.pipe = random_pipeline(model, I2VGenXLPipeline, self.device, self.dtype)
        else:
            self.pipe = I2VGenXLPipeline.from_pretrained(model, dtype=self.dtype)
        self.pipe.to(self.device)
        self.pipe.set_progress_bar_config(disable=True)
        self.load_seconds = time.perf_counter() - start
        self.prompt_embeds = not hasattr(self.pipe.text_encoder, "text_model")

    @property
    def unet(self) -> torch.nn.Module:
        return self.pipe.unet

    def describe(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        embeds = ", prompts as embeddings" if self.prompt_embeds else ""
        return f"diffusers I2VGenXLPipeline, DDIM, {dtype}, .to({self.device.type}){embeds}"

    def run(self, shape: Shape, seeds: list[int], same_draws: bool = False) -> Timing:
        """One video (the stock pipeline has no safe batching of different images).
        `same_draws` takes the first frame's VAE sample from the seed's CPU generator, as
        the engine does, instead of the device's global RNG: on a GPU this is what makes
        the frames comparable; on the CPU it draws the very same numbers either way."""
        if len(seeds) != 1:
            raise ValueError("the stock pipeline is measured one video at a time")
        timing = Timing()
        image = photo(shape.width, shape.height)
        with measured(self.unet, self.device, shape.steps) as clock:
            start = time.perf_counter()
            generator = torch.manual_seed(seeds[0])  # as the example
            kwargs: dict[str, Any] = dict(prompt=PROMPT, negative_prompt=NEGATIVE)
            if self.prompt_embeds:
                encoder = PromptEncoder(self.pipe, self.device)
                kwargs = dict(prompt_embeds=encoder.encode(PROMPT),
                              negative_prompt_embeds=encoder.encode(NEGATIVE))
            draws = self._cpu_posterior(generator) if same_draws else contextlib.nullcontext()
            with draws:
                frames = self.pipe(
                    image=image, height=shape.height, width=shape.width,
                    num_frames=shape.frames, target_fps=shape.fps,
                    num_inference_steps=shape.steps, guidance_scale=shape.guidance,
                    generator=generator, output_type="np", **kwargs).frames[0]
            timing.frames = [to_uint8(np.asarray(frames))]
            sync(self.device)
            split(timing, clock, start, time.perf_counter())
        encode_all(timing, shape.fps)
        return peak(timing, self.device)

    @contextlib.contextmanager
    def _cpu_posterior(self, generator: torch.Generator) -> Iterator[None]:
        vae, encode = self.pipe.vae, self.pipe.vae.encode

        def seeded(*args: Any, **kwargs: Any) -> Any:
            out = encode(*args, **kwargs)
            sample = out.latent_dist.sample
            out.latent_dist.sample = lambda generator_=None: sample(generator=generator)
            return out

        vae.encode = seeded
        try:
            yield
        finally:
            del vae.encode  # back to the class's method

    def close(self) -> None:
        del self.pipe


class EngineRunner:
    """This project's engine; several jobs go in one `generate` call. `fast`: the jobs ask
    for the speed mode, i.e. run the engine's `fast` cuts (`config.fast`, or its own)."""

    model = "i2vgen-xl"
    calls_per_step = 1  # denoiser calls per step (the guidance pair is batched into one)

    def __init__(self, name: str, config: EngineConfig, fast: bool = False) -> None:
        self.name = name
        self.fast = fast
        self.engine = self._engine(config)
        start = time.perf_counter()
        self.engine.load()  # with compile_unet this includes compiling the warm-up shapes
        self.load_seconds = time.perf_counter() - start
        self.device = self.engine.device

    @staticmethod
    def _engine(config: EngineConfig) -> Any:
        return I2VGenXLEngine(config)

    @property
    def unet(self) -> torch.nn.Module:
        """The denoiser: the module called on every step."""
        return self.engine.pipeline.unet

    def steps(self, shape: Shape) -> int:
        """Denoiser calls per video (the speed mode's solver may take fewer steps)."""
        steps = self.engine.fast.steps(shape.steps) if self.fast else shape.steps
        return steps * self.calls_per_step

    def describe(self) -> str:
        text = self.engine.describe()
        return f"{text}, speed mode {self.engine.fast}" if self.fast else text

    def run(self, shape: Shape, seeds: list[int], same_draws: bool = False) -> Timing:
        timing = Timing()
        jobs = [VideoJob(photo(shape.width, shape.height), GenParams(
            prompt=PROMPT, negative_prompt=NEGATIVE, preset=shape.preset, width=shape.width,
            height=shape.height, frames=shape.frames, fps=shape.fps, steps=shape.steps,
            guidance=shape.guidance, seed=seed, fast=self.fast, model=self.model))
            for seed in seeds]
        with measured(self.unet, self.device, self.steps(shape)) as clock:
            start = time.perf_counter()
            clips = self.engine.generate(jobs)
            if clips[0].params.width != shape.width:  # stepped down a resolution (OOM)
                raise RuntimeError(f"ran at {clips[0].params.width}x{clips[0].params.height} "
                                   "instead: the GPU ran out of memory")
            sync(self.device)
            split(timing, clock, start, time.perf_counter())
        timing.frames = [clip.frames for clip in clips]
        encode_all(timing, shape.fps)
        return peak(timing, self.device)

    def close(self) -> None:
        del self.engine


class WanRunner(EngineRunner):
    """Wan 2.2 TI2V-5B through this project's engine (engine/models/wan/): its transformer
    runs for the prompt and, while guided, for the negative prompt, as two calls a step;
    `fast`: the jobs ask for its speed mode (diffusers' TaylorSeer cache, fewer guided
    steps)."""

    model = "wan"

    @staticmethod
    def _engine(config: EngineConfig) -> Engine:
        from engine.models.wan.engine import WanEngine

        return WanEngine(config)

    @property
    def unet(self) -> torch.nn.Module:
        return self.engine.pipeline.transformer

    def shortcuts(self) -> Any:
        from engine.models.wan.fast import STOCK

        return self.engine.fast if self.fast else STOCK

    def steps(self, shape: Shape) -> int:
        """Transformer calls per video: one a step, one more while guided (a call the cache
        skips still runs the transformer's forward: its hooks answer for the blocks)."""
        guided = self.shortcuts().guided_steps(shape.steps) if shape.guidance > 1 else 0
        return shape.steps + guided

    def describe(self) -> str:
        text = self.engine.describe()
        return f"{text}, speed mode: {self.shortcuts().describe()}" if self.fast else text

    def count_flops(self, shape: Shape) -> int:
        """The transformer's FLOPs per video, counted on a shapes-only copy (the meta
        device: no arithmetic, whatever the model's size), through the same cache hooks."""
        from diffusers import WanTransformer3DModel

        from benchmarks.wan_flops import wan_denoiser_flops

        with torch.device("meta"):
            copy = WanTransformer3DModel.from_config(self.unet.config)
        return wan_denoiser_flops(copy, shape, self.shortcuts())


class TurboRunner(WanRunner):
    """FastWan 2.2 TI2V-5B (engine/models/turbo/): Wan's pipeline, three unguided steps."""

    model = "turbo"

    @staticmethod
    def _engine(config: EngineConfig) -> Engine:
        from engine.models.turbo.engine import TurboEngine

        return TurboEngine(config)


Runner = StockRunner | EngineRunner
