"""Segmentation benchmark: our U-Net train step vs a tutorial-style reference U-Net, XLA on/off, model FLOP
utilization (the step's FLOPs per second over a float32 matmul's, both measured here) at several batch sizes, and
tf.data pipeline throughput vs model consumption. Run: python bench/segmentation.py [--steps N]

Both models are built and timed in this process, alternating, so machine noise hits both; results
are printed as ratios (absolute times on shared machines are noise).
"""

import argparse
import dataclasses
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import matmul_gflops, train_step_gflop, train_step_seconds, utilization  # noqa: E402

from keras_suite.apps.segmentation.app import augment_options, make_loss  # noqa: E402
from keras_suite.apps.segmentation.config import SegmentationConfig  # noqa: E402
from keras_suite.config import arguments  # noqa: E402
from keras_suite.data.segmentation import batches, load_splits  # noqa: E402
from keras_suite.models.unet import build_unet  # noqa: E402


def reference_unet(num_classes, size, depth, filters):
    """The classic U-Net as tutorials write it: one functional graph of stock Keras layers."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    skips = []

    def double_conv(x, f):
        for _ in range(2):
            x = keras.layers.Conv2D(f, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(x)
        return x

    for i in range(depth):
        x = double_conv(x, filters * 2 ** i)
        skips.append(x)
        x = keras.layers.MaxPooling2D(2)(x)
    x = double_conv(x, filters * 2 ** depth)
    for i in reversed(range(depth)):
        x = keras.layers.Conv2DTranspose(filters * 2 ** i, 2, strides=2, padding="same")(x)
        x = keras.layers.concatenate([x, skips[i]])
        x = double_conv(x, filters * 2 ** i)
    outputs = keras.layers.Conv2D(num_classes, 1, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def pipeline_rate(ds, batches_to_read):
    it = iter(ds)
    next(it)
    start = time.perf_counter()
    n = 0
    for _ in range(batches_to_read):
        images, _ = next(it)
        n += int(images.shape[0])
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    cfg = SegmentationConfig()
    d, m, bs = cfg.data, cfg.model, cfg.train.batch_size
    splits = load_splits(**arguments(d, load_splits))
    n = len(splits.class_names)
    train = batches(splits.train, bs, training=True, augment=augment_options(d)).repeat()
    batch = next(iter(train))
    print(f"config: image {d.image_size}px, depth {m.depth}, filters {m.filters}, batch {bs}, {args.steps} steps")

    rows = {}
    for jit in (False, True):
        ours = build_unet(n, d.image_size, depth=m.depth, filters=m.filters, batch_norm=m.batch_norm)
        ref = reference_unet(n, d.image_size, m.depth, m.filters)
        assert ours.count_params() == ref.count_params(), (ours.count_params(), ref.count_params())
        loss = make_loss(**dataclasses.asdict(cfg.loss))
        rows[jit] = (train_step_seconds(ours, loss, batch, args.steps, jit, warmup=3),
                     train_step_seconds(ref, loss, batch, args.steps, jit, warmup=3))
        print(f"jit_compile={jit!s:<5}  ours {rows[jit][0] * 1000:7.1f} ms/step   reference "
              f"{rows[jit][1] * 1000:7.1f} ms/step   ours/reference = {rows[jit][0] / rows[jit][1]:.2f}")
    print(f"XLA speed-up (ours, off/on): {rows[False][0] / rows[True][0]:.2f}x")
    peak = matmul_gflops()
    gflop = train_step_gflop(ours, loss, batch)  # the same graph with XLA on or off
    for jit in (False, True):
        print(f"ours, jit_compile={jit!s:<5}: {utilization(gflop, rows[jit][0], peak)}")
    images, masks = next(iter(batches(splits.train, 64, training=True, augment=augment_options(d))))
    for size in (4, 8, 32, 64):  # the lever batch size gives, XLA on
        model = build_unet(n, d.image_size, depth=m.depth, filters=m.filters, batch_norm=m.batch_norm)
        sized = (images[:size], masks[:size])
        seconds = train_step_seconds(model, loss, sized, args.steps, True, warmup=3)
        print(f"batch {size:>2}, jit_compile=True : {utilization(train_step_gflop(model, loss, sized), seconds, peak)}")

    best = min(rows[False][0], rows[True][0])
    consumption = bs / best
    production = pipeline_rate(train, 40)
    print(f"tf.data pipeline (augmenting): {production:8.0f} images/s; model consumes {consumption:6.0f} images/s; "
          f"pipeline/model = {production / consumption:.1f}x (target >= 3x)")


if __name__ == "__main__":
    np.random.seed(0)
    tf.random.set_seed(0)
    main()
