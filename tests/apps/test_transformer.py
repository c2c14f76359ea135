import json

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.export import tflite
from keras_suite.testing import assert_export_parity, assert_step_search_matches

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tr_run(trained):
    return trained("transformer")


def test_train_logs_bleu_and_per_head_attention(tr_run):
    metrics = json.loads((tr_run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and {"val_bleu", "val_exact_match"} <= set(metrics["final"])
    assert (tr_run / "previews" / "attention_epoch002.png").is_file()
    config = (tr_run / "config.yaml").read_text()
    assert "lr_schedule: transformer" in config


def test_evaluate_translate_and_analyze(cli, tr_run):
    code, out, err = cli("transformer", "evaluate", f"run={tr_run}")
    assert code == 0, err
    rows = {r["search"]: r for r in json.loads((tr_run / "eval_test.json").read_text())["searches"]}
    assert rows["greedy"]["bleu"] == rows["beam 1"]["bleu"] and "beam 3" in rows
    code, out, err = cli("transformer", "translate", f"run={tr_run}", "text=3 May 2001", "beam=3",
                         "nbest=3")
    assert code == 0, err
    scores = [float(line.split("\t")[1]) for line in out.strip().splitlines()[1:]]
    assert len(scores) == 3 and scores == sorted(scores, reverse=True)
    code, _, err = cli("transformer", "analyze", f"run={tr_run}", "beam=2")
    result = json.loads((tr_run / "analysis_test.json").read_text())
    assert code == 0 and result["correct"] + result["search_errors"] + result["model_errors"] == 32


def test_translate_by_sampling_is_seeded(cli, tr_run):
    args = ("transformer", "translate", f"run={tr_run}", "text=3 May 2001", "temperature=1.0", "top_k=5")
    _, first, _ = cli(*args, "seed=3")
    _, again, _ = cli(*args, "seed=3")
    assert first == again and first.strip()
    code, _, err = cli(*args, "nbest=2", "beam=2")
    assert code == 2 and "sampling gives one output" in err


def test_export_cached_beam_search(cli, tr_run, tmp_path):
    code, _, err = cli("transformer", "export", f"run={tr_run}", f"export.out_dir={tmp_path}", "name=t",
                       "beam=3", "nbest=2")
    assert code == 0, err
    target = tmp_path / "transformer" / "t"
    parity = json.loads((target / "parity.json").read_text())
    assert_export_parity(parity, ["saved_model", "tflite", "tflite_fp16", "tflite_step", "tflite_step_int8"])
    assert parity["formats"]["tflite_step"]["same_best"] == 1.0
    assert parity["formats"]["tflite"]["agreement"] == 1.0
    loaded = tf.saved_model.load(str(target / "saved_model"))
    result = loaded.signatures["translate"](text=tf.constant(["3 May 2001"]))
    _, printed, _ = cli("transformer", "translate", f"run={tr_run}", "text=3 May 2001", "beam=3", "nbest=2")
    expected = [line.split("\t")[0] for line in printed.strip().splitlines()[1:]]
    assert [w.decode() for w in result["nbest"].numpy()[0]] == expected
    flatbuffer = (target / "model.tflite").read_bytes()
    assert tflite.non_builtin_ops(flatbuffer) == []
    runner = tflite.Runner(flatbuffer)
    length = runner.runner.get_input_details()["source"]["shape"][1]
    assert runner(source=np.full((1, length), 5, np.int32))["tokens"].shape[:2] == (1, 2)


def test_the_host_search_over_the_step_file_gives_the_n_best_of_the_search_inside_the_model(cli, tmp_path):
    """Two decoder layers: their caches start as equal zeros, which the host makes (the file cannot give two
    equal constants as two outputs)."""
    code, _, err = cli("transformer", "train", "--config", "tiny", "model.layers=2", "train.epochs=2",
                       f"train.runs_dir={tmp_path}", "train.run_name=two")
    assert code == 0, err
    assert_step_search_matches(cli, "transformer", tmp_path / "transformer" / "two", tmp_path)


@pytest.mark.parametrize("args, pattern", [
    (["model.dim=30", "model.heads=4"], "must divide"),
    (["model.positional=rotary"], "model.positional must be one of"),
    (["model.label_smoothing=1.5"], "label_smoothing must be in"),
    (["data.level=byte"], "data.level must be one of"),
])
def test_bad_model_config(cli, tmp_path, args, pattern):
    code, _, err = cli("transformer", "train", "--config", "tiny", f"train.runs_dir={tmp_path}", *args)
    assert code == 2 and pattern in err and not (tmp_path / "transformer").exists()


def test_numbers_task_trains(cli, tmp_path):
    code, out, err = cli("transformer", "train", "--config", "tiny", "source=numbers",
                         f"train.runs_dir={tmp_path}", "train.steps_per_epoch=2")
    assert code == 0, err
    (run,) = list((tmp_path / "transformer").iterdir())
    assert set("quatre mil") <= set(json.loads((run / "vocab.json").read_text())["target"]["tokens"])

