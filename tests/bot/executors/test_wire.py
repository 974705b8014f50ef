"""What crosses Redis to an `i2vbot worker` and back keeps moderation's part: the thresholds
a job's video is checked against, and the scores of a video its worker refused."""

from __future__ import annotations

import json
from pathlib import Path

from bot.executors.wire import outcome_from_wire, outcome_to_wire, spec_from_wire, spec_to_wire
from engine.spec.moderation import REFUSED_VIDEO, Thresholds
from engine.spec.params import GenParams
from engine.spec.work import RenderSpec, WorkEvent, WorkKind


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
