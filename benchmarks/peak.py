"""The GPU's matrix-multiply peak, measured, for "% of peak" that means what it says."""

from __future__ import annotations

import time

import torch

# Where nothing was measured: dense bf16 TFLOP/s. H100 SXM and H200 reach about 790 in a
# plain 8192^3 product (measured on this project's H200: 769-798), not the datasheet's 989.
KNOWN = (("H100 PCIe", 756.0, "datasheet"), ("H100", 790.0, "measured elsewhere"),
         ("H200", 790.0, "measured elsewhere"), ("A100", 312.0, "datasheet"),
         ("L40S", 362.0, "datasheet"), ("RTX 4090", 165.0, "datasheet"))


def known_peak(gpu: str) -> tuple[float, str] | None:
    return next(((peak, why) for name, peak, why in KNOWN if name in gpu), None)


def measure_matmul(device: torch.device, dtype: torch.dtype = torch.bfloat16,
                   n: int = 8192, warmups: int = 3, iters: int = 10) -> float:
    """TFLOP/s of an n x n x n product on random data (mean of `iters` after warm-ups)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(warmups):
        a @ b
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        a @ b
    torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - start) / iters
    del a, b
    return 2 * n**3 / seconds / 1e12


def gpu_peak(device: torch.device) -> tuple[float | None, str]:
    """(TFLOP/s, where it comes from). Measured where possible."""
    if device.type != "cuda":
        return None, "no GPU"
    try:
        return measure_matmul(device), "measured: 8192^3 bf16 matmul, random data"
    except RuntimeError as exc:  # out of memory on a small card, say
        known = known_peak(torch.cuda.get_device_name(device))
        if known is None:
            return None, f"not measured ({exc})"
        return known[0], f"{known[1]} (not measured here: {exc})"
