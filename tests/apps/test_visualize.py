"""The `visualize` command of every image app on its tiny run: the feature grid, the saliency picture and the
report (each optimized channel's activation rose from the noise; integrated gradients near completeness)."""

import json

import numpy as np
import pytest
from PIL import Image

from keras_suite.apps import APPS
from keras_suite.visuals.images import write_png

pytestmark = pytest.mark.slow
APPS_WITH = [app for app in APPS.names() if "visualize" in APPS.get(app).commands]
QUICK = ["visualize.steps=12", "visualize.ig_steps=16", "visualize.smooth_samples=2", "top_k=2"]


def test_the_image_apps_have_the_command():
    assert sorted(APPS_WITH) == ["autoencoder", "detection", "face", "segmentation", "style"]


@pytest.mark.parametrize("app", APPS_WITH)
def test_visualize_writes_the_feature_grid_and_the_saliency_maps(app, trained, cli, tmp_path):
    run = trained(app)
    code, out, err = cli(app, "visualize", f"run={run}", f"out={tmp_path}", *QUICK)
    assert code == 0, err
    (report_path,) = tmp_path.glob("visualize_*.json")
    report = json.loads(report_path.read_text())
    assert len(report["channels"]) == 2 and len(set(report["channels"])) == 2
    assert all(e > s for s, e in zip(report["activation_start"], report["activation_end"]))
    grid = np.asarray(Image.open(tmp_path / f"features_{report['layer'].replace('/', '_')}.png"))
    assert grid.shape[0] > 200 and grid.shape[1] > 300
    if app == "style":
        assert "saliency" not in report and "feature visualization only" in out
        return
    saliency = report["saliency"]
    assert (tmp_path / "saliency_test.png").is_file() and np.isfinite(saliency["value"])
    for c in saliency["completeness"].values():
        assert c["sum"] == pytest.approx(c["f(x) - f(baseline)"], rel=0.25, abs=1e-3)


def test_a_layer_and_channels_can_be_chosen_and_a_photo_explained(trained, cli, tmp_path):
    run = trained("segmentation")
    photo = write_png(tmp_path / "photo.png", np.random.default_rng(0).integers(0, 255, (50, 80, 3), np.uint8))
    code, out, err = cli("segmentation", "visualize", f"run={run}", f"out={tmp_path}", f"image={photo}",
                         "layer=up_0", "channels=[1,3]", "class=circle", *QUICK[:3])
    assert code == 0, err
    report = json.loads((tmp_path / "visualize_up_0.json").read_text())
    assert report["channels"] == [1, 3] and report["saliency"]["target"] == "the mean probability of 'circle'"
    assert (tmp_path / "saliency_photo.png").is_file()
    code, _, err = cli("segmentation", "visualize", f"run={run}", "layer=nowhere", *QUICK)
    assert code == 2 and "is not a feature layer" in err and "up_0" in err
    code, _, err = cli("segmentation", "visualize", f"run={run}", "layer=up_0", "channels=[999]", *QUICK)
    assert code == 2 and "channels" in err
