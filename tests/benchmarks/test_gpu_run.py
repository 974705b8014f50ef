"""The GPU run's script, run as a dry run on the CPU with the tiny model: the command a GPU
machine gets, so that an import or path mistake shows here and costs no GPU time."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.plans import PLANS

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.slow  # about 30 s: the whole dry run, as CI runs it


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("out")
    env = {**os.environ, "PYTHON": sys.executable, "TMPDIR": str(out.parent)}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_run.sh"), "--out", str(out),
                           "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    return out, done


def test_dry_run_writes_every_row_of_its_plan(dry_run: tuple[Path, subprocess.CompletedProcess]
                                              ) -> None:
    out, done = dry_run
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in out.iterdir()} >= {"dry-run.md", "dry-run.json", "dry-run.log",
                                               "setup.log"}
    raw = json.loads((out / "dry-run.json").read_text())
    rows = {(r["variant"], r["preset"]): r for r in raw["rows"]}
    planned = {(i.label, i.preset) for i in PLANS["dry-run"]}
    assert set(rows) == planned
    failed = {k: r["note"] for k, r in rows.items() if r["status"] != "ok"}
    assert not failed
    assert raw["not_gpu_figures"] is True and raw["stopped"] == ""
    assert "benchmarks.run exited with 0" in (out / "setup.log").read_text()


def test_dry_run_numbers_mean_what_they_say(dry_run: tuple[Path, subprocess.CompletedProcess]
                                            ) -> None:
    out, _ = dry_run
    raw = json.loads((out / "dry-run.json").read_text())
    rows = {r["variant"]: r for r in raw["rows"]}
    scale = raw["scale"]
    # The anchors were measured: rounding (another precision) far above an unrelated video.
    assert scale["rounding_db"] > scale["unrelated_db"] + 10
    # Exact changes stay at rounding level or better; the stock row repeats itself exactly.
    for exact in ("engine", "fuse-qkv", "cudnn-attention"):
        assert rows[exact]["psnr_db"] == "inf" or rows[exact]["psnr_db"] > scale["rounding_db"]
    assert rows["stock (again)"]["psnr_db"] == "inf"
    stock = rows["stock"]["unet_flops"]
    assert rows["engine"]["unet_flops"] == stock
    for cut in ("dpm-solver", "cfg-truncation", "deepcache", "t-gate", "fast"):
        assert 0 < rows[cut]["unet_flops"] < stock
    assert rows["fast"]["unet_flops"] <= stock / 2
    assert rows["dpm-solver"]["unet_calls"] == rows["stock"]["unet_calls"] // 2
    assert set(rows["engine"]["per_hour"]) == {"1", "2"}
    report = (out / "dry-run.md").read_text()
    assert "not GPU figures" in report and "| standard | stock (again) |" in report
    assert not any(math.isnan(r["seconds"]) for r in raw["rows"] if r["seconds"] is not None)


@pytest.fixture(scope="module")
def turbo_dry_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path,
                                                                      subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("turbo")
    env = {**os.environ, "PYTHON": sys.executable, "TMPDIR": str(out.parent)}
    done = subprocess.run(["bash", str(ROOT / "benchmarks" / "gpu_run.sh"), "--out", str(out),
                           "--dry-run", "--plan", "turbo"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    return out, done


def test_the_turbo_plan_runs_every_row_on_the_cpu_and_counts_what_each_skips(
        turbo_dry_run: tuple[Path, subprocess.CompletedProcess]) -> None:
    out, done = turbo_dry_run
    assert done.returncode == 0, done.stderr[-3000:]
    raw = json.loads((out / "turbo.json").read_text())
    rows = {(r["variant"], r["preset"]): r for r in raw["rows"]}
    assert set(rows) == {(i.label, i.preset) for i in PLANS["turbo"]}
    assert {k: r["note"] for k, r in rows.items() if r["status"] != "ok"} == {}
    assert raw["not_gpu_figures"] is True and raw["runs"] == 1  # one timed run a row
    stock, fast = rows["wan", "wan-standard"], rows["wan-fast", "wan-standard"]
    # Both prompts every step for stock; the speed mode's hooks skip most blocks' work.
    assert stock["unet_calls"] == 2 * 10 and fast["unet_calls"] == 10 + 5
    assert 0 < fast["unet_flops"] <= 0.5 * stock["unet_flops"]
    turbo = rows["turbo", "turbo-standard"]
    assert turbo["unet_calls"] == 3 and turbo["unet_flops"] * 20 == stock["unet_flops"] * 3
    report = (out / "turbo.md").read_text()
    assert "| turbo-max | turbo |" in report and "FastWan goals" in report
