"""The caption grammar: what people type, and what they are told when it is wrong."""

import pytest

from bot.captions import parse_caption
from bot.errors import UserError
from engine.spec.errors import Rejected
from engine.spec.params import GenParams

GOOD = [
    ("a cat turning its head", "a cat turning its head", None, {}),
    ("/animate a dog running", "a dog running", None, {}),
    ("/animate@I2VBot a dog running --seed 3", "a dog running", None, {"seed": 3}),
    ("waves --preset high --frames 24 --fps 12", "waves", "high",
     {"frames": 24, "fps": 12}),
    ("waves --gs 11.5 --steps 60", "waves", None, {"guidance": 11.5, "steps": 60}),
    ("waves --guidance=7", "waves", None, {"guidance": 7.0}),
    ("waves --neg blurry, dark --seed 9", "waves", None,
     {"negative_prompt": "blurry, dark", "seed": 9}),
    ("waves --size 640x384", "waves", None, {"width": 640, "height": 384}),
    ("waves --res 768p", "waves", None, {"resolution": "768p"}),
    ("waves --res 256", "waves", None, {"resolution": "256p"}),
    ("a girl —seed 5 smiling", "a girl smiling", None, {"seed": 5}),  # phone em dash
    ("  ", "", None, {}),
]


@pytest.mark.parametrize(("caption", "prompt", "preset", "overrides"), GOOD)
def test_good_captions(caption, prompt, preset, overrides):
    parsed = parse_caption(caption)
    assert parsed.prompt == prompt
    assert parsed.preset == preset
    assert parsed.overrides == overrides


BAD = [
    ("waves --speed 3", "unknown_flag", "Unknown option --speed"),
    ("waves --seed", "bad_flag_value", "--seed needs a whole number 0-4294967295"),
    ("waves --seed abc", "bad_flag_value", "(got 'abc')"),
    ("waves --preset ultra", "bad_flag_value", "--preset needs one of preview, standard"),
    ("waves --size big", "bad_flag_value", "--size needs WIDTHxHEIGHT"),
    ("waves --res 300p", "bad_flag_value", "--res needs 256p/512p/768p/1024p (wan: 480p/720p)"),
    ("waves --gs high", "bad_flag_value", "--guidance needs 1.0-20.0"),
    ("x" * 5000, "caption_too_long", "The caption is 5000 characters; the limit is 2000"),
]


@pytest.mark.parametrize(("caption", "key", "message"), BAD)
def test_bad_captions_say_what_is_wrong(caption, key, message):
    with pytest.raises(UserError) as err:
        parse_caption(caption)
    assert err.value.key == key
    assert message in str(err.value)


OUT_OF_RANGE = [
    ({"frames": 999}, "frames must be between 8 and 32 (got 999)"),
    ({"frames": 7}, "frames must be between 8 and 32"),
    ({"fps": 30}, "fps must be between 4 and 24"),
    ({"steps": 5}, "steps must be between 10 and 100"),
    ({"guidance": 25.0}, "guidance must be between 1.0 and 20.0"),
    ({"seed": -1}, "seed must be between 0 and 4294967295 (got -1)"),
    ({"width": 10, "height": 10}, "Size 10x10 is not allowed: each side must be a multiple of 64"),
    ({"width": 2048, "height": 2048}, "over the 1024p pixel budget"),
]


@pytest.mark.parametrize(("overrides", "message"), OUT_OF_RANGE)
def test_values_out_of_range_name_the_range(overrides, message):
    with pytest.raises(Rejected) as err:
        GenParams.from_preset("standard", "waves", **overrides)
    assert message in str(UserError.from_rejection(err.value))


def test_flags_override_the_preset():
    parsed = parse_caption("waves --preset high --frames 8")
    params = GenParams.from_preset(parsed.preset, parsed.prompt, **parsed.overrides)
    assert (params.resolution, params.frames, params.fps, params.steps) == ("768p", 8, 12, 80)
