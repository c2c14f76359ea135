import keras
import numpy as np
import pytest

from keras_suite.layers import CrossAttention
from keras_suite.testing import assert_config_roundtrip, assert_keras_roundtrip


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

