#!/usr/bin/env bash
# The speed benchmark as one command on a bare, short-lived GPU machine (benchmarks/README.md).
#
#   benchmarks/gpu_run.sh --out DIR [--plan standard|presets|models|turbo|compile] [--limit-s 540] [ARGS]
#   benchmarks/gpu_run.sh --out DIR --dry-run [--plan turbo]  # the path on a CPU, tiny models
#
# It installs what the machine lacks from the wheels in .whl/ (no network needed), then runs
# `python -m benchmarks.run` with a time budget that ends the whole command within --limit-s
# seconds (default 540: 9 minutes). Results and logs go to DIR as the run goes: PLAN.md,
# PLAN.json, PLAN.log, and setup.log for this script. Any ARGS go to benchmarks.run.
# It exits 0 whenever it could write a report, whatever the rows say.
set -uo pipefail
started=$SECONDS
cd "$(dirname "$0")/.." || exit 2

out="" plan="" limit=540 dry=0 extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --plan) plan="$2"; shift 2 ;;
        --limit-s) limit="$2"; shift 2 ;;
        --dry-run) dry=1; shift ;;
        *) extra+=("$1"); shift ;;
    esac
done
if [ -z "$out" ]; then
    echo "usage: $0 --out DIR [--plan standard|presets|models|turbo|compile] [--limit-s N] [--dry-run]" >&2
    exit 2
fi
# A dry run without a plan is the standard plan's stand-in ("dry-run"); with one, that plan.
if [ -z "$plan" ]; then
    if [ "$dry" = 1 ]; then plan="dry-run"; else plan="standard"; fi
fi
mkdir -p "$out"
setup="$out/setup.log"
python="${PYTHON:-python3}"
say() { echo "[gpu_run $((SECONDS - started))s] $*" | tee -a "$setup" >&2; }

say "plan $plan, limit ${limit}s, python $("$python" -c 'import sys; print(sys.version.split()[0])')"
# What the benchmark imports that a bare GPU machine lacks (it has torch and transformers):
# diffusers, and imageio-ffmpeg for the MP4 step. Nothing of bot/ or adapters/ is needed.
missing=$("$python" -c '
import importlib.util
print(" ".join(m for m in ("diffusers", "imageio_ffmpeg") if importlib.util.find_spec(m) is None))')
if [ -n "$missing" ]; then
    if compgen -G ".whl/*.whl" >/dev/null; then
        say "installing from .whl/ for: $missing"
        site="${TMPDIR:-/tmp}/i2v-bench-site"
        if "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
                --upgrade --target "$site" .whl/*.whl >>"$setup" 2>&1; then
            export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
        else
            say "pip install from .whl/ failed (see setup.log); trying without"
        fi
    else
        say "missing $missing and no .whl/ folder: see benchmarks/README.md"
    fi
fi

args=(--plan "$plan" --out "$out")
if [ "$dry" = 1 ]; then
    # One thread: a dry run checks paths, not speed, and two threads fight on a small CPU.
    export OMP_NUM_THREADS=1
    args+=(--device cpu --model tiny --models-dir "${TMPDIR:-/tmp}/i2v-bench-models")
    [ "$plan" != "dry-run" ] && args+=(--dry)
fi
# What is left of the limit, less a margin for the last row's report and the exit.
budget=$((limit - (SECONDS - started) - 30))
if [ "$budget" -lt 30 ]; then
    say "only ${budget}s left for the run: nothing measured"
    exit 0
fi
say "running for at most ${budget}s"
# A row that overruns the budget is stopped by SIGTERM (the report keeps every earlier row);
# SIGKILL follows 15 s later if even that hangs.
if command -v timeout >/dev/null; then
    timeout -s TERM -k 15 "$((budget + 10))" \
        "$python" -m benchmarks.run "${args[@]}" --budget-s "$budget" "${extra[@]}"
else
    "$python" -m benchmarks.run "${args[@]}" --budget-s "$budget" "${extra[@]}"
fi
status=$?
say "benchmarks.run exited with $status"
[ -f "$out/$plan.md" ] && exit 0
exit "$status"
