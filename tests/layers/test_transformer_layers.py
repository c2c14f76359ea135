import math

import numpy as np
import pytest
import tensorflow as tf

from keras_suite.layers import (
    CachedMultiHeadAttention,
    CausalTransformerBlock,
    LearnedPositionEmbedding,
    SinusoidalPositionEncoding,
    TokenAndPositionEmbedding,
    TransformerDecoderBlock,
    TransformerEncoderBlock,
)
from keras_suite.testing import assert_config_roundtrip

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



@pytest.mark.parametrize("norm_first", [True, False])
def test_causal_block_steps_and_prefill_give_what_the_whole_sequence_gives(norm_first):
    block = CausalTransformerBlock(2, 16, dropout=0.0, norm_first=norm_first, activation="gelu")
    x = rng.normal(size=(2, 6, 8)).astype("float32")
    full = block(x).numpy()
    later = x.copy()
    later[:, 3:] = rng.normal(size=(2, 3, 8))
    np.testing.assert_allclose(block(later).numpy()[:, :3], full[:, :3], atol=1e-5)  # no look-ahead

    head, cache = block.prefill(x[:, :3], cache_length=6)
    np.testing.assert_allclose(head.numpy(), full[:, :3], atol=1e-5)
    assert cache.shape == (2, 2, 6, 2, 4) and not np.any(cache.numpy()[:, :, 3:])
    stepped = tf.zeros([2, 2, 6, 2, 4])
    for t in range(6):
        out, stepped = block.step(x[:, t:t + 1], t, stepped)
        np.testing.assert_allclose(out.numpy()[:, 0], full[:, t], atol=1e-5)
        if t == 2:
            np.testing.assert_allclose(stepped.numpy(), cache.numpy(), atol=1e-5)  # prefill = three steps


def test_causal_block_config_round_trip():
    clone = assert_config_roundtrip(CausalTransformerBlock(4, 32, dropout=0.2, norm_first=False, activation="gelu"))
    assert clone.activation == "gelu" and not clone.norm_first
