"""The host-side beam search (NumPy, one input, state in and out of a step function) against the in-graph one."""

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.decoding import BeamSearch, decode
from keras_suite.decoding.host_beam import beam_search, log_softmax

V, LENGTH, END = 7, 9, 2
TABLE = np.random.default_rng(1).normal(0, 2.5, size=(LENGTH + 1, V, V)).astype(np.float32)
BIAS = np.random.default_rng(2).normal(0, 1.0, size=(4, V)).astype(np.float32)  # per source "sentence"


def graph_step(tokens, state):
    """A bigram model whose logits depend on the position, the previous token and the source row."""
    logits = tf.gather_nd(TABLE, tf.stack([state["position"], tokens], -1)) + tf.gather(BIAS, state["source"])
    return logits, {**state, "position": state["position"] + 1}


def host_step(tokens, state):
    logits = TABLE[state["position"], tokens] + BIAS[state["source"]]
    return logits, {"position": state["position"] + 1}  # only what changed


@pytest.mark.parametrize("width, alpha, nbest", [(1, 0.0, 1), (3, 0.7, 3), (5, 1.0, 2), (6, 0.0, 6)])
def test_the_host_search_gives_the_in_graph_n_best(width, alpha, nbest):
    sources = np.arange(4, dtype=np.int32)
    state = {"position": tf.zeros([4], tf.int32), "source": tf.constant(sources)}
    expected, expected_scores = decode(graph_step, tf.fill([4], 1), state, LENGTH, BeamSearch(width, alpha, nbest),
                                       end_token=END)
    for i, source in enumerate(sources):
        tokens, scores = beam_search({"position": np.zeros([1], np.int32), "source": np.array([source], np.int32)},
                                     host_step, width, alpha, nbest, LENGTH, start_id=1, end_id=END)
        np.testing.assert_array_equal(tokens, expected.numpy()[i])
        np.testing.assert_allclose(scores, expected_scores.numpy()[i], rtol=1e-5)


def test_finished_hypotheses_are_padded_with_the_end_token_and_the_search_stops():
    calls = []

    def ends_at_once(tokens, state):  # the end token is by far the most likely first token
        calls.append(len(tokens))
        logits = np.zeros((len(tokens), V), np.float32)
        logits[:, END] = 50.0
        return logits, {}

    tokens, scores = beam_search({"x": np.zeros([1, 3])}, ends_at_once, 3, 0.7, 3, LENGTH, 1, END)
    assert tokens[0].tolist() == [END] * LENGTH and scores[0] == pytest.approx(0.0, abs=1e-6)
    assert (tokens[1:, 0] != END).all() and (tokens[1:, 1:] == END).all()  # the others end after one more token
    assert len(calls) == 2 and set(calls) == {3}


def test_log_softmax_matches_tensorflow():
    logits = np.random.default_rng(3).normal(0, 10, size=(5, 11)).astype(np.float32)
    np.testing.assert_allclose(log_softmax(logits), tf.nn.log_softmax(logits).numpy(), atol=1e-5)
