import json

import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter
from PIL import Image

from keras_suite.testing import read_litert_metadata
from keras_suite.visuals.images import write_png

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(trained):
    return trained("autoencoder")  # denoising, the default kind


@pytest.fixture(scope="module")
def vae(trained):
    return trained("autoencoder:variational")


def test_train_writes_psnr_and_reconstruction_previews(run):
    final = json.loads((run / "metrics.json").read_text())["final"]
    assert final["val_psnr"] > 0 and final["val_loss"] > 0
    picture = np.asarray(Image.open(run / "previews" / "reconstructions_epoch001.png"))
    assert picture.shape[0] > 6 * 112 and picture.shape[1] >= 3 * 112  # input | noisy | reconstruction rows


def test_evaluate_scores_the_denoiser_against_its_noisy_input(cli, run):
    code, out, err = cli("autoencoder", "evaluate", f"run={run}")
    assert code == 0, err
    report = json.loads((run / "eval_test.json").read_text())
    assert report["images"] == 180 and 0 <= report["ssim"] <= 1 and report["mse"] > 0
    assert report["psnr_gain"] == pytest.approx(report["psnr"] - report["noisy_input"]["psnr"])
    assert report["noisy_input"]["psnr"] == pytest.approx(12.75, abs=0.3)  # gaussian 0.3 on the digits
    assert "the denoiser adds" in out and (run / "previews" / "eval_test.png").is_file()


def test_reconstruct_denoises_any_photo(cli, run, tmp_path):
    photo = write_png(tmp_path / "wide.png", np.random.default_rng(0).integers(0, 255, (40, 70, 3), np.uint8))
    code, out, err = cli("autoencoder", "reconstruct", f"run={run}", f"image={photo}", f"out={tmp_path / 'o'}")
    assert code == 0, err
    assert "PSNR" in out and "noisy input" in out and (tmp_path / "o" / "wide_reconstruction.png").is_file()


def test_sample_needs_a_variational_run_and_interpolate_both_ends(cli, run, tmp_path):
    code, _, err = cli("autoencoder", "sample", f"run={run}")
    assert code == 2 and "not variational" in err and err.strip().count("\n") == 0
    photo = write_png(tmp_path / "a.png", np.zeros((20, 20, 3), np.uint8))
    code, _, err = cli("autoencoder", "interpolate", f"run={run}", f"a={photo}")
    assert code == 2 and "needs both" in err


def test_embed_writes_the_latent_scatter_and_the_projector(cli, run, tmp_path):
    code, out, err = cli("autoencoder", "embed", f"run={run}", f"out={tmp_path}")
    assert code == 0, err
    assert (tmp_path / "latent_scatter.png").is_file()
    labels = (run / "logs" / "projector" / "metadata.tsv").read_text().split()
    assert len(labels) == 40 and set(labels) <= set("0123456789")


def test_the_vae_reports_its_elbo_and_a_tighter_importance_sampled_bound(cli, vae, tmp_path):
    code, out, err = cli("autoencoder", "evaluate", f"run={vae}")
    assert code == 0, err
    v = json.loads((vae / "eval_test.json").read_text())["variational"]
    assert v["elbo_nats"] == pytest.approx(-(v["reconstruction_nats"] + v["kl_nats"]))
    assert v["kl_nats"] >= 0 and v["nll_nats"] <= -v["elbo_nats"] + 1e-3  # log-mean-exp >= mean log
    assert v["elbo_bits_per_dim"] == pytest.approx(-v["elbo_nats"] / (16 * 16 * np.log(2)))
    assert "psnr_gain" not in json.loads((vae / "eval_test.json").read_text())
    for command, args, name in (("sample", ["n=12"], "samples_seed0.png"), ("interpolate", [], "interpolation.png")):
        code, out, err = cli("autoencoder", command, f"run={vae}", f"out={tmp_path}", *args)
        assert code == 0 and (tmp_path / name).is_file(), err


def test_export_gives_code_and_reconstruction_and_a_two_signature_file(cli, vae, tmp_path):
    code, out, err = cli("autoencoder", "export", f"run={vae}", f"export.out_dir={tmp_path}", "name=e",
                         "formats=saved_model,tflite,tflite_split")
    assert code == 0, err
    folder = tmp_path / "autoencoder" / "e"
    parity = json.loads((folder / "parity.json").read_text())
    for fmt in ("saved_model", "tflite", "tflite_split"):
        assert parity["formats"][fmt]["passed"], parity["formats"][fmt]
        assert "psnr" in parity["formats"][fmt]  # the task metric, scored for every format
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    image = np.random.default_rng(0).integers(0, 255, (2, 40, 30, 1), np.uint8)
    code_out = loaded.signatures["encode"](images=tf.constant(image))["code"]
    assert code_out.shape == (2, 4)
    recon = loaded.signatures["decode"](code=code_out)["reconstruction"].numpy()
    served = loaded.signatures["serve"](images=tf.constant(image))
    np.testing.assert_allclose(recon, served["reconstruction"].numpy(), atol=1e-5)
    interpreter = Interpreter(model_path=str(folder / "model_split.tflite"))
    assert set(interpreter.get_signature_list()) == {"encode", "decode"}
    decode = interpreter.get_signature_runner("decode")
    assert decode(code=np.zeros((1, 4), np.float32))["reconstruction"].shape == (1, 16, 16, 1)
    metadata, _ = read_litert_metadata(folder / "model_split.tflite")
    assert [s["name"] for s in metadata["subgraph_metadata"]] == ["encode", "decode"] or \
        len(metadata["subgraph_metadata"]) == 2
