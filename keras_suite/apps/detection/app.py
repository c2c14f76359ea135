"""YOLO object detection: train, evaluate (COCO mAP, PR curves, COCO JSON of truth and detections), predict (boxes
drawn on PNGs), export (NMS inside the SavedModel and the TFLite files), anchors (k-means on the training boxes),
convert (COCO JSON or Pascal VOC to a YOLO folder, a YOLO split to COCO JSON)."""

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.attack import AttackTask
from keras_suite.apps.base import App, Headline, class_index, report_value
from keras_suite.apps.detection.config import SPEC
from keras_suite.apps.detection.convert import coco_dataset, coco_results, convert
from keras_suite.config import arguments
from keras_suite.data.detection import augmenter, detection_batches, load_detection
from keras_suite.data.photos import export_photos
from keras_suite.detection.anchors import kmeans_anchors, per_scale_anchors
from keras_suite.detection.grid import AnchorGrid
from keras_suite.detection.postprocess import candidates, detect, part_candidates, suppress, suppress_one
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json
from keras_suite.losses.yolo import YoloLoss
from keras_suite.metrics.mean_average_precision import box_iou, evaluate_detections
from keras_suite.models.yolo import build_yolo
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import ImageFolder, write_png
from keras_suite.visuals.overlay import draw_boxes, labelled_grid, upscale
from keras_suite.visuals.plots import precision_recall_figure
from keras_suite.visuals.previews import ImagePreview

PREVIEW_SIDE = 256  # pixels a preview tile (and the shorter side of a `predict` picture) has at least


def training_boxes_wh(split):
    boxes = [b for b in split.boxes if len(b)]
    if not boxes:
        raise UserError("the training split has no boxes")
    b = np.concatenate(boxes)
    return b[:, 2:] - b[:, :2]


def choose_anchors(cfg, split):
    """The configured anchors, or k-means (IoU distance) on the training boxes sorted by area, written into the
    config (so they are saved with the run)."""
    m = cfg.model
    if not m.anchors:
        anchors, mean_iou = kmeans_anchors(training_boxes_wh(split), len(m.strides) * m.anchors_per_scale,
                                           seed=cfg.data.seed)
        print(f"anchors by k-means on the training boxes (mean best IoU {mean_iou:.3f}): "
              f"{np.round(anchors, 4).tolist()}")
        m.anchors = tuple(tuple(round(float(v), 5) for v in a) for a in anchors)


def make_grid(cfg):
    """The anchor grid of the run's anchors, strides and input size."""
    m = cfg.model
    return AnchorGrid(cfg.data.image_size, m.strides, per_scale_anchors(m.anchors, m.anchors_per_scale, len(m.strides)))


def build(cfg, num_classes, grid, objects_per_image):
    network = dataclasses.asdict(cfg.model)
    network.pop("anchors")  # the grid's and the loss's; the network needs only their number per scale
    terms = dataclasses.asdict(cfg.loss)
    for key in ("extra_iou", "neighbor_cells"):  # target assignment's (in the data pipeline)
        terms.pop(key)
    model = build_yolo(cfg.data.image_size, num_classes, objects_per_image=objects_per_image, **network)
    loss = YoloLoss(grid.image_size, grid.strides, [a.tolist() for a in grid.anchors], num_classes,
                    max_boxes=cfg.data.max_boxes, **terms)
    return model, loss, []


def load_data(cfg, **counts):
    """The splits of `data.source`; `counts` (num_train=...) replace the configured sizes of synthetic splits."""
    return load_detection(**arguments(cfg.data, load_detection, **counts))


def serve(model, grid, images, dynamic, dc, score_threshold, one_image=False):
    """uint8 images -> detections; with `dynamic`, any size in and boxes in that image's pixels; `one_image`: a
    batch of one, suppressed without loops (a TFLite file's signature)."""
    x = tf.cast(images, tf.float32)
    scale = None
    if dynamic:
        shape = tf.shape(images)
        scale = tf.tile(tf.cast(tf.stack([shape[2], shape[1]])[None], tf.float32), [shape[0], 1])
        x = tf.image.resize(x, (grid.image_size, grid.image_size))
    return detect(model(x, training=False), grid, dc.max_detections, dc.iou_threshold, score_threshold, scale,
                  dc.max_candidates, one_image)


def per_image(d):
    """Detections (boxes, scores, classes, num_detections arrays) as a list of (boxes, scores, classes) per image."""
    return [(d["boxes"][i, :n], d["scores"][i, :n], d["classes"][i, :n]) for i, n in enumerate(d["num_detections"])]


def detector(model, grid, dc, score_threshold):
    """`serve` compiled once for uint8 batches of any size at the network's input size (eager, it takes ~4 times
    as long: 3.4 s for 200 scenes)."""
    side = grid.image_size
    return tf.function(lambda images: serve(model, grid, images, False, dc, score_threshold),
                       input_signature=[tf.TensorSpec([None, side, side, 3], tf.uint8)])


def predictions(model, grid, images, dc, score_threshold, batch_size=32, compiled=None):
    """Per image (boxes in network-input pixels, scores, classes); `compiled`: `detector`'s function (eager
    without it: a few images cost less than a trace)."""
    run = compiled or (lambda x: serve(model, grid, x, False, dc, score_threshold))
    out = []
    for start in range(0, len(images), batch_size):
        out += per_image({k: v.numpy() for k, v in run(images[start:start + batch_size]).items()})
    return out


def ground_truth(split, size):
    return [(b * size, c) for b, c in zip(split.boxes, split.classes)]


class MapMonitor(keras.callbacks.Callback):
    """Each epoch: COCO mAP@0.5 and mAP@[.5:.95] on the validation split, added to the logs as val_map50
    and val_map (so checkpoints and TensorBoard see them)."""

    def __init__(self, grid, split, num_classes, dc, batch_size):
        super().__init__()
        self.grid, self.split, self.num_classes, self.dc, self.batch_size = grid, split, num_classes, dc, batch_size
        self.truth = ground_truth(split, grid.image_size)

    def set_model(self, model):
        super().set_model(model)
        self.compiled = detector(model, self.grid, self.dc, self.dc.eval_score_threshold)  # traced at first use

    def on_epoch_end(self, epoch, logs=None):
        dets = predictions(self.model, self.grid, self.split.images, self.dc, self.dc.eval_score_threshold,
                           self.batch_size, self.compiled)
        scores = evaluate_detections(dets, self.truth, self.num_classes)
        if logs is not None:
            logs["val_map50"], logs["val_map"] = scores["map50"] or 0.0, scores["map"] or 0.0


def preview(model, grid, split, names, dc, count):
    """Per validation image: ground truth (white) beside the predictions (class colours, scores), each at least
    PREVIEW_SIDE pixels so that labels read, under column titles."""
    images = split.images[:count]
    dets = predictions(model, grid, images, dc, dc.score_threshold)
    size = grid.image_size
    factor = max(1, -(-PREVIEW_SIDE // size))
    rows = [[draw_boxes(upscale(img, factor), b * size * factor, c, names, colour_of=(255, 255, 255)),
             draw_boxes(upscale(img, factor), db * factor, dc_, names, ds)]
            for img, b, c, (db, ds, dc_) in zip(images, split.boxes, split.classes, dets)]
    return labelled_grid(rows, ["ground truth", f"prediction (score >= {dc.score_threshold:g})"])


def match_detections(reference, outputs):
    """Parity of detections: per sample, reference boxes matched greedily (by score) to output boxes of the
    same class with IoU >= 0.5. match_rate = 2 x matched / (reference + output boxes) (1.0 when both sides
    find the same boxes; None when neither finds any: nothing was compared), matched_iou = the lowest IoU of a
    match, score_diff = the largest score change."""
    matched = total = 0
    worst_iou, score_diff = 1.0, 0.0
    for i in range(len(reference["num_detections"])):
        n_ref, n_out = int(reference["num_detections"][i]), int(outputs["num_detections"][i])
        rb, rs, rc = reference["boxes"][i, :n_ref], reference["scores"][i, :n_ref], reference["classes"][i, :n_ref]
        ob, os_, oc = outputs["boxes"][i, :n_out], outputs["scores"][i, :n_out], outputs["classes"][i, :n_out]
        total += n_ref + n_out
        iou = box_iou(rb, ob) * (rc[:, None] == oc[None, :])
        taken = np.zeros(n_out, bool)
        for r in np.argsort(-rs):
            candidates = np.where(taken, -1.0, iou[r])
            j = int(np.argmax(candidates)) if n_out else -1
            if j >= 0 and candidates[j] >= 0.5:
                taken[j] = True
                matched += 1
                worst_iou = min(worst_iou, float(candidates[j]))
                score_diff = max(score_diff, abs(float(rs[r]) - float(os_[j])))
    return {"match_rate": 2 * matched / total if total else None, "matched_iou": worst_iou, "score_diff": score_diff}


class DetectionApp(App):
    spec = SPEC

    def train(self, cfg, args):
        splits = load_data(cfg)
        names = splits.class_names
        cfg.data.class_names = tuple(names)
        choose_anchors(cfg, splits.train)
        grid = make_grid(cfg)
        run = self.train_dir(cfg, args)
        print(f"run directory: {run}\n{len(splits.train.images)} training images, {len(names)} classes, "
              f"{grid.positions} anchor positions over grids {grid.sizes}")
        d, tc = cfg.data, cfg.train
        train_ds = detection_batches(splits.train, grid, len(names), tc.batch_size, d.max_boxes, training=True,
                                     augment=augmenter(d.flip, d.scale, d.translate, tc.seed), seed=tc.seed,
                                     extra_iou=cfg.loss.extra_iou, neighbors=cfg.loss.neighbor_cells)
        val_ds = detection_batches(splits.val, grid, len(names), tc.batch_size, d.max_boxes,
                                   extra_iou=cfg.loss.extra_iou, neighbors=cfg.loss.neighbor_cells)
        monitor = MapMonitor(grid, splits.val, len(names), cfg.detect, tc.batch_size)
        previews = ImagePreview(lambda m: preview(m, grid, splits.val, names, cfg.detect, cfg.detect.preview_images),
                                run, name="boxes", every=tc.preview_every)
        objects = max(1.0, float(np.mean([len(b) for b in splits.train.boxes])))
        fit(cfg, run, lambda: build(cfg, len(names), grid, objects), train_ds, val_ds, [monitor, previews])
        print(f"done: model {run.model}, previews {run.previews} (left: ground truth, right: predictions); "
              f"tensorboard --logdir {run.path.parent}")
        return run

    def evaluate(self, cfg, args):
        split_name = self.eval_split(args)
        run = args["run"]
        model, grid = self.trained_model(run), make_grid(cfg)
        # one training scene: evaluation needs only its split (real sources ignore the counts)
        splits, names = load_data(cfg, num_train=1), cfg.data.class_names
        if split_name == "test" and splits.test_name != "test":
            print(f"{cfg.data.source} has no test split: evaluating on its {splits.test_name} split")
            split_name = splits.test_name
        split = getattr(splits, split_name)
        dets = predictions(model, grid, split.images, cfg.detect, cfg.detect.eval_score_threshold,
                           cfg.train.batch_size, detector(model, grid, cfg.detect, cfg.detect.eval_score_threshold))
        scores = evaluate_detections(dets, ground_truth(split, grid.image_size), len(names))
        print(f"{'class':<14}{'AP50':>8}{'AP':>8}{'boxes':>8}")
        for c, row in scores["per_class"].items():
            ap50, ap = (f"{v:.4f}" if v is not None else "-" for v in (row["ap50"], row["ap"]))
            print(f"{names[c]:<14}{ap50:>8}{ap:>8}{row['ground_truth']:>8}")
        summary = {k: scores[k] for k in ("map", "map50", "map75", "map_small", "map_medium", "map_large")}
        print("  ".join(f"{k} {v:.4f}" if v is not None else f"{k} -" for k, v in summary.items()))
        figure = precision_recall_figure(scores["pr_curves"], names, {c: r["ap50"] for c, r in
                                                                     scores["per_class"].items()}, f"({split_name})")
        picture = write_png(run.preview(f"pr_{split_name}.png"), figure)
        report = {"split": split_name, "images": len(split.images), **summary,
                  "per_class": {names[c]: r for c, r in scores["per_class"].items()}}
        out = write_json(run.report("eval", split_name), report)
        truth, found = self._coco_files(run, split, split_name, dets, grid.image_size, names)
        print(f"wrote {out} and {picture}\nCOCO JSON (for pycocotools and other tools): ground truth {truth}, "
              f"detections {found}")
        return report

    @staticmethod
    def _coco_files(run, split, split_name, dets, size, names):
        """The split's ground truth and the detections as COCO JSON, in the pixels of the images as read."""
        n = len(split.images)
        files = split.files or tuple(f"{split_name}_{i:05d}.png" for i in range(n))
        sides = np.float64(split.sizes if split.sizes is not None else [(size, size)] * n)[:, [0, 1, 0, 1]]
        truth = write_json(run.file(f"coco_{split_name}_ground_truth.json"),
                           coco_dataset(files, sides[:, :2], [b * s for b, s in zip(split.boxes, sides)],
                                        split.classes, names))
        found = write_json(run.file(f"coco_{split_name}_detections.json"),
                           coco_results([(b / size * s, score, c) for (b, score, c), s in zip(dets, sides)]))
        return truth, found

    def predict(self, cfg, args):
        run = args["run"]
        inputs = ImageFolder(args["image"])
        model, grid, names = self.trained_model(run), make_grid(cfg), cfg.data.class_names
        out = Path(args.get("out") or run.predictions)
        for path, image, stem in inputs.items:
            d = {k: v.numpy()[0] for k, v in serve(model, grid, image[None], True, cfg.detect,
                                                    cfg.detect.score_threshold).items()}
            n = int(d["num_detections"])
            factor = max(1, -(-PREVIEW_SIDE // min(image.shape[:2])))  # small images enlarged: labels legible
            png = write_png(out / f"{stem}_boxes.png", draw_boxes(upscale(image, factor), d["boxes"][:n] * factor,
                                                                  d["classes"][:n], names, d["scores"][:n]))
            found = ", ".join(f"{names[c]} {s:.2f}" for c, s in zip(d["classes"][:n], d["scores"][:n]))
            print(f"{path}: {png} ({n} detections{': ' + found if n else ''})")
        inputs.finish(out)
        return out

    def anchors(self, cfg, args):
        try:
            k = int(args.get("k", len(cfg.model.strides) * cfg.model.anchors_per_scale))
        except ValueError:
            raise UserError(f"k must be a whole number, got '{args['k']}'") from None
        if k < 1:
            raise UserError(f"k must be >= 1, got {k}")
        wh = training_boxes_wh(load_data(cfg).train)
        try:
            anchors, mean_iou = kmeans_anchors(wh, k, seed=cfg.data.seed)
        except ValueError as e:
            raise UserError(str(e)) from None
        print(f"{k} anchors (w, h as fractions of the image side) from {len(wh)} training boxes, "
              f"mean best IoU {mean_iou:.4f}:")
        literal = [[round(float(w), 4), round(float(h), 4)] for w, h in anchors]
        print(f"model.anchors={literal}".replace(" ", ""))
        return {"anchors": literal, "mean_iou": mean_iou}

    def convert(self, cfg, args):
        """COCO JSON or Pascal VOC -> a split of a YOLO folder; a YOLO split -> COCO JSON (`overwrite=` is
        export.overwrite's alias, as for export)."""
        written, dataset = convert(args["src"], args["out"], args.get("split", "train"), args.get("images"),
                                   _names(args.get("classes")), _flag(args, "crowd"), _flag(args, "difficult"),
                                   cfg.export.overwrite, args.get("imageset"))
        empty, boxes = sum(not r.boxes for r in dataset.records), sum(len(r.boxes) for r in dataset.records)
        notes = "".join(f"; {count} {what}" for what, count in dataset.notes.items())
        print(f"wrote {written}: {len(dataset.records)} images ({empty} without boxes), {boxes} boxes, "
              f"{len(dataset.names)} classes{notes}")
        if written.is_dir():
            print(f"train on it: keras-suite detection train data.source=folder:{written.parent}")
        return written

    def attack_task(self, cfg, run, model, target):
        """Score suppression: the mean of the 20 best positions' best class score, lowered; mAP@0.5."""
        ac, grid, names = cfg.attack, make_grid(cfg), cfg.data.class_names
        test = load_data(cfg, num_train=0, num_val=0, num_test=ac.examples).test
        truth = ground_truth(test, grid.image_size)

        def loss(x, index):
            best = tf.reduce_max(candidates(model(x, training=False), grid)[1], axis=-1)
            return -tf.reduce_mean(tf.math.top_k(best, k=min(20, best.shape[-1])).values, axis=-1)

        def score(outputs):
            return evaluate_detections(per_image(outputs), truth, len(names))["map50"]

        return AttackTask(test.images.astype(np.float32), loss,
                          lambda x: serve(model, grid, x, False, cfg.detect, cfg.detect.eval_score_threshold), score,
                          "mAP@0.5", "detection scores suppressed (the 20 best positions' best class score lowered)")

    def visual_samples(self, cfg):
        return load_data(cfg, num_train=0, num_val=0, num_test=16).test.images[:16]

    def saliency_context(self, cfg, args):
        """The index of the `class=` argument, or None."""
        return class_index(cfg.data.class_names, args.get("class"), "class")

    def saliency_target(self, cfg, run, model, image, context):
        """The best score (objectness x class probability) of a class over every position: the given class, or
        the top detection's."""
        grid, names = make_grid(cfg), list(cfg.data.class_names)

        def scores(x):
            return candidates(model(x, training=False), grid)[1]

        c = context if context is not None else int(np.argmax(np.max(scores(image[None].astype(np.float32))[0],
                                                                       axis=0)))
        return lambda x: tf.reduce_max(scores(x)[..., c], axis=1), f"the best score of '{names[c]}'"

    def examples(self, cfg, run, folder):
        """Evaluate, then find the objects of a test scene written as a PNG into `folder`."""
        scene = load_data(cfg, num_train=0, num_val=0, num_test=1).test.images[0]
        return [("evaluate", {}), ("predict", {"image": write_png(folder / "scene.png", scene)})]

    def headline(self, run):
        return Headline("test mAP@0.5", report_value(run, "eval", "test", "map50"), 0.90)

    def serving(self, cfg, run):
        model, grid = self.trained_model(run), make_grid(cfg)
        ecfg, dc, size = cfg.export, cfg.detect, cfg.data.image_size
        splits = load_data(cfg, num_train=ecfg.calibration_samples, num_val=0,
                           num_test=max(ecfg.parity_samples, ecfg.task_samples))
        calibration_photos, photos = export_photos(ecfg, size)
        dynamic_spec, fixed_spec = exporting.image_specs(size)
        serving = exporting.Serving(
            model=model, fn=lambda x, dynamic: serve(model, grid, x["images"], dynamic, dc, dc.score_threshold,
                                                     one_image=not dynamic),
            dynamic_spec=dynamic_spec, fixed_spec=fixed_spec,
            samples=exporting.image_samples(splits.test.images, ecfg.parity_samples),
            calibration=exporting.image_samples(np.concatenate([splits.train.images[:ecfg.calibration_samples],
                                                                calibration_photos])),
            photos=exporting.image_samples(photos),
            scores=match_detections, min_scores={"match_rate": ecfg.min_match_rate},
            # the raw head too, where the boxes a score threshold drops still count
            probe=("/raw", lambda x: model(tf.cast(x["images"], tf.float32), training=False)),
            probe_limits=ecfg.max_raw_mean_diff, litert=_litert(size, list(cfg.data.class_names), dc),
            layouts={"tflite_tasks": _tasks_layout(model, grid, size, list(cfg.data.class_names), dc),
                     "tflite_int8": _int8_layout(model, grid, size, list(cfg.data.class_names), dc),
                     **_nonms_layouts(model, grid, size, list(cfg.data.class_names), dc)},
            task=_task(splits.test, ecfg.task_samples, size, len(cfg.data.class_names)))
        metadata = {
            "task": "object detection", "labels": list(cfg.data.class_names), "input": exporting.image_input(size),
            "normalization": "inside the graph: x / 255 (the SavedModel resizes any size to "
                             f"{size}x{size} first)",
            "outputs": {"boxes": f"float32 (N, {dc.max_detections}, 4) x1 y1 x2 y2 in input-image pixels",
                        "scores": "float32 (N, D)", "classes": "int32 (N, D) index into labels",
                        "num_detections": "int32 (N,) valid rows; the rest are zero"},
            "postprocessing": {"score_threshold": dc.score_threshold, "iou_threshold": dc.iou_threshold,
                               "nms": "class-aware, tf.image.non_max_suppression_padded"},
            "anchors": [list(a) for a in cfg.model.anchors], "strides": list(cfg.model.strides),
            "signature": "serve (also serving_default)"}
        return serving, metadata


def _names(text):
    """classes=a,b,c as a tuple of names."""
    return tuple(n.strip() for n in str(text).split(",") if n.strip()) if text else ()


def _flag(args, key):
    value = str(args.get(key, "false")).lower()
    if value not in ("true", "false", "yes", "no", "1", "0"):
        raise UserError(f"{key} must be true or false, got '{value}'")
    return value in ("true", "yes", "1")


def _task(split, count, size, num_classes):
    """Test mAP@0.5 and mAP@[.5:.95] of each format's detections on `count` test scenes (at the export's score
    threshold; None: no check)."""
    if not count:
        return None
    count = min(count, len(split.images))
    truth = ground_truth(split, size)[:count]

    def score(outputs):
        dets = [(outputs["boxes"][i, :n], outputs["scores"][i, :n], outputs["classes"][i, :n])
                for i, n in enumerate(outputs["num_detections"])]
        scores = evaluate_detections(dets, truth, num_classes)
        return {"map50": scores["map50"], "map": scores["map"]}

    return exporting.TaskCheck(exporting.image_samples(split.images, count), score)


def _litert(size, names, dc):
    """The metadata inside the .tflite files: an RGB photo in; boxes, scores, classes and their count out."""
    d = dc.max_detections
    return litert.Description(
        name="keras-suite detection",
        description=f"YOLO-style detector of {len(names)} classes ({', '.join(names)}) with box decoding and "
                    f"class-aware non-max suppression inside (score >= {dc.score_threshold}, IoU "
                    f"{dc.iou_threshold}); the first num_detections rows of each output are valid, the rest zero",
        inputs={"images": litert.image_input(size, f"RGB photo, {size}x{size}, uint8 0-255 (normalized inside)")},
        outputs={"boxes": litert.boxes(f"[1, {d}, 4] boxes x1 y1 x2 y2 in input pixels", (0, 1, 2, 3), "PIXEL"),
                 "scores": litert.feature(f"[1, {d}] detection scores, highest first", stats=(0, 1)),
                 "classes": litert.feature(f"[1, {d}] int32 class index of each box", files=["labels.txt"]),
                 "num_detections": litert.feature("[1] int32 number of valid detections")},
        files={"labels.txt": (litert.text_file(names), {"description": "class names, one per line, in class order",
                                                        "type": "TENSOR_VALUE_LABELS"})})


def _tasks_layout(model, grid, size, names, dc):
    """The detector as MediaPipe Tasks and the Task Library read it (their metadata writer's layout): boxes
    (ymin, xmin, ymax, xmax) as fractions of the image, and class, score and count, all float32, named
    location, category, score and "number of detections"."""

    def fn(inputs):
        d = serve(model, grid, inputs["images"], False, dc, dc.score_threshold, one_image=True)
        x1, y1, x2, y2 = tf.unstack(d["boxes"], axis=-1)
        return {"location": tf.stack([y1, x1, y2, x2], -1) / size, "category": tf.cast(d["classes"], tf.float32),
                "score": d["scores"], "number_of_detections": tf.cast(d["num_detections"], tf.float32)}

    def back(outputs):
        y1, x1, y2, x2 = np.moveaxis(outputs["location"] * size, -1, 0)
        return {"boxes": np.stack([x1, y1, x2, y2], -1), "classes": outputs["category"].astype(np.int32),
                "scores": outputs["score"], "num_detections": outputs["number_of_detections"].astype(np.int32)}

    main = _litert(size, names, dc)
    d = dc.max_detections
    return exporting.Layout(fn, back, dataclasses.replace(main, outputs={
        "location": litert.boxes(f"[1, {d}, 4] boxes ymin xmin ymax xmax, fractions of the image side",
                                 (1, 0, 3, 2), "RATIO"),
        "category": litert.feature(f"[1, {d}] class index of each box (float)", files=["labels.txt"],
                                   value_range=(2, 2)),
        "score": litert.feature(f"[1, {d}] detection scores, highest first", value_range=(2, 2), stats=(0, 1)),
        "number_of_detections": {"name": "number of detections",
                                 **litert.feature("[1] number of valid detections (float)")}},
        output_groups=[{"name": "detection_result", "tensor_names": ["location", "category", "score"]}]))


def int8_graph(model, grid, dc):
    """uint8 images (a batch of one) -> detections, as the int8 file computes them: each head's box, objectness and
    class parts apart (`part_candidates`), so each gets its own int8 scale, and the suppression in float
    (NON_MAX_SUPPRESSION_V5 has no int8 kernel) on values that all lie in [0, 1] (`suppress_one`)."""
    parts = part_candidates(model, grid)
    return lambda images: suppress_one(*parts(tf.cast(images, tf.float32)), grid.image_size, dc.max_detections,
                                       dc.iou_threshold, dc.score_threshold, dc.max_candidates)


def _int8_layout(model, grid, size, names, dc):
    """The int8 file's graph (`int8_graph`): the main signature's inputs and outputs, and no raw head to probe."""
    graph = int8_graph(model, grid, dc)
    return exporting.Layout(lambda inputs: graph(inputs["images"]), dict, _litert(size, names, dc), probe=False)


def _nonms_layouts(model, grid, size, names, dc):
    """The network and box decoding without non-max suppression, for a GPU delegate (it runs no loops and no
    NMS): a float32 photo in, every position's box and class scores out; and the same in integers only for NPUs
    (`tflite_int8_full`: uint8 photo in, uint8 boxes and scores out). The host runs the suppression with the
    parameters in the metadata (in Python: `keras_suite.detection.postprocess.suppress`)."""

    def fn(inputs):
        boxes, scores = candidates(model(inputs["images"], training=False), grid)
        return {"boxes": boxes, "scores": scores}

    def back(outputs):
        d = suppress(tf.constant(outputs["boxes"]), tf.constant(outputs["scores"]), size, dc.max_detections,
                     dc.iou_threshold, dc.score_threshold, max_candidates=dc.max_candidates)
        return {k: v.numpy() for k, v in d.items()}

    best = dc.max_candidates if 0 < dc.max_candidates < grid.positions else grid.positions
    nms = (f"keep each position's best class; take the {best} best positions; class-aware NMS "
           f"(IoU {dc.iou_threshold}, score >= {dc.score_threshold}, at most {dc.max_detections} boxes)")
    image = litert.image_input(size, f"RGB photo, {size}x{size}, float32 0-255 (normalized inside)")
    description = dataclasses.replace(
        _litert(size, names, dc), description=f"YOLO-style detector of {len(names)} classes without non-max "
        f"suppression, for a GPU delegate; then on the host: {nms}",
        inputs={"images": image},
        outputs={"boxes": litert.boxes(f"[1, {grid.positions}, 4] every position's box x1 y1 x2 y2, fractions "
                                       "of the image side", (0, 1, 2, 3), "RATIO"),
                 "scores": {**litert.feature(f"[1, {grid.positions}, {len(names)}] objectness x class "
                                             "probability of each position and class", files=["labels.txt"],
                                             stats=(0, 1)),
                            "process_units": [{"options_type": "ScoreThresholdingOptions",
                                               "options": {"global_score_threshold": dc.score_threshold}}],
                            "associated_files": [{"name": "labels.txt", "type": "TENSOR_AXIS_LABELS"}]}})
    integer = dataclasses.replace(
        description, description=description.description.replace("for a GPU delegate", "integers only (for NPUs)"),
        inputs={"images": litert.image_input(size, f"RGB photo, {size}x{size}, uint8 0-255 (normalized inside)")})
    parts = part_candidates(model, grid)

    def integer_fn(inputs):
        boxes, scores = parts(inputs["images"])
        return {"boxes": boxes, "scores": scores}

    nonms = exporting.Layout(fn, back, spec={"images": tf.TensorSpec([1, size, size, 3], tf.float32, name="images")},
                             prepare=lambda sample: {"images": sample["images"].astype(np.float32)}, litert=description)
    integer_layout = dataclasses.replace(exporting.full_integer_layout(integer_fn, size, back, integer), probe=False)
    return {"tflite_nonms": nonms, "tflite_int8_full": integer_layout}
