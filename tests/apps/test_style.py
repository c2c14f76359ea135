import json

import numpy as np
import pytest
from PIL import Image

from keras_suite.export import tflite

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def style_run(trained):
    return trained("style")


def test_stylize_writes_snapshots_and_lowers_the_loss(cli, tmp_path):
    out = tmp_path / "result.png"
    code, text, err = cli("style", "stylize", "--config", "tiny", f"train.runs_dir={tmp_path}",
                          "content=coffee", "style=starry_night,gravel", "style.image_weights=[2,1]", "steps=4",
                          "style.preserve_colour=true", f"out={out}")
    assert code == 0, err
    (run,) = list((tmp_path / "style").iterdir())
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["final"]["total"] < metrics["first"]["total"] and metrics["vgg_weights"] == "random"
    previews = {p.name for p in (run / "previews").iterdir()}
    assert {"step_0002.png", "step_0004.png", "content_style_result.png", "loss.png"} <= previews
    result = np.asarray(Image.open(out))
    assert result.shape == (32, 48, 3)  # coffee is 600x400: the longer side becomes stylize.size
    np.testing.assert_array_equal(result, np.asarray(Image.open(run / "stylized.png")))
    assert list((run / "logs").iterdir()), "TensorBoard events"


def test_train_predict_and_export_with_psnr_parity(cli, style_run, tmp_path):
    assert (style_run / "previews" / "stylized_epoch001.png").is_file()
    photo = tmp_path / "odd.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (37, 53, 3), np.uint8)).save(photo)
    code, text, err = cli("style", "predict", f"run={style_run}", f"image={photo}",
                          f"out={tmp_path / 'pred'}")
    assert code == 0, err
    assert Image.open(tmp_path / "pred" / "odd_stylized.png").size == (53, 37)

    code, text, err = cli("style", "export", f"run={style_run}", f"export.out_dir={tmp_path}",
                          "export.name=tiny")
    assert code == 0, err
    target = tmp_path / "style" / "tiny"
    report = json.loads((target / "parity.json").read_text())
    assert set(report["formats"]) == {"saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_int8_full"}
    assert report["formats"]["tflite"]["psnr"] >= 45 and report["formats"]["tflite_int8"]["psnr"] >= 22
    # integers only: uint8 photo in, uint8 image out, instance normalization and all
    assert report["formats"]["tflite_int8_full"]["psnr"] >= 22 and "photo_psnr" in report["formats"]["tflite_int8_full"]
    assert json.loads((target / "compat.json").read_text())["model_int8_full.tflite"]["targets"]["full_int8"][
        "supported"] == "yes"
    # The table shows what was checked (PSNR), not differences nobody limited (uint8 outputs have no max|diff|).
    header = next(line for line in text.splitlines() if line.startswith("format"))
    assert "psnr" in header and "max|diff|" not in header and "agree" not in header
    assert report["formats"]["tflite_int8"]["max_abs_diff"] is None
    for name in ("model.tflite", "model_fp16.tflite", "model_int8.tflite"):
        assert tflite.non_builtin_ops((target / name).read_bytes()) == []
    import tensorflow as tf

    serve = tf.saved_model.load(str(target / "saved_model")).signatures["serve"]
    out = serve(images=tf.zeros((1, 19, 23, 3), tf.uint8))["image"]
    assert out.shape == (1, 19, 23, 3) and out.dtype == tf.uint8  # any size in, same size out


@pytest.mark.parametrize("args, message", [
    (["stylize", "content=missing.jpg"], "image not found"),
    (["stylize", "content=chelsea", "size=8"], "at least 32"),
    (["stylize", "content=chelsea", "style={small}", "size=256"], "far smaller than size 256"),
    (["stylize", "content={garbage}"], "cannot read image"),
    (["stylize", "content=chelsea", "style.style_weight=1e39"], "non-finite at step 1"),
    (["stylize", "content=chelsea", "stylize.optimizer=sgd"], "lbfgs"),
    (["stylize", "content=chelsea", "style.layers=[block9_conv1]"], "unknown VGG19 layer"),
    (["stylize", "content=chelsea", "style.weights=nope.h5"], "no such weights file"),
    (["stylize", "content=chelsea", "style=starry_night,brick", "style.image_weights=[1]"], "one weight per"),
    (["train", "steps=3"], "unknown argument 'steps'"),
    (["train", "data.source=folder:{empty}"], "no images"),
])
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    small, garbage, empty = tmp_path / "small.png", tmp_path / "garbage.jpg", tmp_path / "empty"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(small)
    garbage.write_bytes(b"\x00not an image" * 10)
    empty.mkdir()
    args = [a.format(small=small, garbage=garbage, empty=empty) for a in args]
    code, out, err = cli("style", args[0], "--config", "tiny", f"train.runs_dir={tmp_path / 'runs'}",
                         *args[1:])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err

