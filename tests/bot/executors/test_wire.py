"""What a remote worker is told: the spec survives the trip through Redis's JSON."""

from __future__ import annotations

import json
from pathlib import Path

from bot.executors.wire import spec_from_wire, spec_to_wire
from engine.spec.params import GenParams
from engine.spec.work import RenderSpec


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
