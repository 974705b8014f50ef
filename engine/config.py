"""How the engine is set up: which model, on which device, in which precision."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.spec.cards import DEFAULT_MODEL, card

DTYPES = ("auto", "bf16", "fp16", "fp32")
# "sdpa" lets torch pick the fastest scaled-dot-product kernel; the next four prefer one of
# torch's. The last ones are kernels from other packages, reached through diffusers' attention
# dispatch (engine/models/wan/attention.py): only models whose attention goes through it.
TORCH_ATTENTION = ("sdpa", "flash", "cudnn", "efficient", "math")
PACKAGE_ATTENTION = ("flash-attn", "flash3", "flash3-hub", "sage", "xformers")
ATTENTION = TORCH_ATTENTION + PACKAGE_ATTENTION


@dataclass(frozen=True)
class EngineConfig:
    """`model` is a Hub id, a local folder, "tiny" (random weights for tests) or "synthetic"
    (full-size random weights for GPU benchmarks). "auto" device tries cuda, then mps, then
    cpu; "auto" dtype is fp16 on cuda and fp32 elsewhere."""

    model: str = field(default_factory=lambda: card(DEFAULT_MODEL).hub_id)
    family: str = DEFAULT_MODEL  # which card (engine/spec/cards.py) these weights are
    device: str = "auto"
    dtype: str = "auto"
    cpu_offload: bool = False
    models_dir: Path = Path("data/models")  # where "tiny" is built ("synthetic": in memory)
    decode_chunk_size: int | None = None  # None: the engine picks from free memory
    cache_dir: Path | None = None  # Hugging Face cache override
    # Speed-ups, all off until a GPU benchmark (`i2vbot bench`) shows they help; see
    # engine/models/i2vgen_xl/speedups.py for what each does.
    compile_unet: bool = False  # torch.compile the UNet, warmed up at load
    # "max-autotune-no-cudagraphs" tries kernel variants (minutes); "default" does not.
    compile_mode: str = "max-autotune-no-cudagraphs"
    compile_warmup: tuple[tuple[int, int, int], ...] = ((512, 512, 16),)  # (w, h, frames)
    channels_last: bool = False  # NHWC convolution weights in the UNet and VAE
    fuse_qkv: bool = False  # one matmul for q, k and v in every UNet attention
    attention: str = "sdpa"
    # What a job that asks for the speed mode (GenParams.fast) runs, in the model's own terms
    # (I2VGen-XL: a Shortcuts of its fast.py; Wan: a WanShortcuts of its own); None: the
    # model's speed mode. The benchmark swaps in one cut at a time here to measure each alone.
    fast: Any = None
