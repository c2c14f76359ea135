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


def function_gflop(function, *args):
    """GFLOP of one call of the tf.function `function(*args)`: the FLOPs TensorFlow's op statistics give for each op
    of its traced graph that its outputs or side effects depend on (convolutions, their gradients, matmuls and the
    elementwise ops it knows). Ops the runtime prunes (a gradient nobody uses) are not counted."""
    from tensorflow.python.framework import ops

    graph = function.get_concrete_function(*args).graph
    needed, stack = set(), [t.op for t in graph.outputs] + list(graph.control_outputs)
    while stack:
        op = stack.pop()
        if op.name not in needed:
            needed.add(op.name)
            stack.extend([t.op for t in op.inputs] + list(op.control_inputs))
    total = 0
    for op in graph.get_operations():
        if op.name in needed:
            try:
                total += ops.get_stats_for_node_def(graph, op.node_def, "flops").value or 0
            except ValueError:  # no statistics registered for this op type
                pass
    return total / 1e9


def train_step_gflop(model, loss, batch):
    """GFLOP of one training step of `model` on `batch` (x, y): forward pass, loss and gradients (the optimizer's
    elementwise update is left out)."""
    import tensorflow as tf

    @tf.function(autograph=False)
    def step(x, y):
        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=True))
        return tape.gradient(value, model.trainable_variables)

    return function_gflop(step, *batch)


def matmul_gflops(n=2048, calls=10, rounds=3):
    """GFLOP/s of a float32 n x n matmul on this machine (2 n^3 FLOP a call), the best of `rounds` rounds after one
    untimed call: the peak a benchmark measures model FLOP utilization against, in the same run."""
    import tensorflow as tf

    a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
    matmul = tf.function(tf.linalg.matmul)
    matmul(a, b).numpy()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            matmul(a, b).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 * calls / best / 1e9


def utilization(gflop, seconds, peak):
    """One line: a step's GFLOP, its time, the achieved GFLOP/s and their share of the matmul `peak` (GFLOP/s)."""
    achieved = gflop / seconds
    return (f"{gflop:.2f} GFLOP a step in {seconds * 1000:.0f} ms: {achieved:.1f} GFLOP/s, model FLOP utilization "
            f"{achieved / peak:.0%} of the {peak:.0f} GFLOP/s float32 matmul peak measured in this run")
