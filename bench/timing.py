"""Timing shared by the benchmarks (imported as `timing`: the scripts run as `python bench/<name>.py`)."""

import subprocess
import sys
import time

CLI = [sys.executable, "-m", "keras_suite"]


def cli(args):
    """Run `keras-suite *args` in a fresh process; its wall-clock seconds (the benchmark exits on a failure)."""
    started = time.monotonic()
    completed = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if completed.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{completed.stderr[-2000:]}")
    return time.monotonic() - started


def train_step_seconds(model, loss, batch, steps, jit=False, warmup=2):
    """Mean seconds of `model.train_on_batch` on one fixed batch after `warmup` untimed steps
    (building, tracing and compiling)."""
    model.compile(optimizer="adam", loss=loss, jit_compile=jit)
    x, y = batch
    for _ in range(warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps
