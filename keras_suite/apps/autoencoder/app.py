"""Autoencoders: train (undercomplete, sparse, denoising, variational), evaluate (MSE, PSNR, SSIM; for a VAE the
ELBO, its terms and an importance-sampled log-likelihood), reconstruct (denoise) photos, sample and interpolate
(VAE), embed (latent scatter and projector), export (encoder and decoder as signatures)."""

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.autoencoder.config import SPEC
from keras_suite.apps.base import App, Headline, report_value
from keras_suite.config import arguments
from keras_suite.data.caption_sets import square
from keras_suite.data.image_sets import corrupt, image_dataset, load_images
from keras_suite.errors import UserError
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json
from keras_suite.losses import BernoulliNLL
from keras_suite.metrics import PSNR, reconstruction_scores
from keras_suite.models.autoencoder import build_autoencoder, encode, is_variational
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import ImageFolder, read_rgb, write_png
from keras_suite.visuals.overlay import labelled_grid, tiles
from keras_suite.visuals.plots import image_grid_figure, latent_scatter_figure
from keras_suite.visuals.previews import ImagePreview
from keras_suite.visuals.projector import write_projector

TILE = 112  # pixels a picture's tile has at least
DENOISING_GAIN = 6.0  # dB of PSNR the denoiser adds to its noisy input on the test split (the app's target)
NOISE_SEED = 1234  # evaluation noise: the same corrupted images for every run


def load_data(cfg, **counts):
    return load_images(**arguments(cfg.data, load_images, **counts))


def noise_of(cfg):
    """(kind, amount) of the input corruption for a denoising run, else None."""
    return (cfg.data.noise, cfg.data.noise_amount) if cfg.model.kind == "denoising" else None


def corrupted(images, cfg, seed=NOISE_SEED):
    """The model inputs for `images` (uint8): corrupted with a fixed seed for a denoising run, float32 0-255."""
    x = tf.constant(np.asarray(images), tf.float32)
    noise = noise_of(cfg)
    if noise is None:
        return x.numpy()
    return np.stack([corrupt(x[i:i + 1], *noise, tf.constant([seed, i], tf.int64))[0].numpy()
                     for i in range(len(images))])


def reconstruction_picture(model, images, cfg):
    """Rows of (input, noisy input when denoising, reconstruction) under column titles."""
    inputs = corrupted(images, cfg)
    outputs = model.predict(inputs, verbose=0) * 255.0
    columns = [tiles(images, TILE)] + ([tiles(inputs, TILE)] if noise_of(cfg) else []) + [tiles(outputs, TILE)]
    titles = ["input"] + ([f"noisy ({cfg.data.noise} {cfg.data.noise_amount:g})"] if noise_of(cfg) else []) + [
        "reconstruction"]
    return labelled_grid([list(row) for row in zip(*columns)], titles)


def sample_codes(n, code_dim, seed):
    return np.random.default_rng(seed).standard_normal((n, code_dim)).astype(np.float32)


def decode(model, codes):
    """uint8 images of codes (N, code_dim)."""
    pixels = model.get_layer("decoder").predict(np.asarray(codes, np.float32), verbose=0)
    return np.clip(np.round(pixels * 255.0), 0, 255).astype(np.uint8)


class KLWarmup(keras.callbacks.Callback):
    """Raises the VAE's KL weight linearly from 0 to 1 over the first `epochs` epochs (Bowman et al., 2016)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.get_layer("sampling").kl_weight.assign(min(1.0, epoch / self.epochs))


def variational_terms(model, images, samples, seed):
    """Per image (nats): the reconstruction term E_q[-log p(x|z)] and KL(q(z|x) || p(z)) of the ELBO, and the
    importance-sampled estimate of -log p(x) with `samples` draws from q(z|x) (Burda et al., 2016, "Importance
    Weighted Autoencoders", https://arxiv.org/abs/1509.00519): -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x)."""
    mean, log_var = model.get_layer("encoder").predict(np.asarray(images, np.float32), verbose=0)
    decoder = model.get_layer("decoder")
    nll = BernoulliNLL(reduction=None)
    targets = np.asarray(images, np.float32) / 255.0
    rng = np.random.default_rng(seed)
    recon, log_w = [], []
    for k in range(samples):
        eps = rng.standard_normal(mean.shape).astype(np.float32)
        z = mean + np.exp(0.5 * log_var) * eps
        log_px = -nll(targets, decoder.predict(z, verbose=0)).numpy()
        log_pz = -0.5 * np.sum(z ** 2 + math.log(2 * math.pi), axis=-1)
        log_qz = -0.5 * np.sum(eps ** 2 + log_var + math.log(2 * math.pi), axis=-1)
        recon.append(-log_px)
        log_w.append(log_px + log_pz - log_qz)
    kl = 0.5 * np.sum(mean ** 2 + np.exp(log_var) - 1 - log_var, axis=-1)
    log_w = np.stack(log_w)
    top = log_w.max(axis=0)
    log_px = top + np.log(np.mean(np.exp(log_w - top), axis=0))
    return np.mean(recon, axis=0), kl, -log_px


class AutoencoderApp(App):
    spec = SPEC

    def build(self, cfg, channels):
        m, size = cfg.model, cfg.data.image_size
        model = build_autoencoder((size, size, channels), m.kind, m.code_dim, m.filters, m.depth, m.upsampling,
                                  m.sparsity, m.sparsity_weight, m.sparsity_target, m.beta, cfg.train.seed)
        loss = BernoulliNLL() if m.kind == "variational" else keras.losses.MeanSquaredError()
        return model, loss, [PSNR()]

    def variational(self, run):
        model = self.trained_model(run)
        if not is_variational(model):
            raise UserError(f"run {run} is not variational: sample draws codes from a VAE's prior (train with "
                            "model.kind=variational)")
        return model

    def train(self, cfg, args):
        splits = load_data(cfg)
        run = self.train_dir(cfg, args)
        tc, m = cfg.train, cfg.model
        print(f"run directory: {run}\n{len(splits.train):,} training images, {len(splits.val):,} validation, "
              f"{cfg.data.image_size}x{cfg.data.image_size}x{splits.channels}; {m.kind} autoencoder, code "
              f"{m.code_dim}, {m.upsampling} upsampling" + (f", {cfg.data.noise} noise {cfg.data.noise_amount:g}"
                                                            if noise_of(cfg) else ""))
        train_ds = image_dataset(splits.train.images, tc.batch_size, True, tc.seed, noise_of(cfg))
        val_ds = image_dataset(splits.val.images, tc.batch_size, noise=noise_of(cfg))
        shown = splits.val.images[:6]
        callbacks = [ImagePreview(lambda model: reconstruction_picture(model, shown, cfg), run, "reconstructions",
                                  tc.preview_every)]
        if m.kind == "variational":
            codes = sample_codes(32, m.code_dim, cfg.sample.seed)
            callbacks.append(ImagePreview(lambda model: image_grid_figure(
                decode(model, codes), "samples from the prior, z ~ N(0, I)"), run, "samples", tc.preview_every))
            if m.kl_warmup_epochs:
                callbacks.append(KLWarmup(m.kl_warmup_epochs))
        fit(cfg, run, lambda: self.build(cfg, splits.channels), train_ds, val_ds, callbacks)
        print(f"done: model {run.model}, previews {run.previews}; tensorboard --logdir {run.path.parent}")
        return run

    def evaluate(self, cfg, args):
        run, split = args["run"], self.eval_split(args)
        model = self.trained_model(run)
        data = getattr(load_data(cfg, num_train=1), split)
        inputs = corrupted(data.images, cfg)
        clean = data.images.astype(np.float32) / 255.0
        outputs = model.predict(inputs, batch_size=cfg.train.batch_size, verbose=0)
        scores = {k: float(np.mean(v)) for k, v in reconstruction_scores(clean, outputs).items()}
        report = {"split": split, "images": len(data), "kind": cfg.model.kind, **scores}
        print(f"{split}: {len(data)} images; reconstruction MSE {scores['mse']:.5f}, PSNR {scores['psnr']:.2f} dB, "
              f"SSIM {scores['ssim']:.4f}")
        if noise_of(cfg):
            noisy = {k: float(np.mean(v)) for k, v in reconstruction_scores(clean, inputs / 255.0).items()}
            report["noisy_input"] = noisy
            report["psnr_gain"] = scores["psnr"] - noisy["psnr"]
            print(f"noisy input ({cfg.data.noise} {cfg.data.noise_amount:g}): PSNR {noisy['psnr']:.2f} dB, SSIM "
                  f"{noisy['ssim']:.4f}; the denoiser adds {report['psnr_gain']:.2f} dB (target "
                  f">= {DENOISING_GAIN:g})")
        if is_variational(model):
            recon, kl, nll = variational_terms(model, data.images, cfg.sample.importance_samples, cfg.sample.seed)
            dims = int(np.prod(data.images.shape[1:]))
            elbo = -(recon + kl)
            report["variational"] = {
                "elbo_nats": float(np.mean(elbo)), "reconstruction_nats": float(np.mean(recon)),
                "kl_nats": float(np.mean(kl)), "nll_nats": float(np.mean(nll)),
                "elbo_bits_per_dim": float(-np.mean(elbo) / (dims * math.log(2))),
                "nll_bits_per_dim": float(np.mean(nll) / (dims * math.log(2))),
                "importance_samples": cfg.sample.importance_samples}
            v = report["variational"]
            print(f"ELBO {v['elbo_nats']:.2f} nats per image (reconstruction {v['reconstruction_nats']:.2f} + KL "
                  f"{v['kl_nats']:.2f}), {v['elbo_bits_per_dim']:.4f} bits/dim; -log p(x) <= {v['nll_nats']:.2f} "
                  f"nats ({v['nll_bits_per_dim']:.4f} bits/dim, {cfg.sample.importance_samples} importance samples)")
        out = write_json(run.report("eval", split), report)
        picture = write_png(run.preview(f"eval_{split}.png"), reconstruction_picture(model, data.images[:8], cfg))
        print(f"wrote {out} and {picture}")
        return report

    def visual_input(self, cfg, photo, model):
        """A photo (H, W, 3 uint8) as the model's input: square, its size, grey when the model is."""
        size, channels = model.input_shape[1], model.input_shape[-1]
        pixels = square(photo, size)
        if channels == 1:
            pixels = np.round(tf.image.rgb_to_grayscale(pixels.astype(np.float32)).numpy()).astype(np.uint8)
        return pixels

    def reconstruct(self, cfg, args):
        run = args["run"]
        inputs = ImageFolder(args["image"])
        model = self.trained_model(run)
        out = Path(args.get("out") or run.predictions)
        for path, image, stem in inputs.items:
            pixels = self.visual_input(cfg, image, model)[None]
            picture = write_png(out / f"{stem}_reconstruction.png", reconstruction_picture(model, pixels, cfg))
            noisy = corrupted(pixels, cfg)
            output = model.predict(noisy, verbose=0)
            scores = reconstruction_scores(pixels / 255.0, output)
            line = f"PSNR {scores['psnr'][0]:.2f} dB, SSIM {scores['ssim'][0]:.4f}"
            if noise_of(cfg):
                before = reconstruction_scores(pixels / 255.0, noisy / 255.0)
                line += f" (noisy input: {before['psnr'][0]:.2f} dB, {before['ssim'][0]:.4f})"
            print(f"{path}: {picture}; {line}")
        inputs.finish(out)
        return out

    def sample(self, cfg, args):
        run, sc = args["run"], cfg.sample
        model = self.variational(run)
        images = decode(model, sample_codes(sc.n, cfg.model.code_dim, sc.seed))
        out = Path(args.get("out") or run.predictions)
        picture = write_png(out / f"samples_seed{sc.seed}.png", image_grid_figure(
            images, f"{sc.n} samples from the prior z ~ N(0, I) (seed {sc.seed})", columns=8))
        print(f"wrote {picture}")
        return picture

    def interpolate(self, cfg, args):
        run, steps = args["run"], cfg.sample.steps
        if ("a" in args) != ("b" in args):
            raise UserError("interpolate needs both a=<image> and b=<image>, or neither (two test images)")
        photos = [read_rgb(args[k], cfg.data.max_pixels) for k in ("a", "b") if k in args]
        model = self.trained_model(run)
        if photos:
            ends = [self.visual_input(cfg, photo, model) for photo in photos]
            names = [Path(args["a"]).name, Path(args["b"]).name]
        else:
            test = load_data(cfg, num_train=1).test
            second = next((i for i in range(1, len(test)) if test.labels[i] != test.labels[0]), min(1, len(test) - 1))
            ends, names = [test.images[0], test.images[second]], ["test image 0", f"test image {second}"]
        za, zb = encode(model, np.stack(ends).astype(np.float32)).numpy()
        weights = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
        images = decode(model, (1 - weights) * za + weights * zb)
        out = Path(args.get("out") or run.predictions)
        picture = write_png(out / "interpolation.png", image_grid_figure(
            [ends[0], *images, ends[1]], f"from {names[0]} (a) to {names[1]} (b): {steps} codes on the line between "
            "theirs, decoded", columns=steps + 2, captions=["a", *(f"{w:.2f}" for w in weights[:, 0]), "b"]))
        print(f"wrote {picture}")
        return picture

    def embed(self, cfg, args):
        run = args["run"]
        model = self.trained_model(run)
        splits = load_data(cfg, num_train=1)
        test = splits.test.take(cfg.sample.embed_examples)
        codes = encode(model, test.images.astype(np.float32)).numpy()
        if codes.shape[1] == 2:
            points, axes, how = codes, ("code 1", "code 2"), "the 2-D codes"
        else:
            centred = codes - codes.mean(axis=0)
            _, s, vt = np.linalg.svd(centred, full_matrices=False)
            points = centred @ vt[:2].T
            share = s[:2] ** 2 / max(float(np.sum(s ** 2)), 1e-12)
            axes = (f"PC 1 ({100 * share[0]:.0f}% of the variance)", f"PC 2 ({100 * share[1]:.0f}%)")
            how = f"the {codes.shape[1]}-D codes projected on their first two principal components"
        out = Path(args.get("out") or run.predictions)
        names = list(splits.class_names)
        picture = write_png(out / "latent_scatter.png", latent_scatter_figure(
            points, test.labels, names, f"{len(test)} {cfg.data.source} test images:\n{how}", axes))
        labels = [names[k] if k >= 0 and names else "?" for k in test.labels]
        thumbs = test.images if test.images.shape[-1] == 3 else np.repeat(test.images, 3, axis=-1)
        write_projector(run.log_dir("projector"), codes, labels, thumbs)
        print(f"wrote {picture} and the projector's files in {run.log_dir('projector')}: tensorboard --logdir "
              f"{run.logs}")
        return picture

    def visual_samples(self, cfg):
        return load_data(cfg, num_train=1).test.images[:16]

    def saliency_target(self, cfg, run, model, image, context):
        """The length of the image's code."""
        return lambda x: tf.norm(encode(model, x), axis=-1), "the length of the code"

    def examples(self, cfg, run, folder):
        """Evaluate, reconstruct a test image written as a PNG into `folder`, embed, interpolate (and sample)."""
        test = load_data(cfg, num_train=1).test
        image = test.images[0] if test.images.shape[-1] == 3 else np.repeat(test.images[0], 3, axis=-1)
        steps = [("evaluate", {}), ("reconstruct", {"image": write_png(folder / "image.png", image)}), ("embed", {}),
                 ("interpolate", {})]
        return steps + ([("sample", {"n": 16})] if cfg.model.kind == "variational" else [])

    def headline(self, run):
        value = report_value(run, "eval", "test", "psnr_gain")
        if value is not None:
            return Headline("test PSNR gain over the noisy input (dB)", value, DENOISING_GAIN)
        return Headline("test PSNR (dB)", report_value(run, "eval", "test", "psnr"), None)

    def serving(self, cfg, run):
        model = self.trained_model(run)
        ecfg, size = cfg.export, cfg.data.image_size
        channels = model.input_shape[-1]
        decoder = model.get_layer("decoder")
        code_dim = decoder.input_shape[-1]
        splits = load_data(cfg, num_train=ecfg.calibration_samples, num_val=1,
                           num_test=max(ecfg.parity_samples, ecfg.task_samples))
        noise = noise_of(cfg)

        def code_of(images, dynamic):
            x = tf.cast(images, tf.float32)
            if dynamic:
                x = tf.image.resize(x, (size, size), antialias=True)
            return encode(model, x)

        def serve(inputs, dynamic):
            code = code_of(inputs["images"], dynamic)
            return {"code": code, "reconstruction": decoder(code, training=False)}

        dynamic_spec, fixed_spec = exporting.image_specs(size, channels=channels)
        code_spec = tf.TensorSpec([1, code_dim], tf.float32)
        endpoints = {
            "encode": tf.function(lambda images: {"code": code_of(images, True)},
                                  input_signature=[tf.TensorSpec([None, None, None, channels], tf.uint8,
                                                                 name="images")]),
            "decode": tf.function(lambda code: {"reconstruction": decoder(code, training=False)},
                                  input_signature=[tf.TensorSpec([None, code_dim], tf.float32, name="code")])}
        test_inputs = np.round(corrupted(splits.test.images, cfg)).astype(np.uint8)
        clean = splits.test.images.astype(np.float32) / 255.0
        task = None
        if ecfg.task_samples:
            def score(outputs):
                return {"psnr": float(np.mean(reconstruction_scores(clean[:len(outputs["reconstruction"])],
                                                                    outputs["reconstruction"])["psnr"]))}

            task = exporting.TaskCheck(exporting.image_samples(test_inputs, ecfg.task_samples), score)
        description = _litert(size, channels, code_dim, cfg.model.kind)
        serving = exporting.Serving(
            model=model, fn=serve, dynamic_spec=dynamic_spec, fixed_spec=fixed_spec,
            samples=exporting.image_samples(test_inputs, ecfg.parity_samples),
            calibration=exporting.image_samples(np.round(corrupted(splits.train.images, cfg, NOISE_SEED + 1))
                                                .astype(np.uint8), ecfg.calibration_samples),
            endpoints=endpoints, litert=description, task=task,
            layouts={"tflite_split": exporting.Layout(
                None, dict, _split_litert(description, code_dim),
                signatures={"encode": (lambda x: {"code": code_of(x["images"], False)}, fixed_spec),
                            "decode": (lambda x: {"reconstruction": decoder(x["code"], training=False)},
                                       {"code": code_spec})},
                runner=SplitRunner,
                usage=("import numpy as np\nfrom ai_edge_litert.interpreter import Interpreter\n\n"
                       'interpreter = Interpreter(model_path="{file}")\n'
                       'encode, decode = interpreter.get_signature_runner("encode"), '
                       'interpreter.get_signature_runner("decode")\n'
                       f"images = np.zeros((1, {size}, {size}, {channels}), np.uint8)\n"
                       'code = encode(images=images)["code"]\n'
                       'print(decode(code=code)["reconstruction"].shape)'))})
        metadata = {
            "task": f"{cfg.model.kind} autoencoder ({cfg.data.source})",
            "input": exporting.image_input(size, channels=channels), "code_dim": code_dim,
            "noise": {"kind": noise[0], "amount": noise[1]} if noise else None,
            "normalization": "inside the graph: x / 255; the reconstruction is in [0, 1]",
            "outputs": {"code": f"float32 (N, {code_dim})" + (" the mean of q(z|x)" if cfg.model.kind ==
                                                               "variational" else ""),
                        "reconstruction": f"float32 (N, {size}, {size}, {channels}) in [0, 1]"},
            "saved_model_signatures": {"serve": "images uint8 (N, H, W, C), any size -> code, reconstruction",
                                       "encode": "images -> code", "decode": "code -> reconstruction"}}
        return serving, metadata


class SplitRunner:
    """Runs a `tflite_split` file as the main signature: encode, then decode the code."""

    def __init__(self, interpreter):
        self.encode = interpreter.get_signature_runner("encode")
        self.decode = interpreter.get_signature_runner("decode")

    def __call__(self, **inputs):
        code = self.encode(**inputs)["code"]
        return {"code": code, **self.decode(code=code)}


def _litert(size, channels, code_dim, kind):
    colour = "RGB" if channels == 3 else "GRAYSCALE"
    return litert.Description(
        name="keras-suite autoencoder",
        description=f"{kind} convolutional autoencoder: an image in, its {code_dim}-number code and its "
                    "reconstruction out" + (" (the denoised image)" if kind == "denoising" else ""),
        inputs={"images": litert.image_input(size, f"{colour} image, {size}x{size}, uint8 0-255 (normalized "
                                                   "inside)", colour)},
        outputs={"code": litert.feature(f"[1, {code_dim}] float32 code" + (" (the mean of q(z|x))" if kind ==
                                                                            "variational" else "")),
                 "reconstruction": litert.image_output(f"[1, {size}, {size}, {channels}] float32 reconstruction, "
                                                       "0-1 (times 255 for pixels)", colour, (0.0, 1.0))})


def _split_litert(main, code_dim):
    return litert.Description(
        name=main.name, description=f"{main.description}; the encoder and the decoder as two signatures",
        inputs={}, outputs={},
        signatures={"encode": litert.Signature("image -> code", {"images": main.inputs["images"]},
                                               {"code": main.outputs["code"]}),
                    "decode": litert.Signature("code -> reconstruction", {"code": litert.feature(
                        f"[1, {code_dim}] float32 code (from encode, or your own: a VAE's prior is N(0, I))")},
                        {"reconstruction": main.outputs["reconstruction"]})})
