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
    ("waves --eta 0.3", "waves", None, {"eta": 0.3}),
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
    ("waves --res 300p", "bad_flag_value",
     "--res needs 256p/512p/768p/1024p (turbo, wan: 480p/720p)"),
    ("waves --gs high", "bad_flag_value", "--guidance needs 1.0-20.0"),
    ("waves --eta lots", "bad_flag_value", "--eta needs a number 0-1 (i2vgen-xl: 0-1, "
     "not for turbo, not for wan)"),
    ("waves --recipe dancing", "bad_flag_value", "--recipe needs one of walking, waves, "
     "turning"),
    ("waves --focus=2", "bad_flag_value", "--focus needs nothing"),
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
    ({"eta": 1.5}, "eta must be between 0.0 and 1.0 (got 1.5)"),
    ({"eta": float("nan")}, "eta must be between 0.0 and 1.0"),
    ({"eta": 0.3, "fast": True}, "--eta does not go with --fast: the speed mode samples "
     "with DPM-Solver++"),
    ({"eta": 0.3, "model": "wan"}, "Wan 2.2 TI2V-5B samples without an eta"),
    ({"recipe": "walking", "model": "wan"}, "Wan 2.2 TI2V-5B has no recipes"),
    ({"focus": 50.0}, "focus must be between 0.1 and 10.0"),
]


@pytest.mark.parametrize(("overrides", "message"), OUT_OF_RANGE)
def test_values_out_of_range_name_the_range(overrides, message):
    with pytest.raises(Rejected) as err:
        model = overrides.pop("model", "i2vgen-xl")
        GenParams.from_preset("standard", "waves", model=model, **overrides)
    assert message in str(UserError.from_rejection(err.value))


def test_flags_override_the_preset():
    parsed = parse_caption("waves --preset high --frames 8")
    params = GenParams.from_preset(parsed.preset, parsed.prompt, **parsed.overrides)
    assert (params.resolution, params.frames, params.fps, params.steps) == ("768p", 8, 12, 80)


def test_focus_and_recipe_are_read_from_the_caption():
    parsed = parse_caption("a man walking --focus --recipe Walking --steps 40")
    assert (parsed.prompt, parsed.focus, parsed.recipe) == ("a man walking", True, "walking")
    assert parsed.overrides == {"steps": 40}
    assert not parse_caption("a man walking").focus


def test_a_recipe_sets_its_tested_values_between_the_preset_and_the_flags():
    params = GenParams.from_preset("preview", "waves", recipe="waves", guidance=9.0)
    assert (params.width, params.height, params.frames, params.fps, params.steps) == (
        768, 448, 24, 12, 70)
    assert params.guidance == 9.0 and params.recipe == "waves"  # the flag wins over it


def test_a_recipes_size_follows_a_photo_of_another_shape():
    walking = GenParams.from_preset("standard", "a man walking", recipe="walking")
    assert (walking.width, walking.height) == (640, 384)
    # A 3:2 photo fits 640x384 (the crop keeps 90% of it): the tested size stays.
    assert walking.sized_for(1500, 1000).width == 640
    # A portrait would lose 60%: the same pixel budget, shaped like the photo.
    upright = walking.sized_for(1000, 1500)
    assert (upright.width, upright.height) == (384, 576)
    assert upright.width * upright.height <= 640 * 384
    # A size asked for in the caption is kept whatever the photo.
    asked = GenParams.from_preset("standard", "x", recipe="walking", width=512, height=512)
    assert asked.sized_for(1000, 1500).width == 512
