"""Timing shared by the benchmarks (imported as `timing`: the scripts run as `python bench/<name>.py`)."""

import time


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
