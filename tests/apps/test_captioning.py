import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_suite.testing import read_litert_metadata
from keras_suite.visuals.images import write_png

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(trained):
    return trained("captioning")


def test_train_writes_the_vocabulary_caption_scores_and_attention_previews(run):
    vocab = json.loads((run / "vocab.json").read_text())
    assert {"circle", "squares", "above", "yellow"} <= set(vocab["tokenizer"]["tokens"]) and vocab["longest"] >= 5
    final = json.loads((run / "metrics.json").read_text())["final"]
    assert all(0 <= final[k] <= 1 for k in ("val_bleu4", "val_exact_match")) and final["val_cider_d"] >= 0
    picture = np.asarray(Image.open(run / "previews" / "attention_epoch001.png"))
    assert picture.shape[0] > 300 and picture.shape[1] > 300


def test_evaluate_compares_searches_and_blames_each_wrong_caption(cli, run):
    code, out, err = cli("captioning", "evaluate", f"run={run}")
    assert code == 0, err
    report = json.loads((run / "eval_test.json").read_text())
    assert [r["search"] for r in report["searches"]] == ["greedy", "beam 2"]
    for row in report["searches"]:
        assert {"bleu1", "bleu2", "bleu3", "bleu4", "cider_d", "exact_match"} <= set(row)
        assert row["bleu1"] >= row["bleu4"]
    analysis = report["analysis"]
    assert analysis["examples"] == 8 and analysis["correct"] + analysis["search_errors"] + \
        analysis["model_errors"] == 8
    assert "BLEU-4" in out and "CIDEr-D" in out and (run / "previews" / "eval_test.png").is_file()


def test_caption_writes_n_best_captions_and_the_attention_picture_for_any_photo(cli, run, tmp_path):
    photo = write_png(tmp_path / "wide.png", np.random.default_rng(0).integers(0, 255, (40, 70, 3), np.uint8))
    code, out, err = cli("captioning", "caption", f"run={run}", f"image={photo}", f"out={tmp_path / 'o'}",
                         "beam=3", "nbest=2")
    assert code == 0, err
    assert len(out.strip().splitlines()) == 3 and (tmp_path / "o" / "wide_caption.png").is_file()
    code, _, err = cli("captioning", "caption", f"run={run}", f"image={tmp_path / 'missing.png'}")
    assert code == 2 and "not found" in err and err.strip().count("\n") == 0
    code, _, err = cli("captioning", "caption", f"run={run}", f"image={photo}", "beam=2", "nbest=3")
    assert code == 2 and "nbest" in err


def test_export_puts_the_beam_search_inside_and_matches_keras(cli, run, tmp_path):
    code, out, err = cli("captioning", "export", f"run={run}", f"export.out_dir={tmp_path}", "name=c",
                         "formats=saved_model,tflite,tflite_step", "beam=3", "nbest=2")
    assert code == 0, err
    folder = tmp_path / "captioning" / "c"
    parity = json.loads((folder / "parity.json").read_text())
    for fmt in ("saved_model", "tflite", "tflite_step"):  # the step file: a NumPy beam search on the host
        assert parity["formats"][fmt]["same_best"] == 1.0 and parity["formats"][fmt]["agreement"] == 1.0
        assert parity["formats"][fmt]["bleu4"] == pytest.approx(parity["keras"]["bleu4"])
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    out = loaded.signatures["caption"](images=tf.zeros([2, 50, 70, 3], tf.uint8))
    assert out["caption"].shape == (2,) and out["nbest"].shape == (2, 2)
    metadata, files = read_litert_metadata(folder / "model_step.tflite")
    assert sorted(g["name"] for g in metadata["subgraph_metadata"]) == ["decode_step", "encode"]
    assert "vocab.txt" in files
    gpu = json.loads((folder / "compat.json").read_text())["model_step.tflite"]["targets"]["gpu"]
    assert gpu["supported"] == "yes", gpu  # float pixels in, float state: both signatures on the GPU delegate
    code, _, err = cli("captioning", "export", f"run={run}", f"export.out_dir={tmp_path}", "name=d",
                       "formats=tflite_int8")
    assert code == 2 and "tflite_int8" in err


def test_the_transformer_decoder_trains_captions_and_exports(cli, trained, tmp_path):
    run = trained("captioning:transformer")
    assert "decoder: transformer" in (run / "config.yaml").read_text()
    code, out, err = cli("captioning", "caption", f"run={run}", f"image={run / 'previews' / 'attention_epoch001.png'}",
                         f"out={tmp_path}", "beam=0")
    assert code == 0 and (tmp_path / "attention_epoch001_caption.png").is_file(), err
    code, out, err = cli("captioning", "export", f"run={run}", f"export.out_dir={tmp_path}", "name=t",
                         "formats=tflite,tflite_step")
    assert code == 0, err
    parity = json.loads((tmp_path / "captioning" / "t" / "parity.json").read_text())
    assert parity["formats"]["tflite"]["same_best"] == 1.0 and parity["formats"]["tflite_step"]["same_best"] == 1.0
    gpu = json.loads((tmp_path / "captioning" / "t" / "compat.json").read_text())["model_step.tflite"]["targets"]
    assert gpu["gpu"]["supported"] == "yes", gpu["gpu"]
