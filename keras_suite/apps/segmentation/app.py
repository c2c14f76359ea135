"""Semantic segmentation with U-Net: train, evaluate (mIoU, Dice), predict (mask + overlay PNG), export."""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import APPS, App
from keras_suite.apps.segmentation.config import SegmentationConfig
from keras_suite.data.segmentation import batches, load_splits
from keras_suite.errors import UserError
from keras_suite.images import input_images, read_rgb, write_png
from keras_suite.losses import CEDiceLoss, DiceLoss, SparseFocalLoss
from keras_suite.metrics import MeanDice, confusion_scores
from keras_suite.models.unet import build_unet
from keras_suite.overlay import colorize, grid, overlay, palette
from keras_suite.previews import ImagePreview
from keras_suite.runs import write_json
from keras_suite.train import fit

LOSSES = ("ce", "dice", "focal", "ce_dice")


def make_loss(cfg):
    name = cfg.loss.name
    if name == "ce":
        return keras.losses.SparseCategoricalCrossentropy()
    if name == "dice":
        return DiceLoss()
    if name == "focal":
        return SparseFocalLoss(gamma=cfg.loss.focal_gamma)
    if name == "ce_dice":
        return CEDiceLoss(dice_weight=cfg.loss.dice_weight)
    raise UserError(f"loss.name must be one of {', '.join(LOSSES)}, got '{name}'")


def make_metrics(num_classes):
    return [keras.metrics.MeanIoU(num_classes, sparse_y_pred=False, name="mean_iou"),
            MeanDice(num_classes, sparse_y_pred=False),
            keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")]


def augment_options(data_cfg):
    """paired_augmenter kwargs from the data config, or None when augmentation is off."""
    d = data_cfg
    return dict(flip=d.flip, zoom=d.zoom, translate=d.translate, brightness=d.brightness) if d.augment else None


def build_model(cfg, num_classes):
    m = cfg.model
    if m.encoder not in ("unet", "mobilenet_v2"):
        raise UserError(f"model.encoder must be unet or mobilenet_v2, got '{m.encoder}'")
    try:
        return build_unet(num_classes, cfg.data.image_size, depth=m.depth, filters=m.filters, dropout=m.dropout,
                          batch_norm=m.batch_norm, encoder=m.encoder, weights=m.weights)
    except ValueError as e:
        raise UserError(str(e)) from None


def serve(model, images, dynamic):
    """uint8 images -> {"probabilities", "mask"}; with `dynamic`, any size in and out (resize in graph)."""
    size = model.input_shape[1:3]
    x = tf.cast(images, tf.float32)
    if dynamic:
        original = tf.shape(images)[1:3]
        x = tf.image.resize(x, size)
    probs = model(x, training=False)
    if dynamic:
        probs = tf.image.resize(probs, original)
    return {"probabilities": probs, "mask": tf.cast(tf.argmax(probs, axis=-1), tf.uint8)}


def preview(model, images, masks, num_classes):
    """Rows of (image, truth, predicted overlay) as one uint8 picture."""
    pred = np.argmax(model.predict(images, verbose=0), axis=-1)
    images = images.astype(np.uint8)
    return grid([[img, colorize(m, num_classes), overlay(img, p, num_classes)]
                 for img, m, p in zip(images, masks[..., 0], pred)])


def _take(ds, n):
    images, masks = next(iter(ds.batch(n)))
    return images.numpy(), masks.numpy()


@APPS.register("segmentation")
class SegmentationApp(App):
    name = "segmentation"
    description = "U-Net semantic segmentation (mIoU, Dice; mask + overlay PNGs)"
    config_cls = SegmentationConfig
    commands = {"train": {"resume"}, "evaluate": {"run", "split"}, "predict": {"run", "image", "out"},
                "export": {"run", "formats", "name", "overwrite"}}
    aliases = {"formats": "export.formats", "name": "export.name", "overwrite": "export.overwrite"}

    def train(self, cfg, args):
        splits = load_splits(cfg.data, cfg.train.seed)
        names = splits.class_names
        cfg.data.class_names = names  # saved with the run for predict/export
        run = self.train_dir(cfg, args)
        print(f"run directory: {run}")
        tc = cfg.train
        train_ds = batches(splits.train, tc.batch_size, training=True, augment=augment_options(cfg.data),
                           seed=tc.seed, cache=cfg.data.cache)
        val_ds = batches(splits.val, tc.batch_size, cache=cfg.data.cache)
        images, masks = _take(splits.val, 6)
        callbacks = [ImagePreview(lambda m: preview(m, images, masks, len(names)), run, Path(run) / "logs",
                                  every=tc.preview_every)]
        fit(cfg, run, lambda: (build_model(cfg, len(names)), make_loss(cfg), make_metrics(len(names))),
            train_ds, val_ds, callbacks)
        print(f"done: model {Path(run) / 'model.keras'}, metrics {Path(run) / 'metrics.json'}, "
              f"previews {Path(run) / 'previews'}; tensorboard --logdir {Path(run).parent}")
        return run

    def evaluate(self, cfg, args):
        split = self.eval_split(args)
        run = args["run"]
        model = self.trained_model(run)
        splits = load_splits(cfg.data, cfg.train.seed)
        names = splits.class_names
        n = len(names)
        cm = np.zeros((n, n), np.int64)
        data = batches(getattr(splits, split), cfg.train.batch_size, cache=False)
        total = int(data.cardinality())
        progress = keras.utils.Progbar(total if total > 0 else None, unit_name="batch")
        for images, masks in data:
            pred = np.argmax(model.predict_on_batch(images), axis=-1).ravel()
            cm += np.bincount(masks.numpy().ravel() * n + pred, minlength=n * n).reshape(n, n)
            progress.add(1)
        scores = {"split": split, **confusion_scores(cm, names), "confusion_matrix": cm.tolist()}
        print(f"{'class':<14}{'IoU':>8}{'Dice':>8}{'pixels':>11}")
        for name, s in scores["per_class"].items():
            print(f"{name:<14}{s['iou']:>8.4f}{s['dice']:>8.4f}{s['pixels']:>11d}")
        print(f"{'mean':<14}{scores['mean_iou']:>8.4f}{scores['mean_dice']:>8.4f}"
              f"   pixel accuracy {scores['pixel_accuracy']:.4f}")
        out = write_json(Path(run) / f"eval_{split}.json", scores)
        images, masks = _take(getattr(splits, split), 8)
        picture = write_png(Path(run) / "previews" / f"eval_{split}.png", preview(model, images, masks, n))
        print(f"wrote {out} and {picture}")
        return scores

    def predict(self, cfg, args):
        if "image" not in args:
            raise UserError("predict needs image=<path> (a file or a folder of images)")
        run = args["run"]
        paths = input_images(args["image"])
        images = [read_rgb(p) for p in paths]
        model = self.trained_model(run)
        names = cfg.data.class_names
        out = Path(args.get("out") or Path(run) / "predictions")
        for path, image in zip(paths, images):
            mask = serve(model, image[None], dynamic=True)["mask"].numpy()[0]
            mask_png = write_png(out / f"{path.stem}_mask.png", mask, palette=palette(len(names)))
            overlay_png = write_png(out / f"{path.stem}_overlay.png", overlay(image, mask, len(names)))
            present = ", ".join(names[c] for c in np.unique(mask) if c)
            print(f"{path}: {mask_png} {overlay_png} (classes: {present or 'none'})")
        return out

    def export(self, cfg, args):
        run = args["run"]
        target = self.export_target(cfg, run)
        model = self.trained_model(run)
        splits = load_splits(cfg.data, cfg.train.seed)
        ecfg = cfg.export
        size = cfg.data.image_size
        samples, _ = _take(splits.test, ecfg.parity_samples)
        calibration, _ = _take(splits.train, ecfg.calibration_samples)
        serving = exporting.Serving(
            model=model, fn=lambda x, dynamic: serve(model, x["images"], dynamic),
            dynamic_spec={"images": tf.TensorSpec([None, None, None, 3], tf.uint8)},
            fixed_spec={"images": tf.TensorSpec([1, size, size, 3], tf.uint8)},
            samples=[{"images": np.round(s[None]).astype(np.uint8)} for s in samples],
            calibration=[{"images": np.round(s[None]).astype(np.uint8)} for s in calibration])
        metadata = {
            "app": self.name, "task": "semantic segmentation", "labels": list(cfg.data.class_names),
            "input": {"name": "images", "dtype": "uint8", "layout": "NHWC", "channels": "RGB",
                      "saved_model_shape": [None, None, None, 3], "tflite_shape": [1, size, size, 3]},
            "normalization": "inside the graph: x / 255" if cfg.model.encoder == "unet"
            else "inside the graph: x / 127.5 - 1",
            "outputs": {"probabilities": "float32 (N, H, W, classes) softmax",
                        "mask": "uint8 (N, H, W) argmax class index"},
            "signature": "serve (also serving_default)", "run": str(run),
        }
        report = exporting.export(serving, target, ecfg, metadata)
        print(exporting.format_report(report))
        print(f"exported to {target}")
        return target
