"""The `attack` command of segmentation, detection and face on their tiny runs: the metric against the budget,
the curve and the example panels; the perturbations stay in their ball."""

import json

import numpy as np
import pytest
from PIL import Image

from keras_suite.apps import APPS

pytestmark = pytest.mark.slow
QUICK = ["epsilons=[0,4]", "attack.steps=3", "attack.examples=8", "attack.batch_size=4"]


def test_the_apps_with_a_loss_to_attack_have_the_command():
    assert sorted(a for a in APPS.names() if "attack" in APPS.get(a).commands) == ["detection", "face", "segmentation"]


@pytest.mark.parametrize("app", ["segmentation", "detection", "face"])
def test_attack_reports_the_metric_against_epsilon(app, trained, cli, tmp_path):
    run = trained(app)
    code, out, err = cli(app, "attack", f"run={run}", f"out={tmp_path}", *QUICK)
    assert code == 0, err
    report = json.loads((tmp_path / "attack_linf.json").read_text())
    assert [(r["method"], r["eps"]) for r in report["rows"]] == [("none", 0.0), ("fgsm", 4.0), ("pgd", 4.0)]
    clean, _, strongest = report["rows"]
    metric = report["metric"]
    assert 0 <= strongest[metric] <= 1 and strongest["max_change"] <= 4.0 + 1e-3
    assert strongest["loss"] >= clean["loss"] - 1e-4  # the attack raises its loss
    for name in ("attack_linf_curve.png", "attack_linf_examples.png"):
        assert np.asarray(Image.open(tmp_path / name)).shape[0] > 300


def test_a_targeted_segmentation_attack_and_the_l2_ball(trained, cli, tmp_path):
    run = trained("segmentation")
    code, out, err = cli("segmentation", "attack", f"run={run}", f"out={tmp_path}", "attack.target=circle",
                         "norm=l2", *QUICK)
    assert code == 0, err
    report = json.loads((tmp_path / "attack_l2.json").read_text())
    assert report["targeted"] and "towards 'circle'" in report["what"]
    assert report["rows"][-1]["loss"] <= report["rows"][0]["loss"] + 1e-4  # a targeted attack lowers its loss


def test_the_adversarial_images_through_an_exported_int8_file(trained, cli, tmp_path):
    run = trained("segmentation")
    code, _, err = cli("segmentation", "export", f"run={run}", f"export.out_dir={tmp_path}", "name=a",
                       "formats=tflite_int8")
    assert code == 0, err
    file = tmp_path / "segmentation" / "a" / "model_int8.tflite"
    code, out, err = cli("segmentation", "attack", f"run={run}", f"out={tmp_path}", f"tflite={file}", *QUICK)
    assert code == 0, err
    report = json.loads((tmp_path / "attack_linf.json").read_text())
    assert report["tflite"] == str(file) and all(0 <= r["tflite"] <= 1 for r in report["rows"])
    assert "model_int8.tflite (mIoU)" in out
    code, _, err = cli("face", "attack", f"run={trained('face')}", f"tflite={file}", *QUICK)
    assert code == 2 and ("does not take this run's images" in err or "is not an export of a face run" in err)
