"""Which language a prompt is written in, well enough to pick a translation model.

Two steps, because a statistical detector is weakest exactly where prompts are short:
- The script decides Chinese, Japanese and Korean: Han characters without kana are Chinese
  (py3langid splits short Han text between zh, wuu and yue, all one model's input here),
  kana mean Japanese, Hangul Korean.
- Otherwise py3langid (langid.py's model: character n-grams over 97 languages, shipped
  inside the package, no download) ranks the languages. For Latin-script text only
  languages written in it are compared (short English is otherwise taken for Uzbek or
  Serbian), languages the model cannot tell apart count as one (Indonesian and Malay), and
  anything but English must be at least CONFIDENT likely: "zoom in" or "static" stay
  English rather than being "translated" from Dutch or Czech.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import cache
from typing import Any

ENGLISH = "en"
CONFIDENT = 0.6  # probability (among the compared languages) a non-English guess needs
# Languages written in the Latin script that py3langid knows and opus-mt-mul-en reads.
LATIN = ("en", "fr", "de", "es", "it", "pt", "nl", "pl", "cs", "sk", "sl", "hr", "ro", "hu",
         "fi", "et", "lv", "lt", "sv", "da", "no", "is", "tr", "az", "id", "ms", "vi", "tl",
         "sw", "ca", "gl", "eu", "eo", "af", "cy", "ga", "sq", "mt", "la")
# Near-identical written languages, counted as the first: one translation model reads both.
SAME = {"ms": "id", "da": "no", "bs": "hr"}
_lock = threading.Lock()


def _script(char: str) -> str:
    code = ord(char)
    if 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
        return "kana"
    if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
        return "hangul"
    if (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF
            or 0x20000 <= code <= 0x2FA1F):
        return "han"
    return "latin" if unicodedata.name(char, "").startswith("LATIN") else "other"


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def warm() -> None:
    """Load the detector's model now (about 2 s) rather than in a person's first job."""
    _identifier()


def detect(text: str) -> str:
    """The text's language as a two-letter code ("zh", "fr", ...); English when it is, when
    nothing in it is a letter, and when the detector is not sure."""
    scripts = [_script(c) for c in text if c.isalpha()]
    if not scripts:
        return ENGLISH
    if "kana" in scripts:
        return "ja"
    if "hangul" in scripts:
        return "ko"
    if "han" in scripts:
        return "zh"
    identifier = _identifier()
    with _lock:  # the identifier keeps per-call state
        ranked = identifier.rank(text)
    latin = scripts.count("latin") * 2 >= len(scripts)
    scores: dict[str, float] = {}
    for lang, p in ranked:
        if not latin or lang in LATIN:
            lang = SAME.get(lang, lang)
            scores[lang] = scores.get(lang, 0.0) + p
    total = sum(scores.values()) or 1.0
    best = max(scores, key=scores.__getitem__)
    return best if best != ENGLISH and scores[best] / total >= CONFIDENT else ENGLISH
