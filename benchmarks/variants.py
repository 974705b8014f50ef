"""The rows a benchmark can run: the stock pipeline, the engine as configured, and the engine
with one speed-up or one compute cut switched on."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from benchmarks.runners import EngineRunner, Runner, StockRunner, TurboRunner, WanRunner
from engine.config import EngineConfig
from engine.models.i2vgen_xl.fast import CUTS, FAST


@dataclass(frozen=True)
class Variant:
    name: str
    # EngineConfig changes from the base configuration; None: the stock diffusers pipeline.
    engine: dict[str, object] | None = field(default_factory=dict)
    fast: bool = False  # the jobs ask for the speed mode (what runs is engine["fast"])
    stock_dtype: str | None = None  # stock only: None is the example's (fp16 on CUDA)
    exact: bool = True  # expected to keep the frames to rounding; False: a compute cut
    calibration: bool = False  # run once, untimed, to anchor the PSNR scale

    def runner(self, base: EngineConfig) -> Runner:
        if self.engine is None:
            return StockRunner(self.name, base.model, base.device, self.stock_dtype)
        config = replace(base, **self.engine)
        runner = {"wan": WanRunner, "turbo": TurboRunner}.get(config.family, EngineRunner)
        return runner(self.name, config, fast=self.fast)

    def applies(self, base: EngineConfig) -> bool:
        """False where the base configuration already is this variant (the same row as
        "engine" twice)."""
        if self.engine is None or self.fast or not self.engine:
            return True
        return replace(base, **self.engine) != base


def _variants() -> dict[str, Variant]:
    rows = [
        Variant("stock", engine=None),
        Variant("engine"),
        # The second model, Wan 2.2 TI2V-5B, on its own presets ("wan-standard"...), stock
        # and with its speed mode; FastWan 2.2 on its presets ("turbo-standard"...).
        Variant("wan", {"family": "wan"}),
        Variant("wan-fast", {"family": "wan"}, fast=True, exact=False),
        Variant("turbo", {"family": "turbo"}, exact=False),
        Variant("bf16", {"dtype": "bf16"}),
        Variant("fuse-qkv", {"fuse_qkv": True}),
        Variant("channels-last", {"channels_last": True}),
        Variant("cudnn-attention", {"attention": "cudnn"}),
        Variant("compile", {"compile_unet": True, "compile_mode": "default"}),
        Variant("compile-autotune", {"compile_unet": True,
                                     "compile_mode": "max-autotune-no-cudagraphs"}),
        *(Variant(name, {"fast": cut}, fast=True, exact=False) for name, cut in CUTS.items()),
        Variant("fast", {"fast": FAST}, fast=True, exact=False),
        Variant("fast-bf16", {"fast": FAST, "dtype": "bf16"}, fast=True, exact=False),
        # PSNR anchors: pure rounding (the stock pipeline in the other half precision), and
        # a video that merely shares the photo and prompt (another seed).
        Variant("stock-bf16", engine=None, stock_dtype="bf16", calibration=True),
        Variant("stock-other-seed", engine=None, calibration=True),
    ]
    return {v.name: v for v in rows}


VARIANTS = _variants()
