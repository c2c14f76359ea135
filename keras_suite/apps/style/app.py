"""Neural style transfer: stylize (Gatys optimization of one image), train (a feed-forward Johnson
stylizer for one style), predict (stylize photos in one pass), export (uint8 image in, uint8 image out)."""

import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import APPS, App
from keras_suite.apps.style.config import StyleConfig
from keras_suite.config import save_config
from keras_suite.data.style_images import (
    CONTENT,
    builtin_image,
    content_images,
    cover,
    load_image,
    random_crops,
    resize_longer,
    style_at,
)
from keras_suite.errors import UserError
from keras_suite.images import input_images, write_png
from keras_suite.losses.perceptual import PerceptualLoss, StyleTransferLoss
from keras_suite.models.stylizer import build_stylizer
from keras_suite.models.vgg_features import VGGFeatures
from keras_suite.overlay import grid as picture_grid
from keras_suite.plots import loss_curves_figure
from keras_suite.previews import ImagePreview
from keras_suite.runs import new_run_dir, write_json
from keras_suite.style_optimization import NonFiniteLoss, optimize_image, preserve_colour
from keras_suite.train import fit

MIN_SIZE = 32  # VGG19 pools four times before block5: smaller images leave it no pixels
MIN_SIDE = 4  # the stylizer halves twice


def _weights(values, names, what):
    if not values:
        return [1.0] * len(names)
    if len(values) != len(names):
        raise UserError(f"{what} needs one weight per entry ({len(names)}: {', '.join(names)}), got {list(values)}")
    return [float(v) for v in values]


def perceptual_loss(cfg, size):
    """The PerceptualLoss of cfg.style, with the style images resized to `size` (their longer side)."""
    s = cfg.style
    if not s.images:
        raise UserError("no style image: pass style=<image or built-in name>[,<another>...]")
    features = VGGFeatures(tuple(dict.fromkeys((*s.layers, s.content_layer))), s.weights, s.seed)
    if features.weights == "random":
        print("note: VGG19 has random weights (no ImageNet weights cached under KERAS_HOME, or style.weights=random);"
              " colours and textures transfer, brush strokes less so")
    styles = [(style_at(load_image(name), size, name), w)
              for name, w in zip(s.images, _weights(s.image_weights, s.images, "style.image_weights"))]
    layers = dict(zip(s.layers, _weights(s.layer_weights, s.layers, "style.layer_weights")))
    return PerceptualLoss(features, s.content_layer, layers, styles, s.content_weight, s.style_weight, s.tv_weight)


def _style_override(cfg, args):
    if "style" in args:
        cfg.style.images = tuple(p for p in args["style"].split(",") if p)


def _finish(image, content, cfg):
    if cfg.style.preserve_colour:
        image = preserve_colour(image, content).numpy().round().astype(np.uint8)
    return image


def stylize_with(model, image):
    """One uint8 image (H, W, 3) through a stylizer -> uint8."""
    out = model(tf.cast(image[None], tf.float32), training=False)[0]
    return np.asarray(tf.round(tf.clip_by_value(out, 0.0, 255.0))).astype(np.uint8)


def psnr(reference, outputs):
    """Lowest PSNR (dB, capped at 100) of the output images against the reference images."""
    ref, out = (np.asarray(v["image"], np.float64) for v in (reference, outputs))
    mse = np.mean((ref - out) ** 2, axis=tuple(range(1, ref.ndim)))
    return {"psnr": float(np.min(np.where(mse > 0, 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-12)), 100.0)))}


@APPS.register("style")
class StyleApp(App):
    name = "style"
    description = "neural style transfer (Gatys optimization; a feed-forward stylizer that exports to TFLite)"
    config_cls = StyleConfig
    commands = {"stylize": {"content", "style", "out", "steps", "size"}, "train": {"style", "resume"},
                "predict": {"run", "image", "out"}, "export": {"run", "formats", "name", "overwrite"}}
    aliases = {"steps": "stylize.steps", "size": "stylize.size", "formats": "export.formats",
               "name": "export.name", "overwrite": "export.overwrite"}

    def trained_model(self, run, compile=False):
        """The stylizer alone: its training loss holds the VGG network and is not part of the file."""
        return super().trained_model(run, compile=compile)

    def stylize(self, cfg, args):
        if "content" not in args:
            raise UserError(f"stylize needs content=<image or built-in name: {', '.join(CONTENT)}>")
        _style_override(cfg, args)
        st = cfg.stylize
        if st.size < MIN_SIZE:
            raise UserError(f"stylize.size must be at least {MIN_SIZE} (VGG19 pools four times), got {st.size}")
        if st.steps < 1:
            raise UserError(f"stylize.steps must be >= 1, got {st.steps}")
        content = resize_longer(load_image(args["content"]), st.size)
        loss = perceptual_loss(cfg, st.size)
        run = new_run_dir(cfg.train.runs_dir, self.name)
        writer = tf.summary.create_file_writer(str(run / "logs"))
        print(f"run directory: {run}\nstylizing {args['content']} ({content.shape[1]}x{content.shape[0]}) with "
              f"{', '.join(cfg.style.images)}: {st.steps} {st.optimizer} steps")

        def snapshot(step, image, terms):
            image = _finish(image, content, cfg)
            write_png(run / "previews" / f"step_{step:04d}.png", image)
            with writer.as_default():
                tf.summary.image("stylized", image[None], step=step)
                for k, v in terms.items():
                    tf.summary.scalar(f"loss/{k}", v, step=step)
            writer.flush()

        start = time.time()
        try:
            image, history = optimize_image(loss, content, st.steps, st.learning_rate, st.optimizer, st.noise,
                                            cfg.style.seed, st.every, snapshot)
        except NonFiniteLoss as e:
            raise UserError(f"{e}; the snapshots so far are in {run / 'previews'}") from None
        seconds = time.time() - start
        image = _finish(image, content, cfg)
        result = write_png(run / "stylized.png", image)
        if args.get("out"):
            write_png(args["out"], image)
        panel = [content, *(cover(load_image(n), content.shape[:2]) for n in cfg.style.images), image]
        write_png(run / "previews" / "content_style_result.png", np.concatenate(panel, axis=1))
        write_png(run / "previews" / "loss.png", loss_curves_figure(history, f"{st.optimizer}, {st.size} px"))
        write_json(run / "metrics.json", {"steps": st.steps, "seconds": round(seconds, 2),
                                          "steps_per_second": st.steps / seconds, "vgg_weights": loss.features.weights,
                                          "first": history[0], "final": history[-1], "history": history})
        save_config(cfg, run / "config.yaml")
        print(f"done in {seconds:.1f} s ({st.steps / seconds:.2f} steps/s): {result}; loss "
              f"{history[0]['total']:.4g} -> {history[-1]['total']:.4g}; tensorboard --logdir {run.parent}")
        return run

    def train(self, cfg, args):
        _style_override(cfg, args)
        d, tc = cfg.data, cfg.train
        if d.image_size < MIN_SIZE:
            raise UserError(f"data.image_size must be at least {MIN_SIZE}, got {d.image_size}")
        photos = content_images(d.source, d.data_dir, d.download, d.limit)
        if not photos:
            raise UserError(f"no content photos in {d.source}")
        train = random_crops(photos, d.image_size, d.num_train, d.seed)
        val = random_crops(photos, d.image_size, d.num_val, d.seed + 1)
        loss = perceptual_loss(cfg, d.image_size)
        run = self.train_dir(cfg, args)
        print(f"run directory: {run}\n{len(photos)} content photos, {len(train)} training crops of "
              f"{d.image_size} px; style {', '.join(cfg.style.images)}")

        def batches(images, training):
            x = tf.cast(images, tf.float32)
            ds = tf.data.Dataset.from_tensor_slices((x, x))
            if training:
                ds = ds.shuffle(len(images), seed=tc.seed, reshuffle_each_iteration=True)
            return ds.batch(tc.batch_size).prefetch(tf.data.AUTOTUNE)

        def render(model):
            return picture_grid([[v, stylize_with(model, v)] for v in val[:4]])

        previews = ImagePreview(render, run, Path(run) / "logs", name="stylized", every=tc.preview_every)
        fit(cfg, run, lambda: (build_stylizer(cfg.model.filters, cfg.model.residual_blocks), StyleTransferLoss(loss),
                               []), batches(train, True), batches(val, False), [previews])
        print(f"done: model {Path(run) / 'model.keras'}, previews {Path(run) / 'previews'}; "
              f"keras-suite style predict run={run} image=<photo or folder>")
        return run

    def predict(self, cfg, args):
        if "image" not in args:
            raise UserError("predict needs image=<path> (a file or a folder of images)")
        run = args["run"]
        paths = [args["image"]] if args["image"] in CONTENT else input_images(args["image"])
        images = [load_image(str(path)) for path in paths]  # every input is checked before anything is written
        for path, image in zip(paths, images):
            if min(image.shape[:2]) < MIN_SIDE:
                raise UserError(f"image {path} is {image.shape[1]}x{image.shape[0]}; the stylizer needs at least "
                                f"{MIN_SIDE} px a side")
        model = self.trained_model(run)
        out = Path(args.get("out") or Path(run) / "predictions")
        for path, image in zip(paths, images):
            start = time.perf_counter()
            result = _finish(stylize_with(model, image), image, cfg)
            ms = (time.perf_counter() - start) * 1000
            png = write_png(out / f"{Path(str(path)).stem}_stylized.png", result)
            print(f"{path}: {png} ({image.shape[1]}x{image.shape[0]}, {ms:.0f} ms)")
        return out

    def export(self, cfg, args):
        run = args["run"]
        target = self.export_target(cfg, run)
        model = self.trained_model(run)
        ecfg = cfg.export
        size = ecfg.image_size
        if size < MIN_SIDE:
            raise UserError(f"export.image_size must be at least {MIN_SIDE}, got {size}")
        photos = [builtin_image(n) for n in CONTENT]
        samples = [{"images": c[None]} for c in random_crops(photos, size, ecfg.parity_samples, 1)]
        calibration = [{"images": c[None]} for c in random_crops(photos, size, ecfg.calibration_samples, 2)]

        def fn(x, dynamic):
            out = model(tf.cast(x["images"], tf.float32), training=False)
            return {"image": tf.cast(tf.round(tf.clip_by_value(out, 0.0, 255.0)), tf.uint8)}

        serving = exporting.Serving(
            model=model, fn=fn, dynamic_spec={"images": tf.TensorSpec([None, None, None, 3], tf.uint8)},
            fixed_spec={"images": tf.TensorSpec([1, size, size, 3], tf.uint8)}, samples=samples,
            calibration=calibration, scores=psnr, min_scores={"psnr": ecfg.min_psnr})
        metadata = {
            "app": self.name, "task": "style transfer", "style": list(cfg.style.images),
            "input": {"name": "images", "dtype": "uint8", "layout": "NHWC", "channels": "RGB",
                      "saved_model_shape": [None, None, None, 3], "tflite_shape": [1, size, size, 3]},
            "outputs": {"image": "uint8, the input's shape"},
            "normalization": "inside the graph", "signature": "serve (also serving_default)", "run": str(run)}
        report = exporting.export(serving, target, ecfg, metadata)
        print(exporting.format_report(report))
        print(f"exported to {target}")
        return target
