"""The job lifecycle on the scripted GPU: order, cancellation, lost workers, restarts and
delivery. (Runs on the real tiny engine are at the end.)"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from PIL import Image

from adapters.app import App
from bot.errors import UserError
from bot.jobs.lifecycle import UNREACHABLE_FLAG
from bot.models import EventKind, JobStatus, Person
from bot.texts import text
from bot.views import result_caption, status_line
from tests.bot.conftest import END, FAST, Recorder, make_settings, request, tiny_executor
from tests.fake_executor import FakeExecutor, preview_jpeg
from tests.images import make_photo


async def test_a_job_goes_from_queued_to_delivered_with_every_event(app, gpu, recorder):
    job = await app.core.submit(request(caption=f"a cat turning its head --seed 11 {FAST}"))
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE
    kinds = recorder.kinds(job.id)
    assert kinds[:2] == [EventKind.QUEUED, EventKind.STARTED]
    assert kinds.count(EventKind.PROGRESS) == 10
    assert kinds[-2:] == [EventKind.ENCODING, EventKind.DONE]
    assert done.result.frames == 8 and (done.result.width, done.result.height) == (128, 128)
    assert done.result.path.exists() and done.result.params_path.exists()
    assert (await app.store.get_job(job.id)).status is JobStatus.DONE  # made, not yet sent
    await app.core.delivered(job.id)
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.DELIVERED and stored.seed == 11
    assert [s for s, _ in await app.store.transitions(job.id)] == [
        JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE, JobStatus.DELIVERED]
    assert await app.store.job_ledger_sum(job.id) == -job.cost  # kept


async def test_one_users_jobs_run_in_the_order_they_came(app, recorder):
    await app.lifecycle.set_paused(True)
    jobs = [await app.core.submit(request()) for _ in range(3)]
    await app.lifecycle.set_paused(False)
    for job in jobs:
        await recorder.wait_for(job.id, END)
    assert recorder.started_order() == [j.id for j in jobs]


async def test_queued_events_tell_the_place_in_line_and_the_pause(app, recorder):
    await app.lifecycle.set_paused(True)
    first = await app.core.submit(request("u1"))
    second = await app.core.submit(request("u1"))
    third = await app.core.submit(request("u2"))
    await recorder.wait_for(third.id, [EventKind.QUEUED])
    queued = {e.job.id: e for e in recorder.events if e.kind is EventKind.QUEUED}
    # Each place as it was when the job came: u2's first job then goes before u1's second.
    assert {k: e.position for k, e in queued.items()} == {first.id: 1, second.id: 2,
                                                          third.id: 2}
    assert all(e.paused for e in queued.values())
    view = await app.core.queue_view(request("u1").person)
    assert [(job.id, place) for job, place in view.mine] == [(first.id, 1), (second.id, 3)]
    assert view.length == 3 and view.paused


async def test_cancelling_a_queued_job_refunds_it_and_keeps_the_rest(app, recorder):
    await app.lifecycle.set_paused(True)
    keep = await app.core.submit(request())
    drop = await app.core.submit(request())
    cancelled = await app.core.cancel(request().person, drop.id)
    assert cancelled.status is JobStatus.CANCELLED
    await app.lifecycle.set_paused(False)
    assert (await recorder.wait_for(keep.id, END)).kind is EventKind.DONE
    assert (await recorder.wait_for(drop.id, END)).kind is EventKind.CANCELLED
    assert EventKind.STARTED not in recorder.kinds(drop.id)
    assert await app.store.job_ledger_sum(drop.id) == 0
    assert await app.store.job_ledger_sum(keep.id) == -keep.cost
    with pytest.raises(UserError, match="already cancelled"):
        await app.core.cancel(request().person, drop.id)


async def test_cancelling_a_running_job_stops_it_after_the_current_step(app, gpu, recorder):
    await app.lifecycle.set_paused(True)
    job = await app.core.submit(request())
    gpu.hold(job.id, step=3)
    await app.lifecycle.set_paused(False)
    await gpu.reached(job.id, 3)
    running = await app.core.cancel(request().person)  # no id: the person's active job
    assert running.status is JobStatus.RUNNING  # it stops between two steps
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.CANCELLED
    steps = [e.step for e in recorder.events if e.job.id == job.id
             and e.kind is EventKind.PROGRESS]
    assert steps == [1, 2, 3]  # not one step more
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.CANCELLED and stored.output_path is None
    assert await app.store.job_ledger_sum(job.id) == 0


async def test_a_cancel_during_encoding_is_honoured_and_the_video_discarded(app, gpu,
                                                                           recorder):
    await app.lifecycle.set_paused(True)
    job = await app.core.submit(request())
    gpu.hold_encoding(job.id)
    await app.lifecycle.set_paused(False)
    await recorder.wait_for(job.id, [EventKind.ENCODING])
    await app.core.cancel(request().person, job.id)
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.CANCELLED
    assert (await app.store.get_job(job.id)).status is JobStatus.CANCELLED
    assert await app.store.job_ledger_sum(job.id) == 0
    assert not list(app.outputs.videos.glob(f"*{job.id}*"))


async def test_bad_input_is_refused_at_once_and_the_next_job_still_runs(app, recorder):
    bad = [
        (request(image=b""), "empty"),
        (request(image=b"this is not a photo"), "not an image"),
        (request(image=make_photo(100, 60)), "at least 128 pixels"),
        (request(image=make_photo(160, 128, "GIF")), "GIF images are not supported"),
        (request(caption=""), "Add a caption"),
        (request(caption="x" * 5000), "5000 characters"),
        (request(caption="waves --frames 999"), "frames must be between 8 and 32"),
        (request(caption="waves --seed -1"), "seed"),
        (request(caption="waves --size 10x10"), "Size 10x10 is not allowed"),
    ]
    for req, words in bad:
        with pytest.raises(UserError) as refused:
            await app.core.submit(req)
        assert words.lower() in str(refused.value).lower(), str(refused.value)
    assert app.lifecycle.active() == 0 and await app.store.count_active() == 0
    good = await app.core.submit(request())
    assert (await recorder.wait_for(good.id, END)).kind is EventKind.DONE


async def test_a_damaged_photo_is_refused_before_it_queues_where_photos_are_checked(app):
    cut = make_photo(640, 480)[:3000]  # the header is fine, the pixels are missing
    with pytest.raises(UserError) as refused:  # the classifier decodes it, and cannot
        await app.core.submit(request(image=cut))
    assert refused.value.key == "image_damaged"
    assert app.lifecycle.active() == 0 and await app.store.count_jobs() == 0


async def test_a_damaged_photo_fails_on_the_worker_with_a_notice_and_a_refund(
        tmp_path, tiny_engine, tiny_classifier, recorder):
    # Without moderation the worker is the first to decode the photo.
    settings = make_settings(tmp_path / "data", I2V_MODERATION="off")
    engine_app = await App.build(settings, executor=tiny_executor(tiny_engine, tiny_classifier))
    engine_app.events.register("cli", recorder)
    await engine_app.start()
    try:
        cut = make_photo(640, 480)[:3000]
        job = await engine_app.core.submit(request(image=cut))
        end = await recorder.wait_for(job.id, END)
        assert end.kind is EventKind.FAILED and end.reason.key == "image_damaged"
        assert await engine_app.store.job_ledger_sum(job.id) == 0
    finally:
        await engine_app.close()


async def test_a_failure_on_the_gpu_says_what_helps_and_gives_the_credits_back(app, gpu,
                                                                              recorder):
    gpu.script("explode", fail="nan_frames")
    job = await app.core.submit(request(caption=f"explode {FAST}"))
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.FAILED and end.reason.key == "nan_frames"
    assert await app.store.job_ledger_sum(job.id) == 0
    assert (await app.store.get_job(job.id)).error == "nan_frames"


async def test_a_lost_worker_retries_once_then_fails_with_a_refund(app, gpu, recorder):
    gpu.script("flaky", lose=1)
    gpu.script("cursed", lose=5)
    flaky = await app.core.submit(request("u1", caption=f"flaky {FAST}"))
    done = await recorder.wait_for(flaky.id, END)
    assert done.kind is EventKind.DONE and done.job.attempts == 2
    assert "GPU worker making this video was lost" in result_caption(done.job, done.result)
    cursed = await app.core.submit(request("u2", caption=f"cursed {FAST}"))
    failed = await recorder.wait_for(cursed.id, END)
    assert failed.kind is EventKind.FAILED
    assert status_line(failed) == (f"❌ Job {cursed.id} failed: The GPU worker making it was "
                                   "lost twice. Your credits were returned.")  # not a restart
    assert await app.store.job_ledger_sum(cursed.id) == 0


async def test_a_batch_the_executor_cannot_take_goes_back_in_line_and_runs_later(app, gpu,
                                                                                recorder):
    gpu.fail_submit = ConnectionError("Redis went away")  # as the remote executor's submit
    job = await app.core.submit(request(caption=f"waves {FAST}"))
    await recorder.wait_for_nth(job.id, EventKind.QUEUED, 2)  # back in line, told its place
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.QUEUED and stored.attempts == 0  # its retry is kept
    assert app.lifecycle.running_jobs() == []
    gpu.come_back()  # the executor's next word: it may take jobs again
    assert (await recorder.wait_for(job.id, END)).kind is EventKind.DONE
    assert await app.store.job_ledger_sum(job.id) == -job.cost  # charged once


async def test_while_the_workers_cannot_be_reached_a_photo_is_queued_and_the_person_told(
        tmp_path, gpu, recorder):
    app = await App.build(make_settings(tmp_path / "data", I2V_ADMINS="cli:boss"),
                          executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    try:
        await _while_away(app, gpu, recorder)
    finally:
        await app.close()


async def _while_away(app: App, gpu: FakeExecutor, recorder: Recorder) -> None:
    away = time.time() - 60
    gpu.go_away(away)
    zh = request("mei", caption=f"waves {FAST}")
    zh = dataclasses.replace(zh, chat=dataclasses.replace(zh.chat, language="zh-CN"))
    jobs = [await app.core.submit(request(caption=f"waves {FAST}")), await app.core.submit(zh)]
    queued = [await recorder.wait_for(job.id, [EventKind.QUEUED]) for job in jobs]
    assert status_line(queued[0]).endswith("\nThe GPU workers cannot be reached right now; "
                                           "your video will start when they are back.")
    assert status_line(queued[1]).endswith("\n" + text("workers_unreachable", "zh"))
    boss = Person("cli", "boss")
    stats = await app.admin.run(boss, "stats", [])
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(away))
    assert f"Workers: unreachable since {since}" in stats
    assert await _flag_soon(app, UNREACHABLE_FLAG, f"{away:.0f}")  # what `doctor` reads
    assert EventKind.STARTED not in recorder.kinds(jobs[0].id)
    gpu.come_back()
    for job in jobs:
        assert (await recorder.wait_for(job.id, END)).kind is EventKind.DONE
    assert await _flag_soon(app, UNREACHABLE_FLAG, "")
    assert "Workers: fake (no GPU" in await app.admin.run(boss, "stats", [])


async def _flag_soon(app: App, name: str, value: str) -> bool:
    """The lifecycle notes the executor's word in the store just after it hears it."""
    for _ in range(200):
        if await app.store.get_flag(name) == value:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_compatible_jobs_share_a_batch_and_a_cancel_stops_only_its_own(tmp_path,
                                                                            recorder):
    gpu = FakeExecutor()
    app = await App.build(make_settings(tmp_path / "data", I2V_MAX_BATCH=3), executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    await app.lifecycle.set_paused(True)
    try:
        a = await app.core.submit(request("ann", caption=f"waves {FAST} --seed 1"))
        b = await app.core.submit(request("bob", caption=f"waves {FAST} --seed 2"))
        other = await app.core.submit(request("cid", caption="waves --size 192x128 "
                                                             "--frames 8 --steps 10"))
        gpu.hold(a.id, step=2)
        await app.lifecycle.set_paused(False)
        await gpu.reached(a.id, 2)
        assert gpu.submitted[0] == [a.id, b.id]  # the third has another size: not batched
        await app.core.cancel(request("bob").person, b.id)
        assert (await recorder.wait_for(b.id, END)).kind is EventKind.CANCELLED
        done = await recorder.wait_for(a.id, END)
        assert done.kind is EventKind.DONE and done.job.attempts == 1  # requeued, not retried
        assert (await recorder.wait_for(other.id, END)).kind is EventKind.DONE
    finally:
        await app.close()


async def test_a_clean_shutdown_puts_the_running_job_back_without_using_its_retry(settings):
    gpu, recorder = FakeExecutor(), Recorder()
    app = await App.build(settings, executor=gpu)
    app.events.register("cli", recorder)
    await app.start()
    job = await app.core.submit(request())
    gpu.hold(job.id, step=1)
    await gpu.reached(job.id, 1)
    await app.close()
    assert await _job_row(settings, job.id) == ("queued", 0)

    recorder = Recorder()
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    try:
        end = await recorder.wait_for(job.id, END)
    finally:
        await app.close()
    assert end.kind is EventKind.DONE and end.job.attempts == 1


async def test_a_job_cut_off_twice_fails_with_a_notice_and_a_refund(settings):
    app = await App.build(settings, executor=FakeExecutor())
    recorder = Recorder()
    app.events.register("cli", recorder)
    await app.load()
    job = await app.core.submit(request())
    await app.close()
    with sqlite3.connect(settings.db_path) as db:  # as a process killed twice leaves it
        db.execute("UPDATE jobs SET status = 'running', attempts = 2 WHERE id = ?", (job.id,))
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    end = await recorder.wait_for(job.id, END)
    await app.close()
    assert end.kind is EventKind.FAILED and end.reason.key == "interrupted"
    assert await _ledger_sum(settings, job.id) == 0


async def test_a_video_made_but_not_delivered_is_sent_again_after_a_restart(settings):
    recorder = Recorder()
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    sent = await app.core.submit(request("ann"))
    lost = await app.core.submit(request("bob"))
    for job in (sent, lost):
        assert (await recorder.wait_for(job.id, END)).kind is EventKind.DONE
    await app.close()  # the process ends before either upload was confirmed
    (await _output(settings, lost.id)).unlink()

    recorder = Recorder()
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    try:
        again = await recorder.wait_for(sent.id, END)
        assert again.kind is EventKind.DONE and again.result.path.exists()
        await app.core.delivered(sent.id)
        assert (await app.store.get_job(sent.id)).status is JobStatus.DELIVERED
        gone = await recorder.wait_for(lost.id, END)
        assert gone.kind is EventKind.FAILED and gone.reason.key == "video_lost"
        assert await app.store.job_ledger_sum(lost.id) == 0
        assert await app.store.job_ledger_sum(sent.id) == -sent.cost
    finally:
        await app.close()


async def test_after_a_restart_the_gpu_starts_before_places_are_announced_again(settings):
    app = await App.build(settings, executor=FakeExecutor())
    await app.load()
    jobs = [await app.core.submit(request(f"u{i}")) for i in range(30)]
    await app.close()

    recorder = Recorder()
    app = await App.build(settings, executor=FakeExecutor())
    app.events.register("cli", recorder)
    await app.start()
    try:
        await recorder.wait_for(jobs[0].id, [EventKind.STARTED])
        announced = [e.job.id for e in recorder.events if e.kind is EventKind.QUEUED]
        assert len(announced) < 10  # paced in the background, not before work resumes
        await recorder.wait_for(jobs[-1].id, END)
    finally:
        await app.close()


async def _job_row(settings, job_id):
    with sqlite3.connect(settings.db_path) as db:
        return db.execute("SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()


async def _ledger_sum(settings, job_id):
    with sqlite3.connect(settings.db_path) as db:
        return db.execute("SELECT sum(delta) FROM ledger WHERE job_id = ?", (job_id,)).fetchone()[0]


async def _output(settings, job_id):
    with sqlite3.connect(settings.db_path) as db:
        path = db.execute("SELECT output_path FROM jobs WHERE id = ?", (job_id,)).fetchone()[0]
    from pathlib import Path
    return Path(path)


async def test_previews_go_with_the_spec_and_reach_the_chat_and_0_turns_them_off(tmp_path):
    for every, expected in (("0.25", [3, 6, 9]), ("0", [])):
        gpu, recorder = FakeExecutor(previews=True), Recorder()
        app = await App.build(make_settings(tmp_path / f"data-{every}", I2V_PREVIEW_EVERY=every,
                                            I2V_PREVIEW_SECONDS=7), executor=gpu)
        app.events.register("cli", recorder)
        await app.start()
        try:
            job = await app.core.submit(request(caption=f"a cat turning {FAST}"))
            done = await recorder.wait_for(job.id, END)
            assert done.kind is EventKind.DONE
        finally:
            await app.close()
        shown = [e for e in recorder.events if e.preview is not None]
        assert [e.step for e in shown] == expected, every
        assert all(e.kind is EventKind.PROGRESS and e.total_steps == 10 for e in shown)
        if shown:
            assert shown[0].preview == preview_jpeg(gpu.specs[job.id], 3)
            assert gpu.specs[job.id].previews.min_gap_s == 7


# On the real tiny engine

async def test_the_tiny_engine_makes_the_video_with_every_event(engine_app, recorder):
    job = await engine_app.core.submit(request(caption=f"a cat turning --seed 11 {FAST}"))
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.reason
    progress = [e for e in recorder.events if e.job.id == job.id
                and e.kind is EventKind.PROGRESS]
    assert [e.step for e in progress if e.preview is None] == list(range(1, 11))
    # By default a live preview from a quarter of the steps on (the next ones wait for the
    # gap of I2V_PREVIEW_SECONDS): a JPEG of the video's size.
    previews = [e for e in progress if e.preview is not None]
    assert previews and previews[0].step == 3
    assert Image.open(io.BytesIO(previews[0].preview)).size == (128, 128)
    assert done.result.frames == 8 and (done.result.width, done.result.height) == (128, 128)
    assert done.job.params.seed == 11 and done.result.poster.exists()


async def test_running_out_of_gpu_memory_tells_the_person_what_helps(engine_app, recorder,
                                                                    tiny_engine, monkeypatch):
    import torch

    def out_of_memory(pipe, **kwargs):  # no GPU here: CUDA's error, raised where it would be
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(tiny_engine, "_call_pipeline", out_of_memory)
    job = await engine_app.core.submit(request(
        caption="waves --size 640x384 --frames 8 --steps 10"))
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.FAILED and end.reason.key == "out_of_memory_twice"
    assert end.reason.params == {"size": "640x384", "lower": "256p"}
    assert await engine_app.store.job_ledger_sum(job.id) == 0


def _latest_job(db_path):
    """(id, status) of the newest job, or None while the file is still being created."""
    try:
        with sqlite3.connect(db_path) as db:
            return db.execute(
                "SELECT id, status FROM jobs ORDER BY created_at DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None


@pytest.mark.slow
async def test_a_process_killed_during_a_job_loses_nothing(tmp_path, tiny_model_dir,
                                                          tiny_engine, tiny_classifier):
    """Killed while running (on a fast GPU perhaps already done): after the restart the job
    runs again or its finished video is sent again; either way it arrives."""
    data = tmp_path / "data"
    photo = tmp_path / "cat.png"
    photo.write_bytes(make_photo(160, 128, "PNG"))
    env = {**os.environ, "I2V_DATA_DIR": str(data), "I2V_MODEL": str(tiny_model_dir)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "animate", str(photo),
         f"a cat turning {FAST} --steps 100 --seed 3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            row = (data / "i2vbot.sqlite3").exists() and _latest_job(data / "i2vbot.sqlite3")
            if row and row[1] != "queued":
                break
            assert proc.poll() is None, "the CLI ended before its job started"
            time.sleep(0.05)
        else:
            raise AssertionError("the job never started")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    job_id = row[0]

    settings = make_settings(data, I2V_MODEL=str(tiny_model_dir))
    app = await App.build(settings, executor=tiny_executor(tiny_engine, tiny_classifier))
    recorder = Recorder()
    app.events.register("cli", recorder)
    await app.start()
    try:
        end = await recorder.wait_for(job_id, END, timeout=120)
    finally:
        await app.close()
    assert end.kind is EventKind.DONE, end.reason
    assert end.job.seed == 3 and end.result.path.exists() and end.result.frames == 8
    assert end.job.attempts in (1, 2)


async def test_a_cancel_while_the_job_is_being_claimed_stops_it_on_the_gpu(app, gpu, recorder,
                                                                          monkeypatch):
    import asyncio

    claiming, release = asyncio.Event(), asyncio.Event()
    start_jobs = app.store.start_jobs

    async def slow_start(job_ids, now):  # the claim's transaction is in flight
        claiming.set()
        await release.wait()
        return await start_jobs(job_ids, now)

    monkeypatch.setattr(app.store, "start_jobs", slow_start)
    await app.lifecycle.set_paused(True)
    job = await app.core.submit(request())
    gpu.hold(job.id, step=1)
    await app.lifecycle.set_paused(False)
    await claiming.wait()
    await app.core.cancel(request().person, job.id)
    release.set()
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.CANCELLED
    assert await app.store.job_ledger_sum(job.id) == 0


async def test_the_speed_mode_runs_half_the_steps_on_the_tiny_engine(engine_app, recorder):
    job = await engine_app.core.submit(request(caption=f"a cat turning {FAST} --fast"))
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.reason
    steps = [e.total_steps for e in recorder.events if e.job.id == job.id
             and e.kind is EventKind.PROGRESS]
    assert steps and set(steps) == {5}  # DPM-Solver++ at half of the 10 steps asked for
    assert done.job.params.fast
