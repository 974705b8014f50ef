"""What every model's random-weight builders share: one seed, and a build that an
interruption never leaves looking finished."""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

SEED = 0  # every part of every random model is seeded with it: the same weights each build


def ensure_built(models_dir: Path, name: str, build: Callable[[Path], Path],
                 marker: str = "model_index.json") -> Path:
    """Build once (`marker`: the file a finished build has). Building into a temporary
    sibling and renaming means an interrupted build never leaves a folder that looks
    finished."""
    final = Path(models_dir) / name
    if (final / marker).is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=final.parent))
    try:
        logger.info("building the random-weight %s into %s", name, final)
        build(staging / name)
        if final.exists():  # a half-built leftover of an older layout, or a racing build
            shutil.rmtree(final, ignore_errors=True)
        try:
            (staging / name).rename(final)
        except OSError:
            if not (final / marker).is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final
