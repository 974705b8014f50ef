"""The core's benchmarks (overhead, Telegram acknowledgement, scale-out), each run once at a
tiny size: they use the executor port and the worker's renderer like the bot does, so a
change there must keep them working. Nothing here checks a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import redis_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # about 25 s in all


def run(module: str, out: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", "--out", str(out),
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out.read_text()


def test_the_overhead_benchmark_writes_its_table(tmp_path: Path) -> None:
    report = run("overhead", tmp_path / "o.md", "--sizes", "20")
    assert "| 20 |" in report


def test_the_telegram_benchmark_writes_its_table(tmp_path: Path) -> None:
    report = run("telegram_ack", tmp_path / "t.md", "--queued", "20", "--people", "5")
    assert "restart → first job started" in report


def test_the_provenance_benchmark_writes_its_table(tmp_path: Path) -> None:
    report = run("provenance", tmp_path / "p.md", "--only", "tiny", "--links", "1",
                 "--repeat", "1")
    assert "| tiny job (the tests' CLI run) | 192x128 | 8 |" in report
    assert "| 1 |" in report  # one extension signed onto its parent


def test_the_scale_out_benchmark_writes_its_table(tmp_path: Path) -> None:
    url = redis_url()
    report = run("scale_out", tmp_path / "s.md", "--redis", url, "--workers", "1",
                 "--jobs-per-worker", "2", "--gpu-seconds", "0.1")
    assert "| 1 | 2 |" in report


def test_the_moderation_benchmark_writes_its_table(tmp_path: Path) -> None:
    report = run("moderation", tmp_path / "m.md", "--model", "tiny", "--runs", "2")
    assert "| photo 4032x3024 JPEG (a phone's file), the bot's path |" in report
    assert "| video: 4 frames of a 640x384 clip, one batch |" in report
