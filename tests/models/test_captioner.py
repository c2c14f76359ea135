import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.tokenizer import END_ID, START_ID
from keras_suite.decoding import BeamSearch, search, sequence_log_prob
from keras_suite.models.captioner import attention_model, build_captioner, build_image_encoder, incremental

IMAGES = np.random.default_rng(0).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
TARGET_IN = np.array([[START_ID, 5, 6, 7], [START_ID, 8, 9, 4]], np.int32)


def tiny(decoder, **kwargs):
    return build_captioner(32, 12, decoder=decoder, width=8, units=16, embedding_dim=8, ff_dim=32, heads=2,
                           max_length=10, **kwargs)


@pytest.mark.parametrize("decoder", ["rnn", "transformer"])
def test_the_incremental_decoder_gives_the_teacher_forced_logits(decoder):
    model = tiny(decoder)
    full = model([IMAGES, TARGET_IN]).numpy()
    steps = incremental(model, 10)
    state, logits = steps.encode(IMAGES), []
    for t in range(TARGET_IN.shape[1]):
        out, state = steps.step(tf.constant(TARGET_IN[:, t]), state)
        logits.append(out.numpy())
    np.testing.assert_allclose(np.stack(logits, 1), full, atol=1e-5)


@pytest.mark.parametrize("decoder", ["rnn", "transformer"])
def test_attention_over_the_grid_sums_to_one_for_every_word(decoder):
    weights = attention_model(tiny(decoder))([IMAGES, TARGET_IN])[1].numpy()
    assert weights.shape == (2, 4, 16)  # 32 px at stride 8: a 4 x 4 grid
    assert np.all(weights >= 0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)


def test_gru_and_luong_attention_also_build_and_beam_search_scores_what_it_finds():
    model = tiny("rnn", cell="gru", attention="luong")
    steps = incremental(model, 6)
    tokens, scores = search(steps, IMAGES, BeamSearch(3, 0.0), 6, START_ID, END_ID)
    assert tokens.shape == (2, 1, 6)
    targets = tokens[:, 0].numpy()
    log_prob, _ = sequence_log_prob(steps.step, tf.fill([2], START_ID), steps.encode(IMAGES), targets, END_ID)
    np.testing.assert_allclose(log_prob.numpy(), scores.numpy()[:, 0], atol=1e-4)  # alpha 0: the raw log P


def test_the_encoder_gives_one_memory_vector_per_grid_cell_and_refuses_sizes_off_its_stride():
    assert build_image_encoder(48, 24, width=4).output_shape == (None, 36, 24)
    with pytest.raises(ValueError, match="divisible by 8"):
        build_image_encoder(36, 24)
    with pytest.raises(ValueError, match="decoder must be one of"):
        tiny("lstm")


def test_a_mobilenet_v2_encoder_gives_a_stride_16_grid():
    model = build_captioner(32, 12, encoder="mobilenet_v2", weights=None, units=16, embedding_dim=8)
    weights = attention_model(model)([IMAGES, TARGET_IN])[1].numpy()
    assert weights.shape == (2, 4, 4)  # 32 px at stride 16: a 2 x 2 grid
