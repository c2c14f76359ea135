"""The autoencoder app on this machine: the default denoiser (minutes to its PSNR gain), the variational kind (ELBO
by epoch, samples and a latent walk) and the two decoder upsamplings side by side on natural textures (transposed
convolution vs nearest resize + convolution: PSNR, and the period-2 energy that makes checkerboard patterns).

Each model is trained by the app's own commands in a fresh process; the figures land in bench/figures.

Run: python bench/autoencoder.py [--runs runs/bench/autoencoder] [--reuse]
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from timing import cli  # noqa: E402

from keras_suite.data.image_sets import load_images  # noqa: E402
from keras_suite.metrics import reconstruction_scores  # noqa: E402
from keras_suite.training.trainer import read_history  # noqa: E402
from keras_suite.visuals.images import write_png  # noqa: E402
from keras_suite.visuals.overlay import labelled_grid, upscale  # noqa: E402

FIGURES = Path(__file__).parent / "figures"
TEXTURES = ["source=textures", "data.image_size=32", "data.num_train=3000", "data.num_val=200", "data.num_test=200",
            "model.kind=undercomplete", "model.code_dim=128", "train.epochs=15"]


def nyquist_share(images):
    """Mean share of each image's spectral power (DC removed) at the period-2 frequencies, where a stride-2
    transposed convolution's uneven overlap puts its checkerboard: row or column frequency N/2."""
    x = np.asarray(images, np.float64).mean(axis=-1)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.abs(np.fft.fft2(x)) ** 2
    half = x.shape[1] // 2
    nyquist = power[:, half, :].sum(axis=1) + power[:, :, half].sum(axis=1) - power[:, half, half]
    return float(np.mean(nyquist / np.maximum(power.sum(axis=(1, 2)), 1e-12)))


def train(runs, name, args, reuse):
    """(run, seconds its train command took), trained and evaluated unless `reuse` finds it done."""
    run = runs / "autoencoder" / name
    timing = run / "bench_seconds.json"
    if reuse and (run / "eval_test.json").is_file() and timing.is_file():
        return run, json.loads(timing.read_text())["train"]
    shutil.rmtree(run, ignore_errors=True)
    seconds = cli(["autoencoder", "train", f"train.runs_dir={runs}", f"train.run_name={name}", *args])
    cli(["autoencoder", "evaluate", f"run={run}"])
    timing.write_text(json.dumps({"train": seconds}))
    return run, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/bench/autoencoder", type=Path)
    parser.add_argument("--reuse", action="store_true", help="keep runs that finished")
    a = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    lines = []

    run, seconds = train(a.runs, "denoising", [], a.reuse)
    report = json.loads((run / "eval_test.json").read_text())
    val = read_history(run / "history.csv")["val_psnr"]
    lines.append(f"denoising (default): {seconds / 60:.1f} min; test PSNR {report['psnr']:.2f} dB (noisy input "
                 f"{report['noisy_input']['psnr']:.2f}), gain {report['psnr_gain']:.2f} dB, SSIM {report['ssim']:.4f}"
                 f" (noisy {report['noisy_input']['ssim']:.4f}); val PSNR by epoch "
                 f"{', '.join(f'{v:.1f}' for v in val)}")
    shutil.copy(run / "previews" / "eval_test.png", FIGURES / "autoencoder_denoising.png")

    run, seconds = train(a.runs, "variational", ["model.kind=variational", "model.code_dim=16"], a.reuse)
    v = json.loads((run / "eval_test.json").read_text())["variational"]
    elbo = [-x for x in read_history(run / "history.csv")["val_loss"]]
    lines.append(f"variational (code 16): {seconds / 60:.1f} min; test ELBO {v['elbo_nats']:.1f} nats (reconstruction "
                 f"{v['reconstruction_nats']:.1f}, KL {v['kl_nats']:.1f}; {v['elbo_bits_per_dim']:.4f} bits/dim), "
                 f"-log p(x) <= {v['nll_nats']:.1f} nats ({v['importance_samples']} importance samples); validation "
                 f"ELBO by epoch {', '.join(f'{x:.0f}' for x in elbo)}")
    for command, file in (("sample", "samples_seed0.png"), ("interpolate", "interpolation.png")):
        cli(["autoencoder", command, f"run={run}", f"out={run / 'predictions'}"])
        shutil.copy(run / "predictions" / file, FIGURES / f"autoencoder_vae_{file.replace('_seed0', '')}")

    columns, rows = {}, None
    # validation crops: other crops of the photos training saw (the test split's photos are others, which a
    # 32 px autoencoder trained on eight photos reconstructs poorly: its test PSNR is reported above)
    test = load_images("textures", 32, num_train=1, num_val=200, num_test=1).val.images
    for upsampling in ("transpose", "resize"):
        run, seconds = train(a.runs, f"textures_{upsampling}", [*TEXTURES, f"model.upsampling={upsampling}"],
                             a.reuse)
        model = keras.saving.load_model(run / "model.keras", compile=False)
        out = np.clip(model.predict(test.astype(np.float32), verbose=0) * 255, 0, 255)
        report = json.loads((run / "eval_test.json").read_text())
        scores = reconstruction_scores(test / 255.0, out / 255.0)
        lines.append(f"textures, {upsampling} upsampling: {seconds / 60:.1f} min; test PSNR {report['psnr']:.2f} dB, "
                     f"SSIM {report['ssim']:.4f} (held-out photos); validation crops PSNR "
                     f"{np.mean(scores['psnr']):.2f} dB, SSIM {np.mean(scores['ssim']):.4f}; period-2 power share "
                     f"{nyquist_share(out):.5f} (the crops' own: {nyquist_share(test):.5f})")
        columns[upsampling] = out[:5]
    rows = [[upscale(img.astype(np.uint8), 6) for img in (t, columns["transpose"][i], columns["resize"][i])]
            for i, t in enumerate(test[:5])]
    write_png(FIGURES / "autoencoder_upsampling.png", labelled_grid(
        [[np.asarray(tile) for tile in row] for row in rows],
        ["validation crop", "transposed convolution", "resize + convolution"]))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
