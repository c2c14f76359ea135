import keras
from keras import ops


def layer_norm(layer, x):
    """`layer` (a `keras.layers.LayerNormalization` over the last axis) applied to x as
    `(x - mean) * rsqrt(variance + epsilon) * gamma + beta`."""
    mean, variance = ops.moments(x, axes=[-1], keepdims=True)
    y = (x - mean) * ops.rsqrt(variance + layer.epsilon)
    if layer.scale:
        y = y * layer.gamma
    return y + layer.beta if layer.center else y


@keras.saving.register_keras_serializable(package="keras_suite")
class LayerNormalization(keras.layers.LayerNormalization):
    """Layer normalization over the last axis only (Ba et al., 2016, https://arxiv.org/abs/1607.06450) whose products
    each broadcast one way: Keras' layer first scales rsqrt(variance) (batch, T, 1) by gamma (d,), a product
    that LiteRT's GPU delegate does not run (its MUL needs one input at least as large as the other in every
    dimension), so a graph with it cannot run whole on that delegate. The same weights and numbers to rounding;
    named as Keras' layer so that models saved with either load into the other.

    Example:
    >>> LayerNormalization(epsilon=1e-6)(keras.ops.ones((2, 5, 8))).shape
    (2, 5, 8)
    """

    def call(self, inputs):
        return ops.cast(layer_norm(self, ops.cast(inputs, "float32")), self.compute_dtype)  # float32 inside, as Keras
