"""The prompt coach on real prompts: a simple present or past motion verb gets its
progressive form, everything else (the progressive itself, nouns that look like verbs,
auxiliaries) is left alone. tests/adapters/web/test_coach.py runs the page's script on the
same sentences and checks that it says the same."""

import pytest

from bot.coach import suggestions

# (prompt, [(word, progressive), ...])
SENTENCES = [
    ("a man walks", [("walks", "is walking")]),
    ("a man is walking", []),
    ("A person walking forward naturally, slight arm swing", []),
    ("waves crashed on the shore", [("crashed", "are crashing")]),
    ("Ocean waves crashing on the shore, camera panning left slowly", []),
    ("Gentle waves lapping on the shore", []),
    ("camera flying over the ocean waves", []),
    ("a woman waves slowly", [("waves", "is waving")]),
    ("A woman smiling and waving slowly", []),
    ("The cat slowly turns its head to the right", [("turns", "is turning")]),
    ("a young man walks forward", [("walks", "is walking")]),
    ("she turns her head", [("turns", "is turning")]),
    ("the leaves fell in autumn wind", [("fell", "are falling")]),
    ("a dog ran across the field and jumped", [("ran", "is running")]),
    ("A cat turning its head slowly to the right in soft daylight", []),
    ("he has turned around", []),
    ("people danced in the rain", [("danced", "are dancing")]),
    ("a butterfly flies over the flowers", [("flies", "is flying")]),
    ("the family walks on the beach", [("walks", "is walking")]),
    ("a rose in the wind", []),
    ("the car drove away, smoke rises", [("drove", "is driving")]),
    ("The couple smiled warmly, slight head nods", [("smiled", "is smiling")]),
    ("The octopus swam slowly", [("swam", "is swimming")]),
    ("WAVES CRASHED", [("crashed", "are crashing")]),
    ("一只猫在慢慢地转头", []),
    ("", []),
]


@pytest.mark.parametrize(("prompt", "expected"), SENTENCES)
def test_the_coach_suggests_the_progressive_only_for_simple_forms(prompt, expected):
    assert [(s.found, s.better) for s in suggestions(prompt)] == expected


def test_a_word_is_suggested_once_and_in_the_order_written():
    found = suggestions("a man walks, the dog walks too, and the cat jumped")
    assert [(s.found, s.better) for s in found] == [("walks", "is walking"),
                                                     ("jumped", "is jumping")]
