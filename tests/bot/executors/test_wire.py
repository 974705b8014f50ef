"""What travels to remote workers and back through Redis is JSON: every parameter a job
has (its label and limits, focus, eta, recipe, moderation's thresholds) reaches the worker,
and what the model read, or the scores of a video its worker refused, come back."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from bot.executors.wire import outcome_from_wire, outcome_to_wire, spec_from_wire, spec_to_wire
from engine.spec.moderation import REFUSED_VIDEO, Thresholds
from engine.spec.params import GenParams
from engine.spec.work import RenderSpec, Video, WorkEvent, WorkKind


def through_redis(data: dict) -> dict:
    return json.loads(json.dumps(data))


def test_a_jobs_parameters_reach_the_worker_and_what_the_model_read_comes_back(tmp_path):
    params = GenParams.from_preset("standard", "一只猫在慢慢地转头", recipe="turning",
                                   focus=1.5, eta=0.3, seed=4, negative_prompt="模糊")
    spec = RenderSpec("job1", params, Path("in.img"), Path("out.mp4"), max_bytes=10)
    received = spec_from_wire(through_redis(spec_to_wire(spec)), tmp_path)
    assert received.params == params
    read = replace(params, prompt_language="zh", width=512, height=512,
                   translated_prompt="a cat is turning its head slowly",
                   translated_negative="blurry")
    video = Video(path=tmp_path / "job1.mp4", poster=tmp_path / "job1.jpg", width=512,
                  height=512, frames=16, fps=8, duration=2.0, size_bytes=100, params=read)
    back = outcome_from_wire("job1", through_redis(outcome_to_wire(
        WorkEvent(WorkKind.DONE, "job1", video=video))), tmp_path / "job1.mp4")
    assert back.video is not None and back.video.params == read


def test_a_newer_workers_unknown_parameter_is_dropped_not_fatal(tmp_path):
    sent = {"job_id": "job1", "params": {**asdict(GenParams(prompt="waves")),
                                         "something_new": 1}, "max_bytes": None}
    assert spec_from_wire(sent, tmp_path).params == GenParams(prompt="waves")


def test_a_spec_reaches_the_worker_with_its_label_limit_and_extension(tmp_path: Path):
    spec = RenderSpec(job_id="abc", params=GenParams(prompt="waves", seed=3, width=128,
                                                     height=128),
                      photo=None, output=tmp_path / "bot.mp4", max_bytes=1234, headroom=99,
                      extends=tmp_path / "before.mp4", label="AI")
    there = spec_from_wire(json.loads(json.dumps(spec_to_wire(spec))), tmp_path / "worker")
    assert there.label == "AI" and there.params == spec.params
    assert (there.max_bytes, there.headroom) == (1234, 99)
    assert there.photo is None and there.extends == tmp_path / "worker" / "abc.before.mp4"
    assert there.output == tmp_path / "worker" / "abc.mp4"


def _spec(moderation: Thresholds | None) -> RenderSpec:
    return RenderSpec(job_id="abc234", params=GenParams(prompt="waves", seed=1),
                      photo=Path("in.img"), output=Path("out.mp4"), moderation=moderation)


def test_a_specs_thresholds_reach_the_worker_and_none_stays_none(tmp_path):
    for moderation in (Thresholds.parse("nsfw:0.35,gore:0.9"), None):
        wire = json.loads(json.dumps(spec_to_wire(_spec(moderation))))  # as SAQ stores it
        assert spec_from_wire(wire, tmp_path).moderation == moderation


def test_a_refused_videos_scores_come_back_to_the_bot(tmp_path):
    verdict = Thresholds().judge("video", {"nsfw": 0.93, "normal": 0.07})
    event = WorkEvent(WorkKind.FAILED, "abc234", reason=REFUSED_VIDEO, verdict=verdict,
                      detail="refused by moderation")
    wire = json.loads(json.dumps(outcome_to_wire(event)))
    back = outcome_from_wire("abc234", wire, tmp_path / "out.mp4")
    assert back.reason == REFUSED_VIDEO and back.verdict == verdict
    plain = outcome_to_wire(WorkEvent(WorkKind.FAILED, "abc234", reason="nan_frames"))
    assert outcome_from_wire("abc234", plain, tmp_path / "out.mp4").verdict is None
