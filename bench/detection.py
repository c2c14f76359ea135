"""Detection benchmark, in one run:
1. TFLite float32 / fp16 / int8 at the export size (batch 1, as on a phone): ms/image, file size and,
   for a trained run, mAP@0.5 on the test scenes and the match rate of the detections against Keras;
2. decode + NMS as a share of inference: the full exported graph against the head alone, per runtime, also
   with NMS on every position instead of the `detect.max_candidates` best;
3. the train step (`model.fit` throughput with its input pipeline) against a reference written the way
   the keras-io YOLOv8 / KerasCV example writes a detector: the same backbone and neck built from stock
   layers with `apply_*` functions, labels fed as padded boxes, and the target assignment done inside
   `compute_loss` on every step (here targets are assigned in tf.data, off the training step), and our step's
   model FLOP utilization (its FLOPs per second over a float32 matmul's, both measured here).
Run: python bench/detection.py [--run runs/detection/<run>] [--images N] [--steps N]

Everything runs in this process, alternating where it compares, so machine noise hits all sides.
"""

import argparse
import dataclasses
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from timing import matmul_gflops, train_step_gflop, utilization  # noqa: E402

from keras_suite.apps.detection.app import (  # noqa: E402
    build,
    choose_anchors,
    ground_truth,
    int8_graph,
    make_grid,
    match_detections,
    serve,
)
from keras_suite.apps.detection.config import DetectionConfig  # noqa: E402
from keras_suite.config import load_config  # noqa: E402
from keras_suite.data.detection import DetectionSplit, detection_batches, padded  # noqa: E402
from keras_suite.data.scenes import make_detection_scenes  # noqa: E402
from keras_suite.detection.targets import assign_targets  # noqa: E402
from keras_suite.export import tflite  # noqa: E402
from keras_suite.metrics.mean_average_precision import evaluate_detections  # noqa: E402


def scenes(cfg, count, seed):
    images, boxes, classes = make_detection_scenes(count, cfg.data.image_size, seed, cfg.data.max_objects)
    return DetectionSplit(images, [b / cfg.data.image_size for b in boxes], classes)


def flatbuffers(fn, size, calibration, int8_fn=None):
    """{quantization: flatbuffer} of `fn(uint8 images (1, size, size, 3)) -> dict`; int8 of `int8_fn` if given (the
    app's int8 graph)."""
    reps = [{"images": c[None]} for c in calibration]

    def convert(graph, quantizations):
        archive = keras.export.ExportArchive()
        archive.add_endpoint("serve", tf.function(graph, input_signature=[
            tf.TensorSpec([1, size, size, 3], tf.uint8, name="images")]))
        with tempfile.TemporaryDirectory() as tmp:
            archive.write_out(tmp, verbose=False)
            return {q: tflite.convert(tmp, quantization=q, representative=reps) for q in quantizations}

    if int8_fn is None:
        return convert(fn, ("float32", "float16", "int8"))
    return {**convert(fn, ("float32", "float16")), **convert(int8_fn, ("int8",))}


def ms_per_image(call, images, rounds=3):
    """Best of `rounds` passes over `images`, one image per call."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        outs = [call(image[None]) for image in images]
        best = min(best, (time.perf_counter() - start) * 1000 / len(images))
    return best, outs


def stacked(outs):
    return {k: np.concatenate([np.asarray(o[k]) for o in outs]) for k in outs[0]}


def map50(out, split, size, num_classes):
    dets = [(out["boxes"][i, :n], out["scores"][i, :n], out["classes"][i, :n])
            for i, n in enumerate(out["num_detections"])]
    return evaluate_detections(dets, ground_truth(split, size), num_classes)["map50"]


# The reference, as the keras-io YOLOv8 / KerasCV example writes its networks: apply_* functions of
# stock layers, the CSP block inlined, the same widths, depths and head as `build_yolo`.
def apply_conv(x, filters, size, strides=1):
    x = keras.layers.Conv2D(filters, size, strides, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization(momentum=0.97)(x)
    return keras.layers.Activation("silu")(x)


def apply_csp_block(x, filters, depth, shortcut=True):
    half = filters // 2
    main, side = apply_conv(x, half, 1), apply_conv(x, half, 1)
    for _ in range(depth):
        y = apply_conv(apply_conv(main, half, 1), half, 3)
        main = keras.layers.Add()([main, y]) if shortcut else y
    return apply_conv(keras.layers.Concatenate()([main, side]), filters, 1)


def reference_yolo(size, num_classes, per_scale, strides, width, depth):
    inputs = keras.Input((size, size, 3))
    x = apply_conv(keras.layers.Rescaling(1 / 255.0)(inputs), width, 3, 2)
    features = {}
    for stage, stride in enumerate((4, 8, 16, 32)):
        x = apply_csp_block(apply_conv(x, width * 2 ** (stage + 1), 3, 2), width * 2 ** (stage + 1), depth)
        features[stride] = x
    heads, top = {}, None
    for stride in sorted(strides, reverse=True):
        f = features[stride]
        if top is not None:
            up = keras.layers.UpSampling2D(top[1] // stride)(apply_conv(top[0], f.shape[-1] // 2, 1))
            f = apply_csp_block(keras.layers.Concatenate()([up, f]), f.shape[-1], depth, shortcut=False)
        top = (f, stride)
        b = len(per_scale[list(strides).index(stride)])
        raw = keras.layers.Conv2D(b * (5 + num_classes), 1)(f)
        heads[stride] = keras.layers.Reshape(((size // stride) ** 2 * b, 5 + num_classes))(raw)
    return InStepAssignment(inputs, keras.layers.Concatenate(axis=1)([heads[s] for s in sorted(heads)]))


class InStepAssignment(keras.Model):
    """KerasCV-style training: y is {"boxes", "classes"} padded per image, assigned in compute_loss."""

    def setup(self, grid, num_classes, loss):
        self.grid, self.num_classes, self.yolo_loss = grid, num_classes, loss

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        xyxy, labels = y["boxes"], tf.cast(y["classes"], tf.int32)
        cxcywh = tf.concat([(xyxy[..., :2] + xyxy[..., 2:]) / 2, xyxy[..., 2:] - xyxy[..., :2]], axis=-1)
        targets = tf.map_fn(lambda bl: assign_targets(bl[0], bl[1], self.grid, self.num_classes), (cxcywh, labels),
                            fn_output_signature=tf.TensorSpec([self.grid.positions, 5 + self.num_classes]))
        return self.yolo_loss(targets, y_pred)


def fit_seconds_per_step(model, loss, ds, steps, jit):
    """Seconds per step of `model.fit` on `ds` (its input pipeline included), after a first untimed fit."""
    model.compile(optimizer="adam", loss=loss, jit_compile=jit)
    model.fit(ds, epochs=1, steps_per_epoch=3, verbose=0)
    start = time.perf_counter()
    model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0)
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a trained detection run (default: the default architecture, untrained)")
    parser.add_argument("--images", type=int, default=100, help="test scenes timed and scored")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    if args.run:
        cfg = load_config(DetectionConfig, [Path(args.run) / "config.yaml"])
        model = keras.saving.load_model(Path(args.run) / "model.keras", safe_mode=True, compile=False)
        grid = make_grid(cfg)
    else:
        cfg = DetectionConfig()
        choose_anchors(cfg, scenes(cfg, 200, cfg.data.seed))
        grid = make_grid(cfg)
        model = build(cfg, 10, grid, 2.5)[0]
    size, dc, num_classes = cfg.data.image_size, cfg.detect, 10
    test, calibration = scenes(cfg, args.images, cfg.data.seed + 2), scenes(cfg, 64, cfg.data.seed).images

    def full(images):
        return serve(model, grid, images, False, dc, dc.score_threshold, one_image=True)

    def all_candidates(images):  # NMS on every position, as before candidate pre-selection
        return serve(model, grid, images, False, dataclasses.replace(dc, max_candidates=0), dc.score_threshold,
                     one_image=True)

    def head(images):
        return {"raw": model(tf.cast(images, tf.float32), training=False)}

    print(f"inference at {size}x{size}, batch 1, {len(test.images)} test scenes ({model.count_params():,} "
          f"parameters; {'trained run ' + args.run if args.run else 'untrained'})")
    full_keras, head_keras = tf.function(full), tf.function(head)
    ms_full, outs = ms_per_image(lambda x: full_keras(tf.constant(x)), test.images)
    ms_head, _ = ms_per_image(lambda x: head_keras(tf.constant(x)), test.images)
    reference = stacked([{k: v.numpy() for k, v in o.items()} for o in outs])
    rows = [("keras (tf.function)", ms_full, ms_head, "-", reference)]
    full_tfl = flatbuffers(full, size, calibration, int8_graph(model, grid, dc))
    head_tfl = flatbuffers(head, size, calibration)
    for q in ("float32", "float16", "int8"):
        run_full, run_head = tflite.Runner(full_tfl[q]), tflite.Runner(head_tfl[q])
        ms_f, outs = ms_per_image(lambda x: run_full(images=x), test.images)
        ms_h, _ = ms_per_image(lambda x: run_head(images=x), test.images)
        rows.append((f"tflite {q}", ms_f, ms_h, f"{len(full_tfl[q]) / 1e6:.2f}MB", stacked(outs)))
    every = flatbuffers(all_candidates, size, calibration)["float32"]
    run_every, run_head = tflite.Runner(every), tflite.Runner(head_tfl["float32"])
    ms_f, outs = ms_per_image(lambda x: run_every(images=x), test.images)
    ms_h, _ = ms_per_image(lambda x: run_head(images=x), test.images)
    rows.append((f"  NMS on all {grid.positions}", ms_f, ms_h, f"{len(every) / 1e6:.2f}MB", stacked(outs)))
    print(f"{'runtime':<22}{'ms/image':>10}{'head ms':>9}{'decode+NMS':>12}{'size':>9}{'match':>8}"
          + (f"{'mAP50':>8}" if args.run else ""))
    for name, ms_f, ms_h, nbytes, out in rows:
        match = match_detections(reference, out)["match_rate"]  # None where Keras found nothing (untrained)
        match = "-" if match is None else f"{match:.3f}"
        quality = f"{map50(out, test, size, num_classes):>8.4f}" if args.run else ""
        print(f"{name:<22}{ms_f:>10.2f}{ms_h:>9.2f}{max(0.0, 1 - ms_h / ms_f):>12.1%}{nbytes:>9}{match:>8}"
              + quality)

    d, tc = cfg.data, cfg.train
    train = scenes(cfg, 256, d.seed)
    ours_ds = detection_batches(train, grid, num_classes, tc.batch_size, d.max_boxes, training=True,
                                extra_iou=cfg.loss.extra_iou, neighbors=cfg.loss.neighbor_cells).repeat()
    images, boxes, classes = padded(train, d.max_boxes)
    ref_ds = tf.data.Dataset.from_tensor_slices((images, {"boxes": boxes, "classes": classes})).shuffle(
        len(images)).batch(tc.batch_size, drop_remainder=True).map(
        lambda x, y: (tf.cast(x, tf.float32), y)).prefetch(tf.data.AUTOTUNE).repeat()
    print(f"\ntrain step, batch {tc.batch_size}, XLA {'on' if tc.jit_compile else 'off'}, model.fit with its "
          f"input pipeline, {args.steps} steps, median of 3 alternating rounds")
    ours_s, ref_s = [], []
    for _ in range(3):
        ours, loss, _ = build(cfg, num_classes, grid, 2.5)
        ref = reference_yolo(size, num_classes, grid.anchors, cfg.model.strides, cfg.model.width, cfg.model.depth)
        ref.setup(grid, num_classes, loss)
        assert ours.count_params() == ref.count_params(), (ours.count_params(), ref.count_params())
        ours_s.append(fit_seconds_per_step(ours, loss, ours_ds, args.steps, tc.jit_compile))
        ref_s.append(fit_seconds_per_step(ref, None, ref_ds, args.steps, tc.jit_compile))
    o, r = float(np.median(ours_s)), float(np.median(ref_s))
    print(f"{'':<34}{'s/step':>8}\n{'ours (targets in tf.data)':<34}{o:>8.4f}\n"
          f"{'reference (targets in the step)':<34}{r:>8.4f}\nratio ours/reference {o / r:.2f} "
          f"(rounds {', '.join(f'{a / b:.2f}' for a, b in zip(ours_s, ref_s))})")
    print(f"ours: {utilization(train_step_gflop(ours, loss, next(iter(ours_ds))), o, matmul_gflops())} "
          f"(the step's time includes waiting for its input pipeline)")


if __name__ == "__main__":
    main()
