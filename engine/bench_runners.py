"""What the benchmark runs: the stock diffusers pipeline or this engine, one video shape at a
time, with the time of each part, the peak GPU memory, and the UNet FLOPs of one step."""

from __future__ import annotations

import contextlib
import math
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from engine.config import EngineConfig
from engine.frames import to_uint8
from engine.generator import Engine, VideoJob
from engine.prompts import PromptEncoder
from engine.video import encode_mp4

PROMPT = "Papers were floating in the air on a table in the library"
# The negative prompt of diffusers' I2VGenXLPipeline example.
NEGATIVE = ("Distorted, discontinuous, Ugly, blurry, low resolution, motionless, static, "
            "disfigured, disconnected limbs, Ugly faces, incomplete arms")


@dataclass(frozen=True)
class Shape:
    preset: str
    width: int
    height: int
    frames: int
    fps: int
    steps: int
    guidance: float

    def label(self) -> str:
        return f"{self.width}x{self.height}, {self.frames} frames, {self.steps} steps"


@dataclass
class Timing:
    """Seconds of one run (one pipeline call, however many videos it made)."""

    encoders: float = 0.0  # prompt and image encoders, image latents, everything before step 1
    denoising: float = 0.0  # first UNet call to the end of the last
    decode: float = 0.0  # VAE decode and conversion to frames
    mp4: float = 0.0
    unet_calls: int = 0
    peak_bytes: int | None = None  # CUDA only
    frames: list[np.ndarray] = field(default_factory=list, repr=False)

    @property
    def total(self) -> float:
        return self.encoders + self.denoising + self.decode + self.mp4


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
    hooks (the UNet runs once per step), synchronising CUDA only at those two points. The
    first call's inputs are kept for counting FLOPs."""

    def __init__(self, unet: torch.nn.Module, device: torch.device, steps: int,
                 keep_inputs: bool = False) -> None:
        self.device, self.steps, self.keep_inputs = device, steps, keep_inputs
        self.calls = 0
        self.first: float | None = None
        self.last: float | None = None
        self.inputs: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._hooks = [unet.register_forward_pre_hook(self._before, with_kwargs=True),
                       unet.register_forward_hook(self._after)]

    def _before(self, module: Any, args: Any, kwargs: Any) -> None:
        if self.calls == 0:
            sync(self.device)
            self.first = time.perf_counter()
            if self.keep_inputs:
                self.inputs = (args, dict(kwargs))

    def _after(self, module: Any, args: Any, output: Any) -> None:
        self.calls += 1
        if self.calls == self.steps:
            sync(self.device)
            self.last = time.perf_counter()

    def remove(self) -> None:
        for hook in self._hooks:
            hook.remove()


@contextlib.contextmanager
def measured(unet: torch.nn.Module, device: torch.device, steps: int,
             keep_inputs: bool = False) -> Iterator[UNetClock]:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    clock = UNetClock(unet, device, steps, keep_inputs)
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


def encode_all(timing: Timing, fps: int, folder: Path) -> None:
    start = time.perf_counter()
    for i, frames in enumerate(timing.frames):
        encode_mp4(frames, fps, folder / f"{i}.mp4")
    timing.mp4 = time.perf_counter() - start


def peak(timing: Timing, device: torch.device) -> Timing:
    if device.type == "cuda":
        timing.peak_bytes = torch.cuda.max_memory_allocated(device)
    return timing


def unet_step_flops(unet: torch.nn.Module, clock: UNetClock) -> int:
    """FLOPs of one UNet call with the inputs the pipeline gave it (both guidance halves).
    On the CPU attention is counted through the math kernel: torch's counter has no formula
    for the CPU flash kernel."""
    if clock.inputs is None:
        raise RuntimeError("no UNet inputs were kept")
    args, kwargs = clock.inputs
    unet = getattr(unet, "_orig_mod", unet)  # count the eager model, not a compiled wrapper
    kernel = (contextlib.nullcontext() if clock.device.type == "cuda"
              else sdpa_kernel([SDPBackend.MATH]))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), kernel, counter:
        unet(*args, **kwargs)
    return int(counter.get_total_flops())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 videos in dB; inf when identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


class StockRunner:
    """diffusers' I2VGenXLPipeline called as its documentation's example does, except: it
    runs with a plain `.to(device)` rather than the example's `enable_model_cpu_offload()`
    (offload moves every sub-model across PCIe on each call: plain is the stronger
    baseline), and the prompts go in as embeddings when transformers >= 5.6 would crash on
    the example's `clip_skip=1` (encoded anew on every call, as the pipeline would)."""

    name = "stock"

    def __init__(self, folder: str, device: torch.device) -> None:
        from diffusers import I2VGenXLPipeline

        self.device = device
        self.dtype = torch.float16 if device.type == "cuda" else torch.float32
        # The example's `torch_dtype=`, under the name diffusers 0.42 wants.
        self.pipe = I2VGenXLPipeline.from_pretrained(folder, dtype=self.dtype)
        self.pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.prompt_embeds = not hasattr(self.pipe.text_encoder, "text_model")

    @property
    def unet(self) -> torch.nn.Module:
        return self.pipe.unet

    def describe(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        embeds = ", prompts as embeddings" if self.prompt_embeds else ""
        return f"diffusers I2VGenXLPipeline, {dtype}, .to({self.device.type}){embeds}"

    def run(self, shape: Shape, seeds: list[int], same_draws: bool = False,
            keep_inputs: bool = False) -> tuple[Timing, UNetClock]:
        """One video (the stock pipeline has no safe batching of different images).
        `same_draws` takes the first frame's VAE sample from the seed's CPU generator, as
        the engine does, instead of the device's global RNG: on a GPU this is what makes
        the frames comparable; on the CPU it draws the very same numbers either way."""
        if len(seeds) != 1:
            raise ValueError("the stock pipeline is measured one video at a time")
        timing = Timing()
        image = photo(shape.width, shape.height)
        with measured(self.unet, self.device, shape.steps, keep_inputs) as clock:
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
                    generator=generator, **kwargs).frames[0]
            timing.frames = [to_uint8(np.stack([np.asarray(f) for f in frames]))]
            sync(self.device)
            split(timing, clock, start, time.perf_counter())
        with tempfile.TemporaryDirectory() as folder:
            encode_all(timing, shape.fps, Path(folder))
        return peak(timing, self.device), clock

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


class EngineRunner:
    """This project's engine, as configured; several jobs go in one `generate` call."""

    def __init__(self, name: str, config: EngineConfig) -> None:
        self.name = name
        self.engine = Engine(config)
        start = time.perf_counter()
        self.engine.load()  # with compile_unet this includes compiling the warm-up shapes
        self.load_seconds = time.perf_counter() - start
        self.device = self.engine.device

    @property
    def unet(self) -> torch.nn.Module:
        return self.engine.pipeline.unet

    def describe(self) -> str:
        return self.engine.describe()

    def run(self, shape: Shape, seeds: list[int], same_draws: bool = False,
            keep_inputs: bool = False) -> tuple[Timing, UNetClock]:
        from engine.params import GenParams

        timing = Timing()
        jobs = [VideoJob(photo(shape.width, shape.height), GenParams(
            prompt=PROMPT, negative_prompt=NEGATIVE, preset=shape.preset, width=shape.width,
            height=shape.height, frames=shape.frames, fps=shape.fps, steps=shape.steps,
            guidance=shape.guidance, seed=seed)) for seed in seeds]
        with measured(self.unet, self.device, shape.steps, keep_inputs) as clock:
            start = time.perf_counter()
            clips = self.engine.generate(jobs)
            if clips[0].lowered_from:  # the engine stepped down: not this row's shape
                raise RuntimeError(f"ran lower than {clips[0].lowered_from}")
            sync(self.device)
            split(timing, clock, start, time.perf_counter())
        timing.frames = [clip.frames for clip in clips]
        with tempfile.TemporaryDirectory() as folder:
            encode_all(timing, shape.fps, Path(folder))
        return peak(timing, self.device), clock

    def close(self) -> None:
        del self.engine
