import json

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.apps.embeddings.app import EmbeddingsApp
from keras_suite.runs import Run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def skipgram_run(trained):
    return trained("embeddings")


def test_train_writes_vocabulary_analogy_scores_word_maps_and_the_projector(skipgram_run):
    words = json.loads((skipgram_run / "vocabulary.json").read_text())["words"]
    assert words[0] == "[UNK]" and {"king", "queen", "paris", "france"} <= set(words)
    final = json.loads((skipgram_run / "metrics.json").read_text())["final"]
    assert 0 <= final["val_analogy"] <= 1 and 0 <= final["val_analogy_mul"] <= 1
    assert (skipgram_run / "previews" / "words_epoch001.png").is_file()
    projector = skipgram_run / "logs" / "projector"
    assert (projector / "metadata.tsv").read_text().splitlines() == words
    assert (projector / "projector_config.pbtxt").is_file()


def test_evaluate_scores_every_relation_with_both_methods(cli, skipgram_run):
    code, out, err = cli("embeddings", "evaluate", f"run={skipgram_run}")
    assert code == 0, err
    report = json.loads((skipgram_run / "eval_test.json").read_text())
    for method in ("add", "mul"):
        scores = report[f"analogy_{method}"]
        assert set(scores) >= {"all", "capital", "gender", "tense", "comparative"} and scores["skipped"] == 0
    assert "| capital |" in out and "3CosMul" in out and (skipgram_run / "previews" / "eval_test.png").is_file()
    assert "king" in report["neighbors"]


def test_neighbors_and_analogy_answer_and_unknown_words_get_one_line(cli, skipgram_run):
    code, out, _ = cli("embeddings", "neighbors", f"run={skipgram_run}", "word=King", "k=4")
    assert code == 0 and len(out.strip().splitlines()) == 4 and "king\t" not in out
    code, out, _ = cli("embeddings", "analogy", f"run={skipgram_run}", "a=man", "b=king", "c=woman", "k=3",
                       "method=mul")
    assert code == 0 and "man : king :: woman : ?" in out and len(out.strip().splitlines()) == 4
    code, _, err = cli("embeddings", "neighbors", f"run={skipgram_run}", "word=zebra")
    assert code == 2 and err.strip().count("\n") == 0 and "zebra" in err


@pytest.mark.parametrize("variant", ["cbow", "glove"])
def test_cbow_and_glove_train_and_answer(cli, trained, variant):
    run = trained(f"embeddings:{variant}")
    config = (run / "config.yaml").read_text()
    assert f"kind: {variant}" in config
    words, vectors = EmbeddingsApp().vectors(Run(run))
    assert vectors.shape == (len(words), 16) and np.all(np.isfinite(vectors))
    code, out, err = cli("embeddings", "neighbors", f"run={run}", "word=paris", "k=3")
    assert code == 0, err
    if variant == "glove":
        assert (run / "cooccurrence.npz").is_file()


def test_export_writes_projector_tsvs_and_a_word_lookup(cli, skipgram_run, tmp_path):
    code, out, err = cli("embeddings", "export", f"run={skipgram_run}", f"export.out_dir={tmp_path}",
                         "formats=saved_model,tflite", "name=e")
    assert code == 0, err
    folder = tmp_path / "embeddings" / "e"
    words = (folder / "metadata.tsv").read_text().splitlines()
    rows = [list(map(float, line.split("\t"))) for line in (folder / "vectors.tsv").read_text().splitlines()]
    assert len(rows) == len(words) and np.allclose(np.linalg.norm(rows, axis=1), 1, atol=1e-4)
    parity = json.loads((folder / "parity.json").read_text())
    assert parity["formats"]["tflite"]["analogy"] == pytest.approx(parity["keras"]["analogy"])
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    out = loaded.signatures["vectors"](words_in=tf.constant(["Paris", "zebra"]))
    assert out["ids"].numpy().tolist() == [words.index("paris"), 0]
    assert np.allclose(out["vector"].numpy()[0], rows[words.index("paris")], atol=1e-5)
