"""Face benchmark: embedding throughput (images/s) of Keras (batched and batch 1) against TFLite float,
fp16 and int8 (batch 1, as on a phone), with the cosine similarity of each to Keras and, for a trained
run, the verification AUC and accuracy at the run's threshold over every pair of unseen faces; and the
share of the train step spent on triplet mining for each strategy, and the step's model FLOP utilization (its
FLOPs per second over a float32 matmul's, both measured here).
Run: python bench/face.py [--run runs/face/<run>] [--images N] [--steps N]

Everything runs in this process, alternating where it compares, so machine noise hits all sides.
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import matmul_gflops, train_step_gflop, train_step_seconds, utilization  # noqa: E402

from keras_suite.apps.face.config import FaceConfig  # noqa: E402
from keras_suite.data.faces import face_dataset  # noqa: E402
from keras_suite.export import tflite  # noqa: E402
from keras_suite.losses import TripletLoss  # noqa: E402
from keras_suite.losses.triplet import MINING  # noqa: E402
from keras_suite.metrics import verification  # noqa: E402
from keras_suite.models.embedding import build_embedding  # noqa: E402


def no_mining_loss(labels, embeddings):
    """A loss with no pairwise work at all: the baseline that isolates the cost of mining."""
    return keras.ops.mean(keras.ops.sum(embeddings * embeddings, axis=-1)) * 0.0 + keras.ops.mean(embeddings)


def flatbuffers(model, size, calibration):
    """float32, fp16 and int8 TFLite conversions of `model` at batch 1."""
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", tf.function(lambda images: {"embedding": model(tf.cast(images, tf.float32))},
                                              input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8,
                                                                             name="images")]))
    with tempfile.TemporaryDirectory() as tmp:
        archive.write_out(tmp, verbose=False)
        reps = [{"images": c[None]} for c in calibration]
        return {q: tflite.convert(tmp, quantization=q, representative=reps) for q in ("float32", "float16", "int8")}


def images_per_second(fn, images, rounds=3):
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        fn(images)
        best = max(best, len(images) / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a trained face run (default: the default architecture, untrained)")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    cfg = FaceConfig()
    size = cfg.data.image_size
    if args.run:
        model = keras.saving.load_model(Path(args.run) / "model.keras", safe_mode=True)
    else:
        m = cfg.model
        model = build_embedding(size, m.dim, m.backbone, m.width, m.depths)
    faces, labels = face_dataset(range(300_000, 300_000 + args.images // 4), 4, size)
    threshold = json.loads((Path(args.run) / "verification.json").read_text())["threshold"] if args.run else None
    first, second = np.triu_indices(len(faces), 1)
    same = labels[first] == labels[second]

    def scores(embeddings):
        if threshold is None:
            return ""
        d = np.sum((embeddings[first] - embeddings[second]) ** 2, axis=-1)
        far, tar, _ = verification.roc_curve(d, same)
        return f"{verification.auc(far, tar):>8.4f}{verification.rates_at(d, same, threshold)['accuracy']:>10.4f}"

    reference = model.predict(faces.astype(np.float32), batch_size=64, verbose=0)
    buffers = flatbuffers(model, size, faces[:64])
    one = tf.function(lambda x: model(x, training=False), input_signature=[tf.TensorSpec([1, size, size, 3])])
    batched = images_per_second(lambda x: model.predict(x.astype(np.float32), batch_size=64, verbose=0), faces)
    single = images_per_second(lambda x: [one(f[None].astype(np.float32)) for f in x], faces)
    rows = [("keras, batch 64", batched, "", "", scores(reference)),
            ("keras (tf.function), batch 1", single, "", "", "")]
    for name, flatbuffer in buffers.items():
        runner = tflite.Runner(flatbuffer)
        out = np.concatenate([runner(images=f[None])["embedding"] for f in faces])
        cosine = np.sum(out * reference, -1) / np.linalg.norm(out, axis=-1) / np.linalg.norm(reference, axis=-1)
        rate = images_per_second(lambda x: [runner(images=f[None]) for f in x], faces)
        rows.append((f"tflite {name}, batch 1", rate, f"{len(flatbuffer) / 1e6:.2f}MB", f"{cosine.min():.5f}",
                     scores(out)))
    print(f"embedding throughput at {size}x{size} ({model.count_params():,} parameters, {len(faces)} images of "
          f"{len(faces) // 4} unseen identities, {len(same)} pairs)")
    print(f"{'runtime':<30}{'images/s':>10}{'size':>10}{'min cosine':>12}"
          + (f"{'AUC':>8}{'accuracy':>10}" if threshold is not None else ""))
    for name, rate, nbytes, cosine, quality in rows:
        print(f"{name:<30}{rate:>10.0f}{nbytes:>10}{cosine:>12}{quality}")

    batch = (faces[:cfg.data.p * cfg.data.k].astype(np.float32), labels[:cfg.data.p * cfg.data.k])
    print(f"\ntrain step, P x K = {cfg.data.p} x {cfg.data.k}, XLA {'on' if cfg.train.jit_compile else 'off'}: "
          f"share of the step spent mining")
    plain = [train_step_seconds(model, no_mining_loss, batch, args.steps, cfg.train.jit_compile)]
    timed = {m: [] for m in MINING}
    for _ in range(2):  # alternate, so drift hits every variant
        for mining in MINING:
            timed[mining].append(train_step_seconds(model, TripletLoss(0.2, mining), batch, args.steps,
                                                    cfg.train.jit_compile))
        plain.append(train_step_seconds(model, no_mining_loss, batch, args.steps, cfg.train.jit_compile))
    base = float(np.median(plain))
    print(f"{'loss':<14}{'s/step':>9}{'mining share':>14}")
    print(f"{'no mining':<14}{base:>9.4f}{'-':>14}")
    for mining, seconds in timed.items():
        s = float(np.median(seconds))
        print(f"{mining:<14}{s:>9.4f}{max(0.0, (s - base) / s):>14.1%}")
    print(f"no mining: {utilization(train_step_gflop(model, no_mining_loss, batch), base, matmul_gflops())}")


if __name__ == "__main__":
    main()
