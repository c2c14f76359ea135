"""Neural style transfer: stylize (Gatys optimization of one image), train (a feed-forward Johnson
stylizer for one style), predict (stylize photos in one pass), export (uint8 image in, uint8 image out)."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.base import App, Headline
from keras_suite.apps.style.config import MIN_SIDE, SPEC
from keras_suite.apps.style.optimization import NonFiniteLoss, optimize_image, preserve_colour
from keras_suite.config import save_config
from keras_suite.console import progress_verbosity
from keras_suite.data.photos import export_photos, random_crops
from keras_suite.data.pipeline import prefetched
from keras_suite.data.style_images import (
    CONTENT,
    builtin_image,
    content_images,
    cover,
    load_image,
    resize_longer,
    style_at,
)
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json
from keras_suite.losses.perceptual import PerceptualLoss, StyleTransferLoss
from keras_suite.models.stylizer import build_stylizer
from keras_suite.models.vgg_features import VGGFeatures
from keras_suite.runs import Run
from keras_suite.training.trainer import fit, read_history
from keras_suite.visuals.images import ImageFolder, write_png
from keras_suite.visuals.overlay import grid as picture_grid
from keras_suite.visuals.plots import loss_curves_figure
from keras_suite.visuals.previews import ImagePreview

STYLIZED = "stylized.png"  # the result of a `stylize` run


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


def _stylizable(path):
    """A photo (or built-in name) the stylizer can take: at least MIN_SIDE pixels a side."""
    image = load_image(str(path))
    if min(image.shape[:2]) < MIN_SIDE:
        raise UserError(f"image {path} is {image.shape[1]}x{image.shape[0]}; the stylizer needs at least {MIN_SIDE} px "
                        f"a side")
    return image


def psnr(reference, outputs):
    """Lowest PSNR (dB, capped at 100) of the output images against the reference images."""
    ref, out = (np.asarray(v["image"], np.float64) for v in (reference, outputs))
    mse = np.mean((ref - out) ** 2, axis=tuple(range(1, ref.ndim)))
    return {"psnr": float(np.min(np.where(mse > 0, 10 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-12)), 100.0)))}


class StyleApp(App):
    spec = SPEC

    def stylize(self, cfg, args):
        _style_override(cfg, args)
        st = cfg.stylize
        content = resize_longer(load_image(args["content"]), st.size)
        loss = perceptual_loss(cfg, st.size)
        run = Run.create(cfg.train.runs_dir, self.name).started(self.name, "stylize")
        writer = tf.summary.create_file_writer(str(run.logs))
        print(f"run directory: {run}\nstylizing {args['content']} ({content.shape[1]}x{content.shape[0]}) with "
              f"{', '.join(cfg.style.images)}: {st.steps} {st.optimizer} steps")

        def snapshot(step, image, terms):
            image = _finish(image, content, cfg)
            write_png(run.preview(f"step_{step:04d}.png"), image)
            with writer.as_default():
                tf.summary.image("stylized", image[None], step=step)
                for k, v in terms.items():
                    tf.summary.scalar(f"loss/{k}", v, step=step)
            writer.flush()

        start = time.time()
        try:
            image, history = optimize_image(loss, content, st.steps, st.learning_rate, st.optimizer, st.noise,
                                            cfg.style.seed, st.every, snapshot,
                                            verbose=progress_verbosity(cfg.train.verbose))
        except NonFiniteLoss as e:
            raise UserError(f"{e}; the snapshots so far are in {run.previews}") from None
        seconds = time.time() - start
        image = _finish(image, content, cfg)
        result = write_png(run.file(STYLIZED), image)
        if args.get("out"):
            write_png(args["out"], image)
        panel = [content, *(cover(load_image(n), content.shape[:2]) for n in cfg.style.images), image]
        write_png(run.preview("content_style_result.png"), np.concatenate(panel, axis=1))
        write_png(run.preview("loss.png"), loss_curves_figure(history, f"{st.optimizer}, {st.size} px"))
        write_json(run.metrics, {"steps": st.steps, "seconds": round(seconds, 2),
                                          "steps_per_second": st.steps / seconds, "vgg_weights": loss.features.weights,
                                          "first": history[0], "final": history[-1], "history": history})
        save_config(cfg, run.config)
        print(f"done in {seconds:.1f} s ({st.steps / seconds:.2f} steps/s): {result}; loss "
              f"{history[0]['total']:.4g} -> {history[-1]['total']:.4g}; tensorboard --logdir {run.path.parent}")
        return run

    def train(self, cfg, args):
        _style_override(cfg, args)
        d, tc = cfg.data, cfg.train
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
            return prefetched(ds.batch(tc.batch_size))

        def render(model):
            return picture_grid([[v, stylize_with(model, v)] for v in val[:4]])

        previews = ImagePreview(render, run, name="stylized", every=tc.preview_every)
        fit(cfg, run, lambda: (build_stylizer(**dataclasses.asdict(cfg.model)), StyleTransferLoss(loss), []),
            batches(train, True), batches(val, False), [previews])
        print(f"done: model {run.model}, previews {run.previews}; "
              f"keras-suite style predict run={run} image=<photo or folder>")
        return run

    def predict(self, cfg, args):
        run = args["run"]
        inputs = ImageFolder(args["image"], _stylizable)  # a built-in name reads as a path of that name
        model = self.trained_model(run)
        out = Path(args.get("out") or run.predictions)
        for path, image, stem in inputs.items:
            start = time.perf_counter()
            result = _finish(stylize_with(model, image), image, cfg)
            ms = (time.perf_counter() - start) * 1000
            png = write_png(out / f"{stem}_stylized.png", result)
            print(f"{path}: {png} ({image.shape[1]}x{image.shape[0]}, {ms:.0f} ms)")
        inputs.finish(out)
        return out

    def visual_samples(self, cfg):
        return random_crops(content_images(cfg.data.source, cfg.data.data_dir, cfg.data.download, cfg.data.limit),
                            cfg.data.image_size, 16, cfg.data.seed + 2)

    def examples(self, cfg, run, folder):
        """Stylize a built-in photo."""
        return [("predict", {"image": CONTENT[0], "out": folder})]

    def headline(self, run):
        """The last epoch's validation loss as a share of the first's: a stylizer that learned goes well below 1;
        the feed-forward target is a plateau, not a number."""
        losses = read_history(run.history).get("val_loss", []) if run.history.is_file() else []
        return Headline("val loss, last / first epoch", losses[-1] / losses[0] if len(losses) > 1 else None, None,
                        higher_is_better=False)

    def serving(self, cfg, run):
        model = self.trained_model(run)
        ecfg = cfg.export
        size = ecfg.image_size
        photos = [builtin_image(n) for n in CONTENT]

        def integer(x):  # the clipped float image, which the full-integer file returns as uint8
            return {"image": tf.clip_by_value(model(tf.cast(x["images"], tf.float32), training=False), 0.0, 255.0)}

        def fn(x, dynamic):
            return {"image": tf.cast(tf.round(integer(x)["image"]), tf.uint8)}

        def back(outputs):
            return {"image": np.round(np.clip(outputs["image"], 0, 255)).astype(np.uint8)}

        calibration_photos, held_out = export_photos(ecfg, size)
        dynamic_spec, fixed_spec = exporting.image_specs(size)
        description = litert.Description(
            name="keras-suite style", description="feed-forward style transfer in the style of "
            f"{', '.join(Path(s).stem for s in cfg.style.images)}",
            inputs={"images": litert.image_input(size, f"RGB photo, {size}x{size}, uint8 0-255")},
            outputs={"image": litert.image_output(f"the stylized photo, RGB {size}x{size}, uint8 0-255")})
        serving = exporting.Serving(
            model=model, fn=fn, dynamic_spec=dynamic_spec, fixed_spec=fixed_spec,
            samples=exporting.image_samples(random_crops(photos, size, ecfg.parity_samples, 1)),
            calibration=exporting.image_samples(np.concatenate([random_crops(photos, size, ecfg.calibration_samples, 2),
                                                                calibration_photos])),
            photos=exporting.image_samples(held_out),
            scores=psnr, min_scores={"psnr": ecfg.min_psnr},
            litert=description, layouts={"tflite_int8_full": exporting.full_integer_layout(
                integer, size, back, dataclasses.replace(
                    description, description=f"{description.description}; integers only (for NPUs)"))})
        metadata = {
            "task": "style transfer", "style": list(cfg.style.images), "input": exporting.image_input(size),
            "outputs": {"image": "uint8, the input's shape"},
            "normalization": "inside the graph", "signature": "serve (also serving_default)"}
        return serving, metadata
