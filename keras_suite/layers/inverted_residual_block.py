import keras


@keras.saving.register_keras_serializable(package="keras_suite")
class InvertedResidualBlock(keras.layers.Layer):
    """MobileNetV2 block: 1x1 expansion, 3x3 depthwise convolution, linear 1x1 projection, and a
    residual connection when the stride is 1 and the channels match.

    Sandler et al., 2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    https://arxiv.org/abs/1801.04381. Every op (Conv2D, DepthwiseConv2D, ReLU6, Add) is a TFLite builtin.

    Args:
        filters: output channels.
        strides: depthwise stride (2 halves the resolution).
        expansion: width multiplier of the hidden layer (1 skips the expansion convolution).

    Example:
    >>> InvertedResidualBlock(24, strides=2)(keras.ops.zeros((1, 32, 32, 16))).shape
    (1, 16, 16, 24)
    """

    def __init__(self, filters, strides=1, expansion=4, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.strides = strides
        self.expansion = expansion

    def build(self, input_shape):
        channels = input_shape[-1]
        hidden = channels * self.expansion
        policy = self.dtype_policy
        self.stack = []
        if self.expansion != 1:
            self.stack += [keras.layers.Conv2D(hidden, 1, use_bias=False, dtype=policy),
                           keras.layers.BatchNormalization(dtype=policy), keras.layers.ReLU(6.0, dtype=policy)]
        self.stack += [keras.layers.DepthwiseConv2D(3, self.strides, padding="same", use_bias=False, dtype=policy),
                       keras.layers.BatchNormalization(dtype=policy), keras.layers.ReLU(6.0, dtype=policy),
                       keras.layers.Conv2D(self.filters, 1, use_bias=False, dtype=policy),
                       keras.layers.BatchNormalization(dtype=policy)]
        self.residual = self.strides == 1 and channels == self.filters
        shape = input_shape
        for layer in self.stack:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self.stack:
            x = layer(x, training=training)
        return inputs + x if self.residual else x

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        if self.strides != 1:
            h = None if h is None else -(-h // self.strides)
            w = None if w is None else -(-w // self.strides)
        return (n, h, w, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "strides": self.strides,
                "expansion": self.expansion}
