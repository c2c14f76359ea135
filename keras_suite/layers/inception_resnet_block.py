import keras


@keras.saving.register_keras_serializable(package="keras_suite")
class InceptionResNetBlock(keras.layers.Layer):
    """Inception-ResNet-A block: three parallel branches (1x1; 1x1 -> 3x3; 1x1 -> 3x3 -> 3x3) concatenated,
    projected back to the input channels by a linear 1x1 convolution, scaled and added to the input.

    Szegedy et al., 2016, "Inception-v4, Inception-ResNet and the Impact of Residual Connections on
    Learning", https://arxiv.org/abs/1602.07261 (the FaceNet backbone family). Residual scaling
    (0.1-0.3) keeps deep stacks stable.

    Args:
        branch_filters: channels of each branch.
        scale: factor on the residual before the addition.

    Example:
    >>> InceptionResNetBlock(16)(keras.ops.zeros((1, 8, 8, 64))).shape
    (1, 8, 8, 64)
    """

    def __init__(self, branch_filters=32, scale=0.2, **kwargs):
        super().__init__(**kwargs)
        self.branch_filters = branch_filters
        self.scale = scale

    def _conv(self, size):
        policy = self.dtype_policy
        return [keras.layers.Conv2D(self.branch_filters, size, padding="same", use_bias=False, dtype=policy),
                keras.layers.BatchNormalization(dtype=policy), keras.layers.ReLU(dtype=policy)]

    def build(self, input_shape):
        self.branches = [self._conv(1), self._conv(1) + self._conv(3), self._conv(1) + self._conv(3) + self._conv(3)]
        for branch in self.branches:
            shape = input_shape
            for layer in branch:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.project = keras.layers.Conv2D(input_shape[-1], 1, dtype=self.dtype_policy)
        self.project.build((*input_shape[:-1], 3 * self.branch_filters))
        self.relu = keras.layers.ReLU(dtype=self.dtype_policy)

    def call(self, inputs, training=None):
        outputs = []
        for branch in self.branches:
            x = inputs
            for layer in branch:
                x = layer(x, training=training)
            outputs.append(x)
        mixed = self.project(keras.ops.concatenate(outputs, axis=-1))
        return self.relu(inputs + self.scale * mixed)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "branch_filters": self.branch_filters, "scale": self.scale}
