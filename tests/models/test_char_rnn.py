import numpy as np
import pytest
import tensorflow as tf

from keras_suite.models.char_rnn import build_char_rnn, build_step_model, stacked_step
from keras_suite.testing import assert_keras_roundtrip


@pytest.mark.parametrize("cell, states", [("lstm", 4), ("gru", 2), ("simple_rnn", 2)])
def test_state_carry_over_equals_full_sequence_logits(cell, states):
    model = build_char_rnn(vocab_size=12, embedding_dim=6, units=8, layers=2, cell=cell)
    x = np.random.default_rng(0).integers(0, 12, (1, 15)).astype("int32")
    full = model.predict(x, verbose=0)
    step = build_step_model(model)
    assert len(step.inputs) == 1 + states
    next_fn, state = stacked_step(step)
    outs = []
    for t in range(15):
        logits, state = next_fn(tf.constant(x[:, t]), state)
        outs.append(np.asarray(logits))
    np.testing.assert_allclose(np.stack(outs, 1), full, atol=1e-5)


def test_char_rnn_keras_round_trip(tmp_path):
    model = build_char_rnn(vocab_size=10, embedding_dim=4, units=8, layers=1, cell="gru")
    assert_keras_roundtrip(model, np.array([[1, 2, 3, 4]], np.int32), tmp_path)


def test_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        build_char_rnn(10, cell="gpt")

