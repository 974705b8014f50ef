"""The units people see, the same in the engine's refusals and the core's replies."""

from __future__ import annotations


def mib(size_bytes: float) -> str:
    """Bytes as MiB, the unit of every size shown to people: '10', '1.5', '0.01'."""
    value = size_bytes / 2**20
    shown = f"{value:.1f}" if value >= 0.1 else f"{value:.2g}"
    return shown.removesuffix(".0")
