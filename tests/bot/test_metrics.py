"""Prometheus metrics: what an operator's dashboard reads from the running bot."""

from __future__ import annotations

from prometheus_client import generate_latest

from bot.metrics import Metrics
from tests.bot.conftest import END, request


async def test_the_queue_the_jobs_and_the_workers_are_exported(app, gpu, recorder):
    metrics = Metrics(app.lifecycle)
    await app.lifecycle.set_paused(True)
    waiting = await app.core.submit(request("ann"))
    text = generate_latest(metrics.registry).decode()
    assert "i2v_queue_length 1.0" in text and "i2v_running_jobs 0.0" in text
    assert 'i2v_worker_busy{gpu="no GPU",worker="fake"} 0.0' in text
    await app.lifecycle.set_paused(False)
    await recorder.wait_for(waiting.id, END)
    gpu.script("explode", fail="nan_frames")
    failing = await app.core.submit(request("bob", caption="explode --size 128x128 "
                                                           "--frames 8 --steps 10"))
    await recorder.wait_for(failing.id, END)
    text = generate_latest(metrics.registry).decode()
    assert 'i2v_jobs_total{status="done"} 1.0' in text
    assert 'i2v_jobs_total{status="failed"} 1.0' in text
    assert "i2v_wait_seconds_count 2.0" in text and "i2v_run_seconds_count 1.0" in text
