"""What the worker hands each model: the photo blurred around its subject for --focus,
the English a model that reads English only needs, Wan's prompts as written, the sampler's
eta; and what it reports back in the video's parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.spec.params import GenParams
from engine.spec.work import RenderSpec, WorkEvent, WorkKind
from engine.video import read_video
from engine.worker import BatchRenderer
from tests.engine.spy import Spy
from tests.engine.test_focus import detail, striped_ball_on_grain

CHINESE = "一只猫在慢慢地转头"  # the tiny translator knows it: "a cat is turning its head slowly"


def render(renderer: BatchRenderer, folder: Path, **params: Any) -> WorkEvent:
    folder.mkdir(parents=True, exist_ok=True)
    photo = folder / "photo.png"
    striped_ball_on_grain().save(photo)
    spec = RenderSpec("job1", GenParams(**{"prompt": "a cat turning", "width": 64,
                                           "height": 64, "frames": 8, "steps": 2, "seed": 3,
                                           **params}), photo, folder / "job1.mp4")
    events: list[WorkEvent] = []
    renderer.run([spec], events.append, lambda: False)
    assert events[-1].kind is WorkKind.DONE, events[-1]
    return events[-1]


def test_a_chinese_prompt_reaches_i2vgen_xl_in_english_and_the_original_is_kept(
        tiny_engine, tiny_translator, tmp_path, monkeypatch) -> None:
    spy = Spy(tiny_engine, monkeypatch)
    done = render(BatchRenderer(tiny_engine, translator=tiny_translator), tmp_path,
                  prompt=CHINESE, negative_prompt="模糊，变形")
    assert spy.encoded == ["a cat is turning its head slowly", "blurry, distorted"]
    assert done.video is not None and done.video.params is not None
    made = done.video.params
    assert (made.prompt, made.negative_prompt) == (CHINESE, "模糊，变形")
    assert (made.prompt_language, made.translated_prompt, made.translated_negative) == (
        "zh", "a cat is turning its head slowly", "blurry, distorted")


def test_without_a_translator_the_prompt_is_read_as_written(tiny_engine, tmp_path,
                                                          monkeypatch) -> None:
    spy = Spy(tiny_engine, monkeypatch)
    done = render(BatchRenderer(tiny_engine), tmp_path, prompt=CHINESE)  # I2V_TRANSLATE=off
    assert spy.encoded[0] == CHINESE
    assert done.video is not None and done.video.params is not None
    assert done.video.params.translated_prompt is None


def test_wans_prompts_are_never_translated(tiny_wan, tiny_translator, tmp_path,
                                           monkeypatch) -> None:
    pipe = tiny_wan.pipeline
    read: list[tuple[str, str]] = []
    encode = pipe.encode_prompt

    def recording(prompt: Any, negative_prompt: Any = None, *args: Any, **kwargs: Any) -> Any:
        read.append((prompt, negative_prompt))
        return encode(prompt, negative_prompt, *args, **kwargs)

    monkeypatch.setattr(pipe, "encode_prompt", recording)
    done = render(BatchRenderer(tiny_wan, translator=tiny_translator), tmp_path,
                  model="wan", prompt=CHINESE, negative_prompt="模糊，变形", frames=17,
                  width=64, height=64)
    assert read == [(CHINESE, "模糊，变形")]
    assert done.video is not None and done.video.params is not None
    assert done.video.params.translated_prompt is None
    assert done.video.params.prompt_language is None  # not even looked at


def test_focus_blurs_the_background_of_the_photo_the_engine_receives(
        tiny_engine, tmp_path, monkeypatch) -> None:
    spy = Spy(tiny_engine, monkeypatch)
    renderer = BatchRenderer(tiny_engine)
    render(renderer, tmp_path)
    render(renderer, tmp_path, focus=1.5)
    plain, focused = (np.asarray(job.image) for job in spy.jobs)
    assert np.array_equal(plain, np.asarray(striped_ball_on_grain()))
    corner = (slice(240, 320), slice(0, 200))
    assert detail(focused[corner]) < detail(plain[corner]) / 20
    ball = (slice(60, 180), slice(300, 420))
    assert np.array_equal(focused[ball], plain[ball])
    assert spy.jobs[1].params.focus == 1.5


def test_eta_reaches_the_ddim_sampler_and_changes_the_video(tiny_engine, tmp_path,
                                                           monkeypatch) -> None:
    spy = Spy(tiny_engine, monkeypatch)
    renderer = BatchRenderer(tiny_engine)
    stock = render(renderer, tmp_path / "stock")
    noisy = render(renderer, tmp_path / "noisy", eta=0.3)
    assert "eta" not in spy.calls[0] and spy.calls[1]["eta"] == 0.3  # default: the model's
    assert noisy.video is not None and noisy.video.params is not None
    assert noisy.video.params.eta == 0.3
    assert stock.video is not None
    assert not np.array_equal(read_video(stock.video.path)[0],
                              read_video(noisy.video.path)[0])
