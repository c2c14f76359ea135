import os
import shutil
import time

import pytest

from keras_suite.apps.segmentation.config import SegmentationConfig
from keras_suite.config import save_config
from keras_suite.errors import UserError
from keras_suite.files import write_json
from keras_suite.runs import Run


def _run(root, app, name, command="train", started=None):
    """A run made by `command`, recorded as started at `started` (now when None)."""
    run = Run.create(root, app, name)
    save_config(SegmentationConfig(), run.config)
    run.started(app, command)
    if started is not None:
        write_json(run.path / "run.json", {**run.record(), "started": started})
    return run


def test_names_of_what_a_run_holds(tmp_path):
    run = Run(tmp_path / "r")
    assert run.model == tmp_path / "r" / "model.keras" and run.config.name == "config.yaml"
    assert run.best == tmp_path / "r" / "checkpoints" / "best.keras"
    assert run.preview("x.png") == tmp_path / "r" / "previews" / "x.png"
    assert run.report("eval", "test").name == "eval_test.json" and run.log_dir("samples").parent == run.logs
    assert os.fspath(run) == str(tmp_path / "r") and run.name == "r"


def test_latest_is_the_most_recently_started_training_not_the_last_folder_name(tmp_path):
    now = time.time()
    _run(tmp_path, "segmentation", "zzz-named", started=now - 100)
    newest = _run(tmp_path, "segmentation", "20200101-000000", started=now - 10)
    _run(tmp_path, "segmentation", "20990101-000000", command="stylize", started=now)  # not a trained run
    assert Run.open("latest", "segmentation", tmp_path) == newest


def test_runs_made_before_records_count_by_when_their_config_was_written(tmp_path):
    old = Run.create(tmp_path, "segmentation", "old")
    save_config(SegmentationConfig(), old.config)
    os.utime(old.config, (time.time() - 1000,) * 2)
    recorded = _run(tmp_path, "segmentation", "a-recorded-run")
    assert old.record() is None and Run.open("latest", "segmentation", tmp_path) == recorded


def test_bad_run_names_and_missing_runs(tmp_path):
    with pytest.raises(UserError, match="plain folder name"):
        Run.named(tmp_path, "segmentation", "../elsewhere")
    with pytest.raises(UserError, match="no trained runs under"):
        Run.open("latest", "segmentation", tmp_path)
    with pytest.raises(UserError, match="run directory does not exist"):
        Run.open(tmp_path / "nowhere", "segmentation", tmp_path)
    (tmp_path / "folder").mkdir()
    with pytest.raises(UserError, match="is not a run directory"):
        Run.open(tmp_path / "folder", "segmentation", tmp_path)


def test_latest_reads_runs_dir_from_a_config_file(cli, tmp_path, tiny_run):
    """`run=latest` looks in the train.runs_dir a --config file sets, not only in one given as an override."""
    runs = tmp_path / "elsewhere"
    (runs / "segmentation").mkdir(parents=True)
    copy = runs / "segmentation" / "copied"
    shutil.copytree(tiny_run, copy)
    Run(copy).started("segmentation", "train")
    config = tmp_path / "mine.yaml"
    config.write_text(f"train:\n  runs_dir: {runs}\n")
    code, out, err = cli("segmentation", "evaluate", "run=latest", "--config", str(config))
    assert code == 0, err
    assert (copy / "eval_test.json").is_file()
