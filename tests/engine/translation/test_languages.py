"""Language detection on real prompts: the script decides Chinese, Japanese and Korean,
py3langid the rest, and short or unsure English stays English."""

import pytest

from engine.translation.languages import detect

SENTENCES = {
    "en": ["a cat turning its head slowly to the right in soft daylight",
           "Ocean waves are crashing on the shore, foam is bubbling",
           "A woman smiling and waving slowly", "waves crashing", "zoom in", "static",
           "a dog runs", "blurry, distorted", "slow motion", "sunset timelapse", "smiling",
           "", "🙂🙂 123"],
    "zh": ["一只猫慢慢地向右转头", "海浪拍打着岸边", "猫咪转头", "一个女人在微笑着挥手",
           "一只猫 turning its head"],
    "ja": ["猫がゆっくりと頭を回す"],
    "ko": ["고양이가 천천히 고개를 돌린다"],
    "fr": ["un chat qui tourne lentement la tête", "Le vent souffle dans les arbres"],
    "de": ["eine Katze dreht langsam den Kopf", "Ein Hund läuft am Strand"],
    "es": ["un gato girando la cabeza lentamente", "Una mujer sonriendo y saludando"],
    "it": ["gatto che gira la testa"],
    "pt": ["o gato vira a cabeça"],
    "nl": ["De golven rollen naar het strand"],
    "pl": ["Kot powoli obraca głowę"],
    "id": ["kucing menoleh perlahan"],
    "ru": ["кошка медленно поворачивает голову"],
    "el": ["γάτα γυρίζει το κεφάλι"],
    "ar": ["قطة تدير رأسها ببطء"],
    "hi": ["बिल्ली धीरे से सिर घुमाती है"],
}


@pytest.mark.parametrize(("language", "sentence"), [
    (language, sentence) for language, sentences in SENTENCES.items()
    for sentence in sentences])
def test_the_language_of_real_prompts(language: str, sentence: str) -> None:
    assert detect(sentence) == language
