"""The one-GPU queue: order, cancellation, and jobs that outlive a crash."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time

from adapters.app import App
from bot.models import EventKind, JobStatus
from tests.core.conftest import FAST, Recorder, make_settings, request
from tests.images import make_photo

END = (EventKind.DONE, EventKind.FAILED, EventKind.CANCELLED)


async def test_a_job_goes_from_queued_to_done_with_every_event(app, recorder):
    job = await app.core.submit(request(caption=f"a cat turning its head --seed 11 {FAST}"))
    done = await recorder.wait_for(job.id, END)
    assert done.kind is EventKind.DONE, done.message
    kinds = recorder.kinds(job.id)
    assert kinds[:2] == [EventKind.QUEUED, EventKind.STARTED]
    assert kinds.count(EventKind.PROGRESS) == 10
    assert kinds[-2:] == [EventKind.ENCODING, EventKind.DONE]
    assert done.result.frames == 8 and (done.result.width, done.result.height) == (128, 128)
    assert done.result.path.exists() and done.result.params_path.exists()
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.DONE and stored.seed == 11
    assert [s for s, _ in await app.store.transitions(job.id)] == [
        JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.DONE]


async def test_one_users_jobs_run_in_the_order_they_came(app, recorder):
    await app.queue.set_paused(True)
    jobs = [await app.core.submit(request()) for _ in range(3)]
    await app.queue.set_paused(False)
    for job in jobs:
        await recorder.wait_for(job.id, END)
    assert recorder.started_order() == [j.id for j in jobs]


async def test_queued_events_tell_the_place_in_line(app, recorder):
    await app.queue.set_paused(True)
    first = await app.core.submit(request("u1"))
    second = await app.core.submit(request("u1"))
    await recorder.wait_for(second.id, [EventKind.QUEUED])
    positions = {e.job.id: e.position for e in recorder.events if e.kind is EventKind.QUEUED}
    assert positions == {first.id: 1, second.id: 2}


async def test_cancelling_a_queued_job_refunds_it_and_keeps_the_rest(app, recorder):
    await app.queue.set_paused(True)
    keep = await app.core.submit(request())
    drop = await app.core.submit(request())
    cancelled = await app.core.cancel(request().person, drop.id)
    assert cancelled.status is JobStatus.CANCELLED
    await app.queue.set_paused(False)
    assert (await recorder.wait_for(keep.id, END)).kind is EventKind.DONE
    assert (await recorder.wait_for(drop.id, END)).kind is EventKind.CANCELLED
    assert EventKind.STARTED not in recorder.kinds(drop.id)
    assert await app.store.job_ledger_sum(drop.id) == 0
    assert await app.store.job_ledger_sum(keep.id) == -keep.cost


async def test_cancelling_a_running_job_stops_it_within_a_step(app, recorder):
    job = await app.core.submit(request(caption=f"waves {FAST} --steps 100"))
    await recorder.wait_for(job.id, [EventKind.PROGRESS])
    await app.core.cancel(request().person)  # no id: the person's active job
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.CANCELLED
    steps = [e.step for e in recorder.events if e.job.id == job.id and e.kind is EventKind.PROGRESS]
    assert max(steps) < 100
    stored = await app.store.get_job(job.id)
    assert stored.status is JobStatus.CANCELLED and stored.output_path is None
    assert await app.store.job_ledger_sum(job.id) == 0


async def test_bad_input_is_refused_and_the_next_job_still_runs(app, recorder, tmp_path):
    from engine.errors import UserError

    bad = [
        (request(image=b""), "empty"),
        (request(image=b"this is not a photo"), "not"),
        (request(caption=""), "Add a caption"),
        (request(caption="x" * 5000), "5000 characters"),
        (request(caption="waves --frames 999"), "frames must be between 8 and 32"),
        (request(caption="waves --seed -1"), "seed"),
        (request(caption="waves --size 10x10"), "Size 10x10 is not allowed"),
    ]
    for req, words in bad:
        try:
            await app.core.submit(req)
        except UserError as exc:
            assert words.lower() in exc.message.lower(), exc.message
        else:
            raise AssertionError(f"accepted {req.caption!r}")
    assert await app.store.count_active() == 0
    good = await app.core.submit(request())
    assert (await recorder.wait_for(good.id, END)).kind is EventKind.DONE


async def test_a_job_cut_off_twice_fails_with_a_notice_and_a_refund(settings, tiny_engine):
    app = await App.build(settings, renderer=tiny_engine)
    recorder = Recorder()
    app.events.register("test", recorder)
    await app.queue.set_paused(True)
    job = await app.core.submit(request())
    await app.store.update_job(job.id, status=JobStatus.RUNNING, attempts=2)
    await app.queue.start()
    end = await recorder.wait_for(job.id, END)
    await app.close()
    assert end.kind is EventKind.FAILED and "restarted twice" in end.message
    assert await _ledger_sum(settings, job.id) == 0


async def _ledger_sum(settings, job_id):
    with sqlite3.connect(settings.db_path) as db:
        return db.execute("SELECT sum(delta) FROM ledger WHERE job_id = ?", (job_id,)).fetchone()[0]


def _latest_job(db_path):
    """(id, status) of the newest job, or None while the file is still being created."""
    try:
        with sqlite3.connect(db_path) as db:
            return db.execute(
                "SELECT id, status FROM jobs ORDER BY created_at DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None


async def test_a_process_killed_during_a_job_finishes_it_after_restart(tmp_path, tiny_model_dir,
                                                                       tiny_engine):
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
            if row and row[1] == "running":
                break
            assert proc.poll() is None, "the CLI ended before its job started"
            time.sleep(0.2)
        else:
            raise AssertionError("the job never started")
        time.sleep(1.0)  # well inside its 100 steps
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    job_id = row[0]

    settings = make_settings(data, I2V_MODEL=str(tiny_model_dir))
    app = await App.build(settings, renderer=tiny_engine)
    recorder = Recorder()
    app.events.register("cli", recorder)
    await app.start()
    try:
        end = await recorder.wait_for(job_id, END, timeout=120)
    finally:
        await app.close()
    assert end.kind is EventKind.DONE, end.message
    assert end.job.attempts == 2 and end.job.seed == 3
    assert end.result.path.exists() and end.result.frames == 8


async def test_compatible_jobs_share_a_batch_and_a_cancel_stops_only_its_own(tmp_path,
                                                                            tiny_engine):
    settings = make_settings(tmp_path / "data", I2V_MAX_BATCH=3)
    app = await App.build(settings, renderer=tiny_engine)
    recorder = Recorder()
    app.events.register("test", recorder)
    await app.queue.set_paused(True)
    await app.start()
    try:
        a = await app.core.submit(request("ann", caption=f"waves {FAST} --steps 60 --seed 1"))
        b = await app.core.submit(request("bob", caption=f"waves {FAST} --steps 60 --seed 2"))
        other = await app.core.submit(request("cid", caption="waves --size 192x128 "
                                                             "--frames 8 --steps 10"))
        await app.queue.set_paused(False)
        await recorder.wait_for(a.id, [EventKind.PROGRESS])
        started = recorder.started_order()
        assert set(started) == {a.id, b.id}  # the third has another size: not batched
        await app.core.cancel(request("bob").person, b.id)
        assert (await recorder.wait_for(b.id, END)).kind is EventKind.CANCELLED
        done = await recorder.wait_for(a.id, END, timeout=120)
        assert done.kind is EventKind.DONE and done.job.attempts == 1  # requeued, not retried
        assert (await recorder.wait_for(other.id, END)).kind is EventKind.DONE
    finally:
        await app.close()


async def test_a_clean_shutdown_puts_the_running_job_back_without_using_its_retry(
        settings, tiny_engine):
    app = await App.build(settings, renderer=tiny_engine)
    recorder = Recorder()
    app.events.register("test", recorder)
    await app.start()
    job = await app.core.submit(request(caption=f"waves {FAST} --steps 100"))
    await recorder.wait_for(job.id, [EventKind.PROGRESS])
    await app.close()
    stopped = await _job_row(settings, job.id)
    assert stopped == ("queued", 0)

    app = await App.build(settings, renderer=tiny_engine)
    recorder = Recorder()
    app.events.register("test", recorder)
    await app.start()
    try:
        end = await recorder.wait_for(job.id, END, timeout=120)
    finally:
        await app.close()
    assert end.kind is EventKind.DONE and end.job.attempts == 1


async def _job_row(settings, job_id):
    with sqlite3.connect(settings.db_path) as db:
        return db.execute("SELECT status, attempts FROM jobs WHERE id = ?", (job_id,)).fetchone()


async def test_a_cancel_during_encoding_is_honoured_and_refunded(app, recorder):
    loop = asyncio.get_running_loop()
    owner = request().person
    encode = app.queue._encode

    def cancel_then_encode(job, frames):  # the person presses cancel while ffmpeg runs
        asyncio.run_coroutine_threadsafe(app.core.cancel(owner, job.id), loop).result(10)
        return encode(job, frames)

    app.queue._encode = cancel_then_encode
    job = await app.core.submit(request())
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.CANCELLED
    assert (await app.store.get_job(job.id)).status is JobStatus.CANCELLED
    assert await app.store.job_ledger_sum(job.id) == 0


async def test_running_out_of_gpu_memory_tells_the_person_what_helps(app, recorder,
                                                                    tiny_engine, monkeypatch):
    import torch

    def out_of_memory(pipe, **kwargs):  # no GPU here: CUDA's error, raised where it would be
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(tiny_engine, "_call_pipeline", out_of_memory)
    job = await app.core.submit(request(caption="waves --size 640x384 --frames 8 --steps 10"))
    end = await recorder.wait_for(job.id, END)
    assert end.kind is EventKind.FAILED
    assert "ran out of memory" in end.message and "lower resolution" in end.message
    assert await app.store.job_ledger_sum(job.id) == 0
