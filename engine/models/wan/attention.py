"""I2V_ATTENTION for Wan: diffusers' attention backends, chosen with `set_attention_backend`.

Wan's attention processors call diffusers' `dispatch_attention_fn`, so the library's own
backend switch reaches every layer (unlike I2VGen-XL's, which call torch directly). Torch's
kernels ("flash", "cudnn", ...) are diffusers' `_native_*` backends; the other names are
kernels from other packages (flash-attn 2, FlashAttention 3 built from source or fetched
from the Hub through `kernels`, SageAttention, xFormers). diffusers checks that the package
is there; when it is not, or the kernel needs CUDA on a machine without it, the engine says
so in one line and Wan runs with torch's SDPA, as it would by default. (diffusers also makes
the chosen backend the process's default for processors that have none; every engine of a
worker is given the same I2V_ATTENTION, so they agree.)
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from engine.config import ATTENTION
from engine.spec.errors import InternalError

logger = logging.getLogger(__name__)

DIFFUSERS_BACKENDS = {
    "sdpa": "native", "flash": "_native_flash", "cudnn": "_native_cudnn",
    "efficient": "_native_efficient", "math": "_native_math",
    "flash-attn": "flash", "flash3": "_flash_3", "flash3-hub": "_flash_3_hub",
    "sage": "sage", "xformers": "xformers",
}
CPU_CAPABLE = ("sdpa", "math")  # the others are GPU kernels


def set_attention(transformer: Any, name: str, device: torch.device) -> str:
    """Switch the transformer's attention to the backend `name` (I2V_ATTENTION) stands for;
    returns the name in effect ("sdpa" when the asked one cannot run here)."""
    if name not in ATTENTION:
        raise InternalError(f"Unknown attention '{name}': use one of {', '.join(ATTENTION)}.")
    if name == "sdpa":
        return name  # diffusers' default: nothing to switch
    try:
        transformer.set_attention_backend(DIFFUSERS_BACKENDS[name])
    except (RuntimeError, ImportError) as exc:  # diffusers: the package is missing or too old
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        logger.warning("I2V_ATTENTION=%s is not installed here (%s); Wan uses sdpa", name,
                       reason)
        return "sdpa"
    if name not in CPU_CAPABLE and device.type != "cuda":
        transformer.set_attention_backend(DIFFUSERS_BACKENDS["sdpa"])
        logger.warning("I2V_ATTENTION=%s needs CUDA; Wan uses sdpa on %s", name, device)
        return "sdpa"
    return name
