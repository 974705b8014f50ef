"""The benchmark run's promises: a failing row is a row that says why, a row that would overrun
the time budget is skipped or shortened, and a run stopped by its time limit keeps what it
measured. On the tiny model at a tiny shape."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from benchmarks.budget import Budget, Estimate
from benchmarks.plans import Item
from benchmarks.quality import Scale
from benchmarks.run import RunOptions, run_benchmark
from benchmarks.shapes import Shape
from benchmarks.variants import VARIANTS, Variant
from engine.config import EngineConfig

ROOT = Path(__file__).resolve().parents[2]
SHAPES = {"standard": Shape("standard", 64, 64, 8, 8, 2, 9.0)}


@pytest.fixture
def one_thread() -> object:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def options(tmp_path: Path, model: Path, plan: tuple[Item, ...], **changes: object
            ) -> RunOptions:
    base = EngineConfig(model=str(model), device="cpu")
    return RunOptions(plan=plan, out=tmp_path / "r.md", base=base, runs=1, shapes=SHAPES,
                      command="test", **changes)  # type: ignore[arg-type]


def test_a_row_that_fails_says_why_and_the_run_goes_on(tmp_path: Path, tiny_model_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      one_thread: object) -> None:
    monkeypatch.setitem(VARIANTS, "broken", Variant("broken", {"attention": "no-such-kernel"}))
    plan = (Item("stock", "standard"), Item("broken", "standard"), Item("engine", "standard"),
            Item("stock", "standard", again=True))
    result = run_benchmark(options(tmp_path, tiny_model_dir, plan))
    status = {r.variant: (r.status, r.note) for r in result.rows}
    assert status["broken"][0] == "failed" and "Unknown attention" in status["broken"][1]
    assert status["engine"][0] == status["stock (again)"][0] == "ok"
    report = (tmp_path / "r.md").read_text()
    assert "| standard | broken |" in report and "failed: load: InternalError" in report


def test_rows_that_would_overrun_the_budget_are_skipped(tmp_path: Path, tiny_model_dir: Path,
                                                       one_thread: object) -> None:
    plan = (Item("stock", "standard"), Item("engine", "standard"), Item("fast", "standard"),
            Item("stock", "standard", again=True))
    result = run_benchmark(options(tmp_path, tiny_model_dir, plan, budget_seconds=0.5))
    status = [(r.variant, r.status) for r in result.rows]
    assert status[0] == ("stock", "ok")  # the first row has nothing to be judged by: it runs
    assert all(s == "skipped" for _, s in status[1:])
    assert all(r.note.startswith("time budget") for r in result.rows[1:])
    assert "skipped to end within the time budget" in result.stopped


def test_budget_shortens_before_it_skips() -> None:
    now = [0.0]
    budget = Budget(100, clock=lambda: now[0])
    row = Estimate(load=10, per_video=20)
    assert budget.runs_that_fit(row, warmups=1, runs=3) == 3  # 10 + 20 + 3 x 20 = 90
    assert budget.runs_that_fit(row, warmups=1, runs=3, reserve=30) == 2
    now[0] = 55
    assert budget.runs_that_fit(row, warmups=1, runs=3) == 0
    assert not budget.fits(row, warmups=1, runs=3)
    assert budget.fits(Estimate(load=5, per_video=20), warmups=1, runs=0)  # untimed row
    assert Budget(None).runs_that_fit(row, warmups=1, runs=3) == 3


@pytest.mark.slow
def test_a_run_killed_at_its_time_limit_keeps_what_it_measured(tmp_path: Path,
                                                               tiny_model_dir: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "benchmarks.run", "--variants", "stock,engine,fast",
               "--presets", "standard,high,max", "--out", str(out), "--model",
               str(tiny_model_dir), "--device", "cpu", "--runs", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    data = out / "bench.json"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # until the first row is written, then stop it
        if data.exists() and json.loads(data.read_text())["rows"]:
            break
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    raw = json.loads(data.read_text())
    assert raw["rows"][0]["variant"] == "stock" and raw["rows"][0]["status"] == "ok"
    assert raw["stopped"].startswith("killed at the time limit")
    assert "Stopped early" in (out / "bench.md").read_text()


def test_psnr_verdicts_follow_the_measured_anchors() -> None:
    scale = Scale(rounding_db=35.0, unrelated_db=12.0)
    assert scale.verdict(float("inf")) == "identical"
    assert scale.verdict(33.0) == "rounding"  # within 3 dB of what rounding alone does
    assert scale.verdict(25.0) == "changed"
    assert Scale().verdict(25.0) == ""  # no anchor: a number, no judgement
