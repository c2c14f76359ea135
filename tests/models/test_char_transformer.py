import numpy as np
import pytest
import tensorflow as tf

from keras_suite.models.char_transformer import IncrementalCharTransformer, build_char_transformer, is_transformer
from keras_suite.testing import assert_keras_roundtrip


@pytest.fixture(scope="module")
def model():
    return build_char_transformer(vocab_size=20, context=8, units=16, layers=2, heads=2)


def test_generation_slides_its_window_and_matches_the_model(model):
    """Past the context, the last half window is encoded again and the next token goes on after it: each step's
    logits are the full model's on that window."""
    incremental = IncrementalCharTransformer(model)
    assert (incremental.context, incremental.keep, incremental.cache_shape) == (8, 4, (2, 2, 8, 2, 8))
    seq = np.random.default_rng(0).integers(1, 20, 30).astype("int32")
    state, start, index = incremental.initial_state(), 0, 0
    for g, token in enumerate(seq):
        if index == 8:
            start, index = g - 4, 4
        logits, state = incremental.next_fn(tf.constant([token]), state)
        np.testing.assert_allclose(logits.numpy()[0], model(seq[None, start:g + 1]).numpy()[0, -1], atol=1e-5)
        index += 1
    assert int(state["index"][0]) == index


def test_prefill_is_the_model_and_fills_what_steps_fill(model):
    incremental = IncrementalCharTransformer(model)
    seq = np.arange(1, 6, dtype="int32")[None]
    logits, cache = incremental.prefill(seq)
    np.testing.assert_allclose(logits.numpy(), model(seq).numpy(), atol=1e-5)
    stepped = tf.zeros((1, *incremental.cache_shape))
    for t in range(5):
        _, stepped = incremental.step(tf.constant(seq[:, t]), stepped, t)
    np.testing.assert_allclose(stepped.numpy(), cache.numpy(), atol=1e-5)


def test_keras_round_trip(model, tmp_path):
    assert is_transformer(model)
    assert_keras_roundtrip(model, np.array([[1, 2, 3, 4]], np.int32), tmp_path)
