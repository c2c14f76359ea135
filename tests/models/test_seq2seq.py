import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.tokenizer import START_ID
from keras_suite.models.seq2seq import IncrementalSeq2Seq, attention_model, build_seq2seq
from keras_suite.testing import assert_keras_roundtrip

SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], np.int32)
TARGET_IN = np.array([[START_ID, 5, 6, 7, 8], [START_ID, 9, 10, 0, 0]], np.int32)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong"])
@pytest.mark.parametrize("one_by_one", [False, True])  # True: the unrolled, float-only encoder of a step file
def test_incremental_decoding_equals_the_teacher_forced_model(cell, attention, one_by_one):
    model = build_seq2seq(12, 14, embedding_dim=8, units=16, cell=cell, attention=attention)
    full = model([SOURCE, TARGET_IN]).numpy()
    decoder = IncrementalSeq2Seq(model)
    state, steps = _encode(decoder, one_by_one), []
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



def _encode(decoder, one_by_one):
    """The state for SOURCE, from `encode` or, one source at a time, from `encode_one`."""
    if not one_by_one:
        return decoder.encode(SOURCE)
    states = [decoder.encode_one(tf.constant(row)) for row in SOURCE]
    return tf.nest.map_structure(lambda *rows: tf.concat(rows, 0), *states)
