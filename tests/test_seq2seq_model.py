import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.decoding import BeamSearch, Greedy, classify_errors, decode, sequence_log_prob
from keras_suite.layers import CrossAttention
from keras_suite.metrics import MaskedAccuracy
from keras_suite.models.seq2seq import IncrementalSeq2Seq, attention_model, build_seq2seq
from keras_suite.testing import assert_config_roundtrip, assert_keras_roundtrip

SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], np.int32)
TARGET_IN = np.array([[START_ID, 5, 6, 7, 8], [START_ID, 9, 10, 0, 0]], np.int32)


@pytest.mark.parametrize("score, weights", [("bahdanau", 3), ("luong", 1)])
def test_cross_attention_layer(score, weights, tmp_path):
    query, memory = keras.Input((None, 6)), keras.Input((None, 10))
    layer = CrossAttention(8, score)
    context, attention = layer(query, memory)
    model = keras.Model([query, memory], [context, attention])
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(2, 5, 6)).astype("float32"), rng.normal(size=(2, 7, 10)).astype("float32")]
    assert [tuple(o.shape) for o in model(inputs)] == [(2, 5, 10), (2, 5, 7)]
    assert len(layer.trainable_weights) == weights
    assert_config_roundtrip(layer)
    assert_keras_roundtrip(model, inputs, tmp_path)


@pytest.mark.parametrize("score", ["bahdanau", "luong"])
def test_attention_weights_sum_to_one_and_skip_padding(score):
    rng = np.random.default_rng(0)
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)
    context, weights = CrossAttention(8, score)(rng.normal(size=(2, 4, 6)).astype("float32"),
                                                rng.normal(size=(2, 5, 10)).astype("float32"), mask)
    w = weights.numpy()
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-6)
    assert (w[~np.broadcast_to(mask[:, None], w.shape)] == 0).all()
    assert context.shape == (2, 4, 10)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
def test_incremental_decoding_equals_the_teacher_forced_model(cell, attention):
    model = build_seq2seq(12, 14, embedding_dim=8, units=16, cell=cell, attention=attention)
    full = model([SOURCE, TARGET_IN]).numpy()
    decoder = IncrementalSeq2Seq(model)
    state, steps = decoder.encode(SOURCE), []
    for t in range(TARGET_IN.shape[1]):
        logits, state = decoder.step(tf.constant(TARGET_IN[:, t]), state)
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.stack(steps, 1)[0], full[0], atol=1e-5)
    np.testing.assert_allclose(np.stack(steps, 1)[1, :3], full[1, :3], atol=1e-5)  # real target positions


def test_source_padding_does_not_change_the_output():
    model = build_seq2seq(12, 14, embedding_dim=8, units=16)
    short = model([SOURCE[:, :4], TARGET_IN]).numpy()
    long = model([np.pad(SOURCE, ((0, 0), (0, 6))), TARGET_IN]).numpy()
    np.testing.assert_allclose(short, long, atol=1e-5)


def test_attention_model_and_keras_round_trip(tmp_path):
    model = build_seq2seq(12, 14, embedding_dim=8, units=16)
    logits, weights = attention_model(model)([SOURCE, TARGET_IN])
    assert weights.shape == (2, 5, 6)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, atol=1e-6)
    assert_keras_roundtrip(model, [SOURCE, TARGET_IN], tmp_path)


def test_sequence_log_prob_matches_the_full_model():
    model = build_seq2seq(12, 14, embedding_dim=8, units=16)
    targets = np.array([[5, 6, END_ID, 0], [9, END_ID, 0, 0]], np.int32)
    target_in = np.concatenate([np.full((2, 1), START_ID), targets[:, :-1]], 1)
    log_probs = tf.nn.log_softmax(model([SOURCE, target_in])).numpy()
    expected = [sum(log_probs[row, t, targets[row, t]] for t in range(n)) for row, n in ((0, 3), (1, 2))]
    decoder = IncrementalSeq2Seq(model)
    total, length = sequence_log_prob(decoder.step, [START_ID] * 2, decoder.encode(SOURCE), targets, END_ID)
    np.testing.assert_allclose(total.numpy(), expected, rtol=1e-5)
    assert length.numpy().tolist() == [3, 2]


def test_masked_accuracy_by_hand():
    logits = np.eye(5, dtype="float32")[[[1, 2, 0, 0], [3, 3, 4, 0]]]  # predicts 1,2,0,0 and 3,3,4,0
    targets = np.array([[1, 4, 0, 0], [3, 3, 3, 0]])  # 2 + 3 real tokens, 1 + 2 right
    metric = MaskedAccuracy()
    metric.update_state(targets, logits)
    assert float(metric.result()) == pytest.approx(3 / 5)


# Error analysis on a constructed model (bigram table; end token 1). From start 0 the model likes
# token 2 (0.55) but 2 leads nowhere good; 3 (0.45) ends with certainty: P(2, x, end) <= 0.55 * 0.3
# < P(3, end) = 0.45 * 0.98. Greedy search takes 2 (search error); a beam of 2 finds "3 end".
TABLE = np.log(np.array([
    [0.0001, 0.0001, 0.5498, 0.45],
    [0.01, 0.97, 0.01, 0.01],
    [0.3, 0.3, 0.1, 0.3],
    [0.005, 0.98, 0.01, 0.005],
], np.float32))


def bigram(tokens, state):
    return tf.gather(TABLE, tokens), state


def test_error_analysis_blames_search_or_model():
    start, state = tf.constant([0, 0]), tf.zeros([2])
    references = tf.constant([[3, 1, 1], [2, 2, 1]])  # the model's favourite, and a sequence it dislikes
    for width, verdicts in ((1, ["search", "model"]), (2, ["correct", "model"])):
        strategy = BeamSearch(width, alpha=0.0)
        outputs, _ = decode(bigram, start, state, 3, strategy, end_token=1)
        outputs = outputs[:, 0]
        ref_lp, _ = sequence_log_prob(bigram, start, state, references, 1)
        out_lp, _ = sequence_log_prob(bigram, start, state, outputs, 1)
        correct = [list(o) == list(r) for o, r in zip(outputs.numpy(), references.numpy())]
        result = classify_errors(ref_lp.numpy(), out_lp.numpy(), correct)
        assert result["labels"] == verdicts
    greedy, _ = decode(bigram, start, state, 3, Greedy(), end_token=1)
    assert greedy.numpy()[0, 0] == 2
