"""The web page's coach and the chats' are one rule: the page's script (app.js) and
bot/coach.py, on the same word lists, say the same thing about the same prompts."""

from __future__ import annotations

import pytest

from bot.coach import suggestions, words_data
from tests.bot.test_coach import SENTENCES

pytestmark = pytest.mark.asyncio(loop_scope="module")


def corpus() -> list[str]:
    """The coach's own test sentences, and every listed verb form after subjects of each
    kind the rule tells apart."""
    subjects = ["a man", "the waves", "she", "they", "a young woman", "over the sea",
                "he has", "people", "the octopus slowly", "and", ""]
    forms = [form for row in words_data()["verbs"] for form in row if form]
    made = [f"{subject} {form} {after}".strip() for subject in subjects for form in forms
            for after in ("", "slowly", "crashing")]
    return [prompt for prompt, _ in SENTENCES] + made


async def test_the_page_and_the_server_coach_alike(page, served):
    await page.goto(served.url)
    prompts = corpus()
    in_the_page = await page.evaluate(
        "prompts => prompts.map(p => window.coachSuggestions(p))", prompts)
    on_the_server = [[{"found": s.found, "better": s.better} for s in suggestions(p)]
                     for p in prompts]
    disagree = [(p, js, py) for p, js, py in zip(prompts, in_the_page, on_the_server,
                                                 strict=True) if js != py]
    assert disagree == []
    assert sum(bool(found) for found in on_the_server) > len(prompts) // 4  # it does fire
