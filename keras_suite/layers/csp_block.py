import keras


@keras.saving.register_keras_serializable(package="keras_suite")
class CSPBlock(keras.layers.Layer):
    """Cross Stage Partial block (the YOLOv4/v5 "C3"): the input is split by two 1x1 convolutions; one
    half passes through `depth` residual bottlenecks (1x1 then 3x3), the other is kept, and both are
    concatenated and fused by a 1x1 convolution. Convolutions are followed by batch norm and SiLU.

    Wang et al., 2020, "CSPNet: A New Backbone that can Enhance Learning Capability of CNN",
    https://arxiv.org/abs/1911.11929.

    Args:
        filters: output channels (each half has filters // 2).
        depth: bottlenecks in the processed half.
        shortcut: residual connections in the bottlenecks (off in the neck, as in YOLOv5).
        momentum: batch-norm momentum (0.97 as YOLOv5, so statistics keep up in short trainings).

    Example:
    >>> CSPBlock(32, depth=2)(keras.ops.zeros((1, 16, 16, 24))).shape
    (1, 16, 16, 32)
    """

    def __init__(self, filters, depth=1, shortcut=True, momentum=0.97, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.depth, self.shortcut, self.momentum = filters, depth, shortcut, momentum

    def _conv(self, filters, size):
        policy = self.dtype_policy
        return [keras.layers.Conv2D(filters, size, padding="same", use_bias=False, dtype=policy),
                keras.layers.BatchNormalization(momentum=self.momentum, dtype=policy),
                keras.layers.Activation("silu", dtype=policy)]

    def build(self, input_shape):
        half = max(1, self.filters // 2)
        self.main, self.side = self._conv(half, 1), self._conv(half, 1)
        self.bottlenecks = [self._conv(half, 1) + self._conv(half, 3) for _ in range(self.depth)]
        self.fuse = self._conv(self.filters, 1)
        for stack, shape in [(self.main, input_shape), (self.side, input_shape),
                             *[(b, (*input_shape[:-1], half)) for b in self.bottlenecks],
                             (self.fuse, (*input_shape[:-1], 2 * half))]:
            for layer in stack:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)

    @staticmethod
    def _run(stack, x, training):
        for layer in stack:
            x = layer(x, training=training)
        return x

    def call(self, inputs, training=None):
        x = self._run(self.main, inputs, training)
        for bottleneck in self.bottlenecks:
            y = self._run(bottleneck, x, training)
            x = x + y if self.shortcut else y
        side = self._run(self.side, inputs, training)
        return self._run(self.fuse, keras.ops.concatenate([x, side], axis=-1), training)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "depth": self.depth, "shortcut": self.shortcut,
                "momentum": self.momentum}
