"""The one text catalogue: everything the bots say, in English and Chinese.

`text(key, lang, **params)` is the one lookup. Both languages have the same keys (a test
checks it, and that every key the code uses exists and every key is used), so a missing
translation is a failing test, not an English sentence in a Chinese chat.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.texts.en import EN
from bot.texts.zh import ZH

CATALOGUE: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
LANGUAGES = tuple(CATALOGUE)


def language(code: str | None) -> str:
    """'zh-hans', 'zh-CN', 'zh-TW' -> 'zh'; everything else -> 'en'."""
    return "zh" if code and code.lower().startswith("zh") else "en"


def text(key: str, lang: str = "en", **params: object) -> str:
    return CATALOGUE.get(lang, EN)[key].format(**params)


class Explained(Protocol):
    """A refusal in the catalogue's words: `bot.errors.UserError`."""

    @property
    def key(self) -> str: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


def error_text(error: Explained, lang: str = "en") -> str:
    return text(error.key, lang, **error.params)
