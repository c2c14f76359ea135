"""Style benchmark, in one run:
1. optimization steps/s at 256 and 512 px: our Gatys step (style Gram targets and content features computed
   once; VGG19 cut after the deepest layer used) against the keras-io "Neural style transfer" example's
   formulation (every step runs the full VGG19 feature dict on the concatenation of content, style and
   result images), same layers, same loss weights, same optimizer;
2. the feed-forward stylizer at the export size: ms/image of Keras (batch 1), TFLite float32 and int8,
   and how many times faster than optimizing one image (`stylize.steps` steps) it is;
3. the model FLOP utilization of our optimization step (its FLOPs per second over a float32 matmul's, both
   measured here).
Run: python bench/style.py [--run runs/style/<run>] [--steps N] [--images N] [--rounds N]

Everything runs in this process, alternating where it compares, so machine noise hits all sides.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import function_gflop, matmul_gflops, utilization  # noqa: E402

from keras_suite.apps.style.config import STYLE_LAYERS, StyleConfig  # noqa: E402
from keras_suite.data.photos import random_crops  # noqa: E402
from keras_suite.data.style_images import CONTENT, builtin_image, resize_longer  # noqa: E402
from keras_suite.export import tflite  # noqa: E402
from keras_suite.losses.perceptual import PerceptualLoss  # noqa: E402
from keras_suite.models.stylizer import build_stylizer  # noqa: E402
from keras_suite.models.vgg_features import VGGFeatures  # noqa: E402

CONTENT_LAYER = "block5_conv2"  # the keras-io example's


def reference_step(size, content, style, cw, sw, tw):
    """The keras-io example's loss and step (https://keras.io/examples/generative/neural_style_transfer/)."""
    vgg = keras.applications.vgg19.VGG19(weights=None, include_top=False)
    extractor = keras.Model(vgg.inputs, {layer.name: layer.output for layer in vgg.layers})

    def gram(x):
        x = tf.transpose(x, (2, 0, 1))
        features = tf.reshape(x, (tf.shape(x)[0], -1))
        return tf.matmul(features, tf.transpose(features))

    def style_loss(s, c):
        channels, pixels = 3, size * size
        return tf.reduce_sum(tf.square(gram(s) - gram(c))) / (4.0 * (channels ** 2) * (pixels ** 2))

    def content_loss(base, combination):
        return tf.reduce_sum(tf.square(combination - base))

    def total_variation_loss(x):
        a = tf.square(x[:, :size - 1, :size - 1, :] - x[:, 1:, :size - 1, :])
        b = tf.square(x[:, :size - 1, :size - 1, :] - x[:, :size - 1, 1:, :])
        return tf.reduce_sum(tf.pow(a + b, 1.25))

    def compute_loss(combination, base, reference):
        features = extractor(tf.concat([base, reference, combination], axis=0))
        loss = cw * content_loss(features[CONTENT_LAYER][0], features[CONTENT_LAYER][2])
        for name in STYLE_LAYERS:
            loss += (sw / len(STYLE_LAYERS)) * style_loss(features[name][1], features[name][2])
        return loss + tw * total_variation_loss(combination)

    base = keras.applications.vgg19.preprocess_input(content[None].astype(np.float32).copy())
    reference = keras.applications.vgg19.preprocess_input(style[None].astype(np.float32).copy())
    image = tf.Variable(base)
    optimizer = keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(100.0, 100, 0.96))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = compute_loss(image, base, reference)
        optimizer.apply_gradients([(tape.gradient(loss, image), image)])
        return loss

    return step


def our_step(content, style, cw, sw, tw):
    loss = PerceptualLoss(VGGFeatures((*STYLE_LAYERS, CONTENT_LAYER), "random"), CONTENT_LAYER,
                          {n: 1.0 / len(STYLE_LAYERS) for n in STYLE_LAYERS}, [(style, 1.0)], cw, sw, tw)
    target = loss.content_features(content[None].astype(np.float32))
    image = tf.Variable(content[None].astype(np.float32))
    optimizer = keras.optimizers.SGD(1.0)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(loss.terms(image, target)["total"])
        optimizer.apply_gradients([(tape.gradient(total, image), image)])
        return total

    return step


def seconds_per_step(step, steps):
    step()  # trace
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a trained style run (default: the default stylizer, untrained)")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cfg = StyleConfig()
    s = cfg.style
    print(f"optimization step (VGG19, content {CONTENT_LAYER}, style {', '.join(STYLE_LAYERS)}), {args.steps} steps "
          f"after one traced, median of {args.rounds} alternating rounds")
    print(f"{'size':>6}{'ours s/step':>13}{'keras-io s/step':>17}{'speed-up':>10}")
    ours_at, flops_at = {}, {}
    for size in (256, 512):
        content = resize_longer(builtin_image("chelsea"), size)[:size, :size]
        content = np.asarray(tf.image.resize_with_crop_or_pad(content, size, size))
        style = np.asarray(tf.image.resize(builtin_image("starry_night"), (size, size)))
        ours, ref = our_step(content, style, s.content_weight, s.style_weight, s.tv_weight), reference_step(
            size, content, style, s.content_weight, s.style_weight, s.tv_weight)
        o, r = [], []
        for _ in range(args.rounds):
            o.append(seconds_per_step(ours, args.steps))
            r.append(seconds_per_step(ref, args.steps))
        ours_at[size], flops_at[size] = float(np.median(o)), function_gflop(ours)
        print(f"{size:>6}{ours_at[size]:>13.3f}{np.median(r):>17.3f}{np.median(r) / ours_at[size]:>9.2f}x")
    peak = matmul_gflops()
    for size, seconds in ours_at.items():
        print(f"ours at {size} px: {utilization(flops_at[size], seconds, peak)}")

    size = cfg.export.image_size
    model = (keras.saving.load_model(Path(args.run) / "model.keras", safe_mode=True, compile=False) if args.run
             else build_stylizer(cfg.model.filters, cfg.model.residual_blocks))
    photos = [builtin_image(n) for n in CONTENT]
    images = random_crops(photos, size, args.images, 1)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", tf.function(lambda x: {"image": model(tf.cast(x, tf.float32))},
                                              input_signature=[tf.TensorSpec([1, size, size, 3], tf.uint8)]))
    with tempfile.TemporaryDirectory() as tmp:
        archive.write_out(tmp, verbose=False)
        calibration = [{"x": c[None]} for c in random_crops(photos, size, 32, 2)]
        buffers = {q: tflite.convert(tmp, quantization=q, representative=calibration) for q in ("float32", "int8")}
    one = tf.function(lambda x: model(tf.cast(x, tf.float32), training=False))
    reference = np.concatenate([one(x[None]).numpy() for x in images])

    def timed(call):
        call(images[0][None])
        start = time.perf_counter()
        outs = [np.asarray(call(x[None])) for x in images]
        return (time.perf_counter() - start) * 1000 / len(images), np.concatenate(outs)

    optimize_ms = ours_at[256] * cfg.stylize.steps * 1000 * (size / 256) ** 2
    print(f"\nfeed-forward stylizer at {size}x{size}, batch 1, {len(images)} crops ({model.count_params():,} "
          f"parameters; {'trained run ' + args.run if args.run else 'untrained'}); optimizing one image: "
          f"{cfg.stylize.steps} steps x {ours_at[256]:.3f} s (scaled to {size} px) = {optimize_ms / 1000:.1f} s")
    print(f"{'runtime':<22}{'ms/image':>10}{'size':>9}{'PSNR dB':>9}{'x faster than optimizing':>26}")
    rows = [("keras (tf.function)", *timed(lambda x: one(x).numpy()), "-")]
    for q, flatbuffer in buffers.items():
        runner = tflite.Runner(flatbuffer)
        rows.append((f"tflite {q}", *timed(lambda x: runner(x=x)["image"]), f"{len(flatbuffer) / 1e6:.2f}MB"))
    for name, ms, out, nbytes in rows:
        mse = np.mean((np.clip(out, 0, 255) - np.clip(reference, 0, 255)) ** 2)
        psnr = 100.0 if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)
        print(f"{name:<22}{ms:>10.2f}{nbytes:>9}{psnr:>9.1f}{optimize_ms / ms:>25.0f}x")


if __name__ == "__main__":
    main()
