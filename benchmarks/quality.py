"""How far a row's frames are from the stock pipeline's, and what that distance means.

Random weights say nothing about how good a video looks, only whether a change keeps the
frames. Even a change that is exact in arithmetic moves the last bits, and 50 denoising steps
can grow that into a PSNR of 30 dB or less; a fixed threshold cannot tell that from a real
change. So the scale is measured in the same run: the stock pipeline in the other half
precision marks what rounding alone does, another seed marks an unrelated video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MARGIN_DB = 3.0  # below the rounding anchor by more than this: more than rounding


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio of two uint8 videos in dB; inf when identical."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@dataclass(frozen=True)
class Scale:
    rounding_db: float | None = None  # stock vs stock in the other half precision
    unrelated_db: float | None = None  # stock vs stock with another seed

    def verdict(self, db: float | None) -> str:
        """"identical", "rounding", "changed", or "" where nothing can be said."""
        if db is None:
            return ""
        if math.isinf(db):
            return "identical"
        if self.rounding_db is None:
            return ""  # no anchor measured: report the number only
        return "rounding" if db >= self.rounding_db - MARGIN_DB else "changed"

    def describe(self) -> str:
        def fmt(value: float | None) -> str:
            if value is None:
                return "not measured"
            return "identical" if math.isinf(value) else f"{value:.1f} dB"

        return (f"rounding anchor (stock in the other half precision): {fmt(self.rounding_db)}; "
                f"unrelated anchor (stock, another seed): {fmt(self.unrelated_db)}; a row "
                f"counts as rounding down to {MARGIN_DB:g} dB below the rounding anchor")
