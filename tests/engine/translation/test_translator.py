"""The translator on the real path: MarianTokenizer and MarianMTModel from transformers,
loaded from a folder saved with save_pretrained (the tiny fitted model), generating."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.spec.params import GenParams
from engine.translation.translator import (
    CHINESE_MODEL,
    MULTILINGUAL_MODEL,
    Translator,
    TranslatorConfig,
)


def test_chinese_and_other_languages_become_english_and_english_stays(
        tiny_translator: Translator) -> None:
    params = tiny_translator.for_model(GenParams(prompt="一只猫在慢慢地转头",
                                                 negative_prompt="模糊，变形"))
    assert params.prompt_language == "zh"
    assert params.translated_prompt == "a cat is turning its head slowly"
    assert params.translated_negative == "blurry, distorted"
    assert params.model_prompt == "a cat is turning its head slowly"
    assert params.prompt == "一只猫在慢慢地转头"  # the person's words are kept
    german = tiny_translator.for_model(GenParams(prompt="ein Hund läuft am Strand"))
    assert (german.prompt_language, german.translated_prompt) == (
        "de", "a dog is running on the beach")
    english = tiny_translator.for_model(GenParams(prompt="a cat turning its head",
                                                  negative_prompt="模糊，变形"))
    assert english.translated_prompt is None and english.model_prompt == \
        "a cat turning its head"
    assert english.translated_negative == "blurry, distorted"  # each is detected alone


def test_chinese_goes_to_the_chinese_model_and_the_rest_to_the_multilingual_one() -> None:
    config = TranslatorConfig()
    assert (config.source("zh"), config.source("fr"), config.source("ja")) == (
        CHINESE_MODEL, MULTILINGUAL_MODEL, MULTILINGUAL_MODEL)


def test_a_model_that_will_not_load_leaves_the_prompt_as_written(tmp_path: Path,
                                                               caplog) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    translator = Translator(TranslatorConfig(chinese=str(broken), others=str(broken),
                                             device="cpu"))
    with caplog.at_level(logging.ERROR):
        params = translator.for_model(GenParams(prompt="一只猫在慢慢地转头"))
        again = translator.for_model(GenParams(prompt="海浪拍打着岸边"))
    assert params.prompt_language == "zh" and params.translated_prompt is None
    assert params.model_prompt == "一只猫在慢慢地转头" and again.translated_prompt is None
    errors = [r for r in caplog.records if "could not be loaded" in r.getMessage()]
    assert len(errors) == 1  # tried once, not at every job


@pytest.mark.parametrize("source", ["tiny", "Helsinki-NLP/opus-mt-zh-en"])
def test_doctor_says_where_a_model_is_without_downloading(source: str, tmp_path: Path) -> None:
    translator = Translator(TranslatorConfig(chinese=source, others=source,
                                             cache_dir=tmp_path))
    lines = translator.status()
    assert len(lines) == 2 and lines[0].startswith("Chinese: ")
    assert ("will be built at" in lines[0]) if source == "tiny" else (
        "not downloaded yet" in lines[0])
