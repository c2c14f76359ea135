import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_suite.data.tokenizer import START_ID
from keras_suite.layers import (
    CachedMultiHeadAttention,
    LearnedPositionEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from keras_suite.losses import MaskedSparseCrossentropy
from keras_suite.models.transformer import IncrementalTransformer, attention_model, build_transformer
from keras_suite.schedules import TransformerSchedule
from keras_suite.testing import assert_config_roundtrip, assert_keras_roundtrip

rng = np.random.default_rng(0)


def test_sinusoidal_encoding_matches_the_formula():
    d, length = 8, 6
    pe = SinusoidalPositionEncoding()(np.zeros((1, length, d), "float32")).numpy()[0]
    for pos in range(length):
        for i in range(d // 2):
            angle = pos / 10000 ** (2 * i / d)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-5)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-5)
    shifted = SinusoidalPositionEncoding()(np.zeros((1, 2, d), "float32"), start_index=4).numpy()[0]
    np.testing.assert_allclose(shifted, pe[4:6], atol=1e-6)
    assert_config_roundtrip(SinusoidalPositionEncoding(500))


def test_learned_positions_and_token_embedding():
    learned = LearnedPositionEmbedding(10)
    out = learned(np.zeros((2, 4, 6), "float32"), start_index=3).numpy()
    np.testing.assert_allclose(out[0], learned.embeddings.numpy()[3:7])
    assert len(learned.trainable_weights) == 1
    for positional, weights in (("sinusoidal", 1), ("learned", 2)):
        layer = TokenAndPositionEmbedding(20, 10, 8, positional)
        tokens = np.array([[3, 4, 5]])
        x = layer(tokens).numpy()
        expected = layer.token(tokens).numpy() * math.sqrt(8) + layer.position(np.zeros((1, 3, 8), "float32")).numpy()
        np.testing.assert_allclose(x, expected, atol=1e-5)
        assert len(layer.trainable_weights) == weights
        assert_config_roundtrip(layer)
    with pytest.raises(ValueError):
        TokenAndPositionEmbedding(20, 10, 8, "rotary")


def test_encoder_never_attends_to_padding():
    block = TransformerEncoderBlock(2, 16, dropout=0.0)
    x = rng.normal(size=(1, 5, 8)).astype("float32")
    mask = np.array([[True, True, True, False, False]])
    changed = x.copy()
    changed[0, 3:] = rng.normal(size=(2, 8))  # different content in the padded positions
    np.testing.assert_allclose(block(x, mask).numpy()[0, :3], block(changed, mask).numpy()[0, :3], atol=1e-5)
    assert not np.allclose(block(x).numpy()[0, :3], block(changed).numpy()[0, :3], atol=1e-3)  # without the mask


def test_decoder_has_no_look_ahead_and_masks_the_source():
    block = TransformerDecoderBlock(2, 16, dropout=0.0)
    y = rng.normal(size=(1, 4, 8)).astype("float32")
    memory = rng.normal(size=(1, 6, 8)).astype("float32")
    mask = np.array([[True] * 4 + [False] * 2])
    out, weights = block(y, memory, mask)
    future = y.copy()
    future[0, 2:] = rng.normal(size=(2, 8))
    out_future, _ = block(future, memory, mask)
    np.testing.assert_allclose(out.numpy()[0, :2], out_future.numpy()[0, :2], atol=1e-5)  # t < 2 unchanged
    assert weights.shape == (1, 2, 4, 6)
    np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, atol=1e-5)
    assert (weights.numpy()[..., 4:] == 0).all()


def test_cached_attention_step_equals_full_causal_attention():
    mha = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    x = rng.normal(size=(2, 5, 8)).astype("float32")
    causal = np.tril(np.ones((5, 5), bool))[None]
    full = mha(x, x, attention_mask=causal).numpy()
    cache = tf.zeros([2, 2, 5, 2, 4])
    for t in range(5):
        visible = (np.arange(5) <= t)[None, None]
        out, cache = mha(x[:, t:t + 1], x[:, t:t + 1], attention_mask=visible, cache=cache, cache_update_index=t)
        np.testing.assert_allclose(out.numpy()[:, 0], full[:, t], atol=1e-5)


SOURCE = np.array([[5, 6, 7, 8, 0, 0], [4, 9, 0, 0, 0, 0]], np.int32)
TARGET_IN = np.array([[START_ID, 5, 6, 7, 8], [START_ID, 9, 10, 0, 0]], np.int32)


@pytest.mark.parametrize("norm_first", [True, False])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_cached_decoding_logits_equal_uncached(norm_first, positional):
    model = build_transformer(12, 14, layers=2, dim=16, heads=2, ff_dim=32, max_target_length=8,
                              positional=positional, norm_first=norm_first)
    full = model([SOURCE, TARGET_IN]).numpy()
    decoder = IncrementalTransformer(model, 8)
    state, steps = decoder.encode(SOURCE), []
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


def test_transformer_schedule_values():
    schedule = TransformerSchedule(dim=512, warmup_steps=4000)
    for step in (0, 99, 3999, 9999):
        n = step + 1
        assert float(schedule(step)) == pytest.approx(512 ** -0.5 * min(n ** -0.5, n * 4000 ** -1.5), rel=1e-5)
    assert float(schedule(3999)) == pytest.approx(max(float(schedule(s)) for s in range(0, 20000, 500)), rel=1e-3)
    clone = TransformerSchedule.from_config(schedule.get_config())
    assert float(clone(123)) == float(schedule(123))
    optimizer = keras.optimizers.Adam(schedule)
    assert keras.optimizers.deserialize(keras.optimizers.serialize(optimizer)).learning_rate is not None


def test_label_smoothed_loss_by_hand():
    logits = np.log(np.array([[[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.3, 0.3, 0.4]]], np.float32))
    targets = np.array([[0, 2, 0]])  # the last position is padding (id 0) -> left out
    eps = 0.1
    expected = np.mean([(1 - eps) * -np.log(p[t]) + eps * np.mean(-np.log(p))
                        for p, t in ((np.array([0.7, 0.2, 0.1]), 0), (np.array([0.1, 0.6, 0.3]), 2))])
    # The first target is the padding id too, so use pad_id=-1 there to check the smoothing alone.
    all_real = MaskedSparseCrossentropy(eps, pad_id=-1)(targets[:, :2], logits[:, :2])
    assert float(all_real) == pytest.approx(expected, rel=1e-5)
    padded = MaskedSparseCrossentropy(0.0)(np.array([[1, 2, 0]]), logits)
    assert float(padded) == pytest.approx(np.mean([-np.log(0.2), -np.log(0.3)]), rel=1e-5)
    assert_config_roundtrip(MaskedSparseCrossentropy(0.2))
