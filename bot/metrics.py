"""Prometheus metrics of the bot (I2V_METRICS_PORT): the queue, the waits, the jobs and the
GPU workers, read from the lifecycle when Prometheus scrapes. Off unless a port is set."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from bot.jobs.lifecycle import Lifecycle
from bot.models import Job, JobStatus

log = logging.getLogger(__name__)


class Metrics:
    def __init__(self, lifecycle: Lifecycle, registry: Any = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = registry or CollectorRegistry()
        self.lifecycle = lifecycle
        self.jobs = Counter("i2v_jobs", "Jobs that ended, by how", ["status"],
                            registry=self.registry)
        self.wait = Histogram("i2v_wait_seconds", "From accepted to started",
                              buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600),
                              registry=self.registry)
        self.run = Histogram("i2v_run_seconds", "From started to the video made",
                             buckets=(1, 2, 5, 10, 20, 40, 80, 160, 320, 640),
                             registry=self.registry)
        self.registry.register(_Live(lifecycle))
        lifecycle.watch(self)

    def serve(self, port: int) -> None:
        from prometheus_client import start_http_server

        start_http_server(port, registry=self.registry)
        log.info("metrics on :%d/metrics", port)

    # The lifecycle's watcher interface

    def started(self, job: Job) -> None:
        if job.started_at is not None:
            self.wait.observe(max(0.0, job.started_at - job.created_at))

    def ended(self, job: Job) -> None:
        self.jobs.labels(status=job.status.value).inc()
        if job.status is JobStatus.DONE and job.run_seconds is not None:
            self.run.observe(job.run_seconds)


class _Live:
    """What is true now, read at each scrape."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        yield GaugeMetricFamily("i2v_queue_length", "Jobs waiting",
                                value=self.lifecycle.waiting())
        yield GaugeMetricFamily("i2v_running_jobs", "Jobs on a GPU now",
                                value=len(self.lifecycle.running_jobs()))
        busy = GaugeMetricFamily("i2v_worker_busy", "1 while a worker runs a job",
                                 labels=["worker", "gpu"])
        for worker in self.lifecycle.workers():
            busy.add_metric([worker.name, worker.gpu], 1 if worker.busy else 0)
        yield busy
