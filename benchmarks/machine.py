"""What the benchmark ran on, named in every report."""

from __future__ import annotations

import platform
import shutil
import subprocess
from typing import Any

import torch


def machine(device: torch.device) -> dict[str, Any]:
    import diffusers
    import transformers

    info: dict[str, Any] = {
        "torch": torch.__version__, "diffusers": diffusers.__version__,
        "transformers": transformers.__version__, "python": platform.python_version(),
        "cpu": cpu_name(), "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["driver"] = _driver()
    return info


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _driver() -> str | None:
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version",
                              "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().splitlines()[0] if out.strip() else None


def describe(info: dict[str, Any]) -> str:
    if "gpu" in info:
        return (f"{info['gpu']}, driver {info.get('driver') or 'unknown'}, "
                f"CUDA {info['cuda']}")
    return f"no GPU ({info['cpu']}, {info['threads']} torch threads)"
