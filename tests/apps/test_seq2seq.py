import json

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.export import tflite
from keras_suite.testing import assert_export_parity, assert_step_search_matches

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s2s_run(trained):
    return trained("seq2seq")


def test_train_writes_vocab_metrics_bleu_and_attention_maps(s2s_run):
    vocab = json.loads((s2s_run / "vocab.json").read_text())
    assert vocab["source"]["level"] == "char" and vocab["longest_target"] == 10
    assert set(vocab["target"]["tokens"]) == set("0123456789-")
    metrics = json.loads((s2s_run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and {"val_bleu", "val_exact_match", "val_token_accuracy"} <= set(metrics["final"])
    assert (s2s_run / "previews" / "attention_epoch002.png").is_file()
    assert {p.parent.name for p in (s2s_run / "logs").rglob("events.out.tfevents*")} >= {"train", "translations"}


def test_evaluate_compares_greedy_and_beam_widths(cli, s2s_run):
    code, out, err = cli("seq2seq", "evaluate", f"run={s2s_run}")
    assert code == 0, err
    report = json.loads((s2s_run / "eval_test.json").read_text())
    rows = {r["search"]: r for r in report["searches"]}
    assert list(rows) == ["greedy", "beam 1", "beam 3"] and "BLEU" in out
    assert rows["greedy"]["bleu"] == rows["beam 1"]["bleu"]  # beam search of width 1 is greedy search
    assert all(0 <= r["bleu"] <= 1 and 0 <= r["exact_match"] <= 1 for r in rows.values())


def test_translate_nbest_is_sorted(cli, s2s_run):
    code, out, err = cli("seq2seq", "translate", f"run={s2s_run}", "text=14 janvier 1993", "beam=4",
                         "nbest=3")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0] == "14 janvier 1993" and len(lines) == 4
    scores = [float(line.split("\t")[1]) for line in lines[1:]]
    assert scores == sorted(scores, reverse=True)
    assert len({line.split("\t")[0] for line in lines[1:]}) == 3


def test_analyze_splits_errors_between_search_and_model(cli, s2s_run):
    code, out, err = cli("seq2seq", "analyze", f"run={s2s_run}", "beam=1")
    assert code == 0, err
    result = json.loads((s2s_run / "analysis_test.json").read_text())
    assert result["correct"] + result["search_errors"] + result["model_errors"] == result["examples"] == 32
    for record in result["records"]:
        if record["verdict"] == "search":
            assert record["reference_score"] > record["output_score"]
        elif record["verdict"] == "model":
            assert record["reference_score"] <= record["output_score"]
    assert "search errors" in out


def test_export_beam_search_in_saved_model_and_tflite(cli, s2s_run, tmp_path):
    code, _, err = cli("seq2seq", "export", f"run={s2s_run}", f"export.out_dir={tmp_path}", "name=s",
                       "beam=3", "nbest=2")
    assert code == 0, err
    target = tmp_path / "seq2seq" / "s"
    parity = json.loads((target / "parity.json").read_text())
    assert_export_parity(parity, ["saved_model", "tflite", "tflite_fp16", "tflite_step", "tflite_step_int8"])
    assert parity["formats"]["tflite_step"]["same_best"] == 1.0
    assert parity["formats"]["tflite"]["agreement"] == 1.0  # identical tokens on every sample
    meta = json.loads((target / "metadata.json").read_text())
    assert meta["search"]["beam"] == 3 and meta["special_ids"]["end"] == 3

    # String in, string out, with beam search in the graph: the same as the CLI.
    loaded = tf.saved_model.load(str(target / "saved_model"))
    texts = ["14 janvier 1993", "March 3, 2001"]
    result = loaded.signatures["translate"](text=tf.constant(texts))
    assert result["nbest"].shape == (2, 2)
    for i, text in enumerate(texts):
        _, printed, _ = cli("seq2seq", "translate", f"run={s2s_run}", f"text={text}", "beam=3", "nbest=2")
        lines = printed.strip().splitlines()[1:]
        assert [w.decode() for w in result["nbest"].numpy()[i]] == [line.split("\t")[0] for line in lines]

    # The TFLite model runs the whole beam search with builtin ops only.
    flatbuffer = (target / "model.tflite").read_bytes()
    assert tflite.non_builtin_ops(flatbuffer) == []
    runner = tflite.Runner(flatbuffer)
    length = runner.runner.get_input_details()["source"]["shape"][1]
    out = runner(source=np.zeros((1, length), np.int32) + 4)
    assert out["tokens"].shape[:2] == (1, 2) and out["scores"][0, 0] >= out["scores"][0, 1]


@pytest.mark.parametrize("args, pattern", [
    (["text="], "needs text="),
    (["text=   "], "needs text="),
    (["text=14 janvier 1993 ☃"], "outside the vocabulary"),
    (["text=" + "1" * 80], "more than data.max_source_length"),
    (["text=1 may 1990", "beam=2", "nbest=3"], "nbest <= beam"),
    (["text=1 may 1990", "alpha=-1"], "'decode.alpha' must not be negative"),
    (["file=/nonexistent.txt"], "file not found"),
])
def test_translate_bad_input(cli, s2s_run, args, pattern):
    code, _, err = cli("seq2seq", "translate", f"run={s2s_run}", *args)
    assert code == 2 and pattern in err and len(err.strip().splitlines()) == 1


def test_overlong_text_is_truncated_when_configured(cli, caplog, s2s_run):
    code, out, _ = cli("seq2seq", "translate", f"run={s2s_run}", "text=" + "1" * 80,
                       "data.overlong=truncate")
    assert code == 0 and out.strip() and "truncated from 80 to 64" in caplog.text


def test_train_refuses_a_tsv_line_without_a_tab(cli, tmp_path):
    bad = tmp_path / "pairs.tsv"
    bad.write_text("hello\tbonjour\nthanks merci\n")
    code, _, err = cli("seq2seq", "train", "--config", "tiny", f"source=tsv:{bad}",
                       f"train.runs_dir={tmp_path / 'runs'}")
    assert code == 2 and "pairs.tsv:2: expected 'source<TAB>target'" in err
    assert not (tmp_path / "runs").exists()


def test_export_refuses_int8_before_writing(cli, s2s_run, tmp_path):
    code, _, err = cli("seq2seq", "export", f"run={s2s_run}", f"export.out_dir={tmp_path}",
                       "formats=tflite,tflite_int8")
    assert code == 2 and "tflite_int8 is not available" in err and not any(tmp_path.iterdir())


def test_translate_a_file_of_lines(cli, s2s_run, tmp_path):
    lines = tmp_path / "dates.txt"
    lines.write_text("14 janvier 1993\n\n3 May 2001\n", encoding="utf-8")
    code, out, err = cli("seq2seq", "translate", f"run={s2s_run}", f"file={lines}", "beam=2")
    assert code == 0, err
    assert out.splitlines()[0] == "14 janvier 1993" and out.splitlines()[2] == "3 May 2001"




def test_the_host_search_over_the_step_file_gives_the_n_best_of_the_search_inside_the_model(cli, s2s_run, tmp_path):
    assert_step_search_matches(cli, "seq2seq", s2s_run, tmp_path)


@pytest.mark.parametrize("app", ["seq2seq", "transformer"])
def test_sentences_train_at_subword_level_by_default(cli, tmp_path, app):
    """A TSV of sentences gets a subword vocabulary (the embedded tasks keep characters); a word that training never
    saw is written in pieces, and the SavedModel's `translate` (text in, tokenization in the graph) answers as the
    CLI does."""
    from num2words import num2words

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{num2words(n, lang='de')}\t{n}\n" for n in range(0, 3000, 7)), encoding="utf-8")
    code, out, err = cli(app, "train", "--config", "tiny", f"source=tsv:{pairs}", f"train.runs_dir={tmp_path}",
                         "train.run_name=sw", "data.subword_vocab=300")
    assert code == 0, err
    assert "source subwords" in out
    run = tmp_path / app / "sw"
    vocab = json.loads((run / "vocab.json").read_text())
    assert vocab["source"]["level"] == vocab["target"]["level"] == "subword"
    assert "level: subword" in (run / "config.yaml").read_text()  # resolved and saved with the run
    assert any(t.startswith("##") for t in vocab["source"]["tokens"])
    unseen = "neuntausendneunhundertneunundneunzig"  # 9999: above every number in training
    code, printed, err = cli(app, "translate", f"run={run}", f"text={unseen}", "beam=2")
    assert code == 0, err
    code, _, err = cli(app, "export", f"run={run}", f"export.out_dir={tmp_path / 'out'}", "formats=saved_model",
                       "beam=2")
    assert code == 0, err
    loaded = tf.saved_model.load(str(tmp_path / "out" / app / "sw" / "saved_model"))
    result = loaded.signatures["translate"](text=tf.constant([unseen]))
    assert result["nbest"].numpy()[0, 0].decode() == printed.splitlines()[-1].split("\t")[0]
