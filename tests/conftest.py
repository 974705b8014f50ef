"""Fixtures shared by all test folders: the tiny random-weight models, engines on them, and
the tiny prompt translator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from engine.base import Engine
from engine.config import EngineConfig
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.i2vgen_xl.tiny import ensure_tiny_pipeline
from engine.models.wan.engine import WanEngine
from engine.models.wan.tiny import ensure_tiny_wan
from engine.translation.translator import Translator, TranslatorConfig


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny I2VGen-XL pipeline, built once per session and saved like real weights."""
    return ensure_tiny_pipeline(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir: Path) -> Iterator[Engine]:
    """An engine loaded on the CPU from the tiny model's folder (the real loading path)."""
    # Two cores shared with other work: one thread keeps timings steady and results exact.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    engine = I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu"))
    engine.load()
    yield engine
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Wan 2.2 TI2V pipeline (UMT5, transformer, VAE and a byte tokenizer made from
    configs), saved like real weights."""
    return ensure_tiny_wan(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_wan(tiny_wan_dir: Path) -> Iterator[WanEngine]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    engine = WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan", device="cpu"))
    engine.load()
    yield engine
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_translator(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    """The worker's translator with the tiny fitted Marian model for every language, as
    `I2V_MODEL=tiny` configures it: built (seconds) the first time a prompt needs it."""
    return Translator(TranslatorConfig(chinese="tiny", others="tiny", device="cpu",
                                       models_dir=tmp_path_factory.mktemp("translators")))
