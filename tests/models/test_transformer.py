import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.tokenizer import START_ID
from keras_suite.models.transformer import IncrementalTransformer, attention_model, build_transformer
from keras_suite.testing import assert_keras_roundtrip

SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], np.int32)
TARGET_IN = np.array([[START_ID, 5, 6, 7, 8], [START_ID, 9, 10, 0, 0]], np.int32)


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
@pytest.mark.parametrize("one_by_one", [False, True])  # True: the float-only encoder of a step file
def test_cached_decoding_logits_equal_uncached(norm_first, positional, one_by_one):
    model = build_transformer(12, 14, layers=2, dim=16, heads=2, ff_dim=32, max_target_length=8,
                              positional=positional, norm_first=norm_first)
    full = model([SOURCE, TARGET_IN]).numpy()
    decoder = IncrementalTransformer(model, 8)
    state, steps = _encode(decoder, one_by_one), []
    for t in range(TARGET_IN.shape[1]):
        logits, state = decoder.step(tf.constant(TARGET_IN[:, t]), state)
        steps.append(logits.numpy())
    steps = np.stack(steps, 1)
    np.testing.assert_allclose(steps[0], full[0], atol=1e-4)
    np.testing.assert_allclose(steps[1, :3], full[1, :3], atol=1e-4)


def test_transformer_round_trip_and_attention_outputs(tmp_path):
    model = build_transformer(12, 14, layers=2, dim=16, heads=2, ff_dim=32)
    outputs = attention_model(model)([SOURCE, TARGET_IN])
    assert [tuple(w.shape) for w in outputs[1:]] == [(2, 2, 5, 6)] * 2
    assert_keras_roundtrip(model, [SOURCE, TARGET_IN], tmp_path, atol=1e-5)



def _encode(decoder, one_by_one):
    """The state for SOURCE, from `encode` or, one source at a time, from `encode_one`."""
    if not one_by_one:
        return decoder.encode(SOURCE)
    states = [decoder.encode_one(tf.constant(row)) for row in SOURCE]
    return tf.nest.map_structure(lambda *rows: tf.concat(rows, 0), *states)
