"""The shared layer harness over every layer `keras_suite.layers` exports: output shapes, weight counts, config
round trip and a .keras save/reload with the same outputs. A new layer fails here until it has a case."""

import keras
import numpy as np
import pytest

from keras_suite import layers
from keras_suite.testing import run_layer_test

# name: (init kwargs, input shape(s), output shape(s), trainable, non-trainable weights, call options)
CASES = {
    # query, key and value projections and the output projection, kernel and bias each
    "CachedMultiHeadAttention": ({"num_heads": 2, "key_dim": 4}, [(2, 5, 8), (2, 7, 8)], (2, 5, 8), 8, 0,
                                 {"positional": True}),
    # self-attention (8), two layer norms (4), the feed-forward pair (4)
    "CausalTransformerBlock": ({"num_heads": 2, "ff_dim": 16, "activation": "gelu"}, (2, 5, 8), (2, 5, 8), 16, 0, {}),
    # conv + BN twice (kernel, bias, gamma, beta; moving mean and variance)
    "ConvBlock": ({"filters": 8, "dropout": 0.1}, (2, 16, 16, 3), (2, 16, 16, 8), 6, 4, {}),
    # Bahdanau: query and memory projections and the score vector
    "CrossAttention": ({"units": 8, "score": "bahdanau"}, [(2, 5, 8), (2, 7, 8)], [(2, 5, 8), (2, 5, 7)], 3, 0,
                       {"positional": True}),
    # main, side, fuse and one bottleneck (2 convs), each conv + BN
    "CSPBlock": ({"filters": 16, "depth": 1}, (2, 8, 8, 12), (2, 8, 8, 16), 15, 10, {}),
    "DownBlock": ({"filters": 8}, (2, 16, 16, 3), [(2, 16, 16, 8), (2, 8, 8, 8)], 6, 4, {}),
    # [mean, log_var] -> the mean at inference; the KL weight (warm-up) is its one variable, not trained
    "GaussianSampling": ({"beta": 0.5, "seed": 1}, [(2, 6), (2, 6)], (2, 6), 0, 1, {}),
    "InceptionResNetBlock": ({"branch_filters": 4}, (2, 8, 8, 16), (2, 8, 8, 16), 20, 12, {}),
    "InstanceNormalization": ({}, (2, 5, 4, 3), (2, 5, 4, 3), 2, 0, {}),
    # expand, depthwise and project convs, each + BN
    "InvertedResidualBlock": ({"filters": 8, "strides": 2}, (2, 8, 8, 8), (2, 4, 4, 8), 9, 6, {}),
    "LayerNormalization": ({"epsilon": 1e-6}, (2, 5, 8), (2, 5, 8), 2, 0, {}),
    "LearnedPositionEmbedding": ({"max_length": 16}, (2, 5, 8), (2, 5, 8), 1, 0, {}),
    "NearestUpsampling2D": ({"factor": 3}, (2, 4, 5, 6), (2, 12, 15, 6), 0, 0, {}),
    # resized to the reference's size (9 x 7), then one conv
    "ResizeConv2D": ({"filters": 6}, [(2, 4, 4, 3), (2, 9, 7, 5)], (2, 9, 7, 6), 2, 0, {}),
    "SinusoidalPositionEncoding": ({}, (2, 5, 8), (2, 5, 8), 0, 0, {}),
    "SparsityPenalty": ({"kind": "kl", "weight": 0.1, "target": 0.1}, (2, 8), (2, 8), 0, 0, {}),
    "TokenAndPositionEmbedding": ({"vocab_size": 12, "max_length": 16, "dim": 8, "positional": "learned"}, (2, 5),
                                  (2, 5, 8), 2, 0, {"input_dtype": "int32"}),
    # self- and cross-attention (8 each), three layer norms (6), the feed-forward pair (4); attention weights out
    "TransformerDecoderBlock": ({"num_heads": 2, "ff_dim": 16}, [(2, 5, 8), (2, 7, 8)], [(2, 5, 8), (2, 2, 5, 7)],
                                26, 0, {"positional": True}),
    "TransformerEncoderBlock": ({"num_heads": 2, "ff_dim": 16}, (2, 5, 8), (2, 5, 8), 16, 0, {}),
    "UpBlock": ({"filters": 4}, [(2, 8, 8, 16), (2, 16, 16, 8)], (2, 16, 16, 4), 8, 4, {}),
}


@pytest.mark.parametrize("name", sorted(layers.__all__))
def test_every_layer_passes_the_harness(name, tmp_path):
    assert name in CASES, f"add a harness case for {name}"
    kwargs, shape, output, trainable, non_trainable, options = CASES[name]
    run_layer_test(getattr(layers, name), kwargs, shape, output, trainable, non_trainable, directory=tmp_path,
                   **options)


def test_instance_normalization_is_group_normalization_with_one_group_per_channel():
    x = np.random.default_rng(0).normal(3.0, 2.0, (2, 6, 5, 4)).astype("float32")
    reference = keras.layers.GroupNormalization(groups=-1, epsilon=1e-3)
    reference.build(x.shape)
    reference.set_weights([np.arange(1, 5, dtype="float32"), np.full(4, 0.5, "float32")])
    ours = layers.InstanceNormalization(epsilon=1e-3)
    ours.build(x.shape)
    ours.set_weights(reference.get_weights())
    np.testing.assert_allclose(ours(x), reference(x), atol=1e-5)


@pytest.mark.parametrize("factor", [1, 2, 4])
def test_nearest_upsampling_is_keras_upsampling_with_four_dimensional_ops(factor, tmp_path):
    import tensorflow as tf

    from keras_suite.export import compat, tflite

    x = np.random.default_rng(factor).normal(size=(2, 3, 5, 4)).astype("float32")
    expected = keras.layers.UpSampling2D(factor)(x)
    np.testing.assert_array_equal(layers.NearestUpsampling2D(factor)(x), expected)
    module = tf.Module()
    module.fn = tf.function(lambda images: layers.NearestUpsampling2D(factor)(images),
                            input_signature=[tf.TensorSpec([1, 3, 5, 4], tf.float32, name="images")])
    tf.saved_model.save(module, str(tmp_path / "m"), signatures={"serve": module.fn})
    flatbuffer = tflite.convert(tmp_path / "m")
    np.testing.assert_array_equal(tflite.Runner(flatbuffer)(images=x[:1])["output_0"], expected[:1])
    assert compat.report(flatbuffer)["targets"]["gpu"]["supported"] == "yes"  # no 5-D tensor, unlike UpSampling2D


def test_nearest_upsampling_has_a_gradient_under_xla():
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(size=(1, 2, 3, 2)).astype("float32"))
    weights = tf.constant(np.random.default_rng(1).normal(size=(1, 4, 6, 2)).astype("float32"))

    @tf.function(jit_compile=True)
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layers.NearestUpsampling2D(2)(x) * weights)
        return tape.gradient(loss, x)

    pooled = tf.nn.avg_pool2d(weights, 2, 2, "VALID") * 4  # each input value is copied into a 2 x 2 block
    np.testing.assert_allclose(gradient(x), pooled, rtol=1e-5)


def test_layer_norm_gives_the_keras_layer_numbers():
    x = np.random.default_rng(0).normal(2.0, 3.0, (2, 5, 8)).astype("float32")
    ours, theirs = layers.LayerNormalization(epsilon=1e-6), keras.layers.LayerNormalization(epsilon=1e-6)
    ours.build(x.shape)
    theirs.build(x.shape)
    for layer in (ours, theirs):
        layer.set_weights([np.linspace(0.5, 2, 8), np.linspace(-1, 1, 8)])
    np.testing.assert_allclose(ours(x), theirs(x), atol=1e-5)
