import re

import pytest

from keras_suite.apps import APPS
from keras_suite.tour import summary, tour

pytestmark = pytest.mark.slow


def test_the_demo_trains_shows_and_exports_each_app_and_writes_a_report(cli, tmp_path):
    code, out, err = cli("demo", "--apps", "segmentation,char_rnn", "--runs", str(tmp_path), "--config", "tiny")
    assert code == 0, err
    table = out.split("=== demo: 2 apps in ")[1]
    assert re.search(r"segmentation\s+test mIoU\s+\d\.\d{4}\s+>= 0\.9 \(not yet\)\s+\d+\s+ok: saved_model,tflite",
                     table), table
    assert re.search(r"char_rnn\s+val nats/char\s+\d\.\d{4}\s+<= 1\.57 \(not yet\)", table), table
    page = (tmp_path / "report.html").read_text()
    pictures = re.findall(r"<img src='([^']+)'>", page)
    assert any("eval_test.png" in p for p in pictures) and any("scene_overlay.png" in p for p in pictures)
    assert all((tmp_path / p).is_file() for p in pictures)  # paths relative to the page
    assert "keras-suite char_rnn generate" in page and "export parity" in page
    assert "\x1b[" not in page  # no terminal colour codes in what the page shows


def test_a_failing_app_is_reported_and_the_others_still_run(tmp_path, capsys):
    stops = tour(["segmentation", "face"], tmp_path, config="no-such-config")
    assert [s.error.startswith("config file not found") for s in stops] == [True, True]
    assert "failed: config file not found" in summary(stops)
    assert (tmp_path / "report.html").is_file()


def test_every_app_ships_a_demo_config():
    from keras_suite.tour import CONFIG_DIR

    assert all((CONFIG_DIR / app / "demo.yaml").is_file() for app in APPS.names())
