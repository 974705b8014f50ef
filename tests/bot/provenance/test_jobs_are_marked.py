"""Every video the core delivers is marked as made by AI: signed after the worker made it
(an extension naming the video it continues), labelled when the operator wants, within the
platform's upload limit; a video that cannot be signed is not sent, and its credits go back.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from adapters.app import App
from bot.models import ChatRef, EventKind, JobStatus
from bot.provenance.credentials import ProvenanceError
from bot.provenance.verify import verify
from tests.bot.conftest import END, FAST, Recorder, make_settings, request
from tests.credentials import active_manifest, made_by_ai
from tests.fake_executor import FakeExecutor


async def started(settings) -> tuple[App, Recorder, FakeExecutor]:
    recorder, gpu = Recorder(), FakeExecutor()
    app = await App.build(settings, executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    return app, recorder, gpu


async def finished(app, recorder, job):
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.reason
    return done


def mp4_tags(path) -> str:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True).stderr


async def test_a_finished_video_is_signed_and_an_extension_names_its_parent(app, recorder):
    first = await app.core.submit(request(caption=f"a boat sailing {FAST} --seed 1"))
    one = await finished(app, recorder, first)
    assert one.result.size_bytes == one.result.path.stat().st_size  # as signed
    action = made_by_ai(one.result.path)
    assert action["parameters"]["model"] == "i2vgen-xl" and \
        action["parameters"]["job"] == first.id
    assert "Made with AI: I2VGen-XL (i2vgen-xl)" in mp4_tags(one.result.path)
    await app.core.delivered(first.id)

    second = await app.core.extend(request().person, first.id, "the boat turning left")
    two = await finished(app, recorder, second)
    parents = [i["title"] for i in active_manifest(two.result.path)["ingredients"]
               if i["relationship"] == "parentOf"]
    assert parents == [one.result.path.name]
    assert verify(two.result.path).valid


async def test_the_label_changes_only_its_corner_of_the_frames_and_poster(tmp_path):
    posters = {}
    for label in ("", "AI"):
        app, recorder, _ = await started(make_settings(tmp_path / f"data{label}",
                                                       I2V_WATERMARK=label))
        try:
            job = await app.core.submit(request(caption=f"waves {FAST} --size 320x192 "
                                                        "--seed 5"))
            done = await finished(app, recorder, job)
            with Image.open(done.result.poster) as poster:
                posters[label] = np.asarray(poster.convert("RGB")).astype(int)
        finally:
            await app.close()
    changed = np.abs(posters["AI"] - posters[""]).max(axis=2) > 8
    rows, cols = np.nonzero(changed)
    assert len(rows) > 20  # the label is there...
    height, width = changed.shape
    assert rows.min() >= height * 0.75 and cols.min() >= width * 0.75  # ...in its corner only


async def test_an_upload_limit_keeps_room_for_the_signature(app, gpu, recorder):
    limit = 2_000_000
    job = await app.core.submit(replace(request(), chat=ChatRef("cli", "u1",
                                                                  upload_limit=limit)))
    done = await finished(app, recorder, job)
    spec = gpu.specs[job.id]
    assert spec.max_bytes == limit and spec.headroom == app.marking.reserve(job) > 3000
    assert done.result.size_bytes <= limit


async def test_a_video_that_cannot_be_signed_is_not_sent_and_its_credits_come_back(
        app, recorder):
    class Broken:
        label = ""
        notice = None

        def reserve(self, job):
            return 0

        def sign(self, video, job, parent):
            raise OSError("disk full")

    app.lifecycle.marking = Broken()
    job = await app.core.submit(request())
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.FAILED and end.reason.key == "sign_failed"
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.FAILED and stored.output_path is None
    assert await app.store.job_ledger_sum(job.id) == 0
    assert not list(app.outputs.videos.glob(f"*{job.id}*"))


async def test_provenance_off_leaves_the_manifest_out_but_keeps_the_tags(tmp_path):
    app, recorder, _ = await started(make_settings(tmp_path / "data", I2V_PROVENANCE="off"))
    try:
        done = await finished(app, recorder, await app.core.submit(request()))
        assert not verify(done.result.path).found
        assert "Made with AI" in mp4_tags(done.result.path)
        assert not (tmp_path / "data" / "c2pa").exists()
    finally:
        await app.close()


async def test_a_broken_key_stops_the_build_before_anything_opens(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    settings = make_settings(tmp_path / "data", I2V_C2PA_CERT=cert, I2V_C2PA_KEY=key)
    with pytest.raises(ProvenanceError, match="I2V_C2PA_CERT"):
        await App.build(settings, executor=FakeExecutor())
    assert not settings.db_path.exists()
