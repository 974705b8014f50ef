"""Opt-in speed-ups of the loaded pipeline, each behind its own EngineConfig switch.

What diffusers does already: every attention of the I2VGen-XL UNet runs `AttnProcessor2_0`,
i.e. `F.scaled_dot_product_attention`, which on CUDA in fp16/bf16 picks a flash or
memory-efficient kernel by itself. (`ModelMixin.set_attention_backend` does not reach these
processors in diffusers 0.42: they call torch directly.) So `attention` here only narrows
torch's choice of SDPA kernel, e.g. to cuDNN's, which can beat flash on Hopper. The chosen
kernel does not take every shape (the image-latent temporal encoder has heads of size 4, the
spatial layers of size 5, 10 and 20): a layer it refuses runs the math kernel instead of
failing the job with "No available kernel".

All are off by default: none has GPU evidence yet. `i2vbot bench` measures each.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from engine.config import ATTENTION, PACKAGE_ATTENTION, EngineConfig
from engine.spec.errors import InternalError

logger = logging.getLogger(__name__)

_BACKENDS = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION,
             "efficient": SDPBackend.EFFICIENT_ATTENTION, "math": SDPBackend.MATH}
_CUDA_ONLY = ("cudnn", "efficient")
# No CUDA graphs ("-no-cudagraphs"): graphs would pin one buffer set per shape and clash
# with the per-step hooks that report progress and cancel.
COMPILE_MODES = ("default", "max-autotune-no-cudagraphs")


def attention_backend(config: EngineConfig, device: torch.device) -> str:
    """The SDPA choice that will actually be used on `device`."""
    if config.attention not in ATTENTION:
        raise InternalError(f"Unknown attention '{config.attention}': use one of "
                            f"{', '.join(ATTENTION)}.")
    if config.attention in PACKAGE_ATTENTION:
        # Its processors call torch's SDPA directly, not diffusers' dispatch (see above).
        logger.warning("attention=%s is a kernel for models that use diffusers' attention "
                       "dispatch (Wan); I2VGen-XL uses sdpa", config.attention)
        return "sdpa"
    if config.attention in _CUDA_ONLY and device.type != "cuda":
        logger.warning("attention=%s needs CUDA; using sdpa on %s", config.attention, device)
        return "sdpa"
    return config.attention


@contextlib.contextmanager
def attention_context(backend: str) -> Iterator[None]:
    """Around a pipeline call: prefer one kernel, or leave torch's choice. The math kernel
    stays allowed after it, so that a layer whose shape the chosen kernel refuses falls back
    for that layer alone (torch tries the list in order)."""
    if backend == "sdpa":
        yield
        return
    backends = [_BACKENDS[backend], SDPBackend.MATH]
    try:
        context = sdpa_kernel(backends, set_priority=True)
    except TypeError:  # a torch without priorities (< 2.6): math is still allowed
        context = sdpa_kernel(backends)
    with context:
        yield


def to_channels_last(module: torch.nn.Module) -> int:
    """NHWC weights for every convolution; the activations follow them. `module.to(
    memory_format=...)` refuses the UNet because of its 5-D temporal convolutions, so each
    layer gets the format of its rank. Returns how many layers changed."""
    count = 0
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            layer.to(memory_format=torch.channels_last)
            count += 1
        elif isinstance(layer, torch.nn.Conv3d):
            layer.to(memory_format=torch.channels_last_3d)
            count += 1
    return count


def apply_speedups(pipe: Any, config: EngineConfig, device: torch.device) -> list[str]:
    """Apply the switched-on speed-ups that change the model itself; names what it did."""
    done: list[str] = []
    if config.fuse_qkv:
        # Self-attention gets one (3C x C) projection, cross-attention one for k and v.
        pipe.unet.fuse_qkv_projections()
        done.append("fused qkv")
    if config.channels_last:
        count = to_channels_last(pipe.unet) + to_channels_last(pipe.vae)
        done.append(f"channels-last ({count} convolutions)")
    if config.compile_unet:
        if config.cpu_offload and device.type == "cuda":
            logger.warning("compile_unet is skipped with cpu_offload: offload hooks move "
                           "weights between calls, which recompiles every time")
        elif config.compile_mode not in COMPILE_MODES:
            raise InternalError(f"Unknown compile mode '{config.compile_mode}': use one of "
                                f"{', '.join(COMPILE_MODES)}.")
        else:
            # fullgraph=False: the UNet's forward has Python-side branches on its inputs.
            pipe.unet = torch.compile(pipe.unet, mode=config.compile_mode)
            done.append(f"torch.compile ({config.compile_mode})")
    return done
