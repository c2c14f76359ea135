import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_suite.apps.segmentation import app as segmentation_app
from keras_suite.data.scenes import make_scenes
from keras_suite.export import tflite
from keras_suite.testing import assert_export_parity, read_litert_metadata

pytestmark = pytest.mark.slow
ALL_FORMATS = ["saved_model", "tflite", "tflite_fp16", "tflite_int8", "tflite_int8_full"]


def test_train_writes_run_dir(tiny_run):
    for name in ("config.yaml", "model.keras", "metrics.json", "history.csv", "checkpoints/best.keras"):
        assert (tiny_run / name).is_file(), name
    assert (tiny_run / "backup").is_dir()  # kept, so a finished run can be extended with resume=
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and "val_mean_iou" in metrics["final"]
    assert sorted(p.name for p in (tiny_run / "previews").glob("*.png")) == ["predictions_epoch001.png",
                                                                          "predictions_epoch002.png"]
    events = list((tiny_run / "logs").rglob("events.out.tfevents*"))
    assert {p.parent.name for p in events} >= {"train", "validation", "previews"}


def test_evaluate(cli, tiny_run):
    code, out, _ = cli("segmentation", "evaluate", f"run={tiny_run}")
    assert code == 0 and "mean" in out and "circle" in out
    scores = json.loads((tiny_run / "eval_test.json").read_text())
    cm = np.array(scores["confusion_matrix"])
    assert cm.sum() == 16 * 32 * 32  # every pixel of the tiny test split
    assert 0.0 <= scores["mean_iou"] <= 1.0
    assert scores["pixel_accuracy"] == pytest.approx(np.trace(cm) / cm.sum())
    assert (tiny_run / "previews" / "eval_test.png").is_file()


def test_predict_writes_mask_and_overlay(cli, tiny_run, tmp_path):
    images, _ = make_scenes("shapes", 1, 48, seed=9)
    Image.fromarray(images[0][:, :40]).save(tmp_path / "scene.png")
    code, out, _ = cli("segmentation", "predict", f"run={tiny_run}", f"image={tmp_path / 'scene.png'}",
                       f"out={tmp_path / 'pred'}")
    assert code == 0
    mask = Image.open(tmp_path / "pred" / "scene_mask.png")
    assert mask.mode == "P" and mask.size == (40, 48)  # indexed PNG at the input's size
    assert np.asarray(mask).max() < 4
    assert Image.open(tmp_path / "pred" / "scene_overlay.png").size == (40, 48)


def test_predict_on_a_folder_names_outputs_apart_and_reports_a_bad_file(cli, tiny_run, tmp_path):
    images, _ = make_scenes("shapes", 2, 48, seed=3)
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(images[0]).save(photos / "chelsea.jpg")
    Image.fromarray(images[1]).save(photos / "chelsea.png")
    Image.fromarray(images[1]).convert("L").save(photos / "gray.tif")  # grayscale TIFF: converted, not refused
    (photos / "broken.png").write_bytes(b"\x89PNG not really")
    code, out, err = cli("segmentation", "predict", f"run={tiny_run}", f"image={photos}", f"out={tmp_path / 'pred'}")
    assert code == 2
    assert err.strip().splitlines() == [
        f"error: cannot read image {photos / 'broken.png'}: cannot identify image file {str(photos / 'broken.png')!r}",
        f"error: 1 of 4 images in {photos} could not be read (listed above); the other 3 were written to "
        f"{tmp_path / 'pred'}"]
    written = sorted(p.name for p in (tmp_path / "pred").iterdir())
    assert written == ["chelsea_jpg_mask.png", "chelsea_jpg_overlay.png", "chelsea_png_mask.png",
                       "chelsea_png_overlay.png", "gray_mask.png", "gray_overlay.png"]


def test_export_all_formats_with_parity(cli, tiny_run, tmp_path):
    code, out, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}",
                         f"formats={','.join(ALL_FORMATS)}", "name=tiny",
                         "export.min_agreement={'tflite_int8': 0.6, 'tflite_int8_full': 0.6}")
    assert code == 0, err
    target = tmp_path / "segmentation" / "tiny"
    report = json.loads((target / "parity.json").read_text())
    assert_export_parity(report, ALL_FORMATS)
    meta = json.loads((target / "metadata.json").read_text())
    assert meta["labels"] == ["background", "circle", "square", "triangle"]
    assert meta["input"]["tflite_shape"] == [1, 32, 32, 3]
    assert sorted(p.name for p in target.iterdir()) == sorted(
        ["model.keras", "saved_model", "model.tflite", "model_fp16.tflite", "model_int8.tflite",
         "model_int8_full.tflite", "metadata.json", "parity.json", "compat.json", "README.md"])
    assert [p.name for p in tmp_path.joinpath("segmentation").iterdir()] == ["tiny"]  # no temp dirs left

    # The SavedModel takes uint8 images of any size and returns the mask at that size.
    loaded = tf.saved_model.load(str(target / "saved_model"))
    images, _ = make_scenes("shapes", 2, 50, seed=1)
    out = loaded.signatures["serving_default"](images=tf.constant(images[:, :, :45]))
    assert out["mask"].shape == (2, 50, 45) and out["mask"].dtype == tf.uint8

    # TFLite files are builtin-only and run in the LiteRT interpreter.
    for name in ("model.tflite", "model_fp16.tflite", "model_int8.tflite"):
        flatbuffer = (target / name).read_bytes()
        assert tflite.non_builtin_ops(flatbuffer) == []
        result = tflite.Runner(flatbuffer)(images=images[:1, :32, :32])
        assert result["mask"].shape == (1, 32, 32) and result["probabilities"].shape == (1, 32, 32, 4)

    # Integers only (NPUs): the photo's bytes in (uint8, scale 1, zero point 0), uint8 probabilities out with the
    # scale and zero point the metadata and the card give; no float op anywhere.
    integer = (target / "model_int8_full.tflite").read_bytes()
    assert json.loads((target / "compat.json").read_text())["model_int8_full.tflite"]["targets"]["full_int8"][
        "supported"] == "yes"
    runner = tflite.Runner(integer)
    inputs, outputs = runner.runner.get_input_details(), runner.runner.get_output_details()
    assert inputs["images"]["dtype"] == np.uint8 and inputs["images"]["quantization"] == (1.0, 0)
    assert list(outputs) == ["probabilities"] and outputs["probabilities"]["dtype"] == np.uint8
    scale, zero_point = outputs["probabilities"]["quantization"]
    probabilities = runner(images=images[:1, :32, :32])["probabilities"]
    assert probabilities.dtype == np.float32 and abs(probabilities.sum(-1) - 1).max() < 0.05
    metadata, _ = read_litert_metadata(target / "model_int8_full.tflite")
    (described,) = metadata["subgraph_metadata"][0]["output_tensor_metadata"]
    assert f"real value = {scale:.9g} x (q - {zero_point})" in described["description"]
    assert f"real = {scale:.6g} x (q - {zero_point})" in (target / "README.md").read_text()
    # every file was also compared with Keras on real photos that did not calibrate it
    assert report["photos"] == 8 and 0 <= report["formats"]["tflite_int8_full"]["photo_agreement"] <= 1


def test_export_parity_failure_writes_nothing(cli, tiny_run, tmp_path):
    code, _, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}",
                       "formats=tflite", "export.max_abs_diff={'tflite': 0.0}", "export.min_agreement={}")
    assert code == 2 and "parity check failed" in err and "nothing was written" in err
    assert list((tmp_path / "segmentation").iterdir()) == []


def test_every_format_is_scored_on_the_task_metric_beside_keras(cli, tiny_run, tmp_path):
    """Every format is scored on held-out scenes with the app's own metric (test mIoU) beside Keras."""
    code, out, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}",
                         "formats=saved_model,tflite", "name=ok")
    assert code == 0, err
    report = json.loads((tmp_path / "segmentation" / "ok" / "parity.json").read_text())
    keras_iou = report["keras"]["mean_iou"]
    assert report["task_samples"] == 16 and 0 <= keras_iou <= 1
    assert report["formats"]["tflite"]["mean_iou"] == pytest.approx(keras_iou, abs=1e-3)
    assert report["formats"]["tflite"]["limits"]["mean_iou"] == pytest.approx(keras_iou - 0.01)


def test_a_format_below_keras_on_the_task_metric_is_refused(cli, tiny_run, tmp_path, monkeypatch):
    """A file that scores 0.02 below Keras (here: a stand-in metric, the Keras model scored first) is refused
    under the default 0.01 limit, and nothing is written."""
    real = segmentation_app._task

    def worse_after_keras(*args):
        check, calls = real(*args), []

        def score(outputs):
            calls.append(1)
            return {"mean_iou": 0.5 if len(calls) == 1 else 0.48}

        return dataclasses.replace(check, score=score)

    monkeypatch.setattr(segmentation_app, "_task", worse_after_keras)
    code, _, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}", "formats=tflite",
                       "name=refused")
    assert code == 2 and "tflite (mean_iou 0.48 (below 0.49))" in err and "nothing was written" in err
    assert not (tmp_path / "segmentation" / "refused").exists()


def test_the_tasks_layout_is_refused_where_an_app_has_none(cli, tiny_run, tmp_path):
    code, _, err = cli("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}",
                       "formats=tflite_tasks")
    assert code == 2 and "no layout for MediaPipe Tasks" in err and err.count("\n") == 1


def test_export_overwrite_replaces_atomically(cli, tiny_run, tmp_path):
    args = ("segmentation", "export", f"run={tiny_run}", f"export.out_dir={tmp_path}", "formats=saved_model",
            "name=x")
    assert cli(*args)[0] == 0
    assert cli(*args, "overwrite=true")[0] == 0
    assert sorted(p.name for p in (tmp_path / "segmentation").iterdir()) == ["x"]


def test_resume_continues_a_run(cli, tiny_run, tmp_path):
    run = shutil.copytree(tiny_run, tmp_path / "run")
    code, out, _ = cli("segmentation", "train", f"resume={run}", "train.epochs=3")
    assert code == 0 and "Epoch 3/3" in out and "Epoch 1/3" not in out
    rows = (run / "history.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3  # header + epochs 1, 2 and the resumed epoch 3
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 3


def test_resume_after_sigkill_restores_from_backup(tmp_path):
    """A run killed with SIGKILL mid-training continues from its last finished epoch."""
    cmd = [sys.executable, "-m", "keras_suite", "segmentation", "train", "--config", "tiny",
           f"train.runs_dir={tmp_path}", "train.epochs=12"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        runs = list((tmp_path / "segmentation").glob("*/history.csv")) if (tmp_path / "segmentation").exists() else []
        if runs and len(runs[0].read_text().splitlines()) >= 3:  # header + 2 finished epochs
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (run,) = list((tmp_path / "segmentation").iterdir())
    assert (run / "backup").is_dir() and not (run / "model.keras").exists()
    resumed = subprocess.run([sys.executable, "-m", "keras_suite", "segmentation", "train", f"resume={run}"],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Epoch 12/12" in resumed.stdout and "Epoch 1/12" not in resumed.stdout
    assert (run / "model.keras").is_file()
    # Epochs before and after the kill; 11 when the kill fell between the backup and the CSV row of an epoch.
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] in (11, 12)


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_suite.cli import main
        raise SystemExit(main(["segmentation", "train", "--config", "tiny", "train.runs_dir={tmp_path}",
                               "train.strategy=mirrored"]))
    """))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MirroredStrategy with 2 replicas" in proc.stdout
    (run,) = list((tmp_path / "segmentation").iterdir())
    assert (run / "model.keras").is_file()

