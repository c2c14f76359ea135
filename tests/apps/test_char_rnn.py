import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.apps.char_rnn.app import TextGenerator, _windows
from keras_suite.apps.char_rnn.config import CharRNNConfig
from keras_suite.config import load_config
from keras_suite.data.corpora import load_corpus
from keras_suite.data.vocabulary import CharVocabulary
from keras_suite.export import tflite
from keras_suite.models.char_rnn import build_char_rnn
from keras_suite.models.char_transformer import build_char_transformer
from keras_suite.testing import assert_export_parity

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def char_run(trained):
    return trained("char_rnn")


def test_train_writes_vocab_samples_and_metrics(char_run):
    vocab = json.loads((char_run / "vocab.json").read_text())
    assert vocab["oov"] == "[UNK]" and "a" in vocab["chars"]
    metrics = json.loads((char_run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and {"val_perplexity", "val_bits_per_char"} <= set(metrics["final"])
    samples = (char_run / "samples" / "epoch002.txt").read_text()
    assert "## temperature 0.0" in samples and "## temperature 1.0" in samples
    assert {p.parent.name for p in (char_run / "logs").rglob("events.out.tfevents*")} >= {"train", "samples"}


def test_text_previews_follow_preview_every(cli, tmp_path):
    code, _, _ = cli("char_rnn", "train", "--config", "tiny", "train.epochs=3", "train.preview_every=2",
                     f"train.runs_dir={tmp_path}", "train.run_name=r")
    assert code == 0 and sorted(p.name for p in (tmp_path / "char_rnn" / "r" / "samples").iterdir()) == ["epoch002.txt"]


def test_generate_is_deterministic_and_greedy_at_temperature_zero(cli, char_run):
    args = ("char_rnn", "generate", f"run={char_run}", "prime=Ma", "length=25")
    code, first, _ = cli(*args, "seed=3")
    _, second, _ = cli(*args, "seed=3")
    assert code == 0 and first == second and first.startswith("Ma") and len(first.rstrip("\n")) == 27
    assert "[UNK]" not in first
    _, greedy_a, _ = cli(*args, "temperature=0", "seed=1")
    _, greedy_b, _ = cli(*args, "temperature=0", "seed=2")
    assert greedy_a == greedy_b


def test_evaluate(cli, char_run):
    code, out, _ = cli("char_rnn", "evaluate", f"run={char_run}")
    assert code == 0 and "bits/char" in out
    scores = json.loads((char_run / "eval_validation.json").read_text())
    assert scores["perplexity"] == pytest.approx(np.exp(scores["loss"]), rel=1e-4)


def test_export_generate_signature_and_step_model(cli, char_run, tmp_path):
    code, _, err = cli("char_rnn", "export", f"run={char_run}", f"export.out_dir={tmp_path}", "name=c")
    assert code == 0, err
    target = tmp_path / "char_rnn" / "c"
    assert_export_parity(json.loads((target / "parity.json").read_text()), ["saved_model", "tflite"])
    meta = json.loads((target / "metadata.json").read_text())
    assert meta["vocabulary"]["oov_id"] == 0 and meta["vocabulary"]["chars"][0] == "\n"

    # The SavedModel generates text in the graph and agrees with the CLI.
    loaded = tf.saved_model.load(str(target / "saved_model"))
    out = loaded.signatures["generate"](prime=tf.constant("Ma"), length=tf.constant(25),
                                        temperature=tf.constant(0.0))["text"].numpy().decode()
    _, printed, _ = cli("char_rnn", "generate", f"run={char_run}", "prime=Ma", "length=25", "temperature=0")
    assert out == printed.rstrip("\n")

    # The TFLite step model is builtin-only, batch 1, and carries its state.
    flatbuffer = (target / "model.tflite").read_bytes()
    assert tflite.non_builtin_ops(flatbuffer) == []
    runner = tflite.Runner(flatbuffer)
    states = np.zeros(runner.runner.get_input_details()["states"]["shape"], np.float32)
    result = runner(token=np.array([3], np.int32), states=states)
    assert result["logits"].shape == (1, len(meta["vocabulary"]["chars"]) + 1)
    assert not np.allclose(result["states"], 0)


def test_export_scores_nats_per_char_through_each_file_as_the_whole_sequence_does(cli, char_run, tmp_path):
    """The export's task metric feeds the held-out characters one at a time through each format's step; for an RNN
    from zero states that is the whole sequence in one call of the Keras model."""
    code, _, err = cli("char_rnn", "export", f"run={char_run}", f"export.out_dir={tmp_path}", "name=c",
                       "formats=saved_model,tflite,tflite_fp16", "export.task_samples=40")
    assert code == 0, err
    parity = json.loads((tmp_path / "char_rnn" / "c" / "parity.json").read_text())
    assert parity["task_samples"] == 40
    cfg = load_config(CharRNNConfig, [char_run / "config.yaml"])
    vocab = CharVocabulary.from_json((char_run / "vocab.json").read_text())
    ids = np.asarray(_windows(cfg, vocab, load_corpus(cfg.data.corpus))[1][:41])
    model = keras.saving.load_model(char_run / "model.keras", compile=False)
    log_probs = tf.nn.log_softmax(model(ids[None, :-1])[0]).numpy()
    expected = -np.mean(log_probs[np.arange(40), ids[1:]])
    assert parity["keras"]["nats_per_char"] == pytest.approx(expected, abs=1e-5)
    for name in ("saved_model", "tflite", "tflite_fp16"):
        row = parity["formats"][name]
        assert row["nats_per_char"] == pytest.approx(expected, abs=2e-3) and row["limits"]["nats_per_char"] == (
            pytest.approx(expected + 0.01, abs=1e-5))


def test_export_refuses_int8_of_a_recurrent_model(cli, char_run, tmp_path):
    code, _, err = cli("char_rnn", "export", f"run={char_run}", f"export.out_dir={tmp_path}", "formats=tflite_int8")
    assert code == 2 and "int8 calibration of the RNN step crashes" in err and not any(tmp_path.iterdir())


@pytest.mark.parametrize("build", [lambda size: build_char_rnn(size, 8, 16, 2, "lstm"),
                                   lambda size: build_char_transformer(size, 8, units=16, layers=2, heads=2)])
def test_long_generation_goes_in_chunks_that_change_nothing(build):
    """The RNN state (or the transformer's cache and window) and the random draws go on across chunks: chunked
    text equals one call's."""
    vocab = CharVocabulary.from_text("abcdefgh \n")
    generator = TextGenerator(build(vocab.size), vocab)
    seen = []
    chunked = generator("ab", 23, temperature=1.0, seed=3, chunk=5, progress=seen.append)
    assert chunked == generator("ab", 23, temperature=1.0, seed=3)
    assert len(chunked) == 25 and seen == [5, 10, 15, 20, 23]
    assert chunked != generator("ab", 23, temperature=1.0, seed=4)


@pytest.fixture(scope="module")
def transformer_run(trained):
    return trained("char_rnn:transformer")


def test_transformer_exports_a_step_whose_window_protocol_reproduces_generation(cli, transformer_run, tmp_path):
    """The TFLite step, driven as its metadata tells a phone app (feed the cache back, slide the window when it
    is full), writes the text that `generate` and the SavedModel write, past several slides of the 20-character
    context."""
    code, _, err = cli("char_rnn", "export", f"run={transformer_run}", f"export.out_dir={tmp_path}", "name=t")
    assert code == 0, err
    target = tmp_path / "char_rnn" / "t"
    assert_export_parity(json.loads((target / "parity.json").read_text()), ["saved_model", "tflite"])
    meta = json.loads((target / "metadata.json").read_text())
    layout = meta["step_model"]
    context, keep = layout["context"], layout["context"] // 2
    assert context == 20 and f"the last {keep} tokens" in layout["window"]
    chars = meta["vocabulary"]["chars"]
    flatbuffer = (target / "model.tflite").read_bytes()
    assert tflite.non_builtin_ops(flatbuffer) == []
    runner = tflite.Runner(flatbuffer)
    zeros = np.zeros(runner.runner.get_input_details()["cache"]["shape"], np.float32)

    def step(token, cache, index):
        return runner(token=np.array([token], np.int32), cache=cache, index=np.array([index], np.int32))

    cache, index, fed, token, text = zeros, 0, [], chars.index("M") + 1, "M"
    prime = [chars.index("a") + 1]
    for _ in range(1 + 59):
        if index == context:
            cache, index = zeros, 0
            for kept in fed[-keep:]:
                cache, index = step(kept, cache, index)["cache"], index + 1
        out = step(token, cache, index)
        cache, index = out["cache"], index + 1
        fed.append(token)
        logits = out["logits"][0]
        logits[0] = -np.inf  # generation never picks the out-of-vocabulary id
        token = prime.pop(0) if prime else int(np.argmax(logits))
        text += chars[token - 1]
    _, printed, _ = cli("char_rnn", "generate", f"run={transformer_run}", "prime=Ma", "length=59", "temperature=0")
    assert text == printed.rstrip("\n")
    loaded = tf.saved_model.load(str(target / "saved_model"))
    out = loaded.signatures["generate"](prime=tf.constant("Ma"), length=tf.constant(59), temperature=tf.constant(0.0))
    assert out["text"].numpy().decode() == text


def test_transformer_evaluates_only_windows_it_was_trained_on(cli, transformer_run):
    code, out, _ = cli("char_rnn", "evaluate", f"run={transformer_run}")
    assert code == 0 and "nats/char" in out
    code, _, err = cli("char_rnn", "evaluate", f"run={transformer_run}", "data.seq_length=40")
    assert code == 2 and "longer than the transformer's context (20)" in err


def test_transformer_heads_must_divide_the_width(cli, tmp_path):
    code, _, err = cli("char_rnn", "train", "--config", "tiny", "model.cell=transformer", "model.units=10",
                       "model.heads=4", f"train.runs_dir={tmp_path}")
    assert code == 2 and "must be a multiple of model.heads" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, pattern", [
    (["length=0"], "'generate.length' must be at least 1"),
    (["length=-3"], "'generate.length' must not be negative"),
    (["temperature=-1"], "'generate.temperature' must not be negative"),
    (["prime="], "prime must not be empty"),
])
def test_generate_bad_input(cli, char_run, args, pattern):
    code, _, err = cli("char_rnn", "generate", f"run={char_run}", *args)
    assert code == 2 and pattern in err and len(err.strip().splitlines()) == 1


def test_prime_outside_vocabulary_warns(cli, caplog, char_run):
    code, out, _ = cli("char_rnn", "generate", f"run={char_run}", "prime=M€", "length=5")
    assert code == 0 and out.startswith("M€")
    assert "outside the vocabulary" in caplog.text


@pytest.mark.parametrize("content, pattern", [
    (b"", "is empty"), (b"\x00\x01\x02binary", "looks binary"), (b"\xff\xfe bad", "not valid UTF-8"),
    (b"short text", "too short for a validation window")])
def test_train_bad_corpus(cli, tmp_path, content, pattern):
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(content)
    code, _, err = cli("char_rnn", "train", "--config", "tiny", f"corpus={corpus}",
                       f"train.runs_dir={tmp_path / 'runs'}")
    assert code == 2 and pattern in err and len(err.strip().splitlines()) == 1

