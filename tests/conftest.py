"""Fixtures shared by all test folders: the tiny random-weight models, engines on them, the
tiny prompt translator and the tiny moderation classifier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import torch

from engine.base import Engine
from engine.config import EngineConfig
from engine.models.i2vgen_xl.engine import I2VGenXLEngine
from engine.models.i2vgen_xl.tiny import ensure_tiny_pipeline
from engine.models.turbo.engine import TurboEngine
from engine.models.turbo.tiny import ensure_tiny_turbo
from engine.models.wan.engine import WanEngine
from engine.models.wan.tiny import ensure_tiny_wan
from engine.moderation.classifier import ClassifierConfig, PictureClassifier
from engine.moderation.tiny import ensure_tiny_classifier
from engine.spec.cards import cards, register
from engine.translation.translator import Translator, TranslatorConfig
from tests.models.pan.card import CARD as PAN


def pytest_configure(config: pytest.Config) -> None:
    """No test reaches the Hub: moderation's classifier is the tiny stand-in (built in each
    data folder; it refuses mostly red pictures) unless a test names another. Set in the
    environment, so that the processes tests start inherit it."""
    os.environ.setdefault("I2V_MODERATION_MODEL", "tiny")


E = TypeVar("E", bound=Engine)


def _loaded(engine: E) -> Iterator[E]:
    """`engine` loaded from its folder (the real loading path), for the session. Two cores
    shared with other work: one thread keeps timings steady and results exact."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    engine.load()
    yield engine
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny I2VGen-XL pipeline, built once per session and saved like real weights."""
    return ensure_tiny_pipeline(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_engine(tiny_model_dir: Path) -> Iterator[Engine]:
    """An engine loaded on the CPU from the tiny model's folder (the real loading path)."""
    yield from _loaded(I2VGenXLEngine(EngineConfig(model=str(tiny_model_dir), device="cpu")))


@pytest.fixture(scope="session")
def tiny_wan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny Wan 2.2 TI2V pipeline (UMT5, transformer, VAE and a byte tokenizer made from
    configs), saved like real weights."""
    return ensure_tiny_wan(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_wan(tiny_wan_dir: Path) -> Iterator[WanEngine]:
    yield from _loaded(WanEngine(EngineConfig(model=str(tiny_wan_dir), family="wan",
                                              device="cpu")))


@pytest.fixture(scope="session")
def tiny_translator(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    """The worker's translator with the tiny fitted Marian model for every language, as
    `I2V_MODEL=tiny` configures it: built (seconds) the first time a prompt needs it."""
    return Translator(TranslatorConfig(chinese="tiny", others="tiny", device="cpu",
                                       models_dir=tmp_path_factory.mktemp("translators")))


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny moderation classifier (a ViT whose fixed head refuses mostly red pictures),
    saved like a Hub model."""
    return ensure_tiny_classifier(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_classifier(tiny_classifier_dir: Path) -> PictureClassifier:
    classifier = PictureClassifier(ClassifierConfig(model=str(tiny_classifier_dir)))
    classifier.load()
    return classifier


@pytest.fixture
def pan() -> Iterator[None]:
    """The pan test model (tests/models/pan/: each frame a window further right across the
    photo, no weights), registered for one test."""
    register(PAN)
    yield
    cards().pop(PAN.name)


@pytest.fixture(scope="session")
def tiny_turbo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny FastWan pipeline: Wan 2.2 TI2V's tiny architecture in its own folder."""
    return ensure_tiny_turbo(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def tiny_turbo(tiny_turbo_dir: Path) -> Iterator[TurboEngine]:
    yield from _loaded(TurboEngine(EngineConfig(model=str(tiny_turbo_dir), family="turbo",
                                                device="cpu")))
