"""The prompt coach: motion verbs in the simple present or past ("a man walks", "waves
crashed") read better to I2VGen-XL in the progressive ("is walking", "are crashing"), the
original app's second tip. It only suggests: the prompt is used as written.

The rule, the same in the web page's script (adapters/web/static/app.js) on the same word
lists (coach_words.json; a test keeps the two in agreement):
- words are runs of a-z and apostrophes, lowercased;
- a listed -s form ("walks") counts when its subject is a singular pronoun ("she walks")
  or a noun after a determiner, perhaps with one word between ("a young man walks"), that
  is not the object of a preposition ("over the ocean waves"), and when the next word is
  not a verb form of its own ("the waves crashed", "leaves falling": there it is a noun);
- a listed past form ("crashed") counts after any word that can be a subject (not an
  auxiliary, determiner, preposition or conjunction: "has turned", "and turned");
- adverbs ("slowly") between the subject and the verb are skipped;
- the progressive takes "are" after a plural subject ("waves crashed" -> "are crashing"),
  else "is".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

WORDS_FILE = Path(__file__).with_name("coach_words.json")
MAX_ADVERBS = 2  # skipped between a subject and its verb
_WORD = re.compile(r"[a-z']+")


@dataclass(frozen=True)
class Suggestion:
    found: str  # the word as the person wrote it, lowercased
    better: str  # its progressive form with "is" or "are"


@dataclass(frozen=True)
class _Lists:
    present: dict[str, str]  # "walks" -> "walking"
    past: dict[str, str]  # "walked" -> "walking"
    forms: frozenset[str]  # every listed form, the progressive included
    determiners: frozenset[str]
    singular: frozenset[str]
    plural: frozenset[str]
    not_subjects: frozenset[str]
    prepositions: frozenset[str]
    not_adverbs: frozenset[str]


def words_data() -> dict[str, Any]:
    """The word lists as the file holds them (the web page embeds the same)."""
    data: dict[str, Any] = json.loads(WORDS_FILE.read_text("utf-8"))
    return data


@cache
def _lists() -> _Lists:
    data = words_data()
    verbs = data["verbs"]
    return _Lists(
        present={s: ing for _, s, _, ing in verbs},
        past={past: ing for _, _, past, ing in verbs if past},
        forms=frozenset(form for row in verbs for form in row if form),
        **{name: frozenset(data[name]) for name in ("determiners", "singular", "plural",
                                                    "not_subjects", "prepositions",
                                                    "not_adverbs")})


def suggestions(prompt: str) -> list[Suggestion]:
    """Each listed verb in the simple present or past, with its progressive form, in the
    order they appear (each word once)."""
    lists = _lists()
    words = _WORD.findall(prompt.lower())
    found: dict[str, str] = {}
    for i, word in enumerate(words):
        if word in found or (word not in lists.present and word not in lists.past):
            continue
        j = _subject(words, i, lists)
        if j is None or words[j] in lists.not_subjects:
            continue
        subject = words[j]
        if word in lists.present:
            following = words[i + 1] if i + 1 < len(words) else ""
            if following in lists.forms or following.endswith("ing"):
                continue  # a noun followed by its verb: "the waves crashed"
            if not (subject in lists.singular or _after_determiner(words, j, lists)):
                continue
            found[word] = f"is {lists.present[word]}"
        else:
            found[word] = f"{'are' if _plural(subject, lists) else 'is'} {lists.past[word]}"
    return [Suggestion(word, better) for word, better in found.items()]


def _subject(words: list[str], i: int, lists: _Lists) -> int | None:
    """The index of the word before `i`, past at most MAX_ADVERBS adverbs."""
    j = i - 1
    while j >= 0 and i - j <= MAX_ADVERBS and _adverb(words[j], lists):
        j -= 1
    return j if j >= 0 else None


def _adverb(word: str, lists: _Lists) -> bool:
    return word.endswith("ly") and len(word) > 4 and word not in lists.not_adverbs


def _after_determiner(words: list[str], j: int, lists: _Lists) -> bool:
    """A noun phrase "a man" or "a young man" ending at `j`, not after a preposition."""
    for k in (j - 1, j - 2):
        if k >= 0 and words[k] in lists.determiners:
            if k == j - 2 and words[j - 1] in lists.not_subjects:
                return False
            return not (k > 0 and words[k - 1] in lists.prepositions)
    return False


def _plural(subject: str, lists: _Lists) -> bool:
    if subject in lists.plural:
        return True
    if subject in lists.singular:
        return False
    return subject.endswith("s") and not subject.endswith(("ss", "us", "is"))
